//! Micro-benchmarks of the resolver-log hot loops (issue 19), so a
//! regression shows before `bench/dns.sh` does:
//!
//! - `bind_parse`: one BIND 9 query line into a [`Query`]
//!   (`10k_lines`), and the one-pass walk of BIND's common shape alone
//!   (`10k_lines_scan_common`: client address and query name);
//! - `watch_lookup`: the watch-list test of a logged name (prefilter,
//!   normalisation, hash lookups);
//! - `client_set`: exact distinct-client inserts with sparse IPv4 clients
//!   (roaring array containers, the case that was quadratic);
//! - `name_score`: the suspected tier's verdict on a logged name
//!   (registrable label, trigram surprise, entropy; issue 20), uncached;
//! - `pattern_match`: a watch list with patterns (`bot-??.zone`) against
//!   names under the pattern's suffix and others;
//! - `rate_pipeline`: lines in memory through the BIND reader into a
//!   [`RateEngine`] (what `botscope dns rate` does per thread), read
//!   through `read` calls (`bind_200k_lines`) and from a mapped file
//!   (`bind_200k_lines_mapped`, how `dns rate` reads a plain file).
//!
//! Run: `cargo bench -p botscope-dnslog --bench hot_loops`.

use botscope_dnslog::clients::ExactSet;
use botscope_dnslog::read::bind::{scan_common, BindParser};
use botscope_dnslog::read::mapped::Mapped;
use botscope_dnslog::read::stamp::{Clock, YearRule};
use botscope_dnslog::read::{read_from, read_mapped, FileStats, Query, ReadOptions, Zone};
use botscope_dnslog::{NameSet, RateConfig, RateEngine};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

/// A small deterministic generator (64-bit LCG, high bits used).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

/// Benign names; [`WATCHED`] is drawn for about 1 query in 40 (the
/// generator's 2.4 % infected clients).
const NAMES: [&str; 6] = [
    "www.example.com",
    "mail.example.org",
    "cdn.example.com",
    "news.example.net",
    "update.vendor.test",
    "irc.libera.chat",
];
const WATCHED: &str = "cc.bot-herder.test";

fn pick_name(r: &mut Lcg) -> &'static str {
    let x = r.next();
    if x.is_multiple_of(40) {
        WATCHED
    } else {
        NAMES[(x / 40) as usize % NAMES.len()]
    }
}

/// `n` query lines shaped like `botscope dns gen` writes them: one day,
/// `clients` random addresses in 10.0.0.0/8.
fn bind_log(n: usize, clients: u32) -> Vec<u8> {
    let mut r = Lcg(7);
    let pool: Vec<u32> = (0..clients)
        .map(|_| 0x0a00_0000 | (r.next() & 0xff_ffff))
        .collect();
    let mut out = Vec::with_capacity(n * 150);
    for i in 0..n {
        let c = pool[r.next() as usize % pool.len()];
        let name = pick_name(&mut r);
        let ms = i as u64 * 86_400_000 / n as u64;
        let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        out.extend_from_slice(
            format!(
                "21-Apr-2005 {h:02}:{m:02}:{s:02}.{f:03} queries: info: client @0x7f3a{:08x} {}.{}.{}.{}#{} ({name}): query: {name} IN A +E(0)K (192.0.2.53)\n",
                r.next(),
                c >> 24,
                (c >> 16) & 255,
                (c >> 8) & 255,
                c & 255,
                1024 + r.next() % 60000
            )
            .as_bytes(),
        );
    }
    out
}

fn watch_list() -> NameSet {
    let mut w = NameSet::new();
    w.add("cc.bot-herder.test").unwrap();
    w.add("irc.evil-c2.test").unwrap();
    w
}

fn bind_parse(c: &mut Criterion) {
    let log = bind_log(10_000, 5_000);
    let lines: Vec<&[u8]> = log
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut g = c.benchmark_group("bind_parse");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("10k_lines", |b| {
        let mut p = BindParser::new(Clock::new(Zone::Fixed(0), YearRule::Fixed(2005)), false);
        b.iter(|| {
            let mut sum = 0i64;
            for l in &lines {
                if let Ok(q) = p.parse(l) {
                    sum = sum.wrapping_add(q.ts_us ^ q.qname.len() as i64);
                }
            }
            black_box(sum)
        })
    });
    g.bench_function("10k_lines_scan_common", |b| {
        let after: Vec<&[u8]> = lines
            .iter()
            .map(|l| {
                let c = memchr::memmem::find(l, b"client ").unwrap();
                &l[c + 7..]
            })
            .collect();
        b.iter(|| {
            let mut sum = 0usize;
            for s in &after {
                if let Some((client, qname)) = scan_common(s) {
                    sum = sum.wrapping_add(client.is_ipv4() as usize + qname.len());
                }
            }
            black_box(sum)
        })
    });
    g.finish();
}

fn watch_lookup(c: &mut Criterion) {
    let w = watch_list();
    let names: Vec<&[u8]> = (0..1000)
        .map(|i| NAMES[i % NAMES.len()].as_bytes())
        .collect();
    let mut g = c.benchmark_group("watch_lookup");
    g.throughput(Throughput::Elements(names.len() as u64));
    g.bench_function("1k_names", |b| {
        let mut buf = Vec::with_capacity(256);
        b.iter(|| {
            let mut hits = 0u32;
            for n in &names {
                if w.may_match_raw(n)
                    && botscope_dnslog::name::normalize_qname_into(n, &mut buf)
                    && w.matches(&buf)
                {
                    hits += 1;
                }
            }
            black_box(hits)
        })
    });
    g.finish();
}

fn name_score(c: &mut Criterion) {
    use botscope_dnslog::dga::{looks_generated, NgramModel, Thresholds};
    let m = NgramModel::builtin();
    let t = Thresholds::default();
    let mut r = Lcg(20);
    // Half ordinary names, half random 8–19 letter labels.
    let names: Vec<Vec<u8>> = (0..1000)
        .map(|i| {
            if i % 2 == 0 {
                NAMES[i / 2 % NAMES.len()].as_bytes().to_vec()
            } else {
                let len = 8 + r.next() as usize % 12;
                let mut n: Vec<u8> = (0..len).map(|_| b'a' + (r.next() % 26) as u8).collect();
                n.extend_from_slice(b".com");
                n
            }
        })
        .collect();
    let mut g = c.benchmark_group("name_score");
    g.throughput(Throughput::Elements(names.len() as u64));
    g.bench_function("1k_names", |b| {
        b.iter(|| {
            let n = names.iter().filter(|n| looks_generated(m, &t, n)).count();
            black_box(n)
        })
    });
    g.finish();
}

fn pattern_match(c: &mut Criterion) {
    let mut w = NameSet::new();
    for e in [
        "bot-??.example.org",
        "[a-z]{12}.dyn.example",
        "**.cdn-[0-9]{2,3}.example.net",
    ] {
        w.add(e).expect("valid pattern");
    }
    let names: Vec<&[u8]> = [
        &b"bot-01.example.org"[..],
        b"www.example.org",
        b"abcdefghijkl.dyn.example",
        b"a.b.cdn-123.example.net",
        b"www.example.com",
    ]
    .iter()
    .cycle()
    .take(1000)
    .copied()
    .collect();
    let mut g = c.benchmark_group("pattern_match");
    g.throughput(Throughput::Elements(names.len() as u64));
    g.bench_function("1k_names", |b| {
        b.iter(|| black_box(names.iter().filter(|n| w.matches(n)).count()))
    });
    g.finish();
}

fn client_set(c: &mut Criterion) {
    // 100k sparse clients over a /8, each seen 10 times in random order.
    let mut r = Lcg(11);
    let pool: Vec<u32> = (0..100_000)
        .map(|_| 0x0a00_0000 | (r.next() & 0xff_ffff))
        .collect();
    let keys: Vec<u128> = (0..1_000_000)
        .map(|_| 0xffff_0000_0000 | pool[r.next() as usize % pool.len()] as u128)
        .collect();
    let mut g = c.benchmark_group("client_set");
    g.throughput(Throughput::Elements(keys.len() as u64));
    g.sample_size(10);
    g.bench_function("exact_1M_inserts_100k_sparse_v4", |b| {
        b.iter(|| {
            let mut s = ExactSet::new();
            for k in &keys {
                s.insert(*k);
            }
            s.flush();
            black_box(s.len())
        })
    });
    g.finish();
}

fn rate_pipeline(c: &mut Criterion) {
    let log = bind_log(200_000, 20_000);
    let (watch, allow) = (watch_list(), NameSet::new());
    let opts = ReadOptions {
        syslog_year: Some(2005),
        ..Default::default()
    };
    let mut g = c.benchmark_group("rate_pipeline");
    g.throughput(Throughput::Elements(200_000));
    g.sample_size(10);
    g.bench_function("bind_200k_lines", |b| {
        b.iter_batched(
            || RateEngine::new(RateConfig::default(), &watch, &allow),
            |mut e| {
                let mut stats = FileStats::default();
                let mut skips = Default::default();
                let mut cur = std::io::Cursor::new(&log[..]);
                read_from(
                    &mut cur,
                    "bench",
                    &opts,
                    &mut |q: &Query<'_>| e.observe(q, "bench"),
                    &mut skips,
                    &mut stats,
                )
                .unwrap();
                black_box(e.report().totals[0].clients)
            },
            BatchSize::LargeInput,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("query.log");
    std::fs::write(&path, &log).unwrap();
    let path = path.to_str().unwrap();
    g.bench_function("bind_200k_lines_mapped", |b| {
        b.iter_batched(
            || RateEngine::new(RateConfig::default(), &watch, &allow),
            |mut e| {
                let mut stats = FileStats::default();
                let mut skips = Default::default();
                let map = Mapped::open(path).unwrap();
                read_mapped(
                    &map,
                    0..log.len(),
                    "bench",
                    &opts,
                    &mut |q: &Query<'_>| e.observe(q, "bench"),
                    &mut skips,
                    &mut stats,
                )
                .unwrap();
                black_box(e.report().totals[0].clients)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    bind_parse,
    watch_lookup,
    name_score,
    pattern_match,
    client_set,
    rate_pipeline
);
criterion_main!(benches);
