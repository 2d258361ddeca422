//! The example node's answers on the wire: hex quantities, go-ethereum's error forms, and a
//! transfer seen through every method that shows it.

use rpc_core::Router;
use rpc_example_ethereum::{router, Devnet};
use serde_json::{json, Value};

fn node() -> (Router<Devnet>, Vec<String>) {
    let accounts = Devnet::dev_accounts(2);
    let names = accounts.iter().map(ToString::to_string).collect();
    (router(Devnet::new(accounts)), names)
}

/// The answer to one call, as JSON.
fn call(router: &Router<Devnet>, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    let answer = router
        .handle_sync(request.to_string().as_bytes())
        .expect("every method is sync")
        .expect("a call is answered");
    serde_json::from_slice(&answer).unwrap()
}

fn result(router: &Router<Devnet>, method: &str, params: Value) -> Value {
    let answer = call(router, method, params);
    assert!(answer.get("error").is_none(), "{method}: {answer}");
    answer["result"].clone()
}

fn error(router: &Router<Devnet>, method: &str, params: Value) -> (i64, String) {
    let answer = call(router, method, params);
    let error = &answer["error"];
    (
        error["code"].as_i64().expect("an error"),
        error["message"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn quantities_are_hex_and_addresses_are_checked() {
    let (node, accounts) = node();
    assert_eq!(result(&node, "eth_chainId", json!([])), "0x539");
    assert_eq!(result(&node, "net_version", json!([])), "1337");
    assert_eq!(result(&node, "eth_blockNumber", json!([])), "0x0");
    // 10,000 ether in wei; the block may be left out, and an address is read in any case.
    let balance = "0x21e19e0c9bab2400000";
    assert_eq!(
        result(&node, "eth_getBalance", json!([accounts[0], "latest"])),
        balance
    );
    assert_eq!(
        result(&node, "eth_getBalance", json!([accounts[0]])),
        balance
    );
    let lower = accounts[0].to_lowercase();
    assert_eq!(
        result(&node, "eth_getBalance", json!([lower, "0x0"])),
        balance
    );
    assert_eq!(
        error(&node, "eth_getBalance", json!(["0xab", "latest"])),
        (
            -32602,
            "invalid argument 0: invalid string length".to_owned()
        )
    );
    assert_eq!(
        error(&node, "eth_getBalance", json!([accounts[0], "newest"])),
        (
            -32602,
            "invalid argument 1: a block number (a hex quantity) or a tag: latest, earliest, \
             pending, safe or finalized"
                .to_owned()
        )
    );
    // A block not mined yet, and (once there are two) one whose state is not kept.
    assert_eq!(
        error(&node, "eth_getBalance", json!([accounts[0], "0x5"])),
        (-32000, "header not found".to_owned())
    );
    assert_eq!(
        result(&node, "eth_getBlockByNumber", json!(["0x5", false])),
        Value::Null
    );
}

#[test]
fn a_transfer_is_mined_at_once_and_seen_everywhere() {
    let (node, accounts) = node();
    let one_ether = "0xde0b6b3a7640000";
    let send =
        json!([{"from": accounts[0], "to": accounts[1], "value": one_ether, "gas": "0x5208"}]);
    let hash = result(&node, "eth_sendTransaction", send.clone());
    let hash = hash.as_str().expect("a hash").to_owned();
    assert_eq!(hash.len(), 66, "{hash}");
    assert_eq!(result(&node, "eth_blockNumber", json!([])), "0x1");
    assert_eq!(
        result(&node, "eth_getBalance", json!([accounts[1], "latest"])),
        "0x21e27c1806e59a40000"
    );
    assert_eq!(
        result(
            &node,
            "eth_getTransactionCount",
            json!([accounts[0], "latest"])
        ),
        "0x1"
    );
    // The genesis block's state is not kept any more.
    assert_eq!(
        error(&node, "eth_getBalance", json!([accounts[0], "earliest"])).0,
        -32000
    );
    let block = result(&node, "eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(block["number"], "0x1");
    assert_eq!(block["transactions"], json!([hash]));
    let genesis = result(&node, "eth_getBlockByNumber", json!(["earliest", false]));
    assert_eq!(block["parentHash"], genesis["hash"]);
    let full = result(&node, "eth_getBlockByNumber", json!(["0x1", true]));
    let transaction = &full["transactions"][0];
    assert_eq!(transaction["hash"], hash);
    assert_eq!(transaction["value"], one_ether);
    assert_eq!(transaction["nonce"], "0x0");
    assert_eq!(transaction["blockHash"], block["hash"]);
    assert_eq!(
        &result(&node, "eth_getTransactionByHash", json!([hash])),
        transaction
    );
    let unknown = format!("0x{}", "00".repeat(32));
    assert_eq!(
        result(&node, "eth_getTransactionByHash", json!([unknown])),
        Value::Null
    );
}

#[test]
fn a_transfer_that_cannot_be_made_is_refused_in_geths_words() {
    let (node, accounts) = node();
    let from = |value: &str, nonce: Option<&str>| {
        let mut request = json!({"from": accounts[0], "to": accounts[1], "value": value});
        if let Some(nonce) = nonce {
            request["nonce"] = json!(nonce);
        }
        json!([request])
    };
    let too_much = format!("0x{}", "f".repeat(20));
    assert_eq!(
        error(&node, "eth_sendTransaction", from(&too_much, None)),
        (-32000, "insufficient funds for transfer".to_owned())
    );
    assert_eq!(
        error(&node, "eth_sendTransaction", from("0x1", Some("0x1"))),
        (-32000, "nonce too high".to_owned())
    );
    result(&node, "eth_sendTransaction", from("0x1", Some("0x0")));
    assert_eq!(
        error(&node, "eth_sendTransaction", from("0x1", Some("0x0"))),
        (-32000, "nonce too low".to_owned())
    );
    // Nothing moved for the refused ones: one block, one transaction.
    assert_eq!(result(&node, "eth_blockNumber", json!([])), "0x1");
    assert_eq!(
        error(
            &node,
            "eth_sendTransaction",
            json!([{"from": "0x12", "to": accounts[1]}])
        ),
        (
            -32602,
            "invalid argument 0: invalid string length".to_owned()
        )
    );
}

#[test]
fn subscriptions_need_a_connection_that_pushes_as_geth_says() {
    let (node, _) = node();
    for kind in [json!(["newHeads"]), json!(["newPendingTransactions", true])] {
        assert_eq!(
            error(&node, "eth_subscribe", kind),
            (-32601, "notifications not supported".to_owned())
        );
    }
}
