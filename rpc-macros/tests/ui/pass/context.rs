//! Several state and context parameters in one method, sync and async.
use rpc_core::{rpc_method, Context, Ext, FromState, HeaderMap, PeerAddr, Router, State};

struct App {
    limit: Limit,
    name: String,
}

struct Limit(u32);

impl FromState<App> for Limit {
    fn from_state(app: &App) -> &Self {
        &app.limit
    }
}

#[derive(Clone)]
struct User(String);

/// Every kind of parameter at once.
#[rpc_method]
fn everything(
    app: State<'_, App>,
    limit: State<'_, Limit>,
    user: Ext<'_, User>,
    headers: Option<Ext<'_, HeaderMap>>,
    cx: &Context<'_>,
    n: u32,
) -> String {
    let peer = cx.get::<PeerAddr>().map(ToString::to_string);
    format!("{} {} {} {:?} {} {n}", app.name, limit.0, user.0, peer, headers.is_some())
}

/// The same, async.
#[rpc_method]
async fn later(user: Ext<'_, User>, cx: &Context<'_>, limit: State<'_, Limit>) -> u32 {
    let _ = cx.connection();
    limit.0 + user.0.len() as u32
}

fn main() {
    let mut router = Router::with_state(App {
        limit: Limit(3),
        name: "app".into(),
    });
    router.register(everything::method()).unwrap();
    router.register(later::method()).unwrap();
}
