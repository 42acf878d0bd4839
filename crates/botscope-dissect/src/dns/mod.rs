//! DNS over UDP and TCP: wire parsing and Zeek-style transaction pairing.
pub mod parser;
pub mod state;
