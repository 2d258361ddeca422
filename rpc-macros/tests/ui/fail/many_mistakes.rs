use rpc_core::rpc_method;

// Every mistake is reported at once, each at its own tokens.
#[rpc_method(colour = "red")]
unsafe fn mixed<T>((a, b): (i64, i64), c: impl Copy, #[rpc(bogus)] d: i64) -> i64 {
    let _ = c;
    a + b + d
}

fn main() {}
