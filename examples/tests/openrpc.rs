//! The OpenRPC documents of the calculator and the key-value service: valid against the
//! official OpenRPC 1.3 meta-schema (offline, from `tests/data`), sound where the meta-schema
//! cannot say (unique names, required params first, every `$ref` resolving, draft-07 only),
//! served as `rpc.discover`, and, for the calculator, the same as the file the repository keeps.
//!
//! When the calculator's methods change on purpose, write the file again with
//! `UPDATE_OPENRPC=1 cargo test -p rpc-examples --test openrpc`.

use std::collections::HashSet;
use std::path::Path;

use rpc_core::openrpc::Info;
use rpc_core::{rpc_method, Router};
use rpc_examples::{calculator, kv};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const META_SCHEMA: &str = include_str!("data/openrpc-1.3.2.meta-schema.json");
const JSON_SCHEMA_META_SCHEMA: &str = include_str!("data/json-schema-tools.meta-schema.json");

/// Gives the JSON Schema meta-schema the OpenRPC one refers to from the test data, and
/// nothing else: no fetching.
struct TestData;

impl jsonschema::Retrieve for TestData {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.authority().map(|authority| authority.as_str()) {
            Some("meta.json-schema.tools") => Ok(serde_json::from_str(JSON_SCHEMA_META_SCHEMA)?),
            _ => Err(format!("{} is not in tests/data", uri.as_str()).into()),
        }
    }
}

/// The official meta-schema, as a draft-07 validator.
fn validator() -> jsonschema::Validator {
    let meta: Value = serde_json::from_str(META_SCHEMA).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .with_retriever(TestData)
        .build(&meta)
        .unwrap()
}

/// Every error the meta-schema finds in `document`, one per line.
fn meta_schema_errors(validator: &jsonschema::Validator, document: &Value) -> String {
    validator
        .iter_errors(document)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the meta-schema cannot check.
fn check_soundness(document: &Value) {
    let methods = document["methods"].as_array().unwrap();
    let mut names = HashSet::new();
    for method in methods {
        let name = method["name"].as_str().unwrap();
        assert!(names.insert(name), "method {name} twice");
        let params = method["params"].as_array().unwrap();
        let mut param_names = HashSet::new();
        let mut optional_seen = false;
        for param in params {
            let param_name = param["name"].as_str().unwrap();
            assert!(
                param_names.insert(param_name),
                "{name}: param {param_name} twice"
            );
            let required = param["required"].as_bool().unwrap_or(false);
            assert!(
                !(required && optional_seen),
                "{name}: required param {param_name} after an optional one"
            );
            optional_seen |= !required;
        }
    }
    let schemas = document["components"]["schemas"].as_object();
    walk(document, &mut |key, value| {
        if key == "$ref" {
            let reference = value.as_str().unwrap();
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{reference} is not under #/components/schemas/"));
            assert!(
                schemas.is_some_and(|schemas| schemas.contains_key(name)),
                "{reference} resolves to nothing"
            );
        }
        const LATER_KEYWORDS: [&str; 14] = [
            "$defs",
            "prefixItems",
            "unevaluatedProperties",
            "unevaluatedItems",
            "dependentRequired",
            "dependentSchemas",
            "$anchor",
            "$dynamicRef",
            "$dynamicAnchor",
            "$recursiveRef",
            "$recursiveAnchor",
            "minContains",
            "maxContains",
            "$vocabulary",
        ];
        assert!(
            !LATER_KEYWORDS.contains(&key),
            "a keyword draft-07 does not have: {key}"
        );
    });
}

/// Calls `visit` with every key and value of every object in `value`, however deep.
fn walk(value: &Value, visit: &mut impl FnMut(&str, &Value)) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                visit(key, inner);
                walk(inner, visit);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, visit)),
        _ => {}
    }
}

/// A tuple param and a recursive type, for the validators.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Tree {
    value: i64,
    children: Vec<Tree>,
}

/// Sums the leaves of a tree, scaled by a pair.
#[rpc_method]
fn weigh(tree: Tree, scale: (i64, Option<i64>), bias: Option<i64>) -> i64 {
    let (times, plus) = scale;
    tree.value * times + plus.unwrap_or(0) + bias.unwrap_or(0)
}

fn documents() -> Vec<(&'static str, Value)> {
    let mut shapes = Router::new();
    shapes.register(weigh::method()).unwrap();
    vec![
        ("calculator", calculator::openrpc().to_value()),
        ("kv", kv::router().openrpc(&kv::info()).to_value()),
        (
            "tuple and tree",
            shapes.openrpc(&Info::new("shapes", "1")).to_value(),
        ),
    ]
}

#[test]
fn the_documents_are_valid_against_the_official_meta_schema() {
    let validator = validator();
    for (name, document) in documents() {
        let errors = meta_schema_errors(&validator, &document);
        assert!(errors.is_empty(), "{name}:\n{errors}");
    }
    // The validator is not one that accepts anything.
    let mut wrong = calculator::openrpc().to_value();
    wrong["openrpc"] = json!("1.4.0");
    assert!(!meta_schema_errors(&validator, &wrong).is_empty());
    let mut wrong = calculator::openrpc().to_value();
    wrong["methods"][0]["params"][0] = json!({"name": "a"}); // no schema
    assert!(!meta_schema_errors(&validator, &wrong).is_empty());
    let mut wrong = calculator::openrpc().to_value();
    wrong["methods"][0]["params"][0]["schema"] = json!({"type": "integr"});
    assert!(!meta_schema_errors(&validator, &wrong).is_empty());
}

#[test]
fn the_documents_are_sound_where_the_meta_schema_cannot_tell() {
    for (_, document) in documents() {
        check_soundness(&document);
    }
    // The checks catch what they look for.
    let calculator = calculator::openrpc().to_value();
    for broken in [
        json!({"methods": [{"name": "a", "params": []}, {"name": "a", "params": []}]}),
        json!({"methods": [{"name": "a", "params": [
            {"name": "x", "required": false}, {"name": "y", "required": true}]}]}),
        json!({"methods": [], "x": {"$ref": "#/definitions/Nowhere"}}),
        json!({"methods": [], "x": {"prefixItems": []}}),
        {
            let mut broken = calculator.clone();
            broken["components"]["schemas"]
                .as_object_mut()
                .unwrap()
                .remove("Computed");
            broken
        },
    ] {
        let caught = std::panic::catch_unwind(|| check_soundness(&broken));
        assert!(caught.is_err(), "{broken}");
    }
}

#[test]
fn the_calculators_document_is_the_one_in_the_repository() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("calculator.openrpc.json");
    let document = calculator::openrpc().to_pretty_string();
    if std::env::var_os("UPDATE_OPENRPC").is_some() {
        std::fs::write(&path, &document).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == document,
        "examples/calculator.openrpc.json has drifted from the code: look at the difference, \
         then write it again with `UPDATE_OPENRPC=1 cargo test -p rpc-examples --test openrpc`"
    );
}

#[test]
fn the_calculator_describes_its_methods_and_subscriptions() {
    let document = calculator::openrpc().to_value();
    let names: Vec<&str> = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "add",
            "subtract",
            "multiply",
            "divide",
            "wait",
            "subscribe_countdown",
            "unsubscribe_countdown",
            "subscribe_results",
            "unsubscribe_results",
            "rpc.discover",
        ]
    );
    let divide = &document["methods"][3];
    assert_eq!(
        divide["summary"],
        "Divides `a` by `b`, as a float: `6 / 3` is `2.0`."
    );
    assert_eq!(divide["result"]["schema"]["type"], "number");
    let wait = &document["methods"][4];
    assert_eq!(
        wait["params"][0]["schema"]["maximum"],
        calculator::MAX_INTERVAL_MS
    );
    let countdown = &document["methods"][5];
    assert_eq!(
        countdown["params"][1]["schema"]["maximum"],
        calculator::MAX_INTERVAL_MS
    );
    assert_eq!(countdown["x-subscription"]["notification"], "countdown");
    assert_eq!(
        document["methods"][7]["x-subscription"]["item"]["schema"],
        json!({"$ref": "#/components/schemas/Computed"})
    );
}

#[tokio::test]
async fn rpc_discover_serves_the_document_over_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rpc", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(calculator::serve(listener, async {
        let _ = stopped.await;
    }));
    let client = rpc_hyper::Client::builder(&url).build().unwrap();
    let served: Value = client.request("rpc.discover", ()).await.unwrap();
    assert_eq!(served, calculator::openrpc().to_value());
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
