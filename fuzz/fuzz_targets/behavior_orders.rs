//! Order and reply interpreters on hostile IRC texts, and the linking of
//! orders and replies in both directions (bot side and herder side) over
//! a hostile session: never panic, replies per order stay bounded.
#![no_main]

use botscope_behavior::herd;
use botscope_behavior::orders;
use botscope_core::events::{Evidence, IrcEvent};
use botscope_core::{FlowKey, Proto, Ts};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(o) = orders::parse_order(&text) {
        let _ = o.kind.name();
    }
    let _ = orders::parse_reply(&text);
    let _ = orders::parse_relayed_reply(&text);
    let _ = orders::implied_tag(&text);
    let _ = orders::url_port(&text);
    let _ = orders::url_host(&text);
    let _ = herd::prefix_addr(&text);
    let _ = herd::prefix_nick(&text);

    // Each line: one byte of direction/command, then `prefix\ttarget\ttext`.
    let key = FlowKey {
        orig_h: IpAddr::V4(Ipv4Addr::LOCALHOST),
        orig_p: 40000,
        resp_h: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        resp_p: 6667,
        proto: Proto::Tcp,
    };
    let mut evs = Vec::new();
    for (i, line) in text.split('\n').take(512).enumerate() {
        let mut chars = line.chars();
        let sel = chars.next().map(|c| c as u32).unwrap_or(0);
        let rest: String = chars.collect();
        let mut f = rest.splitn(3, '\t');
        let prefix = f.next().filter(|p| !p.is_empty()).map(String::from);
        let target = f.next().unwrap_or("").to_string();
        let body = f.next().unwrap_or("").to_string();
        let command = ["PRIVMSG", "NOTICE", "TOPIC", "332", "333"][(sel % 5) as usize];
        let params = match command {
            "332" => vec!["me".into(), target, body],
            "333" => vec!["me".into(), target, body, "0".into()],
            _ => vec![target, body],
        };
        evs.push(IrcEvent {
            ts: Ts(i as i64 * ((sel as i64 % 7) * 100_000_000)),
            uid: "C".into(),
            id: key,
            from_client: sel & 8 != 0,
            nick: Some("me".into()),
            user: None,
            prefix,
            command: command.into(),
            params,
            value: None,
            addl: None,
            dcc: None,
            tags: Vec::new(),
            evidence: Evidence::default(),
        });
    }
    let refs: Vec<&IrcEvent> = evs.iter().collect();
    let (mut o, mut r) = (Vec::new(), Vec::new());
    let _ = herd::session_orders("C", key.orig_h, &refs, &mut o, &mut r);
    for x in &o {
        assert!(x.replies.len() <= herd::MAX_REPLIES_PER_ORDER);
        assert!(x.replies.iter().all(|&i| i < r.len()));
    }
    for x in &r {
        assert!(x.order.is_none_or(|i| i < o.len()));
    }
});
