//! Shellcode decoder stubs in exploit payloads, found and run as
//! Nepenthes' shellcode handlers did; and keys guessed from known
//! plaintext where no stub is recognised.
//!
//! Worm and bot exploits of 2003–2006 carried an encoded body behind a
//! small decoder stub: GetPC (`call`/`pop`, `jmp`/`call` back, or
//! `fnstenv [esp-0xc]`), a counter, and a loop XORing (or adding) a key
//! into each byte or dword. This module finds the stubs ([`stub`]), runs
//! them in a small x86 interpreter on a copy of the payload ([`cpu`]:
//! nothing is ever executed on the host) and names the decoding
//! ([`DecoderKind`]); [`guess`] finds XOR keys from known shellcode text
//! and ror13 API hashes ([`hashes`]). What a decoded body asks for (bind
//! shell, connect-back, download) is the sensor's business
//! (`botscope_sensor::shellcode`).

pub(crate) mod cpu;
pub mod guess;
pub mod hashes;
pub mod stub;

use std::fmt;

pub use stub::{
    find_decoders, Decoded, DECODE_BUDGET_BASE, DECODE_BUDGET_PER_BYTE, DECODE_STEPS, MIN_BODY,
    PREFIX_STEPS, STUB_BACK, STUB_WINDOW,
};

/// At most this many payload bytes are searched.
pub const MAX_SCAN: usize = 1 << 20;
/// A decoded body is at most this long.
pub const MAX_BODY: usize = 8 << 10;
/// At most this many findings per payload.
pub const MAX_FINDINGS: usize = 8;

/// How a shellcode body was encoded (what the stub undid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecoderKind {
    /// Not encoded: the body is in the payload as is.
    Plain,
    /// Every byte XORed with one key byte.
    XorByte,
    /// Every dword XORed with a 4-byte key (`key` in memory order).
    XorDword,
    /// XOR with a key that changes from byte to byte (`key`: the first).
    XorRolling,
    /// The stub adds `key` to every byte.
    AddByte,
    /// The stub subtracts `key` from every byte.
    SubByte,
    /// The stub adds `key` (little-endian) to every dword.
    AddDword,
    /// The stub subtracts `key` (little-endian) from every dword.
    SubDword,
    /// A stub that decoded the body some other way (`key`: the XOR of
    /// the first encoded and decoded bytes).
    Custom,
    /// No stub recognised: a single-byte XOR key that turns a stretch of
    /// the payload into known shellcode text or hashes (the offset is
    /// where the decoded stretch starts, not a stub).
    GuessedXorByte,
    /// No stub recognised: likewise with a 4-byte key.
    GuessedXorDword,
}

impl DecoderKind {
    /// Short name: `xor8`, `xor32`, `xor_rolling`, `add8`, `sub32` …
    pub fn name(self) -> &'static str {
        match self {
            DecoderKind::Plain => "plain",
            DecoderKind::XorByte => "xor8",
            DecoderKind::XorDword => "xor32",
            DecoderKind::XorRolling => "xor_rolling",
            DecoderKind::AddByte => "add8",
            DecoderKind::SubByte => "sub8",
            DecoderKind::AddDword => "add32",
            DecoderKind::SubDword => "sub32",
            DecoderKind::Custom => "custom",
            DecoderKind::GuessedXorByte => "xor8_guessed",
            DecoderKind::GuessedXorDword => "xor32_guessed",
        }
    }
}

impl fmt::Display for DecoderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much work a shellcode search did: what the linear-time test and
/// the fuzz target bound by the payload size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShellcodeWork {
    /// Bytes read by scans (anchors, body analysis, text search, key
    /// guessing).
    pub bytes_scanned: u64,
    /// Instructions interpreted.
    pub steps: u64,
    /// Runs that wrote into (a copy of) the payload.
    pub decodes: u32,
}
