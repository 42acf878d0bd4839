//! Hostile JSON Lines for the dashboard's tail of `*.jsonl` files: the
//! first byte sets how the bytes arrive (appends of 1 to 256 bytes, the
//! unconsumed partial line offered again each time, as a file that grows
//! under the reader). Never panics; the counts equal those of reading the
//! whole file at once; the live and recent sections render bounded.
#![no_main]

use botscope_report::serve::{tail_sections, Tail, RECENT};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let step = step as usize + 1;

    let mut whole = Tail::default();
    let consumed = whole.feed(body);
    assert!(consumed <= body.len());
    assert_eq!(whole.offset(), consumed as u64);

    // The same bytes appended `step` at a time.
    let mut grown = Tail::default();
    let (mut start, mut end) = (0, 0);
    while end < body.len() {
        end = (end + step).min(body.len());
        start += grown.feed(&body[start..end]);
    }
    assert_eq!(start, consumed);
    assert_eq!(grown.lines(), whole.lines());
    assert_eq!(grown.malformed(), whole.malformed());
    assert_eq!(grown.by_kind(), whole.by_kind());

    let events: u64 = whole.by_kind().values().sum();
    assert!(events + whole.malformed() <= whole.lines());
    assert!(whole.recent().count() <= RECENT);

    let tails = BTreeMap::from([("events.jsonl".to_string(), whole)]);
    let mut report = botscope_report::build_report(&botscope_report::DataFolder {
        dir: "fuzz".into(),
        files: vec![],
        unreadable: vec![],
    });
    report.sections.splice(0..0, tail_sections(&tails));
    let html = botscope_report::html::report_html_with(&report, None, "");
    assert!(html.len() < 16 << 20);
});
