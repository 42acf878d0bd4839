//! A person's IRC session, the field's negative for the C&C attribution
//! (issue 15): `pcap/chat.pcap` holds one client on an office LAN that
//! negotiates IRCv3 capabilities, registers under a person's nick, lists
//! channels, joins one without a key well after registration, chats with
//! others, asks a channel service bot `!seen` (an order-shaped line of an
//! unknown command) and quits. It is not a bot: `analyze` must leave it
//! out of Table 9, Fig. 3 and the diurnal table and report it as an
//! unattributed session ([`crate::truth::ChatSessionTruth`]).
//!
//! Drawn from its own seeded stream (the field's seed mixed with a
//! constant), after everything else, so the rest of the field is the same
//! bytes with or without it.

use crate::pcap::PcapFile;
use crate::tcp::Tcp;
use crate::truth::{ChatSessionTruth, FileTruth};
use botscope_core::{FlowKey, Proto, Ts};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// Where the session is written, relative to the field folder.
pub const CHAT_PCAP: &str = "pcap/chat.pcap";

const NICKS: [&str; 6] = ["kenji", "yuki_t", "mika", "hiro", "sato-san", "aya"];
const CHANNELS: [&str; 4] = ["#linux-jp", "#tokyo-dev", "#anime", "#golang-ja"];
const OTHERS: [&str; 4] = ["taro", "naomi", "shin", "emi"];
const SAID: [&str; 8] = [
    "good morning",
    "has anyone tried the new kernel?",
    "lol",
    "I will be back after lunch",
    "thanks, that fixed it",
    "see you tomorrow",
    "which editor do you use?",
    "brb",
];

/// Writes `pcap/chat.pcap` (one session starting within the field's first
/// day) and returns its file entry and truth.
pub fn render_chat(
    seed: u64,
    start_us: i64,
    out: &Path,
) -> io::Result<(FileTruth, ChatSessionTruth)> {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0xc4a7_5e55_1011_0001);
    let client = Ipv4Addr::new(10, 77, r.random_range(0..=3), r.random_range(10..=250));
    let server = Ipv4Addr::new(203, 0, 113, r.random_range(1..=254));
    let cport = r.random_range(40_000..60_000);
    let nick = NICKS[r.random_range(0..NICKS.len())];
    let channel = CHANNELS[r.random_range(0..CHANNELS.len())];
    let connect = start_us + r.random_range(9 * 3600..17 * 3600) * 1_000_000;
    let mut f = PcapFile::create(&out.join(CHAT_PCAP))?;
    let mut c = Tcp::new(client, cport, server, 6667, connect, r.random());
    c.handshake(&mut f);
    let srv = "irc.example.org";
    let say = |c: &mut Tcp, f: &mut PcapFile, gap_s: i64, line: String| {
        c.t += gap_s * 1_000_000;
        c.c_send(f, format!("{line}\r\n").as_bytes());
    };
    say(&mut c, &mut f, 0, "CAP LS 302".into());
    say(&mut c, &mut f, 0, format!("NICK {nick}"));
    say(&mut c, &mut f, 0, format!("USER {nick} 0 * :{nick}"));
    c.t += 300_000;
    c.s_send(
        &mut f,
        format!(
            ":{srv} CAP * LS :multi-prefix server-time\r\n:{srv} 001 {nick} :Welcome to the example network {nick}\r\n:{srv} 376 {nick} :End of /MOTD command.\r\n"
        )
        .as_bytes(),
    );
    say(&mut c, &mut f, 1, "CAP END".into());
    say(&mut c, &mut f, 4, "LIST".into());
    c.t += 300_000;
    c.s_send(
        &mut f,
        format!(":{srv} 322 {nick} {channel} 41 :welcome\r\n:{srv} 323 {nick} :End of /LIST\r\n")
            .as_bytes(),
    );
    // A person types the JOIN: tens of seconds after registration, no key.
    let join_gap = r.random_range(40..120);
    c.t += join_gap * 1_000_000;
    let join = Ts(c.t);
    say(&mut c, &mut f, 0, format!("JOIN {channel}"));
    c.t += 200_000;
    c.s_send(
        &mut f,
        format!(
            ":{nick}!~{nick}@{client} JOIN {channel}\r\n:{srv} 332 {nick} {channel} :welcome, be nice\r\n:{srv} 353 {nick} = {channel} :{nick} {}\r\n:{srv} 366 {nick} {channel} :End of /NAMES list.\r\n",
            OTHERS.join(" ")
        )
        .as_bytes(),
    );
    let mut chat_lines = 0u32;
    let turns = r.random_range(4..8);
    for _ in 0..turns {
        let other = OTHERS[r.random_range(0..OTHERS.len())];
        let heard = SAID[r.random_range(0..SAID.len())];
        c.t += r.random_range(5..90) * 1_000_000;
        c.s_send(
            &mut f,
            format!(":{other}!~{other}@home.example PRIVMSG {channel} :{heard}\r\n").as_bytes(),
        );
        let line = SAID[r.random_range(0..SAID.len())];
        let gap = r.random_range(3..60);
        say(&mut c, &mut f, gap, format!("PRIVMSG {channel} :{line}"));
        chat_lines += 1;
    }
    // A question to the channel's service bot: order-shaped, unknown command.
    say(
        &mut c,
        &mut f,
        20,
        format!("PRIVMSG {channel} :!seen {}", OTHERS[0]),
    );
    say(&mut c, &mut f, 30, "QUIT :bye".into());
    let end = Ts(c.t);
    c.close(&mut f, true);
    let (packets, bytes) = f.finish()?;
    let truth = ChatSessionTruth {
        client,
        server,
        port: 6667,
        nick: nick.into(),
        channel: channel.into(),
        connect: Ts(connect),
        join,
        end,
        chat_lines,
        flow: FlowKey {
            orig_h: IpAddr::V4(client),
            orig_p: cport,
            resp_h: IpAddr::V4(server),
            resp_p: 6667,
            proto: Proto::Tcp,
        },
        file: CHAT_PCAP.into(),
    };
    let file = FileTruth {
        path: CHAT_PCAP.into(),
        kind: "pcap: a person's IRC chat session (not C&C)".into(),
        packets,
        bytes,
    };
    Ok((file, truth))
}
