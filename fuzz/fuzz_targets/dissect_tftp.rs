//! Fuzzes the TFTP packet parser and the transfer tracker.
#![no_main]
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::tftp::{parser, state::TftpTracker};
use botscope_dissect::{FlowCtx, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::parse(data);
    let req = FlowKey {
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 1000,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 69,
        proto: Proto::Udp,
    };
    let dat = FlowKey {
        orig_h: [10, 0, 0, 2].into(),
        orig_p: 2000,
        resp_h: [10, 0, 0, 1].into(),
        resp_p: 1000,
        proto: Proto::Udp,
    };
    let mut t = TftpTracker::default();
    let mut out = Output::default();
    let c = FlowCtx {
        uid: "Creq",
        key: &req,
        ts: Ts(0),
        file: 0,
        pkt_no: 1,
    };
    t.on_request_datagram(&c, 1, b"\x00\x01f\x00octet\x00", &mut out);
    t.claim(2, "Cdata", &dat);
    let d = FlowCtx {
        uid: "Cdata",
        key: &dat,
        ts: Ts(1),
        file: 0,
        pkt_no: 2,
    };
    for chunk in data.chunks(516) {
        t.on_data_datagram(&d, 2, chunk, &mut out);
        t.on_request_datagram(&c, 1, chunk, &mut out);
    }
    t.on_flow_end(2, &mut out);
    t.finish(&mut out);
});
