//! Synthetic specimens: benign, valid PE32 files carrying an IRC bot
//! configuration, optionally encoded and UPX-style packed. They contain no
//! code that does anything; they exist so extraction can be checked
//! against ground truth.

use serde::{Deserialize, Serialize};

mod build;
pub mod collection;
pub mod filter;
pub mod nrv;

pub use build::{
    config_strings, encode_config, encode_string, family_imports, packed_imports, requested_filter,
    upx_payload, upx_payload_with, UpxPayload,
};

/// Builds the specimen `spec` describes: a valid PE32 whose entry point is a
/// single `ret`, carrying the config block (layout in `build.rs` and
/// `docs/specimen.md`), UPX-style packed when `spec.packer` says so (then
/// the code section is filtered as [`requested_filter`] says, see
/// [`upx_payload`]). Deterministic: the same spec gives the same bytes.
pub fn build_specimen(spec: &SpecimenSpec) -> Vec<u8> {
    build::build(spec, ConfigLayout::Block)
}

/// [`build_specimen`] with the config laid out as `layout` says (see
/// [`ConfigLayout`]); [`expected_config`] and [`expected_encoding`] give
/// what extraction must recover from it.
pub fn build_specimen_with(spec: &SpecimenSpec, layout: ConfigLayout) -> Vec<u8> {
    build::build(spec, layout)
}

/// How the configuration is laid out in the image, after the bots that
/// kept it that way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConfigLayout {
    /// One run of strings in `.data`: IRC templates, host and port (text)
    /// of every server, channel, key (empty when none), nick prefix.
    #[default]
    Block,
    /// sdbot: separate 4-aligned globals in `.data` -- nick prefix,
    /// server, port (little-endian 32-bit integer), channel, key (when
    /// there is one) -- each string encoded on its own (terminator
    /// included); odd variants store them in reverse order, as `gcc -O2`
    /// does. Only the first server.
    Globals,
    /// rbot: the strings in `.rdata`, a table of rows in `.data`, one a
    /// server: pointer to host, port (16-bit) and two bytes of padding,
    /// pointers to channel, key (`""` when none) and server password
    /// (`""`), an SSL flag. Always plain.
    PointerTable,
    /// agobot: name, value and description strings in `.rdata`
    /// (`si_server`, `si_port`, `si_mainchan`, `si_chanpass`,
    /// `si_nickprefix` ...), a table of pointer triples in `.data`. Only the
    /// first server; always plain.
    NameValue,
}

/// The layout actually written: the block holds only plain, one-byte XOR
/// and UTF-16 strings; other encodings are written as globals.
pub fn effective_layout(spec: &SpecimenSpec, layout: ConfigLayout) -> ConfigLayout {
    match (layout, spec.encoding) {
        (
            ConfigLayout::Block,
            ConfigEncoding::Plain | ConfigEncoding::Xor(_) | ConfigEncoding::Utf16,
        ) => ConfigLayout::Block,
        (ConfigLayout::Block, _) => ConfigLayout::Globals,
        (l, _) => l,
    }
}

/// The config static extraction must recover from
/// `build_specimen_with(spec, layout)`: the block and name/value tables
/// carry the nick prefix, globals and pointer tables do not; only the
/// block and pointer tables carry every server.
pub fn expected_config(spec: &SpecimenSpec, layout: ConfigLayout) -> BotConfig {
    let c = &spec.config;
    let first = c.servers.iter().take(1).cloned().collect();
    match effective_layout(spec, layout) {
        ConfigLayout::Block => c.clone(),
        ConfigLayout::Globals => BotConfig {
            servers: first,
            nick_prefix: String::new(),
            ..c.clone()
        },
        ConfigLayout::PointerTable => BotConfig {
            nick_prefix: String::new(),
            ..c.clone()
        },
        ConfigLayout::NameValue => BotConfig {
            servers: first,
            ..c.clone()
        },
    }
}

/// The encoding extraction must report (pointer and name/value tables are
/// always plain).
pub fn expected_encoding(spec: &SpecimenSpec, layout: ConfigLayout) -> ConfigEncoding {
    match effective_layout(spec, layout) {
        ConfigLayout::PointerTable | ConfigLayout::NameValue => ConfigEncoding::Plain,
        _ => spec.encoding,
    }
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

/// How the configuration strings are stored in the file. The encodings
/// after `Utf16` encode each string on its own, its NUL terminator
/// included, and are written in the globals layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigEncoding {
    /// ASCII, NUL-terminated.
    Plain,
    /// Every byte XORed with one key byte.
    Xor(u8),
    /// UTF-16LE.
    Utf16,
    /// XOR with the first `len` (2..=16) bytes of `key`, restarting at each
    /// string; the key is also stored in `.data`, as a decoder keeps it.
    XorKey {
        /// Key bytes (only the first `len` are used).
        key: [u8; 16],
        /// Key length.
        len: u8,
    },
    /// The key added to every byte.
    Add(u8),
    /// Every byte rotated left by this many bits (1..=7).
    Rol(u8),
    /// Byte `i` of each string XOR-ed with `key + i`.
    RollingXor(u8),
    /// Each byte XOR-ed with the previous stored byte, the first with the key.
    ChainedXor(u8),
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
