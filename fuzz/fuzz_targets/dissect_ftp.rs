//! Fuzzes the FTP parsers, protocol detection and the session/data-channel
//! tracker: the input is split into client lines, server lines and data
//! bytes; every data connection the session announces is opened.
#![no_main]
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::detect;
use botscope_dissect::ftp::{parser, state::FtpSession, state::FtpTracker};
use botscope_dissect::{FlowCtx, Output};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::parse_command(data);
    let _ = parser::parse_reply(data);
    let s = String::from_utf8_lossy(data);
    let _ = parser::parse_pasv(&s);
    let _ = parser::parse_epsv(&s);
    let _ = parser::parse_eprt(&s);
    let _ = parser::bytes_in_reply(&s);
    let _ = parser::size_reply(&s);
    let _ = parser::extract_path(&s);
    let _ = parser::compress_path(&s);
    let _ = parser::build_path(&s, &s);
    let _ = parser::url([10, 0, 0, 2].into(), &s, &s);
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let cut2 = data
        .get(1)
        .map_or(cut, |&b| cut + b as usize % (data.len() - cut + 1));
    let _ = detect::tcp_flow(&data[..cut], &data[cut..], 21);
    let ctl = FlowKey {
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 1000,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 21,
        proto: Proto::Tcp,
    };
    let ctx = FlowCtx {
        uid: "Cctl",
        key: &ctl,
        ts: Ts(0),
        file: 0,
        pkt_no: 1,
    };
    let mut t = FtpTracker::default();
    let mut sess = FtpSession::default();
    let mut out = Output::default();
    // Client and server lines interleaved line by line.
    let (c, srv) = (&data[..cut], &data[cut..cut2]);
    let mut ci = c.split_inclusive(|&b| b == b'\n');
    let mut si = srv.split_inclusive(|&b| b == b'\n');
    loop {
        let (a, b) = (ci.next(), si.next());
        if a.is_none() && b.is_none() {
            break;
        }
        if let Some(a) = a {
            t.on_control(&mut sess, &ctx, 1, true, a, &mut out);
        }
        if let Some(b) = b {
            t.on_control(&mut sess, &ctx, 1, false, b, &mut out);
        }
    }
    // A data connection to every port the client or server may have named.
    for (i, port) in [1025u16, 20, 56666, 33582].into_iter().enumerate() {
        for (h, o) in [
            ([10, 0, 0, 2], [10, 0, 0, 1]),
            ([10, 0, 0, 1], [10, 0, 0, 2]),
        ] {
            let k = FlowKey {
                orig_h: o.into(),
                orig_p: 40000 + i as u16,
                resp_h: h.into(),
                resp_p: port,
                proto: Proto::Tcp,
            };
            let id = 10 + i as u64;
            if t.claim(id, "Cdata", &k) {
                let dctx = FlowCtx { key: &k, ..ctx };
                t.on_data(&dctx, id, i % 2 == 0, &data[cut2..], &mut out);
                t.on_data_gap(id, 3);
                t.on_data_end(id, &mut out);
            }
        }
    }
    t.on_control_end(&mut sess, &ctx, 1, &mut out);
    t.finish(&mut out);
    let _ = out.take();
});
