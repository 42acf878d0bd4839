//! Zeek `conn.log` rows formatted straight into a reused byte buffer:
//! integers through a two-digit table, addresses octet by octet, no
//! `format!` and no allocation per field. One row per ended flow is the
//! bulk of the log writer's work on scan-heavy captures (about 2,700
//! instructions a row through the generic TSV writer, most of it in
//! digit loops and per-byte pushes).
//!
//! The bytes equal `botscope_dissect::logs::write_zeek_rows` for a conn
//! record (the column order of its `CONN` schema, Zeek's escaping,
//! `(empty)`, `-` for unset); `botscope capture read` writes conn.log
//! through this.

use botscope_core::events::Conn;
use botscope_core::{Proto, Ts};
use std::io::Write;
use std::net::IpAddr;

/// The wall-clock time (UTC) as Zeek writes it on a log's `#open` and
/// `#close` lines: `YYYY-MM-DD-HH-MM-SS`. One home for every log writer
/// (the dissectors' logs and `capture read`'s conn.log).
pub fn zeek_time_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    zeek_time(now)
}

/// `secs` (Unix seconds, UTC) in Zeek's `#open`/`#close` form.
pub fn zeek_time(secs: i64) -> String {
    let (y, m, d) = botscope_core::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// "00".."99".
const DEC_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut v = 0;
    while v < 100 {
        t[v] = [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
        v += 1;
    }
    t
};

/// Decimal digits of `v` at the end of `out`; returns where they start.
fn digits(mut v: u64, out: &mut [u8; 20]) -> usize {
    let mut i = out.len();
    while v >= 100 {
        let p = DEC_PAIRS[(v % 100) as usize];
        v /= 100;
        i -= 2;
        out[i] = p[0];
        out[i + 1] = p[1];
    }
    if v >= 10 {
        let p = DEC_PAIRS[v as usize];
        i -= 2;
        out[i] = p[0];
        out[i + 1] = p[1];
    } else {
        i -= 1;
        out[i] = b'0' + v as u8;
    }
    i
}

fn num(buf: &mut Vec<u8>, v: u64) {
    let mut d = [0u8; 20];
    let i = digits(v, &mut d);
    buf.extend_from_slice(&d[i..]);
}

fn field_num(buf: &mut Vec<u8>, v: u64) {
    num(buf, v);
    buf.push(b'\t');
}

fn field_opt_num(buf: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => field_num(buf, v),
        None => buf.extend_from_slice(b"-\t"),
    }
}

/// Zeek's escaping inside a field: `\` and control bytes as `\xNN`, and
/// `,` too inside a set.
fn escaped(buf: &mut Vec<u8>, s: &str, in_set: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let plain = |c: u8| c >= 0x20 && c != 0x7f && c != b'\\' && !(in_set && c == b',');
    if s.bytes().all(plain) {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    for c in s.bytes() {
        if plain(c) {
            buf.push(c);
        } else {
            buf.extend_from_slice(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        }
    }
}

/// A string field: `(empty)`, `\x2d` for a lone `-`, else escaped.
fn field_text(buf: &mut Vec<u8>, s: &str) {
    match s {
        "" => buf.extend_from_slice(b"(empty)"),
        "-" => buf.extend_from_slice(b"\\x2d"),
        s => escaped(buf, s, false),
    }
    buf.push(b'\t');
}

/// Zeek time: seconds, a dot and six digits of microseconds.
fn field_ts(buf: &mut Vec<u8>, ts: Ts) {
    let secs = ts.secs();
    if secs < 0 {
        let _ = write!(buf, "{secs}");
    } else {
        num(buf, secs as u64);
    }
    micros6(buf, ts.0.rem_euclid(1_000_000) as u64);
    buf.push(b'\t');
}

/// `.` and exactly six digits.
fn micros6(buf: &mut Vec<u8>, m: u64) {
    let mut f = *b".000000";
    let (a, b, c) = (m / 10_000, (m / 100) % 100, m % 100);
    f[1..3].copy_from_slice(&DEC_PAIRS[a as usize % 100]);
    f[3..5].copy_from_slice(&DEC_PAIRS[b as usize]);
    f[5..7].copy_from_slice(&DEC_PAIRS[c as usize]);
    buf.extend_from_slice(&f);
}

/// An interval with six decimals, as Zeek prints them (`{:.6}`).
fn field_interval(buf: &mut Vec<u8>, v: Option<f64>) {
    let Some(v) = v else {
        buf.extend_from_slice(b"-\t");
        return;
    };
    // Durations are whole microseconds divided by 10⁶: below 10⁹ s the
    // nearest microsecond is exactly what `{:.6}` prints. Anything else
    // (negative, huge, not from whole microseconds) takes the formatter.
    let m = (v * 1e6).round();
    if (0.0..1e15).contains(&m) && (v * 1e6 - m).abs() < 1e-3 {
        let m = m as u64;
        num(buf, m / 1_000_000);
        micros6(buf, m % 1_000_000);
    } else {
        let _ = write!(buf, "{v:.6}");
    }
    buf.push(b'\t');
}

/// Decimal text of every octet value (digits, length).
const OCTETS: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut v = 0;
    while v < 256 {
        t[v] = if v >= 100 {
            (
                [
                    b'0' + (v / 100) as u8,
                    b'0' + (v / 10 % 10) as u8,
                    b'0' + (v % 10) as u8,
                ],
                3,
            )
        } else if v >= 10 {
            ([b'0' + (v / 10) as u8, b'0' + (v % 10) as u8, 0], 2)
        } else {
            ([b'0' + v as u8, 0, 0], 1)
        };
        v += 1;
    }
    t
};

fn field_addr(buf: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => {
            // Built on the stack from the octet table, appended at once.
            let mut t = [0u8; 16];
            let mut n = 0;
            for (k, o) in v4.octets().into_iter().enumerate() {
                let (d, l) = OCTETS[o as usize];
                t[n..n + 3].copy_from_slice(&d);
                n += l as usize;
                t[n] = if k < 3 { b'.' } else { b'\t' };
                n += 1;
            }
            buf.extend_from_slice(&t[..n]);
        }
        IpAddr::V6(_) => {
            let _ = write!(buf, "{a}\t");
        }
    }
}

/// Appends one conn.log row (newline-terminated) to `buf`.
pub fn write_conn_row(c: &Conn, buf: &mut Vec<u8>) {
    buf.reserve(256);
    field_ts(buf, c.ts);
    buf.extend_from_slice(c.uid.as_bytes());
    buf.push(b'\t');
    field_addr(buf, c.id.orig_h);
    field_num(buf, c.id.orig_p as u64);
    field_addr(buf, c.id.resp_h);
    field_num(buf, c.id.resp_p as u64);
    buf.extend_from_slice(match c.id.proto {
        Proto::Tcp => b"tcp\t".as_slice(),
        Proto::Udp => b"udp\t",
        Proto::Icmp => b"icmp\t",
        Proto::Other => b"unknown_transport\t",
    });
    match c.service.as_deref() {
        Some(s) => field_text(buf, s),
        None => buf.extend_from_slice(b"-\t"),
    }
    field_interval(buf, c.duration);
    field_opt_num(buf, c.orig_bytes);
    field_opt_num(buf, c.resp_bytes);
    buf.extend_from_slice(c.conn_state.as_bytes());
    // local_orig, local_resp: unset.
    buf.extend_from_slice(b"\t-\t-\t");
    field_num(buf, c.missed_bytes);
    if c.history.is_empty() {
        buf.extend_from_slice(b"-\t");
    } else {
        field_text(buf, &c.history);
    }
    field_num(buf, c.orig_pkts);
    field_num(buf, c.orig_ip_bytes);
    field_num(buf, c.resp_pkts);
    field_num(buf, c.resp_ip_bytes);
    if c.tunnel_parents.is_empty() {
        buf.extend_from_slice(b"-\t");
    } else {
        for (i, s) in c.tunnel_parents.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            escaped(buf, s, true);
        }
        buf.push(b'\t');
    }
    buf.extend_from_slice(match c.id.proto {
        Proto::Tcp => b"6\n".as_slice(),
        Proto::Udp => b"17\n",
        Proto::Icmp if c.id.orig_h.is_ipv6() => b"58\n",
        Proto::Icmp => b"1\n",
        Proto::Other => b"-\n",
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::events::ConnEvidence;
    use botscope_core::FlowKey;

    fn conn() -> Conn {
        Conn {
            ts: Ts(1_320_279_566_452_687),
            uid: "CHhAvVGS1DHFjwGM9".into(),
            id: FlowKey {
                orig_h: "10.0.0.22".parse().unwrap(),
                orig_p: 43614,
                resp_h: "10.0.0.7".parse().unwrap(),
                resp_p: 59130,
                proto: Proto::Tcp,
            },
            service: Some("irc".into()),
            duration: Some(162_309.0 / 1e6),
            orig_bytes: Some(352),
            resp_bytes: Some(1_320_211),
            conn_state: "SF".into(),
            missed_bytes: 0,
            history: "ShAadDfF".into(),
            orig_pkts: 127,
            orig_ip_bytes: 6964,
            resp_pkts: 962,
            resp_ip_bytes: 1_370_247,
            tunnel_parents: Vec::new(),
            evidence: ConnEvidence::default(),
        }
    }

    #[test]
    fn zeek_times_are_utc_calendar_fields() {
        assert_eq!(zeek_time(0), "1970-01-01-00-00-00");
        assert_eq!(zeek_time(-1), "1969-12-31-23-59-59");
        // Checked with Python's datetime.fromtimestamp(..., UTC).
        assert_eq!(zeek_time(1_796_588_703), "2026-12-06-20-25-03");
        let now = zeek_time_now();
        assert_eq!(now.len(), 19);
        assert!(now.as_str() > "2026-01-01");
    }

    fn row(c: &Conn) -> String {
        let mut b = Vec::new();
        write_conn_row(c, &mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn a_row_reads_as_zeek_writes_it() {
        assert_eq!(
            row(&conn()),
            "1320279566.452687\tCHhAvVGS1DHFjwGM9\t10.0.0.22\t43614\t10.0.0.7\t59130\ttcp\tirc\t\
             0.162309\t352\t1320211\tSF\t-\t-\t0\tShAadDfF\t127\t6964\t962\t1370247\t-\t6\n"
        );
    }

    #[test]
    fn unset_escaped_and_odd_values() {
        let mut c = conn();
        c.ts = Ts(-1_500_000); // -1.5 s: floor seconds, positive fraction
        c.id.orig_h = "2001:db8::1".parse().unwrap();
        c.id.resp_h = "2001:db8::2".parse().unwrap();
        c.id.proto = Proto::Icmp;
        c.service = Some("-".into());
        c.duration = None;
        c.orig_bytes = None;
        c.resp_bytes = None;
        c.history = Default::default();
        c.tunnel_parents = vec!["Ca,b".into(), "C\\d\x01".into()];
        assert_eq!(
            row(&c),
            "-2.500000\tCHhAvVGS1DHFjwGM9\t2001:db8::1\t43614\t2001:db8::2\t59130\ticmp\t\\x2d\t\
             -\t-\t-\tSF\t-\t-\t0\t-\t127\t6964\t962\t1370247\tCa\\x2cb,C\\x5cd\\x01\t58\n"
        );
        c.service = Some(String::new());
        c.id.proto = Proto::Other;
        c.duration = Some(123_456_789.000_001);
        let r = row(&c);
        assert!(r.contains("\t(empty)\t123456789.000001\t"), "{r}");
        assert!(r.ends_with("\t-\n"), "{r}");
    }

    #[test]
    fn numbers_and_intervals_equal_the_formatter() {
        let mut d = [0u8; 20];
        for v in (0..2_000u64).chain([9_999, 10_000, 99_999_999, u64::MAX]) {
            let i = digits(v, &mut d);
            assert_eq!(std::str::from_utf8(&d[i..]).unwrap(), v.to_string());
        }
        for m in [
            0u64,
            1,
            9,
            10,
            999_999,
            1_000_000,
            86_400_000_001,
            7_777_777_777_777,
        ] {
            let v = m as f64 / 1e6;
            let mut b = Vec::new();
            field_interval(&mut b, Some(v));
            assert_eq!(String::from_utf8(b).unwrap(), format!("{v:.6}\t"));
        }
    }
}
