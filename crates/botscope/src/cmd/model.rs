//! `botscope model simulate|fit`: the growth and impact models of the
//! field study (equations 1–4). Simulation writes CSV (and an SVG plot);
//! fitting reads CSV observations and prints the parameters as JSON.

use anyhow::{bail, Context};
use botscope_model::svg::{line_chart, Series};
use botscope_model::{
    self as model, BurstModel, Ddos, Growth, Logistic, Order, Scenario, Spam, Window,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `botscope model`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Simulate M(t) (equation 1 or 2) and its DDoS effect and spam rate (3, 4) as CSV.
    Simulate(SimArgs),
    /// Fit a model's parameters to observations (CSV with a header line).
    Fit(FitArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum GrowthKind {
    /// Equation 1: logistic worm spread.
    Logistic,
    /// Equation 2: command-driven linear bursts.
    Burst,
}

#[derive(clap::Args)]
struct SimArgs {
    /// Growth model.
    #[arg(long, value_enum, default_value = "logistic")]
    growth: GrowthKind,
    /// p: infection rate (logistic) or infection probability per packet (burst).
    #[arg(long, default_value_t = 0.8)]
    p: f64,
    /// θ: maximum infectable addresses (logistic) or bots at t = 0 (burst).
    #[arg(long, default_value_t = 1250.0)]
    theta: f64,
    /// Infected hosts at t = 0 (logistic only).
    #[arg(long, default_value_t = 5.0)]
    m0: f64,
    /// r: infection packets per bot per unit time (burst).
    #[arg(long, default_value_t = 10.0)]
    r: f64,
    /// max t_P: longest a burst can propagate (burst).
    #[arg(long, default_value_t = 60.0)]
    max_tp: f64,
    /// A scan order as TIME:MINUTES (advscan's minutes; 0 = until stopped). Repeatable.
    #[arg(long = "order", value_name = "T:MINUTES")]
    orders: Vec<String>,
    /// P: attacks per bot per unit time (equation 3).
    #[arg(long, default_value_t = 1.0)]
    attack_rate: f64,
    /// E: effect of one attack (equation 3).
    #[arg(long, default_value_t = 1.0)]
    effect: f64,
    /// F: mails per bot per unit time (equation 4).
    #[arg(long, default_value_t = 1.0)]
    mail_rate: f64,
    /// Simulate from 0 to this time.
    #[arg(long, default_value_t = 20.0)]
    t_end: f64,
    /// Time step.
    #[arg(long, default_value_t = 0.1)]
    dt: f64,
    /// CSV output (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write an SVG plot of M(t).
    #[arg(long)]
    svg: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum FitKind {
    /// Equation 1 from `t,infected`.
    Logistic,
    /// Equation 2 from `t,infected` and `--orders`.
    Burst,
    /// Equation 3 from `bots,duration,count[,effect]` windows of flood packets.
    Ddos,
    /// Equation 4 from `bots,duration,count` windows of relayed mails.
    Spam,
    /// Equations 1–4 with 95 % intervals on `analyze`'s series
    /// (`--analysis DIR`) and/or resolver logs (`--dns-rate FILE`).
    Observed,
}

#[derive(clap::Args)]
struct FitArgs {
    /// Which equation.
    #[arg(value_enum)]
    kind: FitKind,
    /// Observations as CSV with a header line (`analyze --out DIR` writes
    /// them in DIR/series/: infected_cumulative.csv, ddos_rate.csv,
    /// spam_rate.csv).
    #[arg(long, required_unless_present_any = ["analysis", "dns_rate"])]
    input: Option<PathBuf>,
    /// `observed`: the output folder of `botscope analyze --out`.
    #[arg(long)]
    analysis: Option<PathBuf>,
    /// `observed`: `botscope dns rate --json` output; equation 1 is then
    /// fitted to the cumulative infected clients of the resolver logs.
    #[arg(long)]
    dns_rate: Option<PathBuf>,
    /// Order times (burst): comma separated, from the advscan orders seen.
    #[arg(long, value_delimiter = ',')]
    orders: Vec<f64>,
    /// Write an SVG plot of the observations and the fitted curve.
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// Runs `botscope model`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Simulate(a) => simulate(a),
        Sub::Fit(a) => fit(a),
    }
}

fn parse_order(s: &str) -> anyhow::Result<Order> {
    let (t, m) = s
        .split_once(':')
        .with_context(|| format!("order {s:?}: expected TIME:MINUTES"))?;
    Ok(Order {
        t: t.trim()
            .parse()
            .with_context(|| format!("order time {t:?}"))?,
        max_ta: m
            .trim()
            .parse()
            .with_context(|| format!("order minutes {m:?}"))?,
    })
}

fn simulate(a: SimArgs) -> anyhow::Result<ExitCode> {
    let steps = a.t_end / a.dt;
    if a.dt.is_nan() || a.t_end.is_nan() || a.dt <= 0.0 || a.t_end <= 0.0 || steps > 10_000_000.0 {
        bail!("need 0 < dt, 0 < t-end and at most 10 million steps");
    }
    let growth = match a.growth {
        GrowthKind::Logistic => Growth::Logistic(Logistic {
            p: a.p,
            theta: a.theta,
            m0: a.m0,
        }),
        GrowthKind::Burst => {
            let mut orders = a
                .orders
                .iter()
                .map(|s| parse_order(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if orders.is_empty() {
                orders.push(Order {
                    t: 0.0,
                    max_ta: 0.0,
                });
            }
            orders.sort_by(|x, y| x.t.total_cmp(&y.t));
            Growth::Burst(BurstModel {
                theta: a.theta,
                p: a.p,
                r: a.r,
                max_tp: a.max_tp,
                orders,
            })
        }
    };
    let sc = Scenario {
        growth,
        ddos: Ddos {
            p: a.attack_rate,
            e: a.effect,
        },
        spam: Spam { f: a.mail_rate },
    };
    let samples = sc.simulate(a.t_end, a.dt);
    let csv = model::samples_csv(&samples);
    match &a.out {
        Some(p) => std::fs::write(p, csv).with_context(|| format!("writing {}", p.display()))?,
        // A closed pipe (`| head`) is not an error worth a panic.
        None => {
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), csv.as_bytes());
        }
    }
    if let Some(p) = &a.svg {
        let pts = samples.iter().map(|s| (s.t, s.m)).collect();
        let title = match a.growth {
            GrowthKind::Logistic => "Equation 1 — logistic spread",
            GrowthKind::Burst => "Equation 2 — command-driven bursts",
        };
        let svg = line_chart(
            title,
            "t",
            "M(t)",
            &[Series {
                name: "M(t)".into(),
                points: pts,
                dots: false,
            }],
        );
        std::fs::write(p, svg).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `model fit observed`: every equation on what the analyses wrote.
fn fit_observed(a: &FitArgs) -> anyhow::Result<ExitCode> {
    let mut series = model::series::ModelSeries::default();
    if let Some(dir) = &a.analysis {
        let p = dir.join("series").join("series.json");
        let bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        series =
            serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", p.display()))?;
        series.cumulative_source = Some("captures (Fig. 3 sequences)".into());
    }
    if let Some(p) = &a.dns_rate {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        series.cumulative = model::series::cumulative_from_dns_rate(&bytes)
            .with_context(|| format!("parsing {}", p.display()))?;
        series.cumulative_source = Some("resolver logs".into());
    }
    let fits = model::fits::fit_all(&series);
    let _ = writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(&fits)?
    );
    Ok(ExitCode::SUCCESS)
}

fn fit(a: FitArgs) -> anyhow::Result<ExitCode> {
    if a.kind == FitKind::Observed {
        return fit_observed(&a);
    }
    let Some(input) = &a.input else {
        bail!("--input is needed for this equation");
    };
    let name = input.display().to_string();
    let text = std::fs::read_to_string(input).with_context(|| format!("reading {name}"))?;
    let cols: &[&str] = match a.kind {
        FitKind::Logistic | FitKind::Burst => &["t", "infected"],
        FitKind::Ddos | FitKind::Spam | FitKind::Observed => &["bots", "duration", "count"],
    };
    let (c, skips) = model::read_columns(&name, &text, cols).with_context(|| {
        "botscope analyze --out DIR writes the inputs in DIR/series/ (infected_cumulative.csv, ddos_rate.csv, spam_rate.csv; or use `model fit observed --analysis DIR`)"
    })?;
    for (reason, (n, places)) in &skips.by_reason {
        eprintln!(
            "botscope: skipped {n} × {reason} (first at {})",
            places.join(", ")
        );
    }
    let out = match a.kind {
        FitKind::Logistic => {
            let f = model::fit_logistic(&c[0], &c[1])?;
            if let Some(p) = &a.svg {
                let t_end = c[0].iter().copied().fold(0.0, f64::max);
                let curve = (0..=200)
                    .map(|i| {
                        let t = t_end * i as f64 / 200.0;
                        (t, f.model.at(t))
                    })
                    .collect();
                let obs = c[0].iter().copied().zip(c[1].iter().copied()).collect();
                let svg = line_chart(
                    "Equation 1 fit",
                    "t",
                    "infected",
                    &[
                        Series {
                            name: "observed".into(),
                            points: obs,
                            dots: true,
                        },
                        Series {
                            name: "fit".into(),
                            points: curve,
                            dots: false,
                        },
                    ],
                );
                std::fs::write(p, svg).with_context(|| format!("writing {}", p.display()))?;
            }
            serde_json::json!({"equation": 1, "p": f.model.p, "theta": f.model.theta, "m0": f.model.m0, "capacity": f.model.capacity(), "rmse": f.rmse, "n": f.n, "converged": f.converged})
        }
        FitKind::Burst => {
            if a.orders.is_empty() {
                bail!("burst fitting needs --orders (times of the scan orders)");
            }
            let fits = model::fit_bursts(&c[0], &c[1], &a.orders)?;
            serde_json::json!({"equation": 2, "bursts": fits})
        }
        FitKind::Ddos => {
            let windows: Vec<Window> = (0..c[0].len())
                .map(|i| Window {
                    bots: c[0][i],
                    duration: c[1][i],
                    count: c[2][i],
                })
                .collect();
            // The optional effect column gives E; without it only P is fitted.
            let effects =
                model::read_columns(&name, &text, &["bots", "duration", "count", "effect"]).ok();
            let (d, r) = match &effects {
                Some((ec, _)) => {
                    let w: Vec<Window> = (0..ec[0].len())
                        .map(|i| Window {
                            bots: ec[0][i],
                            duration: ec[1][i],
                            count: ec[2][i],
                        })
                        .collect();
                    model::fit_ddos(&w, &ec[3])?
                }
                None => model::fit_ddos(&windows, &[])?,
            };
            serde_json::json!({"equation": 3, "P": d.p, "E": if d.e.is_finite() { Some(d.e) } else { None }, "stderr_P": r.stderr, "n": r.n})
        }
        FitKind::Spam => {
            let windows: Vec<Window> = (0..c[0].len())
                .map(|i| Window {
                    bots: c[0][i],
                    duration: c[1][i],
                    count: c[2][i],
                })
                .collect();
            let (s, r) = model::fit_spam(&windows)?;
            serde_json::json!({"equation": 4, "F": s.f, "stderr_F": r.stderr, "n": r.n})
        }
        FitKind::Observed => unreachable!("handled by fit_observed above"),
    };
    let _ = writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(&out)?
    );
    Ok(ExitCode::SUCCESS)
}
