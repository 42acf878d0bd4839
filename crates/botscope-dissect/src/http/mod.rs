//! HTTP/1.x: heads, body framing, pipelining, CONNECT, executable bodies.
pub mod parser;
pub mod state;
