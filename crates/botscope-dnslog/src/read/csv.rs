//! CSV with a column map (`--csv-columns ts=0,client=1,qname=2`). Fields
//! are split on commas; a field may be wrapped in double quotes (without
//! embedded commas). Times are epoch seconds or RFC 3339 (`Z` or an
//! offset such as `+02:00`; no zone = UTC).

use super::{parse_epoch, parse_ip, CsvColumns, Query};

fn unquote(f: &[u8]) -> &[u8] {
    let f = f.trim_ascii();
    if f.len() >= 2 && f[0] == b'"' && f[f.len() - 1] == b'"' {
        &f[1..f.len() - 1]
    } else {
        f
    }
}

/// Parses one CSV line.
pub fn parse<'a>(line: &'a [u8], cols: &CsvColumns) -> Result<Query<'a>, &'static str> {
    let mut fields: [&[u8]; 32] = [&[]; 32];
    let mut n = 0;
    for f in line.split(|b| *b == b',') {
        if n == 32 {
            break;
        }
        fields[n] = unquote(f);
        n += 1;
    }
    let get = |i: usize| if i < n { Some(fields[i]) } else { None };
    let ts = get(cols.ts).ok_or("too few columns")?;
    let ts_us = parse_epoch(ts)
        .or_else(|| super::stamp::iso(ts).map(|(us, _)| us))
        .or_else(|| botscope_core::Ts::parse_rfc3339(std::str::from_utf8(ts).ok()?).map(|t| t.0))
        .ok_or("bad ts")?;
    let client =
        parse_ip(get(cols.client).ok_or("too few columns")?).ok_or("bad client address")?;
    let qname = get(cols.qname).ok_or("too few columns")?;
    if qname.is_empty() {
        return Err("no query name");
    }
    let server = cols.server.and_then(get).and_then(parse_ip);
    Ok(Query {
        ts_us,
        client,
        qname,
        server,
        rcode: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_offsets() {
        let cols: CsvColumns = "ts=0,client=1,qname=2".parse().unwrap();
        let q = parse(b"2023-10-08T11:29:05.5+02:00,192.0.2.7,x.test", &cols).unwrap();
        assert_eq!(q.ts_us, 1_696_757_345_500_000);
        let q = parse(b"2023-10-08 09:29:05,192.0.2.7,x.test", &cols).unwrap();
        assert_eq!(q.ts_us, 1_696_757_345_000_000);
        assert_eq!(
            parse(b"2023-10-08T09:29:05+25:00,192.0.2.7,x.test", &cols).unwrap_err(),
            "bad ts"
        );
    }
}
