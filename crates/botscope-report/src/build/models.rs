//! The models section: the fits [`botscope_model::observed`] makes on the
//! data files, drawn as a parameter table.

use super::*;
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
    let mut d = Table::new(
        TableKind::Data,
        "",
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
    if !d.rows.is_empty() {
        sec.status = Status::Data;
        sec.tables.push(d);
    } else {
        sec.status = Status::Unavailable(
            "nothing to fit: rate_series.json, table10.json and table11.json have no usable data"
                .into(),
        );
    }
    sec
}
