//! Fitting recovers the generator's parameters (within 5 %) from noisy
//! synthetic observations — one test per equation. The noise comes from a
//! seeded generator in this file so runs are repeatable.

use botscope_model::*;

/// SplitMix64: a tiny seeded generator, enough for test noise.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Poisson by inversion for small means, normal approximation above.
    fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 200.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0);
        }
        let (l, mut k, mut p) = ((-mean).exp(), 0.0, 1.0);
        loop {
            p *= self.uniform();
            if p <= l {
                return k;
            }
            k += 1.0;
        }
    }
}

fn within(got: f64, want: f64, tol: f64) -> bool {
    ((got - want) / want).abs() <= tol
}

#[test]
fn equation1_logistic_fit_recovers_p_and_theta() {
    for (seed, truth) in [
        (
            1u64,
            Logistic {
                p: 0.8,
                theta: 1250.0,
                m0: 5.0,
            },
        ),
        (
            2,
            Logistic {
                p: 0.35,
                theta: 40_000.0,
                m0: 20.0,
            },
        ),
    ] {
        let mut rng = Rng(seed);
        let horizon = 25.0 / truth.p;
        let ts: Vec<f64> = (0..200).map(|i| i as f64 * horizon / 200.0).collect();
        // 3 % multiplicative noise on every count, like sampling error.
        let ms: Vec<f64> = ts
            .iter()
            .map(|&t| truth.at(t) * (1.0 + 0.03 * rng.normal()))
            .collect();
        let fit = fit_logistic(&ts, &ms).unwrap();
        assert!(fit.converged, "{fit:?}");
        assert!(
            within(fit.model.p, truth.p, 0.05),
            "p {} vs {}",
            fit.model.p,
            truth.p
        );
        assert!(
            within(fit.model.theta, truth.theta, 0.05),
            "θ {} vs {}",
            fit.model.theta,
            truth.theta
        );
        assert!(within(fit.model.capacity(), truth.capacity(), 0.02));
    }
}

#[test]
fn equation2_burst_fit_recovers_slope_and_length() {
    let truth = BurstModel {
        theta: 200.0,
        p: 0.002,
        r: 12.0, // p·r = 0.024 per minute
        max_tp: 45.0,
        orders: vec![
            Order {
                t: 0.0,
                max_ta: 30.0,
            }, // ordered 30 min < max t_P
            Order {
                t: 100.0,
                max_ta: 0.0,
            }, // "0" = until stopped: max t_P rules
            Order {
                t: 220.0,
                max_ta: 20.0,
            },
        ],
    };
    let mut rng = Rng(7);
    let samples = truth.simulate(320.0, 0.5);
    let ts: Vec<f64> = samples.iter().map(|s| s.0).collect();
    let ms: Vec<f64> = samples.iter().map(|s| s.1 + 1.5 * rng.normal()).collect();
    let fits = fit_bursts(&ts, &ms, &[0.0, 100.0, 220.0]).unwrap();
    let sizes = truth.order_sizes();
    assert_eq!(fits.len(), 3);
    for ((fit, order), theta) in fits.iter().zip(&truth.orders).zip(&sizes) {
        let want_len = truth.burst_length(order);
        let want_slope = theta * truth.p * truth.r;
        assert!(
            within(fit.length, want_len, 0.05),
            "length {} vs {want_len}",
            fit.length
        );
        assert!(
            within(fit.slope, want_slope, 0.05),
            "slope {} vs {want_slope}",
            fit.slope
        );
        assert!(
            within(fit.theta, *theta, 0.05),
            "θᵢ {} vs {theta}",
            fit.theta
        );
        assert!(
            within(fit.pr, truth.p * truth.r, 0.05),
            "p·r {} vs {}",
            fit.pr,
            truth.p * truth.r
        );
    }
    // The known ground truth of the generator, computed by hand.
    assert!((sizes[1] - 344.0).abs() < 1e-9 && (fits[1].length - 45.0).abs() < 2.25);
    // r and p from the observed scan counts of the first burst.
    let packets = 200.0 * 12.0 * 30.0;
    assert!(within(
        burst::scan_rate(packets, 200.0, 30.0).unwrap(),
        12.0,
        1e-12
    ));
    assert!(within(
        burst::infection_probability(144.0, packets).unwrap(),
        0.002,
        1e-12
    ));
}

#[test]
fn equation3_ddos_fit_recovers_attack_rate_and_effect() {
    let truth = Ddos { p: 2.5, e: 0.004 };
    let mut rng = Rng(11);
    let mut windows = Vec::new();
    let mut effects = Vec::new();
    for i in 0..60 {
        let bots = 20.0 + (i * 7 % 300) as f64;
        let duration = 60.0;
        // Flood packets counted at the target: Poisson with mean M·P·duration.
        windows.push(Window {
            bots,
            duration,
            count: rng.poisson(bots * truth.p * duration),
        });
        // Observed effect per window (e.g. share of the target's capacity), 5 % noise.
        effects.push(truth.effect(bots) * (1.0 + 0.05 * rng.normal()));
    }
    let (fit, rate) = fit_ddos(&windows, &effects).unwrap();
    assert!(within(fit.p, truth.p, 0.05), "P {} vs {}", fit.p, truth.p);
    assert!(within(fit.e, truth.e, 0.05), "E {} vs {}", fit.e, truth.e);
    assert!(rate.stderr < 0.05 * truth.p);
    assert_eq!(rate.n, 60);
}

#[test]
fn equation4_spam_fit_recovers_mails_per_bot() {
    let truth = Spam { f: 0.7 };
    let mut rng = Rng(23);
    // Relays observed hour by hour over six days with a varying active botnet.
    let windows: Vec<Window> = (0..144)
        .map(|h| {
            let bots = 5.0 + ((h * 37) % 90) as f64;
            Window {
                bots,
                duration: 1.0,
                count: rng.poisson(bots * truth.f),
            }
        })
        .collect();
    let (fit, rate) = fit_spam(&windows).unwrap();
    assert!(within(fit.f, truth.f, 0.05), "F {} vs {}", fit.f, truth.f);
    assert!(rate.stderr > 0.0 && rate.stderr < 0.03);
    // Bad windows are ignored, not fatal.
    let mut dirty = windows.clone();
    dirty.push(Window {
        bots: 0.0,
        duration: 1.0,
        count: 1e9,
    });
    dirty.push(Window {
        bots: f64::NAN,
        duration: 1.0,
        count: 1.0,
    });
    assert_eq!(fit_spam(&dirty).unwrap().1.n, 144);
    // And the model itself: S = M·F.
    assert!((Spam { f: 0.7 }.rate(100.0) - 70.0).abs() < 1e-12);
}

#[test]
fn scenario_csv_has_all_equations() {
    let sc = Scenario {
        growth: Growth::Logistic(Logistic {
            p: 1.0,
            theta: 200.0,
            m0: 100.0,
        }),
        ddos: Ddos { p: 2.0, e: 0.5 },
        spam: Spam { f: 3.0 },
    };
    let csv = samples_csv(&sc.simulate(1.0, 1.0));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "t,M,ddos_effect,spam_rate");
    assert_eq!(lines[1], "0,100,100,300");
    // M0 = K/2: at t = 1, M = 200/(1+e^-1) = 146.2117...
    let row: Vec<f64> = lines[2].split(',').map(|v| v.parse().unwrap()).collect();
    assert!((row[1] - 146.2117157).abs() < 1e-3, "{row:?}");
    assert!((row[2] - row[1]).abs() < 1e-9 && (row[3] - 3.0 * row[1]).abs() < 1e-9);
}
