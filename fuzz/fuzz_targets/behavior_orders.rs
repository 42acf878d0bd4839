//! Order and reply interpreters on hostile IRC texts: never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = botscope_behavior::orders::parse_order(&text);
    let _ = botscope_behavior::orders::parse_reply(&text);
    let _ = botscope_behavior::orders::url_port(&text);
    let _ = botscope_behavior::orders::url_host(&text);
});
