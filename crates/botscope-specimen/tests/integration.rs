//! Integration tests of botscope-specimen: one binary, one module per area.

mod common {
    use botscope_synth::specimen::{BotConfig, BotServer, ConfigEncoding, Packer, SpecimenSpec};

    pub fn server(h: &str, p: u16) -> BotServer {
        BotServer {
            host: h.into(),
            port: p,
        }
    }

    pub fn spec(
        servers: Vec<BotServer>,
        encoding: ConfigEncoding,
        packer: Packer,
        family: u32,
        variant: u32,
    ) -> SpecimenSpec {
        SpecimenSpec {
            config: BotConfig {
                servers,
                channel: format!("#chan{family}x{variant}"),
                key: if variant.is_multiple_of(2) {
                    Some(format!("k{variant}y"))
                } else {
                    None
                },
                nick_prefix: format!("[{family}]USA|"),
            },
            encoding,
            packer,
            family,
            variant,
            seed: u64::from(family) * 1000 + u64::from(variant),
        }
    }

    /// Runs a command, failing the test (not skipping) when it is missing.
    pub fn run(cmd: &str, args: &[&str]) -> std::process::Output {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{cmd} must be installed (scripts/setup.sh): {e}"))
    }
}

mod nrv {
    use botscope_specimen::nrv::{adler32, decompress, Method, NrvError};
    use botscope_synth::specimen::nrv::{self as synth_nrv, compress, NrvMethod};

    fn inputs() -> Vec<Vec<u8>> {
        let mut v = vec![
            Vec::new(),
            b"a".to_vec(),
            b"abababababababababab".to_vec(),
            vec![0u8; 70_000],
        ];
        let mut x: u64 = 7;
        let mut rnd = Vec::new();
        for _ in 0..50_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rnd.push((x >> 56) as u8);
        }
        // Text-like data with far repeats (offsets past 0xd00 and 0x500).
        let mut text = Vec::new();
        for i in 0..4000 {
            text.extend_from_slice(
                format!("PRIVMSG #chan{} :hello {}\r\n", i % 37, i % 101).as_bytes(),
            );
        }
        let mut far = rnd[..8000].to_vec();
        far.extend_from_slice(&rnd[..8000]);
        v.push(rnd);
        v.push(text);
        v.push(far);
        v
    }

    #[test]
    fn round_trip_all_methods() {
        for (m, dm) in [
            (NrvMethod::B, Method::Nrv2b),
            (NrvMethod::D, Method::Nrv2d),
            (NrvMethod::E, Method::Nrv2e),
        ] {
            for inp in inputs() {
                let c = compress(&inp, m);
                let (out, used) = decompress(&c, dm, inp.len()).expect("decompresses");
                assert_eq!(out, inp, "{m:?} len {}", inp.len());
                assert_eq!(used, c.len(), "{m:?} consumes the whole stream");
            }
        }
        // Repetitive input must actually compress (matches were used).
        let zeros = vec![0u8; 70_000];
        assert!(compress(&zeros, NrvMethod::E).len() < 1000);
    }

    #[test]
    fn bounded_and_never_panics_on_damage() {
        let inp = inputs().pop().unwrap();
        for (m, dm) in [
            (NrvMethod::B, Method::Nrv2b),
            (NrvMethod::D, Method::Nrv2d),
            (NrvMethod::E, Method::Nrv2e),
        ] {
            let c = compress(&inp, m);
            // Output bound below the real size: refused, not overrun.
            assert_eq!(
                decompress(&c, dm, inp.len() - 1).unwrap_err(),
                NrvError::TooLarge(inp.len() - 1)
            );
            // Truncated streams end in an error.
            for cut in [0, 1, 4, c.len() / 2, c.len() - 1] {
                assert!(
                    decompress(&c[..cut], dm, inp.len()).is_err(),
                    "{m:?} cut {cut}"
                );
            }
            // Flipped bytes: any outcome but a panic or an oversize output.
            for i in (0..c.len()).step_by(97) {
                let mut d = c.clone();
                d[i] ^= 0x5a;
                if let Ok((o, _)) = decompress(&d, dm, inp.len()) {
                    assert!(o.len() <= inp.len());
                }
            }
        }
        // A match before the start of the output.
        let bad = [0x00, 0x00, 0x00, 0x40, 0x10];
        assert!(matches!(
            decompress(&bad, Method::Nrv2b, 100),
            Err(NrvError::BadOffset { .. }) | Err(NrvError::Truncated(_))
        ));
    }

    #[test]
    fn adler32_matches_the_generator_and_known_value() {
        // Known value from RFC 1950's definition: adler32("Wikipedia") = 0x11E60398.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(synth_nrv::adler32(b"Wikipedia"), 0x11E6_0398);
    }
}

mod extraction {
    use super::common::*;
    use botscope_specimen::strings::FoundEncoding;
    use botscope_specimen::{analyze, nrv::Method};
    use botscope_synth::specimen::{build_specimen, ConfigEncoding, Packer};

    fn check(spec: &botscope_synth::specimen::SpecimenSpec) -> botscope_specimen::Analysis {
        let bytes = build_specimen(spec);
        let a = analyze(&bytes);
        assert!(a.pe_reject.is_none(), "{:?}", a.pe_reject);
        assert_eq!(a.config.as_ref(), Some(&spec.config), "config of {spec:?}");
        for s in &spec.config.servers {
            if botscope_specimen::ioc::parse_ipv4(&s.host).is_some() {
                assert!(a.iocs.ipv4.contains(&s.host));
            } else {
                assert!(
                    a.iocs.fqdns.contains(&s.host),
                    "{} in {:?}",
                    s.host,
                    a.iocs.fqdns
                );
            }
        }
        a
    }

    #[test]
    fn plain_xor_utf16() {
        let servers = vec![server("irc.badnet.example.com", 6667)];
        let a = check(&spec(
            servers.clone(),
            ConfigEncoding::Plain,
            Packer::None,
            1,
            0,
        ));
        assert_eq!(a.config_encoding, Some(FoundEncoding::Plain));
        assert_eq!(a.config_region.as_deref(), Some(".data"));
        let a = check(&spec(
            servers.clone(),
            ConfigEncoding::Xor(0x5c),
            Packer::None,
            1,
            1,
        ));
        assert_eq!(a.config_encoding, Some(FoundEncoding::Xor(0x5c)));
        let a = check(&spec(
            servers.clone(),
            ConfigEncoding::Xor(0xA7),
            Packer::None,
            2,
            3,
        ));
        assert_eq!(a.config_encoding, Some(FoundEncoding::Xor(0xA7)));
        let a = check(&spec(servers, ConfigEncoding::Utf16, Packer::None, 1, 2));
        assert_eq!(a.config_encoding, Some(FoundEncoding::Utf16));
        assert!(a.pe.as_ref().unwrap().packer.is_none());
    }

    #[test]
    fn each_upx_method() {
        for (p, m) in [
            (Packer::Nrv2b, Method::Nrv2b),
            (Packer::Nrv2d, Method::Nrv2d),
            (Packer::Nrv2e, Method::Nrv2e),
        ] {
            for enc in [
                ConfigEncoding::Plain,
                ConfigEncoding::Xor(0x33),
                ConfigEncoding::Utf16,
            ] {
                let s = spec(vec![server("bots.dyndns.org", 5562)], enc, p, 3, 4);
                let a = check(&s);
                let pe = a.pe.as_ref().unwrap();
                let packer = pe.packer.as_ref().expect("packer detected");
                assert_eq!(packer.name, "UPX");
                assert_eq!(packer.method, Some(m));
                assert!(packer.unpack_error.is_none(), "{:?}", packer.unpack_error);
                assert_eq!(a.config_region.as_deref(), Some("unpacked"));
                assert_eq!(
                    pe.sections
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>(),
                    ["UPX0", "UPX1", ".rsrc"]
                );
                let image = packer.unpacked_size.expect("unpacked");
                // UPX0's virtual size covers the unpacked image.
                assert!(image > 0 && image <= u64::from(pe.sections[0].virtual_size));
            }
        }
    }

    #[test]
    fn multi_server_with_ip() {
        let servers = vec![
            server("irc.one.example.net", 6667),
            server("10.9.8.7", 65348),
            server("c2.two.example.org", 5122),
            server("dl.three.co.uk", 31337),
        ];
        for (enc, p) in [
            (ConfigEncoding::Plain, Packer::None),
            (ConfigEncoding::Xor(1), Packer::Nrv2e),
            (ConfigEncoding::Utf16, Packer::Nrv2d),
        ] {
            check(&spec(servers.clone(), enc, p, 5, 6));
        }
    }

    #[test]
    fn pe_facts_from_goblin_and_own_walk() {
        let s = spec(
            vec![server("irc.x.example.com", 6667)],
            ConfigEncoding::Plain,
            Packer::None,
            2,
            5,
        );
        let bytes = build_specimen(&s);
        let g = goblin::pe::PE::parse(&bytes).expect("goblin parses the specimen");
        let a = analyze(&bytes);
        let pe = a.pe.unwrap();
        assert_eq!(pe.timestamp, g.header.coff_header.time_date_stamp);
        assert_eq!(pe.timestamp, 1_104_537_600 + 2 * 3 * 86_400 + 5 * 3_600);
        assert_eq!(u64::from(pe.entry), g.entry as u64);
        assert_eq!(pe.sections.len(), g.sections.len());
        // The imports are exactly the family's list.
        let want: Vec<(String, String)> = botscope_synth::specimen::family_imports(2)
            .into_iter()
            .flat_map(|(d, fs)| fs.into_iter().map(move |f| (d.to_string(), f.to_string())))
            .collect();
        let got: Vec<(String, String)> = pe
            .imports
            .iter()
            .map(|i| (i.dll.clone(), i.name.clone()))
            .collect();
        assert_eq!(got, want);
        assert!(pe.overlay.is_none());
        // The entry point is one `ret`.
        let text = &pe.sections[0];
        assert_eq!(
            bytes[(text.raw_offset + pe.entry - text.virtual_address) as usize],
            0xC3
        );
        let mut with_overlay = bytes.clone();
        botscope_synth::specimen::append_overlay(&mut with_overlay, 5000, 1);
        let o = analyze(&with_overlay).pe.unwrap().overlay;
        assert_eq!(o, Some((bytes.len() as u64, 5000)));
    }

    /// pefile (the reference Python PE parser) agrees on imphash, sections
    /// and timestamp.
    #[test]
    fn pefile_agrees() {
        let probe = run("python3", &["-c", "import pefile"]);
        if !probe.status.success() {
            let _ = run("python3", &["-m", "pip", "install", "--quiet", "pefile"]);
        }
        let dir = tempfile::tempdir().unwrap();
        let mut ours = Vec::new();
        for (i, p) in [Packer::None, Packer::Nrv2b, Packer::Nrv2e]
            .into_iter()
            .enumerate()
        {
            let s = spec(
                vec![server("irc.pf.example.com", 6667)],
                ConfigEncoding::Plain,
                p,
                7 + i as u32,
                1,
            );
            let bytes = build_specimen(&s);
            let path = dir.path().join(format!("s{i}"));
            std::fs::write(&path, &bytes).unwrap();
            let pe = analyze(&bytes).pe.unwrap();
            let names: Vec<String> = pe.sections.iter().map(|s| s.name.clone()).collect();
            ours.push((path, pe.imphash.unwrap(), names.join(","), pe.timestamp));
        }
        for (path, imphash, names, ts) in ours {
            let script = "import pefile,sys\npe=pefile.PE(sys.argv[1])\nprint(pe.get_imphash())\nprint(','.join(s.Name.rstrip(b'\\0').decode() for s in pe.sections))\nprint(pe.FILE_HEADER.TimeDateStamp)";
            let out = run("python3", &["-c", script, path.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "pefile failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(
                lines,
                [imphash.as_str(), names.as_str(), ts.to_string().as_str()]
            );
        }
    }
}

mod hostile {
    use super::common::*;
    use botscope_specimen::{analyze, pe};
    use botscope_synth::specimen::{build_specimen, ConfigEncoding, Packer};

    fn base(p: Packer) -> Vec<u8> {
        build_specimen(&spec(
            vec![server("irc.h.example.com", 6667)],
            ConfigEncoding::Plain,
            p,
            1,
            1,
        ))
    }

    #[test]
    fn truncated_headers_have_reasons() {
        let b = base(Packer::None);
        assert_eq!(
            pe::analyze(&b[..0x30]).unwrap_err().reason,
            "truncated DOS header"
        );
        assert_eq!(
            pe::analyze(&b[..0x84]).unwrap_err().reason,
            "PE header past end of file"
        );
        assert_eq!(
            pe::analyze(&b[..0xA0]).unwrap_err().reason,
            "truncated optional header"
        );
        // Cut inside the section table (it starts at 0x80 + 24 + 0xE0 = 0x178).
        let e = pe::analyze(&b[..0x180]).unwrap_err();
        assert_eq!(
            (e.reason, e.offset),
            ("section table past end of file", 0x178)
        );
        // Prefixes: an error or a result, never a panic (every cut in the
        // headers, then a sample through the sections).
        for cut in (0..0x400).chain((0x400..b.len()).step_by(61)) {
            let _ = analyze(&b[..cut]);
        }
        let a = analyze(&b[..0x180]);
        assert_eq!(
            a.pe_reject.as_deref(),
            Some("section table past end of file at offset 376")
        );
        assert!(a.config.is_none());
    }

    #[test]
    fn section_data_past_end_and_huge_sizes() {
        let mut b = base(Packer::None);
        // .data's PointerToRawData far past the end: warned, analysis continues.
        let sec2 = 0x178 + 2 * 40;
        b[sec2 + 20..sec2 + 24].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        let p = pe::analyze(&b).unwrap();
        assert!(
            p.warnings
                .contains(&"section .data raw data past end of file".to_string()),
            "{:?}",
            p.warnings
        );

        let mut b = base(Packer::None);
        b[0x80 + 24 + 56..0x80 + 24 + 60].copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
        assert_eq!(
            pe::analyze(&b).unwrap_err().reason,
            "declared image size too large"
        );

        let mut b = base(Packer::None);
        b[0x178 + 8..0x178 + 12].copy_from_slice(&0xF000_0000u32.to_le_bytes());
        assert_eq!(
            pe::analyze(&b).unwrap_err().reason,
            "declared section size too large"
        );

        let mut b = base(Packer::None);
        b[0x86..0x88].copy_from_slice(&60_000u16.to_le_bytes());
        assert_eq!(
            pe::analyze(&b).unwrap_err().reason,
            "implausible number of sections"
        );
    }

    #[test]
    fn lying_upx_header_is_marked() {
        let b = base(Packer::Nrv2b);
        let at = memchr::memmem::find(&b, b"UPX!").unwrap();
        // u_len claims 200 MB.
        let mut big = b.clone();
        big[at + 16..at + 20].copy_from_slice(&200_000_000u32.to_le_bytes());
        let a = analyze(&big);
        let err = a.pe.unwrap().packer.unwrap().unpack_error.unwrap();
        assert_eq!(err, "declared unpacked size 200000000 too large");
        // Corrupt compressed data: the checksum catches it.
        let mut bad = b.clone();
        let upx1 = pe::analyze(&b).unwrap().sections[1].raw_offset as usize;
        bad[upx1 + 40] ^= 0xff;
        let err = analyze(&bad)
            .pe
            .unwrap()
            .packer
            .unwrap()
            .unpack_error
            .unwrap();
        assert_eq!(err, "packed data checksum mismatch");
        // Unknown method.
        let mut m = b.clone();
        m[at + 6] = 99;
        assert_eq!(
            analyze(&m)
                .pe
                .unwrap()
                .packer
                .unwrap()
                .unpack_error
                .unwrap(),
            "unsupported UPX method 99"
        );
    }
}

mod store {
    use super::common::*;
    use botscope_specimen::ingest::{add_path, AddReport, Limits};
    use botscope_specimen::store::{AddOptions, Source, Store};
    use botscope_synth::specimen::{build_specimen, ConfigEncoding, Packer};
    use std::os::unix::fs::PermissionsExt;

    fn sample(v: u32) -> Vec<u8> {
        build_specimen(&spec(
            vec![server("irc.s.example.com", 6667)],
            ConfigEncoding::Plain,
            Packer::None,
            4,
            v,
        ))
    }

    #[test]
    fn content_addressed_read_only_with_peer_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bot.exe");
        std::fs::write(&src, sample(1)).unwrap();
        let mut store = Store::open(&dir.path().join("st")).unwrap();
        let mut rep = AddReport::default();
        add_path(
            &mut store,
            &src,
            1_114_000_000,
            Source::Manual,
            &Limits::default(),
            &AddOptions::default(),
            &mut rep,
        )
        .unwrap();
        add_path(
            &mut store,
            &src,
            1_114_100_000,
            Source::Sensor,
            &Limits::default(),
            &AddOptions::default(),
            &mut rep,
        )
        .unwrap();
        assert_eq!((rep.new, rep.seen_again), (1, 1));
        let sha = rep.added[0].clone();
        let peer = |cmd: &str| {
            String::from_utf8(run(cmd, &[src.to_str().unwrap()]).stdout).unwrap()[..]
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        };
        let row = store.get(&sha).unwrap().unwrap();
        assert_eq!(row.hashes.sha256, peer("sha256sum"));
        assert_eq!(row.hashes.md5, peer("md5sum"));
        assert_eq!(row.hashes.sha1, peer("sha1sum"));
        assert_eq!(
            (row.first_seen, row.last_seen, row.sightings),
            (1_114_000_000, 1_114_100_000, 2)
        );
        assert_eq!(row.source, "manual");
        assert_eq!(row.file_type, "PE32");
        let q = dir.path().join("st/quarantine").join(&sha[..2]).join(&sha);
        let mode = std::fs::metadata(&q).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444);
        assert_eq!(std::fs::read(&q).unwrap(), sample(1));
        assert_eq!(
            store.resolve(&row.hashes.md5[..8]).unwrap(),
            Some(sha.clone())
        );
    }

    #[test]
    fn duplicates_in_one_add_are_stored_once_and_all_sighted() {
        // One specimen 20 times among 10 others, two workers: it is
        // inserted once and sighted 20 times, and `added` keeps walk order.
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in");
        std::fs::create_dir(&src).unwrap();
        let mut want = Vec::new();
        for i in 0..30u32 {
            let bytes = if i % 3 == 0 || i > 20 {
                sample(7)
            } else {
                sample(200 + i)
            };
            want.push(botscope_specimen::analysis::hashes(&bytes).sha256);
            std::fs::write(src.join(format!("{i:03}.exe")), bytes).unwrap();
        }
        let dup = botscope_specimen::analysis::hashes(&sample(7)).sha256;
        let n_dup = want.iter().filter(|s| **s == dup).count() as u64;
        let mut store = Store::open(&dir.path().join("st")).unwrap();
        let mut rep = AddReport::default();
        let cfg = botscope_specimen::ingest::AddConfig {
            seen: 1_114_000_000,
            source: Source::Sensor,
            limits: &Limits::default(),
            opts: &AddOptions::default(),
            threads: 2,
            progress: None,
        };
        botscope_specimen::ingest::add_paths(&mut store, &[src], &cfg, &mut rep).unwrap();
        assert_eq!(rep.added, want);
        assert_eq!((rep.new, rep.seen_again), (30 - n_dup + 1, n_dup - 1));
        let rows = store.all().unwrap();
        assert_eq!(rows.len() as u64, 30 - n_dup + 1);
        assert_eq!(rows[0].hashes.sha256, dup);
        assert_eq!(rows[0].sightings, n_dup);
        let orphans: i64 = store
            .db()
            .query_row(
                "SELECT COUNT(*) FROM sightings g WHERE NOT EXISTS (SELECT 1 FROM specimens s WHERE s.sha256 = g.sha256)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
    }

    #[test]
    fn failing_quarantine_stops_the_pipeline_with_the_error() {
        // Every quarantine folder name taken by a file: each write fails,
        // even for root. More files than the channels hold, so a walker
        // left blocked would hang the add.
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in");
        std::fs::create_dir(&src).unwrap();
        for v in 0..64 {
            std::fs::write(src.join(format!("{v:03}.exe")), sample(100 + v)).unwrap();
        }
        let mut store = Store::open(&dir.path().join("st")).unwrap();
        for b in 0..=255u8 {
            std::fs::write(dir.path().join(format!("st/quarantine/{b:02x}")), b"x").unwrap();
        }
        let mut rep = AddReport::default();
        let err = add_path(
            &mut store,
            &src,
            1_114_000_000,
            Source::Manual,
            &Limits::default(),
            &AddOptions::default(),
            &mut rep,
        )
        .unwrap_err();
        assert!(err.to_string().contains("/st/quarantine/"), "{err}");
        assert_eq!((rep.new, rep.seen_again), (0, 0));
        assert!(store.all().unwrap().is_empty());
    }

    #[test]
    fn zip_infected_password_and_bombs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.exe"), sample(2)).unwrap();
        std::fs::write(d.join("b.exe"), sample(3)).unwrap();
        // Real zip tool, ZipCrypto with the "infected" convention.
        let out = run(
            "zip",
            &[
                "-q",
                "-j",
                "-P",
                "infected",
                d.join("enc.zip").to_str().unwrap(),
                d.join("a.exe").to_str().unwrap(),
                d.join("b.exe").to_str().unwrap(),
            ],
        );
        assert!(out.status.success());
        let out = run(
            "zip",
            &[
                "-q",
                "-j",
                "-P",
                "other",
                d.join("wrong.zip").to_str().unwrap(),
                d.join("a.exe").to_str().unwrap(),
            ],
        );
        assert!(out.status.success());
        // A bomb: 300 MB of zeros deflates to a few hundred KB.
        let zeros = d.join("zeros.bin");
        let f = std::fs::File::create(&zeros).unwrap();
        f.set_len(300 << 20).unwrap();
        let out = run(
            "zip",
            &[
                "-q",
                "-j",
                d.join("bomb.zip").to_str().unwrap(),
                zeros.to_str().unwrap(),
            ],
        );
        assert!(out.status.success());
        std::fs::remove_file(&zeros).unwrap();

        let mut store = Store::open(&d.join("st")).unwrap();
        let lim = Limits::default();
        let mut rep = AddReport::default();
        for z in ["enc.zip", "wrong.zip", "bomb.zip"] {
            add_path(
                &mut store,
                &d.join(z),
                1_114_000_000,
                Source::Manual,
                &lim,
                &AddOptions::default(),
                &mut rep,
            )
            .unwrap();
        }
        assert_eq!(rep.new, 2);
        let hashes: Vec<String> = [sample(2), sample(3)]
            .iter()
            .map(|b| botscope_specimen::analysis::hashes(b).sha256)
            .collect();
        assert_eq!(rep.added, hashes);
        let reasons: Vec<&String> = rep.rejected.by_reason.keys().collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons.contains(&&"zip entry exceeds the per-entry size cap".to_string()),
            "{reasons:?}"
        );
        // ZipCrypto's one check byte lets a wrong password through 1 time in
        // 256; the entry's CRC then fails instead.
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("cannot decrypt entry")
                    || r.starts_with("zip entry unreadable")),
            "{reasons:?}"
        );
        let bomb_place = &rep.rejected.by_reason["zip entry exceeds the per-entry size cap"].1[0];
        assert!(
            bomb_place.ends_with("bomb.zip!zeros.bin offset 0"),
            "{bomb_place}"
        );
        // With a larger entry cap the ratio check still stops it.
        let lim2 = Limits {
            max_entry: 1 << 30,
            max_archive_total: 1 << 30,
            ..Limits::default()
        };
        let mut rep2 = AddReport::default();
        add_path(
            &mut store,
            &d.join("bomb.zip"),
            0,
            Source::Manual,
            &lim2,
            &AddOptions::default(),
            &mut rep2,
        )
        .unwrap();
        assert_eq!(
            rep2.rejected.by_reason.keys().next().unwrap(),
            "zip entry compression ratio too high (zip bomb)"
        );
        assert_eq!(rep2.new, 0);
    }

    /// A second process adding to a store: this test binary re-run with only
    /// the ignored `store_add_in_child` selected (a helper binary would be a
    /// second `[[bin]]` that `cargo run` trips over).
    fn helper() -> std::process::Command {
        let mut c = std::process::Command::new(std::env::current_exe().unwrap());
        c.args([
            "--ignored",
            "--exact",
            "store::store_add_in_child",
            "--nocapture",
            "--test-threads=1",
        ]);
        c
    }

    /// Run only as the child of `helper()`: adds the files named in
    /// `BOTSCOPE_CHILD_ARGS` (STORE, SEEN, PAUSE_MS, FILE... one a line),
    /// pausing between the synced temp file and its rename so a test can kill
    /// it there, then exits the process with the outcome.
    #[test]
    #[ignore = "child process of the two-process store tests"]
    fn store_add_in_child() {
        let Ok(args) = std::env::var("BOTSCOPE_CHILD_ARGS") else {
            return;
        };
        let args: Vec<&str> = args.lines().collect();
        let seen: i64 = args[1].parse().unwrap();
        let pause: u64 = args[2].parse().unwrap();
        let mut store = Store::open(std::path::Path::new(args[0])).unwrap();
        let opts = AddOptions {
            pause_before_rename: (pause > 0).then(|| std::time::Duration::from_millis(pause)),
        };
        for f in &args[3..] {
            let data = std::fs::read(f).unwrap();
            if let Err(e) = store.add(&data, seen, Source::Sensor, &opts) {
                eprintln!("{f}: {e}");
                std::process::exit(1);
            }
        }
        std::process::exit(0);
    }

    /// `helper()` set to add `files` to `store`.
    fn child_add(
        store: &std::path::Path,
        seen: &str,
        pause_ms: &str,
        files: &[String],
    ) -> std::process::Command {
        let mut lines = vec![
            store.to_str().unwrap().to_string(),
            seen.into(),
            pause_ms.into(),
        ];
        lines.extend(files.iter().cloned());
        let mut c = helper();
        // The child's own test-harness lines would interleave with ours.
        c.env("BOTSCOPE_CHILD_ARGS", lines.join("\n"))
            .stdout(std::process::Stdio::null());
        c
    }

    #[test]
    fn two_processes_add_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let st = dir.path().join("st");
        let mut files = Vec::new();
        for v in 0..12 {
            let p = dir.path().join(format!("f{v}"));
            std::fs::write(&p, sample(10 + v)).unwrap();
            files.push(p.to_str().unwrap().to_string());
        }
        // Both processes add all twelve (same files, so every specimen is
        // raced) at the same time.
        let spawn = || child_add(&st, "1114000000", "0", &files).spawn().unwrap();
        let (mut a, mut b) = (spawn(), spawn());
        assert!(a.wait().unwrap().success());
        assert!(b.wait().unwrap().success());
        let store = Store::open(&st).unwrap();
        let rows = store.all().unwrap();
        assert_eq!(rows.len(), 12);
        assert!(
            rows.iter().all(|r| r.sightings == 2),
            "each specimen sighted once per process"
        );
        for r in rows {
            assert_eq!(
                botscope_specimen::analysis::hashes(&store.read(&r.hashes.sha256).unwrap()).sha256,
                r.hashes.sha256
            );
        }
    }

    #[test]
    fn killed_mid_add_leaves_consistent_store() {
        let dir = tempfile::tempdir().unwrap();
        let st = dir.path().join("st");
        let f = dir.path().join("f");
        std::fs::write(&f, sample(40)).unwrap();
        let mut child = child_add(
            &st,
            "1114000000",
            "20000",
            &[f.to_str().unwrap().to_string()],
        )
        .spawn()
        .unwrap();
        // Wait until the synced temp file exists, then kill before the rename.
        let sha = botscope_specimen::analysis::hashes(&sample(40)).sha256;
        let qdir = st.join("quarantine").join(&sha[..2]);
        let t0 = std::time::Instant::now();
        loop {
            let temps = std::fs::read_dir(&qdir)
                .map(|r| r.filter_map(|e| e.ok()).count())
                .unwrap_or(0);
            if temps > 0 {
                break;
            }
            assert!(
                t0.elapsed().as_secs() < 60,
                "child never wrote its temp file"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let mut store = Store::open(&st).unwrap();
        assert!(
            store.get(&sha).unwrap().is_none(),
            "no row for an unfinished add"
        );
        assert!(!qdir.join(&sha).exists(), "no file under the final name");
        // The next add completes normally.
        let (got, new) = store
            .add(
                &sample(40),
                1_114_000_000,
                Source::Manual,
                &AddOptions::default(),
            )
            .unwrap();
        assert_eq!((got.as_str(), new), (sha.as_str(), true));
        assert_eq!(store.read(&sha).unwrap(), sample(40));
    }
}

// The Table 2 test needs YARA-X; without it the fixture is unused.
#[cfg_attr(not(feature = "yara"), allow(dead_code, unused_imports))]
mod tables {
    use super::common::*;
    use botscope_specimen::ingest::{add_path, AddReport, Limits};
    use botscope_specimen::sigs::{add_set, scan_all, SetKind};
    use botscope_specimen::store::{AddOptions, Source, Store};
    use botscope_specimen::{analysis::hashes, tables};
    use botscope_synth::specimen::{build_specimen, ConfigEncoding, Packer, SpecimenSpec};
    use std::collections::BTreeSet;

    const DAY0: i64 = 1_114_041_600; // 2005-04-21T00:00:00Z

    struct Item {
        spec: SpecimenSpec,
        bytes: Vec<u8>,
        sha: String,
        md5: String,
        sightings: Vec<i64>,
    }

    fn collection() -> Vec<Item> {
        let mut out = Vec::new();
        for family in 1..=6u32 {
            for variant in 0..4u32 {
                let i = (family * 4 + variant) as i64;
                let packer = [
                    Packer::None,
                    Packer::Nrv2b,
                    Packer::None,
                    Packer::Nrv2d,
                    Packer::None,
                    Packer::Nrv2e,
                ][family as usize - 1];
                let encoding = [
                    ConfigEncoding::Plain,
                    ConfigEncoding::Xor(0x41 + family as u8),
                    ConfigEncoding::Utf16,
                ][(variant % 3) as usize];
                let mut servers = vec![server(
                    &format!("irc{variant}.fam{family}.example.com"),
                    6667,
                )];
                if variant == 1 {
                    servers.push(server(&format!("backup.fam{family}.dyndns.org"), 5562));
                }
                if variant == 2 {
                    servers.push(server("192.0.2.7", 4150));
                }
                if variant == 3 && family.is_multiple_of(2) {
                    servers.push(server(
                        &format!("irc{variant}.fam{family}.example.com"),
                        6668,
                    ));
                    servers.push(server(&format!("x.fam{family}.no-ip.info"), 31337));
                }
                let spec = spec(servers, encoding, packer, family, variant);
                let bytes = build_specimen(&spec);
                let h = hashes(&bytes);
                // Sightings: 1..=5 per specimen, on days spread over 30 days
                // (some outside the 22-day Table 2 period).
                let n = (i * 7 % 5) + 1;
                let sightings = (0..n)
                    .map(|k| DAY0 + ((i * 3 + k * 5) % 30) * 86_400 + 3600)
                    .collect();
                out.push(Item {
                    spec,
                    bytes,
                    sha: h.sha256,
                    md5: h.md5,
                    sightings,
                });
            }
        }
        out
    }

    #[test]
    #[cfg(feature = "yara")]
    fn tables_2_and_4_with_a_set_update() {
        let items = collection();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("st")).unwrap();
        for (k, it) in items.iter().enumerate() {
            let p = dir.path().join(format!("s{k}.exe"));
            std::fs::write(&p, &it.bytes).unwrap();
            for &t in &it.sightings {
                let mut rep = AddReport::default();
                add_path(
                    &mut store,
                    &p,
                    t,
                    Source::Sensor,
                    &Limits::default(),
                    &AddOptions::default(),
                    &mut rep,
                )
                .unwrap();
                assert_eq!(rep.added, std::slice::from_ref(&it.sha));
            }
        }
        // Set v1 (day 5): SHA-256 list of families 1-2, ClamAV .hdb MD5 of family 3.
        let mut v1 = String::from("# test list\n");
        for it in items.iter().filter(|it| it.spec.family <= 2) {
            v1.push_str(&format!("{}\n", it.sha));
        }
        for it in items.iter().filter(|it| it.spec.family == 3) {
            v1.push_str(&format!(
                "{}:{}:Bot.Fam3-{}\n",
                it.md5,
                it.bytes.len(),
                it.spec.variant
            ));
        }
        add_set(
            &store,
            "av",
            "2005.04.26",
            SetKind::Hashes,
            DAY0 + 5 * 86_400,
            &v1,
        )
        .unwrap();
        let t1 = DAY0 + 5 * 86_400 + 7200;
        scan_all(&mut store, None, t1).unwrap();
        // Update (day 12): v2 adds YARA rules: packed IRC bots (pe module) and
        // UTF-16 command templates.
        let rules = r#"
import "pe"
rule packed_irc { condition: pe.number_of_sections == 3 and pe.sections[0].name == "UPX0" and pe.imports("ws2_32.dll") > 0 }
rule wide_irc { strings: $a = "PRIVMSG %s :%s" wide condition: $a }
"#;
        add_set(
            &store,
            "yara",
            "2",
            SetKind::Yara,
            DAY0 + 12 * 86_400,
            rules,
        )
        .unwrap();
        let t2 = DAY0 + 12 * 86_400 + 7200;
        scan_all(&mut store, None, t2).unwrap();

        // Truth from the specs alone.
        let known_v1 = |it: &Item| it.spec.family <= 3;
        let known_v2 = |it: &Item| {
            known_v1(it)
                || it.spec.packer != Packer::None
                || it.spec.encoding == ConfigEncoding::Utf16
        };
        let (from, to) = ("2005-04-21", "2005-05-12");
        let (a, b) = (DAY0, DAY0 + 21 * 86_400 + 86_399);
        let truth = |known: &dyn Fn(&Item) -> bool| {
            let (mut kd, mut kk, mut ud, mut uk) = (0u64, 0u64, 0u64, 0u64);
            for it in &items {
                let n = it.sightings.iter().filter(|&&t| t >= a && t <= b).count() as u64;
                if n == 0 {
                    continue;
                }
                if known(it) {
                    kd += n;
                    kk += 1;
                } else {
                    ud += n;
                    uk += 1;
                }
            }
            (kd, kk, ud, uk)
        };
        type KnownAt<'a> = (i64, &'a dyn Fn(&Item) -> bool);
        let cases: [KnownAt; 2] = [(t1, &known_v1), (i64::MAX, &known_v2)];
        for (as_of, known) in cases {
            let t = tables::table2(&store, from, to, as_of).unwrap();
            let (kd, kk, ud, uk) = truth(known);
            assert_eq!(t.days, 22);
            assert_eq!(
                (
                    t.known.detections,
                    t.known.kinds,
                    t.unknown.detections,
                    t.unknown.kinds
                ),
                (kd, kk, ud, uk),
                "as of {as_of}"
            );
            assert_eq!((t.total.detections, t.total.kinds), (kd + ud, kk + uk));
            assert_eq!(
                t.total.detections_per_day,
                ((kd + ud) as f64 / 22.0 * 10.0).round() / 10.0
            );
            assert!(uk > 0 && kk > 0, "the fixture covers both classes");
        }
        // Time-to-known: v2's newly known specimens became known at t2.
        let ttk = tables::time_to_known(&store, i64::MAX).unwrap();
        for it in &items {
            let r = ttk.iter().find(|r| r.sha256 == it.sha).unwrap();
            let first = *it.sightings.iter().min().unwrap();
            let want = if known_v1(it) {
                Some(t1)
            } else if known_v2(it) {
                Some(t2)
            } else {
                None
            };
            assert_eq!(r.known_at, want, "{:?}", it.spec);
            assert_eq!(r.seconds, want.map(|w| (w - first).max(0)));
        }

        // Table 4 over the top 10 by sightings (ties by SHA-256).
        let mut order: Vec<&Item> = items.iter().collect();
        order.sort_by(|x, y| {
            y.sightings
                .len()
                .cmp(&x.sightings.len())
                .then(x.sha.cmp(&y.sha))
        });
        let top: Vec<&Item> = order.into_iter().take(10).collect();
        let fqdn_count = |it: &Item| {
            it.spec
                .config
                .servers
                .iter()
                .filter(|s| botscope_specimen::ioc::parse_ipv4(&s.host).is_none())
                .map(|s| s.host.clone())
                .collect::<BTreeSet<_>>()
                .len()
        };
        let t4 = tables::table4(&store, 10).unwrap();
        assert_eq!(t4.bots, 10);
        assert_eq!(
            t4.several_fqdns,
            top.iter().filter(|it| fqdn_count(it) > 1).count() as u64
        );
        assert_eq!(
            t4.one_fqdn,
            top.iter().filter(|it| fqdn_count(it) == 1).count() as u64
        );
        assert_eq!(
            t4.list.iter().map(|b| b.sha256.clone()).collect::<Vec<_>>(),
            top.iter().map(|it| it.sha.clone()).collect::<Vec<_>>()
        );
        // The watch list is the top bots' server FQDNs.
        let want: BTreeSet<String> = top
            .iter()
            .flat_map(|it| it.spec.config.servers.iter())
            .filter(|s| botscope_specimen::ioc::parse_ipv4(&s.host).is_none())
            .map(|s| s.host.clone())
            .collect();
        assert_eq!(
            tables::bot_fqdns(&store, 10).unwrap(),
            want.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn families_match_truth() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("st")).unwrap();
        let mut truth: std::collections::BTreeMap<u32, BTreeSet<String>> = Default::default();
        for family in 1..=5u32 {
            for variant in 0..4u32 {
                let packer = if family == 4 {
                    Packer::Nrv2e
                } else {
                    Packer::None
                };
                let s = spec(
                    vec![server(
                        &format!("irc.f{family}v{variant}.example.com"),
                        6667,
                    )],
                    ConfigEncoding::Plain,
                    packer,
                    family,
                    variant,
                );
                let b = build_specimen(&s);
                let (sha, _) = store
                    .add(&b, DAY0, Source::Manual, &AddOptions::default())
                    .unwrap();
                truth.entry(family).or_default().insert(sha);
            }
        }
        // The fuzzy hash alone separates families and joins variants.
        let fz = |f: u32, v: u32| {
            botscope_specimen::analyze(&build_specimen(&spec(
                vec![server("irc.q.example.com", 6667)],
                ConfigEncoding::Plain,
                Packer::None,
                f,
                v,
            )))
            .fuzzy
        };
        // (ssdeep itself scores variants 0 and 3 at 0: no common 7-character
        // run; they join through variants 1 and 2, single linkage.)
        assert!(botscope_specimen::fuzzy::compare(&fz(1, 0), &fz(1, 1)) >= tables::FAMILY_SCORE);
        assert!(botscope_specimen::fuzzy::compare(&fz(1, 0), &fz(2, 0)) < 20);
        let fams = tables::families(&store).unwrap();
        let got: BTreeSet<BTreeSet<String>> = fams
            .into_iter()
            .map(|f| f.members.into_iter().collect())
            .collect();
        let want: BTreeSet<BTreeSet<String>> = truth.into_values().collect();
        assert_eq!(got, want);
    }
}

mod sets_and_iocs {
    use botscope_specimen::ioc::{is_fqdn, scan_text, Iocs};
    use botscope_specimen::sigs::parse_hash_list;

    #[test]
    fn hash_list_formats() {
        let text = "# list\n\
            44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n\
            275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:68:Eicar-Sha256\n\
            3395856ce81f2b7382dee72602f798b642f14140\n\
            nothex:1:x\n\
            44d88612fea8a8f36de82e1278abb02e:big:Bad-Size\n";
        let l = parse_hash_list(text);
        assert_eq!(l.names.len(), 3);
        assert_eq!(
            l.names["44d88612fea8a8f36de82e1278abb02f"],
            "Eicar-Test-Signature"
        );
        assert_eq!(
            l.names["275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"],
            "Eicar-Sha256"
        );
        assert_eq!(
            l.names["3395856ce81f2b7382dee72602f798b642f14140"],
            "hash.3395856c"
        );
        assert_eq!(
            l.skipped,
            vec![
                (5, "not a hex MD5/SHA-1/SHA-256 digest".to_string()),
                (6, "bad size field".to_string())
            ]
        );
    }

    /// A rule set that does not compile is a typed error carrying
    /// YARA-X's diagnostic (the unknown identifier and where it is).
    #[cfg(feature = "yara")]
    #[test]
    fn yara_compile_error_is_typed() {
        use botscope_specimen::sigs::{Compiled, SetKind, SigSetError};
        let bad = "rule broken { condition: no_such_thing }";
        match Compiled::new(SetKind::Yara, bad) {
            Err(e @ SigSetError::Yara(_)) => {
                let text = e.to_string();
                assert!(
                    text.contains("unknown identifier `no_such_thing`"),
                    "{text}"
                );
            }
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("compiled"),
        }
        assert!(Compiled::new(SetKind::Yara, "rule ok { condition: true }").is_ok());
    }

    #[test]
    fn fqdns_need_a_public_suffix() {
        assert!(is_fqdn("irc.example.com"));
        assert!(is_fqdn("bots.dyndns.org"));
        assert!(is_fqdn("x.y.co.uk"));
        assert!(!is_fqdn("kernel32.dll"));
        assert!(!is_fqdn("co.uk"));
        assert!(!is_fqdn("com"));
        assert!(!is_fqdn("10.1.2.3"));
        assert!(!is_fqdn("bad..example.com"));
        let mut i = Iocs::default();
        scan_text(
            "get http://dl.example.net/b.exe from 10.0.0.7 or 300.1.1.1, use ws2_32.dll",
            &mut i,
        );
        assert_eq!(
            i.urls.iter().collect::<Vec<_>>(),
            ["http://dl.example.net/b.exe"]
        );
        assert_eq!(i.fqdns.iter().collect::<Vec<_>>(), ["dl.example.net"]);
        assert_eq!(i.ipv4.iter().collect::<Vec<_>>(), ["10.0.0.7"]);
    }

    /// The shipped sample lists detect the EICAR test file, and a scan is
    /// recorded with its set version and time.
    #[test]
    fn shipped_eicar_lists_detect_eicar() {
        use botscope_specimen::sigs::{add_set, known_since, list_sets, scan_all, SetKind};
        use botscope_specimen::store::{AddOptions, Source, Store};
        let eicar = [
            &b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-"[..],
            b"STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
        ]
        .concat();
        assert_eq!(eicar.len(), 68);
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let (sha, _) = store
            .add(&eicar, 1000, Source::Manual, &AddOptions::default())
            .unwrap();
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/specimen");
        for (name, file, at) in [("hdb", "eicar.hdb", 2000), ("hsb", "eicar.hsb", 3000)] {
            let text = std::fs::read_to_string(data.join(file)).unwrap();
            add_set(&store, name, "2026-11-22", SetKind::Hashes, at - 1, &text).unwrap();
            let s = scan_all(&mut store, Some(name), at).unwrap();
            assert_eq!((s.scanned, s.detected), (1, 1));
        }
        assert_eq!(list_sets(&store).unwrap().len(), 2);
        let k = known_since(&store, &sha, i64::MAX).unwrap().unwrap();
        assert_eq!(
            k,
            (
                2000,
                "hdb".to_string(),
                "2026-11-22".to_string(),
                "Eicar-Test-Signature".to_string()
            )
        );
        assert_eq!(known_since(&store, &sha, 1999).unwrap(), None);
    }
}

mod upx_filters {
    //! UPX branch filters: the generator filters the code of packed
    //! specimens as UPX does; unpacking must give back the unfiltered bytes.
    use super::common::*;
    use botscope_specimen::{analyze, pe, unfilter};
    use botscope_synth::specimen::filter as synth_filter;
    use botscope_synth::specimen::{
        build_specimen, requested_filter, upx_payload, ConfigEncoding, Packer,
    };

    /// splitmix64, for reproducible random buffers.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Code-like bytes: branches into the buffer, before it and far past
    /// it, stray E8/E9/0F bytes, random immediates.
    fn code_like(r: &mut Rng, len: usize) -> Vec<u8> {
        let mut b = Vec::with_capacity(len + 8);
        while b.len() < len {
            let here = b.len() as i64;
            let rel = |r: &mut Rng| -> i32 {
                match r.below(4) {
                    0 => (-(r.below(0x4000) as i64) - here - 5) as i32, // before the buffer
                    1 => (0x10_0000 + r.below(0x1000_0000)) as i32,     // far past it
                    _ => (r.below(len as u64) as i64 - here - 5) as i32, // inside
                }
            };
            match r.below(8) {
                0 | 1 => {
                    b.push(0xE8);
                    b.extend_from_slice(&rel(r).to_le_bytes());
                }
                2 => {
                    b.push(0xE9);
                    b.extend_from_slice(&rel(r).to_le_bytes());
                }
                3 => {
                    b.push(0x0F);
                    b.push(0x80 | r.below(16) as u8);
                    b.extend_from_slice(&rel(r).to_le_bytes());
                }
                4 => {
                    b.extend_from_slice(&[0xE8, 0xE8, 0x0F, 0x0F, 0x85][..1 + r.below(5) as usize])
                }
                _ => {
                    for _ in 0..1 + r.below(6) {
                        b.push(r.next() as u8);
                    }
                }
            }
        }
        b.truncate(len);
        b
    }

    const IDS: [u8; 15] = [
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x24, 0x25, 0x26, 0x36, 0x46, 0x49,
    ];

    #[test]
    fn round_trip_on_code_like_buffers_and_prefixes() {
        let mut r = Rng(0x5EED);
        let mut applied = std::collections::BTreeMap::<u8, u32>::new();
        for round in 0..400 {
            let len = [0usize, 1, 4, 5, 6, 7, 11, 64, 300, 4096][round % 10];
            let orig = code_like(&mut r, len);
            let addvalue = r.below(0x8000) as u32;
            for id in IDS {
                let mut buf = orig.clone();
                let Some(done) = synth_filter::filter(&mut buf, id, addvalue) else {
                    assert_eq!(buf, orig, "a refused filter leaves the buffer");
                    continue;
                };
                *applied.entry(id).or_default() += 1;
                assert_ne!(buf, orig, "filter {id:#x} changed nothing");
                let filtered = buf.clone();
                let stats = unfilter::unfilter(&mut buf, id, done.cto, addvalue).unwrap();
                assert_eq!(buf, orig, "filter {id:#x} round {round} len {len}");
                assert_eq!(stats.calls, done.calls, "filter {id:#x} round {round}");
                // Truncated: every operand that ends 5 bytes before the cut
                // is restored as in the whole buffer, and nothing panics.
                for cut in [0, 3, 5, 6, len / 2, len.saturating_sub(1)] {
                    let cut = cut.min(len);
                    let mut p = filtered[..cut].to_vec();
                    unfilter::unfilter(&mut p, id, done.cto, addvalue).unwrap();
                    assert_eq!(p.len(), cut);
                    if cut >= 6 {
                        assert_eq!(p[..cut - 5], orig[..cut - 5], "{id:#x} cut {cut}");
                    }
                }
            }
        }
        // Every id was applied on many buffers (long ones always have calls).
        for id in IDS {
            assert!(
                applied.get(&id).copied().unwrap_or(0) >= 100,
                "{id:#x}: {applied:?}"
            );
        }
    }

    #[test]
    fn every_packer_and_filter_unpacks_to_the_original_bytes() {
        let mut ctos = Vec::new();
        for packer in [Packer::Nrv2b, Packer::Nrv2d, Packer::Nrv2e] {
            for variant in 0..4 {
                for enc in [ConfigEncoding::Plain, ConfigEncoding::Xor(0x4d)] {
                    let s = spec(
                        vec![server("irc.filtered.example.net", 6667)],
                        enc,
                        packer,
                        7,
                        variant,
                    );
                    let want = [0x00, 0x26, 0x49, 0x16][variant as usize];
                    assert_eq!(requested_filter(&s), want);
                    let payload = upx_payload(&s).unwrap();
                    assert_eq!(payload.filter, want, "the generator applied {want:#x}");
                    assert_eq!(payload.code, (0, 0x800));
                    let (c0, cl) = payload.code;
                    let code = &payload.original[c0..c0 + cl];
                    let fcode = &payload.filtered[c0..c0 + cl];
                    if want == 0 {
                        assert_eq!(payload.filtered, payload.original);
                    } else {
                        assert_ne!(fcode, code);
                        // Outside the code, filtering changes nothing.
                        assert_eq!(payload.filtered[cl..], payload.original[cl..]);
                    }
                    if want == 0x49 {
                        // Some jcc operand was rewritten.
                        assert!((1..cl - 5).any(|i| code[i - 1] == 0x0F
                            && (0x80..=0x8F).contains(&code[i])
                            && code[i + 1..i + 5] != fcode[i + 1..i + 5]));
                    }
                    if want == 0x26 {
                        ctos.push(payload.cto);
                    }

                    let bytes = build_specimen(&s);
                    let info = pe::analyze(&bytes).unwrap();
                    let p = info.packer.as_ref().unwrap();
                    assert_eq!(
                        p.filter.as_ref().map(|f| (f.id, f.cto, f.supported)),
                        (want != 0).then_some((want, payload.cto, true))
                    );
                    let un = pe::upx_unpack_detailed(&bytes, &info).unwrap();
                    assert_eq!(un.image, payload.original, "{packer:?} variant {variant}");
                    assert_eq!(un.filter, want);
                    assert_eq!(un.left_filtered, None);
                    assert_eq!(un.restored > 0, want != 0);

                    let a = analyze(&bytes);
                    assert_eq!(a.config.as_ref(), Some(&s.config));
                    assert_eq!(a.config_region.as_deref(), Some("unpacked"));
                    let p = a.pe.unwrap().packer.unwrap();
                    assert_eq!(p.unpack_error, None);
                    assert_eq!(p.unpacked_size, Some(payload.original.len() as u64));
                }
            }
        }
        assert_eq!(ctos.len(), 6);
    }

    #[test]
    fn synthetic_collection_mixes_filters() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..400 {
            let s = botscope_synth::specimen::collection::synthetic_spec(i);
            if let Some(p) = upx_payload(&s) {
                seen.insert(p.filter);
            }
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            [0x00, 0x16, 0x26, 0x49]
        );
    }

    #[test]
    fn variants_filtered_differently_stay_one_family() {
        // Variants 0..4 of a packed family carry four different filters;
        // unfiltered, their images are alike, so CTPH still joins them.
        let fz = |f: u32, v: u32| {
            let a = analyze(&build_specimen(&spec(
                vec![server("irc.q.example.com", 6667)],
                ConfigEncoding::Plain,
                Packer::Nrv2d,
                f,
                v,
            )));
            assert_eq!(a.config_region.as_deref(), Some("unpacked"));
            a.family_digest().to_string()
        };
        let base = fz(6, 0);
        for v in 1..4 {
            let score = botscope_specimen::fuzzy::compare(&base, &fz(6, v));
            assert!(
                score >= botscope_specimen::tables::FAMILY_SCORE,
                "variant {v}: {score}"
            );
        }
        assert!(botscope_specimen::fuzzy::compare(&base, &fz(9, 0)) < 20);
    }

    fn header_at(b: &[u8]) -> usize {
        memchr::memmem::find(b, b"UPX!").unwrap()
    }

    #[test]
    fn hostile_filter_fields() {
        let s = spec(
            vec![server("irc.h.example.com", 6667)],
            ConfigEncoding::Plain,
            Packer::Nrv2e,
            2,
            1,
        );
        let b = build_specimen(&s);
        let payload = upx_payload(&s).unwrap();
        let at = header_at(&b);
        assert_eq!((b[at + 28], b[at + 29]), (0x26, payload.cto));

        // An id we do not know: the image is returned, still filtered, and
        // the record says why.
        let mut u = b.clone();
        u[at + 28] = 0x52;
        let a = analyze(&u);
        let p = a.pe.unwrap().packer.unwrap();
        assert_eq!(
            p.unpack_error.as_deref(),
            Some("unsupported UPX filter 0x52: unpacked code left filtered")
        );
        assert_eq!(p.unpacked_size, Some(payload.filtered.len() as u64));
        assert_eq!(p.filter.as_ref().map(|f| f.supported), Some(false));
        assert_eq!(a.config.as_ref(), Some(&s.config));
        let info = pe::analyze(&u).unwrap();
        let un = pe::upx_unpack_detailed(&u, &info).unwrap();
        assert_eq!(un.image, payload.filtered);
        assert_eq!(
            un.left_filtered.as_deref(),
            Some("unsupported UPX filter 0x52")
        );

        // A wrong cto (0xFF): the real marks are not recognised, so the
        // code stays wrong, but nothing outside the code range changes.
        let mut c = b.clone();
        c[at + 29] = 0xFF;
        let info = pe::analyze(&c).unwrap();
        let un = pe::upx_unpack_detailed(&c, &info).unwrap();
        assert_eq!(un.image.len(), payload.original.len());
        assert_ne!(un.image[..0x800], payload.original[..0x800]);
        assert_eq!(un.image[0x800..], payload.original[0x800..]);

        // Header version 9 (UPX < 1.0): no filter byte; level bit 7 means
        // filter 0x26, as UPX reads such headers.
        let mut old = b.clone();
        old[at + 4] = 9;
        old[at + 28] = 0x52; // ignored at this version
        let info = pe::analyze(&old).unwrap();
        let un = pe::upx_unpack_detailed(&old, &info).unwrap();
        assert_eq!((un.filter, un.image.len()), (0, payload.filtered.len()));
        assert_eq!(un.image, payload.filtered);
        old[at + 7] |= 0x80;
        let info = pe::analyze(&old).unwrap();
        let un = pe::upx_unpack_detailed(&old, &info).unwrap();
        assert_eq!(un.filter, 0x26);
        assert_eq!(un.image, payload.original);

        // A filter claimed on an unfiltered specimen (variant 0): the
        // unfilter runs over plain code; bounded, same length.
        let s0 = spec(
            vec![server("irc.h.example.com", 6667)],
            ConfigEncoding::Plain,
            Packer::Nrv2b,
            2,
            0,
        );
        let mut z = build_specimen(&s0);
        let at0 = header_at(&z);
        z[at0 + 28] = 0x49;
        z[at0 + 29] = 0x00;
        let info = pe::analyze(&z).unwrap();
        let un = pe::upx_unpack_detailed(&z, &info).unwrap();
        assert_eq!(un.image.len(), upx_payload(&s0).unwrap().original.len());

        // Zero-length and tiny buffers, every id, any cto.
        for id in 0..=255u8 {
            for cto in [0u8, 0xE8, 0xFF] {
                let _ = unfilter::unfilter(&mut [], id, cto, u32::MAX);
                let mut t = [0xE8, cto, 0xE8, 0x0F, 0x85, cto];
                let r = unfilter::unfilter(&mut t, id, cto, u32::MAX);
                assert_eq!(r.is_ok(), unfilter::is_supported(id));
            }
        }
    }

    #[test]
    fn extra_info_code_range_is_checked() {
        let s = spec(
            vec![server("irc.h.example.com", 6667)],
            ConfigEncoding::Plain,
            Packer::Nrv2d,
            4,
            2,
        );
        let p = upx_payload(&s).unwrap();
        let img = p.original.clone();
        assert_eq!(unfilter::upx_code_range(&img), Ok((0, 0x800)));
        let n = img.len();
        let extra = u32::from_le_bytes(img[n - 4..].try_into().unwrap()) as usize;
        assert_eq!(&img[extra..extra + 4], b"PE\0\0");
        // Offset past the end / not at a PE header.
        let mut bad = img.clone();
        bad[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            unfilter::upx_code_range(&bad),
            Err(unfilter::CodeRangeError::NoPeHeader(u32::MAX as usize))
        );
        // SizeOfCode claims 4 GiB.
        let mut big = img.clone();
        big[extra + 28..extra + 32].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert_eq!(
            unfilter::upx_code_range(&big),
            Err(unfilter::CodeRangeError::OutsideData {
                start: 0,
                size: 0xFFFF_FFF0,
                len: n
            })
        );
        // BaseOfCode before the first section.
        let mut low = img.clone();
        low[extra + 44..extra + 48].copy_from_slice(&0x10u32.to_le_bytes());
        assert!(matches!(
            unfilter::upx_code_range(&low),
            Err(unfilter::CodeRangeError::BaseBeforeFirstSection {
                code_base: 0x10,
                ..
            })
        ));
        // Too short for anything.
        assert_eq!(
            unfilter::upx_code_range(&img[..3]),
            Err(unfilter::CodeRangeError::TooShort)
        );
        assert!(unfilter::upx_code_range(&[]).is_err());
        // Every truncation of the extra info: an error or a range, no panic.
        for cut in (n - 400)..n {
            if let Ok((start, len)) = unfilter::upx_code_range(&img[..cut]) {
                assert!(start + len <= cut);
            }
        }
    }
}

/// `fuzzy` against the real `ssdeep` 2.14.1 binary (Debian package `ssdeep`,
/// installed by scripts/setup.sh): every digest and every pair score must
/// equal what ssdeep prints.
mod fuzzy_peer {
    use botscope_specimen::fuzzy::{compare, digest};
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::process::Command;

    /// xorshift64*: deterministic pseudo-random bytes.
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    /// Copies `base` with `edits` small in-place changes, one insertion
    /// and one deletion, spread evenly.
    fn mutate(base: &[u8], edits: usize, seed: u64) -> Vec<u8> {
        let mut v = base.to_vec();
        let r = noise(seed, edits * 2 + 8);
        for e in 0..edits {
            let at = (e * 2 + 1) * v.len() / (edits * 2 + 1);
            let end = (at + 1 + usize::from(r[e] % 64)).min(v.len());
            v[at..end].fill(r[edits + e]);
        }
        let ins = v.len() / 3;
        v.splice(ins..ins, noise(seed ^ 5, 300));
        let del = v.len() * 2 / 3;
        v.drain(del..(del + 200).min(v.len()));
        v
    }

    /// The test inputs: edge sizes, random sizes, low entropy, patterns
    /// that hit the 63-character cap, synthetic specimens and related
    /// variants (edits, prefixes, appends) for the comparisons.
    fn inputs() -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = vec![
            ("empty".into(), Vec::new()),
            ("one".into(), b"x".to_vec()),
            ("zeros4m".into(), vec![0; 4 << 20]),
            ("ff100k".into(), vec![0xff; 100_000]),
            ("abcdefg".into(), b"abcdefg".repeat(600_000)),
        ];
        for n in [
            2usize, 3, 6, 7, 8, 50, 63, 64, 65, 191, 192, 193, 1000, 3000, 4095, 4096, 4097,
        ] {
            v.push((format!("small{n}"), noise(n as u64, n)));
        }
        let sizes = noise(77, 32);
        for (i, s) in sizes.chunks(2).enumerate() {
            let n = (usize::from(s[0]) << 8 | usize::from(s[1])) * 48 + i;
            v.push((format!("rand{i}"), noise(1000 + i as u64, n)));
        }
        // Low entropy: two-bit bytes, text-like, half zeros.
        let mut two_bit = noise(5, 700_000);
        two_bit.iter_mut().for_each(|b| *b &= 3);
        v.push(("twobit".into(), two_bit));
        let text: Vec<u8> = noise(6, 400_000)
            .iter()
            .map(|&b| b" etaoinshrdlu\n"[usize::from(b) % 14])
            .collect();
        v.push(("text".into(), text));
        let mut half = noise(7, 500_000);
        half.extend(vec![0u8; 500_000]);
        v.push(("halfzero".into(), half));
        // Repeated blocks: the same pieces over and over, far more cut
        // points than 63 at the chosen block size; with a zero tail (final
        // rolling value 0) and without.
        let block = noise(8, 997);
        let rep = block.repeat(3000);
        v.push(("repeat".into(), rep.clone()));
        let mut rep0 = rep.clone();
        rep0.extend(vec![0u8; 50]);
        v.push(("repeat_zero_tail".into(), rep0));
        let mut mixed = noise(9, 2_000_000);
        mixed.extend(b"abcdefg".repeat(100_000));
        v.push(("random_then_pattern".into(), mixed));
        let mut big = noise(10, 3_000_000);
        big.extend(vec![0u8; 7]);
        v.push(("big_zero_tail".into(), big));
        // Synthetic specimens, two variants of each family among the first.
        for i in 0..40u32 {
            let spec = botscope_synth::specimen::collection::synthetic_spec(i);
            v.push((
                format!("spec{i}"),
                botscope_synth::specimen::build_specimen(&spec),
            ));
        }
        for i in 0..10u32 {
            let spec = botscope_synth::specimen::collection::synthetic_spec(i + 50);
            let mut bytes = botscope_synth::specimen::build_specimen(&spec);
            botscope_synth::specimen::append_overlay(&mut bytes, 64 << 10, u64::from(i));
            v.push((format!("spec{}ovl", i + 50), bytes));
        }
        // Related pairs for the scores: light and heavy edits, a prefix
        // (block size halves), appends (block size doubles), small files.
        for (i, n) in [30_000usize, 250_000, 1_500_000].into_iter().enumerate() {
            let base = noise(200 + i as u64, n);
            v.push((format!("rel{i}_edit1"), mutate(&base, 1, 1)));
            v.push((format!("rel{i}_edit8"), mutate(&base, 8, 2)));
            v.push((format!("rel{i}_edit40"), mutate(&base, 40, 3)));
            v.push((format!("rel{i}_half"), base[..n / 2 + 1000].to_vec()));
            let mut longer = base.clone();
            longer.extend(noise(300 + i as u64, n));
            v.push((format!("rel{i}_double"), longer));
            v.push((format!("rel{i}_base"), base));
        }
        for n in [300usize, 900, 2500] {
            let base = noise(400 + n as u64, n);
            v.push((format!("tiny{n}_edit"), mutate(&base, 1, 4)));
            v.push((format!("tiny{n}_base"), base));
        }
        v
    }

    /// Runs ssdeep in `dir` and returns its output lines after the header.
    fn ssdeep(dir: &Path, args: &[&str]) -> Vec<String> {
        let out = Command::new("ssdeep")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("ssdeep must be installed (scripts/setup.sh)");
        assert!(out.status.success(), "ssdeep {args:?}: {:?}", out.status);
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .filter(|l| !l.is_empty() && !l.starts_with("ssdeep,"))
            .map(str::to_string)
            .collect()
    }

    /// ssdeep's digests of the inputs, by name (`-s -b`: bare names).
    fn peer_digests(dir: &Path, inputs: &[(String, Vec<u8>)]) -> BTreeMap<String, String> {
        for (name, bytes) in inputs {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let mut args = vec!["-s", "-b"];
        args.extend(inputs.iter().map(|(n, _)| n.as_str()));
        ssdeep(dir, &args)
            .iter()
            .map(|l| {
                let (d, name) = l.rsplit_once(",\"").unwrap();
                (name.trim_end_matches('"').to_string(), d.to_string())
            })
            .collect()
    }

    #[test]
    fn digests_equal_ssdeep() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = inputs();
        let peer = peer_digests(dir.path(), &inputs);
        assert_eq!(peer.len(), inputs.len());
        let mut cap_hits = 0;
        for (name, bytes) in &inputs {
            let ours = digest(bytes);
            assert_eq!(&ours, &peer[name], "{name} ({} bytes)", bytes.len());
            if ours.split(':').nth(1).is_some_and(|s| s.len() == 64) {
                cap_hits += 1;
            }
        }
        // The inputs do reach the 63-character cap plus tail character.
        assert!(cap_hits >= 3, "{cap_hits}");
        assert_eq!(peer["empty"], "3::");
    }

    #[test]
    fn scores_equal_ssdeep() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = inputs();
        let peer = peer_digests(dir.path(), &inputs);
        // Hand-made digests for the short-signature and block-size rules.
        let crafted = [
            "3:abcdefghi:",
            "3:abcdefghX:",
            "3:abcdefgh:",
            "3:abcdefgX:",
            "6:abcdefghijk:abcdefg",
            "6:abcdefghijX:abcdefX",
            "12:abcdefgXYZ:",
            "48:abcdefghi:",
            "48:abcdefghX:",
            "48:zzzzzzz:abcdefghi",
            "96:abcdefghi:zzzzzzz",
            "3:aaaaaaaaaaaaaaab:b",
            "3:aaab:b",
            "3::",
        ];
        let mut digests: Vec<(String, String)> = peer.into_iter().collect();
        for (i, c) in crafted.iter().enumerate() {
            digests.push((format!("crafted{i}"), c.to_string()));
        }
        let mut sigs = String::from("ssdeep,1.1--blocksize:hash:hash,filename\n");
        for (name, d) in &digests {
            sigs.push_str(&format!("{d},\"{name}\"\n"));
        }
        std::fs::write(dir.path().join("sigs.txt"), sigs).unwrap();
        let by_name: BTreeMap<&str, &str> = digests
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_str()))
            .collect();
        let (mut checked, mut positive, mut zero, mut cross_size) = (0, 0, 0, 0);
        for line in ssdeep(dir.path(), &["-s", "-a", "-x", "sigs.txt"]) {
            // sigs.txt:A matches sigs.txt:B (N)
            let (pair, score) = line.rsplit_once(" (").unwrap();
            let score: u32 = score.trim_end_matches(')').parse().unwrap();
            let (a, b) = pair.split_once(" matches ").unwrap();
            let a = by_name[a.trim_start_matches("sigs.txt:")];
            let b = by_name[b.trim_start_matches("sigs.txt:")];
            assert_eq!(compare(a, b), score, "{a} vs {b}");
            checked += 1;
            if score > 0 {
                positive += 1;
                if a.split(':').next() != b.split(':').next() {
                    cross_size += 1;
                }
            } else {
                zero += 1;
            }
        }
        let n = digests.len();
        assert!(checked >= n * (n - 1), "{checked} pairs for {n} digests");
        assert!(
            positive >= 40 && zero >= 1000 && cross_size >= 4,
            "{positive} {zero} {cross_size}"
        );
        // Related files do score: one edit in 250 kB keeps most of the digest.
        assert!(compare(by_name["rel1_base"], by_name["rel1_edit1"]) >= 80);
        assert_eq!(compare(by_name["rel1_base"], by_name["rand3"]), 0);
    }
}

mod upx_bomb {
    //! A tiny UPX-like specimen whose one NRV match runs for tens of
    //! megabytes: refused with a stated reason, never allocated.
    use super::common::*;
    use botscope_specimen::ingest::Limits;
    use botscope_specimen::nrv::adler32;
    use botscope_specimen::{analysis::analyze_with, analyze, pe};
    use botscope_synth::specimen::{build_specimen, ConfigEncoding, Packer};

    /// NRV2B bit writer (control bits in 32-bit LE words, MSB first).
    struct W {
        out: Vec<u8>,
        at: usize,
        word: u32,
        n: u32,
    }
    impl W {
        fn bit(&mut self, b: u32) {
            if self.n == 32 {
                self.at = self.out.len();
                self.out.extend_from_slice(&[0; 4]);
                self.n = 0;
                self.word = 0;
            }
            self.word = (self.word << 1) | b;
            self.n += 1;
            let w = self.word << (32 - self.n);
            self.out[self.at..self.at + 4].copy_from_slice(&w.to_le_bytes());
        }
        fn gamma(&mut self, v: u64) {
            let top = 63 - v.leading_zeros();
            for i in (0..top).rev() {
                self.bit(((v >> i) & 1) as u32);
                self.bit(u32::from(i == 0));
            }
        }
    }

    /// One literal zero, then one match (offset 1) of `len - 1` bytes,
    /// then the end marker: `len` zero bytes from about 20 bytes.
    fn zero_run(len: u64) -> Vec<u8> {
        let mut w = W {
            out: Vec::new(),
            at: 0,
            word: 0,
            n: 32,
        };
        w.bit(1);
        w.out.push(0);
        w.bit(0);
        w.gamma(3);
        w.out.push(0);
        w.bit(0);
        w.bit(0);
        w.gamma(len - 1 - 3);
        w.bit(0);
        w.gamma(0x0100_0002);
        w.out.push(0xff);
        w.out
    }

    fn rd32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// A packed synthetic specimen with its NRV stream replaced by
    /// [`zero_run`]`(u_len)` and UPX0 widened to hold it.
    fn bomb(u_len: u32) -> Vec<u8> {
        let s = spec(
            vec![server("irc.bomb.example.com", 6667)],
            ConfigEncoding::Plain,
            Packer::Nrv2b,
            3,
            0,
        );
        let mut b = build_specimen(&s);
        let pe_at = rd32(&b, 0x3c) as usize;
        let nsec = u16::from_le_bytes([b[pe_at + 6], b[pe_at + 7]]) as usize;
        let opt = u16::from_le_bytes([b[pe_at + 20], b[pe_at + 21]]) as usize;
        let table = pe_at + 24 + opt;
        let sec = |name: &[u8]| {
            (0..nsec)
                .map(|i| table + 40 * i)
                .find(|&at| b[at..at + 8].starts_with(name))
                .unwrap()
        };
        let (upx0, upx1) = (sec(b"UPX0"), sec(b"UPX1"));
        b[upx0 + 8..upx0 + 12].copy_from_slice(&u_len.to_le_bytes());
        let stream = zero_run(u64::from(u_len));
        let raw = rd32(&b, upx1 + 20) as usize;
        assert!(stream.len() < rd32(&b, upx1 + 16) as usize);
        b[raw..raw + stream.len()].copy_from_slice(&stream);
        let h = memchr::memmem::find(&b, b"UPX!").unwrap();
        assert_eq!((b[h + 6], b[h + 28]), (2, 0), "NRV2B, no filter");
        let u_adler = adler32(&vec![0u8; u_len as usize]);
        b[h + 8..h + 12].copy_from_slice(&u_adler.to_le_bytes());
        b[h + 12..h + 16].copy_from_slice(&adler32(&stream).to_le_bytes());
        b[h + 16..h + 20].copy_from_slice(&u_len.to_le_bytes());
        b[h + 20..h + 24].copy_from_slice(&(stream.len() as u32).to_le_bytes());
        b
    }

    #[test]
    fn oversize_unpack_is_refused_with_a_reason() {
        let u_len = 40 << 20;
        let b = bomb(u_len);
        assert!(b.len() < 64 << 10, "{}", b.len());
        let info = pe::analyze(&b).unwrap();
        let err = pe::upx_unpack_detailed(&b, &info).unwrap_err();
        assert_eq!(
            err,
            pe::UnpackError::OverSizeCap {
                size: 41943040,
                cap: 33554432
            }
        );
        let err = err.to_string();
        assert_eq!(
            err,
            "declared unpacked size 41943040 exceeds the unpack cap of 33554432 bytes"
        );
        let a = analyze(&b);
        let p = a.pe.unwrap().packer.unwrap();
        assert_eq!(p.unpack_error.as_deref(), Some(err.as_str()));
        assert_eq!(p.unpacked_size, None);
        assert_eq!(a.fuzzy_unpacked, None);

        // The stream is a real one: raised caps unpack it whole.
        let caps = pe::UnpackCaps {
            max_size: 64 << 20,
            max_ratio: u64::MAX,
        };
        let un = pe::upx_unpack_capped(&b, &info, &caps).unwrap();
        assert_eq!(un.image.len(), u_len as usize);
        assert!(un.image.iter().all(|&x| x == 0));
    }

    #[test]
    fn ratio_past_the_cap_is_refused() {
        // 2 MiB from a 15-byte stream: under the size cap, far past 1000:1.
        let b = bomb(2 << 20);
        let info = pe::analyze(&b).unwrap();
        let err = pe::upx_unpack_detailed(&b, &info).unwrap_err();
        assert_eq!(
            err,
            pe::UnpackError::OverRatioCap {
                ratio: 139810,
                u_len: 2097152,
                c_len: 15,
                cap: 1000
            }
        );
        let err = err.to_string();
        assert_eq!(
            err,
            "unpack ratio 139810:1 (2097152 from 15 bytes) exceeds the cap of 1000:1"
        );
        let p = analyze(&b).pe.unwrap().packer.unwrap();
        assert_eq!(p.unpack_error.as_deref(), Some(err.as_str()));
        assert_eq!(p.unpacked_size, None);

        // The limits struct carries both caps to analysis.
        let lim = Limits {
            max_unpack_ratio: 1 << 20,
            ..Limits::default()
        };
        assert_eq!(lim.max_unpacked, 32 << 20);
        let p = analyze_with(&b, &lim.unpack_caps())
            .pe
            .unwrap()
            .packer
            .unwrap();
        assert_eq!(p.unpack_error, None);
        assert_eq!(p.unpacked_size, Some(2 << 20));
        let lim = Limits {
            max_unpacked: 1 << 20,
            max_unpack_ratio: 1 << 20,
            ..Limits::default()
        };
        let p = analyze_with(&b, &lim.unpack_caps())
            .pe
            .unwrap()
            .packer
            .unwrap();
        assert_eq!(
            p.unpack_error.as_deref(),
            Some("declared unpacked size 2097152 exceeds the unpack cap of 1048576 bytes")
        );
    }
}
