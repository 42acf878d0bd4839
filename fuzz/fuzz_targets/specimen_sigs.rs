//! Arbitrary text as a signature set: the hash-list parser (plain hex,
//! ClamAV `.hdb`/`.hsb`) through `Compiled::new` and a scan. Never panics;
//! every kept digest is lowercase hex of an MD5/SHA-1/SHA-256 length and
//! is found again by a scan naming it; every line is kept or skipped.
#![no_main]

use botscope_specimen::sigs::{parse_hash_list, Compiled, SetKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let list = parse_hash_list(&text);
    let lines = text.lines().count();
    assert!(list.skipped.len() + list.names.len() <= lines);
    assert!(list.skipped.iter().all(|(n, _)| (1..=lines).contains(n)));
    for d in list.names.keys() {
        assert!(matches!(d.len(), 32 | 40 | 64), "digest {d:?}");
        assert!(d
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    let Ok(set) = Compiled::new(SetKind::Hashes, &text) else {
        panic!("a hash list always compiles");
    };
    let mut scanner = set.scanner();
    let none = "0".repeat(64);
    for (d, name) in list.names.iter().take(16) {
        let (md5, sha1, sha256) = match d.len() {
            32 => (d.as_str(), &none[..40], none.as_str()),
            40 => (&none[..32], d.as_str(), none.as_str()),
            _ => (&none[..32], &none[..40], d.as_str()),
        };
        let hits = scanner.scan(data, md5, sha1, sha256);
        assert!(hits.contains(name), "{d} -> {name:?} not found: {hits:?}");
    }
});
