//! TFTP: packets and transfers tied across the request and data flows.
pub mod parser;
pub mod state;
