//! The de-obfuscation record (`Analysis.deobf`) against ground truth:
//! the synthetic collection (`botscope_synth::specimen::collection`: every
//! XOR-family encoding, UTF-16 and UPX packing with its filters), and
//! benign C programs built with `i686-w64-mingw32-gcc` whose C&C strings
//! are encoded at build time by coreutils' `base64`, `od` and `tr` and by
//! the test (XOR with a stored key), and one built on the stack. The
//! programs are never run.

use botscope_specimen::analyze;
use botscope_synth::specimen::collection::synthetic_item;
use botscope_synth::specimen::{
    build_specimen_with, expected_config, expected_encoding, requested_filter, ConfigEncoding,
    Packer,
};
use std::process::Command;

fn hex(k: &[u8]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `xor_strings` method label an encoding must be recorded under.
fn label(e: ConfigEncoding) -> Option<String> {
    Some(match e {
        ConfigEncoding::Xor(k) => format!("xor:{k:02x}"),
        ConfigEncoding::XorKey { key, len } => format!("xor:{}", hex(&key[..len as usize])),
        ConfigEncoding::Add(k) => format!("add:{k:02x}"),
        ConfigEncoding::Rol(r) => format!("rol:{r}"),
        ConfigEncoding::RollingXor(k) => format!("rolling_xor:{k:02x}"),
        ConfigEncoding::ChainedXor(k) => format!("chained_xor:{k:02x}"),
        ConfigEncoding::Plain | ConfigEncoding::Utf16 => return None,
    })
}

#[test]
fn synthetic_collection_record_names_each_decoding_key_and_host() {
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..140u32 {
        let (spec, layout) = synthetic_item(i);
        let a = analyze(&build_specimen_with(&spec, layout));
        let rec = &a.deobf;
        let host = &expected_config(&spec, layout).servers[0].host;
        let enc = expected_encoding(&spec, layout);
        let what = format!("#{i} {enc:?} {layout:?} {:?}: {rec:#?}", spec.packer);
        assert!(rec.ran.iter().any(|d| d == "xor_strings"), "{what}");
        // UPX: recorded first, with the NRV method and the filter undone.
        let upx: Vec<_> = rec.findings.iter().filter(|f| f.decoder == "upx").collect();
        if spec.packer == Packer::None {
            assert!(upx.is_empty(), "{what}");
        } else {
            let m = match spec.packer {
                Packer::Nrv2b => "nrv2b",
                Packer::Nrv2d => "nrv2d",
                _ => "nrv2e",
            };
            let f = requested_filter(&spec);
            assert_eq!(rec.ran[0], "upx");
            let got = &upx[0].method;
            // A filter that could not be applied leaves the image unfiltered.
            assert!(
                got == m || (f != 0 && *got == format!("{m}+filter:{f:02x}")),
                "{what}"
            );
            seen.insert(got.clone());
        }
        let xs: Vec<_> = rec
            .findings
            .iter()
            .filter(|f| f.decoder == "xor_strings")
            .collect();
        match label(enc) {
            Some(l) => {
                assert_eq!(xs.len(), 1, "{what}");
                assert_eq!(xs[0].method, l, "{what}");
                assert!(xs[0].revealed.contains(host), "{what}");
                // The host is in no plain string: decoding revealed it.
                assert!(xs[0].iocs.contains(host), "{what}");
                assert!(a.iocs.fqdns.contains(host));
                seen.insert(l.split(':').next().unwrap_or_default().to_string());
            }
            None => assert!(xs.is_empty(), "{what}"),
        }
        if enc == ConfigEncoding::Utf16 {
            let w = rec.findings.iter().find(|f| f.decoder == "utf16le");
            assert!(w.is_some_and(|w| w.revealed.contains(host)), "{what}");
            seen.insert("utf16le".into());
        }
        // Nothing was written base64, hex, ROT13 or on a stack.
        for d in ["base64", "hex", "rot13", "stack_strings", "shellcode_stub"] {
            assert!(rec.findings.iter().all(|f| f.decoder != d), "{d} in {what}");
        }
    }
    // Every decoding of the collection was met.
    for l in [
        "xor",
        "add",
        "rol",
        "rolling_xor",
        "chained_xor",
        "utf16le",
        "nrv2b",
        "nrv2d",
    ] {
        assert!(
            seen.iter().any(|s| s.starts_with(l)),
            "{l} not met: {seen:?}"
        );
    }
    assert!(seen.iter().any(|s| s.contains("+filter:")), "{seen:?}");
}

#[path = "common/mingw.rs"]
mod mingw;
use mingw::build;

/// Standard output of `prog args` fed `input`.
fn tool(prog: &str, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut c = Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{prog}: {e}"));
    c.stdin.take().unwrap().write_all(input).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "{prog} {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn mingw_cc_strings_encoded_at_build_time_are_revealed() {
    let b64_host = "irc.b64cc.example.net";
    let hex_url = "http://dl.hexcc.example.org/bot.exe";
    let rot_url = "http://upd.rotcc.example.com/x.exe";
    let xor_host = "irc.xorcc.example.org";
    let key = b"Z#9!Q@";
    // Encoded by peer tools, not by botscope.
    let b64 = tool("base64", &["-w0"], b64_host.as_bytes());
    let hexs: String = tool("od", &["-An", "-tx1", "-v"], hex_url.as_bytes())
        .split_whitespace()
        .collect();
    let rot = tool("tr", &["A-Za-z", "N-ZA-Mn-za-m"], rot_url.as_bytes());
    let xor: Vec<u8> = xor_host
        .bytes()
        .chain([0])
        .enumerate()
        .map(|(i, b)| b ^ key[i % key.len()])
        .collect();
    assert!(!xor.contains(&0));
    let xor_list: Vec<String> = xor.iter().map(|b| format!("{b:#04x}")).collect();
    let defines = [
        format!("CC_B64=\"{b64}\""),
        format!("CC_HEX=\"{hexs}\""),
        format!("CC_ROT13=\"{rot}\""),
        format!("CC_KEY=\"{}\"", std::str::from_utf8(key).unwrap()),
        format!("CC_XOR={}", xor_list.join(",")),
    ];
    let dir = tempfile::tempdir().unwrap();
    for opt in ["-O0", "-O2"] {
        let bin = build(dir.path(), "encoded_cc", opt, &defines);
        for plain in [b64_host, hex_url, rot_url, xor_host] {
            assert!(!bin.windows(plain.len()).any(|w| w == plain.as_bytes()));
        }
        let a = analyze(&bin);
        let rec = &a.deobf;
        let what = format!("encoded_cc {opt}: {rec:#?}");
        let one = |d: &str| {
            let v: Vec<_> = rec.findings.iter().filter(|f| f.decoder == d).collect();
            assert_eq!(v.len(), 1, "{d} in {what}");
            v[0]
        };
        let f = one("base64");
        assert_eq!(
            (f.method.as_str(), f.length),
            ("base64", b64.len()),
            "{what}"
        );
        assert_eq!(f.revealed, [b64_host]);
        assert_eq!(f.iocs, [b64_host]);
        let f = one("hex");
        assert_eq!(
            (f.length, &f.revealed[..]),
            (hexs.len(), &[hex_url.to_string()][..])
        );
        assert!(f.iocs.contains(&hex_url.to_string()), "{what}");
        assert!(
            f.iocs.contains(&"dl.hexcc.example.org".to_string()),
            "{what}"
        );
        let f = one("rot13");
        assert_eq!(f.revealed, [rot_url]);
        assert!(f.iocs.contains(&rot_url.to_string()), "{what}");
        let f = one("xor_strings");
        assert_eq!(f.method, format!("xor:{}", hex(key)), "{what}");
        assert_eq!(f.key.as_deref(), Some(hex(key).as_str()));
        assert!(f.revealed.contains(&xor_host.to_string()), "{what}");
        assert_eq!(f.iocs, [xor_host]);
        // Every indicator reached the specimen's list.
        for h in [
            b64_host,
            xor_host,
            "dl.hexcc.example.org",
            "upd.rotcc.example.com",
        ] {
            assert!(a.iocs.fqdns.contains(h), "{h} {opt}");
        }
    }
}

#[test]
fn mingw_stack_string_is_revealed() {
    let host = "irc.stackcc.example.net";
    let dir = tempfile::tempdir().unwrap();
    for opt in ["-O0", "-O2"] {
        let bin = build(dir.path(), "stack_cc", opt, &[]);
        assert!(!bin.windows(host.len()).any(|w| w == host.as_bytes()));
        let a = analyze(&bin);
        let what = format!("stack_cc {opt}: {:#?}", a.deobf);
        let f: Vec<_> = a
            .deobf
            .findings
            .iter()
            .filter(|f| f.decoder == "stack_strings")
            .collect();
        assert_eq!(f.len(), 1, "{what}");
        assert_eq!(f[0].revealed, [host], "{what}");
        assert_eq!(f[0].iocs, [host], "{what}");
        assert_eq!(f[0].region, ".text");
    }
}
