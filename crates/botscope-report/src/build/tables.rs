//! Tables 1–11 of the study laid out from their data files.

use super::*;
use crate::charts;
use crate::study::{self, StudyRow};
use botscope_core::report::*;
use botscope_core::Ts;

pub(crate) fn table1(sec: &mut Section, t: Table1) {
    let mut f = facts_table();
    f.rows.push(fact(
        "addresses",
        "Honeypot addresses",
        Cell::count(t.addresses),
        &study::table1::ADDRESSES.to_string(),
    ));
    f.rows.push(fact(
        "start",
        "Observed from",
        Cell::keyed(
            t.start.as_deref().map(fmt_time).unwrap_or("—".into()),
            t.start.clone().unwrap_or_default(),
        ),
        "2005",
    ));
    f.rows.push(fact(
        "window_secs",
        "Observation window",
        Cell::number(fmt_duration(t.window_secs), t.window_secs),
        "—",
    ));
    f.rows.push(fact(
        "bytes",
        "Received in all",
        Cell::number(
            format!(
                "{} bytes in {} packets",
                fmt_int(t.bytes as i64),
                fmt_int(t.packets as i64)
            ),
            t.bytes as f64,
        ),
        "—",
    ));
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("Average per address", "avg_kbps_per_address"),
            Cell::number(
                format!("{} kbps", fmt_dec(t.avg_kbps_per_address, 2)),
                t.avg_kbps_per_address,
            ),
            Cell::text(format!("{} kbps", study::table1::AVG_KBPS)).from_study(),
        ],
        1,
        &t.evidence,
        0,
    ));
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("Peak per address (busiest minute)", "peak_kbps_per_address"),
            Cell::number(
                format!("{} kbps", fmt_dec(t.peak_kbps_per_address, 2)),
                t.peak_kbps_per_address,
            ),
            Cell::text(format!("{} kbps", study::table1::PEAK_KBPS)).from_study(),
        ],
        1,
        &t.evidence,
        0,
    ));
    let n = fmt_int(t.extrapolate_to as i64);
    f.rows.push(fact(
        "extrapolated_avg_gbps",
        &format!("Average over {n} addresses"),
        Cell::number(
            format!("{} Gbps", fmt_dec(t.extrapolated_avg_gbps, 1)),
            t.extrapolated_avg_gbps,
        ),
        &format!(
            "{} Gbps over {}",
            study::table1::AVG_GBPS,
            fmt_int(study::table1::EXTRAPOLATE_TO as i64)
        ),
    ));
    f.rows.push(fact(
        "extrapolated_peak_gbps",
        &format!("Peak over {n} addresses"),
        Cell::number(
            format!("{} Gbps", fmt_dec(t.extrapolated_peak_gbps, 1)),
            t.extrapolated_peak_gbps,
        ),
        &format!("{} Gbps", study::table1::PEAK_GBPS),
    ));
    let ratio = t.avg_kbps_per_address / study::table1::AVG_KBPS;
    sec.remarks.push(format!(
        "Each address here received {} the study's average background traffic.",
        if (0.9..=1.1).contains(&ratio) {
            "about".to_string()
        } else {
            format!("{:.1} ×", ratio)
        }
    ));
    sec.tables.push(f);
}

pub(crate) fn table2(sec: &mut Section, t: Table2) {
    let mut f = facts_table();
    let days = if t.days == 1 { "day" } else { "days" };
    f.rows.push(fact(
        "period",
        "Period",
        Cell::keyed(
            format!("{} – {} ({} {days})", t.from, t.to, t.days),
            format!("{}..{}", t.from, t.to),
        ),
        &format!("{} ({} days)", study::table2::PERIOD, study::table2::DAYS),
    ));
    f.rows.push(fact(
        "days",
        "Days",
        Cell::count(t.days),
        &study::table2::DAYS.to_string(),
    ));
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("Known means detected by signatures released by", "as_of"),
            Cell::keyed(fmt_time(&t.as_of), t.as_of.clone()),
            Cell::text("an always-updated antivirus").from_study(),
        ],
        1,
        &t.evidence,
        0,
    ));
    sec.tables.push(f);
    let mut d = Table::new(
        TableKind::Data,
        "Detections (specimens caught) and kinds (distinct specimens)",
        vec![
            Cell::text("Specimens"),
            Cell::text("Detections"),
            Cell::text("Kinds"),
            Cell::text("Detections per day"),
            Cell::text("Kinds per day"),
            study_head("Study: detections"),
            study_head("Study: kinds"),
            study_head("Study: per day (detections / kinds)"),
        ],
    );
    let total = t.total.detections.max(1) as f64;
    let total_k = t.total.kinds.max(1) as f64;
    for (key, name, c, s) in [
        ("total", "Total", &t.total, study::table2::TOTAL),
        (
            "known",
            "Known to antivirus",
            &t.known,
            study::table2::KNOWN,
        ),
        (
            "unknown",
            "Unknown to antivirus",
            &t.unknown,
            study::table2::UNKNOWN,
        ),
    ] {
        let pd = c.detections as f64 * 100.0 / total;
        let pk = c.kinds as f64 * 100.0 / total_k;
        let (det_text, kind_text) = if key == "total" {
            (fmt_int(c.detections as i64), fmt_int(c.kinds as i64))
        } else {
            (
                format!("{} ({})", fmt_int(c.detections as i64), fmt_pct(pd)),
                format!("{} ({})", fmt_int(c.kinds as i64), fmt_pct(pk)),
            )
        };
        let sp = |a: u64, b: u64| {
            format!(
                "{} ({})",
                fmt_int(a as i64),
                fmt_pct(a as f64 * 100.0 / b as f64)
            )
        };
        let (sd, sk) = if key == "total" {
            (fmt_int(s.0 as i64), fmt_int(s.1 as i64))
        } else {
            (
                sp(s.0, study::table2::TOTAL.0),
                sp(s.1, study::table2::TOTAL.1),
            )
        };
        d.rows.push(Row::plain(vec![
            Cell::keyed(name, key),
            Cell::number(det_text, c.detections as f64),
            Cell::number(kind_text, c.kinds as f64),
            Cell::number(fmt_dec(c.detections_per_day, 1), c.detections_per_day),
            Cell::number(fmt_dec(c.kinds_per_day, 1), c.kinds_per_day),
            Cell::text(sd).from_study(),
            Cell::text(sk).from_study(),
            Cell::text(format!("{:.1} / {:.1}", s.2, s.3)).from_study(),
        ]));
    }
    sec.remarks.push(format!(
        "Known to antivirus: {} of detections (study about 89 %), {} of kinds (study about 21 %).",
        fmt_pct(t.known.detections as f64 * 100.0 / total),
        fmt_pct(t.known.kinds as f64 * 100.0 / total_k)
    ));
    sec.tables.push(d);
}

pub(crate) fn table3(sec: &mut Section, t: Table3) {
    let mut d = Table::new(
        TableKind::Data,
        "",
        vec![
            Cell::text("ISP (client group)"),
            Cell::text("Period"),
            Cell::text("Clients"),
            Cell::text("Infected clients"),
            Cell::text("Deemed infection rate"),
            Cell::text("Suspected (generated names, unconfirmed)"),
            study_head("Study (2005)"),
        ],
    );
    for r in t.rows.iter().take(ROWS_SHOWN) {
        let period = match (&r.start, &r.end) {
            (Some(a), Some(b)) => format!("{} – {}", fmt_time(a), fmt_time(b)),
            _ => "whole run".into(),
        };
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(r.group.clone(), r.group.clone()),
                Cell::keyed(period, r.start.clone().unwrap_or_default()),
                Cell::count(r.clients),
                Cell::count(r.infected),
                Cell::percent(r.rate * 100.0),
                // A separate tier: never part of the infected count or the rate.
                Cell::count(r.suspected),
                Cell::text("ISP A 2.64 %, 2.10 %; ISP B 2.44 %").from_study(),
            ],
            3,
            &r.evidence,
            r.evidence_more,
        ));
    }
    d.rows_more = t.rows.len().saturating_sub(ROWS_SHOWN) as u64;
    let mut s = Table::new(
        TableKind::Study,
        "The study's Table 3",
        vec![
            study_head("ISP"),
            study_head("Day"),
            study_head("Deemed infection rate"),
        ],
    );
    for (isp, day, rate) in study::TABLE3 {
        s.rows.push(Row::plain(vec![
            Cell::text(isp).from_study(),
            Cell::text(day).from_study(),
            Cell::number(format!("{rate:.2} %"), rate).from_study(),
        ]));
    }
    if t.counting != "exact" {
        sec.remarks.push(format!(
            "Counted approximately ({}), relative standard error {}.",
            t.counting,
            t.relative_error
                .map(|e| fmt_pct(e * 100.0))
                .unwrap_or("not stated".into())
        ));
    }
    if let Some(r) = t.rows.first() {
        sec.remarks.push(format!(
            "{} here against 2.10–2.64 % in the study: {}.",
            fmt_pct(r.rate * 100.0),
            if r.rate * 100.0 > 2.64 {
                "more infected customers than any ISP the study measured"
            } else if r.rate * 100.0 < 2.10 {
                "fewer infected customers than any ISP the study measured"
            } else {
                "within the study's range"
            }
        ));
    }
    sec.tables.push(d);
    sec.tables.push(s);
}

pub(crate) fn table4(sec: &mut Section, t: Table4) {
    let (sb, sm, sp) = study::TABLE4;
    let mut f = facts_table();
    f.rows.push(fact(
        "examined",
        "Specimens examined (most caught first)",
        Cell::count(t.examined),
        &sb.to_string(),
    ));
    f.rows.push(fact(
        "bots",
        "Bots with a readable configuration",
        Cell::count(t.bots),
        &sb.to_string(),
    ));
    let pct = t.several_fqdns as f64 * 100.0 / t.bots.max(1) as f64;
    let ev: Vec<String> = t
        .several
        .iter()
        .map(|b| {
            format!(
                "{} (seen {}×): {}",
                &b.sha256[..b.sha256.len().min(16)],
                b.sightings,
                b.fqdns.join(", ")
            )
        })
        .collect();
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("With more than one IRC server FQDN", "several_fqdns"),
            Cell::number(
                format!("{} ({})", fmt_int(t.several_fqdns as i64), fmt_pct(pct)),
                t.several_fqdns as f64,
            ),
            Cell::text(format!("{sm} ({})", fmt_pct(sp))).from_study(),
        ],
        1,
        &ev,
        t.several_more,
    ));
    f.rows.push(fact(
        "one_fqdn",
        "With exactly one FQDN",
        Cell::count(t.one_fqdn),
        "—",
    ));
    f.rows.push(fact(
        "ip_only",
        "Naming servers by address only",
        Cell::count(t.ip_only),
        "—",
    ));
    sec.tables.push(f);
    let mut d = Table::new(
        TableKind::Data,
        "Bots by number of server FQDNs",
        vec![Cell::text("Server FQDNs per bot"), Cell::text("Bots")],
    );
    for c in &t.by_fqdn_count {
        d.rows.push(Row::plain(vec![
            Cell::keyed(c.fqdns.to_string(), c.fqdns.to_string()),
            Cell::count(c.bots),
        ]));
    }
    sec.remarks.push(format!(
        "{} of bots carry several servers, against 19 % in the study.",
        fmt_pct(pct)
    ));
    sec.tables.push(d);
    // Outputs written before the de-obfuscation stage carry no records.
    if t.deobfuscation.specimens > 0 {
        sec.remarks.push(deobfuscation_remark(&t.deobfuscation));
        sec.tables.push(deobfuscation_table(&t.deobfuscation));
    }
}

/// The remark under Table 4 on what decoding revealed.
fn deobfuscation_remark(d: &Deobfuscation) -> String {
    format!(
        "De-obfuscation: a decoder matched in {} of {} specimens; {} indicators were revealed only by decoding.",
        fmt_int(d.matched as i64),
        fmt_int(d.specimens as i64),
        fmt_int(d.revealed_iocs as i64)
    )
}

/// The small table under Table 4: per decoder that matched, the specimens
/// and the names revealed only by decoding, then the totals.
fn deobfuscation_table(d: &Deobfuscation) -> Table {
    let mut t = Table::new(
        TableKind::Data,
        "De-obfuscation: decoders that matched, specimens, names revealed only by decoding",
        vec![
            Cell::text("Decoder"),
            Cell::text("Specimens"),
            Cell::text("Names revealed only by decoding"),
        ],
    );
    for m in &d.decoders {
        t.rows.push(Row::plain(vec![
            Cell::keyed(m.decoder.clone(), format!("deobf_{}", m.decoder)),
            Cell::count(m.specimens),
            Cell::count(m.revealed_iocs),
        ]));
    }
    t.rows.push(Row::plain(vec![
        Cell::keyed("Any decoder", "deobf_any"),
        Cell::count(d.matched),
        Cell::count(d.revealed_iocs),
    ]));
    t
}

/// Column names of a share table: (label column, unit).
pub(crate) fn share_words(id: &str) -> (&'static str, &'static str) {
    match id {
        "table5" => ("Kind of domain", "FQDNs"),
        "table6" => ("DNS state", "FQDNs"),
        "table7" => ("Exploit vector", "Attempts"),
        "table8" => ("How the binary is copied", "Copies"),
        "table9" => ("IRC server port", "Sessions"),
        "table11" => ("Redirect port on the bot", "Relay requests"),
        _ => ("", "Count"),
    }
}

/// `Attempts` → `attempts`, but `FQDNs` stays.
pub(crate) fn lower_word(w: &str) -> String {
    let mut c = w.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if b.is_lowercase() => a.to_lowercase().chain([b]).chain(c).collect(),
        _ => w.to_string(),
    }
}

/// A table of counts beside the study's: label, measured count and share,
/// the study's count and share, the difference in percentage points.
pub(crate) fn share_section(sec: &mut Section, t: &ShareTable) {
    let id = sec.id.clone();
    let (label, unit) = share_words(&id);
    let published = study::rows_of(&id);
    let has_success = t.rows.iter().any(|r| r.success.is_some());
    let mut cols = vec![
        Cell::text(label),
        Cell::text(format!("Measured {}", lower_word(unit))),
        Cell::text("Measured share"),
    ];
    if has_success {
        cols.push(Cell::text("Complete copies"));
    }
    cols.extend([
        study_head(&format!("Study {}", lower_word(unit))),
        study_head("Study share"),
        Cell::text("Difference"),
    ]);
    let mut d = Table::new(TableKind::Data, "", cols);
    let mut bars = Vec::new();
    let find = |key: &str| published.iter().find(|s| s.key == key);
    let words = |r: &StudyRow| r.label.to_string();
    let mut others_measured = 0.0;
    for r in t.rows.iter().take(ROWS_SHOWN) {
        let s = find(&r.label);
        let name = s.map(words).unwrap_or_else(|| r.label.clone());
        if s.is_none() {
            others_measured += r.percent;
        }
        let mut cells = vec![
            Cell::keyed(name.clone(), r.label.clone()),
            Cell::count(r.count),
            Cell::percent(r.percent),
        ];
        if has_success {
            cells.push(r.success.map(Cell::count).unwrap_or_else(Cell::none));
        }
        cells.extend([
            s.and_then(|s| s.count)
                .map(|c| Cell::count(c).from_study())
                .unwrap_or_else(|| Cell::none().from_study()),
            s.and_then(|s| s.percent)
                .map(|p| Cell::percent(p).from_study())
                .unwrap_or_else(|| Cell::none().from_study()),
            diff_cell(Some(r.percent), s.and_then(|s| s.percent)),
        ]);
        d.rows
            .push(Row::with_evidence(cells, 1, &r.evidence, r.evidence_more));
        bars.push((name, Some(r.percent), s.and_then(|s| s.percent)));
    }
    d.rows_more = t.rows.len().saturating_sub(ROWS_SHOWN) as u64;
    // The study's rows this field has no count for.
    let mut s = Table::new(
        TableKind::Study,
        "In the study, not seen here",
        vec![
            study_head(label),
            study_head(&format!("Study {}", lower_word(unit))),
            study_head("Study share"),
        ],
    );
    for p in published {
        if !t.rows.iter().any(|r| r.label == p.key) {
            if p.key == "others" {
                bars.push((p.label.into(), Some(others_measured), p.percent));
            } else {
                bars.push((p.label.into(), None, p.percent));
            }
            s.rows.push(Row::plain(vec![
                Cell::keyed(p.label, p.key),
                p.count
                    .map(|c| Cell::count(c).from_study())
                    .unwrap_or_else(|| Cell::none().from_study()),
                p.percent
                    .map(|x| Cell::percent(x).from_study())
                    .unwrap_or_else(|| Cell::none().from_study()),
            ]));
        }
    }
    let mut f = facts_table();
    let study_total = match id.as_str() {
        "table5" => Some(study::TABLE5_TOTAL),
        "table6" => Some(study::TABLE6_TOTAL),
        "table7" => Some(study::TABLE7_TOTAL),
        "table8" => Some(study::TABLE8_TOTAL),
        "table9" => Some(study::TABLE9_TOTAL),
        _ => None,
    };
    f.rows.push(fact(
        "total",
        &format!("{unit} in all"),
        Cell::count(t.total),
        &study_total.map(|n| fmt_int(n as i64)).unwrap_or("—".into()),
    ));
    // The largest gap from the study, in words.
    if let Some((name, m, s)) = bars
        .iter()
        .filter_map(|(n, m, s)| Some((n, m.unwrap_or(0.0), (*s)?)))
        .max_by(|a, b| (a.1 - a.2).abs().total_cmp(&(b.1 - b.2).abs()))
    {
        sec.remarks.push(format!(
            "Largest difference from the study: {name}, {} here against {} in 2005.",
            fmt_pct(m),
            fmt_pct(s)
        ));
    }
    sec.tables.insert(0, f);
    sec.tables.push(d);
    if !s.rows.is_empty() {
        sec.tables.push(s);
    }
    sec.charts.push(charts::paired_bars(
        &format!("{} — share measured and in the study", label),
        &bars,
    ));
}

pub(crate) fn table6(sec: &mut Section, t: Table6) {
    let st = ShareTable {
        schema_version: t.schema_version,
        total: t.total,
        rows: t.rows.clone(),
    };
    share_section(sec, &st);
    if let Some(f) = sec.tables.iter_mut().find(|x| x.kind == TableKind::Facts) {
        f.rows.push(fact(
            "max_addrs",
            "Most addresses behind one name",
            Cell::count(t.max_addrs),
            "5",
        ));
        f.rows.push(fact(
            "probed_at",
            "Probed",
            Cell::keyed(
                t.probed_at.as_deref().map(fmt_time).unwrap_or("—".into()),
                t.probed_at.clone().unwrap_or_default(),
            ),
            "2005",
        ));
    }
    if !t.active {
        sec.remarks.push(
            "Reachability was not tested (run `botscope intel probe --active` to fill that row)."
                .into(),
        );
    }
}

pub(crate) fn table10(sec: &mut Section, t: Table10) {
    let mut d = Table::new(
        TableKind::Data,
        "",
        vec![
            Cell::text("Command"),
            study_head("What it does (study)"),
            Cell::text("Orders seen"),
            Cell::text("Share of orders"),
            Cell::text("Floods seen"),
        ],
    );
    let mut keys: Vec<String> = t.rows.iter().map(|r| r.label.clone()).collect();
    for s in study::TABLE10 {
        if !keys.iter().any(|k| k == s.key) {
            keys.push(s.key.into());
        }
    }
    for k in &keys {
        let r = t.rows.iter().find(|r| &r.label == k);
        let floods: Vec<&Flood> = t.floods.iter().filter(|f| &f.command == k).collect();
        let cells = vec![
            Cell::keyed(k.clone(), k.clone()),
            Cell::text(study::label_of("table10", k).unwrap_or("not in Phatbot's list"))
                .from_study(),
            r.map(|r| Cell::count(r.count)).unwrap_or_else(Cell::none),
            r.map(|r| Cell::percent(r.percent))
                .unwrap_or_else(Cell::none),
            Cell::count(floods.len() as u64),
        ];
        match r {
            Some(r) => d
                .rows
                .push(Row::with_evidence(cells, 2, &r.evidence, r.evidence_more)),
            None => d.rows.push(Row::plain(cells)),
        }
    }
    let mut fl = Table::new(
        TableKind::Extra,
        "Floods seen leaving the bots",
        heads(&["Command", "Bot", "Target", "Started", "Lasted", "Packets"]),
    );
    for f in t.floods.iter().take(ROWS_SHOWN) {
        let dur = match (Ts::parse_rfc3339(&f.start), Ts::parse_rfc3339(&f.end)) {
            (Some(a), Some(b)) => (b.0 - a.0) as f64 / 1e6,
            _ => 0.0,
        };
        fl.rows.push(Row::with_evidence(
            vec![
                Cell::text(f.command.clone()),
                Cell::text(f.source.clone()),
                Cell::text(format!("{}:{}", f.target, f.port)),
                Cell::keyed(fmt_time(&f.start), f.start.clone()),
                Cell::number(fmt_duration(dur), dur),
                Cell::count(f.packets),
            ],
            5,
            &f.evidence,
            0,
        ));
    }
    fl.rows_more = t.floods.len().saturating_sub(ROWS_SHOWN) as u64;
    let syn = t
        .floods
        .iter()
        .filter(|f| f.command == "ddos.synflood")
        .count();
    sec.remarks.push(format!(
        "{syn} of {} floods seen were SYN floods (the study saw only SYN floods).",
        t.floods.len()
    ));
    sec.tables.push(d);
    if !fl.rows.is_empty() {
        sec.tables.push(fl);
    }
}

/// Table 9's command channels beyond IRC (issue 20): one row per HTTP C&C
/// server, then the P2P C&C hosts with their peers.
pub(crate) fn channels(sec: &mut Section, c: &CommandChannels) {
    let mut h = Table::new(
        TableKind::Data,
        "HTTP C&C servers (polled by the bots)",
        heads(&[
            "Host",
            "Port",
            "URI shape",
            "Bots",
            "Polls",
            "Interval (s)",
            "Orders",
            "Commands",
        ]),
    );
    for r in &c.http {
        h.rows.push(Row::plain(vec![
            Cell::keyed(r.host.clone(), r.host.clone()),
            Cell::count(u64::from(r.port)),
            Cell::text(r.uri_shape.clone()),
            Cell::count(r.bots),
            Cell::count(r.polls),
            r.interval_s
                .map(|i| Cell::number(format!("{i:.1}"), i))
                .unwrap_or_else(Cell::none),
            Cell::count(r.orders),
            Cell::text(r.commands.join(", ")),
        ]));
    }
    sec.tables.push(h);
    let mut p = Table::new(
        TableKind::Data,
        "P2P C&C hosts and their peers",
        heads(&["Host", "Protocols", "Peers", "P2P only", "Why"]),
    );
    for r in &c.p2p {
        p.rows.push(Row::plain(vec![
            Cell::keyed(r.host.clone(), r.host.clone()),
            Cell::text(r.protocols.join(", ")),
            Cell::text(r.peers.join(" ")),
            Cell::text(if r.p2p_only { "yes" } else { "no" }),
            Cell::text(r.reason.clone()),
        ]));
    }
    sec.tables.push(p);
    let only = c.p2p.iter().filter(|r| r.p2p_only).count();
    sec.remarks.push(format!(
        "{} HTTP C&C servers; {} P2P C&C hosts, {only} of them with no other C&C — counting infected hosts by resolver logs (Table 3) misses those.",
        c.http.len(),
        c.p2p.len()
    ));
}
