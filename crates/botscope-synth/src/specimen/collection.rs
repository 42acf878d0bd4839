//! The synthetic collection behind `botscope specimen gen` and the
//! specimen benchmarks: the `i`-th specimen's spec and layout, so a
//! collection of any size is reproducible from its indices.

use super::{BotConfig, BotServer, ConfigEncoding, ConfigLayout, Packer, SpecimenSpec};

/// The `i`-th specimen of a synthetic collection used by `botscope specimen
/// gen` and the benchmark: 50 families, packers and encodings rotating, one
/// in five bots with a second C&C name, one in seven with an IP server.
pub fn synthetic_spec(i: u32) -> SpecimenSpec {
    let family = i % 50;
    let variant = i / 50;
    let mut servers = vec![BotServer {
        host: format!("irc{}.fam{family}.example.net", variant % 7),
        port: 6667,
    }];
    if i.is_multiple_of(5) {
        servers.push(BotServer {
            host: format!("c2.fam{family}.dyndns.org"),
            port: 5562,
        });
    }
    if i.is_multiple_of(7) {
        servers.push(BotServer {
            host: format!("198.51.100.{}", i % 250 + 1),
            port: 4150,
        });
    }
    SpecimenSpec {
        config: BotConfig {
            servers,
            channel: format!("#f{family}v{variant}"),
            key: i.is_multiple_of(2).then(|| format!("key{i}")),
            nick_prefix: format!("[{family}]|"),
        },
        encoding: match i % 3 {
            0 => ConfigEncoding::Plain,
            1 => ConfigEncoding::Xor((i % 200 + 1) as u8),
            _ => ConfigEncoding::Utf16,
        },
        packer: [Packer::None, Packer::Nrv2b, Packer::Nrv2d, Packer::Nrv2e][(family % 4) as usize],
        family,
        variant,
        seed: u64::from(i),
    }
}

/// The `i`-th specimen of `botscope specimen gen`: [`synthetic_spec`] in
/// the block layout for seven in ten; of the rest, sdbot globals (one of
/// the per-string encodings, host renamed `irc.…` as those need), rbot
/// pointer tables and agobot name/value tables in turn. The truth of each
/// is [`super::expected_config`] and [`super::expected_encoding`].
pub fn synthetic_item(i: u32) -> (SpecimenSpec, ConfigLayout) {
    let mut spec = synthetic_spec(i);
    let layout = match i % 10 {
        7 => ConfigLayout::Globals,
        8 => ConfigLayout::PointerTable,
        9 => ConfigLayout::NameValue,
        _ => ConfigLayout::Block,
    };
    if layout == ConfigLayout::Globals {
        let k = (i / 10) as u8;
        let mut key = [0u8; 16];
        for (j, b) in key.iter_mut().enumerate() {
            // High bit set: never a character of a host, never zero.
            *b = 0x80 | (k.wrapping_mul(37).wrapping_add((j as u8).wrapping_mul(29)) & 0x7f);
        }
        spec.encoding = match (i / 10) % 7 {
            0 => ConfigEncoding::Xor(0x80 | k),
            1 => ConfigEncoding::XorKey { key, len: 4 },
            2 => ConfigEncoding::XorKey { key, len: 9 },
            3 => ConfigEncoding::Add(k | 1),
            4 => ConfigEncoding::Rol(1 + k % 7),
            5 => ConfigEncoding::RollingXor(k),
            _ => ConfigEncoding::ChainedXor(k | 0x40),
        };
        spec.config.servers[0].host =
            format!("irc.fam{}v{}.example.net", spec.family, spec.variant);
    }
    (spec, layout)
}
