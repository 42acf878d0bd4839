//! Every reader and both counting modes against the synthetic generator's
//! ground truth (botscope-synth writes the same queries in each format).

use botscope_dnslog::rate::RateReport;
use botscope_dnslog::read::{CsvColumns, ReadOptions, Zone};
use botscope_dnslog::{Mode, NameSet, RateConfig, RateEngine};
use botscope_synth::resolver::{write_resolver_logs, Format, ResolverSpec, ResolverTruth};
use std::path::Path;

pub fn lists(spec: &ResolverSpec) -> (NameSet, NameSet) {
    let mut watch = NameSet::new();
    for n in &spec.cc_names {
        watch.add(n).unwrap();
    }
    // The allow-listed names are on the watch list too: the allow list must win.
    let mut allow = NameSet::new();
    for n in &spec.allow_names {
        watch.add(n).unwrap();
        allow.add(&format!("zone:{n}")).unwrap();
    }
    (watch, allow)
}

pub fn run(path: &Path, spec: &ResolverSpec, cfg: RateConfig, opts: &ReadOptions) -> RateReport {
    let (watch, allow) = lists(spec);
    let mut e = RateEngine::new(cfg, &watch, &allow);
    e.read(path.to_str().unwrap(), opts);
    e.report()
}

/// Asserts a report equals the truth; `precision_us` is the log's time resolution.
pub fn assert_matches_truth(r: &RateReport, t: &ResolverTruth, precision_us: i64, what: &str) {
    assert!(
        r.files.iter().all(|f| f.error.is_none()),
        "{what}: {:?}",
        r.files
    );
    assert_eq!(r.skipped.total(), 0, "{what}: {:?}", r.skipped);
    assert_eq!(r.windows.len(), t.days.len(), "{what}");
    for (row, day) in r.windows.iter().zip(&t.days) {
        assert_eq!(
            row.window_start.as_deref().map(|s| &s[..10]),
            Some(day.day.as_str()),
            "{what}"
        );
        assert_eq!(
            (row.clients, row.infected),
            (day.distinct_clients, day.infected_clients),
            "{what} {}",
            day.day
        );
        assert_eq!(row.queries, day.queries, "{what}");
        assert!((row.rate - day.rate).abs() < 1e-12);
    }
    assert_eq!(
        (r.totals[0].clients, r.totals[0].infected),
        (t.distinct_clients, t.infected_clients),
        "{what}"
    );
    assert_eq!(r.infected.len(), t.infected.len(), "{what}");
    for (got, want) in r.infected.iter().zip(&t.infected) {
        // IPv6 clients are counted (and listed) per /64 by default.
        let want_client = match want.client {
            std::net::IpAddr::V6(a) => format!(
                "{}/64",
                std::net::Ipv6Addr::from(u128::from(a) & !((1u128 << 64) - 1))
            ),
            v4 => v4.to_string(),
        };
        assert_eq!(got.client, want_client, "{what}");
        assert_eq!(
            got.first_us,
            want.first_us.div_euclid(precision_us) * precision_us,
            "{what} {}",
            got.client
        );
        assert_eq!(
            got.last_us,
            want.last_us.div_euclid(precision_us) * precision_us,
            "{what} {}",
            got.client
        );
        assert_eq!(got.names, want.names, "{what}");
        assert_eq!(got.count, want.count, "{what}");
    }
    assert!(
        r.allowlisted_queries > 0,
        "{what}: allow-listed names were generated"
    );
}

#[test]
fn every_format_gives_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        seed: 42,
        clients: 3000,
        days: 3,
        v6_fraction: 0.1,
        formats: vec![
            Format::Bind,
            Format::Unbound,
            Format::ZeekTsv,
            Format::ZeekJson,
            Format::Dnstap,
            Format::Csv,
            Format::UnboundRfc3339,
            Format::BindSyslog,
            Format::Infoblox,
            Format::BindAnswer,
        ],
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    assert!(t.infected_clients > 30);
    // The traditional syslog wrapper carries neither zone nor year: the
    // operator says both (`--log-tz +09:00 --log-year 2005`).
    let syslog = ReadOptions {
        tz: Zone::parse("+09:00").unwrap(),
        syslog_year: Some(2005),
        ..Default::default()
    };
    // Each synthetic IPv6 client has its own /64, so per-/64 counts equal per-client truth.
    let cfg = RateConfig::default();
    let csv = ReadOptions {
        csv_columns: Some("ts=0,client=1,qname=2".parse::<CsvColumns>().unwrap()),
        ..Default::default()
    };
    for (fmt, precision, opts) in [
        ("bind", 1000, ReadOptions::default()),
        ("unbound", 1_000_000, ReadOptions::default()),
        ("zeek-tsv", 1, ReadOptions::default()),
        ("zeek-json", 1, ReadOptions::default()),
        ("dnstap", 1, ReadOptions::default()),
        ("csv", 1, csv),
        ("unbound-rfc3339", 1, ReadOptions::default()),
        ("bind-syslog", 1_000_000, syslog),
        ("infoblox", 1000, ReadOptions::default()),
        ("bind-answer", 1000, ReadOptions::default()),
    ] {
        let r = run(&t.files[fmt], &spec, cfg.clone(), &opts);
        assert_matches_truth(&r, &t, precision, fmt);
    }
}

#[test]
fn compressed_inputs_equal_plain() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        seed: 7,
        clients: 2000,
        days: 2,
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    let plain = std::fs::read(&t.files["bind"]).unwrap();
    let gz = dir.path().join("q.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    // Two gzip members, as logrotate + cat produce.
    let half = plain.len() / 2;
    enc.write_all(&plain[..half]).unwrap();
    enc.finish().unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&gz).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain[half..]).unwrap();
    f.write_all(&enc.finish().unwrap()).unwrap();
    let zst = dir.path().join("q.log.zst");
    std::fs::write(&zst, zstd::encode_all(&plain[..], 3).unwrap()).unwrap();
    for p in [&gz, &zst] {
        let r = run(p, &spec, RateConfig::default(), &ReadOptions::default());
        assert_matches_truth(&r, &t, 1000, &p.display().to_string());
    }
}

#[test]
fn approximate_mode_is_within_its_stated_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        seed: 9,
        clients: 60_000,
        days: 1,
        queries_per_client: 2,
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    let cfg = RateConfig {
        mode: Mode::Approx {
            precision: 14,
            seed: 1,
        },
        ..Default::default()
    };
    let r = run(&t.files["bind"], &spec, cfg, &ReadOptions::default());
    let e = r.relative_error.unwrap();
    assert!((e - 0.0081).abs() < 0.0001);
    let within = |got: u64, want: u64| ((got as f64 - want as f64).abs() / want as f64) < 3.0 * e;
    assert!(
        within(r.totals[0].clients, t.distinct_clients),
        "{} vs {}",
        r.totals[0].clients,
        t.distinct_clients
    );
    assert!(
        within(r.totals[0].infected, t.infected_clients),
        "{} vs {}",
        r.totals[0].infected,
        t.infected_clients
    );
    // The infected list is always exact.
    assert_eq!(r.infected.len() as u64, t.infected_clients);
}

#[test]
fn parallel_read_equals_single_pass() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        seed: 3,
        clients: 40_000,
        days: 2,
        queries_per_client: 3,
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    let path = t.files["bind"].to_str().unwrap().to_string();
    assert!(
        std::fs::metadata(&path).unwrap().len() > botscope_dnslog::parallel::MIN_PARALLEL_BYTES
    );
    let (watch, allow) = lists(&spec);
    for threads in [2, 3] {
        let e = botscope_dnslog::parallel::read_parallel(
            &path,
            &ReadOptions::default(),
            threads,
            || RateEngine::new(RateConfig::default(), &watch, &allow),
        )
        .expect("a plain BIND log is cut");
        let r = e.report();
        assert_eq!(r.files.len(), 1);
        assert_eq!(r.files[0].queries, t.queries);
        assert_matches_truth(&r, &t, 1000, &format!("{threads} threads"));
    }
}
