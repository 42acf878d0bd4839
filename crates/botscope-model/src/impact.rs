//! Equations 3 and 4: what a botnet of M(t) bots does.
//! DDoS effect S(t) = M(t)·P·E; spam rate S(t) = M(t)·F.

use crate::ModelError;
use serde::{Deserialize, Serialize};

/// Equation 3 parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ddos {
    /// P: attacks (flood packets) per bot per unit time.
    pub p: f64,
    /// E: effect of one attack.
    pub e: f64,
}

impl Ddos {
    /// S = M·P·E.
    pub fn effect(&self, m: f64) -> f64 {
        m * self.p * self.e
    }
}

/// Equation 4 parameter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spam {
    /// F: mails per bot per unit time.
    pub f: f64,
}

impl Spam {
    /// S = M·F.
    pub fn rate(&self, m: f64) -> f64 {
        m * self.f
    }
}

/// One observation window: how many bots were active, for how long, and
/// how many things (flood packets, relayed mails) they produced.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Active bots M in the window.
    pub bots: f64,
    /// Window length.
    pub duration: f64,
    /// Observed count (attack packets or mails).
    pub count: f64,
}

/// A per-bot rate estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateFit {
    /// Rate per bot per unit time (P or F).
    pub rate: f64,
    /// Standard error under Poisson counts.
    pub stderr: f64,
    /// Windows used.
    pub n: usize,
}

/// Maximum-likelihood per-bot rate for Poisson counts with exposure
/// bots·duration: Σ count / Σ (bots·duration).
pub fn fit_rate(windows: &[Window]) -> Result<RateFit, ModelError> {
    let ok: Vec<&Window> = windows
        .iter()
        .filter(|w| w.bots.is_finite() && w.duration.is_finite() && w.count.is_finite())
        .filter(|w| w.bots > 0.0 && w.duration > 0.0 && w.count >= 0.0)
        .collect();
    if ok.is_empty() {
        return Err(ModelError::NotEnoughData { need: 1, got: 0 });
    }
    let exposure: f64 = ok.iter().map(|w| w.bots * w.duration).sum();
    let count: f64 = ok.iter().map(|w| w.count).sum();
    Ok(RateFit {
        rate: count / exposure,
        stderr: count.sqrt() / exposure,
        n: ok.len(),
    })
}

/// Equation 3 from floods: P from the windows, then E by least squares
/// through the origin of observed effects S against M·P.
pub fn fit_ddos(windows: &[Window], effects: &[f64]) -> Result<(Ddos, RateFit), ModelError> {
    let rate = fit_rate(windows)?;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (w, s) in windows.iter().zip(effects) {
        if s.is_finite() && w.bots.is_finite() {
            let x = w.bots * rate.rate;
            sxy += x * s;
            sxx += x * x;
        }
    }
    let e = if sxx > 0.0 { sxy / sxx } else { f64::NAN };
    Ok((Ddos { p: rate.rate, e }, rate))
}

/// Equation 4 from relays: F = mails per bot per unit time.
pub fn fit_spam(windows: &[Window]) -> Result<(Spam, RateFit), ModelError> {
    let rate = fit_rate(windows)?;
    Ok((Spam { f: rate.rate }, rate))
}
