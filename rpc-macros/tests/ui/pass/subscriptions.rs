use rpc_core::{rpc_subscription, Context, Ext, Router, Sink, State};

struct Db;

#[derive(Clone)]
struct User;

/// Every option and parameter kind at once.
#[rpc_subscription(name = "watch", unsubscribe = "unwatch", notification = "changed")]
async fn watch(
    db: State<'_, Db>,
    user: Option<Ext<'_, User>>,
    cx: &Context<'_>,
    #[rpc(rename = "table")] name: String,
    limit: Option<u32>,
    sink: Sink<Vec<String>>,
) -> Result<(), std::fmt::Error> {
    let _ = (db, user, cx, name, limit, sink);
    Ok(())
}

fn main() {
    let mut router = Router::with_state(Db);
    router.register(watch::method()).unwrap();
}
