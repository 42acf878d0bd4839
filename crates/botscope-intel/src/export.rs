//! Countermeasure exports: an RPZ zone (BIND, Unbound, Knot Resolver), an
//! nftables set file, iptables-restore files, a hosts file, a MISP event, a
//! STIX 2.1 bundle, and the infected-customer notification list.
//!
//! Every name goes through [`select`] first: names covered by the public-IRC
//! allow-list are left out with their reason, and names that would make an
//! owner name longer than DNS allows under the RPZ origin are refused, so a
//! server never rejects the zone.

use crate::classify::Classified;
use crate::configs::BotConfigs;
use crate::error::ParseError;
use crate::names::{normalize, AllowList, MAX_NAME};
use crate::probe::ProbeResult;
use crate::targets::{SkippedAddr, TargetPolicy};
use crate::uuid5;
use botscope_core::error::SkipCounter;
use botscope_core::error::{Located, Location};
use botscope_core::Ts;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A name left out of an export, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// The name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// Names to export after the allow-list and length checks.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Selection {
    /// Names that go into the exports, in input order.
    pub names: Vec<String>,
    /// Names left out.
    pub excluded: Vec<Excluded>,
}

/// What listed names are answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpzAction {
    /// `CNAME .`: the name does not exist.
    Nxdomain,
    /// `CNAME *.`: the name exists without data.
    Nodata,
    /// A or AAAA record pointing at a sinkhole.
    SinkholeAddr(IpAddr),
    /// `CNAME` to a sinkhole host.
    SinkholeCname(String),
}

impl RpzAction {
    /// Parses `nxdomain`, `nodata`, an address, or a host name.
    pub fn parse(s: &str) -> Result<RpzAction, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nxdomain" => Ok(RpzAction::Nxdomain),
            "nodata" => Ok(RpzAction::Nodata),
            other => {
                if let Ok(ip) = other.parse::<IpAddr>() {
                    Ok(RpzAction::SinkholeAddr(ip))
                } else {
                    normalize(other)
                        .map(RpzAction::SinkholeCname)
                        .map_err(|reason| ParseError::Sinkhole {
                            given: other.to_string(),
                            reason,
                        })
                }
            }
        }
    }

    /// Short label for reports.
    pub fn label(&self) -> String {
        match self {
            RpzAction::Nxdomain => "nxdomain".into(),
            RpzAction::Nodata => "nodata".into(),
            RpzAction::SinkholeAddr(a) => format!("sinkhole {a}"),
            RpzAction::SinkholeCname(c) => format!("sinkhole {c}"),
        }
    }
}

/// How the SOA serial advances between exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerialMode {
    /// Previous serial + 1 (1 for the first export).
    Increment,
    /// `YYYYMMDDnn`, nn counting exports of the day; never goes backwards.
    Date,
}

/// RPZ settings.
#[derive(Clone, Debug)]
pub struct RpzOptions {
    /// The policy zone's name (checked for owner-name length only; the
    /// zone file uses relative owners so it loads under any name).
    pub origin: String,
    /// Answer for listed names.
    pub action: RpzAction,
    /// Also list `*.name` so subdomains are covered.
    pub wildcard: bool,
    /// Record TTL.
    pub ttl: u32,
    /// Serial handling.
    pub serial_mode: SerialMode,
}

impl Default for RpzOptions {
    fn default() -> Self {
        RpzOptions {
            origin: "rpz.botscope".into(),
            action: RpzAction::Nxdomain,
            wildcard: false,
            ttl: 300,
            serial_mode: SerialMode::Increment,
        }
    }
}

/// Applies the allow-list and RPZ length limits to names.
pub fn select(names: &[String], allow: &AllowList, rpz: &RpzOptions) -> Selection {
    let mut s = Selection::default();
    // Owner names are `name.origin` (and `*.name.origin`): all must fit.
    let extra = rpz.origin.len() + 1 + if rpz.wildcard { 2 } else { 0 };
    for n in names {
        if let Some(z) = allow.covering(n) {
            s.excluded.push(Excluded {
                name: n.clone(),
                reason: format!("public IRC allow-list ({z})"),
            });
        } else if n.len() + extra > MAX_NAME {
            s.excluded.push(Excluded {
                name: n.clone(),
                reason: format!("owner name under {} would exceed 255 octets", rpz.origin),
            });
        } else {
            s.names.push(n.clone());
        }
    }
    s
}

/// The serial following `prev`; `today` is `YYYYMMDD`.
pub fn next_serial(prev: Option<u32>, mode: SerialMode, today: u32) -> u32 {
    match mode {
        SerialMode::Increment => match prev {
            None => 1,
            // RFC 1982 arithmetic: wrap, skipping 0 which some tools treat as unset.
            Some(p) => p.wrapping_add(1).max(1),
        },
        SerialMode::Date => {
            let base = today.saturating_mul(100);
            match prev {
                Some(p) if p >= base => p.saturating_add(1),
                _ => base,
            }
        }
    }
}

/// `YYYYMMDD` of a timestamp (UTC).
pub fn yyyymmdd(ts: Ts) -> u32 {
    ts.utc_day().replace('-', "").parse().unwrap_or(19700101)
}

/// Renders the RPZ zone text.
pub fn rpz_zone(names: &[String], opts: &RpzOptions, serial: u32, generated: Ts) -> String {
    let mut z = String::new();
    z.push_str(&format!(
        "; botscope intel export: response policy zone\n; generated {} — {} names, action {}{}\n",
        generated.rfc3339(),
        names.len(),
        opts.action.label(),
        if opts.wildcard {
            ", with *.name wildcards"
        } else {
            ""
        }
    ));
    z.push_str(&format!("$TTL {}\n", opts.ttl));
    z.push_str(&format!(
        "@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 604800 {} )\n",
        opts.ttl
    ));
    z.push_str("@ IN NS localhost.\n");
    let rdata = match &opts.action {
        RpzAction::Nxdomain => "CNAME .".to_string(),
        RpzAction::Nodata => "CNAME *.".to_string(),
        RpzAction::SinkholeAddr(IpAddr::V4(a)) => format!("A {a}"),
        RpzAction::SinkholeAddr(IpAddr::V6(a)) => format!("AAAA {a}"),
        RpzAction::SinkholeCname(c) => format!("CNAME {c}."),
    };
    for n in names {
        z.push_str(&format!("{n} {rdata}\n"));
        if opts.wildcard {
            z.push_str(&format!("*.{n} {rdata}\n"));
        }
    }
    z
}

/// A C&C endpoint for firewall exports.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Endpoint {
    /// Address.
    pub addr: IpAddr,
    /// TCP port.
    pub port: u16,
}

/// Firewall endpoints of the exported names, after the target policy.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FirewallTargets {
    /// Endpoints for nftables, iptables, MISP and STIX; sorted, distinct.
    pub endpoints: Vec<Endpoint>,
    /// Addresses left out (non-global or never-block), with their names.
    pub skipped: Vec<SkippedAddr>,
    /// Names with no probe (no addresses known).
    pub unprobed: Vec<String>,
}

/// Endpoints for the firewall and threat-sharing exports: each name's
/// addresses from its latest probe (`latest`) × its C&C ports from the
/// configs (else `default_port`), plus address literals named in the
/// configs. Addresses the policy refuses (non-global, never-block) are left
/// out and listed in `skipped`: a herder must not be able to make the ISP
/// block its own infrastructure by pointing a C&C name at it.
pub fn firewall_endpoints(
    names: &[String],
    latest: &BTreeMap<String, ProbeResult>,
    configs: &BotConfigs,
    default_port: u16,
    policy: &TargetPolicy,
) -> FirewallTargets {
    let mut t = FirewallTargets::default();
    let add = |t: &mut FirewallTargets, name: &str, addr: IpAddr, ports: &[u16]| {
        if let Some(reason) = policy.refuse(addr) {
            t.skipped.push(SkippedAddr {
                name: name.to_string(),
                addr,
                reason,
            });
            return;
        }
        for &port in ports {
            t.endpoints.push(Endpoint { addr, port });
        }
    };
    for n in names {
        let mut ports = configs.ports(n);
        if ports.is_empty() {
            ports.push(default_port);
        }
        match latest.get(n) {
            Some(p) => {
                for ad in &p.addrs {
                    add(&mut t, n, ad.addr, &ports);
                }
            }
            None => t.unprobed.push(n.clone()),
        }
    }
    for (host, ports) in &configs.ports_by_host {
        if let Ok(ip) = host.parse::<IpAddr>() {
            let ports: Vec<u16> = ports.iter().copied().collect();
            add(&mut t, host, ip, &ports);
        }
    }
    t.endpoints.sort();
    t.endpoints.dedup();
    t.skipped.sort();
    t.skipped.dedup();
    t
}

/// Renders an nftables file with one table, two sets and drop rules for
/// traffic forwarded or sent to the C&C endpoints.
pub fn nftables(endpoints: &[Endpoint], generated: Ts) -> String {
    let mut v4: Vec<&Endpoint> = endpoints.iter().filter(|e| e.addr.is_ipv4()).collect();
    let mut v6: Vec<&Endpoint> = endpoints.iter().filter(|e| e.addr.is_ipv6()).collect();
    v4.sort();
    v4.dedup();
    v6.sort();
    v6.dedup();
    let elements = |v: &[&Endpoint]| {
        if v.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = v
                .iter()
                .map(|e| format!("{} . {}", e.addr, e.port))
                .collect();
            format!("\t\telements = {{ {} }}\n", items.join(",\n\t\t\t     "))
        }
    };
    let mut s = format!(
        "#!/usr/sbin/nft -f\n# botscope intel export: C&C endpoints, generated {}\n\
         # Loading replaces the table as a whole (declare, delete, define).\n\
         table inet botscope_cc {{}}\ndelete table inet botscope_cc\n",
        generated.rfc3339()
    );
    s.push_str("table inet botscope_cc {\n");
    s.push_str("\tset cc_v4 {\n\t\ttype ipv4_addr . inet_service\n");
    s.push_str(&elements(&v4));
    s.push_str("\t}\n");
    s.push_str("\tset cc_v6 {\n\t\ttype ipv6_addr . inet_service\n");
    s.push_str(&elements(&v6));
    s.push_str("\t}\n");
    for (chain, hook) in [("forward", "forward"), ("output", "output")] {
        s.push_str(&format!(
            "\tchain {chain} {{\n\t\ttype filter hook {hook} priority filter; policy accept;\n\
             \t\tip daddr . tcp dport @cc_v4 counter drop\n\
             \t\tip6 daddr . tcp dport @cc_v6 counter drop\n\t}}\n"
        ));
    }
    s.push_str("}\n");
    s
}

/// Renders iptables-restore (IPv4) and ip6tables-restore (IPv6) files: a
/// `BOTSCOPE-CC` chain of DROP rules. Load with `--noflush`; hook it once
/// with `-I FORWARD -j BOTSCOPE-CC`.
pub fn iptables(endpoints: &[Endpoint], generated: Ts) -> (String, String) {
    let mut eps: Vec<&Endpoint> = endpoints.iter().collect();
    eps.sort();
    eps.dedup();
    let render = |v6: bool| {
        let mut s = format!(
            "# botscope intel export: C&C endpoints, generated {}\n\
             # load: ip{}tables-restore --noflush FILE; hook once: -I FORWARD -j BOTSCOPE-CC\n\
             *filter\n:BOTSCOPE-CC - [0:0]\n-F BOTSCOPE-CC\n",
            generated.rfc3339(),
            if v6 { "6" } else { "" }
        );
        for e in eps.iter().filter(|e| e.addr.is_ipv6() == v6) {
            let plen = if v6 { 128 } else { 32 };
            s.push_str(&format!(
                "-A BOTSCOPE-CC -d {}/{plen} -p tcp -m tcp --dport {} -j DROP\n",
                e.addr, e.port
            ));
        }
        s.push_str("COMMIT\n");
        s
    };
    (render(false), render(true))
}

/// Renders a hosts file sending every name to the sinkhole (`0.0.0.0`
/// unless the RPZ action is a sinkhole address).
pub fn hosts(names: &[String], action: &RpzAction, generated: Ts) -> String {
    let target = match action {
        RpzAction::SinkholeAddr(a) => a.to_string(),
        _ => "0.0.0.0".to_string(),
    };
    let mut s = format!(
        "# botscope intel export: C&C names, generated {}\n",
        generated.rfc3339()
    );
    for n in names {
        s.push_str(&format!("{target} {n}\n"));
    }
    s
}

fn category_of<'a>(classes: &'a BTreeMap<String, Classified>, n: &str) -> Option<&'a str> {
    classes.get(n).map(|c| c.category.key())
}

/// A MISP event (the `{"Event": {...}}` import format) with one `hostname`
/// attribute per name and one `ip-dst|port` per endpoint. UUIDs are v5 from
/// the values, so re-exports update rather than duplicate.
pub fn misp_event(
    info: &str,
    names: &[String],
    endpoints: &[Endpoint],
    classes: &BTreeMap<String, Classified>,
    generated: Ts,
) -> Value {
    let ts = generated.secs().to_string();
    let mut attrs = vec![];
    for n in names {
        let comment = category_of(classes, n)
            .map(|c| format!("C&C name; provider category: {c}"))
            .unwrap_or_else(|| "C&C name".into());
        attrs.push(json!({
            "uuid": uuid5::botscope(&format!("misp-attribute:hostname:{n}")),
            "type": "hostname",
            "category": "Network activity",
            "value": n,
            "to_ids": true,
            "distribution": "5",
            "timestamp": ts,
            "comment": comment,
        }));
    }
    let mut eps: Vec<&Endpoint> = endpoints.iter().collect();
    eps.sort();
    eps.dedup();
    for e in eps {
        let value = format!("{}|{}", e.addr, e.port);
        attrs.push(json!({
            "uuid": uuid5::botscope(&format!("misp-attribute:ip-dst|port:{value}")),
            "type": "ip-dst|port",
            "category": "Network activity",
            "value": value,
            "to_ids": true,
            "distribution": "5",
            "timestamp": ts,
            "comment": "C&C endpoint",
        }));
    }
    json!({
        "Event": {
            "uuid": uuid5::botscope(&format!("misp-event:{info}")),
            "info": info,
            "date": generated.utc_day(),
            "timestamp": ts,
            "threat_level_id": "2",
            "analysis": "2",
            "distribution": "0",
            "published": false,
            "Tag": [{"name": "tlp:amber"}, {"name": "botscope:export=\"intel\""}],
            "Attribute": attrs,
        }
    })
}

/// STIX 2.1 timestamp: UTC with millisecond precision.
fn stix_time(ts: Ts) -> String {
    let full = ts.rfc3339(); // ...SS.ffffffZ
    format!("{}Z", &full[..full.len() - 4])
}

/// A STIX 2.1 bundle: an identity for botscope, a `domain-name` /
/// `ipv4-addr` / `ipv6-addr` observable per value (IDs computed per the
/// spec's deterministic SCO rule) and an indicator per value.
pub fn stix_bundle(
    names: &[String],
    endpoints: &[Endpoint],
    classes: &BTreeMap<String, Classified>,
    generated: Ts,
) -> Value {
    let t = stix_time(generated);
    let identity_id = format!("identity--{}", uuid5::botscope("stix:identity:botscope"));
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "botscope",
        "identity_class": "system",
    })];
    let mut add = |sco_type: &str, value: &str, pattern_value: &str, desc: String| {
        let sco_id = format!("{sco_type}--{}", uuid5::stix_sco(&json!({"value": value})));
        objects.push(json!({
            "type": sco_type,
            "spec_version": "2.1",
            "id": sco_id,
            "value": value,
        }));
        objects.push(json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": format!("indicator--{}", uuid5::botscope(&format!("stix:indicator:{sco_type}:{value}"))),
            "created_by_ref": identity_id,
            "created": t,
            "modified": t,
            "name": format!("botnet C&C {value}"),
            "description": desc,
            "indicator_types": ["malicious-activity"],
            "pattern": format!("[{sco_type}:value = '{pattern_value}']"),
            "pattern_type": "stix",
            "valid_from": t,
        }));
    };
    for n in names {
        let desc = match category_of(classes, n) {
            Some(c) => format!("C&C name found in bot specimens; provider category {c}"),
            None => "C&C name found in bot specimens".into(),
        };
        add("domain-name", n, n, desc);
    }
    let mut addrs: Vec<IpAddr> = endpoints.iter().map(|e| e.addr).collect();
    addrs.sort();
    addrs.dedup();
    for a in addrs {
        let ports: Vec<String> = endpoints
            .iter()
            .filter(|e| e.addr == a)
            .map(|e| e.port.to_string())
            .collect();
        let ty = if a.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        let v = a.to_string();
        add(
            ty,
            &v,
            &v,
            format!("C&C address (TCP ports {})", ports.join(", ")),
        );
    }
    let ids: Vec<String> = names.to_vec();
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid5::botscope(&format!("stix:bundle:{}:{}", ids.join(","), t))),
        "objects": objects,
    })
}

/// Columns the notification list must carry (from `botscope dns`).
pub const NOTIFY_REQUIRED: [&str; 1] = ["client"];

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
pub fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
            at_start = true;
        } else {
            cur.push(c);
            at_start = false;
        }
    }
    if quoted {
        return None;
    }
    out.push(cur);
    Some(out)
}

/// Errors that make the notification list unusable.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The header lacks a required column.
    #[error("{file} line 1: missing column {column:?} (header: {header})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The missing column.
        column: String,
        /// The header seen.
        header: String,
    },
    /// Empty input.
    #[error("{0}: empty notification list")]
    Empty(String),
}

/// Passes the infected-customer CSV through, keeping the header and every
/// row whose field count matches and whose `client` is an IP address; bad
/// rows are skipped and counted with their line.
pub fn notify_passthrough(file: &str, text: &str) -> Result<(String, SkipCounter), NotifyError> {
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| NotifyError::Empty(file.to_string()))?;
    let cols = csv_fields(header).unwrap_or_default();
    let mut client_idx = None;
    for req in NOTIFY_REQUIRED {
        match cols.iter().position(|c| c.trim() == req) {
            Some(i) => client_idx = Some(i),
            None => {
                return Err(NotifyError::MissingColumn {
                    file: file.to_string(),
                    column: req.to_string(),
                    header: header.chars().take(200).collect(),
                })
            }
        }
    }
    let client_idx = client_idx.unwrap_or(0);
    let mut out = format!("{header}\n");
    let mut skipped = SkipCounter::default();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let skip = |reason: &str, s: &mut SkipCounter| {
            s.add(&Located {
                location: Location {
                    file: file.to_string(),
                    line: Some(i as u64 + 2),
                    ..Default::default()
                },
                reason: reason.into(),
            })
        };
        match csv_fields(line) {
            None => skip("unterminated quote", &mut skipped),
            Some(f) if f.len() != cols.len() => {
                skip("field count differs from header", &mut skipped)
            }
            Some(f) if f[client_idx].trim().parse::<IpAddr>().is_err() => {
                skip("client is not an IP address", &mut skipped)
            }
            Some(_) => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_modes() {
        assert_eq!(next_serial(None, SerialMode::Increment, 20261122), 1);
        assert_eq!(next_serial(Some(41), SerialMode::Increment, 20261122), 42);
        assert_eq!(next_serial(Some(u32::MAX), SerialMode::Increment, 0), 1);
        assert_eq!(next_serial(None, SerialMode::Date, 20261122), 2026112200);
        assert_eq!(
            next_serial(Some(2026112200), SerialMode::Date, 20261122),
            2026112201
        );
        assert_eq!(
            next_serial(Some(2026112105), SerialMode::Date, 20261122),
            2026112200
        );
        // never backwards, even if the clock is
        assert_eq!(
            next_serial(Some(2026112305), SerialMode::Date, 20261122),
            2026112306
        );
        assert_eq!(yyyymmdd(Ts::from_secs_micros(1_700_000_000, 0)), 20231114);
    }

    #[test]
    fn select_drops_allow_listed_and_overlong() {
        let (allow, _) = AllowList::parse("a", "irc.libera.chat\n");
        let long = format!(
            "{}.{}.{}.{}.com",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(50)
        );
        let names = vec![
            "cc.evil.example".to_string(),
            "eu.irc.libera.chat".to_string(),
            long.clone(),
        ];
        let s = select(&names, &allow, &RpzOptions::default());
        assert_eq!(s.names, vec!["cc.evil.example"]);
        assert_eq!(
            s.excluded[0].reason,
            "public IRC allow-list (irc.libera.chat)"
        );
        assert_eq!(s.excluded[1].name, long);
    }

    #[test]
    fn rpz_lines_per_action() {
        let n = vec!["cc.evil.example".to_string()];
        let mut o = RpzOptions {
            wildcard: true,
            ..Default::default()
        };
        let z = rpz_zone(&n, &o, 7, Ts(0));
        assert!(z.contains("( 7 3600"));
        assert!(z.contains("\ncc.evil.example CNAME .\n*.cc.evil.example CNAME .\n"));
        o.action = RpzAction::parse("nodata").unwrap();
        assert!(rpz_zone(&n, &o, 1, Ts(0)).contains("cc.evil.example CNAME *.\n"));
        o.action = RpzAction::parse("10.9.9.9").unwrap();
        assert!(rpz_zone(&n, &o, 1, Ts(0)).contains("cc.evil.example A 10.9.9.9\n"));
        o.action = RpzAction::parse("Sink.Example.ORG").unwrap();
        assert!(rpz_zone(&n, &o, 1, Ts(0)).contains("cc.evil.example CNAME sink.example.org.\n"));
        assert_eq!(
            RpzAction::parse("bad..name"),
            Err(ParseError::Sinkhole {
                given: "bad..name".into(),
                reason: crate::names::NameError::EmptyLabel
            })
        );
    }

    #[test]
    fn csv_split_and_notify_checks() {
        assert_eq!(csv_fields(r#"a,"b,c",d"#).unwrap(), vec!["a", "b,c", "d"]);
        assert_eq!(csv_fields(r#""x""y""#).unwrap(), vec!["x\"y"]);
        assert!(csv_fields("\"open").is_none());
        let input =
            "client,first_seen,names\n10.0.0.1,2026-01-01,\"a.b,c.d\"\nnot-ip,x,y\n10.0.0.2,z\n";
        let (out, sk) = notify_passthrough("n.csv", input).unwrap();
        assert_eq!(
            out,
            "client,first_seen,names\n10.0.0.1,2026-01-01,\"a.b,c.d\"\n"
        );
        assert_eq!(sk.total(), 2);
        assert_eq!(
            sk.by_reason["client is not an IP address"].1,
            vec!["n.csv line 3"]
        );
        assert!(notify_passthrough("n.csv", "ip,names\n").is_err());
    }

    #[test]
    fn stix_time_has_millis() {
        assert_eq!(
            stix_time(Ts::from_secs_micros(0, 123_456)),
            "1970-01-01T00:00:00.123Z"
        );
    }
}
