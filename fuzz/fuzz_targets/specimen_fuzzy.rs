#![no_main]
//! ssdeep digest on arbitrary bytes; comparison of two arbitrary strings
//! (the input's halves, read as lossy UTF-8) and of the digests.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use botscope_specimen::fuzzy::{compare, digest};
    let d = digest(data);
    assert_eq!(compare(&d, &d), 100);
    let (a, b) = data.split_at(data.len() / 2);
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let s = compare(&a, &b);
    assert!(s <= 100);
    assert_eq!(s, compare(&b, &a));
    let (da, db) = (digest(a.as_bytes()), digest(b.as_bytes()));
    assert!(compare(&da, &db) <= 100);
});
