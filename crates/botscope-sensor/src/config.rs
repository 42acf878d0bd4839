//! `sensor.toml`: which addresses and ports to listen on, caps, and where
//! logs and specimens go.

use serde::Deserialize;
use std::net::IpAddr;
use std::path::PathBuf;

/// The sensor's configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorConfig {
    /// Addresses to listen on: single IPs, CIDRs (`192.0.2.0/24`) or
    /// ranges (`192.0.2.10-192.0.2.201`).
    pub addresses: Vec<String>,
    /// TCP ports bound on every address.
    #[serde(default = "default_tcp_ports")]
    pub tcp_ports: Vec<u16>,
    /// UDP ports bound on every address (135: Messenger; 69: TFTP).
    #[serde(default = "default_udp_ports")]
    pub udp_ports: Vec<u16>,
    /// JSON Lines event log.
    #[serde(default = "default_log")]
    pub log: PathBuf,
    /// Rotate the event log once it would grow past this many bytes
    /// (`log` → `log.1` → ... → `log.<log_keep>`, the oldest deleted);
    /// 0: never rotate.
    #[serde(default = "default_log_max_bytes")]
    pub log_max_bytes: u64,
    /// Rotated event logs kept (at least 1).
    #[serde(default = "default_log_keep")]
    pub log_keep: usize,
    /// Specimen store folder (else `--store`, `$BOTSCOPE_HOME`, XDG).
    pub store: Option<PathBuf>,
    /// Interface to count background traffic on through libpcap (e.g.
    /// the GRE tunnel interface). Without it, only sessions are counted.
    pub capture_interface: Option<String>,
    /// Write every packet captured on `capture_interface` to this pcap
    /// file (created when the sensor starts, before privileges drop).
    pub pcap: Option<PathBuf>,
    /// Rotate the pcap once it holds this many bytes (`pcap` → `pcap.1`
    /// → ... → `pcap.<pcap_keep>`, the oldest deleted); 0: never. The new
    /// file is created as `user`, so its folder must be writable by it.
    #[serde(default = "default_log_max_bytes")]
    pub pcap_max_bytes: u64,
    /// Rotated pcap files kept.
    #[serde(default = "default_log_keep")]
    pub pcap_keep: usize,
    /// User to switch to after binding, when started as root. The store
    /// is handed to this user before the switch. Without it, a sensor
    /// started as root keeps running as root and says so loudly.
    pub user: Option<String>,
    /// Caps.
    #[serde(default)]
    pub limits: Limits,
    /// Table 1 settings.
    #[serde(default)]
    pub accounting: AccountingConfig,
}

/// Global caps that keep the sensor bounded under attack.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Sessions open at once; more are accepted and closed at once.
    pub max_sessions: usize,
    /// Close a session after this many idle seconds.
    pub session_idle_secs: u64,
    /// Close a session after this many seconds in all.
    pub session_max_secs: u64,
    /// Client bytes kept per session for classification.
    pub max_session_bytes: usize,
    /// Downloads at once.
    pub downloads_concurrent: usize,
    /// Downloads started per minute.
    pub downloads_per_minute: usize,
    /// Largest binary downloaded.
    pub download_max_bytes: usize,
    /// Longest download.
    pub download_timeout_secs: u64,
    /// How long a source that completed a TCP handshake may instruct the
    /// sensor by UDP (datagram sources can be forged; handshakes cannot).
    pub handshake_ttl_secs: u64,
    /// Most handshake-confirmed sources remembered (oldest dropped first).
    pub handshake_sources: usize,
    /// Payload analyses (classification and instruction search) running
    /// at once, off the async workers.
    pub analyses_concurrent: usize,
    /// Sessions one source address may hold open at once; more are
    /// closed at once and logged `source_limited`.
    pub sessions_per_source: usize,
    /// Downloads one attacking address may have under way at once; more
    /// are refused (`source_quota`).
    pub downloads_per_source: usize,
    /// Bytes an attacker may type into one shell session (bind or
    /// connect-back); past it the shell closes.
    pub shell_max_bytes: usize,
    /// Longest a shell session may stay open, downloads included.
    pub shell_max_secs: u64,
    /// How long a bind-shell port waits for the attacker to connect.
    pub shell_wait_secs: u64,
    /// Events queued for the log writer; when it falls this far behind,
    /// further events are dropped and counted (`events_dropped`).
    pub event_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 10_000,
            session_idle_secs: 20,
            session_max_secs: 120,
            max_session_bytes: 1 << 20,
            downloads_concurrent: 16,
            downloads_per_minute: 240,
            download_max_bytes: 8 << 20,
            download_timeout_secs: 60,
            handshake_ttl_secs: 600,
            handshake_sources: 65_536,
            analyses_concurrent: 2,
            sessions_per_source: 256,
            downloads_per_source: 4,
            event_queue: 65_536,
            shell_max_bytes: 64 * 1024,
            shell_max_secs: 300,
            shell_wait_secs: 60,
        }
    }
}

/// Background-traffic accounting (Table 1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountingConfig {
    /// Address count the per-address rate is extrapolated to (the study
    /// used Japan's ~30 M addresses).
    pub extrapolate_to: u64,
    /// Where the per-minute series and Table 1 are written.
    pub table_path: Option<PathBuf>,
}

impl Default for AccountingConfig {
    fn default() -> Self {
        AccountingConfig {
            extrapolate_to: 30_000_000,
            table_path: None,
        }
    }
}

fn default_tcp_ports() -> Vec<u16> {
    vec![135, 139, 445, 1025, 2745, 3127, 5000, 6129, 80, 21, 42]
}
fn default_udp_ports() -> Vec<u16> {
    vec![135, 69]
}
fn default_log_max_bytes() -> u64 {
    1 << 30
}
fn default_log_keep() -> usize {
    5
}
fn default_log() -> PathBuf {
    PathBuf::from("sensor.jsonl")
}

/// Most addresses one sensor binds.
pub const MAX_ADDRESSES: usize = 65_536;

/// Errors in the configuration, naming the entry.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// TOML syntax or an unknown key.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// An address entry that is not an IP, CIDR or range.
    #[error("addresses entry {entry:?}: {reason}")]
    Address {
        /// The entry.
        entry: String,
        /// What is wrong.
        reason: String,
    },
}

impl SensorConfig {
    /// Parses a configuration text.
    pub fn parse(text: &str) -> Result<SensorConfig, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Expands `addresses` to the individual IPs, in order, without
    /// duplicates.
    pub fn expand_addresses(&self) -> Result<Vec<IpAddr>, ConfigError> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for entry in &self.addresses {
            for ip in expand_entry(entry)? {
                if seen.insert(ip) {
                    out.push(ip);
                }
                if out.len() > MAX_ADDRESSES {
                    return Err(ConfigError::Address {
                        entry: entry.clone(),
                        reason: format!("more than {MAX_ADDRESSES} addresses in all"),
                    });
                }
            }
        }
        Ok(out)
    }
}

fn expand_entry(entry: &str) -> Result<Vec<IpAddr>, ConfigError> {
    let bad = |reason: &str| ConfigError::Address {
        entry: entry.to_string(),
        reason: reason.to_string(),
    };
    let e = entry.trim();
    if e.contains('/') {
        // The one CIDR parser (`botscope_core::cidr`); host bits are
        // cleared below anyway.
        let cidr = botscope_core::cidr::Cidr::parse(e).map_err(|err| match err {
            botscope_core::cidr::CidrError::NotAnAddress(_) => bad("not an IP address"),
            botscope_core::cidr::CidrError::BadPrefix(l) if l.trim().parse::<u8>().is_err() => {
                bad("bad prefix length")
            }
            botscope_core::cidr::CidrError::BadPrefix(_) => {
                bad("prefix must be between /16 and the full length (IPv6: /112)")
            }
        })?;
        let (net, len) = (cidr.addr, u32::from(cidr.len));
        let bits = if net.is_ipv4() { 32 } else { 128 };
        if len > bits || bits - len > 16 {
            return Err(bad(
                "prefix must be between /16 and the full length (IPv6: /112)",
            ));
        }
        let base = to_u128(net) & !((1u128 << (bits - len)) - 1);
        let n = 1u128 << (bits - len);
        // IPv4 networks shorter than /31 lose their network and broadcast.
        let (first, last) = if net.is_ipv4() && n > 2 {
            (1, n - 2)
        } else {
            (0, n - 1)
        };
        return Ok((first..=last)
            .map(|i| from_u128(base + i, net.is_ipv4()))
            .collect());
    }
    if let Some((a, b)) = e.split_once('-') {
        let a: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| bad("range start is not an IP"))?;
        let b: IpAddr = b
            .trim()
            .parse()
            .map_err(|_| bad("range end is not an IP"))?;
        if a.is_ipv4() != b.is_ipv4() {
            return Err(bad("range mixes IPv4 and IPv6"));
        }
        let (lo, hi) = (to_u128(a), to_u128(b));
        if hi < lo || hi - lo >= MAX_ADDRESSES as u128 {
            return Err(bad("range is reversed or too large"));
        }
        return Ok((lo..=hi).map(|i| from_u128(i, a.is_ipv4())).collect());
    }
    Ok(vec![e
        .parse()
        .map_err(|_| bad("not an IP, CIDR or range"))?])
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_u128(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4((v as u32).into())
    } else {
        IpAddr::V6(v.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_cidr_range_and_single() {
        let c = SensorConfig::parse(
            r#"addresses = ["192.0.2.0/30", "198.51.100.250-198.51.100.252", "::1", "192.0.2.1"]"#,
        )
        .unwrap();
        let got: Vec<String> = c
            .expand_addresses()
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "192.0.2.1",
                "192.0.2.2",
                "198.51.100.250",
                "198.51.100.251",
                "198.51.100.252",
                "::1"
            ]
        );
        assert_eq!(c.tcp_ports.len(), 11);
        assert_eq!(c.limits.max_sessions, 10_000);
    }

    #[test]
    fn rejects_bad_entries_by_name() {
        for (entry, want) in [
            ("10.0.0.0/8", "prefix"),
            ("10.0.0.5-10.0.0.1", "reversed"),
            ("banana", "not an IP"),
        ] {
            let c = SensorConfig::parse(&format!("addresses = [{entry:?}]")).unwrap();
            let e = c.expand_addresses().unwrap_err().to_string();
            assert!(e.contains(entry) && e.contains(want), "{e}");
        }
        assert!(SensorConfig::parse("addresses = []\nbogus = 1").is_err());
    }
}
