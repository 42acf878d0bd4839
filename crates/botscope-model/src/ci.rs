//! Confidence intervals of least-squares parameters: the covariance
//! s²·(JᵀJ)⁻¹ from the Jacobian J at the optimum (s² = SSE / (n − k)),
//! and intervals value ± t₀.₉₇₅(n − k)·stderr.

use crate::lm::solve;
use crate::stats::t_quantile;
use serde::{Deserialize, Serialize};

/// Two-sided confidence level of every interval botscope reports.
pub const LEVEL: f64 = 0.95;

/// A fitted parameter with its standard error and confidence interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Short key (`p`, `K`, `r`...).
    pub key: String,
    /// What it is, in words, with its unit.
    pub name: String,
    /// The estimate.
    pub value: f64,
    /// Standard error (`None` when the data cannot give one: no degree
    /// of freedom left, or a singular JᵀJ).
    pub stderr: Option<f64>,
    /// Lower end of the 95 % interval.
    pub lo: Option<f64>,
    /// Upper end of the 95 % interval.
    pub hi: Option<f64>,
}

impl Param {
    /// A parameter whose interval is value ± t·stderr.
    pub fn new(key: &str, name: &str, value: f64, stderr: Option<f64>, dof: usize) -> Param {
        let t = t_quantile(0.5 + LEVEL / 2.0, dof as f64);
        let half = stderr.filter(|s| s.is_finite()).map(|s| s * t);
        Param {
            key: key.into(),
            name: name.into(),
            value,
            stderr: stderr.filter(|s| s.is_finite()),
            lo: half.filter(|h| h.is_finite()).map(|h| value - h),
            hi: half.filter(|h| h.is_finite()).map(|h| value + h),
        }
    }

    /// Whether `v` lies in the interval (false when there is none).
    pub fn covers(&self, v: f64) -> bool {
        matches!((self.lo, self.hi), (Some(lo), Some(hi)) if lo <= v && v <= hi)
    }
}

/// Jacobian of `f` at `params` by central differences, row-major
/// (one row per observation).
pub fn jacobian<F: Fn(&[f64], f64) -> f64>(f: &F, xs: &[f64], params: &[f64]) -> Vec<f64> {
    let n = params.len();
    let mut jac = vec![0.0; xs.len() * n];
    for j in 0..n {
        let h = 1e-6 * params[j].abs().max(1e-6);
        let mut hi = params.to_vec();
        let mut lo = params.to_vec();
        hi[j] += h;
        lo[j] -= h;
        for (i, &x) in xs.iter().enumerate() {
            jac[i * n + j] = (f(&hi, x) - f(&lo, x)) / (2.0 * h);
        }
    }
    jac
}

/// The covariance s²·(JᵀJ)⁻¹ of least-squares parameters (row-major
/// k×k); `None` with no degree of freedom left or a singular JᵀJ.
pub fn covariance<F: Fn(&[f64], f64) -> f64>(
    f: &F,
    xs: &[f64],
    params: &[f64],
    sse: f64,
) -> Option<Vec<f64>> {
    let k = params.len();
    if xs.len() <= k {
        return None;
    }
    let jac = jacobian(f, xs, params);
    let mut jtj = vec![0.0; k * k];
    for row in jac.chunks(k) {
        for a in 0..k {
            for b in 0..k {
                jtj[a * k + b] += row[a] * row[b];
            }
        }
    }
    let s2 = sse / (xs.len() - k) as f64;
    let mut cov = vec![0.0; k * k];
    for col in 0..k {
        let mut e = vec![0.0; k];
        e[col] = 1.0;
        let x = solve(&mut jtj.clone(), &mut e, k)?;
        for row in 0..k {
            cov[row * k + col] = s2 * x[row];
        }
    }
    Some(cov)
}

/// Standard error of parameter `i` from a k×k covariance.
pub fn stderr(cov: Option<&[f64]>, k: usize, i: usize) -> Option<f64> {
    cov.and_then(|c| c.get(i * k + i))
        .filter(|v| v.is_finite() && **v >= 0.0)
        .map(|v| v.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_line_matches_the_textbook_formula() {
        // y = a + b·x with residuals; OLS: se(b) = s / √Sxx.
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let ys = [1.1, 2.9, 5.2, 6.8, 9.1];
        let f = |p: &[f64], x: f64| p[0] + p[1] * x;
        let (a, b) = crate::lm::linear_fit(&xs, &ys).expect("five distinct x");
        let sse: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (y - a - b * x).powi(2))
            .sum();
        let cov = covariance(&f, &xs, &[a, b], sse).expect("regular");
        let s = (sse / 3.0).sqrt();
        let se_b = s / 10f64.sqrt(); // Sxx = 10
        assert!((stderr(Some(&cov), 2, 1).unwrap() - se_b).abs() < 1e-6);
        let p = Param::new("b", "slope", b, Some(se_b), 3);
        // t(0.975, 3) = 3.182.
        assert!((p.hi.unwrap() - b - 3.182 * se_b).abs() < 1e-3 * se_b);
        assert!(p.covers(b) && !p.covers(b + 4.0 * se_b));
        assert!(covariance(&f, &xs[..2], &[a, b], sse).is_none());
    }
}
