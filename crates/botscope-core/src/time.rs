//! Timestamps: microseconds since the Unix epoch, rendered as Zeek does
//! (epoch seconds with six decimals) and as RFC 3339 UTC.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
///
/// Microseconds match pcap's default resolution and Zeek's log precision;
/// nanosecond sources are truncated when converted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// Builds a timestamp from whole seconds and microseconds.
    pub fn from_secs_micros(secs: i64, micros: i64) -> Ts {
        Ts(secs.saturating_mul(1_000_000).saturating_add(micros))
    }

    /// Builds a timestamp from whole seconds and nanoseconds (truncating).
    pub fn from_secs_nanos(secs: i64, nanos: i64) -> Ts {
        Ts::from_secs_micros(secs, nanos / 1000)
    }

    /// Seconds since the epoch as a float (Zeek's `time` type).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Zeek's rendering: `1320279566.452687`.
    pub fn zeek(self) -> String {
        format!("{}.{:06}", self.secs(), self.0.rem_euclid(1_000_000))
    }

    /// RFC 3339 UTC with microseconds: `2011-11-03T00:19:26.452687Z`.
    pub fn rfc3339(self) -> String {
        let secs = self.secs();
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60,
            self.0.rem_euclid(1_000_000)
        )
    }

    /// The UTC calendar day `YYYY-MM-DD` this instant falls on.
    pub fn utc_day(self) -> String {
        let (y, mo, d) = civil_from_days(self.secs().div_euclid(86_400));
        format!("{y:04}-{mo:02}-{d:02}")
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac][Z]` (UTC only).
    pub fn parse_rfc3339(s: &str) -> Option<Ts> {
        let b = s.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        let mut micros = 0i64;
        let rest = &s[19..];
        let rest = if let Some(frac) = rest.strip_prefix('.') {
            let digits: String = frac.chars().take_while(|c| c.is_ascii_digit()).collect();
            let mut scaled = digits.clone();
            scaled.truncate(6);
            while scaled.len() < 6 {
                scaled.push('0');
            }
            micros = scaled.parse().ok()?;
            &frac[digits.len()..]
        } else {
            rest
        };
        if !(rest.is_empty() || rest == "Z" || rest == "+00:00") {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(Ts::from_secs_micros(
            days * 86_400 + h * 3600 + mi * 60 + se,
            micros,
        ))
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// Events serialise `ts` as RFC 3339; epoch seconds go in a sibling field
/// where a log needs them (Zeek TSV uses [`Ts::zeek`]).
impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ts, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Epoch(f64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(t) => Ts::parse_rfc3339(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("bad RFC 3339 time {t:?}"))),
            Raw::Epoch(f) => Ok(Ts((f * 1e6).round() as i64)),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_zeek_and_rfc3339() {
        let t = Ts::from_secs_micros(1_320_279_566, 452_687);
        assert_eq!(t.zeek(), "1320279566.452687");
        assert_eq!(t.rfc3339(), "2011-11-03T00:19:26.452687Z");
        assert_eq!(t.utc_day(), "2011-11-03");
        assert_eq!(Ts::parse_rfc3339("2011-11-03T00:19:26.452687Z"), Some(t));
    }

    #[test]
    fn round_trips_calendar() {
        for days in [-1000, 0, 1, 12_000, 20_000, 40_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(12_894), (2005, 4, 21));
    }

    #[test]
    fn rejects_malformed_times() {
        assert_eq!(Ts::parse_rfc3339("2005-13-01T00:00:00Z"), None);
        assert_eq!(Ts::parse_rfc3339("yesterday"), None);
        assert_eq!(Ts::parse_rfc3339("2005-01-01T00:00:00+09:00"), None);
    }
}
