//! Which addresses botscope may connect to (`probe --active`) and put in
//! block lists (`export`): C&C zones are written by the herder, so the
//! addresses they return are hostile input. A zone pointing at 10.0.0.1 or
//! 127.0.0.1 would otherwise turn `--active` into a port scan of the
//! operator's own network, and an export into DROP rules against the ISP's
//! own infrastructure.
//!
//! - [`non_global`]: the special-purpose ranges (RFC 6890 and successors)
//!   that are never probed nor exported, with a short reason.
//! - [`NetList`]: the operator's never-block list (CIDRs and addresses).
//! - [`TargetPolicy`]: both together, plus the lab opt-in for private targets.

use crate::error::ParseError;
use botscope_core::cidr::{Cidr, CidrError};
use botscope_core::error::{Located, Location, SkipCounter};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// File name of the never-block list read from the store folder when it exists.
pub const NEVER_BLOCK_FILE: &str = "never-block.txt";

/// The default never-block list: `STORE/never-block.txt`.
pub fn default_never_block(store: &Path) -> PathBuf {
    store.join(NEVER_BLOCK_FILE)
}

const V4: &[(u32, u8, &str)] = &[
    (0x0000_0000, 8, "this network (0/8)"),
    (0x0a00_0000, 8, "private (10/8)"),
    (0x6440_0000, 10, "shared CGN (100.64/10)"),
    (0x7f00_0000, 8, "loopback (127/8)"),
    (0xa9fe_0000, 16, "link-local (169.254/16)"),
    (0xac10_0000, 12, "private (172.16/12)"),
    (0xc000_0000, 24, "IETF protocol assignments (192.0.0/24)"),
    (0xc000_0200, 24, "documentation (192.0.2/24)"),
    (0xc058_6300, 24, "6to4 relay anycast (192.88.99/24)"),
    (0xc0a8_0000, 16, "private (192.168/16)"),
    (0xc612_0000, 15, "benchmarking (198.18/15)"),
    (0xc633_6400, 24, "documentation (198.51.100/24)"),
    (0xcb00_7100, 24, "documentation (203.0.113/24)"),
    (0xe000_0000, 4, "multicast (224/4)"),
    (0xf000_0000, 4, "reserved (240/4, with broadcast)"),
];

fn in_v4(a: Ipv4Addr, net: u32, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(a) & mask == net & mask
}

fn in_v6(a: Ipv6Addr, net: u128, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    u128::from(a) & mask == net & mask
}

/// Why `ip` is not a global unicast address, or `None` when it is one.
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible, NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002::/16`) addresses are judged by the IPv4 address they carry.
pub fn non_global(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(a) => V4
            .iter()
            .find(|(n, l, _)| in_v4(a, *n, *l))
            .map(|(_, _, why)| why.to_string()),
        IpAddr::V6(a) => {
            let x = u128::from(a);
            if a.is_unspecified() {
                return Some("unspecified (::)".into());
            }
            if a.is_loopback() {
                return Some("loopback (::1)".into());
            }
            let embedded = |v4: Ipv4Addr, what: &str| {
                non_global(IpAddr::V4(v4)).map(|why| format!("{what} {v4}: {why}"))
            };
            // ::ffff:0:0/96 mapped, ::/96 compatible (deprecated), 64:ff9b::/96 NAT64
            if in_v6(a, 0xffff_0000_0000, 96) {
                return embedded(Ipv4Addr::from(x as u32), "IPv4-mapped");
            }
            if in_v6(a, 0, 96) {
                return Some("IPv4-compatible (::/96, deprecated)".into());
            }
            if in_v6(a, 0x0064_ff9b << 96, 96) {
                return embedded(Ipv4Addr::from(x as u32), "NAT64");
            }
            if in_v6(a, 0x2002 << 112, 16) {
                return embedded(Ipv4Addr::from((x >> 80) as u32), "6to4");
            }
            const V6: &[(u128, u8, &str)] = &[
                (0x0064_ff9b_0001 << 80, 48, "local NAT64 (64:ff9b:1::/48)"),
                (0x0100 << 112, 64, "discard-only (100::/64)"),
                (0x2001_0000 << 96, 32, "Teredo (2001::/32)"),
                (0x2001_0002 << 96, 48, "benchmarking (2001:2::/48)"),
                (0x2001_0010 << 96, 28, "ORCHID (2001:10::/28)"),
                (0x2001_0020 << 96, 28, "ORCHIDv2 (2001:20::/28)"),
                (0x2001_0db8 << 96, 32, "documentation (2001:db8::/32)"),
                (0x2001 << 112, 23, "IETF protocol assignments (2001::/23)"),
                (0x3fff << 112, 20, "documentation (3fff::/20)"),
                (0xfc00 << 112, 7, "unique local (fc00::/7)"),
                (0xfe80 << 112, 10, "link-local (fe80::/10)"),
                (0xfec0 << 112, 10, "site-local (fec0::/10, deprecated)"),
                (0xff00 << 112, 8, "multicast (ff00::/8)"),
            ];
            V6.iter()
                .find(|(n, l, _)| in_v6(a, *n, *l))
                .map(|(_, _, why)| why.to_string())
        }
    }
}

/// One network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    /// Network address (host bits cleared).
    pub addr: IpAddr,
    /// Prefix length.
    pub len: u8,
}

impl Net {
    /// Parses `a.b.c.d`, `a.b.c.d/len`, `x::y` or `x::y/len`. Host bits
    /// set below the prefix are cleared (`10.1.2.3/8` is `10/8`). The
    /// parser is `botscope_core::cidr::Cidr`'s.
    pub fn parse(s: &str) -> Result<Net, ParseError> {
        let c = Cidr::parse(s).map_err(|e| match e {
            CidrError::NotAnAddress(a) => ParseError::NotAnAddress(a),
            CidrError::BadPrefix(l) => ParseError::BadPrefix(l),
        })?;
        Ok(Net {
            addr: c.addr,
            len: c.len,
        })
    }

    /// Whether `ip` is inside; an IPv4-mapped IPv6 address matches IPv4 nets.
    pub fn contains(&self, ip: IpAddr) -> bool {
        Cidr {
            addr: self.addr,
            len: self.len,
        }
        .contains(ip)
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// The operator's never-block list: addresses and networks that never go
/// into a block list whatever the C&C names resolve to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetList {
    /// The networks, in file order.
    pub nets: Vec<Net>,
}

impl NetList {
    /// Parses one address or CIDR a line; `#` starts a comment; blank lines
    /// are ignored. Bad lines are skipped and counted with their line number.
    pub fn parse(file: &str, text: &str) -> (NetList, SkipCounter) {
        let mut l = NetList::default();
        let mut skipped = SkipCounter::default();
        for (i, line) in text.lines().enumerate() {
            let t = line.split('#').next().unwrap_or("").trim();
            if t.is_empty() {
                continue;
            }
            match Net::parse(t) {
                Ok(n) => l.nets.push(n),
                Err(e) => skipped.add(&Located {
                    location: Location {
                        file: file.to_string(),
                        line: Some(i as u64 + 1),
                        ..Default::default()
                    },
                    reason: e.reason().to_string(),
                }),
            }
        }
        (l, skipped)
    }

    /// The first listed network holding `ip`.
    pub fn covering(&self, ip: IpAddr) -> Option<Net> {
        self.nets.iter().copied().find(|n| n.contains(ip))
    }
}

/// Where an address may go.
#[derive(Clone, Debug, Default)]
pub struct TargetPolicy {
    /// Lab use only: let non-global addresses through (tests against
    /// servers on 127.0.0.1). Off by default.
    pub allow_private: bool,
    /// Never let these through, opt-in or not.
    pub never_block: NetList,
}

impl TargetPolicy {
    /// Why `ip` is refused, or `None` when it may be used.
    pub fn refuse(&self, ip: IpAddr) -> Option<String> {
        if let Some(n) = self.never_block.covering(ip) {
            return Some(format!("never-block list ({n})"));
        }
        if self.allow_private {
            return None;
        }
        non_global(ip).map(|why| format!("not global: {why}"))
    }
}

/// An address left out (not connected to, or not exported), with the name
/// that resolved to it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SkippedAddr {
    /// The C&C name (or the config's address literal itself).
    pub name: String,
    /// The address.
    pub addr: IpAddr,
    /// Why.
    pub reason: String,
}

/// Summary of skipped addresses for warnings and JSON output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SkipSummary {
    /// Addresses left out (name × address pairs).
    pub count: usize,
    /// Distinct names that resolved to them, sorted.
    pub names: Vec<String>,
    /// Every pair with its reason.
    pub addresses: Vec<SkippedAddr>,
}

impl SkipSummary {
    /// Sorts, deduplicates and counts.
    pub fn new(mut v: Vec<SkippedAddr>) -> SkipSummary {
        v.sort();
        v.dedup();
        let mut names: Vec<String> = v.iter().map(|s| s.name.clone()).collect();
        names.dedup();
        SkipSummary {
            count: v.len(),
            names,
            addresses: v,
        }
    }

    /// One human line, or `None` when nothing was skipped. `what` says what
    /// did not happen ("not connected to", "not exported").
    pub fn warning(&self, what: &str) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let per: Vec<String> = self
            .names
            .iter()
            .map(|n| {
                let a: Vec<String> = self
                    .addresses
                    .iter()
                    .filter(|s| &s.name == n)
                    .map(|s| format!("{} {}", s.addr, s.reason))
                    .collect();
                format!("{n} → {}", a.join(", "))
            })
            .collect();
        Some(format!(
            "botscope: warning: {} address{} of {} name{} {what} (not global or never-block): {}",
            self.count,
            if self.count == 1 { "" } else { "es" },
            self.names.len(),
            if self.names.len() == 1 { "" } else { "s" },
            per.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ng(s: &str) -> Option<String> {
        non_global(s.parse().unwrap())
    }

    #[test]
    fn special_ranges_are_not_global() {
        for a in [
            "0.1.2.3",
            "10.0.0.5",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.5",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:5",
            "2002:c0a8:0101::1",
        ] {
            assert!(ng(a).is_some(), "{a} must not be global");
        }
        assert_eq!(ng("10.0.0.5").unwrap(), "private (10/8)");
        assert_eq!(
            ng("::ffff:192.168.1.1").unwrap(),
            "IPv4-mapped 192.168.1.1: private (192.168/16)"
        );
        assert_eq!(ng("fe80::1").unwrap(), "link-local (fe80::/10)");
    }

    #[test]
    fn global_addresses_pass() {
        for a in [
            "1.1.1.1",
            "5.45.64.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2a00:1450:4001::1",
            "2001:4860::8888",
            "::ffff:5.45.64.1",
            "64:ff9b::52d:4001",
        ] {
            assert_eq!(ng(a), None, "{a} is global");
        }
    }

    #[test]
    fn never_block_list_parses_and_matches() {
        let (l, sk) = NetList::parse(
            "nb.txt",
            "# ours\n5.45.64.0/24\n2a00:1450::/32 # v6\n9.9.9.9\nbad\n10.0.0.0/33\n",
        );
        assert_eq!(l.nets.len(), 3);
        assert_eq!(sk.total(), 2);
        assert_eq!(sk.by_reason["not an IP address"].1, vec!["nb.txt line 5"]);
        assert_eq!(sk.by_reason["bad prefix length"].1, vec!["nb.txt line 6"]);
        assert_eq!(
            Net::parse("10.0.0.0/33"),
            Err(ParseError::BadPrefix("33".into()))
        );
        assert_eq!(
            Net::parse("bad/8"),
            Err(ParseError::NotAnAddress("bad".into()))
        );
        assert_eq!(
            l.covering("5.45.64.77".parse().unwrap())
                .unwrap()
                .to_string(),
            "5.45.64.0/24"
        );
        assert!(l.covering("::ffff:5.45.64.1".parse().unwrap()).is_some());
        assert!(l.covering("5.45.65.1".parse().unwrap()).is_none());
        assert!(l.covering("9.9.9.9".parse().unwrap()).is_some());
        assert!(l.covering("9.9.9.8".parse().unwrap()).is_none());
        assert!(l.covering("2a00:1450:4001::1".parse().unwrap()).is_some());
        assert_eq!(Net::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn policy_order() {
        let (nb, _) = NetList::parse("x", "127.0.0.2\n");
        let mut p = TargetPolicy {
            allow_private: false,
            never_block: nb,
        };
        assert_eq!(
            p.refuse("127.0.0.1".parse().unwrap()).unwrap(),
            "not global: loopback (127/8)"
        );
        assert_eq!(p.refuse("1.1.1.1".parse().unwrap()), None);
        p.allow_private = true;
        assert_eq!(p.refuse("127.0.0.1".parse().unwrap()), None);
        assert_eq!(
            p.refuse("127.0.0.2".parse().unwrap()).unwrap(),
            "never-block list (127.0.0.2/32)"
        );
    }
}
