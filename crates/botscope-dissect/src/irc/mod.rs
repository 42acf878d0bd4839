//! IRC: tolerant line splitting, messages, CTCP/DCC, nick/user tracking.
pub mod parser;
pub mod state;
