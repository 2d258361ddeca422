use rpc_core::rpc_method;

struct Calculator;

impl Calculator {
    #[rpc_method]
    fn add(&self, a: i64) -> i64 {
        a
    }
}

fn main() {}
