//! Synthetic specimens: benign, valid PE32 files carrying an IRC bot
//! configuration, optionally encoded and UPX-style packed. They contain no
//! code that does anything; they exist so extraction can be checked
//! against ground truth.

use serde::{Deserialize, Serialize};

mod build;
pub mod filter;
pub mod nrv;

pub use build::{
    config_strings, encode_config, family_imports, packed_imports, requested_filter, upx_payload,
    UpxPayload,
};

/// Builds the specimen `spec` describes: a valid PE32 whose entry point is a
/// single `ret`, carrying the config block (layout in `build.rs` and
/// `docs/specimen.md`), UPX-style packed when `spec.packer` says so (then
/// the code section is filtered as [`requested_filter`] says, see
/// [`upx_payload`]). Deterministic: the same spec gives the same bytes.
pub fn build_specimen(spec: &SpecimenSpec) -> Vec<u8> {
    build::build(spec)
}

/// Appends `len` bytes of seeded overlay (data past the last section, as
/// droppers carry) to a built specimen.
pub fn append_overlay(pe: &mut Vec<u8>, len: usize, seed: u64) {
    let mut m = build::Mix::new(seed ^ 0x000E_7EA7);
    let mut left = len;
    while left > 0 {
        let word = m.next().to_le_bytes();
        let n = left.min(8);
        pe.extend_from_slice(&word[..n]);
        left -= n;
    }
}

/// The embedded configuration types live in `botscope-core` (the
/// specimen analysis reads them without depending on the generator).
pub use botscope_core::botconfig::{BotConfig, BotServer};

/// How the configuration strings are stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigEncoding {
    /// ASCII, NUL-terminated.
    Plain,
    /// Every byte XORed with one key byte.
    Xor(u8),
    /// UTF-16LE.
    Utf16,
}

/// UPX compression method used to pack the specimen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Packer {
    /// Not packed.
    None,
    /// UPX NRV2B.
    Nrv2b,
    /// UPX NRV2D.
    Nrv2d,
    /// UPX NRV2E.
    Nrv2e,
}

/// Everything needed to build one specimen deterministically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecimenSpec {
    /// The configuration to embed.
    pub config: BotConfig,
    /// How the configuration strings are encoded.
    pub encoding: ConfigEncoding,
    /// Packing.
    pub packer: Packer,
    /// Family number: variants of a family share imports and most bytes.
    pub family: u32,
    /// Variant number within the family (changes filler bytes and config).
    pub variant: u32,
    /// Seed for filler bytes.
    pub seed: u64,
}
