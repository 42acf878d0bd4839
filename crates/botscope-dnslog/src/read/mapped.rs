//! Plain log files read through a read-only memory map instead of `read`
//! calls: the parser walks the page cache directly, without the kernel
//! copying every byte into a user buffer first (`_copy_to_iter`, 15–18 %
//! of `dns rate` before, issue 19).
//!
//! A mapped file that shrinks while it is read (`logrotate`'s
//! `copytruncate`, an operator's `> query.log`) makes the pages past its
//! new end fault with `SIGBUS`, which would kill the process. A process-wide
//! `SIGBUS` handler therefore looks up the faulting address among the live
//! maps: inside one, it puts zero pages over the rest of that map (so the
//! faulting load, retried, reads zeros) and marks the map truncated; the
//! readers check the mark after each line and end the file with an error
//! naming the offset. A fault outside every map restores the previous
//! action, so the retried access fails exactly as it would have.
//!
//! Only regular, uncompressed files are mapped; standard input, pipes,
//! devices, empty files and `BOTSCOPE_DNS_MMAP=0` use `read`.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

/// How many maps may be live at once (one per input file read at a time).
const SLOTS: usize = 64;

/// One live map, as the signal handler sees it: `[start, end)` and the
/// address of the lowest page that faulted (`usize::MAX`: none).
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    fault: AtomicUsize,
    hit: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    fault: AtomicUsize::new(usize::MAX),
    hit: AtomicBool::new(false),
};
static LIVE: [Slot; SLOTS] = [EMPTY; SLOTS];
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The `SIGBUS` action before ours (restored for faults that are not ours).
static mut PREVIOUS: Option<libc::sigaction> = None;

/// A read-only map of a whole regular file, registered with the `SIGBUS`
/// handler for as long as it lives.
pub struct Mapped {
    map: memmap2::Mmap,
    slot: usize,
}

impl Mapped {
    /// Maps `path` when it is a non-empty regular file and mapping is
    /// enabled; `None` otherwise (the caller reads it instead).
    pub fn open(path: &str) -> Option<Mapped> {
        if path == "-" || std::env::var_os("BOTSCOPE_DNS_MMAP").is_some_and(|v| v == "0") {
            return None;
        }
        let file = File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() == 0 || usize::try_from(meta.len()).is_err() {
            return None;
        }
        install_handler();
        if !INSTALLED.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: the map is read-only and private to this process; a file
        // that shrinks under it is caught by the SIGBUS handler below
        // (zero pages, `truncated_at`), and a file that changes in place
        // only changes the bytes read, never their bounds.
        let map = unsafe { memmap2::MmapOptions::new().map(&file) }.ok()?;
        let start = map.as_ptr() as usize;
        let end = start + map.len();
        let slot = (0..SLOTS).find(|&i| {
            LIVE[i]
                .start
                .compare_exchange(0, start, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        })?;
        LIVE[slot].fault.store(usize::MAX, Ordering::Relaxed);
        LIVE[slot].hit.store(false, Ordering::Relaxed);
        LIVE[slot].end.store(end, Ordering::Release);
        Some(Mapped { map, slot })
    }

    /// The file's bytes as mapped (its length when it was opened).
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Drops this process's page-table entries for the whole pages inside
    /// `part` (a part of [`bytes`](Self::bytes) already parsed): the pages
    /// stay in the page cache, but stop counting in the process's resident
    /// set, which otherwise grows to the file's size.
    pub fn release(&self, part: &[u8]) {
        self.advise(part, libc::MADV_DONTNEED);
    }

    /// Maps the whole pages inside `part` in one call
    /// (`MADV_POPULATE_READ`, Linux 5.14+; ignored where missing) instead
    /// of one page fault per few pages as the parser reaches them.
    pub fn prefault(&self, part: &[u8]) {
        self.advise(part, libc::MADV_POPULATE_READ);
    }

    fn advise(&self, part: &[u8], advice: libc::c_int) {
        let (lo, hi) = (
            self.map.as_ptr() as usize,
            self.map.as_ptr() as usize + self.map.len(),
        );
        let (a, b) = (part.as_ptr() as usize, part.as_ptr() as usize + part.len());
        if a < lo || b > hi {
            return;
        }
        let page = page_size();
        let (from, to) = (a.next_multiple_of(page), b & !(page - 1));
        if from < to {
            // SAFETY: whole pages inside this live read-only map; DONTNEED
            // only drops page-table entries of a file mapping (the next
            // access faults the same bytes back in), POPULATE_READ only
            // faults them in. A failure changes speed, not results.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, advice);
            }
        }
    }

    /// Whether any page faulted because the file shrank.
    #[inline]
    pub fn is_truncated(&self) -> bool {
        LIVE[self.slot].hit.load(Ordering::Relaxed)
    }

    /// The offset of the lowest page found gone, if the file shrank.
    pub fn truncated_at(&self) -> Option<u64> {
        match LIVE[self.slot].fault.load(Ordering::Acquire) {
            usize::MAX => None,
            a => Some((a - self.map.as_ptr() as usize) as u64),
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // Unregister before the map goes (end first: the handler then
        // never matches a half-registered slot).
        LIVE[self.slot].end.store(0, Ordering::Release);
        LIVE[self.slot].start.store(0, Ordering::Release);
    }
}

fn install_handler() {
    INSTALL.call_once(|| {
        // SAFETY: a plain sigaction install; `on_sigbus` only uses
        // async-signal-safe calls (mmap, sigaction) and atomics.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &act, &mut old) == 0 {
                PREVIOUS = Some(old);
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    }
}

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    for s in LIVE.iter() {
        let (start, end) = (
            s.start.load(Ordering::Acquire),
            s.end.load(Ordering::Acquire),
        );
        if start == 0 || addr < start || addr >= end {
            continue;
        }
        let page = page_size();
        let from = addr & !(page - 1);
        let len = (end - from).div_ceil(page) * page;
        // SAFETY: [from, from + len) lies inside this live map's pages
        // (the map starts page aligned and covers its last page whole);
        // replacing them with anonymous zero pages keeps the range mapped
        // and readable until the map is dropped (munmap of the whole map).
        let p = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            s.fault.fetch_min(from, Ordering::AcqRel);
            s.hit.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // Not ours (or the zero pages could not be put in): the previous action
    // takes the retried fault.
    // SAFETY: PREVIOUS was written once before the handler was installed.
    unsafe {
        let prev = std::ptr::addr_of!(PREVIOUS).read();
        match prev {
            Some(old) => libc::sigaction(libc::SIGBUS, &old, std::ptr::null_mut()),
            None => libc::signal(libc::SIGBUS, libc::SIG_DFL) as libc::c_int,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_cut_under_the_map_reads_zeros_and_is_marked() {
        let page = page_size();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![b'x'; 3 * page]).unwrap();
        let m = Mapped::open(path.to_str().unwrap()).unwrap();
        assert_eq!(m.bytes()[page + 5], b'x');
        assert!(!m.is_truncated());
        f.set_len(page as u64).unwrap();
        // Without the handler this load would end the process with SIGBUS.
        let b = m.bytes();
        let late = unsafe { std::ptr::read_volatile(&b[2 * page + 7]) };
        assert_eq!(late, 0);
        assert!(m.is_truncated());
        assert_eq!(m.truncated_at(), Some(2 * page as u64));
        // A page below the first one found gone.
        let below = unsafe { std::ptr::read_volatile(&b[page + 3]) };
        assert_eq!(below, 0);
        assert_eq!(m.truncated_at(), Some(page as u64));
        // The bytes still in the file read as before.
        assert_eq!(b[page - 1], b'x');
    }

    #[test]
    fn a_log_cut_while_read_ends_with_an_error_after_the_lines_before() {
        use crate::read::{read_mapped, FileStats, ReadOptions};
        let page = page_size();
        let line = |i: usize| {
            format!("21-Apr-2005 00:00:00.000 client 10.0.0.{i}#1: query: a{i}.test IN A + (192.0.2.53)\n")
        };
        let mut text: String = (0..40).map(line).collect();
        assert!(text.len() < page - 512);
        text.push_str(&"#".repeat(page));
        text.push('\n');
        text.extend((40..80).map(line));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("query.log");
        std::fs::write(&path, &text).unwrap();
        let name = path.to_str().unwrap();
        let m = Mapped::open(name).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(page as u64)
            .unwrap();
        let mut clients = Vec::new();
        let mut skips = botscope_core::error::SkipCounter::default();
        let mut stats = FileStats::default();
        let err = read_mapped(
            &m,
            0..text.len(),
            name,
            &ReadOptions::default(),
            &mut |q| clients.push(q.client.to_string()),
            &mut skips,
            &mut stats,
        )
        .unwrap_err();
        // Every line wholly before the cut was counted, nothing after it.
        assert_eq!(stats.queries, 40);
        assert_eq!(clients.last().map(String::as_str), Some("10.0.0.39"));
        assert_eq!(err.location.file, name);
        assert_eq!(err.location.offset, Some(page as u64));
        assert_eq!(err.location.line, Some(41));
        assert!(err.reason.contains("shrank"), "{}", err.reason);
    }

    #[test]
    fn only_regular_non_empty_files_are_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        File::create(&empty).unwrap();
        assert!(Mapped::open(empty.to_str().unwrap()).is_none());
        assert!(Mapped::open("-").is_none());
        assert!(Mapped::open(dir.path().to_str().unwrap()).is_none());
        assert!(Mapped::open("/dev/null").is_none());
    }
}
