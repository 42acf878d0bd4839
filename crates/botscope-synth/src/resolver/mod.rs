//! Synthetic resolver logs (BIND query log, Unbound log-queries, Zeek
//! dns.log TSV and JSON, dnstap Frame Streams, CSV) for a client population
//! with a known infected fraction, plus the ground truth a rate computation
//! must reproduce.
//!
//! The model: `clients` client addresses (IPv4 in 10.0.0.0/8, scrambled so
//! that they are not consecutive; a `v6_fraction` of them IPv6 in
//! 2001:db8::/32). Each day a client is active with probability
//! `active_fraction`; an active client sends `queries_per_client` queries
//! that day, mostly ordinary names. A client drawn infected (probability
//! `infected_fraction`) has an infection interval of whole days and, on each
//! active day inside it, one of its queries is a C&C name (case randomised
//! now and then, as DNS 0x20 resolvers do). A client drawn "allow-listed"
//! (probability `allowlisted_fraction`) resolves an allow-listed name (a
//! public IRC server, say) once a day: those clients are *not* infected.
//!
//! Queries are written in time order: a day is cut into
//! `queries_per_client` rounds and each active client sends one query per
//! round at an evenly spaced instant. Everything follows from `seed`.

mod formats;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

pub use formats::Format;

/// What to generate.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ResolverSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of distinct client addresses.
    pub clients: u32,
    /// Probability that a client is infected (the study's 2.4 % by default).
    pub infected_fraction: f64,
    /// Probability that a client resolves an allow-listed name each day.
    pub allowlisted_fraction: f64,
    /// Probability that a client is active on a given day.
    pub active_fraction: f64,
    /// Fraction of clients with an IPv6 address.
    pub v6_fraction: f64,
    /// Number of days (UTC) covered, starting at `start_ts`.
    pub days: u32,
    /// Queries an active client sends per day.
    pub queries_per_client: u32,
    /// C&C names (the watch list an analysis should use).
    pub cc_names: Vec<String>,
    /// Allow-listed names (resolved by some clients, never to be counted).
    pub allow_names: Vec<String>,
    /// Ordinary names everybody resolves.
    pub ordinary_names: Vec<String>,
    /// Log formats to write (one file each).
    pub formats: Vec<Format>,
    /// Start of the first day, seconds since the epoch (rounded down to a UTC day).
    pub start_ts: i64,
    /// Resolver address written in the logs.
    pub resolver: IpAddr,
    /// Probability that a client (not infected, not allow-listed) runs a
    /// domain generation algorithm (issue 20): on each active day it
    /// resolves `dga_names_per_day` names of that day's generated list,
    /// all answered NXDOMAIN except the one the herder registered.
    pub dga_fraction: f64,
    /// Generated names a DGA client resolves per active day.
    pub dga_names_per_day: u32,
    /// Probability that an ordinary client fetches from CDNs whose object
    /// names look random (`d3k2j4h5g6f7a8.cloudfront.net`): the negatives
    /// a DGA detector must not flag.
    pub cdn_fraction: f64,
    /// CDN names such a client resolves per active day.
    pub cdn_names_per_day: u32,
}

impl Default for ResolverSpec {
    fn default() -> Self {
        ResolverSpec {
            seed: 1,
            clients: 1000,
            infected_fraction: 0.024,
            allowlisted_fraction: 0.05,
            active_fraction: 0.9,
            v6_fraction: 0.0,
            days: 1,
            queries_per_client: 4,
            cc_names: vec!["cc.bot-herder.test".into(), "irc.evil-c2.test".into()],
            allow_names: vec!["irc.libera.chat".into(), "irc.oftc.net".into()],
            ordinary_names: vec![
                "www.example.com".into(),
                "mail.example.org".into(),
                "update.vendor.test".into(),
                "news.example.net".into(),
                "cdn.example.com".into(),
            ],
            formats: vec![Format::Bind],
            // 2005-04-21, the study's observation period.
            start_ts: 1_114_041_600,
            resolver: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 53)),
            dga_fraction: 0.0,
            dga_names_per_day: 40,
            cdn_fraction: 0.0,
            cdn_names_per_day: 12,
        }
    }
}

/// One infected client as the truth knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InfectedTruth {
    /// Client address.
    pub client: IpAddr,
    /// Time of the first C&C query, epoch microseconds.
    pub first_us: i64,
    /// Time of the last C&C query, epoch microseconds.
    pub last_us: i64,
    /// C&C names resolved, lower-case, sorted.
    pub names: Vec<String>,
    /// Number of C&C queries.
    pub count: u64,
}

/// One day of the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayTruth {
    /// UTC day `YYYY-MM-DD`.
    pub day: String,
    /// Start of the day, epoch seconds.
    pub start_ts: i64,
    /// Distinct clients that sent any query that day.
    pub distinct_clients: u64,
    /// Distinct clients that resolved a C&C name that day.
    pub infected_clients: u64,
    /// `infected_clients / distinct_clients`.
    pub rate: f64,
    /// Queries written that day.
    pub queries: u64,
}

/// What the generated logs contain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolverTruth {
    /// Infected clients, sorted by address.
    pub infected: Vec<InfectedTruth>,
    /// Per-day counts.
    pub days: Vec<DayTruth>,
    /// Distinct clients over the whole period.
    pub distinct_clients: u64,
    /// Distinct infected clients over the whole period.
    pub infected_clients: u64,
    /// Rate over the whole period.
    pub rate: f64,
    /// Clients that resolved an allow-listed name (and no C&C name).
    pub allowlisted_only_clients: u64,
    /// Files written, by format name.
    pub files: BTreeMap<String, PathBuf>,
    /// Total queries (lines/frames per file).
    pub queries: u64,
    /// Clients that ran the DGA (on at least one active day), sorted.
    #[serde(default)]
    pub dga_clients: Vec<IpAddr>,
    /// Every generated name resolved, lower-case, sorted.
    #[serde(default)]
    pub dga_names: Vec<String>,
    /// The generated names the herder registered (answered NOERROR), one a day.
    #[serde(default)]
    pub dga_registered: Vec<String>,
    /// Clients that resolved random-looking CDN names (negatives), sorted.
    #[serde(default)]
    pub cdn_clients: Vec<IpAddr>,
}

/// SplitMix64: a fast, well-mixed hash of a 64-bit input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn h3(seed: u64, a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(seed ^ a).wrapping_add(b)).wrapping_add(c))
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Per-client facts drawn once.
#[derive(Clone, Copy)]
struct ClientDraw {
    infected: bool,
    first_day: u32,
    last_day: u32,
    allow: bool,
    v6: bool,
    dga: bool,
    cdn: bool,
}

fn draw_client(spec: &ResolverSpec, c: u32) -> ClientDraw {
    let h = |k: u64| h3(spec.seed, 1, c as u64, k);
    let infected = unit(h(1)) < spec.infected_fraction;
    let days = spec.days.max(1);
    let a = (h(2) % days as u64) as u32;
    let b = (h(3) % days as u64) as u32;
    let dga = !infected && unit(h(6)) < spec.dga_fraction;
    ClientDraw {
        infected,
        first_day: a.min(b),
        last_day: a.max(b),
        allow: !infected && unit(h(4)) < spec.allowlisted_fraction,
        v6: unit(h(5)) < spec.v6_fraction,
        dga,
        cdn: !infected && !dga && unit(h(7)) < spec.cdn_fraction,
    }
}

/// The address of client number `c`: a bijective scramble of the index
/// inside 10.0.0.0/8 (or 2001:db8::/32 for IPv6 clients).
pub fn client_addr(spec: &ResolverSpec, c: u32, v6: bool) -> IpAddr {
    if v6 {
        let x = mix(spec.seed ^ c as u64);
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            (c >> 16) as u16,
            c as u16,
            (x >> 48) as u16,
            (x >> 32) as u16,
            (x >> 16) as u16,
            x as u16 | 1,
        ))
    } else {
        // Multiplying by an odd constant is a bijection mod 2^24.
        let low = (c.wrapping_mul(0x9E_3779) ^ (spec.seed as u32 & 0xFF_FFFF)) & 0xFF_FFFF;
        IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | low))
    }
}

fn active(spec: &ResolverSpec, c: u32, day: u32, d: &ClientDraw) -> bool {
    if d.infected && day == d.first_day {
        return true;
    }
    unit(h3(spec.seed, 2, c as u64, day as u64)) < spec.active_fraction
}

/// One query as handed to the format writers.
pub(crate) struct Query<'a> {
    pub ts_us: i64,
    pub client: IpAddr,
    pub port: u16,
    pub qname: &'a str,
    pub qtype: &'static str,
    pub id: u16,
    /// Response code for the formats that log it with the query (Zeek,
    /// Infoblox, BIND `answer:`); `None`: not written (Zeek `-`).
    pub rcode: Option<u16>,
}

/// What the DGA and CDN clients did, for the truth.
#[derive(Default)]
struct Extras {
    dga_clients: std::collections::BTreeSet<u32>,
    dga_names: std::collections::BTreeSet<String>,
    dga_registered: std::collections::BTreeSet<String>,
    cdn_clients: std::collections::BTreeSet<u32>,
}

impl Extras {
    /// Puts what the DGA and CDN clients did into the truth.
    fn fill(self, spec: &ResolverSpec, draws: &[ClientDraw], truth: &mut ResolverTruth) {
        let addrs = |set: &std::collections::BTreeSet<u32>| {
            let mut v: Vec<IpAddr> = set
                .iter()
                .map(|&c| client_addr(spec, c, draws[c as usize].v6))
                .collect();
            v.sort();
            v
        };
        truth.dga_clients = addrs(&self.dga_clients);
        truth.cdn_clients = addrs(&self.cdn_clients);
        truth.dga_names = self.dga_names.into_iter().collect();
        truth.dga_registered = self.dga_registered.into_iter().collect();
    }
}

/// Writes a client's extra queries inside its time slot (after `q`, evenly
/// spaced, whole milliseconds, before the next client's slot); returns how
/// many were written.
fn write_burst(
    writers: &mut [formats::Writer],
    q: &Query<'_>,
    burst: &[(String, Option<u16>)],
    slot_start_us: i64,
    slot_us: i64,
) -> std::io::Result<u64> {
    let step = slot_us / (burst.len() as i64 + 2);
    for (j, (name, rcode)) in burst.iter().enumerate() {
        let e = Query {
            ts_us: (slot_start_us + (j as i64 + 1) * step) / 1000 * 1000,
            qname: name,
            rcode: *rcode,
            id: q.id.wrapping_add(j as u16 + 1),
            ..*q
        };
        for w in writers.iter_mut() {
            w.write(&e)?;
        }
    }
    Ok(burst.len() as u64)
}

/// Top-level domains of the synthetic DGA.
const DGA_TLDS: [&str; 7] = ["com", "net", "org", "info", "biz", "ru", "cc"];

/// Name `k` of day `day`'s generated list: 8–19 letters and a top-level
/// domain, all from the seed (the botnet's own DGA; the registered name of
/// a day is its name 0).
pub fn dga_name(seed: u64, day: u32, k: u32) -> String {
    let mut h = h3(seed, 9, day as u64, k as u64);
    let len = 8 + (h % 12) as usize;
    let mut s = String::with_capacity(len + 5);
    for _ in 0..len {
        h = mix(h);
        s.push((b'a' + (h % 26) as u8) as char);
    }
    s.push('.');
    s.push_str(DGA_TLDS[(mix(h) % DGA_TLDS.len() as u64) as usize]);
    s
}

/// A CDN object name (random-looking labels under a registered CDN domain).
fn cdn_name(seed: u64, c: u32, day: u32, k: u32) -> String {
    let h = h3(seed, 11, ((c as u64) << 32) | day as u64, k as u64);
    let alnum = |h: u64, n: usize| -> String {
        let mut x = h;
        (0..n)
            .map(|_| {
                x = mix(x);
                let v = (x % 36) as u8;
                (if v < 10 { b'0' + v } else { b'a' + v - 10 }) as char
            })
            .collect()
    };
    match h % 4 {
        0 => format!("d{}.cloudfront.net", alnum(h, 13)),
        1 => format!(
            "e{}.{}.akamaiedge.net",
            1000 + h % 9000,
            ["a", "b", "dsce9"][(h >> 8) as usize % 3]
        ),
        2 => format!("r{}---sn-{}.googlevideo.com", 1 + (h >> 4) % 9, alnum(h, 8)),
        _ => format!("scontent-{}.xx.fbcdn.net", alnum(h, 9)),
    }
}

/// The extra queries of a DGA or CDN client on an active day, with the
/// response code each gets.
fn extra_queries(
    spec: &ResolverSpec,
    c: u32,
    d: &ClientDraw,
    day: u32,
    extras: &mut Extras,
) -> Vec<(String, Option<u16>)> {
    let mut out = Vec::new();
    if d.dga {
        extras.dga_clients.insert(c);
        let n = spec.dga_names_per_day.max(1);
        // A bot walks the day's list from its own starting point and stops
        // at the registered name (list entry 0), which it reaches last.
        let list = 4 * n;
        let offset = 1 + (h3(spec.seed, 12, c as u64, day as u64) % (list as u64 - 1)) as u32;
        for j in 0..n - 1 {
            let k = 1 + (offset + j - 1) % (list - 1);
            let name = dga_name(spec.seed, day, k);
            extras.dga_names.insert(name.clone());
            out.push((name, Some(3)));
        }
        let reg = dga_name(spec.seed, day, 0);
        extras.dga_names.insert(reg.clone());
        extras.dga_registered.insert(reg.clone());
        out.push((reg, Some(0)));
    }
    if d.cdn {
        extras.cdn_clients.insert(c);
        for k in 0..spec.cdn_names_per_day {
            out.push((cdn_name(spec.seed, c, day, k), Some(0)));
        }
    }
    out
}

/// Appends `name`, with DNS 0x20 style case randomisation on one query
/// in five (chosen by the query's hash `hq`).
fn push_cased(buf: &mut String, name: &str, hq: u64) {
    if hq.is_multiple_of(5) {
        buf.extend(name.chars().enumerate().map(|(j, ch)| {
            if (hq >> (j % 60)) & 1 == 1 {
                ch.to_ascii_uppercase()
            } else {
                ch
            }
        }));
    } else {
        buf.push_str(name);
    }
}

impl InfectedTruth {
    /// One more C&C query at `ts_us` for `name`.
    fn saw(&mut self, ts_us: i64, name: &str) {
        self.last_us = ts_us;
        self.count += 1;
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
            self.names.sort();
        }
    }
}

/// Writes the logs for `spec` into `dir` (one file per format) and returns
/// the ground truth. `dir` is created if missing; the truth is also written
/// as `resolver-truth.json`.
pub fn write_resolver_logs(spec: &ResolverSpec, dir: &Path) -> std::io::Result<ResolverTruth> {
    std::fs::create_dir_all(dir)?;
    if spec.clients == 0 || spec.queries_per_client == 0 || spec.ordinary_names.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "clients, queries_per_client and ordinary_names must be non-empty",
        ));
    }
    let mut writers = Vec::new();
    let mut files = BTreeMap::new();
    for f in &spec.formats {
        let path = dir.join(f.file_name());
        files.insert(f.name().to_string(), path.clone());
        writers.push(formats::Writer::create(*f, &path, spec)?);
    }
    let day0 = spec.start_ts.div_euclid(86_400) * 86_400;
    let draws: Vec<ClientDraw> = (0..spec.clients).map(|c| draw_client(spec, c)).collect();
    let mut infected: BTreeMap<u32, InfectedTruth> = BTreeMap::new();
    let mut days = Vec::new();
    let mut ever_active = vec![false; spec.clients as usize];
    let mut cc_lower: Vec<String> = spec
        .cc_names
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    if cc_lower.is_empty() {
        cc_lower.push("cc.invalid".into());
    }
    let mut total_queries = 0u64;
    let mut extras = Extras::default();
    let rounds = spec.queries_per_client;
    let mut qname_buf = String::new();
    for day in 0..spec.days.max(1) {
        let start = day0 + day as i64 * 86_400;
        // Which clients are active today (kept as a list to space the rounds).
        let act: Vec<u32> = (0..spec.clients)
            .filter(|&c| active(spec, c, day, &draws[c as usize]))
            .collect();
        let slot_us = (86_400_000_000i64 / (rounds as i64 * act.len().max(1) as i64)).max(1);
        let mut day_infected = 0u64;
        let mut day_queries = 0u64;
        for &c in &act {
            ever_active[c as usize] = true;
            let d = &draws[c as usize];
            if d.infected && (d.first_day..=d.last_day).contains(&day) {
                day_infected += 1;
            }
        }
        for r in 0..rounds {
            for (i, &c) in act.iter().enumerate() {
                let d = draws[c as usize];
                // Whole milliseconds: the precision of BIND's query log.
                let ts_us =
                    (start * 1_000_000 + (r as i64 * act.len() as i64 + i as i64) * slot_us) / 1000
                        * 1000;
                let hq = h3(spec.seed, 3, c as u64, ((day as u64) << 32) | r as u64);
                let cc_round = (h3(spec.seed, 4, c as u64, day as u64) % rounds as u64) as u32;
                let allow_round = (cc_round + 1) % rounds;
                let is_cc =
                    d.infected && (d.first_day..=d.last_day).contains(&day) && r == cc_round;
                let is_allow = d.allow && r == allow_round && !spec.allow_names.is_empty();
                qname_buf.clear();
                if is_cc {
                    let k = (mix(c as u64 ^ spec.seed) % cc_lower.len() as u64) as usize;
                    let name = &cc_lower[k];
                    push_cased(&mut qname_buf, name, hq);
                    infected
                        .entry(c)
                        .or_insert_with(|| InfectedTruth {
                            client: client_addr(spec, c, d.v6),
                            first_us: ts_us,
                            last_us: ts_us,
                            names: Vec::new(),
                            count: 0,
                        })
                        .saw(ts_us, name);
                } else if is_allow {
                    let k = (hq % spec.allow_names.len() as u64) as usize;
                    qname_buf.push_str(&spec.allow_names[k]);
                } else {
                    let k = (hq % spec.ordinary_names.len() as u64) as usize;
                    qname_buf.push_str(&spec.ordinary_names[k]);
                }
                let q = Query {
                    ts_us,
                    client: client_addr(spec, c, d.v6),
                    port: 1024 + (hq >> 20) as u16 % 60_000,
                    qname: &qname_buf,
                    qtype: if hq & 0x300 == 0 { "AAAA" } else { "A" },
                    id: (hq >> 40) as u16,
                    rcode: None,
                };
                for w in writers.iter_mut() {
                    w.write(&q)?;
                }
                day_queries += 1;
                if (d.dga || d.cdn) && r == (cc_round + 2) % rounds {
                    let burst = extra_queries(spec, c, &d, day, &mut extras);
                    let raw =
                        start * 1_000_000 + (r as i64 * act.len() as i64 + i as i64) * slot_us;
                    day_queries += write_burst(&mut writers, &q, &burst, raw, slot_us)?;
                }
            }
        }
        total_queries += day_queries;
        let distinct = act.len() as u64;
        days.push(DayTruth {
            day: botscope_core::Ts::from_secs_micros(start, 0).utc_day(),
            start_ts: start,
            distinct_clients: distinct,
            infected_clients: day_infected,
            rate: if distinct == 0 {
                0.0
            } else {
                day_infected as f64 / distinct as f64
            },
            queries: day_queries,
        });
    }
    for w in writers {
        w.finish()?;
    }
    let mut infected: Vec<InfectedTruth> = infected.into_values().collect();
    infected.sort_by_key(|t| t.client);
    let distinct_clients = ever_active.iter().filter(|a| **a).count() as u64;
    let allowlisted_only_clients = (0..spec.clients)
        .filter(|&c| draws[c as usize].allow && ever_active[c as usize])
        .count() as u64;
    let mut truth = ResolverTruth {
        infected_clients: infected.len() as u64,
        rate: if distinct_clients == 0 {
            0.0
        } else {
            infected.len() as f64 / distinct_clients as f64
        },
        infected,
        days,
        distinct_clients,
        allowlisted_only_clients,
        files,
        queries: total_queries,
        dga_clients: Vec::new(),
        dga_names: Vec::new(),
        dga_registered: Vec::new(),
        cdn_clients: Vec::new(),
    };
    extras.fill(spec, &draws, &mut truth);
    write_truth(dir, &truth)?;
    Ok(truth)
}

/// `resolver-truth.json` in `dir`.
fn write_truth(dir: &Path, truth: &ResolverTruth) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("resolver-truth.json"))?);
    serde_json::to_writer_pretty(&mut f, truth)?;
    f.write_all(b"\n")?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_matches_what_was_written() {
        let dir =
            std::env::temp_dir().join(format!("botscope-synth-resolver-{}", std::process::id()));
        let spec = ResolverSpec {
            clients: 2000,
            days: 2,
            formats: vec![Format::Bind, Format::Csv],
            ..Default::default()
        };
        let t = write_resolver_logs(&spec, &dir).unwrap();
        let csv = std::fs::read_to_string(&t.files["csv"]).unwrap();
        // Header plus one line per query.
        assert_eq!(csv.lines().count() as u64, t.queries + 1);
        let bind = std::fs::read_to_string(&t.files["bind"]).unwrap();
        assert_eq!(bind.lines().count() as u64, t.queries);
        // Count C&C queries directly from the CSV and compare with the truth.
        let cc: u64 = csv
            .lines()
            .skip(1)
            .filter(|l| {
                let n = l.rsplit(',').nth(1).unwrap().to_ascii_lowercase();
                spec.cc_names.contains(&n)
            })
            .count() as u64;
        assert_eq!(cc, t.infected.iter().map(|i| i.count).sum::<u64>());
        // Around 2.4 % infected out of 2000.
        assert!(
            (20..=80).contains(&t.infected_clients),
            "{}",
            t.infected_clients
        );
        assert_eq!(t.days.len(), 2);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn addresses_are_distinct() {
        let spec = ResolverSpec::default();
        let mut seen = std::collections::HashSet::new();
        for c in 0..100_000 {
            assert!(seen.insert(client_addr(&spec, c, false)));
        }
    }
}
