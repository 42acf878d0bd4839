//! How numbers, times and durations are written in the report.

use super::*;
use botscope_core::Ts;

/// An integer with thousands separators: `1,177,067`.
pub fn fmt_int(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut o = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    if n < 0 {
        format!("-{o}")
    } else {
        o
    }
}

/// A percentage to one decimal: `31.5 %`.
pub fn fmt_pct(p: f64) -> String {
    format!("{p:.1} %")
}

/// A number without noise: integers plain, others to 4 significant places.
pub fn num_text(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A number to `d` decimals with thousands separators on the integer part.
pub fn fmt_dec(v: f64, d: usize) -> String {
    let s = format!("{:.*}", d, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int = fmt_int(int.parse().unwrap_or(0));
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// An RFC 3339 time as a reader wants it: `2005-05-19 14:00 UTC`
/// (seconds shown only when not zero).
pub fn fmt_time(rfc3339: &str) -> String {
    match Ts::parse_rfc3339(rfc3339) {
        Some(t) => {
            let s = t.rfc3339();
            let (day, rest) = s.split_at(10);
            let hms = &rest[1..9];
            if hms.ends_with(":00") {
                format!("{day} {} UTC", &hms[..5])
            } else {
                format!("{day} {hms} UTC")
            }
        }
        None => rfc3339.to_string(),
    }
}

/// A duration in words: `45 s`, `3 min 20 s`, `2 h 5 min`, `1.5 days`.
pub fn fmt_duration(secs: f64) -> String {
    let s = secs.max(0.0);
    if s < 60.0 {
        return format!("{} s", num_text((s * 10.0).round() / 10.0));
    }
    if s >= 2.0 * 86_400.0 {
        return format!("{:.1} days", s / 86_400.0);
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        match (whole / 60, whole % 60) {
            (m, 0) => format!("{m} min"),
            (m, r) => format!("{m} min {r} s"),
        }
    } else {
        let minutes = (s / 60.0).round() as u64;
        match (minutes / 60, minutes % 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        }
    }
}

/// A stage of Fig. 3 in words.
pub fn stage_name(s: &str) -> String {
    match s {
        "exploit" => "Exploit".into(),
        "copy" => "Copy binary".into(),
        "scan" => "Scan".into(),
        "dns" => "DNS lookup".into(),
        "irc_join" => "IRC join".into(),
        "update" => "Update".into(),
        o => o.to_string(),
    }
}

pub(crate) fn diff_cell(measured: Option<f64>, study: Option<f64>) -> Cell {
    match (measured, study) {
        (Some(m), Some(s)) => {
            let d = m - s;
            let sign = if d.abs() < 0.05 {
                ""
            } else if d > 0.0 {
                "+"
            } else {
                "−"
            };
            Cell::number(format!("{sign}{:.1} pts", d.abs()), d)
        }
        _ => Cell::none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(fmt_int(1_177_067), "1,177,067");
        assert_eq!(fmt_int(-1000), "-1,000");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_pct(31.549), "31.5 %");
        assert_eq!(fmt_dec(8437.25, 1), "8,437.2");
        assert_eq!(fmt_time("2005-05-19T14:00:00Z"), "2005-05-19 14:00 UTC");
        assert_eq!(
            fmt_time("2005-05-19T14:00:07.5Z"),
            "2005-05-19 14:00:07 UTC"
        );
        assert_eq!(fmt_duration(86_400.0), "24 h");
        assert_eq!(fmt_duration(200.0), "3 min 20 s");
        assert_eq!(fmt_duration(4.0), "4 s");
        assert_eq!(fmt_duration(119.6), "2 min");
        assert_eq!(fmt_duration(3599.7), "1 h");
    }
}
