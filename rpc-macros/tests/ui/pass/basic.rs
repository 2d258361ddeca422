use rpc_core::{rpc_method, ErrorObject, Router};

/// Adds two integers.
#[rpc_method]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[rpc_method(name = "math.divide")]
fn divide(dividend: i64, #[rpc(rename = "by")] divisor: i64) -> Result<f64, ErrorObject> {
    if divisor == 0 {
        return Err(ErrorObject::invalid_params("division by zero"));
    }
    Ok(dividend as f64 / divisor as f64)
}

mod nested {
    use rpc_core::rpc_method;

    #[rpc_method]
    pub(crate) async fn later(delay: Option<u64>) -> u64 {
        delay.unwrap_or(0)
    }
}

fn main() {
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    router.register(divide::method()).unwrap();
    router.register(nested::later::method()).unwrap();
    assert_eq!(add(1, 2), 3);

    // A method inside a function body.
    #[rpc_method]
    fn local() -> bool {
        true
    }
    router.register(local::method()).unwrap();
}
