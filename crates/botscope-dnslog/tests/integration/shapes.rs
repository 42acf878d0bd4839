//! Resolver-log shapes (issue 15): the stamp formats and line forms of
//! BIND 9.18 and Unbound 1.17 proven on logs the real servers write on
//! loopback (local-time stamps in a non-UTC zone read with `--log-tz`,
//! yearless stamps completed from the file's mtime, undated lines kept for
//! `--window all`), and the documented shapes the installed versions do
//! not write (rsyslog RFC 3339, BIND 9.20 `response:`, Infoblox) read from
//! files.

use super::read_all;
use super::servers::{ask, free_port, now_us, stop, wait_ready};
use botscope_dnslog::read::{ReadOptions, Zone, NO_TS};
use botscope_dnslog::{NameSet, RateConfig, RateEngine};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};

const N: u32 = 24;

fn client(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 3, 0, (i + 1) as u8)
}

fn name(i: u32) -> &'static str {
    if i % 5 == 2 {
        "cc.bot-herder.test"
    } else {
        "www.ordinary.test"
    }
}

/// Sends one query per client; returns (client, name) in order.
fn send(server: SocketAddr) -> Vec<(String, String)> {
    (0..N)
        .map(|i| {
            assert!(ask(client(i), server, name(i), 500 + i as u16));
            (client(i).to_string(), name(i).to_string())
        })
        .collect()
}

fn tokyo() -> Zone {
    Zone::parse("Asia/Tokyo").expect("tzdata must be installed (scripts/setup.sh)")
}

const NINE_H: i64 = 9 * 3600 * 1_000_000;

/// (client, name) of the queries read, minus the readiness probes.
fn pairs(qs: &[super::Owned]) -> Vec<(String, String)> {
    qs.iter()
        .filter(|q| q.1 != "127.0.0.1")
        .map(|q| (q.1.clone(), q.2.trim_end_matches('.').to_string()))
        .collect()
}

const ZONE: &str = "$TTL 60\n@ IN SOA ns.test. root.test. ( 1 3600 600 86400 60 )\n@ IN NS ns.test.\nns IN A 127.0.0.1\n\
www.ordinary IN A 10.0.0.1\nready.ordinary IN A 10.0.0.2\ncc.bot-herder IN A 10.6.6.6\n";

/// BIND 9.18 with one query channel per `print-time` setting
/// (bin/named/logconf.c: yes = `DD-Mon-YYYY HH:MM:SS.mmm` local,
/// iso8601 = local ISO without zone, iso8601-utc = ISO with `Z`, no = none),
/// run with TZ=Asia/Tokyo. The channels format one `isc_time` per message
/// (lib/isc/log.c), so every file names the same instants.
#[test]
fn bind918_print_time_variants_and_log_tz() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let port = free_port();
    std::fs::write(dir.path().join("test.zone"), ZONE).unwrap();
    let chan = |n: &str, pt: &str| {
        format!("channel {n} {{ file \"{d}/{n}.log\"; print-time {pt}; print-category yes; print-severity yes; severity info; }};\n")
    };
    let conf = format!(
        "options {{ directory \"{d}\"; pid-file \"{d}/named.pid\"; listen-on port {port} {{ 127.0.0.1; }};\n\
         listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; querylog yes;\n\
         session-keyfile \"{d}/session.key\"; managed-keys-directory \"{d}\"; }};\ncontrols {{ }};\n\
         logging {{ {}{}{}{} category queries {{ local; iso; isoutc; none; }};\n\
         channel r {{ file \"{d}/named.run\"; severity info; }}; category default {{ r; }}; }};\n\
         zone \"test\" {{ type primary; file \"{d}/test.zone\"; }};\n",
        chan("local", "yes"),
        chan("iso", "iso8601"),
        chan("isoutc", "iso8601-utc"),
        chan("none", "no"),
    );
    let conf_path = dir.path().join("named.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    let t0 = now_us() - 1_000_000;
    let mut named = Command::new("named")
        .args(["-f", "-n", "1", "-c", conf_path.to_str().unwrap()])
        .env("TZ", "Asia/Tokyo")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("named (bind9) must be installed: scripts/setup.sh");
    wait_ready(server, &mut named, "named");
    let sent = send(server);
    stop(named, "named");
    let t1 = now_us() + 1_000_000;
    let log = |n: &str| dir.path().join(format!("{n}.log")).display().to_string();
    let in_tokyo = ReadOptions {
        tz: tokyo(),
        ..Default::default()
    };
    // The UTC reference: iso8601-utc needs no zone.
    let (utc_qs, st, _) = read_all(&log("isoutc"), &ReadOptions::default());
    assert_eq!(st.format, Some(botscope_dnslog::LogFormat::Bind));
    assert_eq!(pairs(&utc_qs), sent, "iso8601-utc");
    assert!(
        utc_qs.iter().all(|q| q.0 >= t0 && q.0 <= t1),
        "{utc_qs:?} outside [{t0}, {t1}]"
    );
    // Local stamps read in the server's zone name the same instants.
    for ch in ["local", "iso"] {
        let (qs, st, _) = read_all(&log(ch), &in_tokyo);
        assert_eq!(st.skipped, 0, "{ch}");
        assert_eq!(qs, utc_qs, "{ch} read with --log-tz Asia/Tokyo");
        // Read as UTC (the default) they are nine hours late.
        let (as_utc, _, _) = read_all(&log(ch), &ReadOptions::default());
        assert_eq!(as_utc.len(), utc_qs.len());
        for (a, b) in as_utc.iter().zip(&utc_qs) {
            assert_eq!(a.0 - b.0, NINE_H, "{ch}");
        }
        // A fixed offset does the same as the zone name.
        let plus9 = ReadOptions {
            tz: Zone::parse("+09:00").unwrap(),
            ..Default::default()
        };
        assert_eq!(read_all(&log(ch), &plus9).0, utc_qs, "{ch} +09:00");
    }
    // print-time no: every line lacks a stamp; skipped by default…
    let (qs, st, skips) = read_all(&log("none"), &ReadOptions::default());
    assert!(qs.is_empty());
    assert_eq!(st.skipped, utc_qs.len() as u64);
    assert_eq!(skips.by_reason["no time stamp"].0, utc_qs.len() as u64);
    assert_eq!(
        skips.by_reason["no time stamp"].1[0],
        format!("{} line 1", log("none"))
    );
    // …counted with keep_undated (`--window all`), each one marked.
    let keep = ReadOptions {
        keep_undated: true,
        ..Default::default()
    };
    let (qs, st, _) = read_all(&log("none"), &keep);
    assert_eq!(
        (st.queries, st.undated, st.skipped),
        (utc_qs.len() as u64, utc_qs.len() as u64, 0)
    );
    assert_eq!(pairs(&qs), sent);
    assert!(qs.iter().all(|q| q.0 == NO_TS));
    // Through the rate engine with one window: 24 clients + the probe,
    // infected 127.3.0.3, .8, .13, .18, .23 with unknown first/last times.
    let mut watch = NameSet::new();
    watch.add("cc.bot-herder.test").unwrap();
    let allow = NameSet::new();
    let cfg = RateConfig {
        window_us: 0,
        ..Default::default()
    };
    let mut e = RateEngine::new(cfg, &watch, &allow);
    e.read(&log("none"), &keep);
    let r = e.report();
    assert_eq!(
        (r.totals[0].clients, r.totals[0].infected),
        (N as u64 + 1, 5)
    );
    assert_eq!(r.files[0].undated, utc_qs.len() as u64);
    let inf: Vec<_> = r
        .infected
        .iter()
        .map(|i| (i.client.as_str(), i.first_seen.as_str()))
        .collect();
    assert_eq!(
        inf,
        vec![
            ("127.3.0.3", "-"),
            ("127.3.0.8", "-"),
            ("127.3.0.13", "-"),
            ("127.3.0.18", "-"),
            ("127.3.0.23", "-")
        ]
    );
}

fn unbound_run(extra: &str) -> (tempfile::TempDir, Vec<(String, String)>, i64, i64) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let port = free_port();
    let conf = format!(
        "server:\n  interface: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n\
         directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  logfile: \"{d}/unbound.log\"\n  use-syslog: no\n{extra}\
         verbosity: 0\n  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n\
         local-zone: \"test.\" static\n  local-data: \"www.ordinary.test. A 10.0.0.1\"\n  local-data: \"ready.ordinary.test. A 10.0.0.2\"\n\
         local-data: \"cc.bot-herder.test. A 10.6.6.6\"\nremote-control:\n  control-enable: no\n"
    );
    let conf_path = dir.path().join("unbound.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    let t0 = now_us() - 1_000_000;
    let mut unbound = Command::new("unbound")
        .args(["-d", "-c", conf_path.to_str().unwrap()])
        .env("TZ", "Asia/Tokyo")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unbound must be installed: scripts/setup.sh");
    wait_ready(server, &mut unbound, "unbound");
    let sent = send(server);
    stop(unbound, "unbound");
    let t1 = now_us() + 1_000_000;
    (dir, sent, t0 / 1_000_000 * 1_000_000, t1)
}

fn check_unbound(path: &Path, sent: &[(String, String)], t0: i64, t1: i64, what: &str) {
    let opts = ReadOptions {
        tz: tokyo(),
        ..Default::default()
    };
    let (qs, st, skips) = read_all(path.to_str().unwrap(), &opts);
    assert_eq!(
        st.format,
        Some(botscope_dnslog::LogFormat::Unbound),
        "{what}"
    );
    assert_eq!(pairs(&qs), sent, "{what}: {skips:?}");
    // `%b %d %H:%M:%S` in Tokyo time, no year: the year comes from the
    // file's mtime, the zone from --log-tz.
    assert!(
        qs.iter().all(|q| q.0 >= t0 && q.0 <= t1),
        "{what}: {qs:?} outside [{t0}, {t1}]"
    );
    // Read as UTC they are nine hours late.
    let (utc, _, _) = read_all(path.to_str().unwrap(), &ReadOptions::default());
    assert!(
        utc.iter().zip(&qs).all(|(a, b)| a.0 - b.0 == NINE_H),
        "{what}"
    );
}

/// Unbound 1.17, `log-time-ascii: yes` (util/log.c `%b %d %H:%M:%S`,
/// local time), `log-queries` + `log-replies` with `log-tag-queryreply`
/// (`query:` / `reply:` lines): each query counted once.
#[test]
fn unbound_ascii_time_tagged_queries_and_replies() {
    let (dir, sent, t0, t1) = unbound_run(
        "  log-time-ascii: yes\n  log-queries: yes\n  log-replies: yes\n  log-tag-queryreply: yes\n",
    );
    let log = dir.path().join("unbound.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let first = text
        .lines()
        .find(|l| l.contains(" query: 127.3.0.1 "))
        .unwrap();
    // The shape the server wrote: `Mon DD HH:MM:SS unbound[PID:0] query: …`.
    assert!(
        first.as_bytes()[3] == b' ' && first[15..].starts_with(" unbound["),
        "{first}"
    );
    assert!(
        first.ends_with(" query: 127.3.0.1 www.ordinary.test. A IN"),
        "{first}"
    );
    assert!(text.contains(" reply: 127.3.0.1 www.ordinary.test. A IN NOERROR "));
    check_unbound(&log, &sent, t0, t1, "queries + replies");
    let (_, st, skips) = read_all(log.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(
        skips.by_reason["reply line (queries are logged)"].0, st.queries,
        "one reply per query"
    );
}

/// Unbound 1.17 with only `log-replies` (the `info:` reply shape of
/// msgreply.c `log_reply_info`): counted from the replies.
#[test]
fn unbound_ascii_time_replies_only() {
    let (dir, sent, t0, t1) = unbound_run("  log-time-ascii: yes\n  log-replies: yes\n");
    let log = dir.path().join("unbound.log");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(" info: 127.3.0.1 www.ordinary.test. A IN NOERROR "),
        "{text}"
    );
    check_unbound(&log, &sent, t0, t1, "replies only");
}

/// The issue's lines and the documented shapes the installed servers do
/// not write, in one file each, through `read_input`.
#[test]
fn issue15_lines_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let utc = |s: &str| botscope_core::Ts::parse_rfc3339(s).unwrap().0;
    // rsyslog's default file format (RFC 3339) around Unbound's syslog(3)
    // message `[pid:tid] info: …` (util/log.c log_vmsg).
    let p = dir.path().join("unbound-rsyslog.log");
    std::fs::write(
        &p,
        "2023-10-08T11:29:05.123456+02:00 host unbound[812]: [812:0] info: 192.0.2.7 cc.evil.test. A IN\n\
         2023-10-08T11:29:06.5+02:00 host unbound[812]: [812:0] info: 2001:db8::9 x.test. AAAA IN\n",
    )
    .unwrap();
    let (qs, st, _) = read_all(p.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(st.format, Some(botscope_dnslog::LogFormat::Unbound));
    assert_eq!(
        qs,
        vec![
            (
                utc("2023-10-08T09:29:05.123456Z"),
                "192.0.2.7".into(),
                "cc.evil.test.".into(),
                None
            ),
            (
                utc("2023-10-08T09:29:06.5Z"),
                "2001:db8::9".into(),
                "x.test.".into(),
                None
            ),
        ]
    );
    // BIND 9.20 `response:` lines only (lib/ns/query.c log_response) and a
    // bad one, named by file and line.
    let p = dir.path().join("responses.log");
    std::fs::write(
        &p,
        "08-Oct-2023 11:29:05.123 responses: info: client @0x7f0a 192.0.2.7#41000 (cc.evil.test): response: cc.evil.test IN A NOERROR 1 0 0 +E(0)K (192.0.2.53)\n\
         08-Oct-2023 11:29:05.200 responses: info: client @0x7f0a 300.0.2.7#41000 (cc.evil.test): response: cc.evil.test IN A NOERROR 1 0 0 +E(0)K (192.0.2.53)\n\
         08-Oct-2023 11:29:06.001 responses: info: client @0x7f0a 2001:db8::5#41000 (x.test): response: x.test IN AAAA NXDOMAIN 0 1 0 +E(0)K (2001:db8::53)\n",
    )
    .unwrap();
    let (qs, st, skips) = read_all(p.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(
        qs,
        vec![
            (
                utc("2023-10-08T11:29:05.123Z"),
                "192.0.2.7".into(),
                "cc.evil.test".into(),
                Some("192.0.2.53".into())
            ),
            (
                utc("2023-10-08T11:29:06.001Z"),
                "2001:db8::5".into(),
                "x.test".into(),
                Some("2001:db8::53".into())
            ),
        ]
    );
    assert_eq!((st.records, st.skipped), (3, 1));
    assert_eq!(
        skips.by_reason["bad client address"],
        (1, vec![format!("{} line 2", p.display())])
    );
    // BIND 9.20 with `querylog` and `responselog` both on: each query is
    // counted once, from its `query:` line.
    let p = dir.path().join("both.log");
    std::fs::write(
        &p,
        "08-Oct-2023 11:29:05.123 responses: info: client @0x7f0a 192.0.2.7#41000 (x.test): response: x.test IN A NOERROR 1 0 0 +E(0)K (192.0.2.53)\n\
         08-Oct-2023 11:29:05.122 queries: info: client @0x7f0a 192.0.2.7#41000 (x.test): query: x.test IN A +E(0)K (192.0.2.53)\n",
    )
    .unwrap();
    let (qs, st, skips) = read_all(p.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(qs.len(), 1, "{qs:?}");
    assert_eq!(qs[0].0, utc("2023-10-08T11:29:05.122Z"));
    assert_eq!(
        skips.by_reason["response line (queries are logged)"],
        (1, vec![format!("{} line 1", p.display())])
    );
    assert_eq!(st.skipped, 1);
}

/// Traditional syslog has no year: `--log-year` wins; else the file's
/// mtime (a log covers at most the twelve months up to its last write).
#[test]
fn yearless_stamps_take_the_year_from_the_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("named-syslog.log");
    std::fs::write(
        &p,
        "Dec 31 23:59:58 ns1 named[123]: client @0x7f 192.0.2.7#4100 (a.test): query: a.test IN A + (192.0.2.53)\n\
         Jan  1 00:00:03 ns1 named[123]: client @0x7f 192.0.2.8#4100 (b.test): query: b.test IN A + (192.0.2.53)\n",
    )
    .unwrap();
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_182_400); // 2024-01-02T08:00:00Z
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let utc = |s: &str| botscope_core::Ts::parse_rfc3339(s).unwrap().0;
    let (qs, _, _) = read_all(p.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(
        qs.iter().map(|q| q.0).collect::<Vec<_>>(),
        vec![utc("2023-12-31T23:59:58Z"), utc("2024-01-01T00:00:03Z")]
    );
    let fixed = ReadOptions {
        syslog_year: Some(2019),
        ..Default::default()
    };
    let (qs, _, _) = read_all(p.to_str().unwrap(), &fixed);
    assert_eq!(
        qs.iter().map(|q| q.0).collect::<Vec<_>>(),
        vec![utc("2019-12-31T23:59:58Z"), utc("2019-01-01T00:00:03Z")]
    );
    // In Tokyo (+09:00) the same stamps are nine hours earlier in UTC.
    let tk = ReadOptions {
        tz: tokyo(),
        ..Default::default()
    };
    let (qs, _, _) = read_all(p.to_str().unwrap(), &tk);
    assert_eq!(qs[0].0, utc("2023-12-31T14:59:58Z"));
}
