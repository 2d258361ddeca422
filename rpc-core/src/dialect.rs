//! The conventions a protocol built on JSON-RPC adds for cancelling and reporting progress,
//! which the Language Server Protocol and the Model Context Protocol name differently.

/// A protocol's names for cancelling a request and reporting its progress.
///
/// | | [`Dialect::Lsp`] | [`Dialect::Mcp`] |
/// |---|---|---|
/// | cancel | `$/cancelRequest` `{"id": ID}` | `notifications/cancelled` `{"requestId": ID, "reason": ..}` |
/// | the cancelled call | answered with -32800 "Request cancelled" | not answered |
/// | a request's progress token | `params.workDoneToken` | `params._meta.progressToken` |
/// | progress | `$/progress` `{"token": T, "value": {"kind": "begin" / "report" / "end", ..}}` | `notifications/progress` `{"progressToken": T, "progress": N, "total": N, "message": ..}` |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// The Language Server Protocol's.
    Lsp,
    /// The Model Context Protocol's.
    Mcp,
}

impl Dialect {
    /// The cancel notification's method name.
    pub fn cancel_method(self) -> &'static str {
        match self {
            Dialect::Lsp => "$/cancelRequest",
            Dialect::Mcp => "notifications/cancelled",
        }
    }

    /// Whether a cancelled call is still answered.
    pub fn answers_cancelled(self) -> bool {
        self == Dialect::Lsp
    }

    /// The progress notification's method name.
    pub fn progress_method(self) -> &'static str {
        match self {
            Dialect::Lsp => "$/progress",
            Dialect::Mcp => "notifications/progress",
        }
    }
}
