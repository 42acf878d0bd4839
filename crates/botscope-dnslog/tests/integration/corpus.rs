//! Readers against the peer corpus (`tests/corpus`): BIND's dnstap file and
//! its expected text rendering, dnsdist's dnstap file and Zeek's TSV dns.log
//! baselines; and against BIND/Infoblox syslog lines and Zeek JSON dns.log
//! lines written for botscope in those formats (`tests/data`).

use super::{corpus, data, read_all};
use botscope_dnslog::read::dnstap::{decode_frame, TYPE_CODES};
use botscope_dnslog::read::{LogFormat, ReadOptions};
use std::io::Read;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Renders a record as BIND's `dns_dt_datatotext` does (TZ=PDT8 as in BIND's test).
fn render(r: &botscope_dnslog::read::dnstap::DnstapRecord) -> String {
    let local = r.ts_us - 8 * 3600 * 1_000_000;
    let secs = local.div_euclid(1_000_000);
    let (y, m, d) = botscope_core::time::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (qa, qp) = r.query_addr.unwrap();
    let (ra, rp) = r.response_addr.unwrap();
    let (name, qtype, qclass) = r.question.clone().unwrap();
    format!(
        "{d:02}-{}-{y} {:02}:{:02}:{:02}.{:03} {} {qa}:{qp} {} {ra}:{rp} {} {}b {name}/{}/{}",
        MONTHS[m as usize - 1],
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        local.rem_euclid(1_000_000) / 1000,
        TYPE_CODES[r.kind as usize],
        if r.is_query() { "->" } else { "<-" },
        match r.protocol {
            Some(1) => "UDP",
            Some(2) => "TCP",
            _ => "?",
        },
        r.size,
        if qclass == 1 { "IN" } else { "?" },
        match qtype {
            1 => "A",
            28 => "AAAA",
            _ => "?",
        },
    )
}

/// Splits a Frame Streams file into its data frames (test helper, trusted input).
fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut p = 0;
    while p + 4 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[p..p + 4].try_into().unwrap()) as usize;
        p += 4;
        if len == 0 {
            let cl = u32::from_be_bytes(bytes[p..p + 4].try_into().unwrap()) as usize;
            p += 4 + cl;
            continue;
        }
        out.push(bytes[p..p + len].to_vec());
        p += len;
    }
    out
}

#[test]
fn bind_dnstap_frames_render_like_bind() {
    let dir = corpus().join("bind9/tests/dns/testdata/dnstap");
    let bytes = std::fs::read(dir.join("dnstap.saved")).unwrap();
    let expected = std::fs::read_to_string(dir.join("dnstap.text")).unwrap();
    let fr = frames(&bytes);
    assert_eq!(fr.len(), 96);
    let got: Vec<String> = fr
        .iter()
        .map(|f| render(&decode_frame(f).unwrap()))
        .collect();
    let want: Vec<&str> = expected.lines().collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "frame {}", i + 1);
    }
}

#[test]
fn bind_dnstap_file_counts_client_side_queries() {
    let path = corpus().join("bind9/tests/dns/testdata/dnstap/dnstap.saved");
    let (qs, stats, skips) = read_all(path.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(stats.format, Some(LogFormat::Dnstap));
    assert_eq!(stats.error, None);
    assert_eq!(stats.records, 96);
    assert_eq!(skips.total(), 0);
    // 8 CLIENT_QUERY + 8 AUTH_QUERY frames; responses are not counted once queries were seen.
    assert_eq!(qs.len(), 16);
    assert!(qs.iter().all(|q| q.1 == "10.53.0.1"
        && q.2 == "www.isc.org"
        && q.3.as_deref() == Some("10.53.0.2")));
    let all = ReadOptions {
        dnstap_all_queries: true,
        ..Default::default()
    };
    let (qs, _, _) = read_all(path.to_str().unwrap(), &all);
    assert_eq!(qs.len(), 48); // every *Q frame
}

#[test]
fn bind_dnstap_parser_cases() {
    let dir = corpus().join("bind9/tests/dns/testdata/dnstap");
    let rd = |n: &str| std::fs::read(dir.join(n)).unwrap();
    let q = decode_frame(&rd("correct_query_nanosec.dnstap")).unwrap();
    assert!(q.is_query());
    let r = decode_frame(&rd("correct_response_nanosec.dnstap")).unwrap();
    assert!(!r.is_query());
    assert_eq!(
        decode_frame(&rd("query_time_nanosec_big.dnstap")),
        Err("dnstap nanoseconds out of range")
    );
    assert_eq!(
        decode_frame(&rd("response_time_nanosec_big.dnstap")),
        Err("dnstap nanoseconds out of range")
    );
    assert_eq!(
        decode_frame(&rd("invalid_message_type.dnstap")),
        Err("unknown dnstap message type")
    );
}

#[test]
fn bind_large_answer_fstrm_has_one_auth_response() {
    let path = corpus().join("bind9/bin/tests/system/dnstap/large-answer.fstrm");
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let fr = frames(&bytes);
    assert_eq!(fr.len(), 1);
    let r = decode_frame(&fr[0]).unwrap();
    assert_eq!(TYPE_CODES[r.kind as usize], "AR");
    assert_eq!(
        r.question.as_ref().map(|q| (q.0.as_str(), q.1)),
        Some(("example", 1))
    );
}

#[test]
fn dnsdist_dnstap_file() {
    let path = corpus().join("go-dnscollector/tests/testsdata/dnstap/dnstap.fstrm");
    let (qs, stats, _) = read_all(path.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(stats.records, 2);
    assert_eq!(stats.error, None);
    // The CLIENT_QUERY counts; the CLIENT_RESPONSE after it does not.
    assert_eq!(qs.len(), 1);
    assert_eq!(
        (qs[0].1.as_str(), qs[0].2.as_str(), qs[0].3.as_deref()),
        ("172.19.0.1", "www.google.com", Some("172.19.0.2"))
    );
}

/// 28 syslog lines in the shapes BIND's query log and Infoblox NIOS write
/// (query lines with and without BIND's own stamp, `queries:` and
/// `infoblox-responses:` categories, views, CH TXT) among lines a query-log
/// reader must skip (failures, RPZ, CEF, NOTIFY, transfers, DNSSEC).
#[test]
fn infoblox_and_bind_syslog_lines() {
    let path = data("bind-syslog.log");
    let opts = ReadOptions {
        syslog_year: Some(2022),
        ..Default::default()
    };
    let (qs, stats, skips) = read_all(path.to_str().unwrap(), &opts);
    assert_eq!(stats.format, Some(LogFormat::Bind));
    assert_eq!(stats.records, 28);
    let want: Vec<(&str, &str)> = vec![
        ("192.0.2.10", "www.example.com"),
        ("192.0.2.10", "blocked.example"),
        ("192.0.2.10", "mail.example.com"),
        ("192.0.2.10", "nope.example.com"),
        ("192.0.2.10", "www.example.com"),
        ("192.0.2.20", "txt.example.org"),
        ("203.0.113.45", "update.example.com"),
        ("203.0.113.45", "cdn.example.net"),
        ("198.51.100.30", "30.100.51.198.rev.example.net"),
        ("198.51.100.30", "settings.example.com"),
        ("198.51.100.30", "tunnel.example.test"),
        ("192.0.2.99", "version.bind"),
    ];
    let got: Vec<(&str, &str)> = qs.iter().map(|q| (q.1.as_str(), q.2.as_str())).collect();
    assert_eq!(got, want);
    assert_eq!(stats.skipped, 16);
    assert_eq!(skips.by_reason["not a query line"].0, 16);
    // BIND's own stamp wins over the syslog one; syslog-only lines use --syslog-year.
    let ts = |s: &str| botscope_core::Ts::parse_rfc3339(s).unwrap().0;
    assert_eq!(qs[0].0, ts("2021-06-03T10:12:44.118Z"));
    assert_eq!(qs[5].0, ts("2022-06-01T23:59:58Z"));
    assert_eq!(qs[5].3.as_deref(), Some("192.0.2.1"));
    assert_eq!(qs[7].3.as_deref(), Some("198.51.100.10"));
}

/// Zeek JSON dns.log lines (unicast, mDNS over IPv6 and IPv4) and one
/// Splunk-wrapped record, the bad line.
#[test]
fn zeek_json_dns_log() {
    let path = data("zeek-dns.json.log");
    let (qs, stats, skips) = read_all(path.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(stats.format, Some(LogFormat::ZeekJson));
    assert_eq!(stats.records, 8);
    assert_eq!(qs.len(), 7);
    assert_eq!(
        qs[0],
        (
            1_590_000_000_123_456,
            "192.0.2.10".into(),
            "a1b2c3d4e5f6.eu-west-1.example.cloud".into(),
            Some("192.0.2.1".into())
        )
    );
    assert_eq!(qs[1].1, "fe80::1c2:33ff:fe44:5566");
    assert_eq!(qs[2].3.as_deref(), Some("224.0.0.251"));
    // The Splunk-wrapped record is the one bad line.
    assert_eq!(skips.total(), 1);
}

#[test]
fn zeek_tsv_baselines() {
    // Zeek masks `ts` in its baselines; give each file a real time first.
    let root = corpus().join("zeek/testing/btest/Baseline");
    let tmp = tempfile::tempdir().unwrap();
    let mut files = 0;
    let mut total = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let p = entry.unwrap().path().join("dns.log");
        if !p.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let text = text.replace("XXXXXXXXXX.XXXXXX", "1300000000.000000");
        // btest's first line precedes Zeek's header; drop it.
        let text: String = text
            .lines()
            .filter(|l| !l.starts_with("###"))
            .map(|l| format!("{l}\n"))
            .collect();
        let rows: Vec<Vec<&str>> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect())
            .collect();
        let fields: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with("#fields"))
            .unwrap()
            .split('\t')
            .skip(1)
            .collect();
        let qi = fields.iter().position(|f| *f == "query").unwrap();
        let oi = fields.iter().position(|f| *f == "id.orig_h").unwrap();
        let want: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r[qi] != "-")
            .map(|r| (r[oi].to_string(), r[qi].to_string()))
            .collect();
        let out = tmp.path().join(format!("{files}.log"));
        std::fs::write(&out, &text).unwrap();
        let (qs, stats, _) = read_all(out.to_str().unwrap(), &ReadOptions::default());
        assert_eq!(stats.format, Some(LogFormat::ZeekTsv), "{}", p.display());
        let got: Vec<(String, String)> = qs.iter().map(|q| (q.1.clone(), q.2.clone())).collect();
        assert_eq!(got, want, "{}", p.display());
        assert_eq!(
            stats.skipped as usize,
            rows.len() - want.len(),
            "{}",
            p.display()
        );
        if p.to_string_lossy().contains("dns.binds/") {
            assert_eq!(
                qs,
                vec![(
                    1_300_000_000_000_000,
                    "10.87.3.74".to_string(),
                    "example.net".to_string(),
                    Some("10.87.1.10".to_string())
                )]
            );
        }
        files += 1;
        total += got.len();
    }
    assert_eq!(files, 23);
    assert!(total >= 30, "{total}");
}
