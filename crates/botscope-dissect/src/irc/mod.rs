//! IRC: tolerant line splitting, messages, CTCP/DCC, nick/user tracking,
//! and the DCC transfers announced and still expected.
pub mod expect;
pub mod parser;
pub mod state;
