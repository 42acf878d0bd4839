//! Ground truth from the generator: every config layout (block, sdbot
//! globals, rbot pointer table, agobot name/value) in every encoding, plain
//! and UPX-packed, must come back exactly as `expected_config` says; and the
//! watch list's two tiers and Table 4's provenance from a store.

use botscope_specimen::store::AddOptions;
use botscope_specimen::{analyze, tables, Source, Store};
use botscope_synth::specimen::{
    build_specimen_with, expected_config, expected_encoding, BotConfig, BotServer, ConfigEncoding,
    ConfigLayout, Packer, SpecimenSpec,
};

/// `FoundEncoding::label` of what the generator wrote.
fn label(e: ConfigEncoding) -> String {
    match e {
        ConfigEncoding::Plain => "plain".into(),
        ConfigEncoding::Utf16 => "utf16".into(),
        ConfigEncoding::Xor(k) => format!("xor:{k:02x}"),
        ConfigEncoding::XorKey { key, len } => format!("xor:{}", hex::encode(&key[..len as usize])),
        ConfigEncoding::Add(k) => format!("add:{k:02x}"),
        ConfigEncoding::Rol(r) => format!("rol:{r}"),
        ConfigEncoding::RollingXor(k) => format!("rolling_xor:{k:02x}"),
        ConfigEncoding::ChainedXor(k) => format!("chained_xor:{k:02x}"),
    }
}

fn xor_key(bytes: &[u8]) -> ConfigEncoding {
    let mut key = [0u8; 16];
    key[..bytes.len()].copy_from_slice(bytes);
    ConfigEncoding::XorKey {
        key,
        len: bytes.len() as u8,
    }
}

fn spec(family: u32, variant: u32, enc: ConfigEncoding, packer: Packer, key: bool) -> SpecimenSpec {
    SpecimenSpec {
        config: BotConfig {
            servers: vec![
                BotServer {
                    host: format!("irc.fam{family}v{variant}.example.net"),
                    port: 6667,
                },
                BotServer {
                    host: format!("c2.fam{family}.dyndns.org"),
                    port: 5562,
                },
            ],
            channel: format!("#f{family}v{variant}"),
            key: key.then(|| format!("k{family}x{variant}")),
            nick_prefix: format!("[{family}]|"),
        },
        encoding: enc,
        packer,
        family,
        variant,
        seed: u64::from(family * 100 + variant),
    }
}

#[test]
fn every_layout_and_encoding_matches_the_truth() {
    let encodings = [
        ConfigEncoding::Plain,
        ConfigEncoding::Utf16,
        ConfigEncoding::Xor(0x5c),
        xor_key(&[0x91, 0x4e]),
        xor_key(&[0x5a, 0xc3, 0x17]),
        xor_key(&[0x5a, 0xc3, 0x17, 0x8e]),
        // Longer keys: found through the key table the decoder keeps.
        xor_key(&[0xa1, 0x07, 0x33, 0xfe, 0x10, 0x6b, 0xc4]),
        xor_key(&[
            0xd4, 0x19, 0x82, 0x9e, 0x3b, 0xf0, 0x45, 0x9a, 0x21, 0xcc, 0x70, 0x0d, 0xe8, 0x57,
            0xb2, 0x3f,
        ]),
        ConfigEncoding::Add(0x17),
        ConfigEncoding::Add(0xe9),
        ConfigEncoding::Rol(3),
        ConfigEncoding::Rol(5),
        ConfigEncoding::RollingXor(0x41),
        ConfigEncoding::ChainedXor(0x6d),
    ];
    let layouts = [
        ConfigLayout::Block,
        ConfigLayout::Globals,
        ConfigLayout::PointerTable,
        ConfigLayout::NameValue,
    ];
    let mut n = 0;
    for (li, &layout) in layouts.iter().enumerate() {
        for (ei, &enc) in encodings.iter().enumerate() {
            for (pi, packer) in [Packer::None, Packer::Nrv2b, Packer::Nrv2e]
                .into_iter()
                .enumerate()
            {
                // Both orders of the globals (variant parity), keys on and off.
                for variant in [0u32, 1] {
                    if pi > 0 && (variant == 1 || ei % 3 != pi) {
                        continue; // packed: a third of the encodings each
                    }
                    let family = (li * 20 + ei) as u32;
                    let s = spec(
                        family,
                        variant,
                        enc,
                        packer,
                        (ei + variant as usize) % 4 != 3,
                    );
                    let a = analyze(&build_specimen_with(&s, layout));
                    let what = format!("{layout:?} {enc:?} {packer:?} v{variant}");
                    assert_eq!(
                        a.config.as_ref(),
                        Some(&expected_config(&s, layout)),
                        "{what}: {:?}",
                        a.config_evidence
                    );
                    assert_eq!(
                        a.config_encoding.as_ref().map(|e| e.label()),
                        Some(label(expected_encoding(&s, layout))),
                        "{what}"
                    );
                    let want_region = if packer == Packer::None {
                        if matches!(layout, ConfigLayout::PointerTable | ConfigLayout::NameValue) {
                            None
                        } else {
                            Some(".data")
                        }
                    } else {
                        Some("unpacked")
                    };
                    if let Some(r) = want_region {
                        assert_eq!(a.config_region.as_deref(), Some(r), "{what}");
                    }
                    let host = &s.config.servers[0].host;
                    assert!(a.iocs.fqdns.contains(host), "{what}: {host} not an IOC");
                    n += 1;
                }
            }
        }
    }
    assert!(n > 100, "{n} specimens");
}

#[test]
fn layouts_are_reported() {
    let s = spec(7, 0, ConfigEncoding::Plain, Packer::None, true);
    let want = [
        (ConfigLayout::Block, "block"),
        (ConfigLayout::Globals, "globals"),
        (ConfigLayout::PointerTable, "pointer_table"),
        (ConfigLayout::NameValue, "name_value"),
    ];
    for (layout, name) in want {
        let a = analyze(&build_specimen_with(&s, layout));
        assert_eq!(a.config_layout.map(|l| l.as_str()), Some(name));
        assert!(a.config_score.unwrap() >= 12);
    }
    // A per-string encoding cannot be a block: written and read as globals.
    let x = spec(7, 0, ConfigEncoding::Rol(2), Packer::None, true);
    let a = analyze(&build_specimen_with(&x, ConfigLayout::Block));
    assert_eq!(a.config_layout.map(|l| l.as_str()), Some("globals"));
}

#[test]
fn watch_list_tiers_and_table4_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("st")).unwrap();
    let opts = AddOptions::default();
    let day = 1_114_041_600; // 2005-04-21
                             // Two bots: a plain block and a 4-byte-XOR globals config.
    let a = spec(1, 0, ConfigEncoding::Plain, Packer::None, true);
    let b = spec(2, 1, xor_key(&[0x5a, 0xc3, 0x17, 0x8e]), Packer::None, true);
    let (sha_a, _) = store
        .add(
            &build_specimen_with(&a, ConfigLayout::Block),
            day,
            Source::Sensor,
            &opts,
        )
        .unwrap();
    let (sha_b, _) = store
        .add(
            &build_specimen_with(&b, ConfigLayout::Globals),
            day,
            Source::Sensor,
            &opts,
        )
        .unwrap();
    // No config, but C&C-like names: one under a dynamic-DNS zone, one
    // under a hosting zone, one ordinary web host (not taken), and one
    // already a config server (not repeated in tier 2).
    let text = b"\x00http://update.tier2-example.dyndns.org/patch.exe\x00\
        vps7.tier2-example.linode.com\x00www.example.com\x00c2.fam1.dyndns.org\x00";
    let mut other = vec![0x90u8; 64];
    other.extend_from_slice(text);
    let (sha_c, _) = store.add(&other, day, Source::Sensor, &opts).unwrap();

    let t4 = tables::table4(&store, 10).unwrap();
    assert_eq!(
        (t4.examined, t4.bots, t4.one_fqdn, t4.several_fqdns),
        (3, 2, 1, 1)
    );
    let prov = |sha: &str| {
        let p = &t4.list.iter().find(|x| x.sha256 == sha).unwrap().provenance;
        (p.layout.clone(), p.encoding.clone())
    };
    assert_eq!(prov(&sha_a), ("block".to_string(), "plain".to_string()));
    assert_eq!(
        prov(&sha_b),
        ("globals".to_string(), "xor:5ac3178e".to_string())
    );
    assert_eq!(t4.by_provenance.get("globals/xor:5ac3178e"), Some(&1));
    assert_eq!(t4.ioc_only.len(), 1);
    assert_eq!(t4.ioc_only[0].sha256, sha_c);
    assert_eq!(
        t4.ioc_only[0].fqdns,
        vec![
            ("c2.fam1.dyndns.org".to_string(), "dynamic-dns".to_string()),
            (
                "update.tier2-example.dyndns.org".to_string(),
                "dynamic-dns".to_string()
            ),
            (
                "vps7.tier2-example.linode.com".to_string(),
                "hosting".to_string()
            ),
        ]
    );

    let w = tables::watch_list(&store, 10).unwrap();
    let names: Vec<(u8, &str)> = w.iter().map(|e| (e.tier, e.fqdn.as_str())).collect();
    assert_eq!(
        names,
        vec![
            (1, "c2.fam1.dyndns.org"),
            (1, "irc.fam1v0.example.net"),
            (1, "irc.fam2v1.example.net"),
            (2, "update.tier2-example.dyndns.org"),
            (2, "vps7.tier2-example.linode.com"),
        ]
    );
    // Globals carry only the first server.
    assert_eq!(w[2].source, vec!["globals/xor:5ac3178e".to_string()]);
    assert_eq!(w[2].specimens, vec![sha_b.clone()]);
    assert_eq!(w[0].source, vec!["block/plain".to_string()]);
    assert_eq!(w[3].source, vec!["dynamic-dns".to_string()]);
    assert_eq!(w[3].specimens, vec![sha_c.clone()]);
    // Tier 1 alone is the old export.
    assert_eq!(
        tables::bot_fqdns(&store, 10).unwrap(),
        w.iter()
            .filter(|e| e.tier == 1)
            .map(|e| e.fqdn.clone())
            .collect::<Vec<_>>()
    );
    // The file: names first on their lines, provenance in comments.
    let file = tables::watch_list_text(&w, 10);
    let names_only: Vec<&str> = file
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        names_only,
        w.iter().map(|e| e.fqdn.as_str()).collect::<Vec<_>>()
    );
    assert!(file.contains("# tier 2: C&C-like indicators"));
    assert!(file.contains(&format!(
        "update.tier2-example.dyndns.org\t# tier 2 dynamic-dns {}",
        &sha_c[..12]
    )));
}

#[test]
fn cc_like_categories() {
    assert_eq!(
        tables::cc_like_category("a.b.dyndns.org"),
        Some("dynamic-dns")
    );
    assert_eq!(tables::cc_like_category("dyndns.org"), None);
    assert_eq!(tables::cc_like_category("notdyndns.org"), None);
    assert_eq!(tables::cc_like_category("x.linode.com"), Some("hosting"));
    assert_eq!(tables::cc_like_category("www.example.com"), None);
}

#[test]
fn gen_collection_matches_its_truth() {
    // `botscope specimen gen`'s items: every layout, packers and encodings
    // rotating; the truth it writes is expected_config / expected_encoding.
    let mut layouts = std::collections::BTreeSet::new();
    for i in 0..120u32 {
        let (s, layout) = botscope_synth::specimen::collection::synthetic_item(i);
        let a = analyze(&build_specimen_with(&s, layout));
        assert_eq!(
            a.config.as_ref(),
            Some(&expected_config(&s, layout)),
            "item {i} {layout:?} {:?}: {:?}",
            s.encoding,
            a.config_evidence
        );
        assert_eq!(
            a.config_encoding.as_ref().map(|e| e.label()),
            Some(label(expected_encoding(&s, layout))),
            "item {i}"
        );
        layouts.insert(
            format!("{layout:?}/{}", label(expected_encoding(&s, layout)))
                .split(':')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    assert!(layouts.len() >= 9, "{layouts:?}");
}
