use rpc_core::rpc_method;

#[rpc_method]
unsafe fn read(address: usize) -> u8 {
    address as u8
}

fn main() {}
