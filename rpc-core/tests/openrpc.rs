//! Discovery: the OpenRPC document the attributes' descriptions make, and `rpc.discover`.

use rpc_core::openrpc::{Info, TypeSchema};
use rpc_core::schemars::JsonSchema;
use rpc_core::{
    rpc_method, rpc_subscription, Context, ErrorObject, Ext, Method, ParamInfo, Params, Router,
    Sink, State,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A point on the plane.
#[derive(Deserialize, Serialize, JsonSchema)]
#[schemars(crate = "rpc_core::schemars")]
struct Point {
    x: f64,
    y: f64,
}

/// A tree of numbers: a recursive type.
#[derive(Deserialize, Serialize, JsonSchema)]
#[schemars(crate = "rpc_core::schemars")]
struct Tree {
    value: i64,
    children: Vec<Tree>,
}

/// Moves a point.
///
/// The point moves by `dx` and `dy`;
/// a missing `dy` is 0.
#[rpc_method(errors(4001 = "off the map", -32001 = "busy"))]
fn shift(point: Point, dx: f64, dy: Option<f64>) -> Result<Point, ErrorObject> {
    Ok(Point {
        x: point.x + dx,
        y: point.y + dy.unwrap_or(0.0),
    })
}

/// The middle of two points.
#[rpc_method]
fn middle(pair: (Point, Point)) -> Point {
    Point {
        x: (pair.0.x + pair.1.x) / 2.0,
        y: (pair.0.y + pair.1.y) / 2.0,
    }
}

/// Sums a tree.
#[rpc_method]
fn total(tree: Tree) -> i64 {
    tree.value + tree.children.into_iter().map(total).sum::<i64>()
}

/// An optional param before a required one.
#[rpc_method]
fn pad(left: Option<u8>, text: String) -> String {
    " ".repeat(usize::from(left.unwrap_or(0))) + &text
}

/// By-name params as one struct.
#[rpc_method]
fn place(#[rpc(params)] point: Point) -> String {
    format!("{},{}", point.x, point.y)
}

/// Ticks `n` times.
#[rpc_subscription]
async fn ticks(n: u32, sink: Sink<Point>) {
    for i in 0..n {
        if sink
            .send(Point {
                x: f64::from(i),
                y: 0.0,
            })
            .await
            .is_err()
        {
            break;
        }
    }
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(shift::method())
        .and_then(|r| r.register(middle::method()))
        .and_then(|r| r.register(total::method()))
        .and_then(|r| r.register(pad::method()))
        .and_then(|r| r.register(place::method()))
        .and_then(|r| r.register(ticks::method()))
        .and_then(|r| {
            r.register(
                Method::new_sync("raw", |_: &(), params: Params<'_>| {
                    params.parse::<(i64,)>().map(|(n,)| n)
                })
                .param(ParamInfo::new("n", "i64")),
            )
        })
        .unwrap();
    router
}

fn method<'d>(document: &'d Value, name: &str) -> &'d Value {
    document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no method {name}"))
}

fn document() -> Value {
    router().openrpc(&Info::new("test", "1.0.0")).to_value()
}

#[test]
fn each_method_says_its_name_doc_params_result_and_errors() {
    let document = document();
    assert_eq!(document["openrpc"], "1.3.2");
    assert_eq!(
        document["info"],
        json!({"title": "test", "version": "1.0.0"})
    );
    let shift = method(&document, "shift");
    assert_eq!(shift["summary"], "Moves a point.");
    assert_eq!(
        shift["description"],
        "Moves a point.\n\nThe point moves by `dx` and `dy`;\na missing `dy` is 0."
    );
    assert_eq!(shift["paramStructure"], "either");
    assert_eq!(
        shift["params"],
        json!([
            {"name": "point", "required": true, "schema": {"$ref": "#/components/schemas/Point"}},
            {"name": "dx", "required": true, "schema": {"type": "number", "format": "double"}},
            // An Option: not required, described by the type inside.
            {"name": "dy", "required": false, "schema": {"type": "number", "format": "double"}},
        ])
    );
    // The `Ok` type of the `Result`.
    assert_eq!(
        shift["result"],
        json!({"name": "result", "schema": {"$ref": "#/components/schemas/Point"}})
    );
    assert_eq!(
        shift["errors"],
        json!([{"code": 4001, "message": "off the map"}, {"code": -32001, "message": "busy"}])
    );
    // Shared types are defined once.
    let point = &document["components"]["schemas"]["Point"];
    assert_eq!(point["type"], "object");
    assert_eq!(point["required"], json!(["x", "y"]));
}

#[test]
fn a_tuple_and_a_recursive_type_come_out_in_draft_07_terms() {
    let document = document();
    // A tuple: `items` as an array (draft-07), not `prefixItems` (2020-12).
    assert_eq!(
        method(&document, "middle")["params"][0]["schema"],
        json!({
            "type": "array",
            "items": [{"$ref": "#/components/schemas/Point"}, {"$ref": "#/components/schemas/Point"}],
            "minItems": 2,
            "maxItems": 2,
        })
    );
    // A recursive type refers to itself through the components.
    let tree = &document["components"]["schemas"]["Tree"];
    assert_eq!(
        tree["properties"]["children"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Tree"}})
    );
    assert_eq!(
        method(&document, "total")["params"][0]["schema"],
        json!({"$ref": "#/components/schemas/Tree"})
    );
}

#[test]
fn an_optional_param_before_a_required_one_is_required_and_nullable() {
    let document = document();
    assert_eq!(
        method(&document, "pad")["params"],
        json!([
            {"name": "left", "required": true, "schema": {"anyOf": [
                {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255},
                {"type": "null"},
            ]}},
            {"name": "text", "required": true, "schema": {"type": "string"}},
        ])
    );
}

#[test]
fn whole_params_are_listed_by_name() {
    let document = document();
    let place = method(&document, "place");
    assert_eq!(place["paramStructure"], "by-name");
    let names: Vec<&str> = place["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "y"]);
    assert_eq!(place["params"][0]["required"], true);

    // Required fields come first, whatever the alphabet says; a tuple goes by position.
    #[derive(Deserialize, JsonSchema)]
    #[schemars(crate = "rpc_core::schemars")]
    struct Filter {
        after: Option<u32>,
        key: String,
    }
    #[derive(Deserialize, JsonSchema)]
    #[schemars(crate = "rpc_core::schemars")]
    struct Pair(i64, String);

    #[rpc_method]
    fn filter(#[rpc(params)] query: Filter) -> bool {
        query.after.is_some() || query.key.is_empty()
    }
    #[rpc_method]
    fn pair(#[rpc(params)] both: Pair) -> String {
        format!("{}{}", both.0, both.1)
    }
    let mut router = Router::new();
    router
        .register(filter::method())
        .and_then(|r| r.register(pair::method()))
        .unwrap();
    let document = router.openrpc(&Info::new("t", "1")).to_value();
    assert_eq!(
        method(&document, "filter")["params"],
        json!([
            {"name": "key", "required": true, "schema": {"type": "string"}},
            {"name": "after", "required": false, "schema": {"type": ["integer", "null"], "format": "uint32", "minimum": 0}},
        ])
    );
    let pair = method(&document, "pair");
    assert_eq!(pair["paramStructure"], "by-position");
    assert_eq!(pair["params"][0]["name"], "both0");
    assert_eq!(pair["params"][1]["schema"], json!({"type": "string"}));
}

#[test]
fn results_are_described_by_type_as_they_are_written() {
    /// A count whose default makes it optional on the way in, never on the way out.
    #[derive(Deserialize, Serialize, JsonSchema)]
    #[schemars(crate = "rpc_core::schemars")]
    struct Tally {
        name: String,
        #[serde(default)]
        count: u32,
    }
    type Answer<T> = Result<T, ErrorObject>;

    #[rpc_method]
    fn bump(tally: Tally) -> Answer<Tally> {
        Ok(Tally {
            count: tally.count + 1,
            ..tally
        })
    }
    #[rpc_method]
    fn opaque() -> impl Serialize {
        1
    }

    let mut router = Router::new();
    router
        .register(bump::method())
        .and_then(|r| r.register(opaque::method()))
        .unwrap();
    let document = router.openrpc(&Info::new("t", "1")).to_value();
    let bump = method(&document, "bump");
    // The alias is seen through; the output side of `Tally` differs, so it has its own name.
    assert_eq!(
        bump["params"][0]["schema"],
        json!({"$ref": "#/components/schemas/Tally"})
    );
    assert_eq!(
        bump["result"]["schema"],
        json!({"$ref": "#/components/schemas/TallyOutput"})
    );
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["Tally"]["required"], json!(["name"]));
    assert_eq!(schemas["TallyOutput"]["required"], json!(["name", "count"]));
    // `impl Serialize` cannot be named: the empty schema.
    assert_eq!(method(&document, "opaque")["result"]["schema"], json!({}));
}

#[test]
fn server_side_params_are_left_out_and_unknown_types_are_anything() {
    struct Caller;
    #[derive(Deserialize, Serialize)]
    struct Opaque(u8);

    #[rpc_method]
    fn who(
        _state: State<'_, u32>,
        _caller: Option<Ext<'_, Caller>>,
        _cx: &Context<'_>,
        tags: Vec<Opaque>,
        raw: serde_json::Value,
    ) -> usize {
        tags.len() + usize::from(raw.is_null())
    }

    let mut router = Router::with_state(0u32);
    router.register(who::method()).unwrap();
    let document = router.openrpc(&Info::new("t", "1")).to_value();
    assert_eq!(
        document["methods"][0]["params"],
        json!([
            // `Vec<Opaque>` has no schema because `Opaque` has none.
            {"name": "tags", "required": true, "schema": {}},
            // `Value` is anything: `{}` rather than the schema `true`.
            {"name": "raw", "required": true, "schema": {}},
        ])
    );
}

#[test]
fn a_subscription_names_its_notification_and_item_and_its_unsubscribe_method_follows() {
    let document = document();
    let ticks = method(&document, "subscribe_ticks");
    assert_eq!(ticks["result"]["schema"], json!({"type": "string"}));
    assert_eq!(
        ticks["x-subscription"],
        json!({
            "notification": "ticks",
            "unsubscribe": "unsubscribe_ticks",
            "item": {"name": "result", "schema": {"$ref": "#/components/schemas/Point"}},
        })
    );
    let unsubscribe = method(&document, "unsubscribe_ticks");
    assert_eq!(
        unsubscribe["params"][0]["schema"],
        json!({"type": "string"})
    );
    assert_eq!(unsubscribe["result"]["schema"], json!({"type": "boolean"}));
}

#[test]
fn a_method_built_by_hand_without_schemas_gets_the_empty_schema() {
    let document = document();
    let raw = method(&document, "raw");
    assert_eq!(raw["params"][0]["schema"], json!({}));
    assert_eq!(raw["result"]["schema"], json!({}));
    // With a schema given by hand, it has it.
    let mut router = Router::new();
    router
        .register(
            Method::new_sync("double", |_: &(), params: Params<'_>| {
                params.parse::<(i64,)>().map(|(n,)| n * 2)
            })
            .param(ParamInfo::new("n", "i64").schema(TypeSchema::of::<i64>()))
            .result_schema(TypeSchema::of::<i64>()),
        )
        .unwrap();
    let document = router.openrpc(&Info::new("t", "1")).to_value();
    assert_eq!(
        document["methods"][0]["params"][0]["schema"]["type"],
        "integer"
    );
    assert_eq!(
        document["methods"][0]["result"]["schema"]["type"],
        "integer"
    );
}

#[test]
fn a_type_without_a_schema_does_not_fail_the_build_and_gets_the_empty_schema() {
    #[derive(Deserialize, Serialize)]
    struct Opaque(u8);

    #[rpc_method]
    fn echo(value: Opaque) -> Opaque {
        value
    }

    let mut router = Router::new();
    router.register(echo::method()).unwrap();
    let document = router.openrpc(&Info::new("t", "1")).to_value();
    assert_eq!(document["methods"][0]["params"][0]["schema"], json!({}));
    assert_eq!(document["methods"][0]["result"]["schema"], json!({}));
}

async fn call(router: &Router, body: &str) -> Value {
    let answer = router.handle(body.as_bytes()).await.unwrap();
    serde_json::from_slice(&answer).unwrap()
}

#[tokio::test]
async fn rpc_discover_answers_with_the_document_for_no_params_only() {
    let mut router = router();
    router
        .discover(Info::new("test", "1.0.0").description("A test."))
        .unwrap();
    let expected = router
        .openrpc(&Info::new("test", "1.0.0").description("A test."))
        .to_value();
    for params in ["", r#","params":[]"#, r#","params":{}"#, r#","params":[ ]"#] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"rpc.discover"{params},"id":1}}"#);
        let answer = call(&router, &body).await;
        assert_eq!(answer["result"], expected, "{params}");
    }
    assert_eq!(expected["info"]["description"], "A test.");
    // It describes itself too.
    let discover = method(&expected, "rpc.discover");
    assert_eq!(discover["params"], json!([]));
    assert_eq!(discover["result"]["name"], "OpenRPC Schema");
    for params in [r#"[1]"#, r#"{"a":1}"#] {
        let body =
            format!(r#"{{"jsonrpc":"2.0","method":"rpc.discover","params":{params},"id":1}}"#);
        assert_eq!(
            call(&router, &body).await["error"]["code"],
            -32602,
            "{params}"
        );
    }
}

#[tokio::test]
async fn the_document_follows_the_methods_registered_after_discovery() {
    let mut router = Router::new();
    router.discover(Info::new("t", "1")).unwrap();
    let body = r#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#;
    assert_eq!(
        call(&router, body).await["result"]["methods"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    router.register(middle::method()).unwrap();
    let methods = call(&router, body).await["result"]["methods"].clone();
    assert_eq!(methods[1]["name"], "middle");
    router.alias("mid", "middle").unwrap();
    let after_alias = call(&router, body).await["result"].clone();
    assert_eq!(after_alias["methods"][1]["x-aliases"], json!(["mid"]));
    assert_eq!(after_alias, router.openrpc(&Info::new("t", "1")).to_value());
}

#[test]
fn rpc_discover_is_the_only_rpc_name_and_is_served_once() {
    let mut router = Router::new();
    let taken = Method::new_sync("rpc.discover", |_: &(), _: Params<'_>| {
        Ok::<_, ErrorObject>(())
    });
    assert!(router.register(taken).unwrap_err().is_reserved());
    // A method needs a name, to be called and to be described.
    let nameless = Method::new_sync("", |_: &(), _: Params<'_>| Ok::<_, ErrorObject>(()));
    assert!(router.register(nameless).unwrap_err().is_empty_name());
    router.discover(Info::new("t", "1")).unwrap();
    assert!(router
        .discover(Info::new("t", "1"))
        .unwrap_err()
        .is_duplicate());
    let info = rpc_core::openrpc_info!();
    assert_eq!(info.title, "rpc-core");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
}
