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
