//! The services behind the examples, as library code so that tests can start them too.

pub mod auth;
pub mod calculator;
pub mod kv;
pub mod layers;
pub mod mcp;
pub mod mounted;
