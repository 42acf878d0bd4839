//! FTP: control-connection commands and replies, and the data connections they announce.
pub mod parser;
pub mod state;
