//! Bot or person: whether an IRC session is a C&C session (Table 9) or
//! an IRC session botscope cannot attribute to a bot (people chatting,
//! test clients), decided on evidence and reported with it.
//!
//! A session is **C&C** when any of these is seen:
//! - `orders_received` — an order of a known command (any kind but
//!   `unknown`) reached the client (topic on join, `TOPIC`,
//!   `PRIVMSG`/`NOTICE` from the server side; see [`crate::herd`]);
//!   `topic_orders` counts the ones in topics;
//! - `orders_sent` — the client sent an order of a known command to a bot
//!   nick or channel (the herder's side; such a session is a `herder`
//!   session, kept out of Table 9 as before);
//!
//! (orders of unknown commands — `!help`, `!seen bob` said to a channel's
//! service bot — are listed but decide nothing);
//! - `bot_replies` — the client sent `[TAG]: ...` replies;
//! - `infected_host` — before connecting, the client was the victim of an
//!   exploit or of a copy (Table 7/8), fetched an executable by TFTP, or
//!   received one over a raw TCP connection (not an FTP data connection);
//! - both weak signs together, `bot_nick` and `keyed_join`, and no human
//!   chat from the client.
//!
//! The weak signs: `bot_nick` — a nick in the shapes sdbot, rbot/rxbot,
//! Agobot/Phatbot and Spybot generate (a tag or country code and a number
//! `[USA|123456]`, `USA|31337`, an OS tag and a number `XP-1234`,
//! `[XP]|01234`, a word and a run of five or more digits `damn-0262937047`,
//! or a run of five or more consonants in a letters-only nick `qxvbtrwp`);
//! `keyed_join` — a `JOIN` with a channel key sent within
//! [`KEYED_JOIN_WINDOW_US`] of registration (the server's `001`, else the
//! client's first line), as a bot's built-in configuration does.
//!
//! Evidence against (`evidence_against`), which keeps the weak signs from
//! deciding: `chat` — `PRIVMSG`/`NOTICE` texts from the client that are
//! neither orders, bot replies nor CTCP; `cap_negotiation` — the client
//! negotiated IRCv3 capabilities (`CAP`), which today's chat clients do
//! and the 2004 bots did not; `client_queries` — `LIST`, `WHO`, `WHOIS`,
//! `NAMES` typed by a person. Strong evidence is never overruled by them.

use crate::analysis::{CopyRow, Inputs, OrderRow, SessionRow};
use crate::herd::{RECEIVED, SENT};
use crate::orders::{parse_order, parse_reply, OrderKind};
use botscope_core::events::IrcEvent;
use botscope_core::Ts;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// The verdict of a C&C session.
pub const CC: &str = "cc";
/// The verdict of a session with too little evidence of a bot.
pub const UNATTRIBUTED: &str = "unattributed";
/// Longest gap between registration and a keyed `JOIN` that still counts
/// as a bot's automatic join, µs.
pub const KEYED_JOIN_WINDOW_US: i64 = 30_000_000;
/// Shortest digit run that makes a `word-digits` nick bot-like (human
/// nicks carry years and short numbers: `john1985`, `tim2`).
pub const MIN_NICK_DIGITS: usize = 5;

/// Why a session is, or is not, a C&C session.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Attribution {
    /// [`CC`] or [`UNATTRIBUTED`].
    pub verdict: String,
    /// Evidence of a bot, each `name: detail`.
    pub evidence_for: Vec<String>,
    /// Evidence of a person, each `name: detail`.
    pub evidence_against: Vec<String>,
    /// One sentence: what decided.
    pub reason: String,
}

impl Attribution {
    /// Whether the session is a C&C session.
    pub fn is_cc(&self) -> bool {
        self.verdict == CC
    }
}

/// The first time each host was seen infected, with what showed it
/// (`exploited by A (uid)`, `copy ...`, `executable over tftp ...`).
pub fn infected_hosts(inp: &Inputs, copies: &[CopyRow]) -> HashMap<IpAddr, (Ts, String)> {
    let mut m: HashMap<IpAddr, (Ts, String)> = HashMap::new();
    let mut note = |host: IpAddr, ts: Ts, what: String| {
        let e = m.entry(host).or_insert((ts, what.clone()));
        if ts < e.0 {
            *e = (ts, what);
        }
    };
    for e in &inp.exploits {
        note(
            e.id.resp_h,
            e.ts,
            format!("{} from {} ({})", e.vector.name(), e.id.orig_h, e.uid),
        );
    }
    for c in copies {
        note(
            c.victim,
            c.ts,
            format!("copy {} from {} ({})", c.method, c.attacker, c.uid),
        );
    }
    for t in inp.tftp.iter().filter(|t| !t.wrq && t.is_executable) {
        note(
            t.id.orig_h,
            t.ts,
            format!(
                "executable {} over tftp from {} ({})",
                t.fname, t.id.resp_h, t.uid
            ),
        );
    }
    let ftp_data: HashSet<&str> = inp
        .ftp
        .iter()
        .filter_map(|f| f.transfer.as_ref().map(|t| t.uid.as_str()))
        .collect();
    for b in inp
        .binaries
        .iter()
        .filter(|b| !ftp_data.contains(b.uid.as_str()))
    {
        let (to, from) = if b.from_orig {
            (b.id.resp_h, b.id.orig_h)
        } else {
            (b.id.orig_h, b.id.resp_h)
        };
        note(
            to,
            b.ts,
            format!("executable over tcp from {from} ({})", b.uid),
        );
    }
    m
}

/// The shape that makes a nick bot-like, if any (see the module doc).
pub fn bot_nick_shape(nick: &str) -> Option<&'static str> {
    let n = nick.trim();
    if n.is_empty() || n.len() > 64 {
        return None;
    }
    let longest_digits = longest_run(n, |c| c.is_ascii_digit());
    // `[USA|123456]`, `USA|31337`, `[00|USA|XP|SP2|12345]`, `r00t|01234`.
    if n.contains('|') && longest_digits >= 3 {
        return Some("tag|number");
    }
    // `XP-1234`, `2K-0815`, `[XP]01234`, `W2K3_5555`.
    let core = n.trim_start_matches('[');
    for os in [
        "XP", "2K3", "2K", "W2K3", "W2K", "WXP", "NT", "98", "ME", "2003", "VISTA",
    ] {
        if let Some(rest) = core.strip_prefix(os) {
            let rest = rest.trim_start_matches([']', '-', '_', '|']);
            if rest.len() < core.len() - os.len()
                && rest.len() >= 3
                && rest.chars().all(|c| c.is_ascii_digit())
            {
                return Some("os-number");
            }
        }
    }
    // `damn-0262937047`, `bot-01234`: a word and a long number.
    if longest_digits >= MIN_NICK_DIGITS && n.chars().any(|c| c.is_ascii_alphabetic()) {
        return Some("word-number");
    }
    // Random letters: `qxvbtrwp` (Agobot/SDBot random nicks).
    if n.len() >= 7
        && n.chars().all(|c| c.is_ascii_alphabetic())
        && longest_run(n, |c| !"aeiouyAEIOUY".contains(c)) >= 5
    {
        return Some("random-letters");
    }
    None
}

fn longest_run(s: &str, f: impl Fn(char) -> bool) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if f(c) {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Counts of the client's lines by what they are.
#[derive(Default)]
struct ClientLines {
    chat: usize,
    first_chat: Option<String>,
    bot_replies: usize,
    cap: bool,
    queries: Vec<String>,
}

fn client_lines(evs: &[&IrcEvent]) -> ClientLines {
    let mut out = ClientLines::default();
    for e in evs.iter().filter(|e| e.from_client) {
        match e.command.as_str() {
            "PRIVMSG" | "NOTICE" if e.params.len() >= 2 => {
                let text = e.params.last().map(String::as_str).unwrap_or("");
                if text.starts_with('\x01') {
                    continue; // CTCP (ACTION, VERSION, DCC): neither chat nor order
                }
                if parse_reply(text).is_some() {
                    out.bot_replies += 1;
                } else if parse_order(text).is_none() && !text.trim().is_empty() {
                    out.chat += 1;
                    if out.first_chat.is_none() {
                        out.first_chat = Some(text.chars().take(40).collect());
                    }
                }
            }
            "CAP" => out.cap = true,
            q @ ("LIST" | "WHO" | "WHOIS" | "NAMES") if !out.queries.iter().any(|x| x == q) => {
                out.queries.push(q.to_string());
            }
            _ => {}
        }
    }
    out
}

/// A keyed `JOIN` within [`KEYED_JOIN_WINDOW_US`] of registration: the
/// key and the seconds after registration.
fn keyed_join(evs: &[&IrcEvent]) -> Option<(String, f64)> {
    let registered = evs
        .iter()
        .find(|e| !e.from_client && e.command == "001")
        .or_else(|| evs.iter().find(|e| e.from_client))
        .map(|e| e.ts)?;
    evs.iter()
        .filter(|e| e.from_client && e.command == "JOIN" && e.ts >= registered)
        .take_while(|e| e.ts.0 - registered.0 <= KEYED_JOIN_WINDOW_US)
        .find_map(|e| {
            let key = e.params.get(1).filter(|k| !k.is_empty())?;
            Some((key.clone(), (e.ts.0 - registered.0) as f64 / 1e6))
        })
}

/// Orders of one session, by direction: (all, of a known command, in topics).
fn order_counts(orders: &[OrderRow], direction: &str) -> (usize, usize, usize) {
    let mine = orders.iter().filter(|o| o.direction == direction);
    let all = mine.clone().count();
    let known = mine
        .clone()
        .filter(|o| o.order.kind != OrderKind::Unknown)
        .count();
    let topic = mine.filter(|o| o.via == "topic").count();
    (all, known, topic)
}

/// Decides one session from its lines (sorted by time) and the orders
/// [`crate::herd::session_orders`] found in it.
pub fn attribute(
    s: &SessionRow,
    evs: &[&IrcEvent],
    orders: &[OrderRow],
    infected: &HashMap<IpAddr, (Ts, String)>,
) -> Attribution {
    let lines = client_lines(evs);
    let mut a = Attribution::default();
    let mut strong = false;
    // Orders of unknown commands (`!help`, `!seen bob`: people talking to
    // a channel's service bot) are listed, but only known commands decide.
    for (direction, name) in [(RECEIVED, "orders_received"), (SENT, "orders_sent")] {
        let (all, known, topic) = order_counts(orders, direction);
        if all == 0 {
            continue;
        }
        strong |= known > 0;
        a.evidence_for
            .push(format!("{name}: {all} ({known} of a known command)"));
        if topic > 0 {
            a.evidence_for.push(format!("topic_orders: {topic}"));
        }
    }
    if lines.bot_replies > 0 {
        strong = true;
        a.evidence_for
            .push(format!("bot_replies: {}", lines.bot_replies));
    }
    if let Some((ts, what)) = infected.get(&s.bot).filter(|(ts, _)| *ts <= s.start) {
        strong = true;
        a.evidence_for.push(format!(
            "infected_host: {what}, {:.0} s before connecting",
            (s.start.0 - ts.0) as f64 / 1e6
        ));
    }
    let shape = s.nick.as_deref().and_then(bot_nick_shape);
    if let (Some(shape), Some(n)) = (shape, s.nick.as_deref()) {
        a.evidence_for.push(format!("bot_nick: {n} ({shape})"));
    }
    let keyed = keyed_join(evs);
    if let Some((k, secs)) = &keyed {
        a.evidence_for.push(format!(
            "keyed_join: key {k} {secs:.1} s after registration"
        ));
    }
    if lines.chat > 0 {
        a.evidence_against.push(format!(
            "chat: {} line(s), first \"{}\"",
            lines.chat,
            lines.first_chat.as_deref().unwrap_or("")
        ));
    }
    if lines.cap {
        a.evidence_against
            .push("cap_negotiation: IRCv3 CAP".to_string());
    }
    if !lines.queries.is_empty() {
        a.evidence_against
            .push(format!("client_queries: {}", lines.queries.join(",")));
    }
    let weak = shape.is_some() && keyed.is_some() && lines.chat == 0;
    if strong {
        a.verdict = CC.into();
        a.reason = "orders of known commands, bot replies or an infected client".into();
    } else if weak {
        a.verdict = CC.into();
        a.reason = "bot-like nick and keyed join at registration, no chat".into();
    } else {
        a.verdict = UNATTRIBUTED.into();
        let mut why = vec!["no known order either way, no bot reply, client not seen infected"];
        if shape.is_some() != keyed.is_some() {
            why.push("only one weak sign");
        }
        if lines.chat > 0 {
            why.push("the client chats");
        }
        a.reason = why.join("; ");
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nick_shapes_of_bots_and_people() {
        for (nick, shape) in [
            ("[USA|123456]", "tag|number"),
            ("USA|31337", "tag|number"),
            ("[00|USA|XP|SP2|12345]", "tag|number"),
            ("JPN|01234", "tag|number"),
            ("XP-1234", "os-number"),
            ("[XP]01234", "os-number"),
            ("2K-0815", "os-number"),
            ("damn-0262937047", "word-number"),
            ("bot-01234", "word-number"),
            ("qxvbtrwp", "random-letters"),
        ] {
            assert_eq!(bot_nick_shape(nick), Some(shape), "{nick}");
        }
        for nick in [
            "daniel",
            "brotest",
            "tim2",
            "tim_",
            "john1985",
            "molochtest",
            "foo",
            "loadbot",
            "AL7uB",
            "nick|away",
            "XPfan",
            "Christopher",
        ] {
            assert_eq!(bot_nick_shape(nick), None, "{nick}");
        }
    }
}
