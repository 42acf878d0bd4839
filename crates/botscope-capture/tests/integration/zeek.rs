//! Connection summaries against Zeek's own baselines (btest), field by field.

use crate::common::{corpus, Recorder};
use botscope_capture::{read_files, EngineConfig};
use botscope_core::events::Conn;
use std::collections::HashMap;

/// Parses a Zeek TSV log into rows of column → value.
fn zeek_rows(rel: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(corpus(rel)).expect("baseline");
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(String::from).collect();
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else if fields.is_empty() {
            // btest-diff-cut output: the first line names the columns.
            fields = line.split('\t').map(String::from).collect();
        } else {
            rows.push(
                fields
                    .iter()
                    .cloned()
                    .zip(line.split('\t').map(String::from))
                    .collect(),
            );
        }
    }
    rows
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// Our conn as Zeek's columns (those that do not depend on scripts).
fn columns(c: &Conn) -> HashMap<&'static str, String> {
    let mut m = HashMap::new();
    m.insert("id.orig_h", c.id.orig_h.to_string());
    m.insert("id.orig_p", c.id.orig_p.to_string());
    m.insert("id.resp_h", c.id.resp_h.to_string());
    m.insert("id.resp_p", c.id.resp_p.to_string());
    m.insert("proto", c.id.proto.to_string());
    m.insert("duration", opt(c.duration.map(|d| format!("{d:.6}"))));
    m.insert("orig_bytes", opt(c.orig_bytes));
    m.insert("resp_bytes", opt(c.resp_bytes));
    m.insert("conn_state", c.conn_state.to_string());
    m.insert("missed_bytes", c.missed_bytes.to_string());
    m.insert(
        "history",
        if c.history.is_empty() {
            "-".into()
        } else {
            c.history.to_string()
        },
    );
    m.insert("orig_pkts", c.orig_pkts.to_string());
    m.insert("orig_ip_bytes", c.orig_ip_bytes.to_string());
    m.insert("resp_pkts", c.resp_pkts.to_string());
    m.insert("resp_ip_bytes", c.resp_ip_bytes.to_string());
    m.insert(
        "ip_proto",
        match c.id.proto {
            botscope_core::Proto::Tcp => "6".into(),
            botscope_core::Proto::Udp => "17".into(),
            _ => "?".into(),
        },
    );
    m
}

const COMPARED: &[&str] = &[
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "ip_proto",
];

/// Runs a trace and compares every conn.log row (matched by 5-tuple).
fn check(trace: &str, baseline: &str, checksums: bool) {
    let cfg = EngineConfig {
        verify_checksums: checksums,
        ..EngineConfig::default()
    };
    let mut rec = Recorder::default();
    let sum = read_files(&[corpus(trace)], &cfg, &mut rec).expect("read");
    assert!(sum.file_errors.is_empty(), "{trace}: {:?}", sum.file_errors);
    let rows = zeek_rows(baseline);
    assert_eq!(
        rec.conns.len(),
        rows.len(),
        "{trace}: conn count (ours: {:?})",
        rec.conns
    );
    for row in &rows {
        let mine = rec
            .conns
            .iter()
            .map(columns)
            .find(|m| {
                ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]
                    .iter()
                    .all(|k| m[k] == row[*k])
            })
            .unwrap_or_else(|| panic!("{trace}: no conn for {row:?}; ours {:?}", rec.conns));
        for k in COMPARED {
            assert_eq!(mine[k], row[*k], "{trace}: column {k} of {row:?}");
        }
        // Uids differ (Zeek's are seeded differently), but a tunnelled
        // conn must name its tunnel and a plain one none.
        let mine_conn = rec
            .conns
            .iter()
            .find(|c| c.id.orig_p.to_string() == row["id.orig_p"])
            .expect("conn");
        assert_eq!(
            mine_conn.tunnel_parents.is_empty(),
            row["tunnel_parents"] == "-",
            "{trace}: tunnel_parents"
        );
    }
}

#[test]
fn irc_dcc_send_conn_log_matches_zeek() {
    check(
        "zeek/testing/btest/Traces/irc-dcc-send.pcapng",
        "zeek/testing/btest/Baseline/scripts.base.protocols.irc.basic/conn.log",
        true,
    );
}

#[test]
fn gre_pptp_inner_flow_only_matches_zeek() {
    // IPv6-in-IPv6 carrying GRE (PPTP enhanced GRE, PPP) carrying UDP DNS:
    // one conn for the inner flow, none for the outer GRE packets.
    check(
        "zeek/testing/btest/Traces/tunnels/gre-pptp.pcap",
        "zeek/testing/btest/Baseline/core.tunnels.gre-pptp/conn.log",
        true,
    );
    let tunnels = zeek_rows("zeek/testing/btest/Baseline/core.tunnels.gre-pptp/tunnel.log");
    let mut rec = Recorder::default();
    let sum = read_files(
        &[corpus("zeek/testing/btest/Traces/tunnels/gre-pptp.pcap")],
        &EngineConfig::default(),
        &mut rec,
    )
    .expect("read");
    assert_eq!(
        sum.tunnels as usize,
        tunnels.len(),
        "one IP tunnel and one GRE tunnel"
    );
    assert_eq!(
        sum.decapsulated,
        2 * sum.packets,
        "both packets go through two tunnel layers"
    );
}

#[test]
fn retransmissions_and_connect_proxy_match_zeek() {
    // History `ShADadtTfF`: data below the highest sequence seen is T/t.
    check(
        "zeek/testing/btest/Traces/http/connect-with-smtp.pcap",
        "zeek/testing/btest/Baseline/scripts.base.protocols.http.http-connect/conn.log",
        true,
    );
}

#[test]
fn flip_without_syn_matches_zeek() {
    // First packet is a SYN-ACK: the receiver becomes the originator (`^h...`).
    check(
        "zeek/testing/btest/Traces/tcp/http-on-irc-port-missing-syn.pcapng",
        "zeek/testing/btest/Baseline/core.tcp.flip-without-syn/conn.log",
        true,
    );
}

#[test]
fn ipv6_loopback_and_rst_after_fin_match_zeek_with_checksums_off() {
    // Both baselines were made with `zeek -C` (checksums not verified).
    check(
        "zeek/testing/btest/Traces/http/connect-with-header.pcap",
        "zeek/testing/btest/Baseline/scripts.base.protocols.http.http-connect-with-header/conn.log",
        false,
    );
    check(
        "zeek/testing/btest/Traces/tls/irc-starttls.pcap",
        "zeek/testing/btest/Baseline/scripts.base.protocols.irc.starttls/conn.log",
        false,
    );
}

#[test]
fn bad_udp_checksums_are_ignored_like_zeek() {
    let rows = zeek_rows("zeek/testing/btest/Baseline/core.udp-corrupt/conn.log");
    assert_eq!(rows.len(), 1);
    let mut rec = Recorder::default();
    let sum = read_files(
        &[corpus("zeek/testing/btest/Traces/dns/dns-corrupt.pcap")],
        &EngineConfig::default(),
        &mut rec,
    )
    .expect("read");
    assert_eq!(rec.conns.len(), 1);
    let c = &rec.conns[0];
    assert_eq!(c.orig_pkts.to_string(), rows[0]["orig_pkts"]);
    assert_eq!(c.resp_pkts.to_string(), rows[0]["resp_pkts"]);
    assert_eq!(c.history, rows[0]["history"]);
    assert_eq!(c.conn_state, rows[0]["conn_state"]);
    assert_eq!(sum.bad_checksums, 2);
    assert!(
        rec.datagrams.is_empty(),
        "packets with bad checksums are not handed on"
    );
}

#[test]
fn tftp_rrq_has_request_and_data_flows_like_zeek() {
    // The cut conn.log lists two `uid service` lines (no header): the
    // request flow and the data flow.
    let cut = std::fs::read_to_string(corpus("spicy-tftp/testing/Baseline/tests.rrq/conn.log"))
        .expect("baseline");
    let rows: Vec<&str> = cut
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 2);
    let tftp = zeek_rows("spicy-tftp/testing/Baseline/tests.rrq/tftp.log");
    let req = &tftp[0];
    let mut rec = Recorder::default();
    read_files(
        &[corpus("spicy-tftp/testing/Traces/tftp_rrq.pcap")],
        &EngineConfig::default(),
        &mut rec,
    )
    .expect("read");
    assert_eq!(rec.conns.len(), rows.len(), "{:?}", rec.conns);
    let request = rec
        .conns
        .iter()
        .find(|c| c.id.resp_p == 69)
        .expect("request flow");
    assert_eq!(request.id.orig_h.to_string(), req["id.orig_h"]);
    assert_eq!(request.id.orig_p.to_string(), req["id.orig_p"]);
    assert_eq!(request.id.resp_h.to_string(), req["id.resp_h"]);
    let data = rec
        .conns
        .iter()
        .find(|c| c.id.resp_p != 69)
        .expect("data flow");
    // The data flow runs between the server's new port and the client's port.
    let ends = [data.id.orig_h.to_string(), data.id.resp_h.to_string()];
    assert!(ends.contains(&req["id.orig_h"]) && ends.contains(&req["id.resp_h"]));
    assert!(
        data.id.orig_p.to_string() == req["id.orig_p"]
            || data.id.resp_p.to_string() == req["id.orig_p"]
    );
    // 49 data blocks and 49 acks (tftp.log block_sent/block_acked).
    assert_eq!(data.orig_pkts + data.resp_pkts, 98, "{data:?}");
    assert_eq!(req["block_sent"], "49");
}

#[test]
fn dcc_transfer_reassembles_to_the_file_zeek_extracted() {
    let want = std::fs::read(corpus(
        "zeek/testing/btest/Baseline/scripts.base.frameworks.file-analysis.irc/thefile",
    ))
    .expect("thefile");
    assert_eq!(want.len(), 1_320_211);
    let mut rec = Recorder::default();
    read_files(
        &[corpus("zeek/testing/btest/Traces/irc-dcc-send.pcapng")],
        &EngineConfig::default(),
        &mut rec,
    )
    .expect("read");
    let dcc = rec
        .conns
        .iter()
        .find(|c| c.id.resp_p == 59130)
        .expect("dcc conn");
    // Flow ids follow creation order; find the stream whose length matches
    // the conn's resp_bytes and compare contents byte for byte.
    let got = rec
        .streams
        .iter()
        .find(|((_, orig), v)| !*orig && v.len() as u64 == dcc.resp_bytes.unwrap_or(0))
        .map(|(_, v)| v)
        .expect("responder stream of the DCC flow");
    assert!(
        got == &want,
        "reassembled DCC data differs from Zeek's extracted file"
    );
    assert!(
        rec.gaps.is_empty(),
        "no gaps in this capture: {:?}",
        rec.gaps
    );
}
