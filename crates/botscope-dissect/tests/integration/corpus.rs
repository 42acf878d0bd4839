//! Corpus agreement: every Zeek baseline (`dns.log`, `irc.log`, `conn.log`,
//! spicy-tftp `tftp.log`) whose btest reads a single trace is compared
//! field by field with botscope's Zeek rendering of the same trace. `ts`
//! is masked in the baselines and skipped; uids are compared by linkage
//! (one of ours ↔ one of theirs, consistently across the capture's logs).
//! A disagreement fails the test unless `docs/deviations.md` lists it.

use crate::common::{corpus, run_with};
use botscope_capture::EngineConfig;
use botscope_dissect::logs::zeek_rows;
use botscope_dissect::Record;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const LOGS: &[&str] = &["dns", "irc", "conn", "tftp"];

/// One baseline log to compare.
struct Case {
    /// Trace path relative to the corpus folder.
    trace: String,
    /// Baseline log file.
    baseline: PathBuf,
    /// Log kind (`dns`...).
    log: String,
    /// Whether the baseline was made with `zeek -C` (checksums ignored).
    ignore_checksums: bool,
}

/// Reads zeek/SOURCE.md's map: a baseline folder, its files and the
/// traces its commands read.
fn zeek_cases() -> Vec<Case> {
    let root = corpus();
    let text = std::fs::read_to_string(root.join("zeek/SOURCE.md")).expect("zeek/SOURCE.md");
    let mut cases = Vec::new();
    let mut blocks: Vec<(String, Vec<String>, Vec<String>, bool)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("- `") {
            if let (Some(end), true) = (rest.find('`'), line.contains("→ files:")) {
                let dir = rest[..end].to_string();
                let files_part = line.split("→ files:").nth(1).unwrap_or("");
                let files = files_part
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect();
                blocks.push((dir, files, Vec::new(), false));
                continue;
            }
        }
        if line.trim_start().starts_with("@TEST-EXEC:") {
            if let Some(b) = blocks.last_mut() {
                if line.contains("zeek ") {
                    let flags = line
                        .split_whitespace()
                        .filter(|w| w.starts_with('-') && !w.starts_with("--"));
                    if flags.clone().any(|w| w.contains('C')) {
                        b.3 = true;
                    }
                }
                for marker in ["$TRACES/", "${TRACES}/"] {
                    if let Some(i) = line.find(marker) {
                        let t = line[i + marker.len()..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string();
                        if !b.2.contains(&t) {
                            b.2.push(t);
                        }
                    }
                }
            }
        }
    }
    for (dir, files, traces, ignore_checksums) in blocks {
        if traces.len() != 1 {
            continue;
        }
        for f in files {
            let log = f.split('.').next().unwrap_or("").to_string();
            if !LOGS.contains(&log.as_str()) || !(f.ends_with(".log") || f.ends_with(".log.cut")) {
                continue;
            }
            cases.push(Case {
                trace: format!("zeek/testing/btest/Traces/{}", traces[0]),
                baseline: root.join("zeek/testing/btest/Baseline").join(&dir).join(&f),
                log,
                ignore_checksums,
            });
        }
    }
    for (t, d) in [
        ("tftp_rrq.pcap", "tests.rrq"),
        ("tftp_wrq.pcap", "tests.wrq"),
    ] {
        for log in ["tftp", "conn"] {
            cases.push(Case {
                trace: format!("spicy-tftp/testing/Traces/{t}"),
                baseline: root
                    .join("spicy-tftp/testing/Baseline")
                    .join(d)
                    .join(format!("{log}.log")),
                log: log.into(),
                ignore_checksums: false,
            });
        }
    }
    cases
}

/// A baseline: field names and rows. Cut files without a header are
/// `uid service` (how spicy-tftp's conn.log baselines were made).
fn read_baseline(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let has_header = text.lines().any(|l| l.starts_with("#fields\t"));
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !has_header
            && fields.is_empty()
            && !line.starts_with('#')
            && line.contains("uid\t")
        {
            // `zeek-cut -m` output: the first plain line names the columns.
            fields = line.split('\t').map(str::to_string).collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            rows.push(line.split('\t').map(str::to_string).collect());
        }
    }
    if fields.is_empty() {
        fields = vec!["uid".into(), "service".into()];
    }
    (fields, rows)
}

/// Deviations listed in docs/deviations.md: (capture, log, field).
pub(crate) fn deviations() -> Vec<(String, String, String)> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/deviations.md");
    let text = std::fs::read_to_string(&p).expect("docs/deviations.md");
    let mut v = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line
            .split('|')
            .map(|c| c.trim().trim_matches('`'))
            .collect();
        // | capture | log | field | reason |
        if cells.len() >= 6
            && !cells[1].is_empty()
            && cells[1] != "capture"
            && !cells[1].starts_with("---")
        {
            v.push((
                cells[1].to_string(),
                cells[2].to_string(),
                cells[3].to_string(),
            ));
        }
    }
    v
}

fn listed(devs: &[(String, String, String)], trace: &str, log: &str, field: &str) -> bool {
    devs.iter().any(|(c, l, f)| {
        (c == "*" || trace.ends_with(c.as_str()))
            && (l == "*" || l == log)
            && (f == "*" || f == field)
    })
}

#[derive(Default)]
struct Tally {
    rows_theirs: usize,
    rows_ours: usize,
    fields: usize,
    agree: usize,
    listed: usize,
    unlisted: Vec<String>,
}

#[test]
fn zeek_baselines_agree_field_by_field() {
    let cases = zeek_cases();
    assert!(
        cases.len() >= 30,
        "found only {} baseline logs",
        cases.len()
    );
    let devs = deviations();
    let mut by_trace: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
    for c in &cases {
        by_trace.entry(c.trace.clone()).or_default().push(c);
    }
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for (trace, cases) in by_trace {
        let cfg = EngineConfig {
            verify_checksums: !cases.iter().any(|c| c.ignore_checksums),
            ..Default::default()
        };
        let (records, _, _) = run_with(&[corpus().join(&trace)], &cfg);
        // uid linkage across this capture's logs.
        let mut ours_to_theirs: HashMap<String, String> = HashMap::new();
        let mut theirs_to_ours: HashMap<String, String> = HashMap::new();
        // Logs with 5-tuples first so the linkage is known before cut conn logs.
        let mut cases = cases;
        cases.sort_by_key(|c| c.log == "conn");
        for case in cases {
            let (fields, rows) = read_baseline(&case.baseline);
            let ours = our_rows(&records, &case.log);
            let mut t = Tally {
                rows_theirs: rows.len(),
                rows_ours: ours.len(),
                ..Default::default()
            };
            let mut used = vec![false; ours.len()];
            let id_fields: Vec<&str> = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]
                .into_iter()
                .filter(|f| fields.iter().any(|x| x == f))
                .collect();
            let disagree = |field: &str, detail: String, t: &mut Tally| {
                if listed(&devs, &trace, &case.log, field) {
                    t.listed += 1;
                } else {
                    t.unlisted
                        .push(format!("{trace} {} {field}: {detail}", case.log));
                }
            };
            for row in &rows {
                let get = |f: &str| {
                    fields
                        .iter()
                        .position(|x| x == f)
                        .and_then(|i| row.get(i))
                        .map(String::as_str)
                };
                // Candidates: same 5-tuple (when the baseline has it), or same linked uid.
                let mut best: Option<(usize, usize)> = None;
                for (i, o) in ours.iter().enumerate() {
                    if used[i] {
                        continue;
                    }
                    if !id_fields
                        .iter()
                        .all(|f| get(f) == o.get(*f).map(String::as_str))
                    {
                        continue;
                    }
                    if id_fields.is_empty() {
                        if let (Some(tu), Some(ou)) = (get("uid"), o.get("uid")) {
                            if theirs_to_ours.get(tu).is_some_and(|x| x != ou) {
                                continue;
                            }
                        }
                    }
                    let score = fields
                        .iter()
                        .filter(|f| {
                            !matches!(f.as_str(), "ts" | "uid" | "uid_data" | "tunnel_parents")
                        })
                        .filter(|f| get(f) == o.get(f.as_str()).map(String::as_str))
                        .count();
                    if best.is_none_or(|(_, s)| score > s) {
                        best = Some((i, score));
                    }
                }
                let Some((i, _)) = best else {
                    disagree("row", format!("no row of ours for {row:?}"), &mut t);
                    continue;
                };
                used[i] = true;
                let o = &ours[i];
                for f in &fields {
                    if f == "ts" {
                        continue;
                    }
                    let theirs = get(f).unwrap_or("");
                    t.fields += 1;
                    let Some(mine) = o.get(f.as_str()) else {
                        disagree(f, "column not produced".into(), &mut t);
                        continue;
                    };
                    if (f == "uid" || f == "uid_data" || f == "tunnel_parents")
                        && theirs != "-"
                        && mine != "-"
                    {
                        let a = ours_to_theirs
                            .entry(mine.clone())
                            .or_insert_with(|| theirs.to_string())
                            .clone();
                        let b = theirs_to_ours
                            .entry(theirs.to_string())
                            .or_insert_with(|| mine.clone())
                            .clone();
                        if a == theirs && &b == mine {
                            t.agree += 1;
                        } else {
                            disagree(
                                f,
                                format!("uid linkage {mine} -> {a}, theirs {theirs}"),
                                &mut t,
                            );
                        }
                        continue;
                    }
                    if mine == theirs {
                        t.agree += 1;
                    } else {
                        disagree(f, format!("ours {mine:?} theirs {theirs:?}"), &mut t);
                    }
                }
            }
            for (i, o) in ours.iter().enumerate() {
                if !used[i] {
                    let key: Vec<&str> = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]
                        .iter()
                        .filter_map(|f| o.get(*f).map(String::as_str))
                        .collect();
                    disagree("row-extra", format!("extra row of ours {key:?}"), &mut t);
                }
            }
            table.push(format!(
                "{:<62} {:<5} {:>4}/{:<4} {:>5} {:>5} {:>4} {:>4}",
                trace.trim_start_matches("zeek/testing/btest/Traces/"),
                case.log,
                t.rows_theirs,
                t.rows_ours,
                t.fields,
                t.agree,
                t.listed,
                t.unlisted.len()
            ));
            failures.extend(t.unlisted);
        }
    }
    eprintln!(
        "{:<62} {:<5} {:>9} {:>5} {:>5} {:>4} {:>4}",
        "capture", "log", "rows z/b", "flds", "agree", "dev", "FAIL"
    );
    for l in &table {
        eprintln!("{l}");
    }
    for f in &failures {
        eprintln!("UNLISTED: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} field disagreements not listed in docs/deviations.md",
        failures.len()
    );
}

/// Our Zeek rows of one log kind, as field → value maps.
fn our_rows(records: &[Record], log: &str) -> Vec<HashMap<String, String>> {
    let mut v = Vec::new();
    for r in records {
        for (schema, row) in zeek_rows(r) {
            if schema.path == log {
                v.push(
                    schema
                        .fields()
                        .into_iter()
                        .map(|f| f.to_string())
                        .zip(row)
                        .collect(),
                );
            }
        }
    }
    v
}
