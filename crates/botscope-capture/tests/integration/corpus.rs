//! Every capture of the peer corpus (`tests/corpus`), and packet counts
//! against tshark.

use crate::common::{corpus, corpus_root, Recorder};
use botscope_capture::{read_bytes, read_files, walk_records, EngineConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Capture files under the corpus, found by magic (names lie: several
/// pcapng files are called `.pcap`).
fn captures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if let Ok(mut f) = std::fs::File::open(&p) {
                let mut m = [0u8; 4];
                if std::io::Read::read_exact(&mut f, &mut m).is_ok()
                    && matches!(
                        m,
                        [0xd4, 0xc3, 0xb2, 0xa1]
                            | [0xa1, 0xb2, 0xc3, 0xd4]
                            | [0x4d, 0x3c, 0xb2, 0xa1]
                            | [0xa1, 0xb2, 0x3c, 0x4d]
                            | [0x0a, 0x0d, 0x0d, 0x0a]
                    )
                {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&corpus_root(), &mut out);
    out.sort();
    out
}

#[test]
fn every_corpus_capture_reads_without_errors() {
    let files = captures();
    // The corpus README counts 196 capture files (+ Zeek's extracted
    // `thefile`, itself a pcap).
    assert!(files.len() >= 196, "found only {} captures", files.len());
    let mut pcapng = 0;
    for f in &files {
        let mut rec = Recorder::default();
        let s =
            read_files(std::slice::from_ref(f), &EngineConfig::default(), &mut rec).expect("open");
        assert!(
            s.file_errors.is_empty(),
            "{}: {:?}",
            f.display(),
            s.file_errors
        );
        assert!(s.packets > 0, "{}", f.display());
        let (n, bytes) = walk_records(f).expect("walk");
        assert_eq!(
            (n, bytes),
            (s.packets, s.bytes),
            "{}: engine and bare walk disagree",
            f.display()
        );
        // Only FDDI (link type 10) is not decoded; everything else decodes.
        let skipped: Vec<&String> = s.skipped.by_reason.keys().collect();
        let fddi = f.ends_with("dns-inverse-query.pcap");
        if fddi {
            assert_eq!(s.skipped.by_reason["unsupported link type"].0, s.packets);
        } else {
            assert!(skipped.is_empty(), "{}: {:?}", f.display(), s.skipped);
        }
        assert_eq!(s.conns, rec.conns.len() as u64);
        assert_eq!(
            s.conns, s.flows,
            "every flow ends in exactly one conn record"
        );
        let mut m = [0u8; 4];
        std::io::Read::read_exact(&mut std::fs::File::open(f).expect("open"), &mut m)
            .expect("magic");
        if m == [0x0a, 0x0d, 0x0d, 0x0a] {
            pcapng += 1;
        }
    }
    assert_eq!(pcapng, 13, "corpus README: 13 pcapng files");
}

/// Frame count as tshark reports it (tshark is installed by setup.sh;
/// a missing tshark fails the test).
fn tshark_count(f: &Path) -> u64 {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(f)
        .args(["-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark must be installed (scripts/setup.sh)");
    assert!(out.status.success(), "tshark failed on {}", f.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

#[test]
fn packet_counts_match_tshark() {
    let set = [
        // pcapng, two named .pcap
        "zeek/testing/btest/Traces/irc-dcc-send.pcapng",
        "ndpi/tests/cfgs/default/pcap/tftp.pcap",
        "ndpi/tests/cfgs/default/pcap/malware.pcap",
        // big-endian classic pcap
        "zeek/testing/btest/Traces/smb/dssetup_DsRoleGetPrimaryDomainInformation_standalone_workstation.cap",
        // Linux SLL, BSD null, raw IP, raw IPv4, FDDI
        "zeek/testing/btest/Traces/tls/irc-starttls.pcap",
        "suricata-verify/tests/http-connect/http-connect-tls/input.pcap",
        "zeek/testing/btest/Traces/dns/ech.pcap",
        "zeek/testing/btest/Traces/dns/dns_extended_rcode.pcap",
        "zeek/testing/btest/Traces/dns-inverse-query.pcap",
        // Ethernet, the real bot C&C capture and a VLAN-tagged one
        "suricata-verify/tests/irc/input.pcap",
        "ndpi/tests/cfgs/default/pcap/dns.pcap",
        "suricata-verify/tests/dcerpc/zerologon/input.pcap",
    ];
    for rel in set {
        let f = corpus(rel);
        let s = read_files(
            std::slice::from_ref(&f),
            &EngineConfig::default(),
            &mut Recorder::default(),
        )
        .expect("read");
        assert_eq!(s.packets, tshark_count(&f), "{rel}");
    }
}

#[test]
fn gzip_and_zstd_inputs_read_like_plain() {
    let f = corpus("zeek/testing/btest/Traces/irc-dcc-send.pcapng");
    let plain = std::fs::read(&f).expect("read");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let zs = zstd::encode_all(&plain[..], 3).expect("zstd");
    let cfg = EngineConfig::default();
    let mut base = Recorder::default();
    let s0 = read_bytes("plain", &plain, &cfg, &mut base).expect("plain");
    for (name, data) in [("gz", gz), ("zst", zs)] {
        let mut rec = Recorder::default();
        let s = read_bytes(name, &data, &cfg, &mut rec).expect("compressed");
        assert_eq!((s.packets, s.bytes), (s0.packets, s0.bytes), "{name}");
        assert_eq!(rec.conns, base.conns, "{name}");
        assert!(s.file_errors.is_empty());
    }
    // Detection is by magic: the same bytes under a misleading name work.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("capture.txt");
    std::fs::write(&p, zstd::encode_all(&plain[..], 1).expect("zstd")).expect("write");
    let s = read_files(&[p], &cfg, &mut Recorder::default()).expect("read");
    assert_eq!(s.packets, 1184);
}
