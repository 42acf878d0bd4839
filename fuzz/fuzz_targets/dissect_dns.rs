//! Fuzzes the DNS wire parser and the UDP/TCP per-flow state.
#![no_main]
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::dns::{parser, state::DnsState};
use botscope_dissect::{FlowCtx, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::parse(data);
    let _ = parser::plausible(data);
    let key = FlowKey {
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 1,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 53,
        proto: Proto::Udp,
    };
    let ctx = FlowCtx {
        uid: "Cfuzz",
        key: &key,
        ts: Ts(0),
        file: 0,
        pkt_no: 1,
    };
    let mut out = Output::default();
    let mut s = DnsState::default();
    s.on_datagram(&ctx, data, &mut out);
    s.on_stream(&ctx, true, data, &mut out);
    s.on_end(&ctx, &mut out);
});
