//! Live capture through libpcap, in two steps: [`open_live`] opens the
//! interface and applies the filter (the part that needs capture rights),
//! [`LiveCapture::run`] then feeds a [`FlowSink`] until stopped. A daemon
//! opens as root, drops privileges, and only then runs.
//!
//! libpcap is loaded when a live capture is first opened ([`pcap_lib`]), not
//! linked: building botscope and reading capture files need no libpcap, so
//! `cargo run --release -- demo` works on a machine without its headers.

use crate::engine::Engine;
use crate::{CaptureError, CaptureSummary, EngineConfig, FlowSink};
use botscope_core::Ts;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Reason under which packets the kernel dropped before libpcap read them
/// are counted in [`CaptureSummary::skipped`].
pub const DROPPED_REASON: &str = "dropped before capture (kernel ring full)";

/// libpcap's `PCAP_ERRBUF_SIZE`.
const ERRBUF_SIZE: usize = 256;

/// The C types and entry points of libpcap that live capture uses.
#[allow(non_camel_case_types)]
mod ffi {
    use super::*;

    pub enum pcap_t {}
    pub enum pcap_dumper_t {}

    #[repr(C)]
    pub struct pcap_pkthdr {
        pub ts: libc::timeval,
        pub caplen: u32,
        pub len: u32,
    }

    #[repr(C)]
    pub struct bpf_program {
        pub bf_len: c_uint,
        pub bf_insns: *mut c_void,
    }

    #[repr(C)]
    #[derive(Default)]
    pub struct pcap_stat {
        pub ps_recv: c_uint,
        pub ps_drop: c_uint,
        pub ps_ifdrop: c_uint,
    }

    /// `PCAP_NETMASK_UNKNOWN`.
    pub const NETMASK_UNKNOWN: u32 = 0xffff_ffff;

    /// The loaded library: one function pointer per entry point used.
    pub struct Lib {
        pub create: unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut pcap_t,
        pub set_snaplen: unsafe extern "C" fn(*mut pcap_t, c_int) -> c_int,
        pub set_promisc: unsafe extern "C" fn(*mut pcap_t, c_int) -> c_int,
        pub set_timeout: unsafe extern "C" fn(*mut pcap_t, c_int) -> c_int,
        pub set_buffer_size: unsafe extern "C" fn(*mut pcap_t, c_int) -> c_int,
        pub set_immediate_mode: unsafe extern "C" fn(*mut pcap_t, c_int) -> c_int,
        pub activate: unsafe extern "C" fn(*mut pcap_t) -> c_int,
        pub statustostr: unsafe extern "C" fn(c_int) -> *const c_char,
        pub setnonblock: unsafe extern "C" fn(*mut pcap_t, c_int, *mut c_char) -> c_int,
        pub compile:
            unsafe extern "C" fn(*mut pcap_t, *mut bpf_program, *const c_char, c_int, u32) -> c_int,
        pub setfilter: unsafe extern "C" fn(*mut pcap_t, *mut bpf_program) -> c_int,
        pub freecode: unsafe extern "C" fn(*mut bpf_program),
        pub datalink: unsafe extern "C" fn(*mut pcap_t) -> c_int,
        pub next_ex:
            unsafe extern "C" fn(*mut pcap_t, *mut *mut pcap_pkthdr, *mut *const u8) -> c_int,
        pub dump_open: unsafe extern "C" fn(*mut pcap_t, *const c_char) -> *mut pcap_dumper_t,
        pub dump: unsafe extern "C" fn(*mut u8, *const pcap_pkthdr, *const u8),
        pub dump_flush: unsafe extern "C" fn(*mut pcap_dumper_t) -> c_int,
        pub dump_close: unsafe extern "C" fn(*mut pcap_dumper_t),
        pub stats: unsafe extern "C" fn(*mut pcap_t, *mut pcap_stat) -> c_int,
        pub geterr: unsafe extern "C" fn(*mut pcap_t) -> *mut c_char,
        pub close: unsafe extern "C" fn(*mut pcap_t),
    }
}

/// Sonames tried in turn: Debian's, upstream's, then the development link.
const LIB_NAMES: [&str; 3] = ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so"];

/// Why libpcap could not be loaded for live capture.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PcapLoadError {
    /// None of the sonames could be opened.
    #[error(
        "libpcap is not installed (tried {tried}); live capture needs it: \
         apt-get install libpcap0.8 (scripts/setup.sh installs it)"
    )]
    NotInstalled {
        /// The sonames tried, comma-separated.
        tried: String,
    },
    /// The library lacks an entry point live capture uses.
    #[error("libpcap lacks {symbol} (libpcap >= 1.5 needed)")]
    MissingSymbol {
        /// The symbol's name.
        symbol: String,
    },
}

/// libpcap, loaded on first use; the error says what to install.
pub fn pcap_lib() -> Result<&'static ffi::Lib, PcapLoadError> {
    static LIB: OnceLock<Result<ffi::Lib, PcapLoadError>> = OnceLock::new();
    LIB.get_or_init(load_pcap).as_ref().map_err(Clone::clone)
}

fn load_pcap() -> Result<ffi::Lib, PcapLoadError> {
    let handle = LIB_NAMES
        .iter()
        .find_map(|name| {
            let c = CString::new(*name).ok()?;
            // SAFETY: dlopen with a valid C string; the handle is never
            // closed, so the function pointers below stay valid.
            let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
            (!h.is_null()).then_some(h)
        })
        .ok_or_else(|| PcapLoadError::NotInstalled {
            tried: LIB_NAMES.join(", "),
        })?;
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: each field's type is the signature pcap.h declares for
            // the symbol of that name.
            unsafe { symbol(handle, concat!($name, "\0"))? }
        };
    }
    Ok(ffi::Lib {
        create: sym!("pcap_create"),
        set_snaplen: sym!("pcap_set_snaplen"),
        set_promisc: sym!("pcap_set_promisc"),
        set_timeout: sym!("pcap_set_timeout"),
        set_buffer_size: sym!("pcap_set_buffer_size"),
        set_immediate_mode: sym!("pcap_set_immediate_mode"),
        activate: sym!("pcap_activate"),
        statustostr: sym!("pcap_statustostr"),
        setnonblock: sym!("pcap_setnonblock"),
        compile: sym!("pcap_compile"),
        setfilter: sym!("pcap_setfilter"),
        freecode: sym!("pcap_freecode"),
        datalink: sym!("pcap_datalink"),
        next_ex: sym!("pcap_next_ex"),
        dump_open: sym!("pcap_dump_open"),
        dump: sym!("pcap_dump"),
        dump_flush: sym!("pcap_dump_flush"),
        dump_close: sym!("pcap_dump_close"),
        stats: sym!("pcap_stats"),
        geterr: sym!("pcap_geterr"),
        close: sym!("pcap_close"),
    })
}

/// The function `name` (NUL-terminated) of the library `handle`, as `F`.
///
/// # Safety
/// `F` must be a function pointer type matching the symbol's C signature.
unsafe fn symbol<F: Copy>(handle: *mut c_void, name: &str) -> Result<F, PcapLoadError> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: dlsym on a live handle with a NUL-terminated name.
    let p = unsafe { libc::dlsym(handle, name.as_ptr().cast()) };
    if p.is_null() {
        return Err(PcapLoadError::MissingSymbol {
            symbol: name.trim_end_matches('\0').to_string(),
        });
    }
    // SAFETY: the caller names the symbol's type; sizes checked above.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
}

/// Text of a C string libpcap returned (empty for null).
fn c_text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: libpcap returns NUL-terminated strings it owns.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// An interface opened by libpcap with its filter applied, not yet read.
/// It can be moved to another thread to run there.
pub struct LiveCapture {
    lib: &'static ffi::Lib,
    cap: *mut ffi::pcap_t,
    iface: String,
    dump: Option<*mut ffi::pcap_dumper_t>,
    /// Where the dump goes and when it rotates (set by the `dump_*` calls).
    dump_file: Option<DumpFile>,
}

/// Bytes of a pcap file header and of each record's header.
const PCAP_FILE_HEADER: u64 = 24;
const PCAP_RECORD_HEADER: u64 = 16;

/// The dump's path and rotation bound.
struct DumpFile {
    path: std::path::PathBuf,
    /// Rotate once this many bytes were written (0: never).
    max_bytes: u64,
    /// Rotated files kept (`path.1` … `path.<keep>`).
    keep: usize,
    /// Bytes in the current file (header and records).
    written: u64,
}

/// Renames `path.(keep-1)` → `path.keep`, …, `path.1` → `path.2`, then
/// `path` → `path.1` (the oldest is replaced): the rotation the sensor's
/// event log and pcap dump share. Missing older files are skipped.
pub fn shift_rotated(path: &Path, keep: usize) -> std::io::Result<()> {
    let rotated = |i: usize| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{i}"));
        std::path::PathBuf::from(p)
    };
    for i in (1..keep.max(1)).rev() {
        match std::fs::rename(rotated(i), rotated(i + 1)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(path, rotated(1))
}

// SAFETY: a pcap handle may be used from any one thread at a time; the
// capture owns it and is used by one thread.
unsafe impl Send for LiveCapture {}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        // SAFETY: both handles were opened by this capture and are closed once.
        unsafe {
            if let Some(d) = self.dump.take() {
                (self.lib.dump_close)(d);
            }
            (self.lib.close)(self.cap);
        }
    }
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("iface", &self.iface)
            .field("dumping", &self.dump.is_some())
            .finish()
    }
}

/// Opens `iface` for capture (not promiscuous, full snap length) and
/// applies the BPF expression `bpf` if given. Returns once libpcap holds
/// the interface, so packets arriving from now on are queued for
/// [`LiveCapture::run`]. Needs capture rights (root or CAP_NET_RAW).
pub fn open_live(iface: &str, bpf: Option<&str>) -> Result<LiveCapture, CaptureError> {
    let err = |reason: String| CaptureError::Live {
        iface: iface.to_string(),
        reason,
    };
    let lib = pcap_lib().map_err(|e| err(e.to_string()))?;
    let name = CString::new(iface).map_err(|_| err("interface name holds a NUL".into()))?;
    let mut errbuf = [0 as c_char; ERRBUF_SIZE];
    // SAFETY: valid C string and an error buffer of PCAP_ERRBUF_SIZE.
    let cap = unsafe { (lib.create)(name.as_ptr(), errbuf.as_mut_ptr()) };
    if cap.is_null() {
        return Err(err(c_text(errbuf.as_ptr())));
    }
    // From here the capture owns the handle and closes it on every error.
    let live = LiveCapture {
        lib,
        cap,
        iface: iface.to_string(),
        dump: None,
        dump_file: None,
    };
    // SAFETY: `cap` is a created, not yet activated handle.
    let status = unsafe {
        (lib.set_promisc)(cap, 0);
        (lib.set_snaplen)(cap, 262_144);
        // libpcap's default 2 MiB ring holds only four blocks at this snap
        // length, and in immediate mode every block is handed over after
        // a millisecond however few packets it holds: a short nap of the
        // reader lost one packet in ten on a busy veth. 32 MiB is 64
        // blocks; only the pages actually read become resident.
        (lib.set_buffer_size)(cap, 32 << 20);
        (lib.set_timeout)(cap, 100);
        (lib.set_immediate_mode)(cap, 1);
        (lib.activate)(cap)
    };
    if status < 0 {
        let detail = live.last_error();
        let code = c_text(unsafe { (lib.statustostr)(status) });
        return Err(err(if detail.is_empty() {
            code
        } else {
            format!("{code}: {detail}")
        }));
    }
    // In immediate mode libpcap's read timeout never fires on Linux, so
    // an idle interface would block forever and `stop` would go unseen:
    // poll without blocking and nap briefly when nothing is queued.
    // SAFETY: activated handle, error buffer of PCAP_ERRBUF_SIZE.
    if unsafe { (lib.setnonblock)(cap, 1, errbuf.as_mut_ptr()) } < 0 {
        return Err(err(c_text(errbuf.as_ptr())));
    }
    if let Some(f) = bpf {
        let expr = CString::new(f).map_err(|_| err("filter holds a NUL".into()))?;
        let mut prog = ffi::bpf_program {
            bf_len: 0,
            bf_insns: std::ptr::null_mut(),
        };
        // SAFETY: activated handle; the program is freed after it is set
        // (libpcap keeps its own copy).
        let ok = unsafe {
            if (lib.compile)(cap, &mut prog, expr.as_ptr(), 1, ffi::NETMASK_UNKNOWN) < 0 {
                false
            } else {
                let set = (lib.setfilter)(cap, &mut prog) == 0;
                (lib.freecode)(&mut prog);
                set
            }
        };
        if !ok {
            return Err(err(format!("filter {f:?}: {}", live.last_error())));
        }
    }
    Ok(live)
}

impl LiveCapture {
    /// The interface name.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// The link type (DLT) libpcap reports for the interface.
    pub fn link_type(&self) -> u32 {
        // SAFETY: activated handle owned by this capture.
        unsafe { (self.lib.datalink)(self.cap) as u32 }
    }

    /// libpcap's text for the last error on this handle.
    fn last_error(&self) -> String {
        // SAFETY: handle owned by this capture; libpcap owns the text.
        c_text(unsafe { (self.lib.geterr)(self.cap) })
    }

    fn error(&self, reason: String) -> CaptureError {
        CaptureError::Live {
            iface: self.iface.clone(),
            reason,
        }
    }

    /// Also writes every packet read (as captured, before decoding) to a
    /// pcap file at `path`, created (or truncated) now, so a daemon can
    /// create it before it drops privileges. The file is flushed when the
    /// run ends and whenever the interface goes idle.
    pub fn dump_to(&mut self, path: &Path) -> Result<(), CaptureError> {
        let cannot = |why: String| self.error(format!("cannot write {}: {why}", path.display()));
        let name = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| cannot("path holds a NUL".into()))?;
        // SAFETY: activated handle and a valid C path.
        let dump = unsafe { (self.lib.dump_open)(self.cap, name.as_ptr()) };
        if dump.is_null() {
            return Err(cannot(self.last_error()));
        }
        if let Some(old) = self.dump.replace(dump) {
            // SAFETY: the previous dumper is closed once, here.
            unsafe { (self.lib.dump_close)(old) };
        }
        self.dump_file = Some(DumpFile {
            path: path.to_path_buf(),
            max_bytes: 0,
            keep: 0,
            written: PCAP_FILE_HEADER,
        });
        Ok(())
    }

    /// [`LiveCapture::dump_to`], rotated: once a file holds `max_bytes`,
    /// it becomes `path.1` (older ones shift up, at most `keep` are kept)
    /// and a new `path` is started. The new file is created by whoever runs
    /// the capture then, so after a privilege drop the folder must be
    /// writable by that user; if it is not, dumping stops with a warning on
    /// stderr and the capture goes on.
    pub fn dump_rotating(
        &mut self,
        path: &Path,
        max_bytes: u64,
        keep: usize,
    ) -> Result<(), CaptureError> {
        self.dump_to(path)?;
        if let Some(f) = self.dump_file.as_mut() {
            f.max_bytes = max_bytes;
            f.keep = keep.max(1);
        }
        Ok(())
    }

    /// Counts one dumped record and rotates the file when it is full.
    fn dumped(&mut self, caplen: u32) {
        let Some(f) = self.dump_file.as_mut() else {
            return;
        };
        f.written += PCAP_RECORD_HEADER + u64::from(caplen);
        if f.max_bytes == 0 || f.written < f.max_bytes {
            return;
        }
        let (path, max_bytes, keep) = (f.path.clone(), f.max_bytes, f.keep);
        if let Some(d) = self.dump.take() {
            // SAFETY: open dumper owned by this capture, closed once here.
            unsafe { (self.lib.dump_close)(d) };
        }
        let reopened = shift_rotated(&path, keep)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                self.dump_rotating(&path, max_bytes, keep)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = reopened {
            eprintln!(
                "botscope: cannot rotate the pcap dump {}: {e}; dumping stops",
                path.display()
            );
            self.dump_file = None;
        }
    }

    /// Reads until `stop` is set or `max_packets` packets were processed,
    /// then ends all flows and returns the summary.
    pub fn run(
        mut self,
        cfg: &EngineConfig,
        sink: &mut impl FlowSink,
        stop: &AtomicBool,
        max_packets: Option<u64>,
    ) -> Result<CaptureSummary, CaptureError> {
        let link = self.link_type();
        let mut eng = Engine::new(cfg);
        eng.begin_file(0, &self.iface);
        let mut n = 0u64;
        let mut unflushed = false;
        while !stop.load(Ordering::Relaxed) {
            if max_packets.is_some_and(|m| n >= m) {
                break;
            }
            let mut hdr: *mut ffi::pcap_pkthdr = std::ptr::null_mut();
            let mut data: *const u8 = std::ptr::null();
            // SAFETY: activated handle; on 1 libpcap points both at a packet
            // that stays valid until the next call.
            match unsafe { (self.lib.next_ex)(self.cap, &mut hdr, &mut data) } {
                1 => {
                    // SAFETY: see above; caplen bytes are readable at data.
                    let (h, bytes) = unsafe {
                        let h = &*hdr;
                        (h, std::slice::from_raw_parts(data, h.caplen as usize))
                    };
                    if let Some(d) = self.dump {
                        // SAFETY: pcap_dump takes the dumper as its user argument.
                        unsafe { (self.lib.dump)(d.cast(), hdr, data) };
                        unflushed = true;
                        self.dumped(h.caplen);
                    }
                    // time_t/suseconds_t are i64 here but narrower elsewhere.
                    #[allow(clippy::useless_conversion)]
                    let (secs, micros) = (i64::from(h.ts.tv_sec), i64::from(h.ts.tv_usec));
                    n += 1;
                    let ts = Ts::from_secs_micros(secs, micros);
                    eng.packet(n, ts, link, bytes, h.len, sink);
                }
                0 => {
                    // Idle: make what was dumped so far readable.
                    if unflushed {
                        if let Some(d) = self.dump {
                            // SAFETY: open dumper owned by this capture.
                            unsafe { (self.lib.dump_flush)(d) };
                        }
                        unflushed = false;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
                _ => return Err(self.error(self.last_error())),
            }
        }
        if let Some(d) = self.dump {
            // SAFETY: open dumper owned by this capture.
            if unsafe { (self.lib.dump_flush)(d) } != 0 {
                return Err(self.error(format!(
                    "flushing the pcap dump: {}",
                    std::io::Error::last_os_error()
                )));
            }
        }
        // Packets the kernel dropped never reached the engine: count them
        // as skipped so a lossy capture does not pass for a complete one.
        let mut st = ffi::pcap_stat::default();
        // SAFETY: activated handle and a pcap_stat to fill.
        let dropped = if unsafe { (self.lib.stats)(self.cap, &mut st) } == 0 {
            u64::from(st.ps_drop) + u64::from(st.ps_ifdrop)
        } else {
            0
        };
        eng.finish(sink);
        let mut summary = eng.summary;
        if dropped > 0 {
            let slot = summary
                .skipped
                .by_reason
                .entry(DROPPED_REASON.to_string())
                .or_default();
            slot.0 += dropped;
            slot.1.push(self.iface.clone());
        }
        Ok(summary)
    }
}

/// Opens `iface` and captures until `stop` is set or `max_packets`
/// packets were processed ([`open_live`] then [`LiveCapture::run`]).
pub fn read_live(
    iface: &str,
    bpf: Option<&str>,
    cfg: &EngineConfig,
    sink: &mut impl FlowSink,
    stop: &AtomicBool,
    max_packets: Option<u64>,
) -> Result<CaptureSummary, CaptureError> {
    open_live(iface, bpf)?.run(cfg, sink, stop, max_packets)
}
