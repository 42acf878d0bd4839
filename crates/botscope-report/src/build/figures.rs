//! The figures and time series: Fig. 3 (stages after infection), Fig. 5
//! (spam requests per source), the orders of Fig. 6–7, the infected clients
//! over time with equation 1 drawn, and the joins by local hour.

use super::*;
use crate::charts;
use crate::study;
use botscope_core::report::*;
use botscope_core::Ts;

pub(crate) fn fig3(sec: &mut Section, t: Fig3) {
    let mut stages: Vec<String> = study::FIG3.iter().map(|s| s.to_string()).collect();
    for q in &t.sequences {
        for s in &q.stages {
            if !stages.contains(&s.stage) && stages.len() < 12 {
                stages.push(s.stage.clone());
            }
        }
    }
    // Study order first, then anything else in first-seen order; `dns`
    // sits before the IRC join where the analysis records it.
    if let Some(i) = stages.iter().position(|s| s == "dns") {
        let dns = stages.remove(i);
        let at = stages
            .iter()
            .position(|s| s == "irc_join")
            .unwrap_or(stages.len());
        stages.insert(at, dns);
    }
    let mut cols = vec![Cell::text("Infected host")];
    cols.extend(stages.iter().map(|s| Cell::keyed(stage_name(s), s.clone())));
    cols.push(Cell::text("Stages"));
    let mut d = Table::new(
        TableKind::Data,
        "Delay of each stage after the first (exploit)",
        cols,
    );
    let mut in_order = 0;
    let mut lanes = Vec::new();
    for q in &t.sequences {
        let mut cells = vec![Cell::keyed(q.bot.clone(), q.bot.clone())];
        for s in &stages {
            match q.stages.iter().find(|x| &x.stage == s) {
                Some(x) => cells.push(Cell::keyed(
                    format!("+{}", fmt_duration(x.delta_s)),
                    num_text(x.delta_s),
                )),
                None => cells.push(Cell::text("")),
            }
        }
        cells.push(Cell::count(q.stages.len() as u64));
        let ev: Vec<String> = q
            .stages
            .iter()
            .map(|x| {
                format!(
                    "{} at {}: {}",
                    stage_name(&x.stage),
                    fmt_time(&x.ts),
                    x.evidence
                )
            })
            .collect();
        let last = cells.len() - 1;
        if d.rows.len() < ROWS_SHOWN {
            d.rows.push(Row::with_evidence(cells, last, &ev, 0));
        }
        // In the study's order: each study stage present comes no earlier
        // than the one before it.
        let times: Vec<f64> = study::FIG3
            .iter()
            .filter_map(|st| q.stages.iter().find(|x| x.stage == *st).map(|x| x.delta_s))
            .collect();
        if times.windows(2).all(|w| w[0] <= w[1]) {
            in_order += 1;
        }
        lanes.push((
            q.bot.clone(),
            q.stages
                .iter()
                .map(|x| (x.stage.clone(), x.delta_s))
                .collect::<Vec<_>>(),
        ));
    }
    d.rows_more = t.sequences.len().saturating_sub(ROWS_SHOWN) as u64;
    sec.remarks.push(format!(
        "{in_order} of {} infected hosts went through the stages in the study's order.",
        t.sequences.len()
    ));
    let names: Vec<&str> = stages.iter().map(String::as_str).collect();
    sec.charts.push(charts::timeline(
        "Fig. 3 — stages per infected host",
        &names,
        &lanes,
    ));
    sec.tables.push(d);
}

pub(crate) fn fig5(sec: &mut Section, t: Fig5) {
    let total: u64 = t.bins.iter().map(|b| b.sources).sum();
    let mut f = facts_table();
    f.rows.push(fact(
        "percent_le_100",
        "Sources with at most 100 requests",
        Cell::percent(t.percent_le_100),
        &fmt_pct(study::FIG5_PERCENT_LE_100),
    ));
    f.rows
        .push(fact("sources", "Spam sources", Cell::count(total), "—"));
    f.rows.push(fact(
        "days",
        "Days observed",
        t.days
            .map(|d| Cell::number(fmt_dec(d, 1), d))
            .unwrap_or_else(Cell::none),
        &num_text(study::FIG5_DAYS),
    ));
    let mut d = Table::new(
        TableKind::Data,
        "",
        heads(&["Requests per source", "Sources", "Share of sources"]),
    );
    let mut bars = Vec::new();
    let mut mark = 0;
    for (i, b) in t.bins.iter().enumerate() {
        let label = match b.upper {
            Some(u) => format!("{}–{}", fmt_int(b.lower as i64), fmt_int(u as i64)),
            None => format!("> {}", fmt_int(b.lower as i64 - 1)),
        };
        if b.upper.is_some_and(|u| u <= 100) {
            mark = i + 1;
        }
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(
                    label.clone(),
                    b.upper.map(|u| u.to_string()).unwrap_or("open".into()),
                ),
                Cell::count(b.sources),
                Cell::percent(b.sources as f64 * 100.0 / total.max(1) as f64),
            ],
            1,
            &b.evidence,
            b.evidence_more,
        ));
        bars.push((label, b.sources as f64));
    }
    sec.remarks.push(format!(
        "{} of sources stayed at or under 100 requests, against 73 % in the study.",
        fmt_pct(t.percent_le_100)
    ));
    sec.charts.push(charts::histogram(
        "Fig. 5 — spam sources by requests sent",
        &bars,
        mark,
        &format!(
            "100 requests: {} at or below (study 73 %)",
            fmt_pct(t.percent_le_100)
        ),
    ));
    sec.tables.push(f);
    sec.tables.push(d);
}

pub(crate) fn orders(sec: &mut Section, t: Orders) {
    let mut d = Table::new(
        TableKind::Data,
        "Orders per command",
        heads(&["Command", "Orders", "Share"]),
    );
    for c in &t.commands {
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(c.label.clone(), c.label.clone()),
                Cell::count(c.count),
                Cell::percent(c.percent),
            ],
            1,
            &c.evidence,
            c.evidence_more,
        ));
    }
    let mut x = Table::new(
        TableKind::Extra,
        "The first orders seen",
        heads(&["Time", "Bot", "Via", "Order"]),
    );
    for o in t.rows.iter().take(50) {
        x.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(fmt_time(&o.ts), o.ts.clone()),
                Cell::text(o.bot.clone()),
                Cell::text(o.via.clone()),
                Cell::text(o.raw.clone()),
            ],
            3,
            &o.evidence,
            0,
        ));
    }
    x.rows_more = (t.rows.len().saturating_sub(50)) as u64 + t.rows_more;
    let mut s = Table::new(
        TableKind::Study,
        "Orders the study observed (Fig. 6)",
        vec![study_head("Order"), study_head("Seen here")],
    );
    for o in study::FIG6 {
        let cmd = o
            .trim_start_matches(['.', '!', '@'])
            .split(' ')
            .next()
            .unwrap_or("");
        let n = t
            .commands
            .iter()
            .find(|c| c.label == cmd)
            .map(|c| c.count)
            .unwrap_or(0);
        let verbatim = t.rows.iter().filter(|r| r.raw.trim() == o).count();
        let seen = match (verbatim, n) {
            (_, 0) => format!("no {cmd} order"),
            (0, n) => format!("not verbatim; {} {cmd} orders", fmt_int(n as i64)),
            (v, n) => format!("{v}× verbatim; {} {cmd} orders", fmt_int(n as i64)),
        };
        s.rows.push(Row::plain(vec![
            Cell::text(o).from_study(),
            Cell::text(seen),
        ]));
    }
    sec.tables.push(d);
    sec.tables.push(x);
    sec.tables.push(s);
}

pub(crate) fn rate_series(sec: &mut Section, t: RateSeries) {
    let sf = botscope_model::observed::fit_rate_series(&t);
    let mut f = facts_table();
    f.rows.push(fact(
        "window_secs",
        "Period length",
        Cell::number(fmt_duration(t.window_secs as f64), t.window_secs as f64),
        "a day",
    ));
    f.rows.push(fact(
        "group",
        "Client group",
        Cell::keyed(t.group.clone(), t.group.clone()),
        "ISP A, ISP B",
    ));
    let mut d = Table::new(
        TableKind::Data,
        "",
        heads(&[
            "Period start",
            "Clients",
            "Infected clients",
            "Deemed infection rate",
            "Fit",
            "Residual",
        ]),
    );
    let pts = &sf.points;
    let t0 = sf.t0();
    let fit = &sf.fit;
    for q in pts.iter().take(ROWS_SHOWN) {
        let p = &t.points[q.index];
        let m = q.infected;
        let model = fit.as_ref().map(|f| f.model.at(q.days));
        d.rows.push(Row::plain(vec![
            Cell::keyed(fmt_time(&p.start), p.start.clone()),
            Cell::count(p.clients),
            Cell::count(p.infected),
            Cell::percent(p.rate * 100.0),
            model
                .map(|v| Cell::number(fmt_dec(v, 1), v))
                .unwrap_or_else(Cell::none),
            model
                .map(|v| Cell::number(fmt_dec(m - v, 1), m - v))
                .unwrap_or_else(Cell::none),
        ]));
    }
    d.rows_more = pts.len().saturating_sub(ROWS_SHOWN) as u64;
    let tick = |x: f64| {
        let s = Ts((x * 1e6) as i64).rfc3339();
        if (x - t0).abs() < 1.0 || s[11..16] == *"00:00" {
            format!("{} {}", &s[5..10], &s[11..16])
        } else {
            s[11..16].to_string()
        }
    };
    let obs: Vec<(f64, f64)> = pts.iter().map(|p| (p.secs, p.infected)).collect();
    match fit {
        Some(fit) => {
            let x1 = pts.last().map(|p| p.secs).unwrap_or(t0);
            let curve: Vec<(f64, f64)> = (0..=200)
                .map(|i| {
                    let x = t0 + (x1 - t0) * i as f64 / 200.0;
                    (x, fit.model.at((x - t0) / 86_400.0))
                })
                .collect();
            let res: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (p.secs, p.infected - fit.model.at(p.days)))
                .collect();
            sec.charts.push(charts::time_series(
                "Infected clients per period, and equation 1 fitted (UTC)",
                "infected clients",
                &obs,
                Some(&curve),
                Some(&res),
                &tick,
            ));
            let peak = pts.iter().map(|p| p.infected).fold(0.0, f64::max);
            if fit.model.capacity() > 10.0 * peak.max(1.0) {
                sec.remarks.push(format!(
                    "Equation 1 fitted: p = {} per day, RMSE {}; the series shows no saturation, so θ (the most infected addresses) is not determined by it — the worm-like logistic growth of equation 1 is not what this field shows.",
                    fmt_dec(fit.model.p, 3),
                    fmt_dec(fit.rmse, 2)
                ));
            } else {
                sec.remarks.push(format!(
                    "Equation 1 fitted: p = {} per day, θ = {}, saturation θ·p = {} clients, RMSE {}.",
                    fmt_dec(fit.model.p, 3),
                    fmt_dec(fit.model.theta, 1),
                    fmt_dec(fit.model.capacity(), 1),
                    fmt_dec(fit.rmse, 2)
                ));
            }
        }
        None => {
            sec.charts.push(charts::time_series(
                "Infected clients per period (UTC)",
                "infected clients",
                &obs,
                None,
                None,
                &tick,
            ));
            sec.remarks
                .push("Equation 1 could not be fitted to this series.".into());
        }
    }
    // Why the fit above is only indicative (issue 20).
    sec.remarks.push(
        "Infected clients per period are not equation 1's M(t), the population infected so far: the models section fits equation 1 to the cumulative infected clients (models.json) with 95 % intervals.".into(),
    );
    sec.tables.push(f);
    sec.tables.push(d);
}

pub(crate) fn diurnal(sec: &mut Section, t: Diurnal) {
    let off = t.tz_offset_s;
    let zone = format!(
        "UTC{}{:02}:{:02}",
        if off < 0 { '−' } else { '+' },
        off.abs() / 3600,
        off.abs() % 3600 / 60
    );
    let mut d = Table::new(
        TableKind::Data,
        &format!("Local time is {zone}"),
        heads(&["Local hour", "IRC joins", "Share of joins"]),
    );
    let total: u64 = t.hours.iter().map(|h| h.joins).sum();
    let mut hours = vec![0u64; 24];
    for h in &t.hours {
        if (h.hour as usize) < 24 {
            hours[h.hour as usize] = h.joins;
        }
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(
                    format!("{:02}:00–{:02}:00", h.hour, (h.hour + 1) % 24),
                    h.hour.to_string(),
                ),
                Cell::count(h.joins),
                Cell::percent(h.joins as f64 * 100.0 / total.max(1) as f64),
            ],
            1,
            &h.evidence,
            h.evidence_more,
        ));
    }
    let day: u64 = hours[8..20].iter().sum();
    let mut f = facts_table();
    f.rows.push(fact(
        "daytime",
        "Joins in local daytime (08–20 h)",
        Cell::percent(day as f64 * 100.0 / total.max(1) as f64),
        "most: joins peak in the victims' daytime",
    ));
    let peak = (0..24)
        .max_by_key(|&h| (hours[h], std::cmp::Reverse(h)))
        .unwrap_or(0);
    f.rows.push(fact(
        "peak_hour",
        "Busiest hour",
        Cell::keyed(
            format!("{peak:02}:00–{:02}:00", (peak + 1) % 24),
            peak.to_string(),
        ),
        "daytime",
    ));
    sec.charts.push(charts::clock(
        "IRC joins by local hour",
        &hours,
        &format!("local time {zone}; {} joins", fmt_int(total as i64)),
    ));
    sec.tables.push(f);
    sec.tables.push(d);
}
