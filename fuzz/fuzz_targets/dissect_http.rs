//! Fuzzes HTTP head parsing, chunked decoding and the per-flow state.
#![no_main]
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::http::state::HttpState;
use botscope_dissect::{FlowCtx, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = FlowKey {
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 1,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 80,
        proto: Proto::Tcp,
    };
    let ctx = FlowCtx {
        uid: "Cfuzz",
        key: &key,
        ts: Ts(0),
        file: 0,
        pkt_no: 1,
    };
    let mut s = HttpState::default();
    let mut out = Output::default();
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    req.extend_from_slice(data);
    s.on_request_data(&ctx, &req, &mut out);
    for chunk in data.chunks(7) {
        s.on_response_data(&ctx, chunk, &mut out);
    }
    s.on_gap(&ctx, false, 3, &mut out);
    s.on_end(&ctx, &mut out);
});
