//! What generated code calls for the parameters that reach the caller back: a `Peer`, a
//! `CancelToken`, an `Option<Progress>`.

use crate::{Context, ErrorObject, Params};

/// A `Peer` parameter: the connection's, or error -32011 over a transport with no way back.
pub fn peer(cx: &Context<'_>, method: &'static str) -> Result<crate::Peer, ErrorObject> {
    match cx.peer_handle() {
        Some(peer) => Ok(peer.clone()),
        None => Err(ErrorObject::server_error(
            crate::ErrorCode::NEEDS_CONNECTION.code(),
            "Needs a connection",
        )
        .with_data(format!(
            "`{method}` calls its caller back: call it over a WebSocket or a byte stream"
        ))),
    }
}

/// A `CancelToken` parameter: the current call's.
pub fn cancel_token() -> crate::CancelToken {
    crate::cancel::current()
}

/// An `Option<Progress>` parameter, with the guard that ends it when the call ends.
pub fn progress(
    cx: &Context<'_>,
    params: Params<'_>,
    method: &'static str,
) -> (Option<crate::Progress>, crate::progress::ProgressGuard) {
    crate::progress::reporter(cx, params, method)
}
