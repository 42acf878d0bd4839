//! IP networks written as CIDR (`10.0.0.0/8`, `2001:db8::/32`, or a bare
//! address for one host): the one parser and membership test behind
//! `analyze --honeypot-net`, intel's never-block list and dnslog's
//! `--group-by` CIDR maps.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a network was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// Not an IP address (the text given).
    #[error("not an IP address: {0:?}")]
    NotAnAddress(String),
    /// A prefix length that is not a number up to 32 (IPv4) or 128 (IPv6).
    #[error("bad prefix length {0:?}")]
    BadPrefix(String),
}

/// One network: an address with its host bits cleared, and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// Network address (host bits cleared).
    pub addr: IpAddr,
    /// Prefix length (up to 32 for IPv4, 128 for IPv6).
    pub len: u8,
}

impl Cidr {
    /// Parses `a.b.c.d`, `a.b.c.d/len`, `x::y` or `x::y/len` (spaces around
    /// either part allowed). Host bits set below the prefix are cleared
    /// (`10.1.2.3/8` is `10.0.0.0/8`); a bare address is a host route.
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| CidrError::NotAnAddress(a.to_string()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(CidrError::BadPrefix(l.to_string())),
            },
        };
        let addr = match addr {
            IpAddr::V4(v) => IpAddr::V4(Ipv4Addr::from(u32::from(v) & mask32(len))),
            IpAddr::V6(v) => IpAddr::V6(Ipv6Addr::from(u128::from(v) & mask128(len))),
        };
        Ok(Cidr { addr, len })
    }

    /// Whether `ip` is inside; an IPv4-mapped IPv6 address matches IPv4
    /// networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v) => v.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                u32::from(a) & mask32(self.len) == u32::from(n) & mask32(self.len)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                u128::from(a) & mask128(self.len) == u128::from(n) & mask128(self.len)
            }
            _ => false,
        }
    }
}

/// Netmask of an IPv4 prefix length (0..=32).
fn mask32(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}

/// Netmask of an IPv6 prefix length (0..=128).
fn mask128(len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0)
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl std::str::FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        Cidr::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_clears_host_bits() {
        assert_eq!(Cidr::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            Cidr::parse(" 10.1.2.3 ").unwrap().to_string(),
            "10.1.2.3/32"
        );
        assert_eq!(
            Cidr::parse("2001:db8::1/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().len, 0);
        assert_eq!(
            Cidr::parse("10.0.0.0/33"),
            Err(CidrError::BadPrefix("33".into()))
        );
        assert_eq!(
            Cidr::parse("::/129"),
            Err(CidrError::BadPrefix("129".into()))
        );
        assert_eq!(
            Cidr::parse("10.0.0.0/x"),
            Err(CidrError::BadPrefix("x".into()))
        );
        assert_eq!(
            Cidr::parse("bad/8"),
            Err(CidrError::NotAnAddress("bad".into()))
        );
    }

    /// The assertions of behaviour's `parse_cidr`/`in_net` test (the
    /// `--honeypot-net` parser this replaced).
    #[test]
    fn membership() {
        let n = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(n.contains(ip("10.1.200.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(n.contains(ip("::ffff:10.1.0.9")));
        assert!(!n.contains(ip("2001:db8::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("255.1.2.3")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db9::1")));
    }
}
