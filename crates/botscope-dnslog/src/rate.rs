//! The deemed infection rate: per time window and group, the distinct
//! clients seen, the distinct clients that resolved a watch-listed name
//! (allow-listed names never count), and their ratio — exactly (IPv4 in
//! roaring bitmaps, IPv6 per address or per prefix in a hash set) or
//! approximately (HyperLogLog) — plus the infected-customer list.
//!
//! Clients are keyed as 128-bit numbers: IPv4 (and IPv4-mapped IPv6) as
//! `::ffff:a.b.c.d`, IPv6 masked to `v6_prefix` bits (64 by default: one
//! customer usually gets a /64).

use crate::clients::ClientSet;
use crate::hll::Hll;
use crate::name::normalize_qname_into;
use crate::read::{FileStats, Query};
use crate::suspect::{SuspectConfig, SuspectRow, SuspectTracker};
use crate::watch::NameSet;
use botscope_core::cidr::{Cidr, CidrError};
use botscope_core::error::SkipCounter;
use botscope_core::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Exact or approximate counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum Mode {
    /// Exact distinct sets.
    Exact,
    /// HyperLogLog with `2^precision` registers and a fixed seed.
    Approx {
        /// log2 of the register count.
        precision: u8,
        /// Hash seed (sketches merge only with the same seed).
        seed: u64,
    },
}

/// How queries are grouped.
#[derive(Clone, Debug, Default)]
pub enum GroupBy {
    /// One group, `all`.
    #[default]
    None,
    /// By resolver: the server address when the log names it, else the file.
    Resolver,
    /// By a CIDR map (longest prefix wins; `unmapped` otherwise).
    Cidr(CidrMap),
}

/// A CIDR → group-name map, one `CIDR NAME` a line (`#` comments).
#[derive(Clone, Debug, Default)]
pub struct CidrMap {
    /// (prefix length over the 128-bit key, masked key) → name, longest first.
    by_len: Vec<(u8, HashMap<u128, String>)>,
}

/// A CIDR map line that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {reason}: {text:?}")]
pub struct CidrMapError {
    /// Map file name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong (`expected a CIDR`, `bad address`, …).
    pub reason: &'static str,
    /// The line's text (comment removed).
    pub text: String,
}

/// A `--window` value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// Not a number followed by a unit.
    #[error("bad window {0:?}")]
    Bad(String),
    /// A unit other than s, m, h, d, w.
    #[error("bad window unit in {0:?} (s, m, h, d, w)")]
    Unit(String),
    /// Zero or negative.
    #[error("window must be positive: {0:?}")]
    NotPositive(String),
}

impl CidrMap {
    /// Parses the map text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<CidrMap, CidrMapError> {
        let mut m: BTreeMap<u8, HashMap<u128, String>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.split('#').next().unwrap_or("").trim();
            if t.is_empty() {
                continue;
            }
            let mut parts = t
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty());
            let (cidr, name) = (parts.next().unwrap_or(""), parts.next());
            let bad = |reason: &'static str| CidrMapError {
                file: file.into(),
                line: i + 1,
                reason,
                text: t.into(),
            };
            let name = name.ok_or_else(|| bad("expected `CIDR NAME`"))?;
            if !cidr.contains('/') {
                return Err(bad("expected a CIDR"));
            }
            let net = Cidr::parse(cidr).map_err(|e| match e {
                CidrError::NotAnAddress(_) => bad("bad address"),
                CidrError::BadPrefix(_) => bad("bad prefix length"),
            })?;
            let (key, len128) = match net.addr {
                IpAddr::V4(a) => (v4_key(a), 96 + net.len),
                IpAddr::V6(a) => (u128::from(a), net.len),
            };
            m.entry(len128)
                .or_default()
                .insert(mask(key, len128), name.to_string());
        }
        Ok(CidrMap {
            by_len: m.into_iter().rev().collect(),
        })
    }

    fn lookup(&self, key: u128) -> Option<&str> {
        self.by_len
            .iter()
            .find_map(|(len, map)| map.get(&mask(key, *len)).map(String::as_str))
    }
}

#[inline]
fn mask(key: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        key & (u128::MAX << (128 - len.min(128) as u32))
    }
}

#[inline]
fn v4_key(a: Ipv4Addr) -> u128 {
    0xffff_0000_0000 | u32::from(a) as u128
}

/// Settings of a rate run.
#[derive(Clone, Debug)]
pub struct RateConfig {
    /// Window length in µs; 0 = one window for the whole run.
    pub window_us: i64,
    /// Exact or approximate.
    pub mode: Mode,
    /// IPv6 clients are counted per prefix of this many bits (128 = per address).
    pub v6_prefix: u8,
    /// Grouping.
    pub group_by: GroupBy,
    /// The suspected tier (generated names).
    pub suspect: SuspectConfig,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            window_us: 86_400_000_000,
            mode: Mode::Exact,
            v6_prefix: 64,
            group_by: GroupBy::None,
            suspect: SuspectConfig::default(),
        }
    }
}

/// Parses `1d`, `6h`, `30m`, `90s`, `1w` or `all` into µs (0 = all).
pub fn parse_window(s: &str) -> Result<i64, WindowError> {
    if s == "all" || s == "0" {
        return Ok(0);
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().map_err(|_| WindowError::Bad(s.into()))?;
    let secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(WindowError::Unit(s.into())),
    };
    if n <= 0 {
        return Err(WindowError::NotPositive(s.into()));
    }
    Ok(n.saturating_mul(secs).saturating_mul(1_000_000))
}

#[derive(Clone)]
struct Cell {
    all: ClientSet,
    infected: ClientSet,
    queries: u64,
    matched: u64,
}

impl Cell {
    fn new(mode: Mode) -> Cell {
        Cell {
            all: ClientSet::new(mode),
            infected: ClientSet::new(mode),
            queries: 0,
            matched: 0,
        }
    }

    fn merge(&mut self, o: &Cell) {
        self.all.merge(&o.all);
        self.infected.merge(&o.infected);
        self.queries += o.queries;
        self.matched += o.matched;
    }
}

/// Query counts of a group over the whole run. Its client sets are not
/// kept while reading (that would insert every key twice): the report
/// forms them as the union of the group's window cells.
#[derive(Clone, Copy, Default)]
struct Totals {
    queries: u64,
    matched: u64,
}

/// `Some` when the client has a dated matching query.
fn dated(a: &InfectedAcc) -> Option<()> {
    (a.first_us <= a.last_us).then_some(())
}

#[derive(Clone, Debug)]
struct InfectedAcc {
    first_us: i64,
    last_us: i64,
    names: Vec<String>,
    count: u64,
    group: u32,
}

/// The streaming rate computation. Feed it queries with [`observe`], merge
/// partial engines (one per thread or file) with [`merge`], then
/// [`report`].
///
/// [`observe`]: RateEngine::observe
/// [`merge`]: RateEngine::merge
/// [`report`]: RateEngine::report
pub struct RateEngine<'w> {
    cfg: RateConfig,
    watch: &'w NameSet,
    allow: &'w NameSet,
    cells: HashMap<(i64, u32), usize>,
    cell_vec: Vec<Cell>,
    totals: Vec<Totals>,
    groups: Vec<String>,
    group_index: HashMap<String, u32>,
    /// `--group-by resolver`: server address → group.
    server_groups: HashMap<IpAddr, u32>,
    infected: HashMap<u128, InfectedAcc>,
    last_cell: Option<((i64, u32), usize)>,
    name_buf: Vec<u8>,
    /// Queries whose name matched the watch list but also the allow list.
    allowlisted: u64,
    /// Evidence of generated names per (window, client).
    suspect: SuspectTracker,
    /// Per-file statistics, in input order.
    pub files: Vec<FileStats>,
    /// Skipped records by reason.
    pub skips: SkipCounter,
}

/// The suspected tier as the report needs it.
#[derive(Default)]
struct Suspected {
    /// Flagged, unconfirmed clients per (window, group).
    cells: HashMap<(i64, u32), u64>,
    /// Distinct flagged, unconfirmed clients per group.
    groups: HashMap<u32, Vec<u128>>,
    rows: Vec<SuspectRow>,
}

/// One row of the per-window series (or a total when the window is `None`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateRow {
    /// Group name (`all` without grouping).
    pub group: String,
    /// Window start (RFC 3339), absent for totals.
    pub window_start: Option<String>,
    /// Window end (exclusive), absent for totals.
    pub window_end: Option<String>,
    /// Distinct clients (an estimate in approximate mode).
    pub clients: u64,
    /// Distinct clients that resolved a watch-listed name.
    pub infected: u64,
    /// `infected / clients`.
    pub rate: f64,
    /// Queries seen.
    pub queries: u64,
    /// Queries that matched the watch list (and not the allow list).
    pub matched_queries: u64,
    /// Distinct clients of the suspected tier (generated names, not
    /// confirmed by the watch list; never counted in `infected`).
    pub suspected: u64,
}

/// One infected client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfectedRow {
    /// Client address (or `prefix/len` for IPv6 counted per prefix).
    pub client: String,
    /// Group of its first matching query.
    pub group: String,
    /// First matching query, RFC 3339.
    pub first_seen: String,
    /// Last matching query, RFC 3339.
    pub last_seen: String,
    /// First matching query, epoch µs.
    pub first_us: i64,
    /// Last matching query, epoch µs.
    pub last_us: i64,
    /// Watch-listed names resolved (normalised, sorted).
    pub names: Vec<String>,
    /// Number of matching queries.
    pub count: u64,
}

/// Everything a rate run found.
#[derive(Clone, Debug, Serialize)]
pub struct RateReport {
    /// Counting mode.
    pub mode: Mode,
    /// Stated relative standard error of each count (approximate mode).
    pub relative_error: Option<f64>,
    /// Window length in seconds (0 = whole run).
    pub window_secs: i64,
    /// Per-window series, by group then time.
    pub windows: Vec<RateRow>,
    /// Whole-run totals per group.
    pub totals: Vec<RateRow>,
    /// Infected clients, by address.
    pub infected: Vec<InfectedRow>,
    /// Watch-listed queries dropped because the allow list matched.
    pub allowlisted_queries: u64,
    /// Settings of the suspected tier.
    pub suspect: SuspectConfig,
    /// Suspected clients (generated names), by address; disjoint from `infected`.
    pub suspected: Vec<SuspectRow>,
    /// Per-file statistics.
    pub files: Vec<FileStats>,
    /// Skipped records by reason (first places kept).
    pub skipped: SkipCounter,
}

impl<'w> RateEngine<'w> {
    /// A fresh engine.
    pub fn new(cfg: RateConfig, watch: &'w NameSet, allow: &'w NameSet) -> RateEngine<'w> {
        RateEngine {
            suspect: SuspectTracker::new(cfg.suspect),
            cfg,
            watch,
            allow,
            cells: HashMap::new(),
            cell_vec: Vec::new(),
            totals: Vec::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            server_groups: HashMap::new(),
            infected: HashMap::new(),
            last_cell: None,
            name_buf: Vec::with_capacity(256),
            allowlisted: 0,
            files: Vec::new(),
            skips: SkipCounter::default(),
        }
    }

    fn client_key(&self, ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(a) => v4_key(a),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => v4_key(v4),
                None => mask(u128::from(a), self.cfg.v6_prefix),
            },
        }
    }

    fn group_id(&mut self, name: &str) -> u32 {
        if let Some(&g) = self.group_index.get(name) {
            return g;
        }
        let g = self.groups.len() as u32;
        self.groups.push(name.to_string());
        self.group_index.insert(name.to_string(), g);
        self.totals.push(Totals::default());
        g
    }

    /// Counts one query; `file` names the input (for `--group-by resolver`).
    #[inline]
    pub fn observe(&mut self, q: &Query<'_>, file: &str) {
        let key = self.client_key(q.client);
        let group = match &self.cfg.group_by {
            GroupBy::None => {
                if self.groups.is_empty() {
                    self.group_id("all")
                } else {
                    0
                }
            }
            // Both look up without allocating; a name is made once per group.
            GroupBy::Resolver => match q.server {
                Some(s) => match self.server_groups.get(&s) {
                    Some(&g) => g,
                    None => {
                        let g = self.group_id(&s.to_string());
                        self.server_groups.insert(s, g);
                        g
                    }
                },
                None => self.group_id(file),
            },
            GroupBy::Cidr(m) => {
                let name = m.lookup(key).unwrap_or("unmapped");
                match self.group_index.get(name) {
                    Some(&g) => g,
                    None => {
                        let name = name.to_string();
                        self.group_id(&name)
                    }
                }
            }
        };
        // Most names share no tail with any watched name: those are never
        // copied, lower-cased or hashed.
        let matched = self.watch.may_match_raw(q.qname)
            && normalize_qname_into(q.qname, &mut self.name_buf)
            && self.watch.matches(&self.name_buf)
            && if self.allow.matches(&self.name_buf) {
                self.allowlisted += 1;
                false
            } else {
                true
            };
        // Undated queries (kept for `--window all`) go to window 0.
        let w = if self.cfg.window_us > 0 && q.ts_us != crate::read::NO_TS {
            q.ts_us.div_euclid(self.cfg.window_us)
        } else {
            0
        };
        let idx = match self.last_cell {
            Some((k, i)) if k == (w, group) => i,
            _ => {
                let next = self.cell_vec.len();
                let i = *self.cells.entry((w, group)).or_insert(next);
                if i == next {
                    self.cell_vec.push(Cell::new(self.cfg.mode));
                }
                self.last_cell = Some(((w, group), i));
                i
            }
        };
        if !matched && self.suspect.is_random(q.qname) {
            self.observe_random(q, w, key, group);
        }
        let cell = &mut self.cell_vec[idx];
        cell.all.insert(key);
        cell.queries += 1;
        let total = &mut self.totals[group as usize];
        total.queries += 1;
        if matched {
            cell.infected.insert(key);
            cell.matched += 1;
            total.matched += 1;
            let name = std::str::from_utf8(&self.name_buf).unwrap_or("?");
            let e = self.infected.entry(key).or_insert_with(|| InfectedAcc {
                first_us: i64::MAX,
                last_us: i64::MIN,
                names: Vec::new(),
                count: 0,
                group,
            });
            // An undated query (NO_TS) leaves the first/last times alone.
            if q.ts_us != crate::read::NO_TS {
                e.first_us = e.first_us.min(q.ts_us);
                e.last_us = e.last_us.max(q.ts_us);
            }
            e.count += 1;
            // A bounded list: a client resolving thousands of DGA names
            // keeps the first 64 for the report.
            if e.names.len() < 64 && !e.names.iter().any(|n| n == name) {
                e.names.push(name.to_string());
            }
        }
    }

    /// Records a query whose registrable label looks generated (not on the
    /// watch list; skipped when the allow list covers it).
    #[cold]
    fn observe_random(&mut self, q: &Query<'_>, w: i64, key: u128, group: u32) {
        if !normalize_qname_into(q.qname, &mut self.name_buf) || self.allow.matches(&self.name_buf)
        {
            return;
        }
        self.suspect
            .observe(w, key, group, q.ts_us, &self.name_buf, q.rcode);
    }

    /// The suspected tier: per (window, group) and per group the flagged
    /// clients that are not confirmed, and one row per such client.
    fn suspected(&self) -> Suspected {
        let mut out = Suspected::default();
        let mut by_key: BTreeMap<u128, SuspectRow> = BTreeMap::new();
        let cfg = self.suspect.cfg;
        let mut flagged: Vec<(&(i64, u128), &crate::suspect::Acc)> = self
            .suspect
            .by
            .iter()
            .filter(|(k, a)| a.flagged(&cfg) && !self.infected.contains_key(&k.1))
            .collect();
        flagged.sort_by_key(|(k, _)| (k.1, k.0));
        for (&(w, key), a) in flagged {
            *out.cells.entry((w, a.group)).or_default() += 1;
            let row = by_key.entry(key).or_insert_with(|| {
                out.groups.entry(a.group).or_default().push(key);
                SuspectRow {
                    client: self.render_key(key),
                    group: self.groups[a.group as usize].clone(),
                    first_seen: String::new(),
                    last_seen: String::new(),
                    windows: 0,
                    domains: 0,
                    queries: 0,
                    nxdomain: 0,
                    names: Vec::new(),
                }
            });
            row.windows += 1;
            row.domains = row.domains.max(a.domains() as u32);
            row.queries += a.queries;
            row.nxdomain += a.nxdomain;
            let (f, l) = (Ts(a.first_us).rfc3339(), Ts(a.last_us).rfc3339());
            if a.first_us > a.last_us {
                // Undated queries only.
            } else {
                if row.first_seen.is_empty() || f < row.first_seen {
                    row.first_seen = f;
                }
                if l > row.last_seen {
                    row.last_seen = l;
                }
            }
            // The 8 smallest over the windows (each window kept its 8 smallest).
            row.names.extend(a.names.iter().cloned());
            row.names.sort();
            row.names.dedup();
            row.names.truncate(8);
        }
        out.rows = by_key
            .into_values()
            .map(|mut r| {
                r.names.sort();
                if r.first_seen.is_empty() {
                    r.first_seen = "-".into();
                    r.last_seen = "-".into();
                }
                r
            })
            .collect();
        out
    }

    /// Reads one input into the engine.
    pub fn read(&mut self, path: &str, opts: &crate::read::ReadOptions) {
        let mut skips = std::mem::take(&mut self.skips);
        let stats = crate::read::read_input(path, opts, &mut |q| self.observe(q, path), &mut skips);
        self.skips = skips;
        self.files.push(stats);
    }

    /// Folds another engine (same configuration and lists) into this one.
    pub fn merge(&mut self, other: RateEngine<'_>) {
        let remap: Vec<u32> = other.groups.iter().map(|g| self.group_id(g)).collect();
        for (&(w, g), &i) in &other.cells {
            let ng = remap[g as usize];
            let next = self.cell_vec.len();
            let j = *self.cells.entry((w, ng)).or_insert(next);
            if j == next {
                self.cell_vec.push(other.cell_vec[i].clone());
            } else {
                self.cell_vec[j].merge(&other.cell_vec[i]);
            }
        }
        for (g, o) in other.totals.iter().enumerate() {
            let t = &mut self.totals[remap[g] as usize];
            t.queries += o.queries;
            t.matched += o.matched;
        }
        for (k, o) in other.infected {
            match self.infected.get_mut(&k) {
                Some(e) => {
                    if o.first_us < e.first_us {
                        e.group = remap[o.group as usize];
                    }
                    e.first_us = e.first_us.min(o.first_us);
                    e.last_us = e.last_us.max(o.last_us);
                    e.count += o.count;
                    for n in o.names {
                        if e.names.len() < 64 && !e.names.contains(&n) {
                            e.names.push(n);
                        }
                    }
                }
                None => {
                    let mut o = o;
                    o.group = remap[o.group as usize];
                    self.infected.insert(k, o);
                }
            }
        }
        self.allowlisted += other.allowlisted;
        self.suspect.merge(other.suspect, &remap);
        self.last_cell = None;
        for (reason, (n, places)) in other.skips.by_reason {
            let slot = self.skips.by_reason.entry(reason).or_default();
            slot.0 += n;
            for p in places {
                if slot.1.len() < SkipCounter::KEEP {
                    slot.1.push(p);
                }
            }
        }
        self.files.extend(other.files);
    }

    fn row(&self, group: u32, window: Option<i64>, c: &Cell) -> RateRow {
        let clients = c.all.count().round() as u64;
        let infected = c.infected.count().round() as u64;
        let span = |w: i64| Ts(w * self.cfg.window_us).rfc3339();
        RateRow {
            group: self.groups[group as usize].clone(),
            window_start: window.map(span),
            window_end: window.map(|w| span(w + 1)),
            clients,
            infected,
            rate: if clients == 0 {
                0.0
            } else {
                infected as f64 / clients as f64
            },
            queries: c.queries,
            matched_queries: c.matched,
            suspected: 0,
        }
    }

    fn render_key(&self, key: u128) -> String {
        if key >> 32 == 0xffff {
            Ipv4Addr::from(key as u32).to_string()
        } else if self.cfg.v6_prefix < 128 {
            format!("{}/{}", Ipv6Addr::from(key), self.cfg.v6_prefix)
        } else {
            Ipv6Addr::from(key).to_string()
        }
    }

    /// The finished report.
    pub fn report(mut self) -> RateReport {
        for c in self.cell_vec.iter_mut() {
            c.all.flush();
            c.infected.flush();
        }
        // Group totals: the union of the group's windows.
        let mut total_cells: Vec<Cell> = self
            .totals
            .iter()
            .map(|t| Cell {
                queries: t.queries,
                matched: t.matched,
                ..Cell::new(self.cfg.mode)
            })
            .collect();
        for (&(_, g), &i) in &self.cells {
            let (t, c) = (&mut total_cells[g as usize], &self.cell_vec[i]);
            t.all.merge(&c.all);
            t.infected.merge(&c.infected);
        }
        let mut keys: Vec<&(i64, u32)> = self.cells.keys().collect();
        keys.sort_by(|a, b| {
            (self.groups[a.1 as usize].as_str(), a.0)
                .cmp(&(self.groups[b.1 as usize].as_str(), b.0))
        });
        let sus = self.suspected();
        let windows = keys
            .into_iter()
            .map(|&(w, g)| {
                let c = &self.cell_vec[self.cells[&(w, g)]];
                RateRow {
                    suspected: sus.cells.get(&(w, g)).copied().unwrap_or(0),
                    ..self.row(g, (self.cfg.window_us > 0).then_some(w), c)
                }
            })
            .collect();
        let mut totals: Vec<RateRow> = total_cells
            .iter()
            .enumerate()
            .map(|(g, c)| RateRow {
                suspected: sus.groups.get(&(g as u32)).map_or(0, |v| v.len() as u64),
                ..self.row(g as u32, None, c)
            })
            .collect();
        totals.sort_by(|a, b| a.group.cmp(&b.group));
        let mut inf: Vec<(&u128, &InfectedAcc)> = self.infected.iter().collect();
        inf.sort_by_key(|(k, _)| **k);
        let infected = inf
            .into_iter()
            .map(|(k, a)| {
                let mut names = a.names.clone();
                names.sort();
                InfectedRow {
                    client: self.render_key(*k),
                    group: self.groups[a.group as usize].clone(),
                    // `-` (and 0) when every matching query was undated.
                    first_seen: dated(a).map_or("-".into(), |_| Ts(a.first_us).rfc3339()),
                    last_seen: dated(a).map_or("-".into(), |_| Ts(a.last_us).rfc3339()),
                    first_us: dated(a).map_or(0, |_| a.first_us),
                    last_us: dated(a).map_or(0, |_| a.last_us),
                    names,
                    count: a.count,
                }
            })
            .collect();
        RateReport {
            mode: self.cfg.mode,
            relative_error: match self.cfg.mode {
                Mode::Approx { precision, .. } => Some(Hll::new(precision, 0).relative_error()),
                Mode::Exact => None,
            },
            window_secs: self.cfg.window_us / 1_000_000,
            windows,
            totals,
            infected,
            allowlisted_queries: self.allowlisted,
            suspect: self.cfg.suspect,
            suspected: sus.rows,
            files: self.files,
            skipped: self.skips,
        }
    }
}

impl RateReport {
    /// The infected-customer list as CSV
    /// (`client,group,first_seen,last_seen,count,names` with names joined by `;`).
    pub fn infected_csv(&self) -> String {
        let mut s = String::from("client,group,first_seen,last_seen,count,names\n");
        for r in &self.infected {
            s.push_str(&format!(
                "{},{},{},{},{},{}\n",
                r.client,
                csv_field(&r.group),
                r.first_seen,
                r.last_seen,
                r.count,
                r.names.join(";")
            ));
        }
        s
    }

    /// The per-window series and totals as CSV.
    pub fn rate_csv(&self) -> String {
        let mut s = String::from(
            "group,window_start,window_end,clients,infected,rate,queries,matched_queries,suspected\n",
        );
        for r in self.windows.iter().chain(&self.totals) {
            s.push_str(&format!(
                "{},{},{},{},{},{:.6},{},{},{}\n",
                csv_field(&r.group),
                r.window_start.as_deref().unwrap_or("total"),
                r.window_end.as_deref().unwrap_or(""),
                r.clients,
                r.infected,
                r.rate,
                r.queries,
                r.matched_queries,
                r.suspected
            ));
        }
        s
    }

    /// The suspected tier as CSV
    /// (`client,group,first_seen,last_seen,windows,domains,queries,nxdomain,names`).
    pub fn suspected_csv(&self) -> String {
        let mut s = String::from(
            "client,group,first_seen,last_seen,windows,domains,queries,nxdomain,names\n",
        );
        for r in &self.suspected {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                r.client,
                csv_field(&r.group),
                r.first_seen,
                r.last_seen,
                r.windows,
                r.domains,
                r.queries,
                r.nxdomain,
                r.names.join(";")
            ));
        }
        s
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(ts: i64, ip: &str, name: &'static str) -> Query<'static> {
        Query {
            ts_us: ts * 1_000_000,
            client: ip.parse().unwrap(),
            qname: name.as_bytes(),
            server: None,
            rcode: None,
        }
    }

    #[test]
    fn counts_windows_allowlist_and_v6_prefixes() {
        let mut watch = NameSet::new();
        watch.add("zone:evil.test").unwrap();
        watch.add("irc.libera.chat").unwrap();
        let mut allow = NameSet::new();
        allow.add("irc.libera.chat").unwrap();
        let cfg = RateConfig::default();
        let mut e = RateEngine::new(cfg, &watch, &allow);
        e.observe(&q(10, "10.0.0.1", "CC.Evil.Test."), "f");
        e.observe(&q(20, "10.0.0.1", "www.example.com"), "f");
        e.observe(&q(30, "10.0.0.2", "irc.libera.chat"), "f");
        e.observe(&q(40, "2001:db8::1", "x.evil.test"), "f");
        e.observe(&q(50, "2001:db8::2", "www.example.com"), "f"); // same /64
        e.observe(&q(86_400 + 5, "10.0.0.3", "www.example.com"), "f");
        let r = e.report();
        assert_eq!(r.windows.len(), 2);
        assert_eq!((r.windows[0].clients, r.windows[0].infected), (3, 2));
        assert_eq!((r.windows[1].clients, r.windows[1].infected), (1, 0));
        assert_eq!((r.totals[0].clients, r.totals[0].infected), (4, 2));
        assert_eq!(r.allowlisted_queries, 1);
        assert_eq!(r.infected.len(), 2);
        assert_eq!(r.infected[0].client, "10.0.0.1");
        assert_eq!(r.infected[0].names, vec!["cc.evil.test".to_string()]);
        assert_eq!(r.infected[1].client, "2001:db8::/64");
    }

    #[test]
    fn merge_equals_single_pass() {
        let mut watch = NameSet::new();
        watch.add("cc.test").unwrap();
        let allow = NameSet::new();
        let qs: Vec<Query> = (0..1000)
            .map(|i| {
                let ip: &'static str =
                    Box::leak(format!("10.0.{}.{}", i % 7, i % 251).into_boxed_str());
                q(i * 300, ip, if i % 13 == 0 { "cc.test" } else { "ok.test" })
            })
            .collect();
        let mut one = RateEngine::new(RateConfig::default(), &watch, &allow);
        for x in &qs {
            one.observe(x, "f");
        }
        let (mut a, mut b) = (
            RateEngine::new(RateConfig::default(), &watch, &allow),
            RateEngine::new(RateConfig::default(), &watch, &allow),
        );
        for (i, x) in qs.iter().enumerate() {
            if i % 2 == 0 {
                a.observe(x, "f")
            } else {
                b.observe(x, "f")
            }
        }
        a.merge(b);
        let (ra, r1) = (a.report(), one.report());
        assert_eq!(ra.windows, r1.windows);
        assert_eq!(ra.totals, r1.totals);
        assert_eq!(ra.infected, r1.infected);
    }

    #[test]
    fn suspected_tier_merges_like_a_single_pass() {
        let watch = NameSet::new();
        let allow = NameSet::new();
        // Client 10.0.0.1 resolves 10 generated names, 10.0.0.2 only 5,
        // 10.0.0.3 ten CDN object names under one registered domain.
        let gen = [
            "vqzkxjwpfhtb.ki",
            "hgqwzxkvbnrt.net",
            "tzqpwvmxkdlrhcjfng.in",
            "qzjxkvwpbhtm.com",
            "wkxqzjvpdfgh.org",
            "zxqvjkwpmbnt.ru",
            "pjxqzkvwtbhr.cc",
            "kzqxjvwbnmpt.biz",
            "xjqzvkwphtbn.info",
            "jvqxzkwbptmh.net",
        ];
        let mut qs: Vec<Query> = Vec::new();
        for (i, n) in gen.iter().enumerate() {
            qs.push(q(i as i64, "10.0.0.1", n));
            if i < 5 {
                qs.push(q(i as i64, "10.0.0.2", n));
            }
        }
        let cdn: Vec<&'static str> = (0..10)
            .map(|i| &*Box::leak(format!("d{i}k2j4h5g6f7a8q.cloudfront.net").into_boxed_str()))
            .collect();
        for (i, n) in cdn.iter().enumerate() {
            qs.push(q(100 + i as i64, "10.0.0.3", n));
        }
        let mut one = RateEngine::new(RateConfig::default(), &watch, &allow);
        let (mut a, mut b) = (
            RateEngine::new(RateConfig::default(), &watch, &allow),
            RateEngine::new(RateConfig::default(), &watch, &allow),
        );
        for (i, x) in qs.iter().enumerate() {
            one.observe(x, "f");
            if i % 2 == 0 {
                a.observe(x, "f")
            } else {
                b.observe(x, "f")
            }
        }
        a.merge(b);
        let (ra, r1) = (a.report(), one.report());
        assert_eq!(r1.suspected.len(), 1);
        assert_eq!(r1.suspected[0].client, "10.0.0.1");
        assert_eq!(r1.suspected[0].domains, 8);
        assert_eq!(r1.windows[0].suspected, 1);
        assert_eq!(ra.suspected, r1.suspected);
        assert_eq!(ra.windows, r1.windows);
    }

    #[test]
    fn parses_windows_and_cidr_maps() {
        assert_eq!(parse_window("1d"), Ok(86_400_000_000));
        assert_eq!(parse_window("6h"), Ok(21_600_000_000));
        assert_eq!(parse_window("all"), Ok(0));
        assert!(parse_window("3x").is_err());
        let m = CidrMap::parse(
            "10.0.0.0/8 big\n10.1.0.0/16 small # pop\n2001:db8::/32 v6\n",
            "m",
        )
        .unwrap();
        assert_eq!(m.lookup(v4_key("10.1.2.3".parse().unwrap())), Some("small"));
        assert_eq!(m.lookup(v4_key("10.2.2.3".parse().unwrap())), Some("big"));
        assert_eq!(
            m.lookup(u128::from("2001:db8::5".parse::<Ipv6Addr>().unwrap())),
            Some("v6")
        );
        assert_eq!(m.lookup(v4_key("11.0.0.1".parse().unwrap())), None);
        assert!(CidrMap::parse("10.0.0.0/33 x\n", "m")
            .unwrap_err()
            .to_string()
            .contains("m line 1"));
    }
}
