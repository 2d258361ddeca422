use rpc_core::rpc_method;

#[rpc_method]
fn shout(text: &str, more: Option<&'_ str>) -> String {
    format!("{text}{}", more.unwrap_or_default())
}

fn main() {}
