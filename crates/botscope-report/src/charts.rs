//! The report's charts, one kind per figure: a time series with its model
//! fit and residuals, a timeline (Fig. 3), a histogram with the 100-request
//! mark (Fig. 5), a 24-hour clock (diurnal joins) and paired bars of the
//! measured shares beside the study's. Inline SVG, no fonts or scripts to
//! load; every text is escaped (labels come from hostile data).

use botscope_model::svg::esc;
use std::fmt::Write;

/// Colour of measured values.
pub const MEASURED: &str = "#1f5fa8";
/// Colour of the study's published values.
pub const STUDY: &str = "#c0792b";
const PALETTE: [&str; 7] = [
    "#1f5fa8", "#c0392b", "#2e8b57", "#c0792b", "#7d3c98", "#5d6d7e", "#b7950b",
];

fn open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" font-family=\"system-ui,sans-serif\" font-size=\"12\"><title>{t}</title>",
        t = esc(title)
    )
}

/// A round step for an axis spanning `span` with about `n` ticks.
fn nice_step(span: f64, n: f64) -> f64 {
    if span.is_nan() || span <= 0.0 {
        return 1.0;
    }
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    let r = raw / mag;
    let k = if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    };
    k * mag
}

fn tick_text(v: f64) -> String {
    if v.abs() >= 1000.0 {
        crate::build::fmt_int(v.round() as i64)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A time series: observations as dots, an optional fitted curve, and
/// beneath, the residuals (observation − fit). `x` is seconds since
/// `t0_label`'s instant; `x_tick` names an x value (e.g. a clock time).
pub fn time_series(
    title: &str,
    y_label: &str,
    points: &[(f64, f64)],
    fit: Option<&[(f64, f64)]>,
    residuals: Option<&[(f64, f64)]>,
    x_tick: &dyn Fn(f64) -> String,
) -> String {
    fitted_series(
        title,
        y_label,
        points,
        fit.map(|f| (f, "equation 1 (logistic) fitted")),
        residuals,
        x_tick,
    )
}

/// [`time_series`] with the fitted curve's legend named by the caller.
pub fn fitted_series(
    title: &str,
    y_label: &str,
    points: &[(f64, f64)],
    fit: Option<(&[(f64, f64)], &str)>,
    residuals: Option<&[(f64, f64)]>,
    x_tick: &dyn Fn(f64) -> String,
) -> String {
    let (fit, fit_label) = match fit {
        Some((f, label)) => (Some(f), label),
        None => (None, ""),
    };
    let (w, l, r) = (720.0, 70.0, 20.0);
    let (top, main_h) = (30.0, 240.0);
    let res_h = if residuals.is_some() { 90.0 } else { 0.0 };
    let h = top + main_h + if res_h > 0.0 { res_h + 30.0 } else { 0.0 } + 45.0;
    let mut o = open(w, h, title);
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all: Vec<(f64, f64)> = points
        .iter()
        .chain(fit.unwrap_or(&[]).iter())
        .filter(finite)
        .copied()
        .collect();
    if all.is_empty() {
        o.push_str("</svg>");
        return o;
    }
    let x0 = all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x1 = all.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let y1 = all.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.08;
    let xs = |x: f64| l + (x - x0) / (x1 - x0).max(1e-9) * (w - l - r);
    let ys = |y: f64| top + main_h - y / y1 * main_h;
    let _ = write!(
        o,
        "<text x=\"{l}\" y=\"18\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    // y grid and ticks.
    let step = nice_step(y1, 5.0);
    let mut v = 0.0;
    while v <= y1 + 1e-9 {
        let y = ys(v);
        let _ = write!(
            o,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - r,
            l - 6.0,
            y + 4.0,
            tick_text(v)
        );
        v += step;
    }
    let _ = write!(
        o,
        "<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        top + main_h / 2.0,
        esc(y_label)
    );
    // x ticks: round steps of time (x is seconds), at most about 8.
    let bottom = if res_h > 0.0 {
        top + main_h + 30.0 + res_h
    } else {
        top + main_h
    };
    let xstep = [
        60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 10_800.0, 21_600.0, 43_200.0, 86_400.0,
        172_800.0, 604_800.0,
    ]
    .into_iter()
    .find(|s| (x1 - x0) / s <= 8.0)
    .unwrap_or((x1 - x0) / 6.0);
    let mut ticks = Vec::new();
    let mut x = (x0 / xstep).ceil() * xstep;
    while x <= x1 + 1e-6 && ticks.len() < 40 {
        ticks.push(x);
        x += xstep;
    }
    for x in ticks {
        let _ = write!(
            o,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{top}\" y2=\"{bottom}\" stroke=\"#f0f0f0\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bottom + 16.0,
            esc(&x_tick(x)),
            px = xs(x)
        );
    }
    let _ = write!(
        o,
        "<line x1=\"{l}\" x2=\"{}\" y1=\"{b:.1}\" y2=\"{b:.1}\" stroke=\"#555\"/>",
        w - r,
        b = top + main_h
    );
    if let Some(fit) = fit {
        let d: Vec<String> = fit
            .iter()
            .filter(finite)
            .map(|p| format!("{:.1},{:.1}", xs(p.0), ys(p.1)))
            .collect();
        let _ = write!(
            o,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{STUDY}\" stroke-width=\"2\"/>",
            d.join(" ")
        );
    }
    for p in points.iter().filter(finite) {
        let _ = write!(
            o,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{MEASURED}\"><title>{}: {}</title></circle>",
            xs(p.0),
            ys(p.1),
            esc(&x_tick(p.0)),
            tick_text(p.1)
        );
    }
    // Legend.
    let ly = h - 12.0;
    let _ = write!(
        o,
        "<circle cx=\"{l}\" cy=\"{:.1}\" r=\"4\" fill=\"{MEASURED}\"/><text x=\"{}\" y=\"{ly}\">observed</text>",
        ly - 4.0,
        l + 8.0
    );
    if fit.is_some() {
        let _ = write!(
            o,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{STUDY}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{ly}\">{}</text>",
            l + 90.0,
            l + 110.0,
            l + 115.0,
            esc(fit_label),
            y = ly - 4.0
        );
    }
    if let Some(res) = residuals {
        let panel = Panel {
            left: l,
            right: w - r,
            top: top + main_h + 30.0,
            height: res_h,
        };
        residual_panel(&mut o, res, &panel, &xs, x_tick);
    }
    o.push_str("</svg>");
    o
}

/// Where a panel sits in its SVG.
struct Panel {
    left: f64,
    right: f64,
    top: f64,
    height: f64,
}

/// The residuals (observed − fit) as bars about a zero line.
fn residual_panel(
    o: &mut String,
    res: &[(f64, f64)],
    p: &Panel,
    xs: &dyn Fn(f64) -> f64,
    x_tick: &dyn Fn(f64) -> String,
) {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let (l, rt, res_h) = (p.left, p.top, p.height);
    let m = res
        .iter()
        .filter(finite)
        .map(|p| p.1.abs())
        .fold(0.0, f64::max)
        .max(1e-9);
    let ry = |v: f64| rt + res_h / 2.0 - v / m * (res_h / 2.0 - 4.0);
    let _ = write!(
        o,
        "<text x=\"{l}\" y=\"{:.1}\">residuals (observed − fit), ±{}</text><line x1=\"{l}\" x2=\"{}\" y1=\"{z:.1}\" y2=\"{z:.1}\" stroke=\"#555\"/>",
        rt - 6.0,
        tick_text(m),
        p.right,
        z = ry(0.0)
    );
    for q in res.iter().filter(finite) {
        let _ = write!(
            o,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{MEASURED}\" stroke-width=\"3\"><title>{}: {}</title></line>",
            ry(0.0),
            ry(q.1),
            esc(&x_tick(q.0)),
            tick_text(q.1),
            x = xs(q.0)
        );
    }
}

/// Fig. 3 as a timeline: one line per infected host (at most 30), a dot per
/// stage at its delay after the first, stages coloured in the study's order.
pub fn timeline(title: &str, stages: &[&str], rows: &[(String, Vec<(String, f64)>)]) -> String {
    let rows = &rows[..rows.len().min(30)];
    let (w, l, r, top) = (720.0, 120.0, 20.0, 30.0);
    let lane = 18.0;
    let h = top + lane * rows.len().max(1) as f64 + 70.0;
    let mut o = open(w, h, title);
    let _ = write!(
        o,
        "<text x=\"10\" y=\"18\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    let xmax = rows
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    // Square-root scale: the first seconds (exploit, copy) and the later
    // minutes (IRC, update) both stay readable.
    let xs = |x: f64| l + (x.max(0.0) / xmax).sqrt() * (w - l - r);
    let bottom = top + lane * rows.len() as f64;
    let mut ticks = vec![0.0, 1.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 4.0 * 3600.0];
    ticks.retain(|t| *t <= xmax);
    ticks.push(xmax);
    for t in ticks {
        let _ = write!(
            o,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{bottom}\" stroke=\"#e3e3e3\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
            bottom + 14.0,
            crate::build::fmt_duration(t),
            x = xs(t)
        );
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"middle\">time after the first stage (square-root scale)</text>",
        (l + w - r) / 2.0,
        bottom + 30.0
    );
    for (i, (name, ss)) in rows.iter().enumerate() {
        let y = top + lane * (i as f64 + 0.5);
        let last = ss.iter().map(|p| p.1).fold(0.0, f64::max);
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text><line x1=\"{l}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#999\"/>",
            l - 6.0,
            y + 4.0,
            esc(name),
            xs(last)
        );
        for (st, t) in ss {
            let c = stages
                .iter()
                .position(|s| s == st)
                .map(|k| PALETTE[k % PALETTE.len()])
                .unwrap_or("#000");
            let _ = write!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{c}\" stroke=\"#fff\"><title>{} {}: +{}</title></circle>",
                xs(*t),
                esc(name),
                esc(st),
                crate::build::fmt_duration(*t)
            );
        }
    }
    let ly = h - 10.0;
    let mut x = l;
    for (k, s) in stages.iter().enumerate() {
        let _ = write!(
            o,
            "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{ly}\">{}</text>",
            ly - 4.0,
            PALETTE[k % PALETTE.len()],
            x + 8.0,
            esc(&crate::build::stage_name(s))
        );
        x += 95.0;
    }
    o.push_str("</svg>");
    o
}

/// Fig. 5 as a histogram of sources per request-count bin, with the
/// 100-request mark and the share left of it (measured and the study's).
pub fn histogram(
    title: &str,
    bins: &[(String, f64)],
    mark_after: usize,
    mark_label: &str,
) -> String {
    let (w, l, r, top, ph) = (720.0, 60.0, 20.0, 30.0, 220.0);
    let h = top + ph + 60.0;
    let mut o = open(w, h, title);
    let _ = write!(
        o,
        "<text x=\"{l}\" y=\"18\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    let ymax = bins.iter().map(|b| b.1).fold(0.0, f64::max).max(1.0) * 1.1;
    let n = bins.len().max(1) as f64;
    let bw = (w - l - r) / n;
    let ys = |v: f64| top + ph - v / ymax * ph;
    let step = nice_step(ymax, 4.0);
    let mut v = 0.0;
    while v <= ymax {
        let _ = write!(
            o,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - r,
            l - 6.0,
            ys(v) + 4.0,
            tick_text(v),
            y = ys(v)
        );
        v += step;
    }
    for (i, (label, val)) in bins.iter().enumerate() {
        let x = l + bw * i as f64;
        let _ = write!(
            o,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
            x + 2.0,
            ys(*val),
            bw - 4.0,
            top + ph - ys(*val),
            if i < mark_after { MEASURED } else { "#8fb0d6" },
            esc(label),
            tick_text(*val),
            x + bw / 2.0,
            top + ph + 14.0,
            esc(label),
            x + bw / 2.0,
            ys(*val) - 3.0,
            tick_text(*val)
        );
    }
    let mx = l + bw * mark_after as f64;
    let _ = write!(
        o,
        "<line x1=\"{mx:.1}\" x2=\"{mx:.1}\" y1=\"{}\" y2=\"{:.1}\" stroke=\"{STUDY}\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/><text x=\"{:.1}\" y=\"{}\" fill=\"{STUDY}\">{}</text><text x=\"{}\" y=\"{:.1}\" text-anchor=\"middle\">requests per source</text><text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">sources</text>",
        top - 4.0,
        top + ph,
        mx + 4.0,
        top + 10.0,
        esc(mark_label),
        (l + w - r) / 2.0,
        top + ph + 34.0,
        top + ph / 2.0
    );
    o.push_str("</svg>");
    o
}

/// Joins per local hour on a 24-hour clock: midnight at the top, one
/// wedge per hour with its length proportional to the joins; night hours
/// (22–6) shaded.
pub fn clock(title: &str, hours: &[u64], tz_label: &str) -> String {
    let (w, h) = (380.0, 400.0);
    let (cx, cy, rmax) = (190.0, 215.0, 150.0);
    let mut o = open(w, h, title);
    let _ = write!(
        o,
        "<text x=\"10\" y=\"18\" font-weight=\"bold\">{}</text><text x=\"10\" y=\"34\" font-size=\"11\">{}</text>",
        esc(title),
        esc(tz_label)
    );
    let max = hours.iter().copied().max().unwrap_or(0).max(1) as f64;
    let pt = |hour: f64, rad: f64| {
        let a = hour / 24.0 * std::f64::consts::TAU - std::f64::consts::FRAC_PI_2;
        (cx + rad * a.cos(), cy + rad * a.sin())
    };
    for hr in 0..24 {
        if !(6..22).contains(&hr) {
            let (x0, y0) = pt(hr as f64, rmax);
            let (x1, y1) = pt(hr as f64 + 1.0, rmax);
            let _ = write!(
                o,
                "<path d=\"M{cx},{cy} L{x0:.1},{y0:.1} A{rmax},{rmax} 0 0 1 {x1:.1},{y1:.1} Z\" fill=\"#eef0f5\"/>"
            );
        }
    }
    for frac in [0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            o,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{:.1}\" fill=\"none\" stroke=\"#ddd\"/>",
            rmax * frac
        );
    }
    for (hr, &n) in hours.iter().enumerate().take(24) {
        let rad = rmax * (n as f64 / max).sqrt();
        let (x0, y0) = pt(hr as f64 + 0.08, rad);
        let (x1, y1) = pt(hr as f64 + 0.92, rad);
        let _ = write!(
            o,
            "<path d=\"M{cx},{cy} L{x0:.1},{y0:.1} A{rad:.1},{rad:.1} 0 0 1 {x1:.1},{y1:.1} Z\" fill=\"{MEASURED}\" fill-opacity=\"0.85\"><title>{hr:02}:00–{:02}:00 — {n} joins</title></path>",
            (hr + 1) % 24
        );
    }
    for hr in (0..24).step_by(3) {
        let (x, y) = pt(hr as f64, rmax + 14.0);
        let _ = write!(
            o,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{hr:02}h</text>",
            y + 4.0
        );
    }
    let _ = write!(
        o,
        "<text x=\"10\" y=\"{}\" font-size=\"11\">wedge area ∝ joins (max {}); shaded: 22h–6h</text>",
        h - 8.0,
        max as u64
    );
    o.push_str("</svg>");
    o
}

/// Measured shares beside the study's, as paired horizontal bars (percent).
pub fn paired_bars(title: &str, rows: &[(String, Option<f64>, Option<f64>)]) -> String {
    let rows = &rows[..rows.len().min(16)];
    let (w, l, r, top) = (640.0, 260.0, 50.0, 40.0);
    let lane = 26.0;
    let h = top + lane * rows.len().max(1) as f64 + 20.0;
    let mut o = open(w, h, title);
    let _ = write!(
        o,
        "<text x=\"10\" y=\"16\" font-weight=\"bold\">{}</text><rect x=\"10\" y=\"24\" width=\"10\" height=\"8\" fill=\"{MEASURED}\"/><text x=\"24\" y=\"32\" font-size=\"11\">measured</text><rect x=\"90\" y=\"24\" width=\"10\" height=\"8\" fill=\"{STUDY}\"/><text x=\"104\" y=\"32\" font-size=\"11\">study (2005)</text>",
        esc(title)
    );
    let max = rows
        .iter()
        .flat_map(|r| [r.1, r.2])
        .flatten()
        .fold(1.0, f64::max);
    let xs = |v: f64| v / max * (w - l - r);
    for (i, (label, m, s)) in rows.iter().enumerate() {
        let y = top + lane * i as f64;
        let short: String = if label.chars().count() > 40 {
            label.chars().take(39).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            l - 6.0,
            y + 14.0,
            esc(&short)
        );
        for (k, (v, c)) in [(m, MEASURED), (s, STUDY)].into_iter().enumerate() {
            if let Some(v) = v {
                let yy = y + 3.0 + k as f64 * 10.0;
                let _ = write!(
                    o,
                    "<rect x=\"{l}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"9\" fill=\"{c}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{v:.1} %</text>",
                    xs(*v).max(0.5),
                    l + xs(*v) + 4.0,
                    yy + 8.0
                );
            }
        }
    }
    o.push_str("</svg>");
    o
}
