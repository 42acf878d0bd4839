//! Equations 1–4 fitted to observed series, each with 95 % confidence
//! intervals and the residual of every point ([`ObservedFit`]).
//!
//! - Equation 1 by Levenberg–Marquardt on the cumulative infected
//!   population, intervals from s²·(JᵀJ)⁻¹ at the optimum.
//! - Equations 2, 3 and 4 as a per-bot rate: count = rate·exposure, least
//!   squares through the origin over the waves, floods or bots; the
//!   interval comes from the spread between them (t with n − 1 degrees of
//!   freedom), not from a Poisson assumption that bursts break.

use crate::ci::{self, Param};
use crate::lm::levenberg_marquardt;
use crate::logistic::{fit_logistic, Logistic};
use crate::series::{BotWindow, CumulativePoint, ScanWave};
use crate::ModelError;
use serde::{Deserialize, Serialize};

/// Most points a fit uses: a longer series is thinned evenly.
pub const MAX_POINTS: usize = 5_000;
/// Most scan waves fitted one by one (equation 2's `waves`).
pub const MAX_WAVES: usize = 10_000;

/// One observation, its fitted value and the residual.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitPoint {
    /// x (time, or exposure in bot-seconds).
    pub x: f64,
    /// Observed y.
    pub y: f64,
    /// Fitted y.
    pub fit: f64,
}

impl FitPoint {
    /// Observed minus fitted.
    pub fn residual(&self) -> f64 {
        self.y - self.fit
    }
}

/// An equation fitted to observations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObservedFit {
    /// Equation number (1–4).
    pub equation: u8,
    /// What was fitted, in words.
    pub title: String,
    /// x axis: what and its unit.
    pub x_label: String,
    /// y axis.
    pub y_label: String,
    /// Parameters with 95 % intervals.
    pub params: Vec<Param>,
    /// The observations with fit and residual.
    pub points: Vec<FitPoint>,
    /// The fitted curve, sampled for drawing.
    pub curve: Vec<(f64, f64)>,
    /// Observations used.
    pub n: usize,
    /// Degrees of freedom left (n − parameters).
    pub dof: usize,
    /// Root-mean-square residual.
    pub rmse: f64,
    /// Whether the solver converged (always true for closed forms).
    pub converged: bool,
    /// Remarks: bounds checked, points thinned.
    pub notes: Vec<String>,
    /// Equation 2: each wave's burst fitted within its order's bounds.
    #[serde(default)]
    pub waves: Vec<WaveFit>,
}

/// One scan wave fitted as a burst of equation 2: cumulative probes
/// P(t) = r·min(max(t − a, 0), L) after the order, with L ≤ max t_A (the
/// ordered minutes) and r ≤ threads/delay as the fit's bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveFit {
    /// Index of the order.
    pub order: usize,
    /// The bot.
    pub bot: String,
    /// The scan command.
    pub command: String,
    /// r, probes per second while the burst runs.
    pub r: Param,
    /// a, seconds from the order to the first probe.
    pub lag_s: Param,
    /// L, the burst's length in seconds.
    pub length_s: Param,
    /// The order's bound on L (max t_A), seconds.
    pub max_ta_s: Option<f64>,
    /// The order's bound on r: threads / delay attempts per second.
    pub rate_cap: Option<f64>,
    /// Whether a bound held the fit (the estimate sits on it).
    pub at_bound: bool,
    /// Points fitted.
    pub n: usize,
}

impl ObservedFit {
    /// The parameter with `key`.
    pub fn param(&self, key: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.key == key)
    }
}

fn thin<T: Clone>(v: &[T]) -> Vec<T> {
    if v.len() <= MAX_POINTS {
        return v.to_vec();
    }
    let step = v.len() as f64 / MAX_POINTS as f64;
    let mut out: Vec<T> = (0..MAX_POINTS)
        .map(|i| v[(i as f64 * step) as usize].clone())
        .collect();
    if let Some(last) = v.last() {
        out.push(last.clone());
    }
    out
}

/// The logistic curve parameterised as (p, K = θ·p, M₀).
fn logistic_pk(q: &[f64], t: f64) -> f64 {
    Logistic {
        p: q[0],
        theta: q[1] / q[0],
        m0: q[2],
    }
    .at(t)
}

/// Equation 1 on the cumulative infected population, time in hours since
/// the first infected host. Parameters: p (per hour), K = θ·p (the
/// saturation), M₀, and θ = K/p (interval by the delta method).
pub fn fit_cumulative(points: &[CumulativePoint], source: &str) -> Result<ObservedFit, ModelError> {
    let points_in = points.len();
    let pts = thin(points);
    let t0 = pts.first().map(|p| p.ts.0).unwrap_or(0);
    let xs: Vec<f64> = pts
        .iter()
        .map(|p| p.ts.0.saturating_sub(t0) as f64 / 3.6e9)
        .collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.infected as f64).collect();
    let start = fit_logistic(&xs, &ys)?;
    let init = [start.model.p, start.model.capacity(), start.model.m0];
    let r = levenberg_marquardt(logistic_pk, &xs, &ys, &init, 500, |q| {
        q[0] = q[0].max(1e-12);
        q[1] = q[1].max(1e-9);
        q[2] = q[2].clamp(1e-12, q[1]);
    });
    let (n, k) = (xs.len(), 3);
    let dof = n.saturating_sub(k);
    // A cumulative count carries each error forward, so residuals are
    // autocorrelated and s²(JᵀJ)⁻¹ alone is too narrow: widen it by the
    // AR(1) factor (1 + ρ)/(1 − ρ) of the lag-1 residual correlation ρ.
    let res: Vec<f64> = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| y - logistic_pk(&r.params, x))
        .collect();
    let rho = lag1_correlation(&res).clamp(0.0, 0.99);
    let widen = (1.0 + rho) / (1.0 - rho);
    let cov = ci::covariance(&logistic_pk, &xs, &r.params, r.sse)
        .map(|c| c.into_iter().map(|v| v * widen).collect::<Vec<f64>>());
    let se = |i| ci::stderr(cov.as_deref(), k, i);
    let (p, kk, m0) = (r.params[0], r.params[1], r.params[2]);
    let theta = kk / p;
    // Var(K/p) ≈ θ²·(Var K/K² + Var p/p² − 2·Cov(p,K)/(p·K)).
    let se_theta = cov.as_ref().and_then(|c| {
        let v = theta * theta * (c[4] / (kk * kk) + c[0] / (p * p) - 2.0 * c[1] / (p * kk));
        (v >= 0.0).then(|| v.sqrt())
    });
    let params = vec![
        Param::new("p", "p, infection rate (per hour)", p, se(0), dof),
        Param::new("K", "θ·p, saturation (hosts)", kk, se(1), dof),
        Param::new("m0", "M₀, infected at the first sighting", m0, se(2), dof),
        Param::new(
            "theta",
            "θ, most infectable addresses",
            theta,
            se_theta,
            dof,
        ),
    ];
    let points: Vec<FitPoint> = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| FitPoint {
            x,
            y,
            fit: logistic_pk(&r.params, x),
        })
        .collect();
    let x1 = xs.last().copied().unwrap_or(0.0);
    let curve = (0..=200)
        .map(|i| {
            let x = x1 * i as f64 / 200.0;
            (x, logistic_pk(&r.params, x))
        })
        .collect();
    let mut notes = vec![format!(
        "intervals widened ×{:.2} for the residuals' lag-1 correlation ρ = {rho:.2}",
        widen.sqrt()
    )];
    if points_in > pts.len() {
        notes.push(format!(
            "{points_in} sightings thinned evenly to {} points",
            pts.len()
        ));
    }
    Ok(ObservedFit {
        equation: 1,
        title: format!("Equation 1 — cumulative infected population M(t), from {source}"),
        x_label: "hours since the first infected host".into(),
        y_label: "infected hosts seen so far".into(),
        params,
        points,
        curve,
        n,
        dof,
        rmse: (r.sse / n as f64).sqrt(),
        converged: r.converged,
        notes,
        waves: Vec::new(),
    })
}

/// Lag-1 autocorrelation of a series (0 for fewer than 3 values).
fn lag1_correlation(r: &[f64]) -> f64 {
    if r.len() < 3 {
        return 0.0;
    }
    let m = r.iter().sum::<f64>() / r.len() as f64;
    let var: f64 = r.iter().map(|v| (v - m).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = r.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    cov / var
}

/// A per-bot rate fitted through the origin: count = rate·exposure.
/// Returns (rate, its standard error, degrees of freedom).
fn through_origin(xs: &[f64], ys: &[f64]) -> Option<(f64, Option<f64>, usize)> {
    let sxx: f64 = xs.iter().map(|x| x * x).sum();
    if xs.is_empty() || sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| x * y).sum();
    let b = sxy / sxx;
    let dof = xs.len() - 1;
    let se = (dof > 0).then(|| {
        let sse: f64 = xs.iter().zip(ys).map(|(x, y)| (y - b * x).powi(2)).sum();
        (sse / dof as f64 / sxx).sqrt()
    });
    Some((b, se, dof))
}

/// What a rate fit describes.
struct RateSpec<'a> {
    equation: u8,
    title: String,
    key: &'a str,
    name: &'a str,
    x_label: &'a str,
    y_label: &'a str,
}

fn rate_fit(spec: RateSpec, xs: &[f64], ys: &[f64]) -> Result<ObservedFit, ModelError> {
    let (b, se, dof) =
        through_origin(xs, ys).ok_or(ModelError::NotEnoughData { need: 1, got: 0 })?;
    let points: Vec<FitPoint> = xs
        .iter()
        .zip(ys)
        .map(|(&x, &y)| FitPoint { x, y, fit: b * x })
        .collect();
    let sse: f64 = points.iter().map(|p| p.residual().powi(2)).sum();
    let x1 = xs.iter().copied().fold(0.0, f64::max);
    Ok(ObservedFit {
        equation: spec.equation,
        title: spec.title,
        x_label: spec.x_label.into(),
        y_label: spec.y_label.into(),
        params: vec![Param::new(spec.key, spec.name, b, se, dof)],
        curve: vec![(0.0, 0.0), (x1, b * x1)],
        n: points.len(),
        dof,
        rmse: (sse / points.len().max(1) as f64).sqrt(),
        converged: true,
        notes: Vec::new(),
        waves: Vec::new(),
        points,
    })
}

/// Equation 2 on scan waves: r, the scan packets one bot sends per second
/// while its order runs (count = r·scanning seconds over the waves), and
/// each wave's burst length L checked against the order's bounds —
/// L ≤ max t_A (the ordered minutes) and the rate ≤ threads/delay.
pub fn fit_scan_waves(waves: &[ScanWave]) -> Result<ObservedFit, ModelError> {
    let used: Vec<&ScanWave> = waves.iter().filter(|w| w.scanning_s() > 0.0).collect();
    let xs: Vec<f64> = used.iter().map(|w| w.scanning_s()).collect();
    let ys: Vec<f64> = used.iter().map(|w| w.probes() as f64).collect();
    let mut fit = rate_fit(
        RateSpec {
            equation: 2,
            title: format!(
                "Equation 2 — scan packets per bot after scan orders ({} waves)",
                used.len()
            ),
            key: "r",
            name: "r, scan packets per bot per second",
            x_label: "seconds scanning (one bot)",
            y_label: "scan packets",
        },
        &xs,
        &ys,
    )?;
    let bounded: Vec<&&ScanWave> = used.iter().filter(|w| w.max_s.is_some()).collect();
    let within_ta = bounded
        .iter()
        .filter(|w| w.length_s() <= w.max_s.unwrap_or(u64::MAX) as f64)
        .count();
    let rated: Vec<&&ScanWave> = used
        .iter()
        .filter(|w| matches!((w.threads, w.delay_s), (Some(t), Some(d)) if t > 0 && d > 0))
        .collect();
    let within_rate = rated
        .iter()
        .filter(|w| {
            let cap = f64::from(w.threads.unwrap_or(0)) / f64::from(w.delay_s.unwrap_or(1));
            w.probes() as f64 / w.scanning_s() <= cap
        })
        .count();
    let longest = used.iter().map(|w| w.length_s()).fold(0.0, f64::max);
    fit.params.push(Param::new(
        "L",
        "longest burst L, seconds (first to last probe)",
        longest,
        None,
        0,
    ));
    fit.notes.push(format!(
        "{within_ta} of {} waves with an ordered duration ended within it (L ≤ max t_A); {} ran until stopped",
        bounded.len(),
        used.len() - bounded.len()
    ));
    fit.notes.push(format!(
        "{within_rate} of {} waves kept under the order's threads/delay attempts per second",
        rated.len()
    ));
    // Each wave is its own small fit; past MAX_WAVES they are not drawn.
    fit.waves = used
        .iter()
        .take(MAX_WAVES)
        .filter_map(|w| fit_wave(w))
        .collect();
    Ok(fit)
}

/// The burst P(t) = r·min(max(t − a, 0), L), parameters (r, a, L).
fn burst(q: &[f64], t: f64) -> f64 {
    q[0] * (t - q[1]).clamp(0.0, q[2].max(0.0))
}

/// One wave's burst by Levenberg–Marquardt on its cumulative probes (a
/// point at the order, one at each scan's first and last probe), kept
/// inside the order's bounds. None for a wave with no scanning time.
pub fn fit_wave(w: &ScanWave) -> Option<WaveFit> {
    let o = w.ordered.0;
    let at = |t: i64| t.saturating_sub(o) as f64 / 1e6;
    let (mut xs, mut ys) = (vec![0.0], vec![0.0]);
    let mut total = 0.0;
    for seg in &w.segments {
        xs.push(at(seg.start.0));
        ys.push(total);
        total += seg.probes as f64;
        xs.push(at(seg.end.0));
        ys.push(total);
    }
    if xs.len() > MAX_POINTS {
        xs = thin(&xs);
        ys = thin(&ys);
    }
    let first = xs.get(1).copied()?;
    let length = w.length_s();
    if length <= 0.0 {
        return None;
    }
    let max_ta = w.max_s.map(|m| m as f64);
    let rate_cap = match (w.threads, w.delay_s) {
        (Some(t), Some(d)) if t > 0 && d > 0 => Some(f64::from(t) / f64::from(d)),
        _ => None,
    };
    let clamp = |q: &mut [f64]| {
        q[0] = q[0].clamp(1e-9, rate_cap.unwrap_or(f64::INFINITY));
        q[1] = q[1].max(0.0);
        q[2] = q[2].clamp(1e-6, max_ta.unwrap_or(f64::INFINITY));
    };
    let init = [total / length, first, length];
    let r = levenberg_marquardt(burst, &xs, &ys, &init, 200, clamp);
    let k = 3;
    let dof = xs.len().saturating_sub(k);
    let cov = ci::covariance(&burst, &xs, &r.params, r.sse);
    let se = |i| ci::stderr(cov.as_deref(), k, i);
    let near = |v: f64, b: Option<f64>| b.is_some_and(|b| (v - b).abs() <= 1e-6 * b.max(1.0));
    Some(WaveFit {
        order: w.order,
        bot: w.bot.clone(),
        command: w.command.clone(),
        r: Param::new("r", "r, probes per second", r.params[0], se(0), dof),
        lag_s: Param::new(
            "a",
            "a, seconds from order to first probe",
            r.params[1],
            se(1),
            dof,
        ),
        length_s: Param::new("L", "L, burst length in seconds", r.params[2], se(2), dof),
        max_ta_s: max_ta,
        rate_cap,
        at_bound: near(r.params[0], rate_cap) || near(r.params[2], max_ta),
        n: xs.len(),
    })
}

/// Equation 3 on floods: P, packets per bot per second.
pub fn fit_floods(floods: &[BotWindow]) -> Result<ObservedFit, ModelError> {
    let ok: Vec<&BotWindow> = floods.iter().filter(|w| w.duration_s() > 0.0).collect();
    let xs: Vec<f64> = ok.iter().map(|w| w.duration_s()).collect();
    let ys: Vec<f64> = ok.iter().map(|w| w.count as f64).collect();
    rate_fit(
        RateSpec {
            equation: 3,
            title: format!("Equation 3 — flood packets per bot ({} floods)", ok.len()),
            key: "P",
            name: "P, attacks (packets) per bot per second",
            x_label: "flood duration, seconds (one bot)",
            y_label: "packets",
        },
        &xs,
        &ys,
    )
}

/// Equation 4 on the spam relay rate per bot: F, mails per bot per hour.
pub fn fit_spam_rate(bots: &[BotWindow]) -> Result<ObservedFit, ModelError> {
    let ok: Vec<&BotWindow> = bots.iter().filter(|w| w.duration_s() > 0.0).collect();
    let xs: Vec<f64> = ok.iter().map(|w| w.duration_s() / 3600.0).collect();
    let ys: Vec<f64> = ok.iter().map(|w| w.count as f64).collect();
    rate_fit(
        RateSpec {
            equation: 4,
            title: format!("Equation 4 — spam relayed per bot ({} bots)", ok.len()),
            key: "F",
            name: "F, mails per bot per hour",
            x_label: "hours relaying (one bot)",
            y_label: "mails relayed",
        },
        &xs,
        &ys,
    )
}

/// Every fit the series allow, in equation order.
pub fn fit_all(s: &crate::series::ModelSeries) -> Vec<ObservedFit> {
    let source = s.cumulative_source.as_deref().unwrap_or("captures");
    [
        fit_cumulative(&s.cumulative, source),
        fit_scan_waves(&s.scan_waves),
        fit_floods(&s.floods),
        fit_spam_rate(&s.spam_rate),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::Ts;

    /// A deterministic jitter in [−1, 1) (no RNG dependency in the crate).
    fn jitter(i: u64) -> f64 {
        let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 29;
        (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    #[test]
    fn logistic_population_recovered_within_its_intervals() {
        // Hosts appear when M(t) = p·θ / (1 + (K/M0 − 1)e^(−pt)) crosses
        // each integer: p = 0.5 per hour, θ = 2000 (K = 1000), M0 = 1;
        // each first sighting moves by up to ±3 minutes (a resolver sees
        // a host at a lookup, not at its infection).
        let truth = Logistic {
            p: 0.5,
            theta: 2000.0,
            m0: 1.0,
        };
        let k = truth.capacity();
        let mut firsts: Vec<i64> = (1..990)
            .map(|m| {
                let m = m as f64;
                let t = ((k / truth.m0 - 1.0) / (k / m - 1.0)).ln() / truth.p;
                ((t * 3600.0 + 180.0 * jitter(m as u64)) * 1e6) as i64
            })
            .collect();
        let pts = crate::series::cumulative_from_first_seen(&mut firsts);
        let f = fit_cumulative(&pts, "a logistic generator").expect("fits");
        let p = f.param("p").expect("p");
        let kk = f.param("K").expect("K");
        assert!(p.covers(0.5), "{p:?}");
        assert!(
            kk.covers(1000.0) || (kk.value - 1000.0).abs() < 10.0,
            "{kk:?}"
        );
        assert!((p.value - 0.5).abs() < 0.02, "{p:?}");
        assert!(f.converged && f.dof == f.n - 3);
        // Residuals are what the points say.
        let r0 = f.points[10];
        assert!(
            (r0.residual() - (r0.y - logistic_pk(&[p.value, kk.value, f.params[2].value], r0.x)))
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn rates_through_the_origin_with_t_intervals() {
        // Floods of 20 pps ± 1 pps: P = 20 inside the interval.
        let w: Vec<BotWindow> = (0..12)
            .map(|i| {
                let d = 200 + 40 * i;
                let rate = 20.0 + jitter(i as u64);
                BotWindow {
                    bot: "10.0.0.1".into(),
                    start: Ts(0),
                    end: Ts(d * 1_000_000),
                    count: (rate * d as f64).round() as u64,
                }
            })
            .collect();
        let f = fit_floods(&w).expect("fits");
        let p = f.param("P").expect("P");
        assert!(p.covers(20.0), "{p:?}");
        assert!(p.hi.unwrap() - p.lo.unwrap() < 2.0, "{p:?}");
        assert_eq!((f.n, f.dof, f.equation), (12, 11, 3));
        // One window: an estimate but no interval.
        let one = fit_spam_rate(&w[..1]).expect("fits");
        assert_eq!(one.params[0].lo, None);
        assert!(fit_floods(&[]).is_err());
    }

    #[test]
    fn hostile_series_do_not_panic() {
        let w = |a: i64, b: i64| BotWindow {
            bot: "x".into(),
            start: Ts(a),
            end: Ts(b),
            count: u64::MAX,
        };
        let bad = vec![w(i64::MIN, i64::MAX), w(i64::MAX, i64::MIN), w(0, 1)];
        let _ = fit_floods(&bad);
        let _ = fit_spam_rate(&bad);
        let pts: Vec<CumulativePoint> = [i64::MIN, 0, 0, 0, i64::MAX]
            .iter()
            .enumerate()
            .map(|(i, &t)| CumulativePoint {
                ts: Ts(t),
                infected: i as u64 + 1,
            })
            .collect();
        let _ = fit_cumulative(&pts, "hostile");
        let wave = ScanWave {
            order: 0,
            bot: "x".into(),
            command: "advscan".into(),
            ordered: Ts(i64::MAX),
            threads: Some(u32::MAX),
            delay_s: Some(0),
            max_s: Some(u64::MAX),
            segments: vec![crate::series::WaveSegment {
                start: Ts(i64::MIN),
                end: Ts(i64::MAX),
                probes: u64::MAX,
            }],
        };
        let _ = fit_scan_waves(&[wave]);
    }

    #[test]
    fn scan_waves_checked_against_their_orders() {
        let seg = |a: i64, b: i64, n: u64| crate::series::WaveSegment {
            start: Ts(a * 1_000_000),
            end: Ts(b * 1_000_000),
            probes: n,
        };
        let wave = |max_s, segs| ScanWave {
            order: 0,
            bot: "10.0.0.2".into(),
            command: "advscan".into(),
            ordered: Ts(0),
            threads: Some(200),
            delay_s: Some(5),
            max_s,
            segments: segs,
        };
        let waves = vec![
            wave(Some(600), vec![seg(2, 52, 200), seg(60, 110, 202)]),
            wave(None, vec![seg(3, 103, 398)]),
            wave(Some(60), vec![seg(1, 121, 480)]),
        ];
        let f = fit_scan_waves(&waves).expect("fits");
        let r = f.param("r").expect("r");
        assert!(r.covers(4.0), "{r:?}");
        assert_eq!(f.param("L").map(|p| p.value), Some(120.0));
        // The third wave: 480 probes over 120 s, but the order allows 60 s:
        // the burst is held at L = 60 and r rises to fit the probes.
        let w3 = &f.waves[2];
        assert_eq!(w3.length_s.value, 60.0);
        assert!(w3.at_bound, "{w3:?}");
        assert_eq!(f.waves[1].max_ta_s, None);
        let w2 = &f.waves[1];
        assert!(
            (w2.r.value - 3.98).abs() < 1e-6 && (w2.length_s.value - 100.0).abs() < 1e-6,
            "{w2:?}"
        );
        assert_eq!(
            f.notes[0],
            "1 of 2 waves with an ordered duration ended within it (L ≤ max t_A); 1 ran until stopped"
        );
    }
}
