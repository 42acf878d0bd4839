//! Bot configurations as extracted by `botscope specimen` (a JSON array of
//! `{"sha256": "...", "servers": [{"host": "...", "port": 6667}]}`), read
//! here without depending on the specimen crate.
//!
//! Used for Table 6's "referenced by several bots" and for the C&C ports of
//! `--active` probes and firewall exports.

use crate::names::normalize;
use botscope_core::error::SkipCounter;
use botscope_core::error::{Located, Location};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Largest configs file read (bytes); larger files are refused whole.
pub const MAX_CONFIGS_BYTES: usize = 256 << 20;

#[derive(Deserialize)]
struct RawConfig {
    sha256: String,
    #[serde(default)]
    servers: Vec<RawServer>,
}

#[derive(Deserialize)]
struct RawServer {
    host: String,
    #[serde(default)]
    port: Option<u32>,
}

/// Who references each C&C host, and on which ports.
#[derive(Clone, Debug, Default)]
pub struct BotConfigs {
    /// Normalised host name (or address text) → distinct specimen hashes.
    pub bots_by_host: BTreeMap<String, BTreeSet<String>>,
    /// Host → ports named by any specimen.
    pub ports_by_host: BTreeMap<String, BTreeSet<u16>>,
    /// Entries skipped, by reason.
    pub skipped: SkipCounter,
}

/// Errors that stop reading a configs file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigsError {
    /// Too big to read.
    #[error("{0}: larger than {MAX_CONFIGS_BYTES} bytes")]
    TooLarge(String),
    /// Not a JSON array of configs.
    #[error("{file}: {reason}")]
    Json {
        /// The file.
        file: String,
        /// serde_json's message (it names line and column).
        reason: String,
    },
}

impl BotConfigs {
    /// Parses the configs JSON. Entries with a bad hash, host or port are
    /// skipped and counted (location: array index as `offset`).
    pub fn parse(file: &str, text: &str) -> Result<BotConfigs, ConfigsError> {
        if text.len() > MAX_CONFIGS_BYTES {
            return Err(ConfigsError::TooLarge(file.to_string()));
        }
        let raw: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| ConfigsError::Json {
                file: file.to_string(),
                reason: e.to_string(),
            })?;
        let mut out = BotConfigs::default();
        for (i, v) in raw.into_iter().enumerate() {
            let skip = |reason: &str, out: &mut BotConfigs| {
                out.skipped.add(&Located {
                    location: Location {
                        file: file.to_string(),
                        offset: Some(i as u64),
                        ..Default::default()
                    },
                    reason: reason.to_string(),
                })
            };
            let Ok(c) = serde_json::from_value::<RawConfig>(v) else {
                skip("config entry is not {sha256, servers}", &mut out);
                continue;
            };
            let hash = c.sha256.to_ascii_lowercase();
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                skip("sha256 is not 64 hex digits", &mut out);
                continue;
            }
            for s in c.servers {
                let host = if let Ok(ip) = s.host.trim().parse::<std::net::IpAddr>() {
                    ip.to_string()
                } else {
                    match normalize(&s.host) {
                        Ok(h) => h,
                        Err(e) => {
                            skip(&format!("server host: {e}"), &mut out);
                            continue;
                        }
                    }
                };
                out.bots_by_host
                    .entry(host.clone())
                    .or_default()
                    .insert(hash.clone());
                match s.port {
                    Some(p) if (1..=65535).contains(&p) => {
                        out.ports_by_host.entry(host).or_default().insert(p as u16);
                    }
                    Some(_) => skip("server port out of range", &mut out),
                    None => {}
                }
            }
        }
        Ok(out)
    }

    /// How many distinct specimens reference `host`.
    pub fn bots(&self, host: &str) -> u64 {
        self.bots_by_host.get(host).map_or(0, |s| s.len() as u64)
    }

    /// Ports named for `host` (empty when none).
    pub fn ports(&self, host: &str) -> Vec<u16> {
        self.ports_by_host
            .get(host)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_bots_and_ports() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let j = format!(
            r#"[{{"sha256":"{a}","servers":[{{"host":"CC.Example.net","port":6667}},{{"host":"x.y.z","port":70000}}]}},
               {{"sha256":"{b}","servers":[{{"host":"cc.example.net.","port":5562}}]}},
               {{"sha256":"{a}","servers":[{{"host":"cc.example.net","port":6667}}]}},
               {{"sha256":"nothex","servers":[]}}, 7]"#
        );
        let c = BotConfigs::parse("c.json", &j).unwrap();
        assert_eq!(c.bots("cc.example.net"), 2);
        assert_eq!(c.ports("cc.example.net"), vec![5562, 6667]);
        assert_eq!(c.skipped.total(), 3);
        assert!(BotConfigs::parse("c.json", "{").is_err());
    }
}
