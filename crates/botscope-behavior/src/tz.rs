//! Time zones for the diurnal table: fixed offsets (`+09:00`, `-0500`,
//! `UTC`) and a few named zones mapped to their standard offsets.

/// Named zones accepted by `--tz`, with their offsets in seconds east of UTC
/// (standard time; daylight saving is not applied).
pub const NAMED: [(&str, i32); 14] = [
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("JST", 9 * 3600),
    ("Asia/Tokyo", 9 * 3600),
    ("KST", 9 * 3600),
    ("Asia/Seoul", 9 * 3600),
    ("CST-China", 8 * 3600),
    ("Asia/Shanghai", 8 * 3600),
    ("CET", 3600),
    ("Europe/Berlin", 3600),
    ("EST", -5 * 3600),
    ("America/New_York", -5 * 3600),
    ("PST", -8 * 3600),
];

/// Parses a zone into seconds east of UTC.
pub fn parse_tz(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Some((_, o)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)) {
        return Some(*o);
    }
    let s = s
        .strip_prefix("UTC")
        .or_else(|| s.strip_prefix("GMT"))
        .unwrap_or(s);
    let (sign, rest) = match s.chars().next()? {
        '+' => (1, &s[1..]),
        '-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h, m)
    } else if rest.len() == 4 {
        rest.split_at(2)
    } else {
        (rest, "0")
    };
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_names() {
        assert_eq!(parse_tz("+09:00"), Some(32_400));
        assert_eq!(parse_tz("-0530"), Some(-19_800));
        assert_eq!(parse_tz("UTC+9"), Some(32_400));
        assert_eq!(parse_tz("Asia/Tokyo"), Some(32_400));
        assert_eq!(parse_tz("utc"), Some(0));
        assert_eq!(parse_tz("+25:00"), None);
        assert_eq!(parse_tz("Mars/Olympus"), None);
    }
}
