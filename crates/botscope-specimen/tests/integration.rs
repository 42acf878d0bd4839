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

    fn helper() -> &'static str {
        env!("CARGO_BIN_EXE_specimen-store-add")
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
        let spawn = || {
            let mut c = std::process::Command::new(helper());
            c.arg(&st).arg("1114000000").arg("0").args(&files);
            c.spawn().unwrap()
        };
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
        let mut child = std::process::Command::new(helper())
            .arg(&st)
            .arg("1114000000")
            .arg("20000")
            .arg(&f)
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
        assert!(botscope_specimen::fuzzy::compare(&fz(1, 0), &fz(1, 3)) >= tables::FAMILY_SCORE);
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
