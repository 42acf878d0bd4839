//! Parallel reading of one large plain line log: the file is cut into
//! byte ranges at line boundaries, each range is parsed by its own thread
//! into its own [`RateEngine`], and the engines are merged (the counts are
//! set unions, so the result equals a single pass).
//!
//! Only uncompressed BIND and Zeek JSON logs are cut (their lines stand
//! alone); anything else returns `None` and is read sequentially. A skipped
//! line in range k is reported as `FILE@OFFSET line N`: line N of the range
//! starting at byte OFFSET.

use crate::rate::RateEngine;
use crate::read::{detect, read_from, FileStats, LogFormat, ReadOptions};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

/// Files below this size are not worth cutting.
pub const MIN_PARALLEL_BYTES: u64 = 8 << 20;

/// A reader over the lines that *start* in `[start, end)`.
struct RangeReader {
    inner: BufReader<File>,
    pos: u64,
    end: u64,
    last: u8,
    done: bool,
}

impl RangeReader {
    /// How much of the inner buffer belongs to the range: everything
    /// before `end`, then up to the end of the line that straddles it.
    fn available(&mut self) -> std::io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            self.done = true;
            return Ok(0);
        }
        Ok(if self.pos < self.end {
            buf.len().min((self.end - self.pos) as usize)
        } else {
            match memchr::memchr(b'\n', buf) {
                Some(p) => p + 1,
                None => buf.len(),
            }
        })
    }
}

// Read straight out of the inner buffer (no second copy of the range).
impl BufRead for RangeReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let n = self.available()?;
        if n == 0 {
            return Ok(&[]);
        }
        Ok(&self.inner.buffer()[..n])
    }

    fn consume(&mut self, amt: usize) {
        if amt == 0 {
            return;
        }
        self.last = self.inner.buffer()[amt - 1];
        self.inner.consume(amt);
        self.pos += amt as u64;
        if self.pos >= self.end && self.last == b'\n' {
            self.done = true;
        }
    }
}

impl Read for RangeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.fill_buf()?.len().min(out.len());
        out[..n].copy_from_slice(&self.inner.buffer()[..n]);
        self.consume(n);
        Ok(n)
    }
}

fn open_range(path: &str, start: u64, end: u64) -> std::io::Result<RangeReader> {
    let mut f = File::open(path)?;
    let mut pos = start;
    if start > 0 {
        // Skip the line that straddles `start` (the previous range owns it).
        f.seek(SeekFrom::Start(start - 1))?;
        let mut r = BufReader::with_capacity(256 * 1024, f);
        let mut skipped = Vec::new();
        let n = r.read_until(b'\n', &mut skipped)?;
        pos = start - 1 + n as u64;
        return Ok(RangeReader {
            inner: r,
            pos,
            end,
            last: b'\n',
            done: pos >= end,
        });
    }
    f.seek(SeekFrom::Start(pos))?;
    Ok(RangeReader {
        inner: BufReader::with_capacity(256 * 1024, f),
        pos,
        end,
        last: b'\n',
        done: start >= end,
    })
}

/// The bytes of the lines that *start* in `[start, end)` of `data` (the
/// same cut [`RangeReader`] makes: a line straddling `start` belongs to the
/// range before).
fn line_range(data: &[u8], start: usize, end: usize) -> std::ops::Range<usize> {
    let first_at_or_after = |k: usize| {
        if k == 0 {
            0
        } else if k >= data.len() {
            data.len()
        } else {
            memchr::memchr(b'\n', &data[k - 1..]).map_or(data.len(), |p| k + p)
        }
    };
    let a = first_at_or_after(start);
    a..first_at_or_after(end).max(a)
}

/// Reads `path` with `threads` threads, each into an engine from `make`,
/// and returns the merged engine; `None` when the file is not suitable
/// (compressed, not a plain BIND or Zeek JSON log, small, or stdin).
pub fn read_parallel<'w>(
    path: &str,
    opts: &ReadOptions,
    threads: usize,
    make: impl Fn() -> RateEngine<'w> + Sync,
) -> Option<RateEngine<'w>> {
    let len = std::fs::metadata(path).ok()?.len();
    if threads < 2 || len < MIN_PARALLEL_BYTES {
        return None;
    }
    // Mapped when possible: every thread walks its range of the page cache.
    let map = crate::read::mapped::Mapped::open(path);
    let mut head = vec![0u8; 64 * 1024];
    match &map {
        Some(m) => {
            let n = head.len().min(m.bytes().len());
            head.truncate(n);
            head.copy_from_slice(&m.bytes()[..n]);
        }
        None => {
            let n = File::open(path).ok()?.read(&mut head).ok()?;
            head.truncate(n);
        }
    }
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return None;
    }
    let format = detect(&head, opts)?;
    if !matches!(format, LogFormat::Bind | LogFormat::ZeekJson) {
        return None;
    }
    // Every range judges yearless stamps from the whole file's mtime.
    let with_ref = ReadOptions {
        reference_time_us: opts
            .reference_time_us
            .or_else(|| Some(crate::read::reference_time(path))),
        ..opts.clone()
    };
    let opts = &with_ref;
    let map = map.as_ref();
    let len = map.as_ref().map_or(len, |m| m.bytes().len() as u64);
    let step = len.div_ceil(threads as u64);
    let mut parts: Vec<RateEngine<'w>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|k| {
                let make = &make;
                s.spawn(move || {
                    let (start, end) = (k * step, ((k + 1) * step).min(len));
                    let mut e = make();
                    let name = if k == 0 {
                        path.to_string()
                    } else {
                        format!("{path}@{start}")
                    };
                    let mut stats = FileStats {
                        file: name.clone(),
                        ..Default::default()
                    };
                    let mut skips = std::mem::take(&mut e.skips);
                    // The mapped file's range, or the file opened at it.
                    let res = match map {
                        Some(m) => {
                            let range = line_range(m.bytes(), start as usize, end as usize);
                            crate::read::read_mapped(
                                m,
                                range,
                                &name,
                                opts,
                                &mut |q| e.observe(q, path),
                                &mut skips,
                                &mut stats,
                            )
                            .map_err(|err| err.to_string())
                        }
                        None => match open_range(path, start, end) {
                            Ok(mut r) => read_from(
                                &mut r,
                                &name,
                                opts,
                                &mut |q| e.observe(q, path),
                                &mut skips,
                                &mut stats,
                            )
                            .map_err(|err| err.to_string()),
                            Err(err) => Err(format!("{name}: {err}")),
                        },
                    };
                    if let Err(err) = res {
                        stats.error = Some(err);
                    }
                    e.skips = skips;
                    e.files.push(stats);
                    e
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("parser thread panicked"))
            .collect()
    });
    // One statistics entry for the file.
    let mut total = FileStats {
        file: path.to_string(),
        format: Some(format),
        ..Default::default()
    };
    for p in parts.iter_mut() {
        for f in p.files.drain(..) {
            total.queries += f.queries;
            total.skipped += f.skipped;
            total.records += f.records;
            total.undated += f.undated;
            if total.error.is_none() {
                total.error = f.error;
            }
        }
    }
    let mut it = parts.into_iter();
    let mut first = it.next()?;
    for p in it {
        first.merge(p);
    }
    first.files.push(total);
    Some(first)
}
