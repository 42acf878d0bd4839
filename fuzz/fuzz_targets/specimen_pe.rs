#![no_main]
//! Whole static analysis of arbitrary bytes: PE walk, goblin imports, UPX
//! unpack, strings, config, IOCs, fuzzy hash. Must never panic. Also the UPX
//! unfilter and extra-info reader on raw bytes (a mutated file rarely gets
//! past the Adler-32 checks to reach them): bounded, never panics, and
//! exactly undoes the generator's filter.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = botscope_specimen::analyze(data);
    if let Some(pe) = &a.pe {
        assert!(pe.sections.len() <= botscope_specimen::pe::MAX_SECTIONS);
    }

    use botscope_specimen::unfilter;
    use botscope_synth::specimen::filter;
    if data.len() >= 6 {
        let (id, cto) = (data[0], data[1]);
        let addvalue = u32::from_le_bytes([data[2], data[3], data[4], data[5]]) & 0xF_FFFF;
        let body = &data[6..];
        let mut buf = body.to_vec();
        let r = unfilter::unfilter(&mut buf, id, cto, addvalue);
        assert_eq!(r.is_ok(), unfilter::is_supported(id));
        assert_eq!(buf.len(), body.len());
        if let Ok((start, len)) = unfilter::upx_code_range(body) {
            assert!(start + len <= body.len());
        }
        let mut f = body.to_vec();
        if let Some(done) = filter::filter(&mut f, id, addvalue) {
            let stats = unfilter::unfilter(&mut f, id, done.cto, addvalue).unwrap();
            assert_eq!(stats.calls, done.calls);
            assert_eq!(f, body);
        }
    }
});
