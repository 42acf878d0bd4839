//! DNS queries from captures (through the capture engine) against the same
//! queries read from a text log, the generator's truth and Zeek's dns.log.

use crate::synth::{assert_matches_truth, lists, run};
use crate::{corpus, read_all};
use botscope_dnslog::read::ReadOptions;
use botscope_dnslog::{LogFormat, RateConfig, RateEngine};
use botscope_synth::pcap::{Ip4, PcapFile};
use botscope_synth::proto::{dns_query, dns_response};
use botscope_synth::resolver::{write_resolver_logs, Format, ResolverSpec};
use botscope_synth::tcp::Tcp;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// Writes the queries of a Zeek JSON log (µs times) as a resolver-side
/// capture: every query a UDP datagram to port 53 with its answer, except
/// every 23rd, which goes over TCP with the length prefix and the message
/// in separate segments. Also adds traffic that must not count: a
/// response-only exchange from the resolver, and a truncated message to
/// port 53. Returns the number of client queries written.
fn write_capture(log: &Path, pcap: &Path) -> usize {
    let (qs, stats, _) = read_all(log.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(stats.format, Some(LogFormat::ZeekJson));
    let mut f = PcapFile::create(pcap).unwrap();
    let v4 = |s: &str| match s.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => panic!("IPv4 clients only"),
    };
    for (i, (ts, client, qname, server)) in qs.iter().enumerate() {
        let (c, s) = (v4(client), v4(server.as_deref().unwrap()));
        let id = i as u16;
        let port = 1024 + (i % 60_000) as u16;
        if i % 23 == 0 {
            let mut t = Tcp::new(c, port, s, 53, ts - 100_000, 0x1000 + i as u32);
            t.handshake(&mut f);
            t.t = *ts;
            let msg = dns_query(id, qname);
            t.c_send(&mut f, &(msg.len() as u16).to_be_bytes());
            // The query's time is its first byte's: the later segment
            // completes it, so give it the same time.
            t.t = *ts;
            t.c_send(&mut f, &msg);
            let resp = dns_response(id, qname, &[Ipv4Addr::new(192, 0, 2, 1)], 60);
            let mut framed = (resp.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&resp);
            t.s_send(&mut f, &framed);
            t.close(&mut f, true);
        } else {
            let ip = Ip4 {
                src: c,
                dst: s,
                ttl: 64,
            };
            f.udp(*ts, ip, port, 53, &dns_query(id, qname));
            let back = Ip4 {
                src: s,
                dst: c,
                ttl: 64,
            };
            let resp = dns_response(id, qname, &[Ipv4Addr::new(192, 0, 2, 1)], 60);
            f.udp(ts + 2_000, back, 53, port, &resp);
        }
    }
    let t0 = qs[0].0;
    let stray = Ip4 {
        src: Ipv4Addr::new(198, 51, 100, 7),
        dst: Ipv4Addr::new(192, 0, 2, 53),
        ttl: 64,
    };
    // A response with no query (to port 53 from a resolver's forwarder).
    f.udp(
        t0 + 1,
        stray,
        53,
        53,
        &dns_response(9, "cc.bot-herder.test", &[], 60),
    );
    // A query cut inside its name: counted as skipped, not delivered.
    let cut = dns_query(10, "irc.evil-c2.test");
    f.udp(t0 + 2, stray, 4000, 53, &cut[..cut.len() - 9]);
    f.finish().unwrap();
    qs.len()
}

#[test]
fn synthetic_resolver_capture_equals_log_and_truth() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        seed: 11,
        clients: 1500,
        days: 2,
        formats: vec![Format::ZeekJson],
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    assert!(t.infected_clients > 15);
    let log = &t.files["zeek-json"];
    let pcap = dir.path().join("resolver.pcap");
    let n = write_capture(log, &pcap);
    assert_eq!(n as u64, t.queries);

    let cfg = RateConfig::default();
    let from_log = run(log, &spec, cfg.clone(), &ReadOptions::default());
    let mut from_pcap = run(&pcap, &spec, cfg.clone(), &ReadOptions::default());
    let f = &from_pcap.files[0];
    assert_eq!(f.format, Some(LogFormat::Pcap));
    assert_eq!(f.queries, t.queries);
    assert_eq!(f.skipped, 1, "{:?}", from_pcap.skipped);
    assert_eq!(
        from_pcap.skipped.by_reason.keys().collect::<Vec<_>>(),
        ["dns_truncated_name"]
    );
    let (_, places) = &from_pcap.skipped.by_reason["dns_truncated_name"];
    assert!(places[0].contains("packet"), "{places:?}");
    // The same rows and list as the text log, and the truth.
    assert_eq!(json(&from_pcap.windows), json(&from_log.windows));
    assert_eq!(json(&from_pcap.totals), json(&from_log.totals));
    assert_eq!(json(&from_pcap.infected), json(&from_log.infected));
    assert_eq!(from_pcap.allowlisted_queries, from_log.allowlisted_queries);
    from_pcap.skipped = Default::default();
    assert_matches_truth(&from_pcap, &t, 1, "pcap");

    // Compressed, and as a forced format, the capture reads the same.
    let gz = dir.path().join("resolver.pcap.gz");
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        e.write_all(&std::fs::read(&pcap).unwrap()).unwrap();
        e.finish().unwrap();
    }
    let forced = ReadOptions {
        format: Some(LogFormat::Pcap),
        ..Default::default()
    };
    let from_gz = run(&gz, &spec, cfg.clone(), &forced);
    assert_eq!(from_gz.files[0].queries, t.queries);
    assert_eq!(json(&from_gz.infected), json(&from_log.infected));
    assert_eq!(json(&from_gz.windows), json(&from_log.windows));

    // Grouping by resolver works from the capture's destination address.
    let (watch, allow) = lists(&spec);
    let mut e = RateEngine::new(
        RateConfig {
            group_by: botscope_dnslog::GroupBy::Resolver,
            ..cfg
        },
        &watch,
        &allow,
    );
    e.read(pcap.to_str().unwrap(), &ReadOptions::default());
    let r = e.report();
    assert_eq!(r.totals.len(), 1, "{:?}", r.totals);
    assert_eq!(r.totals[0].group, spec.resolver.to_string());
    assert_eq!(r.totals[0].clients, t.distinct_clients);
}

/// A value as JSON, so report rows compare whole.
fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

/// Zeek's dns.log for the same trace names the same (client, query)
/// pairs: a GRE/PPTP-tunnelled query and IPv6 queries whose answers
/// arrive in IP fragments.
#[test]
fn corpus_captures_equal_zeek_dns_log() {
    let root = corpus().join("zeek/testing/btest");
    for (trace, baseline) in [
        ("tunnels/gre-pptp.pcap", "core.tunnels.gre-pptp"),
        ("ipv6-fragmented-dns.pcap", "core.ipv6-frag"),
    ] {
        let text =
            std::fs::read_to_string(root.join("Baseline").join(baseline).join("dns.log")).unwrap();
        let fields: Vec<&str> = text
            .lines()
            .find_map(|l| l.strip_prefix("#fields\t"))
            .unwrap()
            .split('\t')
            .collect();
        let col = |n: &str| fields.iter().position(|f| *f == n).unwrap();
        let (oh, rh, q) = (col("id.orig_h"), col("id.resp_h"), col("query"));
        let mut want: Vec<(String, String, String)> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|r| r[q] != "-")
            .map(|r| (r[oh].to_string(), r[q].to_string(), r[rh].to_string()))
            .collect();
        want.sort();
        want.dedup();
        let path = root.join("Traces").join(trace);
        let (qs, stats, skips) = read_all(path.to_str().unwrap(), &ReadOptions::default());
        assert_eq!(stats.format, Some(LogFormat::Pcap), "{trace}");
        assert!(stats.error.is_none(), "{trace}: {:?}", stats.error);
        assert_eq!(skips.total(), 0, "{trace}: {skips:?}");
        let mut got: Vec<(String, String, String)> = qs
            .iter()
            .map(|(_, c, n, s)| (c.clone(), n.clone(), s.clone().unwrap()))
            .collect();
        got.sort();
        got.dedup();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{trace}");
    }
}
