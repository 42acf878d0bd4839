//! From the other commands' outputs to the report contract
//! ([`botscope_core::report`]): each function reads one named output, by
//! its documented fields, and returns the sections it fills. Nothing here
//! guesses: a missing field is an error naming the file and field.
//!
//! | output | sections |
//! |---|---|
//! | `analyze --out DIR` → `DIR/report.json` | table1, table7–11, fig3, fig5, orders, diurnal |
//! | `specimen --json table2` | table2 |
//! | `specimen --json table4` | table4 |
//! | `dns rate --json` | table3 |
//! | `dns rate --window 1h --json` | rate_series |
//! | `intel classify --table-json` (+ `--json` per-name rows) | table5 |

use crate::ReportError;
use botscope_core::report::*;
use botscope_core::Ts;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// One section ready to be written: id and JSON.
pub type Out = (&'static str, Value);

fn err(what: &str, field: &str) -> ReportError {
    ReportError::Field {
        what: what.to_string(),
        field: field.to_string(),
    }
}

fn u(v: &Value, what: &str, field: &str) -> Result<u64, ReportError> {
    v.get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| err(what, field))
}

fn f(v: &Value, what: &str, field: &str) -> Result<f64, ReportError> {
    v.get(field)
        .and_then(Value::as_f64)
        .ok_or_else(|| err(what, field))
}

fn s(v: &Value, what: &str, field: &str) -> Result<String, ReportError> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| err(what, field))
}

fn arr<'a>(v: &'a Value, what: &str, field: &str) -> Result<&'a [Value], ReportError> {
    v.get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| err(what, field))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn json<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// An [`Unavailable`] section.
pub fn unavailable(section: &'static str, why: &str, command: &str) -> Out {
    (
        section,
        json(&Unavailable {
            schema_version: SCHEMA_VERSION,
            section: section.into(),
            unavailable: why.into(),
            command: command.into(),
        }),
    )
}

fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (n as f64 * 10_000.0 / total as f64).round() / 100.0
    }
}

/// `analyze`'s count rows (`key`, `count`, `percent`, `evidence`).
fn share_rows(v: &Value, what: &str, field: &str) -> Result<Vec<ShareRow>, ReportError> {
    arr(v, what, field)?
        .iter()
        .map(|r| {
            let (evidence, more) = cap_evidence(strings(r.get("evidence")));
            let count = u(r, what, "count")?;
            // `analyze` lists the first few uids of each row: the rest of
            // its count is evidence not listed.
            let evidence_more = more.max(count.saturating_sub(evidence.len() as u64));
            Ok(ShareRow {
                label: s(r, what, "key")?,
                count,
                percent: f(r, what, "percent")?,
                success: None,
                evidence,
                evidence_more,
            })
        })
        .collect()
}

fn share_table(rows: Vec<ShareRow>) -> ShareTable {
    ShareTable {
        schema_version: SCHEMA_VERSION,
        total: rows.iter().map(|r| r.count).sum(),
        rows,
    }
}

/// Table 9's HTTP C&C rows and P2P C&C hosts (issue 20), when the
/// analysis has them.
fn channels(v: &Value) -> Option<botscope_core::report::CommandChannels> {
    use botscope_core::report::{CommandChannels, HttpCcRow, P2pHostRow};
    let http = v.get("table9_http")?.as_array()?;
    let p2p = v.get("p2p_hosts").and_then(Value::as_array);
    let text = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |x: &Value, k: &str| x.get(k).and_then(Value::as_u64).unwrap_or(0);
    let len = |x: &Value, k: &str| x.get(k).and_then(Value::as_array).map_or(0, Vec::len) as u64;
    Some(CommandChannels {
        schema_version: SCHEMA_VERSION,
        http: http
            .iter()
            .map(|h| HttpCcRow {
                host: h
                    .get("host")
                    .and_then(Value::as_str)
                    .map_or_else(|| text(h, "server"), str::to_string),
                port: n(h, "port") as u16,
                uri_shape: text(h, "uri_shape"),
                bots: len(h, "bots"),
                polls: n(h, "polls"),
                interval_s: h.get("interval_s").and_then(Value::as_f64),
                orders: n(h, "orders"),
                commands: strings(h.get("order_commands")),
            })
            .collect(),
        p2p: p2p
            .into_iter()
            .flatten()
            .filter(|p| p.pointer("/attribution/verdict").and_then(Value::as_str) == Some("cc"))
            .map(|p| P2pHostRow {
                host: text(p, "host"),
                protocols: strings(p.get("protocols")),
                peers: p
                    .get("peers")
                    .and_then(Value::as_array)
                    .map(|ps| ps.iter().map(|x| text(x, "peer")).collect())
                    .unwrap_or_default(),
                p2p_only: p.get("p2p_only").and_then(Value::as_bool).unwrap_or(false),
                reason: p
                    .pointer("/attribution/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
            .collect(),
    })
}

fn ts_text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The sections of `botscope analyze`'s `report.json`.
pub fn from_analyze(v: &Value) -> Result<Vec<Out>, ReportError> {
    let what = "analyze report.json";
    let mut out = Vec::new();
    out.extend(table1_out(v, what)?);
    out.push(("table7", json(&share_table(share_rows(v, what, "table7")?))));
    // Table 8 with the complete copies per method.
    let mut t8 = share_rows(v, what, "table8")?;
    let ok = v.get("table8_success").and_then(Value::as_object);
    for r in &mut t8 {
        r.success = Some(
            ok.and_then(|o| o.get(&r.label))
                .and_then(Value::as_u64)
                .unwrap_or(0),
        );
    }
    out.push(("table8", json(&share_table(t8))));
    out.push(("table9", json(&share_table(share_rows(v, what, "table9")?))));
    if let Some(c) = channels(v) {
        out.push(("table9_channels", json(&c)));
    }
    out.extend(table10_out(v, what)?);
    let (t11, per_source) = table11_out(v, what)?;
    out.push(t11);
    out.extend(fig3_out(v, what)?);
    out.extend(fig5_out(v, what, &per_source)?);
    out.extend(orders_out(v, what)?);
    out.extend(diurnal_out(v, what)?);
    Ok(out)
}

/// Table 1, or why there is none.
fn table1_out(v: &Value, what: &str) -> Result<Vec<Out>, ReportError> {
    let mut out = Vec::new();
    // Table 1 needs the capture of the sensor interface.
    match v.get("table1").filter(|t| !t.is_null()) {
        Some(t) => {
            let total = t.get("total").ok_or_else(|| err(what, "table1.total"))?;
            let minutes = t
                .get("per_minute")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let start = minutes
                .first()
                .and_then(|m| m.get("minute"))
                .and_then(Value::as_i64)
                .map(|m| Ts::from_secs_micros(m, 0).rfc3339());
            let busiest = minutes.iter().max_by_key(|m| {
                m.get("volume")
                    .and_then(|v| v.get("bytes"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            });
            let mut evidence = Vec::new();
            if let Some(b) = busiest {
                let at = b.get("minute").and_then(Value::as_i64).unwrap_or(0);
                let vol = b.get("volume").cloned().unwrap_or(Value::Null);
                evidence.push(format!(
                    "busiest minute {}: {} bytes, {} packets",
                    Ts::from_secs_micros(at, 0).rfc3339(),
                    vol.get("bytes").and_then(Value::as_u64).unwrap_or(0),
                    vol.get("packets").and_then(Value::as_u64).unwrap_or(0)
                ));
            }
            evidence.push(format!(
                "{} one-minute bins in analysis/report.json at /table1/per_minute",
                minutes.len()
            ));
            out.push((
                "table1",
                json(&Table1 {
                    schema_version: SCHEMA_VERSION,
                    addresses: u(t, what, "addresses")?,
                    start,
                    window_secs: f(t, what, "window_secs")?,
                    bytes: u(total, what, "table1.total.bytes")
                        .or_else(|_| u(total, what, "bytes"))?,
                    packets: u(total, what, "packets")?,
                    avg_kbps_per_address: f(t, what, "avg_kbps_per_address")?,
                    peak_kbps_per_address: f(t, what, "peak_kbps_per_address")?,
                    extrapolate_to: u(t, what, "extrapolate_to")?,
                    extrapolated_avg_gbps: f(t, what, "extrapolated_avg_gbps")?,
                    extrapolated_peak_gbps: f(t, what, "extrapolated_peak_gbps")?,
                    evidence,
                }),
            ));
        }
        None => out.push(unavailable(
            "table1",
            "the analysis had no capture of the sensor interface",
            "botscope analyze --background SENSOR.pcap ... --out analysis",
        )),
    }
    Ok(out)
}

/// Table 10 with the floods.
fn table10_out(v: &Value, what: &str) -> Result<Vec<Out>, ReportError> {
    let mut out = Vec::new();
    let t10 = share_rows(v, what, "table10")?;
    let floods = arr(v, what, "floods")?
        .iter()
        .map(|fl| {
            let ev = fl.get("evidence");
            Ok(Flood {
                source: s(fl, what, "source")?,
                target: s(fl, what, "target")?,
                command: s(fl, what, "command")?,
                port: u(fl, what, "port")? as u16,
                start: s(fl, what, "start")?,
                end: s(fl, what, "end")?,
                packets: u(fl, what, "packets")?,
                evidence: ev
                    .map(|e| {
                        vec![format!(
                            "file {} packets {}",
                            e.get("file").and_then(Value::as_u64).unwrap_or(0),
                            strings_or_nums(e.get("packets"))
                        )]
                    })
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    out.push((
        "table10",
        json(&Table10 {
            schema_version: SCHEMA_VERSION,
            total: t10.iter().map(|r| r.count).sum(),
            rows: t10,
            floods,
        }),
    ));
    Ok(out)
}

/// Table 11 and the requests per source that Fig. 5 bins.
fn table11_out(v: &Value, what: &str) -> Result<(Out, Vec<(String, u64)>), ReportError> {
    let t11 = share_rows(v, what, "table11")?;
    let relay_rows = arr(v, what, "relays")?;
    let mut relays = Vec::new();
    // Fig. 5 counts requests per source: one spammer through one bot port.
    let mut per_source: Vec<(String, u64)> = Vec::new();
    for r in relay_rows {
        let first = Ts::parse_rfc3339(&ts_text(r.get("first")));
        let last = Ts::parse_rfc3339(&ts_text(r.get("last")));
        let spammer = s(r, what, "spammer")?;
        let mails = u(r, what, "count")?;
        per_source.push((
            format!(
                "{spammer} via {}:{}",
                ts_text(r.get("bot")),
                r.get("port").and_then(Value::as_u64).unwrap_or(0)
            ),
            mails,
        ));
        relays.push(RelayWindow {
            bot: s(r, what, "bot")?,
            spammer,
            duration_s: match (first, last) {
                (Some(a), Some(b)) => (b.0 - a.0) as f64 / 1e6,
                _ => 0.0,
            },
            mails,
        });
    }
    let t = (
        "table11",
        json(&Table11 {
            schema_version: SCHEMA_VERSION,
            total: t11.iter().map(|r| r.count).sum(),
            rows: t11,
            relays,
        }),
    );
    Ok((t, per_source))
}

/// Fig. 3: the stages of each infected host.
fn fig3_out(v: &Value, what: &str) -> Result<Vec<Out>, ReportError> {
    let mut out = Vec::new();
    // Fig. 3.
    let sequences = arr(v, what, "sequences")?
        .iter()
        .map(|q| {
            Ok(Sequence {
                bot: s(q, what, "bot")?,
                stages: arr(q, what, "stages")?
                    .iter()
                    .map(|st| {
                        Ok(Stage {
                            stage: s(st, what, "stage")?,
                            ts: s(st, what, "ts")?,
                            delta_s: f(st, what, "delta_s")?,
                            evidence: ts_text(st.get("uid")),
                        })
                    })
                    .collect::<Result<Vec<_>, ReportError>>()?,
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    out.push((
        "fig3",
        json(&Fig3 {
            schema_version: SCHEMA_VERSION,
            sequences,
        }),
    ));
    Ok(out)
}

/// Fig. 5: the histogram, each bin with its sources as evidence.
fn fig5_out(v: &Value, what: &str, per_source: &[(String, u64)]) -> Result<Vec<Out>, ReportError> {
    let mut out = Vec::new();
    // Fig. 5: the histogram, each bin with its sources as evidence.
    let f5 = v.get("fig5").ok_or_else(|| err(what, "fig5"))?;
    let uppers: Vec<u64> = arr(f5, what, "bin_upper")?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let counts: Vec<u64> = arr(f5, what, "sources")?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let mut bins: Vec<Fig5Bin> = Vec::new();
    let mut lower = 1;
    for (&up, &n) in uppers.iter().zip(&counts) {
        let upper = (up < u32::MAX as u64).then_some(up);
        let (evidence, evidence_more) = cap_evidence(
            per_source
                .iter()
                .filter(|(_, c)| *c >= lower && upper.is_none_or(|u| *c <= u))
                .map(|(src, c)| format!("{src}: {c} requests")),
        );
        bins.push(Fig5Bin {
            lower,
            upper,
            sources: n,
            evidence,
            evidence_more,
        });
        lower = up.saturating_add(1);
    }
    out.push((
        "fig5",
        json(&Fig5 {
            schema_version: SCHEMA_VERSION,
            days: v.get("days").and_then(Value::as_f64),
            bins,
            percent_le_100: f(f5, what, "percent_le_100")?,
        }),
    ));
    Ok(out)
}

/// The orders (Fig. 6).
fn orders_out(v: &Value, what: &str) -> Result<Vec<Out>, ReportError> {
    let mut out = Vec::new();
    // Orders (Fig. 6).
    let all = arr(v, what, "orders")?;
    let rows = all
        .iter()
        .take(ROWS_CAP)
        .map(|o| {
            Ok(OrderRow {
                ts: s(o, what, "ts")?,
                bot: s(o, what, "bot")?,
                via: s(o, what, "via")?,
                command: o
                    .get("order")
                    .and_then(|x| x.get("command"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                raw: s(o, what, "raw")?,
                evidence: vec![format!("session {}", s(o, what, "uid")?)],
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    let mut commands = share_rows(v, what, "order_commands")?;
    for c in &mut commands {
        if c.evidence.is_empty() {
            let (e, m) = cap_evidence(
                rows.iter()
                    .filter(|o| o.command == c.label)
                    .map(|o| format!("{} {}", o.ts, o.raw)),
            );
            c.evidence = e;
            c.evidence_more = m;
        }
    }
    out.push((
        "orders",
        json(&Orders {
            schema_version: SCHEMA_VERSION,
            commands,
            rows_more: (all.len() - rows.len()) as u64,
            rows,
        }),
    ));
    Ok(out)
}

/// Joins per local hour.
fn diurnal_out(v: &Value, what: &str) -> Result<Vec<Out>, ReportError> {
    let mut out = Vec::new();
    // Joins per local hour, each hour with its sessions as evidence.
    // A UTC offset is within a day; anything else is not an offset (and
    // would overflow the hour arithmetic below).
    let tz = match v.get("tz_offset_s") {
        None | Some(Value::Null) => 0,
        Some(t) => t
            .as_i64()
            .filter(|t| t.abs() <= 86_400)
            .ok_or_else(|| err(what, "tz_offset_s"))?,
    };
    let joins: Vec<u64> = arr(v, what, "joins_per_local_hour")?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let mut by_hour: Vec<Vec<String>> = vec![vec![]; 24];
    // Only the sessions the hour counts are made of: a bot's C&C session,
    // not a herder's and not an unattributed one (people chatting).
    let counted = |sess: &&Value| {
        sess.get("role").and_then(Value::as_str) != Some("herder")
            && sess
                .pointer("/attribution/verdict")
                .and_then(Value::as_str)
                .is_none_or(|v| v == "cc")
    };
    for sess in v
        .get("sessions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(counted)
    {
        if let Some(j) = sess
            .get("join")
            .and_then(Value::as_str)
            .and_then(Ts::parse_rfc3339)
        {
            let h = ((j.secs() + tz).rem_euclid(86_400) / 3600) as usize;
            by_hour[h].push(format!(
                "session {} bot {} joined {}",
                ts_text(sess.get("uid")),
                ts_text(sess.get("bot")),
                j.rfc3339()
            ));
        }
    }
    let hours = joins
        .iter()
        .enumerate()
        .take(24)
        .map(|(h, &n)| {
            let (evidence, evidence_more) = cap_evidence(std::mem::take(&mut by_hour[h]));
            HourJoins {
                hour: h as u8,
                joins: n,
                evidence,
                evidence_more,
            }
        })
        .collect();
    out.push((
        "diurnal",
        json(&Diurnal {
            schema_version: SCHEMA_VERSION,
            tz_offset_s: tz as i32,
            hours,
        }),
    ));
    Ok(out)
}

/// Most orders kept in `orders.json`.
pub const ROWS_CAP: usize = 2_000;

fn strings_or_nums(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.to_string().trim_matches('"').to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn counts(v: &Value, what: &str, field: &str) -> Result<Counts, ReportError> {
    let c = v.get(field).ok_or_else(|| err(what, field))?;
    Ok(Counts {
        detections: u(c, what, "detections")?,
        kinds: u(c, what, "kinds")?,
        detections_per_day: f(c, what, "detections_per_day")?,
        kinds_per_day: f(c, what, "kinds_per_day")?,
    })
}

/// Table 2 from `botscope specimen --json table2`.
pub fn from_table2(v: &Value) -> Result<Vec<Out>, ReportError> {
    let what = "specimen table2";
    let as_of = v
        .get("as_of")
        .and_then(Value::as_i64)
        .ok_or_else(|| err(what, "as_of"))?;
    let (from, to) = (s(v, what, "from")?, s(v, what, "to")?);
    Ok(vec![(
        "table2",
        json(&Table2 {
            schema_version: SCHEMA_VERSION,
            evidence: vec![format!(
                "sightings of {from} – {to} in the specimen store; known = detected by a signature set released by {}",
                Ts::from_secs_micros(as_of, 0).rfc3339()
            )],
            from,
            to,
            days: u(v, what, "days")?,
            as_of: Ts::from_secs_micros(as_of, 0).rfc3339(),
            total: counts(v, what, "total")?,
            known: counts(v, what, "known")?,
            unknown: counts(v, what, "unknown")?,
        }),
    )])
}

/// Table 4 from `botscope specimen --json table4`.
pub fn from_table4(v: &Value) -> Result<Vec<Out>, ReportError> {
    let what = "specimen table4";
    let by = v
        .get("by_fqdn_count")
        .and_then(Value::as_object)
        .ok_or_else(|| err(what, "by_fqdn_count"))?;
    let mut by_fqdn_count: Vec<FqdnCount> = by
        .iter()
        .filter_map(|(k, n)| {
            Some(FqdnCount {
                fqdns: k.parse().ok()?,
                bots: n.as_u64()?,
            })
        })
        .collect();
    by_fqdn_count.sort_by_key(|c| c.fqdns);
    let several: Vec<Table4Bot> = arr(v, what, "list")?
        .iter()
        .filter_map(|b| {
            let fqdns = strings(b.get("fqdns"));
            (fqdns.len() > 1).then(|| Table4Bot {
                sha256: ts_text(b.get("sha256")),
                sightings: b.get("sightings").and_then(Value::as_u64).unwrap_or(0),
                fqdns,
            })
        })
        .collect();
    let shown = several.len().min(EVIDENCE_CAP);
    // Absent from outputs written before the de-obfuscation stage existed.
    let deobfuscation = match v.get("deobfuscation") {
        None => Deobfuscation::default(),
        Some(d) => serde_json::from_value(d.clone()).map_err(|_| err(what, "deobfuscation"))?,
    };
    Ok(vec![(
        "table4",
        json(&Table4 {
            schema_version: SCHEMA_VERSION,
            examined: u(v, what, "examined")?,
            bots: u(v, what, "bots")?,
            one_fqdn: u(v, what, "one_fqdn")?,
            several_fqdns: u(v, what, "several_fqdns")?,
            ip_only: u(v, what, "ip_only")?,
            by_fqdn_count,
            several_more: (several.len() - shown) as u64,
            several: several.into_iter().take(shown).collect(),
            deobfuscation,
        }),
    )])
}

fn rate_rows(v: &Value, what: &str, field: &str) -> Result<Vec<RateRow>, ReportError> {
    arr(v, what, field)?
        .iter()
        .map(|r| {
            Ok(RateRow {
                group: s(r, what, "group")?,
                start: r
                    .get("window_start")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                end: r
                    .get("window_end")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                clients: u(r, what, "clients")?,
                infected: u(r, what, "infected")?,
                rate: f(r, what, "rate")?,
                queries: u(r, what, "queries")?,
                matched_queries: u(r, what, "matched_queries")?,
                // Absent before issue 20 (no suspected tier): 0.
                suspected: r.get("suspected").and_then(Value::as_u64).unwrap_or(0),
                evidence: vec![],
                evidence_more: 0,
            })
        })
        .collect()
}

/// Table 3 from `botscope dns rate --json` (one row per window; the whole
/// run when it has a single window), each row with its infected clients.
pub fn from_dns_rate(v: &Value) -> Result<Vec<Out>, ReportError> {
    let what = "dns rate --json";
    let mut rows = rate_rows(v, what, "windows")?;
    if rows.is_empty() {
        rows = rate_rows(v, what, "totals")?;
    }
    let infected = arr(v, what, "infected")?;
    for r in &mut rows {
        let (a, b) = (
            r.start.as_deref().and_then(Ts::parse_rfc3339),
            r.end.as_deref().and_then(Ts::parse_rfc3339),
        );
        let (e, m) = cap_evidence(infected.iter().filter_map(|c| {
            let g = c.get("group").and_then(Value::as_str).unwrap_or_default();
            let first = c.get("first_us").and_then(Value::as_i64).unwrap_or(0);
            let in_window = a.is_none_or(|a| first >= a.0) && b.is_none_or(|b| first < b.0);
            (g == r.group && in_window).then(|| {
                format!(
                    "client {} resolved {} ({} queries, first {})",
                    ts_text(c.get("client")),
                    strings(c.get("names")).join(", "),
                    c.get("count").and_then(Value::as_u64).unwrap_or(0),
                    ts_text(c.get("first_seen"))
                )
            })
        }));
        r.evidence = e;
        r.evidence_more = m;
    }
    let counting = match v.get("mode") {
        Some(Value::String(m)) => m.clone(),
        Some(other) => other.to_string().trim_matches('"').to_string(),
        None => "exact".into(),
    };
    Ok(vec![(
        "table3",
        json(&Table3 {
            schema_version: SCHEMA_VERSION,
            counting,
            relative_error: v.get("relative_error").and_then(Value::as_f64),
            rows,
        }),
    )])
}

/// The infection-rate series from `botscope dns rate --window W --json`
/// (the first group's windows).
pub fn from_rate_series(v: &Value) -> Result<Vec<Out>, ReportError> {
    let what = "dns rate --window --json";
    let rows = rate_rows(v, what, "windows")?;
    let group = rows.first().map(|r| r.group.clone()).unwrap_or_default();
    let points = rows
        .iter()
        .filter(|r| r.group == group)
        .filter_map(|r| {
            Some(RatePoint {
                start: r.start.clone()?,
                clients: r.clients,
                infected: r.infected,
                rate: r.rate,
            })
        })
        .collect();
    Ok(vec![(
        "rate_series",
        json(&RateSeries {
            schema_version: SCHEMA_VERSION,
            window_secs: u(v, what, "window_secs")?,
            group,
            points,
        }),
    )])
}

/// Table 5 from `botscope intel classify --table-json`; `names` (the
/// `--json` per-name output) gives each row its names as evidence.
pub fn from_table5(v: &Value, names: Option<&Value>) -> Result<Vec<Out>, ReportError> {
    let what = "intel classify --table-json";
    let total = u(v, what, "total")?;
    let c = v
        .get("counts")
        .and_then(Value::as_object)
        .ok_or_else(|| err(what, "counts"))?;
    let mut rows: Vec<ShareRow> = c
        .iter()
        .map(|(k, n)| {
            let count = n.as_u64().unwrap_or(0);
            let (evidence, evidence_more) = cap_evidence(
                names
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.get("category").and_then(Value::as_str) == Some(k))
                    .map(|r| {
                        let zone = r.get("matched_zone").and_then(Value::as_str);
                        match zone {
                            Some(z) => format!("{} (zone {z})", ts_text(r.get("name"))),
                            None => ts_text(r.get("name")),
                        }
                    }),
            );
            ShareRow {
                label: k.clone(),
                count,
                percent: pct(count, total),
                success: None,
                evidence,
                evidence_more,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
    Ok(vec![(
        "table5",
        json(&ShareTable {
            schema_version: SCHEMA_VERSION,
            total,
            rows,
        }),
    )])
}

/// Table 6 from per-name probe results: `(name, [criterion keys it meets])`.
pub fn table6_from(
    probed_at: Option<String>,
    active: bool,
    max_addrs: u64,
    names: &[(String, Vec<&'static str>)],
) -> Out {
    let total = names.len() as u64;
    let rows = crate::study::TABLE6
        .iter()
        .filter(|r| active || r.key != "unreachable")
        .map(|r| {
            let hits: Vec<String> = names
                .iter()
                .filter(|(_, keys)| keys.contains(&r.key))
                .map(|(n, _)| n.clone())
                .collect();
            let count = hits.len() as u64;
            let (evidence, evidence_more) = cap_evidence(hits);
            ShareRow {
                label: r.key.into(),
                count,
                percent: pct(count, total),
                success: None,
                evidence,
                evidence_more,
            }
        })
        .collect();
    (
        "table6",
        json(&Table6 {
            schema_version: SCHEMA_VERSION,
            probed_at,
            total,
            max_addrs,
            active,
            rows,
        }),
    )
}

/// `models.json`: the series of `analyze --out DIR` (`DIR/series/series.json`)
/// and, from `dns rate --json`, the cumulative infected clients of the
/// resolver logs (which then replace the captures' population for
/// equation 1: they see every customer, the captures only the honeynet).
/// `None` when neither is given.
pub fn models_from(
    series: Option<&Value>,
    dns_rate: Option<&Value>,
) -> Result<Option<Out>, ReportError> {
    if series.is_none() && dns_rate.is_none() {
        return Ok(None);
    }
    let mut m: botscope_model::series::ModelSeries = match series {
        Some(v) => {
            serde_json::from_value(v.clone()).map_err(|e| err("series.json", &e.to_string()))?
        }
        None => Default::default(),
    };
    if series.is_some() {
        m.cumulative_source = Some("captures (first stage of each infected host, Fig. 3)".into());
    }
    if let Some(v) = dns_rate {
        let bytes = serde_json::to_vec(v).map_err(|e| err("dns rate output", &e.to_string()))?;
        m.cumulative = botscope_model::series::cumulative_from_dns_rate(&bytes)
            .map_err(|_| err("dns rate output", "infected[].first_us"))?;
        m.cumulative_source =
            Some("resolver logs (first lookup of a watch-listed name per client)".into());
    }
    let mut v = json(&m);
    if let Value::Object(o) = &mut v {
        o.insert("schema_version".into(), Value::from(SCHEMA_VERSION));
    }
    Ok(Some(("models", v)))
}

/// Reads a JSON file for a converter.
pub fn read_json(path: &Path) -> Result<Value, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::InputRead {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ReportError::InputJson {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes each section to `dir/<id>.json` (through a temporary file, so a
/// reader never sees half a file). Returns the files written.
pub fn write_sections(dir: &Path, outs: &[Out]) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (id, v) in outs {
        let name = format!("{id}.json");
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut bytes = serde_json::to_vec_pretty(v)?;
        bytes.push(b'\n');
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, dir.join(&name))?;
        written.push(name);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A hostile `as_of` (i64::MAX seconds) saturates at the last
    /// microsecond timestamp instead of overflowing (a panic in debug
    /// builds, a wrapped date in release ones).
    #[test]
    fn table2_far_future_as_of_saturates() {
        let c =
            json!({"detections": 1, "kinds": 1, "detections_per_day": 1.0, "kinds_per_day": 1.0});
        let v = json!({
            "as_of": i64::MAX, "from": "2024-01-01", "to": "2024-01-31", "days": 31,
            "total": c, "known": c, "unknown": c
        });
        let out = from_table2(&v).unwrap();
        assert_eq!(out[0].1["as_of"], "294247-01-10T04:00:54.775807Z");
    }

    /// The input `report_collect` found (fuzz/artifacts crash-3cc4d9c0):
    /// an analysis with `tz_offset_s` near i64::MAX overflowed the join
    /// hour's arithmetic. An offset beyond a day is now a typed error; one
    /// within a day still places the join in its local hour.
    #[test]
    fn analyze_tz_offset_beyond_a_day_is_refused() {
        let mut v = json!({
            "table7": [], "table8": [], "table9": [], "table10": [], "table11": [],
            "floods": [], "order_commands": [], "orders": [], "relays": [], "sequences": [],
            "fig5": {"bin_upper": [], "sources": [], "percent_le_100": 0.0},
            "joins_per_local_hour": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            "sessions": [{"uid": "S1", "bot": "10.0.0.1", "join": "2005-05-09T18:30:00Z",
                          "role": "bot", "attribution": {"verdict": "cc"}}],
            "tz_offset_s": i64::MAX
        });
        match from_analyze(&v) {
            Err(ReportError::Field { field, .. }) => assert_eq!(field, "tz_offset_s"),
            other => panic!("{:?}", other.map(|o| o.len())),
        }
        // UTC+5: 18:30 UTC is 23:30 local.
        v["tz_offset_s"] = json!(5 * 3600);
        let out = from_analyze(&v).unwrap();
        let diurnal = &out.iter().find(|(id, _)| *id == "diurnal").unwrap().1;
        assert_eq!(diurnal["tz_offset_s"], 18000);
        assert_eq!(
            diurnal["hours"][23]["evidence"][0],
            "session S1 bot 10.0.0.1 joined 2005-05-09T18:30:00.000000Z"
        );
    }
}
