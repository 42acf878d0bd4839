//! Executables carried over TCP (Table 8's pushes and reverse
//! connections): a direction whose first bytes are `MZ` is hashed while
//! it flows, and its PE header says how long the file should be.
//! [`parser`] reads the PE size; [`state`] hashes one direction and emits
//! a [`botscope_core::events::BinaryTransfer`] when the flow ends.

pub mod parser;
pub mod state;

pub use parser::pe_file_size;
pub use state::BinaryState;
