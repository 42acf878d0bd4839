//! HTTP command channels (the study's §9): infected hosts that poll a web
//! server for orders. HTTP transactions are grouped by server, port and
//! URI shape (the path with id-like segments masked, and the parameter
//! names with their values masked: `/gate.php?id=*&os=*`); each group is
//! a poller row with its polls, the inter-poll interval (median over every
//! client) and its spread, and the orders its responses carry, parsed by
//! the same grammar as IRC orders ([`crate::orders::parse_order`]).
//!
//! A group is a row when one client polled it regularly
//! ([`MIN_POLLS`] requests or more, a median gap of at least
//! [`MIN_INTERVAL_S`], interval spread at most [`MAX_SPREAD`]) or a
//! response carried an order. It is **C&C** (an HTTP
//! row of Table 9) when:
//! - `orders_received` — a response carried an order of a known command
//!   (any kind but `unknown`), or
//! - `infected_pollers` with `bot_parameters` — at least
//!   [`MIN_INFECTED_POLLERS`] infected hosts ([`crate::attribution::infected_hosts`],
//!   or IRC C&C bots) poll the same shape, and its parameters are
//!   bot-like: a per-host identifier (each client sends one constant value,
//!   different from every other client's) or names bots use (`botid`,
//!   `hwid`, `guid`...).
//!
//! Anything else — an update checker, a feed reader, a status page poller
//! — stays `unattributed`, listed with its evidence: regularity alone
//! decides nothing.

use crate::analysis::{round2, Report};
use crate::attribution::{Attribution, CC, UNATTRIBUTED};
use crate::inputs::Inputs;
use crate::orders::{parse_order, Order, OrderKind};
use botscope_core::events::{Evidence, HttpEvent};
use botscope_core::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

/// Fewest requests from one client for it to count as polling.
pub const MIN_POLLS: usize = 4;
/// Shortest median gap, seconds, that is a beacon: faster repeats are
/// floods (`ddos.httpflood`) or page loads, not a bot asking for orders.
pub const MIN_INTERVAL_S: f64 = 5.0;
/// Largest spread of the inter-poll intervals (median absolute deviation
/// over the median) that is still regular: bots add jitter, people do not
/// click at a steady beat.
pub const MAX_SPREAD: f64 = 0.25;
/// Fewest infected hosts sharing a URI shape with bot-like parameters for
/// it to be C&C without orders.
pub const MIN_INFECTED_POLLERS: usize = 2;
/// Most response lines read for orders per transaction.
pub const MAX_ORDER_LINES: usize = 16;
/// Parameter names 2000s HTTP bots reported themselves with.
const BOT_PARAMS: &[&str] = &[
    "botid", "bot_id", "bid", "hwid", "guid", "uid", "bot", "botver", "pcname", "cmd", "task",
    "taskid", "osver", "winver",
];

/// One HTTP poller group: a C&C row of Table 9 or an unattributed poller.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HttpCcRow {
    /// Server address.
    pub server: IpAddr,
    /// Server port.
    pub port: u16,
    /// Host header of the first request.
    pub host: Option<String>,
    /// URI shape: path and parameter names, values masked.
    pub uri_shape: String,
    /// Clients that polled (the bots, for a C&C row).
    pub bots: Vec<IpAddr>,
    /// Requests.
    pub polls: u64,
    /// Median seconds between one client's successive requests.
    pub interval_s: Option<f64>,
    /// Spread of those intervals: median absolute deviation / median.
    pub interval_spread: Option<f64>,
    /// Orders the responses carried.
    pub orders: u64,
    /// Their commands, each once (`download`, `ddos.synflood`...).
    pub order_commands: Vec<String>,
    /// First and last request.
    pub first: Ts,
    /// Last request.
    pub last: Ts,
    /// C&C or unattributed, with the evidence.
    pub attribution: Attribution,
    /// Flow uids of the first requests.
    pub evidence: Vec<String>,
}

/// An order read from a polling response.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HttpOrderRow {
    /// Flow uid of the transaction.
    pub uid: String,
    /// The polling client.
    pub bot: IpAddr,
    /// Server.
    pub server: IpAddr,
    /// Server port.
    pub port: u16,
    /// Request time.
    pub ts: Ts,
    /// The response line.
    pub raw: String,
    /// Parsed order.
    pub order: Order,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// The URI's shape: path segments that look like ids (runs of 4+ digits,
/// 8+ hex digits) masked as `*`, then the parameter names in the order
/// sent with values masked.
pub fn uri_shape(uri: &str) -> String {
    let uri = uri.get(..uri.len().min(2048)).unwrap_or(uri);
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let path: Vec<&str> = path
        .split('/')
        .map(|seg| if id_like(seg) { "*" } else { seg })
        .collect();
    let mut shape = path.join("/");
    if !query.is_empty() {
        let names: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .take(32)
            .map(|p| format!("{}=*", p.split_once('=').map_or(p, |(n, _)| n)))
            .collect();
        shape.push('?');
        shape.push_str(&names.join("&"));
    }
    shape
}

/// Whether a path segment or value looks like a generated identifier.
fn id_like(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (s.len() >= 4 && digits == s.len())
        || (s.len() >= 8 && s.chars().all(|c| c.is_ascii_hexdigit()) && digits > 0)
}

/// Parameter name/value pairs of a URI.
fn params(uri: &str) -> impl Iterator<Item = (&str, &str)> {
    uri.split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .take(32)
        .filter_map(|p| p.split_once('='))
}

/// The orders a response text carries (known commands only are counted
/// as evidence; unknown ones are still listed).
fn orders_in(text: &str) -> Vec<(String, Order)> {
    text.lines()
        .take(MAX_ORDER_LINES)
        .filter_map(|l| {
            let l = l.trim();
            parse_order(l).map(|o| (l.to_string(), o))
        })
        .collect()
}

/// Median of a non-empty slice (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median inter-poll interval over every client's successive requests and
/// its relative spread; `None` without two requests from one client.
fn regularity(by_client: &BTreeMap<IpAddr, Vec<&HttpEvent>>) -> Option<(f64, f64)> {
    let mut gaps: Vec<f64> = Vec::new();
    for evs in by_client.values() {
        for w in evs.windows(2) {
            gaps.push((w[1].ts.0 - w[0].ts.0) as f64 / 1e6);
        }
    }
    if gaps.is_empty() {
        return None;
    }
    let med = median(&mut gaps);
    let mut dev: Vec<f64> = gaps.iter().map(|g| (g - med).abs()).collect();
    let mad = median(&mut dev);
    let spread = if med > 0.0 { mad / med } else { f64::INFINITY };
    Some((med, spread))
}

/// The bot-like parameters of a group: names bots use, and per-host
/// identifiers (one constant value per client, a different one for each).
fn bot_parameters(by_client: &BTreeMap<IpAddr, Vec<&HttpEvent>>) -> Vec<String> {
    let mut values: BTreeMap<&str, BTreeMap<IpAddr, BTreeSet<&str>>> = BTreeMap::new();
    for (c, evs) in by_client {
        for e in evs {
            for (n, v) in params(e.uri.as_deref().unwrap_or("")) {
                values
                    .entry(n)
                    .or_default()
                    .entry(*c)
                    .or_default()
                    .insert(v);
            }
        }
    }
    let mut out = Vec::new();
    for (name, per_client) in &values {
        let lname = name.to_ascii_lowercase();
        if BOT_PARAMS.contains(&lname.as_str()) {
            out.push(format!("name {name}"));
            continue;
        }
        let constant = per_client.values().all(|v| v.len() == 1);
        let distinct: HashSet<&&str> = per_client.values().flat_map(|v| v.iter()).collect();
        let idlike = per_client
            .values()
            .flat_map(|v| v.iter())
            .all(|v| v.len() >= 6 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if per_client.len() >= 2 && constant && distinct.len() == per_client.len() && idlike {
            out.push(format!("per-host identifier {name}"));
        }
    }
    out
}

/// Groups HTTP transactions by server, port and URI shape.
type Groups<'a> = BTreeMap<(IpAddr, u16, String), BTreeMap<IpAddr, Vec<&'a HttpEvent>>>;

fn groups(inp: &Inputs) -> Groups<'_> {
    let mut g: Groups<'_> = BTreeMap::new();
    for e in &inp.http {
        let Some(uri) = e.uri.as_deref() else {
            continue;
        };
        g.entry((e.id.resp_h, e.id.resp_p, uri_shape(uri)))
            .or_default()
            .entry(e.id.orig_h)
            .or_default()
            .push(e);
    }
    for clients in g.values_mut() {
        for evs in clients.values_mut() {
            evs.sort_by_key(|e| (e.ts, e.trans_depth));
        }
    }
    g
}

/// The verdict of one group, with its evidence.
fn attribute(
    orders: &[HttpOrderRow],
    by_client: &BTreeMap<IpAddr, Vec<&HttpEvent>>,
    infected: &HashSet<IpAddr>,
    regular: Option<(f64, f64)>,
) -> Attribution {
    let mut a = Attribution::default();
    let known: Vec<&HttpOrderRow> = orders
        .iter()
        .filter(|o| o.order.kind != OrderKind::Unknown)
        .collect();
    if !known.is_empty() {
        a.evidence_for.push(format!(
            "orders_received: {} ({})",
            known.len(),
            known[0].raw
        ));
    }
    let inf: Vec<IpAddr> = by_client
        .keys()
        .filter(|c| infected.contains(c))
        .copied()
        .collect();
    let bot_params = bot_parameters(by_client);
    if !inf.is_empty() {
        a.evidence_for.push(format!(
            "infected_pollers: {} of {}",
            inf.len(),
            by_client.len()
        ));
    }
    if !bot_params.is_empty() {
        a.evidence_for
            .push(format!("bot_parameters: {}", bot_params.join(", ")));
    }
    let responses = by_client
        .values()
        .flatten()
        .filter(|e| e.response_text.is_some())
        .count();
    if known.is_empty() {
        a.evidence_against.push(format!(
            "no_orders: none in {responses} short text responses"
        ));
    }
    if inf.is_empty() {
        a.evidence_against.push("no_infected_poller".into());
    }
    if let Some((i, s)) = regular {
        let e = format!("polling: every {:.1} s, spread {:.2}", i, s);
        if s <= MAX_SPREAD {
            a.evidence_for.push(e);
        } else {
            a.evidence_against.push(e);
        }
    }
    let (cc, reason) = if !known.is_empty() {
        (true, "responses carry orders")
    } else if inf.len() >= MIN_INFECTED_POLLERS && !bot_params.is_empty() {
        (
            true,
            "infected hosts poll one URI shape with bot-like parameters",
        )
    } else {
        (
            false,
            "periodic HTTP without orders or enough infected pollers with bot-like parameters",
        )
    };
    a.verdict = if cc { CC } else { UNATTRIBUTED }.into();
    a.reason = reason.into();
    a
}

/// Table 9's HTTP rows (`r.table9_http`), the unattributed pollers
/// (`r.http_pollers`) and the orders read from responses (`r.http_orders`).
pub(crate) fn http_cc(inp: &Inputs, r: &mut Report) {
    let mut infected: HashSet<IpAddr> = crate::attribution::infected_hosts(inp, &r.copies)
        .into_keys()
        .collect();
    infected.extend(
        r.sessions
            .iter()
            .filter(|s| s.role == "bot" && s.attribution.is_cc())
            .map(|s| s.bot),
    );
    for ((server, port, shape), by_client) in groups(inp) {
        let mut orders = Vec::new();
        for e in by_client.values().flatten() {
            let Some(text) = e.response_text.as_deref() else {
                continue;
            };
            for (raw, order) in orders_in(text) {
                orders.push(HttpOrderRow {
                    uid: e.uid.clone(),
                    bot: e.id.orig_h,
                    server,
                    port,
                    ts: e.ts,
                    raw,
                    order,
                    evidence: e.evidence.clone(),
                });
            }
        }
        let regular = regularity(&by_client);
        let polling = regular.is_some_and(|(i, s)| i >= MIN_INTERVAL_S && s <= MAX_SPREAD)
            && by_client.values().any(|v| v.len() >= MIN_POLLS);
        if !polling && orders.is_empty() {
            continue;
        }
        let attribution = attribute(&orders, &by_client, &infected, regular);
        let all: Vec<&&HttpEvent> = by_client.values().flatten().collect();
        let mut commands: Vec<String> = orders.iter().map(|o| o.order.command.clone()).collect();
        commands.sort();
        commands.dedup();
        let row = HttpCcRow {
            server,
            port,
            host: all.iter().find_map(|e| e.host.clone()),
            uri_shape: shape,
            bots: by_client.keys().copied().collect(),
            polls: all.len() as u64,
            interval_s: regular.map(|(i, _)| round2(i)),
            interval_spread: regular.map(|(_, s)| round2(s)),
            orders: orders.len() as u64,
            order_commands: commands,
            first: all.iter().map(|e| e.ts).min().unwrap_or_default(),
            last: all.iter().map(|e| e.ts).max().unwrap_or_default(),
            evidence: all.iter().take(5).map(|e| e.uid.clone()).collect(),
            attribution,
        };
        if row.attribution.is_cc() {
            r.http_orders.extend(orders);
            r.table9_http.push(row);
        } else {
            r.http_pollers.push(row);
        }
    }
    r.http_orders
        .sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_mask_values_and_ids() {
        assert_eq!(
            uri_shape("/gate.php?id=4f2a9c81&os=XP&v=2"),
            "/gate.php?id=*&os=*&v=*"
        );
        assert_eq!(uri_shape("/b/12345/cmd.txt"), "/b/*/cmd.txt");
        assert_eq!(uri_shape("/feed/deadbeef01/"), "/feed/*/");
        assert_eq!(uri_shape("/index.html"), "/index.html");
        assert_eq!(uri_shape("/news/2004"), "/news/*");
    }

    #[test]
    fn orders_in_responses_use_the_irc_grammar() {
        let o = orders_in("OK\n.download http://10.9.9.9/x.exe c:\\x.exe 1\n<html>");
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].1.command, "download");
        assert!(orders_in("{\"status\":\"ok\",\"next\":300}").is_empty());
        let o = orders_in("ddos.synflood 10.0.0.1 80 60");
        assert_eq!(o[0].1.command, "ddos.synflood");
    }

    #[test]
    fn regularity_is_median_and_relative_mad() {
        let ev = |t: i64| HttpEvent {
            ts: Ts(t * 1_000_000),
            uid: "C".into(),
            id: botscope_core::FlowKey {
                proto: botscope_core::Proto::Tcp,
                orig_h: "10.0.0.1".parse().unwrap(),
                orig_p: 1000,
                resp_h: "10.0.0.2".parse().unwrap(),
                resp_p: 80,
            },
            trans_depth: 1,
            method: Some("GET".into()),
            host: None,
            uri: Some("/a".into()),
            version: None,
            user_agent: None,
            request_body_len: 0,
            response_body_len: 0,
            status_code: None,
            status_msg: None,
            is_executable: false,
            sha256: None,
            response_text: None,
            evidence: Default::default(),
        };
        let evs = [ev(0), ev(60), ev(118), ev(181), ev(240)];
        let mut m = BTreeMap::new();
        m.insert("10.0.0.1".parse().unwrap(), evs.iter().collect::<Vec<_>>());
        let (i, s) = regularity(&m).unwrap();
        // Gaps 60, 58, 63, 59: median 59.5, deviations 0.5 1.5 3.5 0.5.
        assert_eq!(i, 59.5);
        assert!((s - 1.0 / 59.5).abs() < 1e-12, "{s}");
    }
}
