//! What the calls' context holds of an HTTP request: its head, kept while the body is read
//! and the calls run, or for a WebSocket's life. A leaf: the HTTP endpoint makes it, and the
//! WebSocket transport it upgrades to keeps it.

use http::{Extensions, HeaderMap, Version};

use crate::local::Connection;

/// What the calls' context holds of a request: kept, not copied, while its body is read and
/// its calls run.
#[derive(Default)]
pub(crate) struct Head {
    pub(crate) headers: HeaderMap,
    pub(crate) extensions: Extensions,
    pub(crate) version: Version,
    pub(crate) connection: Option<Connection>,
    /// The largest result sent: what the endpoint takes, it sends.
    pub(crate) max_result_len: usize,
}

impl Head {
    pub(crate) fn context(&self) -> rpc_core::Context<'_> {
        let cx = rpc_core::Context::new()
            .with_headers(&self.headers)
            .with_extensions(&self.extensions)
            .with_version(self.version)
            .with_max_result_len(self.max_result_len);
        match self.connection {
            Some(connection) => cx.with_peer(connection.peer).with_connection(connection.id),
            None => cx,
        }
    }
}
