//! A small Levenberg–Marquardt least-squares solver for models with a
//! handful of parameters. Dense normal equations solved by Gaussian
//! elimination with partial pivoting: plenty for n ≤ 6 and no dependency.

/// Result of a least-squares fit.
#[derive(Clone, Debug, PartialEq)]
pub struct LmResult {
    /// Fitted parameters.
    pub params: Vec<f64>,
    /// Sum of squared residuals at `params`.
    pub sse: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the relative SSE change fell under the tolerance.
    pub converged: bool,
}

/// Minimises Σ (y_i − f(params, x_i))² starting from `init`.
///
/// The Jacobian is taken by central differences scaled to each parameter,
/// so `f` only needs to evaluate the model. Iterations are capped by
/// `max_iter`; `clamp` may project parameters back into their valid range
/// (e.g. keep rates positive) after each step.
pub fn levenberg_marquardt<F, C>(
    f: F,
    xs: &[f64],
    ys: &[f64],
    init: &[f64],
    max_iter: usize,
    clamp: C,
) -> LmResult
where
    F: Fn(&[f64], f64) -> f64,
    C: Fn(&mut [f64]),
{
    let n = init.len();
    let mut p = init.to_vec();
    clamp(&mut p);
    let sse_of = |p: &[f64]| -> f64 {
        xs.iter()
            .zip(ys)
            .map(|(&x, &y)| {
                let r = y - f(p, x);
                r * r
            })
            .sum()
    };
    let mut sse = sse_of(&p);
    let mut lambda = 1e-3;
    let mut converged = false;
    let mut it = 0;
    let mut jac = vec![0.0; xs.len() * n];
    while it < max_iter {
        it += 1;
        // Jacobian of the model by central differences.
        for j in 0..n {
            let h = 1e-6 * p[j].abs().max(1e-6);
            let mut hi = p.clone();
            let mut lo = p.clone();
            hi[j] += h;
            lo[j] -= h;
            for (i, &x) in xs.iter().enumerate() {
                jac[i * n + j] = (f(&hi, x) - f(&lo, x)) / (2.0 * h);
            }
        }
        let mut jtj = vec![0.0; n * n];
        let mut jtr = vec![0.0; n];
        for (i, (&x, &y)) in xs.iter().zip(ys).enumerate() {
            let r = y - f(&p, x);
            let row = &jac[i * n..(i + 1) * n];
            for a in 0..n {
                jtr[a] += row[a] * r;
                for b in 0..n {
                    jtj[a * n + b] += row[a] * row[b];
                }
            }
        }
        let mut improved = false;
        // Raise the damping until a step lowers the SSE (bounded tries).
        for _ in 0..30 {
            let mut m = jtj.clone();
            for a in 0..n {
                m[a * n + a] += lambda * jtj[a * n + a].max(1e-12);
            }
            let Some(delta) = solve(&mut m, &mut jtr.clone(), n) else {
                lambda *= 10.0;
                continue;
            };
            let mut cand: Vec<f64> = p.iter().zip(&delta).map(|(a, d)| a + d).collect();
            clamp(&mut cand);
            let cand_sse = sse_of(&cand);
            if cand_sse.is_finite() && cand_sse < sse {
                let rel = (sse - cand_sse) / sse.max(1e-300);
                p = cand;
                sse = cand_sse;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                if rel < 1e-12 {
                    converged = true;
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            // No step helps: we are at a (local) minimum.
            converged = true;
        }
        if converged {
            break;
        }
    }
    LmResult {
        params: p,
        sse,
        iterations: it,
        converged,
    }
}

/// Solves `m · x = b` (m is n×n, row-major) in place; None when singular.
pub(crate) fn solve(m: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    for col in 0..n {
        let piv = (col..n).max_by(|&a, &c| {
            m[a * n + col]
                .abs()
                .partial_cmp(&m[c * n + col].abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
        if m[piv * n + col].abs() < 1e-300 || !m[piv * n + col].is_finite() {
            return None;
        }
        if piv != col {
            for k in 0..n {
                m.swap(piv * n + k, col * n + k);
            }
            b.swap(piv, col);
        }
        for row in col + 1..n {
            let factor = m[row * n + col] / m[col * n + col];
            for k in col..n {
                m[row * n + k] -= factor * m[col * n + k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let mut s = b[row];
        for k in row + 1..n {
            s -= m[row * n + k] * x[k];
        }
        x[row] = s / m[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Ordinary least squares line y = a + b·x; None with < 2 distinct x.
pub fn linear_fit(xs: &[f64], ys: &[f64]) -> Option<(f64, f64)> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let mx = xs[..n].iter().sum::<f64>() / n as f64;
    let my = ys[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for i in 0..n {
        sxy += (xs[i] - mx) * (ys[i] - my);
        sxx += (xs[i] - mx) * (xs[i] - mx);
    }
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        let mut m = vec![2.0, 1.0, 1.0, 3.0];
        let mut b = vec![3.0, 5.0];
        let x = solve(&mut m, &mut b, 2).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }

    #[test]
    fn fits_an_exponential_exactly() {
        let xs: Vec<f64> = (0..20).map(|i| i as f64 * 0.1).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * (-1.7 * x).exp()).collect();
        let r = levenberg_marquardt(
            |p, x| p[0] * (p[1] * x).exp(),
            &xs,
            &ys,
            &[1.0, -0.5],
            200,
            |_| {},
        );
        assert!((r.params[0] - 3.0).abs() < 1e-6, "{r:?}");
        assert!((r.params[1] + 1.7).abs() < 1e-6, "{r:?}");
    }
}
