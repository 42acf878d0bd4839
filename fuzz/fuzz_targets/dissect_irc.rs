//! Fuzzes the IRC line splitter, message parser and per-flow state.
#![no_main]
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::irc::{parser, state::IrcState};
use botscope_dissect::{FlowCtx, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::parse_message(data);
    let key = FlowKey {
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 1,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 6667,
        proto: Proto::Tcp,
    };
    let ctx = FlowCtx {
        uid: "Cfuzz",
        key: &key,
        ts: Ts(0),
        file: 0,
        pkt_no: 1,
    };
    let mut s = IrcState::default();
    let mut out = Output::default();
    // Split the input into two directions at a data-chosen point.
    let cut = data
        .first()
        .map(|&b| b as usize % (data.len() + 1))
        .unwrap_or(0);
    s.on_data(&ctx, true, &data[..cut], &mut out);
    s.on_data(&ctx, false, &data[cut..], &mut out);
    s.on_end(&ctx, &mut out);
});
