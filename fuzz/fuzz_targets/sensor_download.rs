//! Hostile server replies for the sensor's download clients: FTP reply
//! lines (final-line code, the 64-line multi-line loop), `227` PASV ports
//! and whole HTTP responses. Never panics; a port read from a reply
//! formats back to the same reply's port, and an HTTP body is the tail of
//! the response after the first blank line.
#![no_main]

use botscope_sensor::download::{ftp_final_code, http_body, pasv_port, MAX_FTP_LINE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // FTP control replies, read as `ftp_reply` does: trimmed, capped lines,
    // at most 64 of them.
    for raw in data.split(|&b| b == b'\n').take(64) {
        if raw.len() + 1 > MAX_FTP_LINE {
            break;
        }
        let line = String::from_utf8_lossy(raw).trim_end().to_string();
        if let Some(code) = ftp_final_code(&line) {
            assert!(code < 1000 && line.as_bytes()[3] == b' ');
        }
        if let Some(port) = pasv_port(&line) {
            let again = format!(
                "227 Entering Passive Mode (6,6,6,6,{},{})",
                port >> 8,
                port & 0xff
            );
            assert_eq!(pasv_port(&again), Some(port));
        }
    }
    match http_body(data) {
        Ok(body) => {
            let head = &data[..data.len() - body.len()];
            assert!(head.ends_with(b"\r\n\r\n"));
            assert_eq!(
                blank_lines(head),
                1,
                "the body starts after the first blank line"
            );
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

/// How many times `\r\n\r\n` starts in `b`.
fn blank_lines(b: &[u8]) -> usize {
    b.windows(4).filter(|w| *w == b"\r\n\r\n").count()
}
