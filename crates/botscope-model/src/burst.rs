//! Equation 2: command-driven linear botnet spread.
//!
//! A botnet spreads only when its herder orders a scan (`advscan ...`). The
//! θᵢ bots that receive order i each send r infection packets per unit time,
//! each infecting with probability p, so the botnet grows *linearly* at
//! θᵢ·p·r per unit time while 0 ≤ t − oᵢ ≤ min(max t_A, max t_P) — the
//! ordered scan time and the propagation limit — and then stops until the
//! next order. Hosts infected during a burst wait for the next order (they
//! join the channel later), which keeps the growth linear within a burst.
//! See `docs/model.md` for how this reads the paper's printed formula.

use crate::lm::linear_fit;
use crate::ModelError;
use serde::{Deserialize, Serialize};

/// Most orders one campaign may hold (evaluation is quadratic in orders).
pub const MAX_ORDERS: usize = 10_000;

/// One scan order: when it was given and the scan time it asked for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Time of the order.
    pub t: f64,
    /// Ordered scan time (max t_A); `advscan`'s minutes, 0 meaning "until stopped".
    pub max_ta: f64,
}

/// Parameters of equation 2 over a series of orders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BurstModel {
    /// θ: bots at t = 0.
    pub theta: f64,
    /// p: infection probability of one infection packet.
    pub p: f64,
    /// r: infection packets per bot per unit time.
    pub r: f64,
    /// max t_P: how long a burst can propagate at most (target range exhausted).
    pub max_tp: f64,
    /// The orders, sorted by time.
    pub orders: Vec<Order>,
}

impl BurstModel {
    /// Length of the burst started by `o`: min(max t_A, max t_P), where an
    /// ordered time of 0 (run until stopped) is bounded by max t_P alone.
    pub fn burst_length(&self, o: &Order) -> f64 {
        if o.max_ta > 0.0 {
            o.max_ta.min(self.max_tp)
        } else {
            self.max_tp
        }
    }

    /// M(t): θ + Σᵢ θᵢ·p·r·clamp(t − oᵢ, 0, Lᵢ), θᵢ = M(oᵢ).
    pub fn at(&self, t: f64) -> f64 {
        let thetas = self.order_sizes();
        self.eval(t, &thetas)
    }

    /// Bots that received each order (M at the order's time).
    pub fn order_sizes(&self) -> Vec<f64> {
        let mut thetas = Vec::with_capacity(self.orders.len().min(MAX_ORDERS));
        for (i, o) in self.orders.iter().take(MAX_ORDERS).enumerate() {
            let m = self.eval_prefix(o.t, &thetas, i);
            thetas.push(m);
        }
        thetas
    }

    fn eval(&self, t: f64, thetas: &[f64]) -> f64 {
        self.eval_prefix(t, thetas, thetas.len())
    }

    fn eval_prefix(&self, t: f64, thetas: &[f64], upto: usize) -> f64 {
        let pr = self.p * self.r;
        let mut m = self.theta;
        for (o, th) in self.orders.iter().zip(thetas).take(upto) {
            m += th * pr * (t - o.t).clamp(0.0, self.burst_length(o));
        }
        m
    }

    /// Samples M(t) every `dt` from 0 to `t_end`.
    pub fn simulate(&self, t_end: f64, dt: f64) -> Vec<(f64, f64)> {
        let thetas = self.order_sizes();
        (0..=crate::logistic::steps(t_end, dt))
            .map(|i| {
                let t = i as f64 * dt;
                (t, self.eval(t, &thetas))
            })
            .collect()
    }
}

/// One burst as recovered from observations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BurstFit {
    /// Order time the burst starts at.
    pub order_t: f64,
    /// Infected count when the order came (θᵢ).
    pub theta: f64,
    /// Growth per unit time during the burst (θᵢ·p·r).
    pub slope: f64,
    /// Burst length: min(max t_A, max t_P).
    pub length: f64,
    /// p·r = slope / θᵢ.
    pub pr: f64,
    /// Observations in the window.
    pub n: usize,
}

/// Recovers each burst's slope and length from infected counts over time
/// and the order times (from the advscan orders seen on the C&C channel).
///
/// Per window [oᵢ, oᵢ₊₁) the hinge M = a + s·min(t − oᵢ, b) is fitted by
/// least squares over a grid of breakpoints b (every observed time), then
/// the length is refined where the rising line meets the plateau.
pub fn fit_bursts(
    ts: &[f64],
    ms: &[f64],
    order_times: &[f64],
) -> Result<Vec<BurstFit>, ModelError> {
    let mut orders: Vec<f64> = order_times
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .collect();
    orders.sort_by(|a, b| a.total_cmp(b));
    orders.truncate(MAX_ORDERS);
    let mut pts: Vec<(f64, f64)> = ts
        .iter()
        .zip(ms)
        .filter(|(t, m)| t.is_finite() && m.is_finite())
        .map(|(&t, &m)| (t, m))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut fits = Vec::new();
    for (i, &o) in orders.iter().enumerate() {
        let end = orders.get(i + 1).copied().unwrap_or(f64::INFINITY);
        let win: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|p| p.0 >= o && p.0 < end)
            .collect();
        if win.len() < 4 {
            return Err(ModelError::NotEnoughData {
                need: 4,
                got: win.len(),
            });
        }
        let rel: Vec<f64> = win.iter().map(|p| p.0 - o).collect();
        let ys: Vec<f64> = win.iter().map(|p| p.1).collect();
        let hinge_sse = |b: f64| -> Option<(f64, f64, f64)> {
            let xs: Vec<f64> = rel.iter().map(|&x| x.min(b)).collect();
            let (a, s) = linear_fit(&xs, &ys)?;
            let sse = xs
                .iter()
                .zip(&ys)
                .map(|(x, y)| (y - a - s * x).powi(2))
                .sum();
            Some((sse, a, s))
        };
        let mut best: Option<(f64, f64, f64, f64)> = None; // sse, a, s, b
                                                           // At most ~2000 candidate breakpoints, so long windows stay linear-ish.
        let stride = (rel.len() / 2000).max(1);
        for &b in rel.iter().skip(1).step_by(stride) {
            if let Some((sse, a, s)) = hinge_sse(b) {
                if best.is_none_or(|x| sse < x.0) {
                    best = Some((sse, a, s, b));
                }
            }
        }
        let Some((_, a, s, b)) = best else {
            return Err(ModelError::Degenerate(format!("burst at t={o}: no slope")));
        };
        // Refine: the plateau is the mean after b; the length is where the
        // fitted rise reaches it (a continuous estimate, not a grid point).
        let plateau: Vec<f64> = rel
            .iter()
            .zip(&ys)
            .filter(|(x, _)| **x > b)
            .map(|(_, y)| *y)
            .collect();
        let length = if plateau.len() >= 2 && s > 0.0 {
            let level = plateau.iter().sum::<f64>() / plateau.len() as f64;
            ((level - a) / s).clamp(0.0, rel.last().copied().unwrap_or(b))
        } else {
            b
        };
        let theta = a.max(f64::MIN_POSITIVE);
        fits.push(BurstFit {
            order_t: o,
            theta,
            slope: s,
            length,
            pr: s / theta,
            n: win.len(),
        });
    }
    Ok(fits)
}

/// r from observed scans: infection packets per bot per unit time.
pub fn scan_rate(packets: f64, bots: f64, duration: f64) -> Option<f64> {
    (bots > 0.0 && duration > 0.0).then(|| packets / (bots * duration))
}

/// p from observed scans: new infections per infection packet.
pub fn infection_probability(new_infections: f64, packets: f64) -> Option<f64> {
    (packets > 0.0).then(|| new_infections / packets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_then_flat_per_burst() {
        let m = BurstModel {
            theta: 100.0,
            p: 0.01,
            r: 5.0,
            max_tp: 30.0,
            orders: vec![
                Order {
                    t: 0.0,
                    max_ta: 10.0,
                },
                Order {
                    t: 50.0,
                    max_ta: 0.0,
                },
            ],
        };
        // Burst 1: 100·0.05 = 5 per unit for 10 units.
        assert!((m.at(4.0) - 120.0).abs() < 1e-9);
        assert!((m.at(10.0) - 150.0).abs() < 1e-9);
        assert!((m.at(49.0) - 150.0).abs() < 1e-9);
        // Burst 2: 150 bots, 7.5 per unit, bounded by max t_P = 30.
        assert!((m.at(60.0) - 225.0).abs() < 1e-9);
        assert!((m.at(200.0) - 375.0).abs() < 1e-9);
    }
}
