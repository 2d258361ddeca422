//! Routers that compose: modules merged in or nested under a prefix, aliases, and clashes
//! refused at merge time with the router left as it was.

use std::sync::atomic::{AtomicU64, Ordering};

use rpc_core::{rpc_method, Methods, Router, State};

/// Counts.
#[rpc_method]
fn hit(hits: State<'_, AtomicU64>) -> u64 {
    hits.fetch_add(1, Ordering::Relaxed) + 1
}

/// Reads the count.
#[rpc_method]
fn get(hits: State<'_, AtomicU64>) -> u64 {
    hits.load(Ordering::Relaxed)
}

/// Answers.
#[rpc_method]
fn ping() -> &'static str {
    "pong"
}

fn counter() -> Methods<AtomicU64> {
    let mut methods = Methods::new();
    methods
        .register(hit::method())
        .unwrap()
        .register(get::method())
        .unwrap()
        .alias("count", "get")
        .unwrap();
    methods
}

fn names<S>(router: &Router<S>) -> Vec<String> {
    router
        .methods()
        .flat_map(|info| info.names())
        .map(str::to_owned)
        .collect()
}

async fn call(router: &Router<AtomicU64>, method: &str) -> String {
    let body = format!(r#"{{"jsonrpc":"2.0","method":"{method}","id":1}}"#);
    String::from_utf8(router.handle(body.as_bytes()).await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_module_nested_under_a_prefix_answers_by_its_names_and_aliases() {
    let mut router = Router::with_state(AtomicU64::new(0));
    router
        .register(ping::method())
        .unwrap()
        .nest("counter.", counter())
        .unwrap()
        .nest("other_", counter())
        .unwrap();
    assert_eq!(
        names(&router),
        [
            "ping",
            "counter.hit",
            "counter.get",
            "counter.count",
            "other_hit",
            "other_get",
            "other_count"
        ]
    );
    call(&router, "counter.hit").await;
    call(&router, "other_hit").await;
    assert_eq!(
        call(&router, "counter.count").await,
        r#"{"jsonrpc":"2.0","result":2,"id":1}"#
    );
    assert!(
        call(&router, "hit").await.contains("-32601"),
        "not under its bare name"
    );
    let info = router.method_info("counter.count").unwrap();
    assert_eq!(info.name, "counter.get");
    assert_eq!(info.aliases, ["counter.count"]);
}

#[tokio::test]
async fn merging_another_router_takes_its_methods_and_keeps_this_state() {
    let mut router = Router::with_state(AtomicU64::new(10));
    router.register(ping::method()).unwrap();
    let mut other = Router::with_state(AtomicU64::new(99));
    other.register(get::method()).unwrap();
    router.merge(other).unwrap();
    assert_eq!(
        call(&router, "get").await,
        r#"{"jsonrpc":"2.0","result":10,"id":1}"#
    );
}

#[test]
fn a_clash_at_merge_time_names_the_method_and_changes_nothing() {
    let mut router = Router::with_state(AtomicU64::new(0));
    router.register(get::method()).unwrap();
    let before = names(&router);
    // `hit` is free, `get` clashes: neither is added.
    let clash = router.merge(counter()).unwrap_err();
    assert!(clash.is_duplicate());
    assert_eq!(clash.name(), "get");
    assert_eq!(
        clash.to_string(),
        "a method named `get` is registered already"
    );
    assert_eq!(names(&router), before);
    // An alias clashes like a name.
    router.nest("c.", counter()).unwrap();
    let mut again = Methods::new();
    again
        .register(ping::method())
        .unwrap()
        .alias("count", "ping")
        .unwrap();
    let clash = router.nest("c.", again).unwrap_err();
    assert_eq!(clash.name(), "c.count");
}

#[test]
fn reserved_and_unknown_names_are_refused_everywhere() {
    let mut router = Router::with_state(AtomicU64::new(0));
    router.register(ping::method()).unwrap();
    assert!(router.alias("rpc.ping", "ping").unwrap_err().is_reserved());
    assert!(router.alias("pong", "nothing").unwrap_err().is_unknown());
    assert!(router.alias("ping", "ping").unwrap_err().is_duplicate());
    let err = router.nest("rpc.", counter()).unwrap_err();
    assert!(err.is_reserved());
    assert_eq!(err.name(), "rpc.hit");
    let mut methods = Methods::<AtomicU64>::new();
    methods.register(ping::method()).unwrap();
    assert!(methods.register(ping::method()).unwrap_err().is_duplicate());
    assert!(methods.alias("rpc.x", "ping").unwrap_err().is_reserved());
    assert!(methods.alias("x", "y").unwrap_err().is_unknown());
    assert_eq!(names(&router), ["ping"]);
}
