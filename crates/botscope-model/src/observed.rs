//! Fits to the report's data files: the models of §7.1 applied to what the
//! analyses wrote (`rate_series.json`, `table10.json`, `table11.json`).
//! The report calls these and only draws their results; every fitting
//! decision (time origin, units, which rows count) is made here.

use crate::{fit_logistic, fit_rate, LogisticFit, RateFit, Window};
use botscope_core::report::{RateSeries, Table10, Table11};
use botscope_core::Ts;

/// Seconds in a day: the time unit of the equation-1 fit on rate series.
pub const DAY_SECS: f64 = 86_400.0;

/// One period of a rate series placed on the fit's time axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesPoint {
    /// Index of the period in the series' `points`.
    pub index: usize,
    /// Period start, Unix seconds.
    pub secs: f64,
    /// Days since the first period (the fit's time axis).
    pub days: f64,
    /// Infected clients in the period.
    pub infected: f64,
}

/// Equation 1 fitted to a rate series, with the points it was fitted to.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesFit {
    /// The periods whose start parses, in series order.
    pub points: Vec<SeriesPoint>,
    /// The fit, when one could be made.
    pub fit: Option<LogisticFit>,
}

impl SeriesFit {
    /// Unix seconds of the first period (0 when there is none).
    pub fn t0(&self) -> f64 {
        self.points.first().map(|p| p.secs).unwrap_or(0.0)
    }

    /// The fitted M at Unix time `secs`, if fitted.
    pub fn model_at_secs(&self, secs: f64) -> Option<f64> {
        self.fit
            .as_ref()
            .map(|f| f.model.at((secs - self.t0()) / DAY_SECS))
    }
}

/// Fits equation 1 to the infected clients per period of `series`
/// (time in days since the first period).
pub fn fit_rate_series(series: &RateSeries) -> SeriesFit {
    let mut points = Vec::with_capacity(series.points.len());
    for (index, p) in series.points.iter().enumerate() {
        if let Some(ts) = Ts::parse_rfc3339(&p.start) {
            points.push(SeriesPoint {
                index,
                secs: ts.as_secs_f64(),
                days: 0.0,
                infected: p.infected as f64,
            });
        }
    }
    let t0 = points.first().map(|p| p.secs).unwrap_or(0.0);
    for p in &mut points {
        p.days = (p.secs - t0) / DAY_SECS;
    }
    let days: Vec<f64> = points.iter().map(|p| p.days).collect();
    let ms: Vec<f64> = points.iter().map(|p| p.infected).collect();
    let fit = fit_logistic(&days, &ms).ok();
    SeriesFit { points, fit }
}

/// P of equation 3 (packets per bot per second) from the floods of
/// Table 10, each flood one bot over its duration.
pub fn fit_floods(t: &Table10) -> Option<RateFit> {
    let windows: Vec<Window> = t
        .floods
        .iter()
        .filter_map(|f| {
            let a = Ts::parse_rfc3339(&f.start)?;
            let b = Ts::parse_rfc3339(&f.end)?;
            Some(Window {
                bots: 1.0,
                duration: b.0.saturating_sub(a.0) as f64 / 1e6,
                count: f.packets as f64,
            })
        })
        .collect();
    fit_rate(&windows).ok()
}

/// F of equation 4 (mails per bot per second) from the relays of
/// Table 11, each relay one bot over its duration.
pub fn fit_relays(t: &Table11) -> Option<RateFit> {
    let windows: Vec<Window> = t
        .relays
        .iter()
        .filter(|r| r.duration_s > 0.0)
        .map(|r| Window {
            bots: 1.0,
            duration: r.duration_s,
            count: r.mails as f64,
        })
        .collect();
    fit_rate(&windows).ok()
}
