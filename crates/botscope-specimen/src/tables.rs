//! The study's specimen tables: Table 2 (detections and kinds, known and
//! unknown, totals and per day), Table 4 (bots naming more than one C&C
//! FQDN among the most sighted, with what de-obfuscation revealed in them),
//! the bot FQDN watch list, time-to-known and families.

use crate::ioc;
use crate::store::{Store, StoreError};
use botscope_core::botconfig::BotConfig;
use botscope_deobf::Record;
use rusqlite::params;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One row pair of Table 2.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Counts {
    /// Sightings (detections by the sensors).
    pub detections: u64,
    /// Distinct specimens.
    pub kinds: u64,
    /// Detections per day.
    pub detections_per_day: f64,
    /// Kinds per day.
    pub kinds_per_day: f64,
}

/// Table 2 for a period.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Table2 {
    /// First day (inclusive), `YYYY-MM-DD`.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// Days in the period.
    pub days: u64,
    /// Known = detected by a scan at or before `as_of`.
    pub as_of: i64,
    /// All specimens.
    pub total: Counts,
    /// Known specimens.
    pub known: Counts,
    /// Unknown specimens.
    pub unknown: Counts,
}

fn day_number(day: &str) -> Option<i64> {
    let mut it = day.splitn(3, '-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    Some(botscope_core::time::days_from_civil(y, m, d))
}

fn counts(det: u64, kinds: u64, days: u64) -> Counts {
    let per = |x: u64| ((x as f64 / days.max(1) as f64) * 10.0).round() / 10.0;
    Counts {
        detections: det,
        kinds,
        detections_per_day: per(det),
        kinds_per_day: per(kinds),
    }
}

/// Computes Table 2 over `[from, to]` (UTC days, inclusive).
pub fn table2(store: &Store, from: &str, to: &str, as_of: i64) -> Result<Table2, StoreError> {
    let (Some(a), Some(b)) = (day_number(from), day_number(to)) else {
        return Err(StoreError::Other("dates must be YYYY-MM-DD".into()));
    };
    if b < a {
        return Err(StoreError::Other("--to is before --from".into()));
    }
    let days = (b - a + 1) as u64;
    let mut st = store.db().prepare(
        "SELECT g.sha256, SUM(g.count),
                EXISTS (SELECT 1 FROM scans c WHERE c.sha256 = g.sha256 AND c.detected = 1 AND c.time <= ?3)
         FROM sightings g WHERE g.day >= ?1 AND g.day <= ?2 GROUP BY g.sha256",
    )?;
    let (mut kd, mut kk, mut ud, mut uk) = (0u64, 0u64, 0u64, 0u64);
    let rows = st.query_map(params![from, to, as_of], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, bool>(2)?))
    })?;
    for row in rows {
        let (n, known) = row?;
        if known {
            kd += n as u64;
            kk += 1;
        } else {
            ud += n as u64;
            uk += 1;
        }
    }
    Ok(Table2 {
        from: from.into(),
        to: to.into(),
        days,
        as_of,
        total: counts(kd + ud, kk + uk, days),
        known: counts(kd, kk, days),
        unknown: counts(ud, uk, days),
    })
}

/// A specimen's bot config from its stored analysis.
pub fn stored_config(store: &Store, sha256: &str) -> Result<Option<BotConfig>, StoreError> {
    Ok(store
        .analysis(sha256)?
        .and_then(|a| a.get("config").cloned())
        .and_then(|c| serde_json::from_value(c).ok()))
}

/// How a config was found: layout, encoding and evidence score, as the
/// stored analysis records them (`block`/`plain`/0 for analyses stored
/// before they were recorded).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Provenance {
    /// `block`, `globals`, `pointer_table` or `name_value`.
    pub layout: String,
    /// `plain`, `utf16`, `xor:5c`, `xor:5ac3178e`, `add:17`, `rol:3`, `rolling_xor:41`.
    pub encoding: String,
    /// Evidence score.
    pub score: u32,
}

fn encoding_label(v: &serde_json::Value) -> String {
    // Serialized `FoundEncoding`: "plain", "utf16" or {"xor": 92}, {"xor_key": "5ac3"} ...
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => match m.iter().next() {
            Some((k, serde_json::Value::Number(n))) => {
                let n = n.as_u64().unwrap_or(0);
                match k.as_str() {
                    "rol" => format!("rol:{n}"),
                    "xor" => format!("xor:{n:02x}"),
                    other => format!("{other}:{n:02x}"),
                }
            }
            Some((k, serde_json::Value::String(key))) if k == "xor_key" => format!("xor:{key}"),
            Some((k, v)) => format!("{k}:{v}"),
            None => "unknown".into(),
        },
        _ => "unknown".into(),
    }
}

/// A stored config with its provenance.
type ConfigWithProvenance = (BotConfig, Provenance);

/// A specimen's stored config with its provenance, and its FQDN indicators.
fn stored(
    store: &Store,
    sha256: &str,
) -> Result<(Option<ConfigWithProvenance>, Vec<String>), StoreError> {
    let Some(a) = store.analysis(sha256)? else {
        return Ok((None, Vec::new()));
    };
    let fqdns = a
        .pointer("/iocs/fqdns")
        .and_then(|f| f.as_array())
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let config = a
        .get("config")
        .cloned()
        .and_then(|c| serde_json::from_value::<BotConfig>(c).ok())
        .map(|c| {
            let p = Provenance {
                layout: a
                    .get("config_layout")
                    .and_then(|l| l.as_str())
                    .unwrap_or("block")
                    .to_string(),
                encoding: a
                    .get("config_encoding")
                    .map_or_else(|| "plain".into(), encoding_label),
                score: a.get("config_score").and_then(|s| s.as_u64()).unwrap_or(0) as u32,
            };
            (c, p)
        });
    Ok((config, fqdns))
}

/// Hosting categories whose names, found as indicators in a specimen
/// without a config, make the second tier of the watch list.
const CC_ZONE_LISTS: [(&str, &str); 3] = [
    (
        "dynamic-dns",
        include_str!("../../../data/providers/dynamic-dns.txt"),
    ),
    (
        "hosting",
        include_str!("../../../data/providers/hosting.txt"),
    ),
    (
        "ircd-shell",
        include_str!("../../../data/providers/ircd-shell.txt"),
    ),
];

/// The provider category of a C&C-like name: strictly below a zone of the
/// dynamic-DNS, hosting or IRC/shell hosting lists (`data/providers/`).
pub fn cc_like_category(fqdn: &str) -> Option<&'static str> {
    let name = fqdn.trim_end_matches('.').to_ascii_lowercase();
    for (cat, list) in CC_ZONE_LISTS {
        for zone in list.lines() {
            let zone = zone.split('#').next().unwrap_or("").trim();
            if zone.is_empty() {
                continue;
            }
            if name.len() > zone.len() + 1
                && name.ends_with(zone)
                && name.as_bytes()[name.len() - zone.len() - 1] == b'.'
            {
                return Some(cat);
            }
        }
    }
    None
}

/// One bot of Table 4.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Table4Bot {
    /// SHA-256.
    pub sha256: String,
    /// Sightings.
    pub sightings: u64,
    /// Distinct server FQDNs in its config.
    pub fqdns: Vec<String>,
    /// Distinct server IPv4 addresses.
    pub ips: Vec<String>,
    /// How the config was found.
    pub provenance: Provenance,
}

/// A specimen without a config whose indicators include C&C-like names
/// (the watch list's second tier).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IocOnly {
    /// SHA-256.
    pub sha256: String,
    /// Sightings.
    pub sightings: u64,
    /// (FQDN, provider category) pairs, sorted.
    pub fqdns: Vec<(String, String)>,
}

/// Table 4 over the top-N specimens by sightings.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Table4 {
    /// N asked for.
    pub top: usize,
    /// Specimens examined (the top N).
    pub examined: u64,
    /// Of those, bots (a config was extracted).
    pub bots: u64,
    /// Bots naming exactly one server FQDN.
    pub one_fqdn: u64,
    /// Bots naming more than one server FQDN.
    pub several_fqdns: u64,
    /// Bots naming IP addresses only.
    pub ip_only: u64,
    /// `several_fqdns / bots` in percent, one decimal.
    pub several_percent: f64,
    /// Number of FQDNs → number of bots.
    pub by_fqdn_count: BTreeMap<usize, u64>,
    /// Bots by how their config was found (`layout/encoding` → bots).
    pub by_provenance: BTreeMap<String, u64>,
    /// The bots.
    pub list: Vec<Table4Bot>,
    /// Specimens without a config naming C&C-like hosts (not counted as
    /// bots; the watch list's second tier).
    pub ioc_only: Vec<IocOnly>,
    /// What the de-obfuscation stage found in the same top-N specimens.
    pub deobfuscation: Deobfuscation,
}

/// One decoder's share of [`Deobfuscation`].
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DecoderMatches {
    /// The registry name of the decoder (`xor_strings`, `upx` …).
    pub decoder: String,
    /// Specimens in which it matched at least once.
    pub specimens: u64,
    /// Indicators (C&C names, IPs, URLs) its findings revealed that are in
    /// no plain string, counted once per specimen.
    pub revealed_iocs: u64,
}

/// The de-obfuscation stage summed over the specimens Table 4 examines
/// (the top N by sightings), from each stored analysis's `deobf` record.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Deobfuscation {
    /// Specimens with a stored record (analyses older than the stage have
    /// none and are left out).
    pub specimens: u64,
    /// Of those, specimens where any decoder matched.
    pub matched: u64,
    /// Distinct indicators revealed only by decoding, summed over specimens.
    pub revealed_iocs: u64,
    /// Per decoder that matched, by name.
    pub decoders: Vec<DecoderMatches>,
}

/// The de-obfuscation summary over the top-N specimens by sightings.
pub fn deobfuscation(store: &Store, top: usize) -> Result<Deobfuscation, StoreError> {
    let mut out = Deobfuscation::default();
    let mut by: BTreeMap<String, DecoderMatches> = BTreeMap::new();
    for r in store.all()?.into_iter().take(top) {
        let Some(rec) = store
            .analysis(&r.hashes.sha256)?
            .and_then(|a| a.get("deobf").cloned())
            .and_then(|d| serde_json::from_value::<Record>(d).ok())
        else {
            continue;
        };
        out.specimens += 1;
        if rec.matched() {
            out.matched += 1;
        }
        out.revealed_iocs += rec.revealed_iocs().len() as u64;
        for d in rec.matched_decoders() {
            let iocs: BTreeSet<&str> = rec
                .findings
                .iter()
                .filter(|f| f.decoder == d)
                .flat_map(|f| f.iocs.iter().map(String::as_str))
                .collect();
            let e = by.entry(d.to_string()).or_insert_with(|| DecoderMatches {
                decoder: d.to_string(),
                ..DecoderMatches::default()
            });
            e.specimens += 1;
            e.revealed_iocs += iocs.len() as u64;
        }
    }
    out.decoders = by.into_values().collect();
    Ok(out)
}

/// The top-N specimens' bots and their server names.
pub fn top_bots(store: &Store, top: usize) -> Result<(u64, Vec<Table4Bot>), StoreError> {
    let (examined, bots, _) = top_specimens(store, top)?;
    Ok((examined, bots))
}

/// The top-N specimens: bots (with a config) and, of the rest, those
/// naming C&C-like hosts.
pub fn top_specimens(
    store: &Store,
    top: usize,
) -> Result<(u64, Vec<Table4Bot>, Vec<IocOnly>), StoreError> {
    let rows = store.all()?;
    let mut examined = 0;
    let mut bots = Vec::new();
    let mut ioc_only = Vec::new();
    for r in rows.into_iter().take(top) {
        examined += 1;
        let (config, fqdns) = stored(store, &r.hashes.sha256)?;
        if let Some((c, provenance)) = config {
            let mut f = BTreeSet::new();
            let mut ips = BTreeSet::new();
            for s in &c.servers {
                if ioc::parse_ipv4(&s.host).is_some() {
                    ips.insert(s.host.clone());
                } else {
                    f.insert(s.host.to_ascii_lowercase());
                }
            }
            bots.push(Table4Bot {
                sha256: r.hashes.sha256,
                sightings: r.sightings,
                fqdns: f.into_iter().collect(),
                ips: ips.into_iter().collect(),
                provenance,
            });
        } else {
            let cc: BTreeSet<(String, String)> = fqdns
                .iter()
                .filter_map(|f| cc_like_category(f).map(|c| (f.clone(), c.to_string())))
                .collect();
            if !cc.is_empty() {
                ioc_only.push(IocOnly {
                    sha256: r.hashes.sha256,
                    sightings: r.sightings,
                    fqdns: cc.into_iter().collect(),
                });
            }
        }
    }
    Ok((examined, bots, ioc_only))
}

/// Computes Table 4.
pub fn table4(store: &Store, top: usize) -> Result<Table4, StoreError> {
    let (examined, list, ioc_only) = top_specimens(store, top)?;
    let mut by = BTreeMap::new();
    let mut by_provenance = BTreeMap::new();
    for b in &list {
        *by_provenance
            .entry(format!("{}/{}", b.provenance.layout, b.provenance.encoding))
            .or_insert(0) += 1;
    }
    let (mut one, mut several, mut ip_only) = (0, 0, 0);
    for b in &list {
        *by.entry(b.fqdns.len()).or_insert(0) += 1;
        match b.fqdns.len() {
            0 => ip_only += 1,
            1 => one += 1,
            _ => several += 1,
        }
    }
    let bots = list.len() as u64;
    Ok(Table4 {
        top,
        examined,
        bots,
        one_fqdn: one,
        several_fqdns: several,
        ip_only,
        several_percent: if bots == 0 {
            0.0
        } else {
            (several as f64 * 1000.0 / bots as f64).round() / 10.0
        },
        by_fqdn_count: by,
        by_provenance,
        list,
        ioc_only,
        deobfuscation: deobfuscation(store, top)?,
    })
}

/// The bot FQDN watch list: distinct server FQDNs of the top-N bots, sorted
/// (the first tier of [`watch_list`]).
pub fn bot_fqdns(store: &Store, top: usize) -> Result<Vec<String>, StoreError> {
    let (_, bots) = top_bots(store, top)?;
    let set: BTreeSet<String> = bots.into_iter().flat_map(|b| b.fqdns).collect();
    Ok(set.into_iter().collect())
}

/// One name of the watch list and where it came from.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WatchEntry {
    /// The FQDN.
    pub fqdn: String,
    /// 1: a server of an extracted config; 2: a C&C-like indicator of a
    /// specimen without a config.
    pub tier: u8,
    /// Tier 1: the configs' `layout/encoding` (distinct, sorted); tier 2:
    /// the provider category (`dynamic-dns`, `hosting`, `ircd-shell`).
    pub source: Vec<String>,
    /// SHA-256 of the specimens naming it (sorted).
    pub specimens: Vec<String>,
}

/// The watch list over the top-N specimens: config servers first (tier
/// 1), then C&C-like indicators of specimens that have no config (tier 2;
/// names already in tier 1 are not repeated). Each tier sorted by name.
pub fn watch_list(store: &Store, top: usize) -> Result<Vec<WatchEntry>, StoreError> {
    let (_, bots, ioc_only) = top_specimens(store, top)?;
    let mut t1: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for b in &bots {
        for f in &b.fqdns {
            let e = t1.entry(f.clone()).or_default();
            e.0.insert(format!("{}/{}", b.provenance.layout, b.provenance.encoding));
            e.1.insert(b.sha256.clone());
        }
    }
    let mut t2: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for s in &ioc_only {
        for (f, cat) in &s.fqdns {
            if t1.contains_key(f) {
                continue;
            }
            let e = t2.entry(f.clone()).or_default();
            e.0.insert(cat.clone());
            e.1.insert(s.sha256.clone());
        }
    }
    let entry = |tier: u8| {
        move |(fqdn, (src, sp)): (String, (BTreeSet<String>, BTreeSet<String>))| WatchEntry {
            fqdn,
            tier,
            source: src.into_iter().collect(),
            specimens: sp.into_iter().collect(),
        }
    };
    Ok(t1
        .into_iter()
        .map(entry(1))
        .chain(t2.into_iter().map(entry(2)))
        .collect())
}

/// The watch list as a file `botscope dns` and `botscope intel` read: one
/// FQDN a line, each tier under a comment header and each name followed by
/// its provenance as a comment.
pub fn watch_list_text(entries: &[WatchEntry], top: usize) -> String {
    let mut out = format!("# botscope specimen watch list: top {top} specimens by sightings\n");
    for tier in [1u8, 2] {
        let names: Vec<&WatchEntry> = entries.iter().filter(|e| e.tier == tier).collect();
        if names.is_empty() {
            continue;
        }
        out.push_str(if tier == 1 {
            "# tier 1: C&C servers of extracted configs (layout/encoding, specimens)\n"
        } else {
            "# tier 2: C&C-like indicators (provider zone) of specimens without a config\n"
        });
        for e in names {
            let sp: Vec<&str> = e.specimens.iter().map(|s| &s[..s.len().min(12)]).collect();
            out.push_str(&format!(
                "{}\t# tier {} {} {}\n",
                e.fqdn,
                tier,
                e.source.join(","),
                sp.join(",")
            ));
        }
    }
    out
}

/// A specimen's time-to-known.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TimeToKnown {
    /// SHA-256.
    pub sha256: String,
    /// First sighting.
    pub first_seen: i64,
    /// Earliest detecting scan, if any.
    pub known_at: Option<i64>,
    /// `known_at - first_seen` in seconds (0 when known on arrival).
    pub seconds: Option<i64>,
    /// The set and version that first detected it.
    pub by: Option<String>,
}

/// Time-to-known of every specimen, as of `as_of`.
pub fn time_to_known(store: &Store, as_of: i64) -> Result<Vec<TimeToKnown>, StoreError> {
    let mut out = Vec::new();
    for r in store.all()? {
        let k = crate::sigs::known_since(store, &r.hashes.sha256, as_of)?;
        out.push(TimeToKnown {
            sha256: r.hashes.sha256.clone(),
            first_seen: r.first_seen,
            known_at: k.as_ref().map(|k| k.0),
            seconds: k.as_ref().map(|k| (k.0 - r.first_seen).max(0)),
            by: k.map(|k| format!("{} {}", k.1, k.2)),
        });
    }
    out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(out)
}

/// A family: variants grouped by imphash and fuzzy similarity.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Family {
    /// Family number (by first member's SHA-256 order).
    pub id: usize,
    /// Shared import hash, if the members have one.
    pub imphash: Option<String>,
    /// Members' SHA-256.
    pub members: Vec<String>,
}

/// Minimum ssdeep score for two specimens with the same imphash to be one family.
pub const FAMILY_SCORE: u32 = 40;

/// Groups specimens: same imphash and ssdeep score >= [`FAMILY_SCORE`]
/// (single linkage); specimens without an imphash need a score >= 80.
pub fn families(store: &Store) -> Result<Vec<Family>, StoreError> {
    let mut rows = store.all()?;
    rows.sort_by(|a, b| a.hashes.sha256.cmp(&b.hashes.sha256));
    let n = rows.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    // Only specimens sharing an imphash (or both lacking one) can join, so
    // compare within those buckets instead of all pairs.
    let mut buckets: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        buckets.entry(r.imphash.as_deref()).or_default().push(i);
    }
    for (imphash, members) in &buckets {
        let need = if imphash.is_some() { FAMILY_SCORE } else { 80 };
        for (k, &i) in members.iter().enumerate() {
            for &j in &members[k + 1..] {
                if crate::fuzzy::compare(&rows[i].fuzzy, &rows[j].fuzzy) >= need {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    Ok(groups
        .into_values()
        .enumerate()
        .map(|(id, m)| Family {
            id: id + 1,
            imphash: rows[m[0]].imphash.clone(),
            members: m.iter().map(|&i| rows[i].hashes.sha256.clone()).collect(),
        })
        .collect())
}
