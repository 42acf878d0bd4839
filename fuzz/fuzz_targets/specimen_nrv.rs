#![no_main]
//! NRV2B/D/E decompression of arbitrary streams stays within its bound.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use botscope_specimen::nrv::{decompress, Method};
    if data.is_empty() {
        return;
    }
    let method = [Method::Nrv2b, Method::Nrv2d, Method::Nrv2e][data[0] as usize % 3];
    let bound = 1 << 16;
    if let Ok((out, used)) = decompress(&data[1..], method, bound) {
        assert!(out.len() <= bound);
        assert!(used <= data.len() - 1);
    }
});
