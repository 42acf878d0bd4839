//! Table 9 (IRC C&C sessions per server port) and the diurnal table
//! (first JOIN of each bot session by local hour): IRC lines grouped
//! into sessions, each attributed ([`crate::attribution`]) after its
//! orders and replies are found ([`crate::herd`]).

use crate::analysis::{bump, table, Options, Report};
use crate::inputs::Inputs;
use botscope_core::events::{Evidence, IrcEvent};
use botscope_core::Ts;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// One IRC C&C session (Table 9).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SessionRow {
    /// Flow uid.
    pub uid: String,
    /// Bot.
    pub bot: IpAddr,
    /// Server.
    pub server: IpAddr,
    /// Server port.
    pub port: u16,
    /// FQDN the bot looked the server up by.
    pub fqdn: Option<String>,
    /// Nick.
    pub nick: Option<String>,
    /// Nick pattern: letters kept, digit runs as `#` (`damn-#`).
    pub nick_pattern: Option<String>,
    /// Channel(s) joined.
    pub channels: Vec<String>,
    /// Channel key.
    pub key: Option<String>,
    /// First line.
    pub start: Ts,
    /// First JOIN.
    pub join: Option<Ts>,
    /// Evidence.
    pub evidence: Evidence,
    /// `bot`, or `herder` when the client sent orders and received none
    /// (herder sessions are left out of Table 9, the diurnal table and the
    /// per-bot rates). Meaningful for C&C sessions; an unattributed
    /// session keeps `bot` (the client side).
    pub role: String,
    /// Whether this is a C&C session (`cc`, counted in Table 9 unless a
    /// herder's) or an IRC session with too little evidence of a bot
    /// (`unattributed`: people chatting, test clients), with the evidence
    /// either way ([`crate::attribution`]).
    pub attribution: crate::attribution::Attribution,
}

/// The nick with digit runs replaced by `#`.
pub fn nick_pattern(nick: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in nick.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// The registered IRC sessions (a client NICK, USER or JOIN) with their
/// lines in time order, sorted by start.
fn collect(inp: &Inputs) -> Vec<(SessionRow, Vec<&IrcEvent>)> {
    let mut by_uid: BTreeMap<&str, Vec<&IrcEvent>> = BTreeMap::new();
    for ev in &inp.irc {
        by_uid.entry(ev.uid.as_str()).or_default().push(ev);
    }
    let mut sessions: Vec<(SessionRow, Vec<&IrcEvent>)> = Vec::new();
    for (uid, mut evs) in by_uid {
        evs.sort_by_key(|e| e.ts);
        let first = evs[0];
        let registered = evs
            .iter()
            .any(|e| e.from_client && matches!(e.command.as_str(), "NICK" | "USER" | "JOIN"));
        if !registered {
            continue;
        }
        let nick = evs
            .iter()
            .find(|e| e.from_client && e.command == "NICK")
            .and_then(|e| e.params.first().cloned())
            .or_else(|| evs.iter().find_map(|e| e.nick.clone()));
        let joins: Vec<&&IrcEvent> = evs
            .iter()
            .filter(|e| e.from_client && e.command == "JOIN")
            .collect();
        let mut channels: Vec<String> = Vec::new();
        let mut key = None;
        for j in &joins {
            let chans = j.params.first().cloned().unwrap_or_default();
            let keys = j.params.get(1).cloned();
            for (i, c) in chans.split(',').enumerate() {
                if !c.is_empty() && !channels.iter().any(|x| x == c) && channels.len() < 32 {
                    channels.push(c.to_string());
                }
                if key.is_none() {
                    key = keys
                        .as_ref()
                        .and_then(|k| k.split(',').nth(i))
                        .filter(|k| !k.is_empty())
                        .map(String::from);
                }
            }
        }
        let join = joins.first().map(|j| j.ts);
        let server = first.id.resp_h;
        let bot = first.id.orig_h;
        let fqdn = inp
            .dns
            .iter()
            .filter(|d| {
                d.id.orig_h == bot
                    && d.ts <= first.ts
                    && d.answers
                        .iter()
                        .any(|a| a.parse::<IpAddr>().ok() == Some(server))
            })
            .max_by_key(|d| d.ts)
            .and_then(|d| d.query.clone());
        let last = evs
            .last()
            .map(|e| e.evidence.packets.last().copied().unwrap_or(0))
            .unwrap_or(0);
        sessions.push((
            SessionRow {
                uid: uid.to_string(),
                bot,
                server,
                port: first.id.resp_p,
                fqdn,
                nick_pattern: nick.as_deref().map(nick_pattern),
                nick,
                channels,
                key,
                start: first.ts,
                join,
                evidence: Evidence {
                    file: first.evidence.file,
                    packets: vec![first.evidence.packets.first().copied().unwrap_or(0), last],
                },
                role: "bot".into(),
                attribution: Default::default(),
            },
            evs,
        ));
    }
    sessions.sort_by(|a, b| (a.0.start, &a.0.uid).cmp(&(b.0.start, &b.0.uid)));
    sessions
}

/// Sessions, orders and replies (Fig. 6-7), Table 9 and the diurnal
/// table. Orders of unattributed sessions are dropped; herder sessions
/// stay out of Table 9 and the diurnal table.
pub(crate) fn table9(inp: &Inputs, opt: &Options, r: &mut Report) {
    let mut sessions = collect(inp);
    let mut t9 = BTreeMap::new();
    let mut hours = vec![0u64; 24];
    let infected = crate::attribution::infected_hosts(inp, &r.copies);
    for (s, evs) in sessions.iter_mut() {
        let (first_order, first_reply) = (r.orders.len(), r.replies.len());
        let found = crate::herd::session_orders(&s.uid, s.bot, evs, &mut r.orders, &mut r.replies);
        s.attribution = crate::attribution::attribute(s, evs, &r.orders[first_order..], &infected);
        if !s.attribution.is_cc() {
            // Not a bot's session: its `!seen`-style lines are no herder's
            // orders (Table 10, Fig. 6-7); the evidence keeps their count.
            r.orders.truncate(first_order);
            r.replies.truncate(first_reply);
            r.irc_sessions_unattributed += 1;
            continue;
        }
        r.irc_sessions_cc += 1;
        if found.sent > 0 && found.received == 0 {
            s.role = "herder".into();
            continue;
        }
        bump(&mut t9, s.port.to_string(), &s.uid, 1);
        if let Some(j) = s.join {
            let off = i64::from(opt.zone.offset_at(j.secs()));
            let lh = ((j.secs() + off).rem_euclid(86_400) / 3600) as usize;
            hours[lh] += 1;
        }
    }
    r.table9 = table(&t9);
    r.joins_per_local_hour = hours;
    r.sessions = sessions.into_iter().map(|s| s.0).collect();
}
