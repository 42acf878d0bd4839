#![no_main]
//! String, XOR-config and IOC extraction on arbitrary bytes.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use botscope_specimen::{ioc, strings};
    let mut iocs = ioc::Iocs::default();
    for s in strings::ascii_strings(data, 4)
        .into_iter()
        .chain(strings::utf16_strings(data, 4))
    {
        assert!(s.text.len() <= strings::MAX_STRING);
        ioc::scan_text(&s.text, &mut iocs);
    }
    let _ = strings::find_config(data);
});
