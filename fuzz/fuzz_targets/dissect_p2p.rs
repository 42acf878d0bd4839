//! Fuzzes the P2P dissectors: Gnutella handshake heads, descriptor framing
//! and deflate (the input split between the two directions, after a
//! handshake that turns deflate on or off), and the opaque-link tally.
#![no_main]
use botscope_core::events::Conn;
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::p2p::opaque::OpaqueTally;
use botscope_dissect::p2p::parser;
use botscope_dissect::p2p::state::GnutellaState;
use botscope_dissect::{FlowCtx, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = FlowKey {
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 1,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 6346,
        proto: Proto::Tcp,
    };
    let ctx = FlowCtx {
        uid: "Cfuzz",
        key: &key,
        ts: Ts(0),
        file: 0,
        pkt_no: 1,
    };
    let _ = parser::parse_head(data);
    let _ = parser::parse_descriptor_header(data);
    let _ = parser::query_text(data);
    let (mode, rest) = data.split_first().unwrap_or((&0, &[]));
    let mut s = GnutellaState::default();
    let mut out = Output::default();
    let mut t = OpaqueTally::default();
    s.on_data(&ctx, true, b"GNUTELLA CONNECT/0.6\r\n\r\n", &mut out);
    let head: &[u8] = if mode & 1 == 1 {
        b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n"
    } else {
        b"GNUTELLA/0.6 200 OK\r\n\r\n"
    };
    s.on_data(&ctx, false, head, &mut out);
    s.on_data(&ctx, true, b"GNUTELLA/0.6 200 OK\r\n\r\n", &mut out);
    let step = usize::from(mode >> 1).max(1);
    for (i, c) in rest.chunks(step).enumerate() {
        s.on_data(&ctx, i % 2 == 0, c, &mut out);
        t.on_data(&ctx, i % 2 == 1, c);
        assert!(s.held_bytes() < 512 << 10);
    }
    let conn = Conn {
        ts: Ts(0),
        uid: "Cfuzz".into(),
        id: key,
        service: None,
        duration: Some(1.0),
        orig_bytes: Some(0),
        resp_bytes: Some(0),
        conn_state: "SF".into(),
        missed_bytes: 0,
        history: Default::default(),
        orig_pkts: 0,
        orig_ip_bytes: 0,
        resp_pkts: 0,
        resp_ip_bytes: 0,
        tunnel_parents: vec![],
        evidence: Default::default(),
    };
    s.on_end(&ctx, &conn, &mut out);
    t.on_end(&ctx, &conn, &mut out);
    let (records, _) = out.take();
    assert!(!records.is_empty());
});
