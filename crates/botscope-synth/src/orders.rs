//! The order grammar the field's herders write, on IRC and in HTTP C&C
//! answers alike: the scan orders of the study's Fig. 6, the `ddos.*`
//! layouts of Agobot/Phatbot, and the reader of an order's command word
//! and arguments.

use std::net::Ipv4Addr;

/// The scan orders of Fig. 6.
pub(crate) const SCAN_ORDERS: [&str; 5] = [
    ".advscan dcom135 260 5 0 -b -r -s",
    ".advscan dclass 400 3 999 -r -s",
    "ntscan 200 2000 -a -b -s",
    "ipscan r.r.r dcom2 86400 256 8000 -s",
    ".advscan lsass 200 5 0 -b -r -s",
];

/// A flood order's parameters as the bot reads them.
pub(crate) struct FloodArgs {
    pub(crate) target: Ipv4Addr,
    /// Port, when the command's layout has one.
    pub(crate) port: Option<u16>,
    /// Duration, seconds.
    pub(crate) secs: u32,
    /// Delay between packets, ms, when the layout has one.
    pub(crate) delay_ms: Option<u32>,
}

/// Writes a `ddos.*` order in the Agobot/Phatbot argument layout of its
/// command (the one bots and the behaviour analysis read):
/// `synflood|phatsyn|phatwolk HOST SECS DELAY PORT`, `phaticmp HOST SECS
/// DELAY`, `udpflood HOST PORT SECS DELAY`, `targa3 HOST SECS`,
/// `httpflood URL SECS`.
pub(crate) fn flood_order(
    kind: &str,
    target: Ipv4Addr,
    port: u16,
    secs: u32,
    delay_ms: u32,
) -> String {
    match kind {
        "ddos.phaticmp" => format!(".{kind} {target} {secs} {delay_ms}"),
        "ddos.udpflood" => format!(".{kind} {target} {port} {secs} {delay_ms}"),
        "ddos.targa3" => format!(".{kind} {target} {secs}"),
        "ddos.httpflood" => format!(".{kind} http://{target}/ {secs}"),
        _ => format!(".{kind} {target} {secs} {delay_ms} {port}"),
    }
}

/// Reads back what [`flood_order`] wrote.
pub(crate) fn parse_flood_args(kind: &str, args: &[String]) -> Option<FloodArgs> {
    let num = |i: usize| args.get(i).and_then(|a| a.parse::<u32>().ok());
    let host = args.first()?;
    let host = host
        .strip_prefix("http://")
        .map(|h| h.split(['/', ':']).next().unwrap_or(h))
        .unwrap_or(host);
    let target: Ipv4Addr = host.parse().ok()?;
    let (port, secs, delay_ms) = match kind {
        "ddos.phaticmp" => (None, num(1), num(2)),
        "ddos.udpflood" => (num(1).map(|p| p as u16), num(2), num(3)),
        "ddos.targa3" => (None, num(1), None),
        "ddos.httpflood" => (Some(80), num(1), None),
        _ => (num(3).map(|p| p as u16), num(1), num(2)),
    };
    Some(FloodArgs {
        target,
        port,
        secs: secs.unwrap_or(60),
        delay_ms,
    })
}

/// Splits an order into its command (leading dot removed) and arguments.
pub fn parse_order(raw: &str) -> (String, Vec<String>) {
    let mut it = raw.split_whitespace();
    let cmd = it.next().unwrap_or("").trim_start_matches('.').to_string();
    (cmd, it.map(String::from).collect())
}

/// What a bot does with a scan order, as its `[SCAN]` reply says it: the
/// range (`-a` its /8, `-b` or `ipscan` its /16, else its /24), the port
/// (445 for `ntscan` and LSASS scanners, else 135) and the scanner name.
pub(crate) fn scan_target(command: &str, args: &[String], bot: Ipv4Addr) -> (String, u16, String) {
    let o = bot.octets();
    let (scanner, port) = match command {
        "ntscan" => ("netbios".to_string(), 445u16),
        "ipscan" => (args.get(1).cloned().unwrap_or_default(), 135),
        _ => {
            let s = args.first().cloned().unwrap_or_default();
            let p = if s.contains("lsass") { 445 } else { 135 };
            (s, p)
        }
    };
    let range = if args.iter().any(|a| a == "-a") {
        format!("{}.0.0.0/8", o[0])
    } else if args.iter().any(|a| a == "-b") || command == "ipscan" {
        format!("{}.{}.0.0/16", o[0], o[1])
    } else {
        format!("{}.{}.{}.0/24", o[0], o[1], o[2])
    };
    (range, port, scanner)
}

/// The bot's reply to a scan order.
pub(crate) fn scan_reply(command: &str, args: &[String], bot: Ipv4Addr) -> String {
    let (range, port, scanner) = scan_target(command, args, bot);
    format!("[SCAN]: Random Port Scan started on {range}:{port} using {scanner}.")
}
