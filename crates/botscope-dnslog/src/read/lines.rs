//! A bounded line splitter over a `BufRead`: lines are handed out straight
//! from the reader's buffer when they fit, copied into a carry buffer of at
//! most [`MAX_LINE`] bytes when they straddle two reads, and skipped whole
//! (counted) when longer than that.

use super::{FileStats, ReadError, MAX_LINE};
use botscope_core::{Located, Location};
use std::io::BufRead;

pub(crate) fn for_each_line(
    r: &mut dyn BufRead,
    name: &str,
    stats: &mut FileStats,
    mut f: impl FnMut(u64, &[u8], &mut FileStats),
) -> Result<(), ReadError> {
    let mut carry: Vec<u8> = Vec::new();
    let mut overlong = false;
    let mut line_no: u64 = 0;
    let mut offset: u64 = 0;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Located {
                    location: Location {
                        file: name.into(),
                        offset: Some(offset),
                        line: Some(line_no + 1),
                        ..Default::default()
                    },
                    reason: format!("input ends early: {e}"),
                })
            }
        };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut start = 0;
        while let Some(p) = memchr::memchr(b'\n', &buf[start..]) {
            let end = start + p;
            line_no += 1;
            stats.records += 1;
            if overlong || carry.len() + (end - start) > MAX_LINE {
                stats.skipped += 1;
                overlong = false;
                carry.clear();
                f_overlong(name, line_no, stats);
            } else if carry.is_empty() {
                f(line_no, strip_cr(&buf[start..end]), stats);
            } else {
                carry.extend_from_slice(&buf[start..end]);
                f(line_no, strip_cr(&carry), stats);
                carry.clear();
            }
            start = end + 1;
        }
        if start < len && !overlong {
            if carry.len() + (len - start) > MAX_LINE {
                overlong = true;
                carry.clear();
            } else {
                carry.extend_from_slice(&buf[start..]);
            }
        }
        offset += len as u64;
        r.consume(len);
    }
    if overlong {
        line_no += 1;
        stats.records += 1;
        stats.skipped += 1;
        f_overlong(name, line_no, stats);
    } else if !carry.is_empty() {
        line_no += 1;
        stats.records += 1;
        let c = std::mem::take(&mut carry);
        f(line_no, strip_cr(&c), stats);
    }
    Ok(())
}

/// Mapped bytes as the line walk sees them.
pub(crate) trait Backing {
    /// Whether the bytes went away underneath (the file shrank).
    fn gone(&self) -> bool;
    /// The walk is done with `part`.
    fn release(&self, part: &[u8]);
    /// The walk reaches `part` next.
    fn prefault(&self, part: &[u8]);
}

impl Backing for super::mapped::Mapped {
    #[inline]
    fn gone(&self) -> bool {
        self.is_truncated()
    }
    fn release(&self, part: &[u8]) {
        super::mapped::Mapped::release(self, part)
    }
    fn prefault(&self, part: &[u8]) {
        super::mapped::Mapped::prefault(self, part)
    }
}

/// How much of a mapped file is faulted in (and later let go) at once.
const CHUNK: usize = 8 << 20;

/// [`for_each_line`] over bytes already in memory (a mapped file or a
/// range of one): the same lines, line numbers and over-long rule, with no
/// copy at all. `backing` is asked before each line is handed out; when it
/// says the bytes underneath went away (a mapped file that shrank), the
/// walk stops and the line number reached is returned as the error.
pub(crate) fn for_each_line_in(
    data: &[u8],
    stats: &mut FileStats,
    backing: &dyn Backing,
    mut f: impl FnMut(u64, &[u8], &mut FileStats),
) -> Result<(), u64> {
    let mut line_no: u64 = 0;
    let mut start = 0;
    // Pages are mapped a chunk ahead and let go a chunk behind.
    let mut next_chunk: usize = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        if backing.gone() {
            return Err(line_no + 1);
        }
        if start >= next_chunk {
            backing.release(&data[next_chunk.saturating_sub(CHUNK)..start]);
            backing.prefault(&data[start..(start + CHUNK).min(data.len())]);
            next_chunk = start + CHUNK;
        }
        line_no += 1;
        stats.records += 1;
        if end - start > MAX_LINE {
            stats.skipped += 1;
            f_overlong("", line_no, stats);
        } else {
            f(line_no, strip_cr(&data[start..end]), stats);
        }
        start = end + 1;
    }
    if start < data.len() {
        if backing.gone() {
            return Err(line_no + 1);
        }
        line_no += 1;
        stats.records += 1;
        if data.len() - start > MAX_LINE {
            stats.skipped += 1;
            f_overlong("", line_no, stats);
        } else {
            f(line_no, strip_cr(&data[start..]), stats);
        }
    }
    if backing.gone() {
        return Err(line_no + 1);
    }
    backing.release(&data[next_chunk.saturating_sub(CHUNK)..]);
    Ok(())
}

thread_local! {
    static OVERLONG: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Over-long lines are recorded here and merged into the skip counter by
/// [`take_overlong`] (the line callback owns the counter meanwhile).
fn f_overlong(_name: &str, line: u64, _stats: &mut FileStats) {
    OVERLONG.with(|o| o.borrow_mut().push(line));
}

/// Lines skipped as over-long since the last call.
pub(crate) fn take_overlong() -> Vec<u64> {
    OVERLONG.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

#[inline]
fn strip_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}
