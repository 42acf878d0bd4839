//! Background-traffic accounting: bytes and packets arriving at each
//! sensor address, per minute, and the study's Table 1 (average and peak
//! kbps per address, extrapolated to a whole address space).
//!
//! Everything that reaches a sensor that never initiates traffic is
//! unsolicited, so every inbound packet counts, open port or not. The
//! counter is a [`FlowSink`] fed by the capture engine (live on the sensor
//! interface, or from a capture of it). It lives here, below both of its
//! users: `botscope sensor` counts live, `botscope analyze --background`
//! counts a capture of the sensor interface.

use crate::{
    read_files, CaptureError, CaptureSummary, EngineConfig, FlowRef, FlowSink, PacketInfo,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;

/// Most addresses [`addresses_of`] expands (a /12 of IPv4): the counter
/// keeps one slot per address.
pub const MAX_SENSOR_ADDRESSES: u128 = 1 << 20;

/// The sensor networks hold more addresses than the counter keeps slots
/// for; names the network at which the total went over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{net}/{len}: more than {MAX_SENSOR_ADDRESSES} sensor addresses in all")]
pub struct TooManyAddresses {
    /// The network that took the total over.
    pub net: IpAddr,
    /// Its prefix length.
    pub len: u8,
}

/// Every address of the networks `nets` (address, prefix length), in
/// order, or an error naming the network when they hold more than
/// [`MAX_SENSOR_ADDRESSES`] together.
pub fn addresses_of(nets: &[(IpAddr, u8)]) -> Result<Vec<IpAddr>, TooManyAddresses> {
    let mut out = Vec::new();
    for &(net, len) in nets {
        let (bits, base): (u32, u128) = match net {
            IpAddr::V4(a) => (32, u32::from(a) as u128),
            IpAddr::V6(a) => (128, u128::from(a)),
        };
        let host_bits = bits.saturating_sub(len as u32);
        let size = 1u128.checked_shl(host_bits).unwrap_or(u128::MAX);
        if size > MAX_SENSOR_ADDRESSES || out.len() as u128 + size > MAX_SENSOR_ADDRESSES {
            return Err(TooManyAddresses { net, len });
        }
        let first = base & !(size - 1);
        for i in 0..size {
            out.push(match net {
                IpAddr::V4(_) => IpAddr::V4(((first + i) as u32).into()),
                IpAddr::V6(_) => IpAddr::V6((first + i).into()),
            });
        }
    }
    Ok(out)
}

/// Table 1 from captures of the sensor interface: every packet to one of
/// `addresses` counts, over the whole minutes from the first to the last.
pub fn table1_from_captures(
    paths: &[PathBuf],
    engine: &EngineConfig,
    addresses: &[IpAddr],
    extrapolate_to: u64,
) -> Result<(Table1, CaptureSummary), CaptureError> {
    let mut counter = BackgroundCounter::new(addresses);
    let summary = read_files(paths, engine, &mut counter)?;
    Ok((counter.table1(None, extrapolate_to), summary))
}

/// Bytes and packets in one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Volume {
    /// IP-level bytes.
    pub bytes: u64,
    /// Packets.
    pub packets: u64,
}

impl Volume {
    fn add(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.packets += 1;
    }
}

/// Counts inbound traffic to a fixed set of addresses.
#[derive(Debug)]
pub struct BackgroundCounter {
    watched: HashMap<IpAddr, usize>,
    per_address: Vec<Volume>,
    per_minute: BTreeMap<i64, Volume>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// As a sink: count only packets of these file indices of the run
    /// (`None`: every file). Lets `analyze` count the background files
    /// in the same pass that analyses them with other captures.
    files: Option<Vec<bool>>,
}

impl BackgroundCounter {
    /// Counts traffic whose destination is one of `addresses`.
    pub fn new(addresses: &[IpAddr]) -> BackgroundCounter {
        BackgroundCounter {
            watched: addresses.iter().enumerate().map(|(i, a)| (*a, i)).collect(),
            per_address: vec![Volume::default(); addresses.len()],
            per_minute: BTreeMap::new(),
            first_ts: None,
            last_ts: None,
            files: None,
        }
    }

    /// As a sink, counts only the packets of the run's files at these
    /// indices ([`PacketInfo::file`]), so one pass over several captures
    /// feeds the analyses with all of them and Table 1 with the sensor's.
    pub fn only_files(mut self, indices: &[u32]) -> BackgroundCounter {
        let n = indices.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
        let mut files = vec![false; n];
        for &i in indices {
            files[i as usize] = true;
        }
        self.files = Some(files);
        self
    }

    /// Counts every file's packets again (after [`only_files`](Self::only_files)),
    /// for reading further background files on their own.
    pub fn all_files(&mut self) {
        self.files = None;
    }

    /// Counts one inbound packet of `ip_len` bytes at `ts_micros`.
    pub fn count(&mut self, dst: IpAddr, ip_len: u64, ts_micros: i64) {
        let Some(&i) = self.watched.get(&dst) else {
            return;
        };
        self.per_address[i].add(ip_len);
        self.per_minute
            .entry(ts_micros.div_euclid(60_000_000))
            .or_default()
            .add(ip_len);
        self.first_ts = Some(self.first_ts.map_or(ts_micros, |f| f.min(ts_micros)));
        self.last_ts = Some(self.last_ts.map_or(ts_micros, |l| l.max(ts_micros)));
    }

    /// Volume received by each address, in the order given to [`new`](Self::new).
    pub fn per_address(&self) -> Vec<(IpAddr, Volume)> {
        let mut addrs: Vec<(IpAddr, usize)> = self.watched.iter().map(|(a, i)| (*a, *i)).collect();
        addrs.sort_by_key(|(_, i)| *i);
        addrs
            .into_iter()
            .map(|(a, i)| (a, self.per_address[i]))
            .collect()
    }

    /// Builds Table 1 over an observation window of `window_secs` (the
    /// sensor's run time; `None` takes whole minutes from the first to the
    /// last packet seen).
    pub fn table1(&self, window_secs: Option<f64>, extrapolate_to: u64) -> Table1 {
        let n = self.watched.len().max(1) as f64;
        let total = self.per_address.iter().fold(Volume::default(), |mut t, v| {
            t.bytes += v.bytes;
            t.packets += v.packets;
            t
        });
        let minutes = match (self.per_minute.keys().next(), self.per_minute.keys().last()) {
            (Some(a), Some(b)) => (b - a + 1) as f64,
            _ => 0.0,
        };
        let window = window_secs.unwrap_or(minutes * 60.0);
        let kbps = |bytes: u64, secs: f64| {
            if secs > 0.0 {
                bytes as f64 * 8.0 / secs / 1000.0 / n
            } else {
                0.0
            }
        };
        let avg = kbps(total.bytes, window);
        let peak = self
            .per_minute
            .values()
            .map(|v| kbps(v.bytes, 60.0))
            .fold(0.0, f64::max);
        Table1 {
            addresses: self.watched.len(),
            window_secs: window,
            total,
            avg_kbps_per_address: avg,
            peak_kbps_per_address: peak,
            extrapolate_to,
            extrapolated_avg_gbps: avg * extrapolate_to as f64 / 1e6,
            extrapolated_peak_gbps: peak * extrapolate_to as f64 / 1e6,
            per_minute: self
                .per_minute
                .iter()
                .map(|(m, v)| MinuteVolume {
                    minute: m * 60,
                    volume: *v,
                })
                .collect(),
        }
    }
}

impl FlowSink for BackgroundCounter {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, _flow: FlowRef<'_>) {
        if let Some(files) = &self.files {
            if !files.get(pkt.file as usize).copied().unwrap_or(false) {
                return;
            }
        }
        self.count(pkt.dst, pkt.ip_len as u64, pkt.ts.0);
    }
}

/// Traffic in one minute (starting at `minute`, epoch seconds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinuteVolume {
    /// Start of the minute, epoch seconds.
    pub minute: i64,
    /// What arrived in it (all addresses).
    pub volume: Volume,
}

/// The study's Table 1: background traffic per address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table1 {
    /// Sensor addresses.
    pub addresses: usize,
    /// Observation window, seconds.
    pub window_secs: f64,
    /// Everything received.
    pub total: Volume,
    /// Average rate per address, kbit/s.
    pub avg_kbps_per_address: f64,
    /// Highest one-minute rate per address, kbit/s.
    pub peak_kbps_per_address: f64,
    /// Address count extrapolated to.
    pub extrapolate_to: u64,
    /// Average extrapolated, Gbit/s.
    pub extrapolated_avg_gbps: f64,
    /// Peak extrapolated, Gbit/s.
    pub extrapolated_peak_gbps: f64,
    /// The per-minute series.
    pub per_minute: Vec<MinuteVolume>,
}

impl Table1 {
    /// The table as the study prints it.
    pub fn render(&self) -> String {
        format!(
            "Table 1  background traffic ({} addresses, {:.0} s)\n\
             {:<28}{:>12}{:>12}\n\
             {:<28}{:>12.2}{:>12.2}\n\
             {:<28}{:>12.1}{:>12.1}\n",
            self.addresses,
            self.window_secs,
            "",
            "average",
            "peak",
            "per address (kbps)",
            self.avg_kbps_per_address,
            self.peak_kbps_per_address,
            format!("x {} addresses (Gbps)", self.extrapolate_to),
            self.extrapolated_avg_gbps,
            self.extrapolated_peak_gbps,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_expand_to_their_addresses() {
        let a = addresses_of(&[
            ("192.0.2.77".parse().unwrap(), 30),
            ("2001:db8::5".parse().unwrap(), 127),
        ])
        .unwrap();
        let want: Vec<IpAddr> = ["192.0.2.76", "192.0.2.77", "192.0.2.78", "192.0.2.79"]
            .iter()
            .chain(&["2001:db8::4", "2001:db8::5"])
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(a, want);
        let err = addresses_of(&[("10.0.0.0".parse().unwrap(), 8)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "10.0.0.0/8: more than 1048576 sensor addresses in all"
        );
    }

    #[test]
    fn table1_matches_hand_computation() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let other: IpAddr = "192.0.2.9".parse().unwrap();
        let mut c = BackgroundCounter::new(&[a, b]);
        // Minute 0: 7,500 bytes to a; minute 1: 750 bytes to b; noise to
        // an address that is not ours is ignored.
        for i in 0..10 {
            c.count(a, 750, i * 1_000_000);
        }
        c.count(b, 750, 61_000_000);
        c.count(other, 1_000_000, 1_000_000);
        let t = c.table1(Some(120.0), 30_000_000);
        assert_eq!(
            t.total,
            Volume {
                bytes: 8_250,
                packets: 11
            }
        );
        // 8,250 B * 8 / 120 s / 1000 / 2 addresses = 0.275 kbps
        assert!((t.avg_kbps_per_address - 0.275).abs() < 1e-12);
        // Peak minute: 7,500 B * 8 / 60 / 1000 / 2 = 0.5 kbps
        assert!((t.peak_kbps_per_address - 0.5).abs() < 1e-12);
        assert!((t.extrapolated_avg_gbps - 8.25).abs() < 1e-9);
        assert_eq!(t.per_minute.len(), 2);
        assert_eq!(
            c.per_address()[1],
            (
                b,
                Volume {
                    bytes: 750,
                    packets: 1
                }
            )
        );
    }
}
