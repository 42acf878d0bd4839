//! Bot-level analyses over events: every table of the study's §5, each row
//! with its evidence (flow uid, packet numbers).

pub use crate::inputs::Inputs;
use crate::orders::{url_host, Order, OrderKind, Reply};
use botscope_core::events::{Evidence, FloodObs, IrcEvent, ScanObs};
use botscope_core::exploit::{ExploitEvent, ExploitVector};
use botscope_core::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// Analysis options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Honeypot networks (address, prefix length): Table 7/8 count only
    /// attempts on these. Empty: every address.
    pub honeypot_nets: Vec<(IpAddr, u8)>,
    /// Seconds east of UTC for the diurnal table.
    pub tz_offset_s: i32,
    /// Days the capture covers (default: its span rounded).
    pub days: Option<f64>,
}

/// Whether `ip` is in `net/len`.
pub fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Parses `a.b.c.d/n` (or a bare address).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.split_once('/').unwrap_or((s, ""));
    let ip: IpAddr = a.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = if l.is_empty() {
        max
    } else {
        l.trim().parse().ok()?
    };
    (len <= max).then_some((ip, len))
}

/// One row of a count table.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    /// What is counted (vector, method, port...).
    pub key: String,
    /// Count.
    pub count: u64,
    /// Percent of the table total, two decimals.
    pub percent: f64,
    /// Evidence: the first few flow uids.
    pub evidence: Vec<String>,
}

/// Rounds to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn table(counts: &BTreeMap<String, (u64, Vec<String>)>) -> Vec<Row> {
    let total: u64 = counts.values().map(|v| v.0).sum();
    let mut rows: Vec<Row> = counts
        .iter()
        .map(|(k, (c, ev))| Row {
            key: k.clone(),
            count: *c,
            percent: if total == 0 {
                0.0
            } else {
                round2(*c as f64 * 100.0 / total as f64)
            },
            evidence: ev.clone(),
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    rows
}

/// Whether an FTP data connection carried the whole file: no byte lost
/// (a SHA-256 was taken) and, when the server announced a size, at least
/// that many bytes. A `226` alone does not say so: captures cut off
/// mid-transfer still hold the server's reply to an earlier command, and
/// servers send `226` on aborted transfers too.
pub fn ftp_transfer_complete(
    t: &botscope_core::events::FtpTransfer,
    announced: Option<u64>,
) -> bool {
    t.sha256.is_some() && announced.is_none_or(|n| t.bytes >= n)
}

fn bump(m: &mut BTreeMap<String, (u64, Vec<String>)>, k: impl Into<String>, uid: &str, n: u64) {
    let e = m.entry(k.into()).or_default();
    e.0 += n;
    if e.1.len() < 5 && !uid.is_empty() {
        e.1.push(uid.to_string());
    }
}

/// How a binary was copied after an exploit (Table 8).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CopyRow {
    /// Exploit uid.
    pub exploit_uid: String,
    /// Infecting host.
    pub attacker: IpAddr,
    /// Victim.
    pub victim: IpAddr,
    /// `tftp_get`, `tcp_push` or `reverse_connect` (the study's three
    /// categories, by who started the exchange).
    pub method: String,
    /// How the bytes came: `tftp`, `ftp` (a victim-initiated FTP RETR,
    /// whatever mode its data connection used) or `tcp` (raw bytes).
    pub via: String,
    /// Transfer flow uid.
    pub uid: String,
    /// Start.
    pub ts: Ts,
    /// File name (TFTP).
    pub filename: Option<String>,
    /// Bytes.
    pub size: u64,
    /// Size the server announced for the file (FTP `SIZE`/`150` reply),
    /// when it did: a transfer that carried fewer bytes is partial.
    pub announced_size: Option<u64>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// Whether the whole binary arrived (a partial FTP transfer, fewer
    /// bytes than announced, did not).
    pub success: bool,
    /// Evidence.
    pub evidence: Evidence,
}

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

/// A herder order (Table 10, Fig. 6), received by a bot or sent by a
/// herder (see [`crate::herd`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OrderRow {
    /// Session uid.
    pub uid: String,
    /// Bot: the session's client for a received order; for a sent order
    /// the address in the bot's reply prefix, `0.0.0.0` when the prefix
    /// names a host instead (see `bot_nick`, `bot_host`).
    pub bot: IpAddr,
    /// Time.
    pub ts: Ts,
    /// `topic` or `privmsg` (or `notice`).
    pub via: String,
    /// Channel or target.
    pub target: Option<String>,
    /// Raw text.
    pub raw: String,
    /// Parsed order.
    pub order: Order,
    /// Indexes of the replies linked to it.
    pub replies: Vec<usize>,
    /// Evidence.
    pub evidence: Evidence,
    /// `received` (the capture holds the bot) or `sent` (the capture holds
    /// the herder's client).
    pub direction: String,
    /// Who gave it: the line's prefix (`nick!user@host`), a `332` topic's
    /// setter from the following `333`, or the herder's own nick.
    pub sender: Option<String>,
    /// The bot's nick: the session's for a received order, the PRIVMSG
    /// target for one sent to a nick (none for one sent to a channel).
    pub bot_nick: Option<String>,
    /// The bot's `user@host`, from the prefix of its relayed replies.
    pub bot_host: Option<String>,
}

/// A bot reply.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReplyRow {
    /// Session uid.
    pub uid: String,
    /// Time.
    pub ts: Ts,
    /// Raw text.
    pub raw: String,
    /// Parsed reply.
    pub reply: Reply,
    /// Index of the order it answers.
    pub order: Option<usize>,
    /// Evidence.
    pub evidence: Evidence,
    /// The bot that replied: its own nick (bot side) or the prefix of the
    /// relayed line (`nick!user@host`, herder side).
    pub from: Option<String>,
}

/// A flood with the order that started it (§5.3).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FloodRow {
    /// Observation.
    #[serde(flatten)]
    pub flood: FloodObs,
    /// The `ddos.*` command this type corresponds to.
    pub command: String,
    /// Packets per second.
    pub rate_pps: f64,
    /// Index of the order that started it.
    pub order: Option<usize>,
}

/// Relay requests from one spammer through one bot port (Table 11, Fig. 5).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RelaySourceRow {
    /// Bot.
    pub bot: IpAddr,
    /// Port on the bot.
    pub port: u16,
    /// Protocol.
    pub protocol: String,
    /// Spammer.
    pub spammer: IpAddr,
    /// Requests.
    pub count: u64,
    /// First.
    pub first: Ts,
    /// Last.
    pub last: Ts,
    /// Evidence: first few uids.
    pub evidence: Vec<String>,
}

/// Fig. 5 histogram.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Fig5 {
    /// Upper bounds (inclusive); the last bin is open (`u32::MAX`).
    pub bin_upper: Vec<u32>,
    /// Sources per bin.
    pub sources: Vec<u64>,
    /// Percent of sources with ≤ 100 requests.
    pub percent_le_100: f64,
}

/// A download or update (§5.5).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UpdateRow {
    /// Bot.
    pub bot: IpAddr,
    /// Index of the order.
    pub order: usize,
    /// `update` or `download`.
    pub kind: String,
    /// URL.
    pub url: String,
    /// HTTP flow uid, when a response was seen.
    pub uid: Option<String>,
    /// Status code.
    pub status: Option<u16>,
    /// SHA-256 of the executable.
    pub sha256: Option<String>,
    /// Success: 200 and an executable body.
    pub success: bool,
}

/// A scan and whether it fits its order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScanRow {
    /// Observation.
    #[serde(flatten)]
    pub scan: ScanObs,
    /// Probes per second.
    pub rate_pps: f64,
    /// Index of the scan order that started it.
    pub order: Option<usize>,
    /// Whether range and duration fit that order's parameters.
    pub fits_order: Option<bool>,
}

/// One stage of Fig. 3.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stage {
    /// `exploit`, `shell`, `copy`, `scan`, `dns`, `irc_join`, `update`.
    pub stage: String,
    /// Time.
    pub ts: Ts,
    /// Seconds since the first stage.
    pub delta_s: f64,
    /// Evidence uid.
    pub uid: String,
}

/// Fig. 3 for one bot.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Sequence {
    /// Bot.
    pub bot: IpAddr,
    /// Stages in time order.
    pub stages: Vec<Stage>,
}

/// Everything `botscope analyze` reports.
#[derive(Clone, Debug, Serialize, Default)]
pub struct Report {
    /// Table 1: background traffic per honeypot address, when captures of
    /// the sensor interface were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table1: Option<botscope_capture::accounting::Table1>,
    /// Table 7.
    pub table7: Vec<Row>,
    /// Exploit attempts counted in Table 7.
    pub exploits: Vec<ExploitEvent>,
    /// Table 8 (all copies).
    pub table8: Vec<Row>,
    /// Table 8 successful copies per method.
    pub table8_success: BTreeMap<String, u64>,
    /// Copies.
    pub copies: Vec<CopyRow>,
    /// Fig. 3.
    pub sequences: Vec<Sequence>,
    /// Table 9: C&C sessions per server port (bot side only).
    pub table9: Vec<Row>,
    /// IRC sessions: C&C ones and unattributed ones (see
    /// `SessionRow::attribution`).
    pub sessions: Vec<SessionRow>,
    /// IRC sessions attributed to C&C (bot or herder side).
    pub irc_sessions_cc: u64,
    /// IRC sessions not attributed to a bot (left out of Table 9, the
    /// diurnal table, Fig. 3 and the per-bot rates).
    pub irc_sessions_unattributed: u64,
    /// Table 10: `ddos.*` orders per command.
    pub table10: Vec<Row>,
    /// Orders per command (all).
    pub order_commands: Vec<Row>,
    /// Orders whose command is not interpreted.
    pub unknown_orders: u64,
    /// Orders.
    pub orders: Vec<OrderRow>,
    /// Replies.
    pub replies: Vec<ReplyRow>,
    /// Floods.
    pub floods: Vec<FloodRow>,
    /// Table 11: relay requests per bot port.
    pub table11: Vec<Row>,
    /// Relay requests per spammer.
    pub relays: Vec<RelaySourceRow>,
    /// Fig. 5.
    pub fig5: Fig5,
    /// Updates and downloads.
    pub updates: Vec<UpdateRow>,
    /// Update orders per bot per day.
    pub updates_per_bot_per_day: f64,
    /// Failed updates.
    pub updates_failed: u64,
    /// Scans.
    pub scans: Vec<ScanRow>,
    /// IRC joins per local hour.
    pub joins_per_local_hour: Vec<u64>,
    /// Offset used, seconds east of UTC.
    pub tz_offset_s: i32,
    /// Days used for per-day rates.
    pub days: f64,
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

fn flood_command(kind: &str) -> &'static str {
    match kind {
        "syn" => "ddos.synflood",
        "syn+urg" => "ddos.phatsyn",
        "syn+ack" => "ddos.phatwolk",
        "udp" => "ddos.udpflood",
        "icmp" => "ddos.phaticmp",
        "fragments" => "ddos.targa3",
        "http-get" => "ddos.httpflood",
        _ => "ddos.?",
    }
}

/// Runs every analysis.
pub fn analyze(inp: &Inputs, opt: &Options) -> Report {
    let mut r = Report {
        tz_offset_s: opt.tz_offset_s,
        ..Default::default()
    };
    let in_honeynet = |ip: IpAddr| {
        opt.honeypot_nets.is_empty() || opt.honeypot_nets.iter().any(|(n, l)| in_net(ip, *n, *l))
    };

    // Table 7.
    let mut t7 = BTreeMap::new();
    for e in inp.exploits.iter().filter(|e| in_honeynet(e.id.resp_h)) {
        bump(&mut t7, e.vector.name(), &e.uid, 1);
        r.exploits.push(e.clone());
    }
    r.table7 = table(&t7);
    for v in ExploitVector::ALL {
        if !r.table7.iter().any(|row| row.key == v.name()) {
            r.table7.push(Row {
                key: v.name().into(),
                count: 0,
                percent: 0.0,
                evidence: vec![],
            });
        }
    }

    // Table 8: the first transfer after each exploit, each transfer used once.
    let mut used_tftp = BTreeSet::new();
    let mut used_bin = BTreeSet::new();
    let window = 600_000_000i64;
    // Transfers by (originator, responder), so each exploit looks only at
    // its own pair's (a field has thousands of exploits and transfers).
    let mut tftp_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
    for (i, x) in inp.tftp.iter().enumerate() {
        if !x.wrq {
            tftp_by_pair
                .entry((x.id.orig_h, x.id.resp_h))
                .or_default()
                .push(i);
        }
    }
    // FTP fetches by (client, server): the victim logged into the
    // infecting host and sent RETR. Their data connections are not pushes,
    // even when the infecting host opened them (active mode, PORT).
    let mut used_ftp = BTreeSet::new();
    let mut ftp_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
    let mut ftp_data: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (i, f) in inp.ftp.iter().enumerate() {
        if let Some(t) = &f.transfer {
            ftp_data.insert(t.uid.as_str());
        }
        if f.command == "RETR" {
            ftp_by_pair
                .entry((f.id.orig_h, f.id.resp_h))
                .or_default()
                .push(i);
        }
    }
    let mut bin_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
    for (i, b) in inp.binaries.iter().enumerate() {
        if ftp_data.contains(b.uid.as_str()) {
            continue;
        }
        bin_by_pair
            .entry((b.id.orig_h, b.id.resp_h))
            .or_default()
            .push(i);
    }
    for e in &r.exploits {
        let (a, v, t) = (e.id.orig_h, e.id.resp_h, e.ts.0);
        let mut best: Option<CopyRow> = None;
        let consider = |c: CopyRow, best: &mut Option<CopyRow>| {
            if best.as_ref().is_none_or(|b| c.ts < b.ts) {
                *best = Some(c);
            }
        };
        for &i in tftp_by_pair.get(&(v, a)).into_iter().flatten() {
            let x = &inp.tftp[i];
            if used_tftp.contains(&i) {
                continue;
            }
            // A TFTP request can start a moment before the deciding PDU's packet.
            if x.ts.0 + 5_000_000 < t || x.ts.0 > t + window {
                continue;
            }
            consider(
                CopyRow {
                    exploit_uid: e.uid.clone(),
                    attacker: a,
                    victim: v,
                    method: "tftp_get".into(),
                    via: "tftp".into(),
                    uid: format!("tftp#{i}"),
                    ts: x.ts,
                    filename: Some(x.fname.clone()),
                    size: x.size,
                    announced_size: None,
                    sha256: x.sha256.clone(),
                    success: x.sha256.is_some() && x.error_code.is_none(),
                    evidence: x.evidence.clone(),
                },
                &mut best,
            );
        }
        // A victim-initiated FTP fetch from the infecting host: a reverse
        // connection in the study's terms (the victim connects to A).
        for &i in ftp_by_pair.get(&(v, a)).into_iter().flatten() {
            let f = &inp.ftp[i];
            if used_ftp.contains(&i) || f.ts.0 + 5_000_000 < t || f.ts.0 > t + window {
                continue;
            }
            let tr = f.transfer.as_ref();
            let ok = f.reply_code.is_some_and(|c| (200..300).contains(&c));
            consider(
                CopyRow {
                    exploit_uid: e.uid.clone(),
                    attacker: a,
                    victim: v,
                    method: "reverse_connect".into(),
                    via: "ftp".into(),
                    uid: format!("ftp#{i}"),
                    ts: f.ts,
                    filename: f.file_name.clone(),
                    size: tr.map_or(0, |t| t.bytes),
                    announced_size: f.file_size,
                    sha256: tr.and_then(|t| t.sha256.clone()),
                    success: ok && tr.is_some_and(|t| ftp_transfer_complete(t, f.file_size)),
                    evidence: f.evidence.clone(),
                },
                &mut best,
            );
        }
        // Pushes (attacker to victim) and reverse connections (victim to
        // attacker), in capture order as before.
        let mut bins: Vec<usize> = [(a, v), (v, a)]
            .iter()
            .filter_map(|k| bin_by_pair.get(k))
            .flatten()
            .copied()
            .collect();
        bins.sort_unstable();
        bins.dedup();
        for i in bins {
            let b = &inp.binaries[i];
            if used_bin.contains(&i) || b.ts.0 + 5_000_000 < t || b.ts.0 > t + window {
                continue;
            }
            let method = if b.from_orig && b.id.orig_h == a && b.id.resp_h == v {
                "tcp_push"
            } else if !b.from_orig && b.id.orig_h == v && b.id.resp_h == a {
                "reverse_connect"
            } else {
                continue;
            };
            consider(
                CopyRow {
                    exploit_uid: e.uid.clone(),
                    attacker: a,
                    victim: v,
                    method: method.into(),
                    via: "tcp".into(),
                    uid: format!("bin#{i}"),
                    ts: b.ts,
                    filename: None,
                    size: b.size,
                    announced_size: None,
                    sha256: Some(b.sha256.clone()),
                    success: b.complete,
                    evidence: b.evidence.clone(),
                },
                &mut best,
            );
        }
        if let Some(mut c) = best {
            let (kind, i) = c
                .uid
                .split_once('#')
                .map(|(k, i)| (k.to_string(), i.parse::<usize>().unwrap_or(0)))
                .unwrap_or_default();
            if kind == "tftp" {
                used_tftp.insert(i);
                c.uid = inp.tftp[i].uid.clone();
            } else if kind == "ftp" {
                used_ftp.insert(i);
                c.uid = inp.ftp[i].uid.clone();
            } else {
                used_bin.insert(i);
                c.uid = inp.binaries[i].uid.clone();
            }
            r.copies.push(c);
        }
    }
    let mut t8 = BTreeMap::new();
    for c in &r.copies {
        bump(&mut t8, c.method.clone(), &c.uid, 1);
        if c.success {
            *r.table8_success.entry(c.method.clone()).or_default() += 1;
        }
    }
    r.table8 = table(&t8);

    // IRC sessions, orders, replies.
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
            let lh = ((j.secs() + i64::from(opt.tz_offset_s)).rem_euclid(86_400) / 3600) as usize;
            hours[lh] += 1;
        }
    }
    r.table9 = table(&t9);
    r.joins_per_local_hour = hours;
    r.sessions = sessions.into_iter().map(|s| s.0).collect();
    let mut t10 = BTreeMap::new();
    let mut cmds = BTreeMap::new();
    for o in &r.orders {
        bump(&mut cmds, o.order.command.clone(), &o.uid, 1);
        if matches!(o.order.kind, OrderKind::Ddos { .. }) {
            bump(&mut t10, o.order.command.clone(), &o.uid, 1);
        }
        if o.order.kind == OrderKind::Unknown {
            r.unknown_orders += 1;
        }
    }
    r.table10 = table(&t10);
    r.order_commands = table(&cmds);

    // Floods, linked to the ddos order of the same bot naming the target.
    let http_pairs: BTreeSet<(IpAddr, IpAddr)> = inp
        .floods
        .iter()
        .filter(|f| f.kind == "http-get")
        .map(|f| (f.source, f.target))
        .collect();
    for f in &inp.floods {
        if f.kind == "syn" && !f.spoofed && http_pairs.contains(&(f.source, f.target)) {
            continue; // the connections of an HTTP GET flood
        }
        let command = flood_command(&f.kind).to_string();
        let mut f = f.clone();
        if f.kind == "http-get" {
            // The flood starts with the first connection's SYN.
            let syn_start = inp
                .floods
                .iter()
                .filter(|g| {
                    g.kind == "syn"
                        && g.source == f.source
                        && g.target == f.target
                        && g.port == f.port
                        && g.start <= f.start
                        && g.end >= f.start
                })
                .map(|g| g.start)
                .min();
            if let Some(s) = syn_start {
                f.start = s;
            }
        }
        let f = &f;
        let order = r
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.bot == f.source && o.ts <= f.start && f.start.0 - o.ts.0 <= 120_000_000
            })
            .filter(|(_, o)| match &o.order.kind {
                OrderKind::Ddos {
                    target: Some(t), ..
                } => {
                    t.parse::<IpAddr>().ok() == Some(f.target)
                        || url_host(t).and_then(|h| h.parse::<IpAddr>().ok()) == Some(f.target)
                }
                _ => false,
            })
            .max_by_key(|(_, o)| o.ts)
            .map(|(i, _)| i);
        let secs = (f.end.0 - f.start.0) as f64 / 1e6;
        let rate_pps = if secs > 0.0 {
            round2(f.packets as f64 / secs)
        } else {
            f.packets as f64
        };
        r.floods.push(FloodRow {
            flood: f.clone(),
            command,
            rate_pps,
            order,
        });
    }

    // Spam relays.
    let mut per_src: BTreeMap<(IpAddr, u16, IpAddr), RelaySourceRow> = BTreeMap::new();
    let mut t11 = BTreeMap::new();
    for x in inp
        .relays
        .iter()
        .filter(|x| x.target_port.is_none_or(|p| p == 25))
    {
        bump(&mut t11, x.port.to_string(), &x.uid, 1);
        let row = per_src
            .entry((x.bot, x.port, x.spammer))
            .or_insert_with(|| RelaySourceRow {
                bot: x.bot,
                port: x.port,
                protocol: x.protocol.clone(),
                spammer: x.spammer,
                count: 0,
                first: x.ts,
                last: x.ts,
                evidence: vec![],
            });
        row.count += 1;
        row.first = row.first.min(x.ts);
        row.last = row.last.max(x.ts);
        if row.evidence.len() < 5 {
            row.evidence.push(x.uid.clone());
        }
    }
    r.table11 = table(&t11);
    r.relays = per_src.into_values().collect();
    let bins: Vec<u32> = (1..=10).map(|k| k * 100).chain([u32::MAX]).collect();
    let mut counts = vec![0u64; bins.len()];
    for s in &r.relays {
        let i = bins
            .iter()
            .position(|b| s.count <= u64::from(*b))
            .unwrap_or(bins.len() - 1);
        counts[i] += 1;
    }
    let total: u64 = counts.iter().sum();
    r.fig5 = Fig5 {
        percent_le_100: round2(counts[0] as f64 * 100.0 / total.max(1) as f64),
        bin_upper: bins,
        sources: counts,
    };

    // Updates and downloads.
    let mut used_http = BTreeSet::new();
    for (oi, o) in r.orders.iter().enumerate() {
        if o.direction != crate::herd::RECEIVED {
            continue; // rates are per bot; a herder's orders are not the bot's requests
        }
        let OrderKind::Download {
            update,
            url: Some(url),
            ..
        } = &o.order.kind
        else {
            continue;
        };
        let host = url_host(url).unwrap_or("");
        let hit = inp
            .http
            .iter()
            .enumerate()
            .filter(|(i, h)| {
                !used_http.contains(i)
                    && h.id.orig_h == o.bot
                    && h.ts >= o.ts
                    && h.ts.0 - o.ts.0 <= 600_000_000
            })
            .find(|(_, h)| {
                h.id.resp_h.to_string() == host
                    || h.host
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(host))
            });
        let row = match hit {
            Some((i, h)) => {
                used_http.insert(i);
                UpdateRow {
                    bot: o.bot,
                    order: oi,
                    kind: if *update { "update" } else { "download" }.into(),
                    url: url.clone(),
                    uid: Some(h.uid.clone()),
                    status: h.status_code,
                    sha256: h.sha256.clone(),
                    success: h.status_code == Some(200) && h.is_executable,
                }
            }
            None => UpdateRow {
                bot: o.bot,
                order: oi,
                kind: if *update { "update" } else { "download" }.into(),
                url: url.clone(),
                uid: None,
                status: None,
                sha256: None,
                success: false,
            },
        };
        r.updates.push(row);
    }
    let bots: BTreeSet<IpAddr> = r
        .sessions
        .iter()
        .filter(|s| s.role == "bot" && s.attribution.is_cc())
        .map(|s| s.bot)
        .collect();
    let days = opt.days.unwrap_or_else(|| {
        inp.span
            .map(|(a, b)| ((b.0 - a.0) as f64 / 86_400e6).round().max(1.0))
            .unwrap_or(1.0)
    });
    r.days = days;
    let ups = r.updates.iter().filter(|u| u.kind == "update").count() as f64;
    r.updates_per_bot_per_day = round2(ups / (bots.len().max(1) as f64 * days.max(1e-9)));
    r.updates_failed = r
        .updates
        .iter()
        .filter(|u| u.kind == "update" && !u.success)
        .count() as u64;

    // Scans and their orders.
    for s in &inp.scans {
        let order = r
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.bot == s.source && o.ts <= s.start && s.start.0 - o.ts.0 <= 60_000_000
            })
            .filter(|(_, o)| matches!(o.order.kind, OrderKind::Scan { .. }))
            .max_by_key(|(_, o)| o.ts)
            .map(|(i, _)| i);
        let fits_order = order.map(|i| scan_fits(&r.orders[i].order, s));
        let secs = (s.end.0 - s.start.0) as f64 / 1e6;
        let rate_pps = if secs > 0.0 {
            round2(s.probes as f64 / secs)
        } else {
            s.probes as f64
        };
        r.scans.push(ScanRow {
            scan: s.clone(),
            rate_pps,
            order,
            fits_order,
        });
    }

    // Fig. 3 per bot.
    for bot in &bots {
        let mut st: Vec<(String, Ts, String)> = Vec::new();
        if let Some(e) = inp
            .exploits
            .iter()
            .filter(|e| e.id.resp_h == *bot)
            .min_by_key(|e| e.ts)
        {
            st.push(("exploit".into(), e.ts, e.uid.clone()));
        }
        // The exploit's shell: the first line typed into a shell this bot ran.
        if let Some(s) = inp
            .shell
            .iter()
            .filter(|s| s.shell_host == *bot)
            .min_by_key(|s| s.ts)
        {
            st.push(("shell".into(), s.ts, s.uid.clone()));
        }
        if let Some(c) = r
            .copies
            .iter()
            .filter(|c| c.victim == *bot)
            .min_by_key(|c| c.ts)
        {
            st.push(("copy".into(), c.ts, c.uid.clone()));
        }
        if let Some(s) = inp
            .scans
            .iter()
            .filter(|s| s.source == *bot)
            .min_by_key(|s| s.start)
        {
            st.push((
                "scan".into(),
                s.start,
                format!("pkt {}", s.evidence.packets.first().unwrap_or(&0)),
            ));
        }
        let names: BTreeSet<String> = r
            .sessions
            .iter()
            .filter(|s| s.bot == *bot)
            .filter_map(|s| s.fqdn.as_ref().map(|f| f.to_ascii_lowercase()))
            .collect();
        if let Some(d) = inp
            .dns
            .iter()
            .filter(|d| {
                d.id.orig_h == *bot
                    && d.query
                        .as_ref()
                        .is_some_and(|q| names.contains(&q.to_ascii_lowercase()))
            })
            .min_by_key(|d| d.ts)
        {
            st.push(("dns".into(), d.ts, d.uid.clone()));
        }
        if let Some(s) = r
            .sessions
            .iter()
            .filter(|s| s.bot == *bot && s.join.is_some())
            .min_by_key(|s| s.join)
        {
            st.push(("irc_join".into(), s.join.unwrap_or(s.start), s.uid.clone()));
        }
        if let Some(o) = r
            .orders
            .iter()
            .filter(|o| {
                o.bot == *bot && matches!(o.order.kind, OrderKind::Download { update: true, .. })
            })
            .min_by_key(|o| o.ts)
        {
            st.push(("update".into(), o.ts, o.uid.clone()));
        }
        st.sort_by_key(|s| s.1);
        let t0 = st.first().map(|s| s.1 .0).unwrap_or(0);
        r.sequences.push(Sequence {
            bot: *bot,
            stages: st
                .into_iter()
                .map(|(stage, ts, uid)| Stage {
                    stage,
                    ts,
                    delta_s: (ts.0 - t0) as f64 / 1e6,
                    uid,
                })
                .collect(),
        });
    }
    r
}

/// Whether a scan fits its order: `-a` keeps to the /8, `-b` to the /16,
/// neither to the /24 (`ipscan` to the /16); a scan lasting longer than
/// the ordered minutes (when not 0) does not fit.
pub fn scan_fits(order: &Order, s: &ScanObs) -> bool {
    let OrderKind::Scan { flags, minutes, .. } = &order.kind else {
        return false;
    };
    let bits: u32 = s
        .range
        .rsplit_once('/')
        .and_then(|(_, b)| b.parse().ok())
        .unwrap_or(0);
    let allowed = if flags.a {
        8
    } else if flags.b || order.command == "ipscan" {
        16
    } else {
        24
    };
    let dur_ok = match minutes {
        Some(m) if *m > 0 && order.command != "ipscan" => {
            (s.end.0 - s.start.0) <= i64::from(*m) * 60_000_000
        }
        _ => true,
    };
    bits >= allowed && dur_ok
}

/// Groups exploits by vector (helper for callers).
pub fn vector_counts(exploits: &[ExploitEvent]) -> HashMap<ExploitVector, u64> {
    let mut m = HashMap::new();
    for e in exploits {
        *m.entry(e.vector).or_default() += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_patterns() {
        let (n, l) = parse_cidr("10.1.0.0/16").unwrap();
        assert!(in_net("10.1.200.3".parse().unwrap(), n, l));
        assert!(!in_net("10.2.0.1".parse().unwrap(), n, l));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(nick_pattern("damn-0262937047"), "damn-#");
        assert_eq!(nick_pattern("USA|31337|x"), "USA|#|x");
    }
}
