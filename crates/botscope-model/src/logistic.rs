//! Equation 1: logistic worm spread, dM/dt = (1/θ)·M·(θ·p − M).
//!
//! With K = θ·p the curve saturates at K infected hosts and grows at rate p
//! while M ≪ K, so the closed form is M(t) = K / (1 + (K/M₀ − 1)·e^(−p·t)).

use crate::lm::{levenberg_marquardt, linear_fit};
use crate::ModelError;
use serde::{Deserialize, Serialize};

/// Parameters of equation 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Infection rate p (per unit time).
    pub p: f64,
    /// θ: maximum number of infectable addresses.
    pub theta: f64,
    /// Infected hosts at t = 0.
    pub m0: f64,
}

impl Logistic {
    /// The saturation level θ·p.
    pub fn capacity(&self) -> f64 {
        self.theta * self.p
    }

    /// dM/dt at M, exactly as the paper writes equation 1.
    pub fn derivative(&self, m: f64) -> f64 {
        (1.0 / self.theta) * m * (self.theta * self.p - m)
    }

    /// Closed-form M(t).
    pub fn at(&self, t: f64) -> f64 {
        let k = self.capacity();
        if self.m0 <= 0.0 {
            return 0.0;
        }
        k / (1.0 + (k / self.m0 - 1.0) * (-self.p * t).exp())
    }

    /// Integrates equation 1 numerically (classic Runge–Kutta, step `dt`)
    /// from 0 to `t_end`, returning (t, M) samples. Kept apart from
    /// [`Logistic::at`] so each checks the other.
    pub fn simulate(&self, t_end: f64, dt: f64) -> Vec<(f64, f64)> {
        let steps = steps(t_end, dt);
        let mut out = Vec::with_capacity(steps + 1);
        let mut m = self.m0;
        out.push((0.0, m));
        for i in 0..steps {
            let k1 = self.derivative(m);
            let k2 = self.derivative(m + 0.5 * dt * k1);
            let k3 = self.derivative(m + 0.5 * dt * k2);
            let k4 = self.derivative(m + dt * k3);
            m += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            out.push(((i + 1) as f64 * dt, m));
        }
        out
    }
}

/// Number of simulation steps, capped so a typo cannot ask for billions.
pub(crate) fn steps(t_end: f64, dt: f64) -> usize {
    if dt.is_nan() || t_end.is_nan() || dt <= 0.0 || t_end <= 0.0 {
        return 0;
    }
    ((t_end / dt).round() as usize).min(10_000_000)
}

/// A logistic fit and how well it matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticFit {
    /// Fitted parameters.
    pub model: Logistic,
    /// Root-mean-square residual in hosts.
    pub rmse: f64,
    /// Number of observations used.
    pub n: usize,
    /// Whether the solver converged.
    pub converged: bool,
}

/// Fits (p, θ, M₀) of equation 1 to observed infected-host counts over time
/// by Levenberg–Marquardt, started from a linearised guess: K a bit above
/// the largest count, p from the slope of ln(M / (K − M)).
pub fn fit_logistic(ts: &[f64], ms: &[f64]) -> Result<LogisticFit, ModelError> {
    let pts: Vec<(f64, f64)> = ts
        .iter()
        .zip(ms)
        .filter(|(t, m)| t.is_finite() && m.is_finite() && **m >= 0.0)
        .map(|(&t, &m)| (t, m))
        .collect();
    if pts.len() < 4 {
        return Err(ModelError::NotEnoughData {
            need: 4,
            got: pts.len(),
        });
    }
    let max_m = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    if max_m <= 0.0 {
        return Err(ModelError::Degenerate("no infected hosts observed".into()));
    }
    let k0 = max_m * 1.05;
    let (lx, ly): (Vec<f64>, Vec<f64>) = pts
        .iter()
        .filter(|(_, m)| *m > 0.0 && *m < k0)
        .map(|&(t, m)| (t, (m / (k0 - m)).ln()))
        .unzip();
    let (a, b) = linear_fit(&lx, &ly).unwrap_or((0.0, 1.0));
    let p0 = if b > 0.0 {
        b
    } else {
        // pts has at least 4 entries (checked above).
        1.0 / (pts[pts.len() - 1].0 - pts[0].0).max(1e-9)
    };
    // ln(M/(K−M)) = ln(M0/(K−M0)) + p·t  ⇒  M0 = K·e^a / (1 + e^a).
    let m00 = (k0 * a.exp() / (1.0 + a.exp())).max(1e-9);
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
    // Parameterised as (p, K, M0): better conditioned than (p, θ, M0).
    let model = |q: &[f64], t: f64| {
        Logistic {
            p: q[0],
            theta: q[1] / q[0],
            m0: q[2],
        }
        .at(t)
    };
    let r = levenberg_marquardt(model, &xs, &ys, &[p0, k0, m00], 500, |q| {
        q[0] = q[0].max(1e-12);
        q[1] = q[1].max(1e-9);
        q[2] = q[2].clamp(1e-12, q[1]);
    });
    let (p, k, m0) = (r.params[0], r.params[1], r.params[2]);
    Ok(LogisticFit {
        model: Logistic {
            p,
            theta: k / p,
            m0,
        },
        rmse: (r.sse / xs.len() as f64).sqrt(),
        n: xs.len(),
        converged: r.converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runge_kutta_agrees_with_closed_form() {
        let m = Logistic {
            p: 0.8,
            theta: 1250.0,
            m0: 5.0,
        };
        for (t, v) in m.simulate(20.0, 0.01) {
            assert!(
                (v - m.at(t)).abs() < 1e-6 * m.capacity(),
                "t={t} {v} vs {}",
                m.at(t)
            );
        }
        assert!((m.at(50.0) - 1000.0).abs() < 1e-6);
    }
}
