//! Hostile and damaged input: bad lines counted by reason with their line
//! numbers, truncated gzip members and dnstap frames ending the file with
//! a clear error after everything before them was counted.

use super::read_all;
use botscope_dnslog::read::ReadOptions;
use botscope_synth::resolver::{write_resolver_logs, Format, ResolverSpec};
use std::io::Write;

#[test]
fn bad_lines_are_counted_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("q.log");
    let long = "x".repeat(100_000);
    let text = format!(
        "21-Apr-2005 00:00:01.000 queries: info: client @0x1 10.0.0.1#1 (a.test): query: a.test IN A + (192.0.2.1)\n\
         garbage line\n\
         21-Apr-2005 00:00:02.000 queries: info: client @0x1 999.0.0.1#1 (a.test): query: a.test IN A + (192.0.2.1)\n\
         {long}\n\
         21-Apr-2005 00:00:03.000 queries: info: client @0x1 10.0.0.2#1 (b.test): query: b.test IN A + (192.0.2.1)\n\
         bogus client stamp query: x\n\
         21-Apr-2005 00:00:04.000 queries: info: client @0x1 10.0.0.3#1 (c.test): query: c.test IN A +"
    );
    std::fs::write(&p, text).unwrap();
    let (qs, stats, skips) = read_all(p.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(
        qs.iter().map(|q| q.2.as_str()).collect::<Vec<_>>(),
        vec!["a.test", "b.test", "c.test"]
    );
    assert_eq!(stats.records, 7);
    assert_eq!(stats.skipped, 4);
    let file = p.display().to_string();
    assert_eq!(
        skips.by_reason["not a query line"],
        (1, vec![format!("{file} line 2")])
    );
    assert_eq!(
        skips.by_reason["bad client address"],
        (1, vec![format!("{file} line 3")])
    );
    assert_eq!(
        skips.by_reason["line longer than 65536 bytes"],
        (1, vec![format!("{file} line 4")])
    );
    assert_eq!(
        skips.by_reason["no client address"],
        (1, vec![format!("{file} line 6")])
    );
}

#[test]
fn truncated_gzip_member_ends_the_file_after_counting_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        clients: 5000,
        formats: vec![Format::Bind],
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    let plain = std::fs::read(&t.files["bind"]).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    let gz = enc.finish().unwrap();
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &gz[..gz.len() * 2 / 3]).unwrap();
    let (qs, stats, _) = read_all(cut.to_str().unwrap(), &ReadOptions::default());
    let err = stats.error.expect("a truncated gzip stream is an error");
    assert!(err.starts_with(&format!("{} ", cut.display())), "{err}");
    assert!(err.contains("input ends early"), "{err}");
    // Everything decompressed before the cut was delivered, in order.
    assert!(
        qs.len() as u64 > t.queries / 3 && (qs.len() as u64) < t.queries,
        "{} of {}",
        qs.len(),
        t.queries
    );
    let first_lines: Vec<&[u8]> = plain.split(|b| *b == b'\n').take(qs.len()).collect();
    assert!(std::str::from_utf8(first_lines[qs.len() - 1])
        .unwrap()
        .contains(&format!(" {}#", qs[qs.len() - 1].1)));
}

#[test]
fn truncated_dnstap_frame_ends_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        clients: 300,
        formats: vec![Format::Dnstap],
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    let bytes = std::fs::read(&t.files["dnstap"]).unwrap();
    // Drop the STOP frame and the last 10 bytes of the last data frame.
    let cut = dir.path().join("cut.fstrm");
    std::fs::write(&cut, &bytes[..bytes.len() - 12 - 10]).unwrap();
    let (qs, stats, _) = read_all(cut.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(qs.len() as u64, t.queries - 1);
    let err = stats.error.unwrap();
    assert!(
        err.contains(&format!("packet {}", t.queries + 1)) && err.contains("truncated frame"),
        "{err}"
    );
    // A frame length over the cap is refused without allocating it.
    let huge = dir.path().join("huge.fstrm");
    let mut b = bytes[..bytes.len() - 12].to_vec();
    b.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
    std::fs::write(&huge, b).unwrap();
    let (qs, stats, _) = read_all(huge.to_str().unwrap(), &ReadOptions::default());
    assert_eq!(qs.len() as u64, t.queries);
    assert!(stats.error.unwrap().contains("over the 1048576 cap"));
}

#[test]
fn unknown_format_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.bin");
    std::fs::write(&p, b"\x01\x02hello\n").unwrap();
    let (qs, stats, _) = read_all(p.to_str().unwrap(), &ReadOptions::default());
    assert!(qs.is_empty());
    assert_eq!(
        stats.error.unwrap(),
        format!(
            "{} offset 0: unrecognised log format (use --format or --csv-columns)",
            p.display()
        )
    );
}
