//! Table 5: which kind of provider hosts each C&C name, judged from the
//! zone it sits in against curated provider lists (`data/providers/`).
//!
//! A name is matched on its own suffixes, longest first, so a provider list
//! may name either registered domains (`no-ip.org`) or deeper zones
//! (`compute.amazonaws.com`). The registered domain (public suffix list, the
//! `psl` crate) is reported beside each name so a reader can check the call.

use crate::names::normalize;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Provider categories of Table 5, in the paper's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Dynamic DNS providers (dyndns.org, no-ip, afraid.org zones, ...).
    DynamicDns,
    /// Third-party DNS hosting services (zoneedit, everydns, dnsexit, ...).
    DnsService,
    /// Game-server hosting.
    GameHosting,
    /// Web / VPS hosting.
    Hosting,
    /// Access providers (customer host names).
    Isp,
    /// IRC-server and Unix shell hosting.
    IrcdShell,
    /// Nothing matched.
    Unknown,
}

impl Category {
    /// Every category, in table order.
    pub const ALL: [Category; 7] = [
        Category::DynamicDns,
        Category::DnsService,
        Category::Unknown,
        Category::GameHosting,
        Category::Hosting,
        Category::Isp,
        Category::IrcdShell,
    ];

    /// The stable key used in files and overrides.
    pub fn key(self) -> &'static str {
        match self {
            Category::DynamicDns => "dynamic-dns",
            Category::DnsService => "dns-service",
            Category::GameHosting => "game-hosting",
            Category::Hosting => "hosting",
            Category::Isp => "isp",
            Category::IrcdShell => "ircd-shell",
            Category::Unknown => "unknown",
        }
    }

    /// The row label of Table 5.
    pub fn label(self) -> &'static str {
        match self {
            Category::DynamicDns => "Dynamic DNS",
            Category::DnsService => "DNS service",
            Category::GameHosting => "Game hosting",
            Category::Hosting => "Hosting",
            Category::Isp => "ISP",
            Category::IrcdShell => "IRCd/Unix shell hosting",
            Category::Unknown => "unknown",
        }
    }

    /// Parses a key (`dynamic-dns`, `isp`, ...).
    pub fn from_key(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.key() == s.trim())
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Errors loading provider lists or overrides.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// A list or override file could not be parsed.
    #[error("{file}: {reason}")]
    Bad {
        /// The file.
        file: String,
        /// What was wrong.
        reason: String,
    },
}

/// Why a name got its category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchSource {
    /// An exact-name user override.
    OverrideName,
    /// A zone user override.
    OverrideZone,
    /// A shipped provider list.
    ProviderList,
    /// No list matched.
    None,
}

/// One classified name (a row of the per-name JSON/CSV).
#[derive(Clone, Debug, Serialize)]
pub struct Classified {
    /// The name.
    pub name: String,
    /// Its registered domain per the public suffix list, if it has one.
    pub registered_domain: Option<String>,
    /// The category.
    pub category: Category,
    /// The list zone that matched (empty when unknown).
    pub matched_zone: Option<String>,
    /// Where the match came from.
    pub source: MatchSource,
}

/// Provider zones by category plus user overrides.
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    zones: HashMap<String, Category>,
    override_names: HashMap<String, Category>,
    override_zones: HashMap<String, Category>,
}

/// The shipped provider lists: (file name, text).
///
/// `dynamic-dns-misp.txt` holds the zones of the MISP dynamic-DNS warning
/// list (CC0) that the hand-compiled lists lacked; no zone is in two lists
/// (unit test), so the order does not matter.
pub const BUILTIN_LISTS: [(&str, &str); 7] = [
    (
        "data/providers/dynamic-dns.txt",
        include_str!("../../../data/providers/dynamic-dns.txt"),
    ),
    (
        "data/providers/dynamic-dns-misp.txt",
        include_str!("../../../data/providers/dynamic-dns-misp.txt"),
    ),
    (
        "data/providers/dns-service.txt",
        include_str!("../../../data/providers/dns-service.txt"),
    ),
    (
        "data/providers/game-hosting.txt",
        include_str!("../../../data/providers/game-hosting.txt"),
    ),
    (
        "data/providers/hosting.txt",
        include_str!("../../../data/providers/hosting.txt"),
    ),
    (
        "data/providers/isp.txt",
        include_str!("../../../data/providers/isp.txt"),
    ),
    (
        "data/providers/ircd-shell.txt",
        include_str!("../../../data/providers/ircd-shell.txt"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    #[serde(default)]
    names: BTreeMap<String, String>,
    #[serde(default)]
    zones: BTreeMap<String, String>,
}

impl Classifier {
    /// A classifier with the shipped provider lists.
    pub fn builtin() -> Classifier {
        let mut c = Classifier::default();
        for (file, text) in BUILTIN_LISTS {
            c.add_list(file, text)
                .expect("shipped provider lists are well-formed (checked by a unit test)");
        }
        c
    }

    /// Adds a provider list. Its header must carry `# category: KEY`,
    /// `# source: ...` and a `date:`; each other non-comment line is a zone.
    pub fn add_list(&mut self, file: &str, text: &str) -> Result<usize, ClassifyError> {
        let bad = |reason: String| ClassifyError::Bad {
            file: file.to_string(),
            reason,
        };
        let mut category = None;
        let mut has_source = false;
        let mut added = 0;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if let Some(c) = l.strip_prefix('#') {
                let c = c.trim();
                if let Some(k) = c.strip_prefix("category:") {
                    category =
                        Some(Category::from_key(k).ok_or_else(|| {
                            bad(format!("line {}: unknown category {k:?}", i + 1))
                        })?);
                } else if c.starts_with("source:") && c.contains("date:") {
                    has_source = true;
                }
                continue;
            }
            if l.is_empty() {
                continue;
            }
            let cat = category.ok_or_else(|| bad("zone before `# category:` header".into()))?;
            let zone = normalize(l).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
            self.zones.insert(zone, cat);
            added += 1;
        }
        if !has_source {
            return Err(bad("header lacks `# source: ...; date: ...`".into()));
        }
        Ok(added)
    }

    /// Adds user overrides from TOML:
    /// `[names] "cc.example.net" = "hosting"` and `[zones] "example.org" = "isp"`.
    pub fn add_overrides(&mut self, file: &str, text: &str) -> Result<usize, ClassifyError> {
        let bad = |reason: String| ClassifyError::Bad {
            file: file.to_string(),
            reason,
        };
        let o: OverrideFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut n = 0;
        for (table, map) in [("names", o.names), ("zones", o.zones)] {
            for (k, v) in map {
                let name = normalize(&k).map_err(|e| bad(format!("[{table}] {k:?}: {e}")))?;
                let cat = Category::from_key(&v)
                    .ok_or_else(|| bad(format!("[{table}] {k:?}: unknown category {v:?}")))?;
                if table == "names" {
                    self.override_names.insert(name, cat);
                } else {
                    self.override_zones.insert(name, cat);
                }
                n += 1;
            }
        }
        Ok(n)
    }

    /// Classifies one normalised name.
    pub fn classify(&self, name: &str) -> Classified {
        let registered_domain = psl::domain_str(name).map(str::to_string);
        let mut out = Classified {
            name: name.to_string(),
            registered_domain,
            category: Category::Unknown,
            matched_zone: None,
            source: MatchSource::None,
        };
        if let Some(&c) = self.override_names.get(name) {
            out.category = c;
            out.matched_zone = Some(name.to_string());
            out.source = MatchSource::OverrideName;
            return out;
        }
        for (map, source) in [
            (&self.override_zones, MatchSource::OverrideZone),
            (&self.zones, MatchSource::ProviderList),
        ] {
            let mut rest = name;
            loop {
                if let Some(&c) = map.get(rest) {
                    out.category = c;
                    out.matched_zone = Some(rest.to_string());
                    out.source = source;
                    return out;
                }
                match rest.find('.') {
                    Some(i) => rest = &rest[i + 1..],
                    None => break,
                }
            }
        }
        out
    }
}

/// Table 5: count per category.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Table5 {
    /// Names classified.
    pub total: u64,
    /// Count per category (every category present, zero included).
    pub counts: BTreeMap<Category, u64>,
}

impl Table5 {
    /// Counts classified names.
    pub fn from_rows(rows: &[Classified]) -> Table5 {
        let mut t = Table5 {
            total: rows.len() as u64,
            counts: Category::ALL.iter().map(|&c| (c, 0)).collect(),
        };
        for r in rows {
            *t.counts.entry(r.category).or_default() += 1;
        }
        t
    }

    /// Share of one category in percent (0 when empty).
    pub fn percent(&self, c: Category) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.counts.get(&c).copied().unwrap_or(0) as f64 * 100.0 / self.total as f64
        }
    }

    /// Text rendering, rows by descending count like the paper.
    pub fn render(&self) -> String {
        let mut rows: Vec<_> = Category::ALL
            .iter()
            .map(|&c| (c, self.counts[&c]))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
        let mut s = format!(
            "Table 5: C&C names by hosting domain ({} FQDNs)\n",
            self.total
        );
        for (c, n) in rows {
            s.push_str(&format!(
                "  {:<26} {:>6} {:>5.0} %\n",
                c.label(),
                n,
                self.percent(c)
            ));
        }
        s
    }
}

/// Per-name CSV (`name,registered_domain,category,matched_zone,source`).
pub fn to_csv(rows: &[Classified]) -> String {
    let mut s = String::from("name,registered_domain,category,matched_zone,source\n");
    for r in rows {
        let src = match r.source {
            MatchSource::OverrideName => "override-name",
            MatchSource::OverrideZone => "override-zone",
            MatchSource::ProviderList => "provider-list",
            MatchSource::None => "none",
        };
        // Names are validated LDH/underscore text, so no CSV quoting is needed.
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            r.name,
            r.registered_domain.as_deref().unwrap_or(""),
            r.category,
            r.matched_zone.as_deref().unwrap_or(""),
            src
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lists_load_with_headers() {
        let mut c = Classifier::default();
        for (f, t) in BUILTIN_LISTS {
            assert!(c.add_list(f, t).unwrap() > 5, "{f}");
        }
    }

    #[test]
    fn no_zone_is_in_two_lists() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut twice = vec![];
        for (f, t) in BUILTIN_LISTS {
            for l in t.lines().map(str::trim) {
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                if let Some(prev) = seen.insert(l.to_ascii_lowercase(), f) {
                    twice.push(format!("{l}: {prev} and {f}"));
                }
            }
        }
        assert_eq!(twice, Vec::<String>::new());
        assert!(seen.len() > 35_000, "{}", seen.len());
    }

    #[test]
    fn classifies_by_longest_suffix_and_registered_domain() {
        let c = Classifier::builtin();
        let r = c.classify("bot.no-ip.biz");
        assert_eq!(r.category, Category::DynamicDns);
        // The PSL's private section lists dynamic-DNS zones as suffixes, so
        // each dyn-DNS host is its own registered domain.
        assert_eq!(r.registered_domain.as_deref(), Some("bot.no-ip.biz"));
        assert_eq!(
            c.classify("cc.evil-corp.co.uk")
                .registered_domain
                .as_deref(),
            Some("evil-corp.co.uk")
        );
        assert_eq!(c.classify("x.y.mooo.com").category, Category::DynamicDns);
        assert_eq!(c.classify("ns.zoneedit.com").category, Category::DnsService);
        let isp = c.classify("p1234-ipbf.tokyo.ocn.ne.jp");
        assert_eq!(isp.category, Category::Isp);
        assert_eq!(isp.registered_domain.as_deref(), Some("ocn.ne.jp"));
        assert_eq!(
            c.classify("irc.example-unlisted.net").category,
            Category::Unknown
        );
        // label boundary: "xno-ip.org" is not under "no-ip.org"
        assert_eq!(c.classify("a.xno-ip.org").category, Category::Unknown);
    }

    #[test]
    fn overrides_win_name_over_zone_over_lists() {
        let mut c = Classifier::builtin();
        let n = c
            .add_overrides(
                "o.toml",
                "[names]\n\"cc.no-ip.org\" = \"hosting\"\n[zones]\n\"no-ip.org\" = \"isp\"\n",
            )
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(c.classify("cc.no-ip.org").category, Category::Hosting);
        assert_eq!(c.classify("dd.no-ip.org").category, Category::Isp);
        assert!(c
            .add_overrides("o.toml", "[names]\n\"a.b\" = \"bogus\"\n")
            .is_err());
        assert!(c
            .add_overrides("o.toml", "[names]\n\"*.b.c\" = \"isp\"\n")
            .is_err());
    }

    #[test]
    fn list_without_source_header_is_refused() {
        let mut c = Classifier::default();
        assert!(c.add_list("x", "# category: isp\nexample.net\n").is_err());
    }

    #[test]
    fn table5_counts_and_percent() {
        let c = Classifier::builtin();
        let rows: Vec<_> = [
            "a.dyndns.org",
            "b.no-ip.com",
            "c.unlisted.example",
            "d.zoneedit.com",
        ]
        .iter()
        .map(|n| c.classify(n))
        .collect();
        let t = Table5::from_rows(&rows);
        assert_eq!(t.counts[&Category::DynamicDns], 2);
        assert_eq!(t.counts[&Category::Unknown], 1);
        assert_eq!(t.percent(Category::DynamicDns), 50.0);
        assert!(t.render().contains("Dynamic DNS"));
    }
}
