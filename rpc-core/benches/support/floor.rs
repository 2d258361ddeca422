//! The floor: the least work any JSON-RPC server must do for an `add` call. serde parses the
//! request into borrowed types, the sum is taken, serde writes the response. Shared by the
//! criterion bench and the instruction-count example, so both measure against the same code.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `add`'s parameters: a derived struct reads them by name or by position.
#[derive(Deserialize)]
pub(crate) struct AddParams {
    pub(crate) a: i64,
    pub(crate) b: i64,
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    jsonrpc: &'a str,
    #[serde(borrow)]
    method: &'a str,
    params: AddParams,
    #[serde(borrow)]
    id: &'a RawValue,
}

#[derive(Serialize)]
struct Answer<'a> {
    jsonrpc: &'static str,
    result: i64,
    id: &'a RawValue,
}

fn answer<'a>(call: &Call<'a>) -> Answer<'a> {
    assert!(
        call.jsonrpc == "2.0" && call.method == "add",
        "the floor answers add calls"
    );
    Answer {
        jsonrpc: "2.0",
        result: call.params.a + call.params.b,
        id: call.id,
    }
}

/// One call, by name or by position.
pub(crate) fn single(body: &[u8]) -> Vec<u8> {
    let call: Call<'_> = serde_json::from_slice(body).expect("a valid call");
    let mut out = Vec::with_capacity(128);
    serde_json::to_writer(&mut out, &answer(&call)).expect("serializable");
    out
}

/// A batch of calls.
pub(crate) fn batch(body: &[u8]) -> Vec<u8> {
    let calls: Vec<Call<'_>> = serde_json::from_slice(body).expect("a valid batch");
    let answers: Vec<Answer<'_>> = calls.iter().map(answer).collect();
    let mut out = Vec::with_capacity(128);
    serde_json::to_writer(&mut out, &answers).expect("serializable");
    out
}
