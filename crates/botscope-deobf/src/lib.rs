//! De-obfuscation as one recorded pipeline stage.
//!
//! Every decoding botscope knows lives here, once, below both the
//! specimen analysis and the sensor:
//!
//! - [`shellcode`]: decoder stubs of exploit payloads run in a small x86
//!   interpreter (XOR/ADD/SUB byte and dword, rolling XOR, lodsb/stosb
//!   and the other Nepenthes-catalogued loops), and XOR keys guessed
//!   from known shellcode text;
//! - [`xorstr`]: XOR-family config strings (one-byte XOR, ADD/SUB, ROL,
//!   2–16-byte keys, rolling and chained XOR) found by known plaintext;
//! - [`text`]: base64, hex, ROT13, stack strings and UTF-16LE;
//! - [`upx`]: NRV decompression and UPX's branch filters.
//!
//! A [`Registry`] holds the decoders as [`Decoder`]s; [`Registry::run`]
//! applies each to the inputs (a specimen's segments, a payload) within
//! [`Limits`] and returns a [`Record`]: which decoders ran, which
//! matched, with what key and parameters, at which offset, and what the
//! decoding revealed. A decoder registered once runs for every specimen
//! and every payload.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod record;
pub mod registry;
pub mod shellcode;
pub mod text;
pub mod upx;
pub mod xorstr;

pub use record::{Finding, Record};
pub use registry::{entropy, Decoder, Input, Limits, Registry, Sink};
