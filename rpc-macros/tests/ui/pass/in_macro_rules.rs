use rpc_core::{rpc_method, Router};

// Methods written by a user's own macro.
macro_rules! constant_methods {
    ($($name:ident => $value:expr),* $(,)?) => {
        $(
            #[rpc_method]
            fn $name(scale: Option<i64>) -> i64 {
                $value * scale.unwrap_or(1)
            }
        )*
    };
}

constant_methods! {
    one => 1,
    two => 2,
}

macro_rules! adder {
    ($name:ident, $a:ident, $b:ident) => {
        #[rpc_method]
        fn $name($a: i64, $b: i64) -> i64 {
            $a + $b
        }
    };
}

adder!(add, left, right);

fn main() {
    let mut router = Router::new();
    router.register(one::method()).unwrap();
    router.register(two::method()).unwrap();
    router.register(add::method()).unwrap();
    assert_eq!(two(Some(3)), 6);
}
