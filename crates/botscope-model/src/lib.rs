//! Botnet growth and impact models of the field study (§7.1): equation 1
//! (logistic worm spread), equation 2 (command-driven linear bursts),
//! equation 3 (DDoS effect S = M·P·E) and equation 4 (spam rate S = M·F);
//! simulation over time with CSV output, fitting from observations, and
//! SVG plots.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod burst;
pub mod ci;
pub mod fits;
pub mod impact;
pub mod lm;
pub mod logistic;
pub mod observed;
pub mod series;
pub mod stats;
pub mod svg;

pub use burst::{fit_bursts, BurstFit, BurstModel, Order};
pub use impact::{fit_ddos, fit_rate, fit_spam, Ddos, RateFit, Spam, Window};
pub use logistic::{fit_logistic, Logistic, LogisticFit};

use botscope_core::error::{Located, Location, SkipCounter};
use serde::{Deserialize, Serialize};

/// Why a model could not be fitted or an input not read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Too few usable observations.
    #[error("not enough data: need {need} observations, got {got}")]
    NotEnoughData {
        /// Minimum needed.
        need: usize,
        /// Usable observations found.
        got: usize,
    },
    /// The data cannot determine the parameters.
    #[error("degenerate data: {0}")]
    Degenerate(String),
    /// A required column is missing from a CSV header.
    #[error("{0}")]
    Input(Located),
}

/// How the botnet grows in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Growth {
    /// Equation 1.
    Logistic(Logistic),
    /// Equation 2.
    Burst(BurstModel),
}

impl Growth {
    /// Samples M(t) every `dt` up to `t_end`.
    pub fn simulate(&self, t_end: f64, dt: f64) -> Vec<(f64, f64)> {
        match self {
            // The closed form is exact at any step; the Runge–Kutta
            // integration stays as its cross-check.
            Growth::Logistic(m) => (0..=logistic::steps(t_end, dt))
                .map(|i| {
                    let t = i as f64 * dt;
                    (t, m.at(t))
                })
                .collect(),
            Growth::Burst(m) => m.simulate(t_end, dt),
        }
    }
}

/// A growth model and the impact parameters applied to its M(t).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// How M(t) grows.
    pub growth: Growth,
    /// Equation 3 parameters.
    pub ddos: Ddos,
    /// Equation 4 parameter.
    pub spam: Spam,
}

/// One simulated instant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Time.
    pub t: f64,
    /// Infected hosts / bots M(t).
    pub m: f64,
    /// DDoS effect S(t) = M·P·E.
    pub ddos_effect: f64,
    /// Spam rate S(t) = M·F.
    pub spam_rate: f64,
}

impl Scenario {
    /// Simulates every `dt` from 0 to `t_end`.
    pub fn simulate(&self, t_end: f64, dt: f64) -> Vec<Sample> {
        self.growth
            .simulate(t_end, dt)
            .into_iter()
            .map(|(t, m)| Sample {
                t,
                m,
                ddos_effect: self.ddos.effect(m),
                spam_rate: self.spam.rate(m),
            })
            .collect()
    }
}

/// Renders samples as CSV with header `t,M,ddos_effect,spam_rate`.
pub fn samples_csv(samples: &[Sample]) -> String {
    let mut o = String::from("t,M,ddos_effect,spam_rate\n");
    for s in samples {
        o.push_str(&format!(
            "{},{},{},{}\n",
            s.t, s.m, s.ddos_effect, s.spam_rate
        ));
    }
    o
}

/// Reads the named numeric columns of a CSV text with a header line.
/// Rows that do not parse are skipped and counted with their line number.
pub fn read_columns(
    file: &str,
    text: &str,
    names: &[&str],
) -> Result<(Vec<Vec<f64>>, SkipCounter), ModelError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let loc = |line: usize| Location {
        file: file.to_string(),
        line: Some(line as u64 + 1),
        ..Default::default()
    };
    let Some((hl, header)) = lines.next() else {
        return Err(ModelError::Input(Located {
            location: loc(0),
            reason: "empty input".into(),
        }));
    };
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let mut idx = Vec::with_capacity(names.len());
    for n in names {
        match cols.iter().position(|c| c == &n.to_ascii_lowercase()) {
            Some(i) => idx.push(i),
            None => {
                return Err(ModelError::Input(Located {
                    location: loc(hl),
                    reason: format!("missing column {n:?}"),
                }))
            }
        }
    }
    let mut out = vec![Vec::new(); names.len()];
    let mut skips = SkipCounter::default();
    'rows: for (ln, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let mut row = Vec::with_capacity(idx.len());
        for &i in &idx {
            match fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .filter(|v| v.is_finite())
            {
                Some(v) => row.push(v),
                None => {
                    skips.add(&Located {
                        location: loc(ln),
                        reason: "not a number".into(),
                    });
                    continue 'rows;
                }
            }
        }
        for (c, v) in out.iter_mut().zip(row) {
            c.push(v);
        }
    }
    Ok((out, skips))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_and_counts_bad_rows() {
        let (cols, skips) =
            read_columns("x.csv", "t, infected\n0,1\n1,x\n2,3\n", &["infected", "t"]).unwrap();
        assert_eq!(cols, vec![vec![1.0, 3.0], vec![0.0, 2.0]]);
        assert_eq!(skips.total(), 1);
        assert_eq!(
            skips.by_reason["not a number"].1,
            vec!["x.csv line 3".to_string()]
        );
        assert!(matches!(
            read_columns("x", "a,b\n", &["t"]),
            Err(ModelError::Input(_))
        ));
    }
}
