//! The models section: the fits [`botscope_model::fits`] makes on
//! `models.json` (equations 1–4 with 95 % intervals, each drawn as its
//! data points, fitted curve and residuals) and the older per-table rates
//! of [`botscope_model::observed`]; the report only draws them.

use super::*;
use crate::charts;
use botscope_core::report::*;

/// Models fitted to the data: equation 1 on the infected-client series,
/// P of equation 3 from the floods, F of equation 4 from the relays.
pub(crate) fn model_section(data: &DataFolder) -> Section {
    let mut sec = Section::new(
        "model",
        "Models — equations 1–4 fitted to the data",
        "Equation 1 (logistic worm spread) dM/dt = (1/θ)·M·(θp − M); bots spread linearly when ordered; DDoS effect S = M·P·E (eq. 3), spam rate S = M·F (eq. 4). Updates: 3.4 per infected address per day.",
        "botscope report collect --rate-series series.json --analysis analysis/report.json --data DATA",
    );
    let observed = observed_fits(data, &mut sec);
    let mut d = Table::new(
        TableKind::Data,
        if observed {
            "Fitted to the report's tables: per-period counts, floods and relays one bot each"
        } else {
            ""
        },
        heads(&["Equation", "Parameter", "Value", "Fitted to"]),
    );
    if let Loaded::Data(t) = load::<RateSeries>(data, "rate_series") {
        let sf = botscope_model::observed::fit_rate_series(&t);
        let src = format!("rate_series.json ({} periods)", sf.points.len());
        if let Some(fit) = sf.fit {
            for (k, p, v) in [
                ("p", "p, infection rate (per day)", fit.model.p),
                ("theta", "θ, most infected addresses", fit.model.theta),
                ("m0", "M₀, infected at the start", fit.model.m0),
                ("capacity", "θ·p, saturation", fit.model.capacity()),
                ("rmse", "RMSE (clients)", fit.rmse),
            ] {
                d.rows.push(Row::plain(vec![
                    Cell::text("1 — logistic"),
                    Cell::keyed(p, k),
                    Cell::number(fmt_dec(v, 3), v),
                    Cell::text(src.clone()),
                ]));
            }
        }
    }
    if let Loaded::Data(t) = load::<Table10>(data, "table10") {
        if let Some(r) = botscope_model::observed::fit_floods(&t) {
            d.rows.push(Row::plain(vec![
                Cell::text("3 — DDoS"),
                Cell::keyed("P, packets per bot per second", "P"),
                Cell::number(fmt_dec(r.rate, 1), r.rate),
                Cell::text(format!("table10.json ({} floods)", r.n)),
            ]));
        }
    }
    if let Loaded::Data(t) = load::<Table11>(data, "table11") {
        if let Some(r) = botscope_model::observed::fit_relays(&t) {
            d.rows.push(Row::plain(vec![
                Cell::text("4 — spam"),
                Cell::keyed("F, mails per bot per second", "F"),
                Cell::number(fmt_dec(r.rate, 3), r.rate),
                Cell::text(format!("table11.json ({} relays)", r.n)),
            ]));
        }
    }
    if !d.rows.is_empty() || observed {
        sec.status = Status::Data;
        if !d.rows.is_empty() {
            sec.tables.push(d);
        }
    } else {
        sec.status = Status::Unavailable(
            "nothing to fit: rate_series.json, table10.json and table11.json have no usable data"
                .into(),
        );
    }
    sec
}

/// Most points drawn in one model chart.
const DRAWN: usize = 2_000;

/// Draws every fit `models.json` allows: a parameter table with 95 %
/// intervals and a chart of points, fit and residuals per equation.
/// Returns whether there was anything to draw.
fn observed_fits(data: &DataFolder, sec: &mut Section) -> bool {
    let Loaded::Data(series) = load::<botscope_model::series::ModelSeries>(data, "models") else {
        return false;
    };
    let fits = botscope_model::fits::fit_all(&series);
    for f in &fits {
        sec.tables.push(fit_table(f));
        if !f.waves.is_empty() {
            sec.tables.push(wave_table(&f.waves));
        }
        // Charts take seconds on x: hours (equations 1 and 4) are scaled.
        let scale = if f.x_label.starts_with("hours") {
            3600.0
        } else {
            1.0
        };
        // At most DRAWN points are drawn (evenly chosen): a chart of every
        // flood of a large field would outweigh the report.
        let step = f.points.len().div_ceil(DRAWN).max(1);
        let drawn: Vec<&botscope_model::fits::FitPoint> = f.points.iter().step_by(step).collect();
        let pts: Vec<(f64, f64)> = drawn.iter().map(|p| (p.x * scale, p.y)).collect();
        let curve: Vec<(f64, f64)> = f.curve.iter().map(|(x, y)| (x * scale, *y)).collect();
        let res: Vec<(f64, f64)> = drawn.iter().map(|p| (p.x * scale, p.residual())).collect();
        if step > 1 {
            sec.remarks.push(format!(
                "Equation {}: the chart draws every {step}th of its {} points.",
                f.equation,
                f.points.len()
            ));
        }
        let tick = |x: f64| fmt_duration(x);
        let label = format!("equation {} fitted", f.equation);
        sec.charts.push(charts::fitted_series(
            &format!(
                "Equation {}: {} against {}",
                f.equation, f.y_label, f.x_label
            ),
            &f.y_label,
            &pts,
            Some((&curve, &label)),
            Some(&res),
            &tick,
        ));
        for n in &f.notes {
            sec.remarks.push(format!("Equation {}: {n}.", f.equation));
        }
    }
    !fits.is_empty()
}

/// One equation's parameters with their 95 % intervals.
fn fit_table(f: &botscope_model::fits::ObservedFit) -> Table {
    let mut t = Table::new(
        TableKind::Data,
        &format!(
            "{} — {} points, {} degrees of freedom, RMSE {}",
            f.title,
            f.n,
            f.dof,
            fmt_dec(f.rmse, 3)
        ),
        heads(&[
            "Equation",
            "Parameter",
            "Value",
            "95 % interval",
            "Standard error",
        ]),
    );
    let num = |v: Option<f64>| {
        v.map(|v| Cell::number(num_text(v), v))
            .unwrap_or_else(Cell::none)
    };
    for p in &f.params {
        let interval = match (p.lo, p.hi) {
            (Some(lo), Some(hi)) => Cell::keyed(
                format!("{} – {}", num_text(lo), num_text(hi)),
                format!("{lo},{hi}"),
            ),
            _ => Cell::none(),
        };
        t.rows.push(Row::plain(vec![
            Cell::text(format!("{}", f.equation)),
            Cell::keyed(p.name.clone(), p.key.clone()),
            Cell::number(num_text(p.value), p.value),
            interval,
            num(p.stderr),
        ]));
    }
    t
}

/// Equation 2 per wave: each burst fitted inside its order's bounds.
fn wave_table(waves: &[botscope_model::fits::WaveFit]) -> Table {
    let mut t = Table::new(
        TableKind::Data,
        "Equation 2 per scan wave: P(t) = r·min(t − a, L) fitted with L ≤ max t_A and r ≤ threads/delay",
        heads(&[
            "Order",
            "Bot",
            "Command",
            "r (probes/s)",
            "95 % interval",
            "L (s)",
            "max t_A (s)",
            "threads/delay",
            "Held at a bound",
        ]),
    );
    let opt = |v: Option<f64>| {
        v.map(|v| Cell::number(num_text(v), v))
            .unwrap_or_else(|| Cell::text("—"))
    };
    for w in waves.iter().take(ROWS_SHOWN) {
        let interval = match (w.r.lo, w.r.hi) {
            (Some(lo), Some(hi)) => Cell::keyed(
                format!("{} – {}", num_text(lo), num_text(hi)),
                format!("{lo},{hi}"),
            ),
            _ => Cell::none(),
        };
        t.rows.push(Row::plain(vec![
            Cell::count(w.order as u64),
            Cell::keyed(w.bot.clone(), w.bot.clone()),
            Cell::keyed(w.command.clone(), w.command.clone()),
            Cell::number(num_text(w.r.value), w.r.value),
            interval,
            Cell::number(num_text(w.length_s.value), w.length_s.value),
            opt(w.max_ta_s),
            opt(w.rate_cap),
            Cell::keyed(
                if w.at_bound { "yes" } else { "no" },
                w.at_bound.to_string(),
            ),
        ]));
    }
    t.rows_more = waves.len().saturating_sub(ROWS_SHOWN) as u64;
    t
}
