//! The Ethereum example (`examples/ethereum`) as web3.py sees it: over HTTP the calls a script
//! makes first, with go-ethereum's error forms; over a WebSocket two subscription kinds under
//! `eth_subscribe`, fed by a transaction sent on the same connection. CI installs web3.py
//! (`.ci/run`); elsewhere its absence skips the test.

use std::net::SocketAddr;

use rpc_example_ethereum::Devnet;
use rpc_tests::{run_python, STEP};

const WEB3_SCRIPT: &str = r#"
import asyncio, sys
from web3 import AsyncWeb3, HTTPProvider, Web3, WebSocketProvider

http, ws = sys.argv[1], sys.argv[2]
w3 = Web3(HTTPProvider(http))
print("connected", w3.is_connected())
print("chain", w3.eth.chain_id)
sender, receiver = w3.eth.accounts[:2]
print("balance", w3.from_wei(w3.eth.get_balance(sender), "ether"))
print("block", w3.eth.block_number)
# web3.py checks an address before it sends it: ask the node itself.
print("short address:", w3.provider.make_request("eth_getBalance", ["0xab", "latest"])["error"])
print("subscribe over http:", w3.provider.make_request("eth_subscribe", ["newHeads"])["error"])

async def watch():
    async with AsyncWeb3(WebSocketProvider(ws)) as w3:
        heads = await w3.eth.subscribe("newHeads")
        pending = await w3.eth.subscribe("newPendingTransactions")
        sent = await w3.eth.send_transaction({
            "from": sender, "to": receiver, "value": w3.to_wei(1, "ether"),
            "gas": 21000, "gasPrice": w3.to_wei(1, "gwei"),
        })
        seen = set()
        async for message in w3.socket.process_subscriptions():
            if message["subscription"] == heads:
                print("head", message["result"]["number"])
                seen.add("head")
            elif message["subscription"] == pending:
                print("pending is the one sent", message["result"] == sent)
                seen.add("pending")
            if len(seen) == 2:
                break
        transaction = await w3.eth.get_transaction(sent)
        print("mined in", transaction["blockNumber"], "value", w3.from_wei(transaction["value"], "ether"))
        print("receiver has", w3.from_wei(await w3.eth.get_balance(receiver), "ether"))
        print("unsubscribed", await w3.eth.unsubscribe(heads), await w3.eth.unsubscribe(pending))

asyncio.run(asyncio.wait_for(watch(), 30))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web3_py_reads_sends_and_subscribes_on_the_ethereum_example() {
    let listener = rpc_hyper::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = Devnet::new(Devnet::dev_accounts(3));
    let server = tokio::spawn(rpc_example_ethereum::serve(listener, node, async {
        stopped.await.ok();
    }));
    let (http, ws) = (format!("http://{addr}/"), format!("ws://{addr}/"));
    if let Some(printed) = run_python("web3", WEB3_SCRIPT, &[&http, &ws]).await {
        assert_eq!(
            printed.trim(),
            "connected True\nchain 1337\nbalance 10000\nblock 0\n\
             short address: {'code': -32602, 'message': 'invalid argument 0: invalid string length'}\n\
             subscribe over http: {'code': -32601, 'message': 'notifications not supported'}\n\
             pending is the one sent True\nhead 1\n\
             mined in 1 value 1\nreceiver has 10001\nunsubscribed True True"
        );
    }
    stop.send(()).expect("the server runs");
    tokio::time::timeout(STEP, server)
        .await
        .expect("stops in time")
        .expect("joins")
        .expect("no error");
}
