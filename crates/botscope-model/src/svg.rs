//! Hand-written SVG charts: small, self-contained, no fonts to load.
//! Every text is XML-escaped because labels may come from hostile data.

use std::fmt::Write;

/// One named line of (x, y) points.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Draw dots instead of a line (observations).
    pub dots: bool,
}

const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];
const W: f64 = 640.0;
const H: f64 = 320.0;
const L: f64 = 60.0;
const R: f64 = 20.0;
const T: f64 = 30.0;
const B: f64 = 40.0;
/// Most points drawn per series; longer series are thinned evenly.
pub const MAX_POINTS: usize = 2_000;

/// Escapes `&`, `<`, `>`, `"` and `'` for XML/HTML text and attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A line chart with axes, 5 ticks per axis and a legend.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let all = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, f64::NEG_INFINITY);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y1) = (0.0, 1.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let sx = |x: f64| L + (x - x0) / (x1 - x0) * (W - L - R);
    let sy = |y: f64| H - B - (y - y0) / (y1 - y0) * (H - T - B);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title><rect width="100%" height="100%" fill="white"/><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">{t}</text>"#,
        t = esc(title),
        cx = W / 2.0
    );
    axes(&mut o, x_label, y_label);
    for i in 0..=4 {
        let fx = x0 + (x1 - x0) * i as f64 / 4.0;
        let fy = y0 + (y1 - y0) * i as f64 / 4.0;
        let _ = write!(
            o,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" font-family="sans-serif">{}</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" font-family="sans-serif">{}</text>"#,
            sx(fx),
            H - B + 14.0,
            fmt_num(fx),
            L - 4.0,
            sy(fy) + 3.0,
            fmt_num(fy)
        );
    }
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let step = s.points.len().div_ceil(MAX_POINTS).max(1);
        let pts = s
            .points
            .iter()
            .step_by(step)
            .filter(|p| p.0.is_finite() && p.1.is_finite());
        if s.dots {
            for &(x, y) in pts {
                let _ = write!(
                    o,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2" fill="{color}"/>"#,
                    sx(x),
                    sy(y)
                );
            }
        } else {
            let d: Vec<String> = pts
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = write!(
                o,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
                d.join(" ")
            );
        }
        let ly = T + 4.0 + 14.0 * i as f64;
        let _ = write!(
            o,
            r#"<rect x="{:.1}" y="{ly:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11" font-family="sans-serif">{}</text>"#,
            L + 10.0,
            L + 24.0,
            ly + 9.0,
            esc(&s.name)
        );
    }
    o.push_str("</svg>");
    o
}

/// A vertical bar chart of labelled values.
pub fn bar_chart(title: &str, x_label: &str, y_label: &str, bars: &[(String, f64)]) -> String {
    let max = bars
        .iter()
        .map(|b| b.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1.0);
    let n = bars.len().max(1) as f64;
    let bw = (W - L - R) / n;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title><rect width="100%" height="100%" fill="white"/><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">{t}</text>"#,
        t = esc(title),
        cx = W / 2.0
    );
    axes(&mut o, x_label, y_label);
    let _ = write!(
        o,
        r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" font-family="sans-serif">{}</text>"#,
        L - 4.0,
        T + 3.0,
        fmt_num(max)
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
        let h = v / max * (H - T - B);
        let x = L + bw * i as f64;
        let _ = write!(
            o,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
            x + bw * 0.1,
            H - B - h,
            bw * 0.8,
            h,
            PALETTE[0],
            esc(label),
            fmt_num(v)
        );
        if bars.len() <= 30 {
            let _ = write!(
                o,
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" font-family="sans-serif">{}</text>"#,
                x + bw / 2.0,
                H - B + 12.0,
                esc(label)
            );
        }
    }
    o.push_str("</svg>");
    o
}

fn axes(o: &mut String, x_label: &str, y_label: &str) {
    let _ = write!(
        o,
        r#"<line x1="{L}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="black"/><line x1="{L}" y1="{T}" x2="{L}" y2="{yb}" stroke="black"/><text x="{cx}" y="{xl}" text-anchor="middle" font-size="11" font-family="sans-serif">{x}</text><text x="12" y="{cy}" text-anchor="middle" font-size="11" font-family="sans-serif" transform="rotate(-90 12 {cy})">{y}</text>"#,
        yb = H - B,
        xr = W - R,
        cx = (L + W - R) / 2.0,
        xl = H - 6.0,
        cy = (T + H - B) / 2.0,
        x = esc(x_label),
        y = esc(y_label)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_hostile_labels() {
        let s = bar_chart("t", "x", "y", &[("<script>".into(), 3.0)]);
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;: 3"));
    }
}
