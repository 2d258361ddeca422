//! The fast path against the serde parser: wherever the fast path decides, it decides as
//! serde does; and it decides the bodies that matter.

use proptest::prelude::*;

use super::scan_body;
use crate::request::{parse_with_serde, Body};

const MAX_BATCH: usize = 8;

/// The fast path's reading of `text`, if it decides, after checking that serde reads the same.
fn agreed(text: &str) -> Option<String> {
    let fast = scan_body(text, MAX_BATCH)?;
    let slow = parse_with_serde(text, MAX_BATCH)
        .unwrap_or_else(|err| panic!("the fast path read {text:?}, serde refused it: {err}"));
    let (fast, slow) = (format!("{fast:?}"), format!("{slow:?}"));
    assert_eq!(fast, slow, "for {text:?}");
    Some(fast)
}

#[test]
fn the_shapes_that_matter_take_the_fast_path() {
    for text in [
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":"x"}"#,
        r#" { "id" : null , "method" : "add" , "jsonrpc" : "2.0" } "#,
        r#"{"jsonrpc":"2.0","method":"notify"}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":{"nested":[1,-2.5e+3,true,false,null,{"s":"\u00e9\n"}]},"id":-0}"#,
        r#"{"jsonrpc":"2.0","method":"m","x-extra":{"ignored":[1]},"id":1}"#,
        // Names that begin as a request's own do are other members; a version near "2.0" is
        // not it.
        r#"{"jsonrpc":"2.0","methods":1,"method":"m","idx":2,"i":3,"param":[],"id":4}"#,
        r#"{"jsonrpcx":"2.0","jsonrpc":"2.0","method":"m","paramsx":{},"j":0}"#,
        r#"{"jsonrpc":"2.00","method":"m","id":1}"#,
        r#"{"jsonrpc" : "2.0" ,"method":"m","id":1}"#,
        r#"[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]"#,
        "[]",
        // Invalid requests the fast path still words as serde's parser does.
        r#"{"jsonrpc":"1.0","method":"m","id":1}"#,
        r#"{"jsonrpc":"2.0","method":7,"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":7,"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"m","id":{}}"#,
        r#"{"jsonrpc":"2.0","method":"m\u0041","id":1.5}"#,
        // A lone surrogate escape in params: serde_json skips it unchecked, and so does the
        // fast path (a serde_json that checked would show here).
        r#"{"jsonrpc":"2.0","method":"m","params":["\ud800"]}"#,
    ] {
        assert!(agreed(text).is_some(), "not decided fast: {text}");
    }
}

#[test]
fn what_the_fast_path_is_not_sure_of_goes_to_serde() {
    for text in [
        "",
        "   ",
        "7",
        r#""a""#,
        "{}",
        r#"{"jsonrpc":"2.0","result":1,"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"m","result":1,"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"m","id":1,"id":2}"#,
        r#"{"jsonrpc":"2.0","method":"m","method":"n"}"#,
        r#"{"\u006dethod":"m","jsonrpc":"2.0"}"#,
        r#"[1,{"jsonrpc":"2.0","method":"m"}]"#,
        r#"[{"jsonrpc":"2.0","method":"m"},]"#,
        r#"{"jsonrpc":"2.0","method":"m",}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":[01]}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":[1.]}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":[1e]}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":[-]}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":[tru]}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":["\x"]}"#,
        r#"{"jsonrpc":"2.0","method":"m","params":["\u12g4"]}"#,
        "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":[\"a\u{1}\"]}",
        r#"{"jsonrpc":"2.0","method":"m"} x"#,
        r#"{"jsonrpc":"2.0","method":"m""#,
        "\u{feff}{\"jsonrpc\":\"2.0\",\"method\":\"m\"}",
    ] {
        assert!(scan_body(text, MAX_BATCH).is_none(), "decided fast: {text}");
    }
    // Past the batch limit (at it, decided fast), and past the depth the fast path follows
    // (up to it, decided fast).
    let batch = |len| format!("[{}]", vec![r#"{"method":"m"}"#; len].join(","));
    assert!(agreed(&batch(MAX_BATCH)).is_some());
    assert!(scan_body(&batch(MAX_BATCH + 1), MAX_BATCH).is_none());
    let nested = |depth: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","method":"m","params":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    assert!(agreed(&nested(super::MAX_DEPTH - 1)).is_some());
    assert!(scan_body(&nested(super::MAX_DEPTH), MAX_BATCH).is_none());
    let deep = format!(
        r#"{{"jsonrpc":"2.0","method":"m","params":{}{}}}"#,
        "[".repeat(70),
        "]".repeat(70)
    );
    assert!(scan_body(&deep, MAX_BATCH).is_none());
    assert!(matches!(
        parse_with_serde(&deep, MAX_BATCH),
        Ok(Body::Single(_))
    ));
}

/// JSON values of every kind, a few levels deep, written with random spacing.
fn value() -> impl Strategy<Value = String> {
    let space = prop::sample::select(vec!["", " ", "\n", "\t ", "\r\n"]);
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "[a-z\\\\\"é\\u{1F600}]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just(r#""\ud83d\ude00\u0000\/""#.to_owned()),
    ];
    leaf.prop_recursive(4, 24, 4, move |inner| {
        let space = space.clone();
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), space.clone())
                .prop_map(|(items, s)| format!("[{s}{}{s}]", items.join(&format!("{s},{s}")))),
            (
                prop::collection::vec(("[a-z]{1,3}", inner), 0..4),
                space.clone()
            )
                .prop_map(|(members, s)| {
                    let members: Vec<String> = members
                        .iter()
                        .map(|(k, v)| format!("\"{k}\"{s}:{s}{v}"))
                        .collect();
                    format!("{{{s}{}{s}}}", members.join(","))
                }),
        ]
    })
}

/// Request objects: the members a request has (or should have), in any order, any value.
fn entry() -> impl Strategy<Value = String> {
    let member = prop_oneof![
        Just(r#""jsonrpc":"2.0""#.to_owned()),
        Just(r#""method":"add""#.to_owned()),
        value().prop_map(|v| format!(r#""jsonrpc":{v}"#)),
        value().prop_map(|v| format!(r#""method":{v}"#)),
        value().prop_map(|v| format!(r#""params":{v}"#)),
        value().prop_map(|v| format!(r#""id":{v}"#)),
        value().prop_map(|v| format!(r#""other":{v}"#)),
        value().prop_map(|v| format!(r#""result":{v}"#)),
        // Names that begin as a request's own do, and versions near the one taken whole.
        (
            prop::sample::select(vec![
                "methods", "meth", "m", "idx", "i", "param", "paramsx", "j"
            ]),
            value()
        )
            .prop_map(|(k, v)| format!(r#""{k}":{v}"#)),
        prop::sample::select(vec![r#""2.00""#, r#""2.0\u0000""#, r#""2.""#, r#""2.0"#])
            .prop_map(|v| format!(r#""jsonrpc":{v}"#)),
    ];
    prop::collection::vec(member, 0..6).prop_map(|members| format!("{{{}}}", members.join(",")))
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        entry(),
        prop::collection::vec(entry(), 0..4).prop_map(|entries| format!("[{}]", entries.join(","))),
        value(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn where_the_fast_path_decides_it_decides_as_serde(text in body()) {
        agreed(&text);
    }

    #[test]
    fn a_broken_body_is_never_decided_fast_unless_serde_agrees(
        text in body(),
        cut in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"{}[],:\"\\ 0e-.tnxu\x01\x7f".to_vec()),
        replace in any::<bool>(),
    ) {
        let mut bytes = text.into_bytes();
        if !bytes.is_empty() {
            let at = cut.index(bytes.len());
            if replace { bytes[at] = byte } else { bytes.insert(at, byte) }
        }
        if let Ok(text) = String::from_utf8(bytes) {
            agreed(&text);
        }
    }
}
