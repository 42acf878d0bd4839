//! Hostile input per dissector: counted, named anomalies with places, no
//! panic, and what could be read is still reported.

use botscope_capture::{read_bytes, EngineConfig};
use botscope_core::events::Event;
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::http::state::HttpState;
use botscope_dissect::irc::state::IrcState;
use botscope_dissect::{Analyzer, FlowCtx, Output, Record};

/// One datagram: source address and port, destination address and port, payload.
type Datagram<'a> = ([u8; 4], u16, [u8; 4], u16, &'a [u8]);

/// A classic pcap (Ethernet) of IPv4/UDP datagrams (checksum 0 = none).
fn udp_pcap(packets: &[Datagram<'_>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, (src, sp, dst, dp, payload)) in packets.iter().enumerate() {
        let mut p = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        let ip_len = 20 + 8 + payload.len();
        let mut ip = vec![
            0x45,
            0,
            (ip_len >> 8) as u8,
            ip_len as u8,
            0,
            1,
            0,
            0,
            64,
            17,
            0,
            0,
        ];
        ip.extend_from_slice(src);
        ip.extend_from_slice(dst);
        let mut sum = 0u32;
        for c in ip.chunks(2) {
            sum += u16::from_be_bytes([c[0], c[1]]) as u32;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let ck = !(sum as u16);
        ip[10] = (ck >> 8) as u8;
        ip[11] = ck as u8;
        p.extend_from_slice(&ip);
        let ul = 8 + payload.len();
        p.extend_from_slice(&sp.to_be_bytes());
        p.extend_from_slice(&dp.to_be_bytes());
        p.extend_from_slice(&(ul as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(payload);
        f.extend_from_slice(&(1_100_000_000u32 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&p);
    }
    f
}

fn analyze(name: &str, pcap: &[u8]) -> (Vec<Record>, botscope_dissect::Stats) {
    let mut an = Analyzer::new(Vec::new());
    an.set_file_names(vec![name.to_string()]);
    read_bytes(name, pcap, &EngineConfig::default(), &mut an).expect("read");
    an.finish();
    let stats = an.stats.clone();
    (an.into_sink(), stats)
}

#[test]
fn dns_compression_loop_is_named_and_located() {
    let client = [10, 0, 0, 2];
    let server = [10, 0, 0, 53];
    let good_query: &[u8] =
        b"\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03bot\x03net\x00\x00\x01\x00\x01";
    // Response whose answer name points at itself.
    let mut looped =
        b"\x00\x07\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x03bot\x03net\x00\x00\x01\x00\x01"
            .to_vec();
    looped.extend_from_slice(b"\xc0\x19\x00\x01\x00\x01\x00\x00\x00\x10\x00\x04\x01\x02\x03\x04");
    let pcap = udp_pcap(&[
        (client, 3333, server, 53, good_query),
        (server, 53, client, 3333, &looped),
    ]);
    let (records, stats) = analyze("loop.pcap", &pcap);
    let (n, places) = &stats.anomalies.by_reason["dns_compression_loop"];
    assert_eq!(*n, 1);
    assert_eq!(places, &vec!["loop.pcap packet 2".to_string()]);
    // The transaction is still logged, with what was readable.
    let dns: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Event::Dns(d) = &r.event {
                Some(d)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(dns.len(), 1);
    assert_eq!(dns[0].query.as_deref(), Some("bot.net"));
    assert_eq!(dns[0].rcode, Some(0));
    assert!(dns[0].answers.is_empty());
}

#[test]
fn truncated_tftp_is_named_and_transfer_still_logged() {
    let client = [10, 0, 0, 2];
    let server = [10, 0, 0, 69];
    let pcap = udp_pcap(&[
        (client, 2000, server, 69, b"\x00\x01bot.exe\x00octet\x00"),
        (server, 3000, client, 2000, b"\x00\x03\x00\x01MZ\x90\x00"),
        (client, 2000, server, 3000, b"\x00\x04\x00"),
        (client, 2000, server, 3000, b"\x00\x04\x00\x01"),
    ]);
    let (records, stats) = analyze("tftp.pcap", &pcap);
    assert_eq!(stats.anomalies.by_reason["tftp_truncated"].0, 1);
    assert_eq!(
        stats.anomalies.by_reason["tftp_truncated"].1,
        vec!["tftp.pcap packet 3".to_string()]
    );
    let t: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Event::Tftp(t) = &r.event {
                Some(t)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].fname, "bot.exe");
    assert_eq!((t[0].size, t[0].block_sent, t[0].block_acked), (4, 1, 1));
    assert!(t[0].is_executable);
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"MZ\x90\x00"))
    };
    assert_eq!(t[0].sha256.as_deref(), Some(expected.as_str()));
    assert!(t[0].uid_data.is_some());
}

fn ctx(key: &FlowKey) -> FlowCtx<'_> {
    FlowCtx {
        uid: "Ctest",
        key,
        ts: Ts(1),
        file: 0,
        pkt_no: 9,
    }
}

fn key(port: u16) -> FlowKey {
    FlowKey {
        orig_h: [10, 0, 0, 2].into(),
        orig_p: 1025,
        resp_h: [10, 0, 0, 1].into(),
        resp_p: port,
        proto: Proto::Tcp,
    }
}

#[test]
fn irc_long_line_and_missing_crlf_are_named_not_lost() {
    let k = key(6667);
    let c = ctx(&k);
    let mut s = IrcState::default();
    let mut out = Output::default();
    let mut line = b"PRIVMSG #c :".to_vec();
    line.extend(std::iter::repeat_n(b'A', 70_000));
    line.extend_from_slice(b"\r\nNICK after\r\nPRIVMSG #c :.ddos.syn 1.2.3.4 80 60");
    s.on_data(&c, true, &line, &mut out);
    s.on_end(&c, &mut out);
    let (records, anomalies) = out.take();
    assert_eq!(
        anomalies,
        vec!["irc_line_too_long", "irc_line_without_crlf"]
    );
    let msgs: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Event::Irc(e) = &r.event {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0].params[1].len(), 64 * 1024 - b"PRIVMSG #c :".len());
    assert_eq!(msgs[1].command, "NICK");
    assert_eq!(msgs[2].params, vec!["#c", ".ddos.syn 1.2.3.4 80 60"]);
    assert_eq!(msgs[2].nick.as_deref(), Some("after"));
}

#[test]
fn garbage_http_is_named_and_stops_parsing() {
    let k = key(80);
    let c = ctx(&k);
    let mut s = HttpState::default();
    let mut out = Output::default();
    s.on_request_data(
        &c,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 not http\r\n\r\n",
        &mut out,
    );
    s.on_request_data(&c, b"GET / HTTP/1.1\r\n\r\n", &mut out);
    s.on_end(&c, &mut out);
    let (records, anomalies) = out.take();
    assert_eq!(anomalies, vec!["http_bad_request"]);
    assert!(records.is_empty());
    // A pipelined pair with a chunked executable body works on a fresh flow.
    let mut s = HttpState::default();
    s.on_request_data(
        &c,
        b"GET /a.exe HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut out,
    );
    s.on_response_data(
        &c,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nMZ\r\n2\r\n\x90\x00\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop",
        &mut out,
    );
    let (records, anomalies) = out.take();
    assert!(anomalies.is_empty());
    let h: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Event::Http(h) = &r.event {
                Some(h)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0].trans_depth, h[0].uri.as_deref(), h[0].status_code),
        (1, Some("/a.exe"), Some(200))
    );
    assert_eq!(h[0].response_body_len, 4);
    assert!(h[0].is_executable);
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"MZ\x90\x00"))
    };
    assert_eq!(h[0].sha256.as_deref(), Some(expected.as_str()));
    assert_eq!(
        (h[1].trans_depth, h[1].status_code, h[1].response_body_len),
        (2, Some(404), 3)
    );
    assert!(!h[1].is_executable && h[1].sha256.is_none());
}
