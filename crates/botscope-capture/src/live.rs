//! Live capture through libpcap, in two steps: [`open_live`] opens the
//! interface and applies the filter (the part that needs capture rights),
//! [`LiveCapture::run`] then feeds a [`FlowSink`] until stopped. A daemon
//! opens as root, drops privileges, and only then runs.

use crate::engine::Engine;
use crate::{CaptureError, CaptureSummary, EngineConfig, FlowSink};
use botscope_core::Ts;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Reason under which packets the kernel dropped before libpcap read them
/// are counted in [`CaptureSummary::skipped`].
pub const DROPPED_REASON: &str = "dropped before capture (kernel ring full)";

/// An interface opened by libpcap with its filter applied, not yet read.
/// It can be moved to another thread to run there.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    iface: String,
    dump: Option<pcap::Savefile>,
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
    let err = live_error(iface);
    let mut cap = pcap::Capture::from_device(iface)
        .map_err(err)?
        .promisc(false)
        .snaplen(262_144)
        // libpcap's default 2 MiB ring holds only four blocks at this snap
        // length, and in immediate mode every block is handed over after
        // a millisecond however few packets it holds: a short nap of the
        // reader lost one packet in ten on a busy veth. 32 MiB is 64
        // blocks; only the pages actually read become resident.
        .buffer_size(32 << 20)
        .timeout(100)
        .immediate_mode(true)
        .open()
        .map_err(err)?
        // In immediate mode libpcap's read timeout never fires on Linux, so
        // an idle interface would block forever and `stop` would go unseen:
        // poll without blocking and nap briefly when nothing is queued.
        .setnonblock()
        .map_err(err)?;
    if let Some(f) = bpf {
        cap.filter(f, true).map_err(err)?;
    }
    Ok(LiveCapture {
        cap,
        iface: iface.to_string(),
        dump: None,
    })
}

fn live_error(iface: &str) -> impl Fn(pcap::Error) -> CaptureError + Copy + '_ {
    move |e: pcap::Error| CaptureError::Live {
        iface: iface.to_string(),
        reason: e.to_string(),
    }
}

impl LiveCapture {
    /// The interface name.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// The link type (DLT) libpcap reports for the interface.
    pub fn link_type(&self) -> u32 {
        self.cap.get_datalink().0 as u32
    }

    /// Also writes every packet read (as captured, before decoding) to a
    /// pcap file at `path`, created (or truncated) now, so a daemon can
    /// create it before it drops privileges. The file is flushed when the
    /// run ends and whenever the interface goes idle.
    pub fn dump_to(&mut self, path: &Path) -> Result<(), CaptureError> {
        let dump = self.cap.savefile(path).map_err(|e| CaptureError::Live {
            iface: self.iface.clone(),
            reason: format!("cannot write {}: {e}", path.display()),
        })?;
        self.dump = Some(dump);
        Ok(())
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
            match self.cap.next_packet() {
                Ok(p) => {
                    if let Some(d) = self.dump.as_mut() {
                        d.write(&p);
                        unflushed = true;
                    }
                    // time_t/suseconds_t are i64 here but narrower elsewhere.
                    #[allow(clippy::useless_conversion)]
                    let (secs, micros) = (
                        i64::from(p.header.ts.tv_sec),
                        i64::from(p.header.ts.tv_usec),
                    );
                    n += 1;
                    let ts = Ts::from_secs_micros(secs, micros);
                    eng.packet(n, ts, link, p.data, p.header.len, sink);
                }
                Err(pcap::Error::TimeoutExpired) => {
                    // Idle: make what was dumped so far readable.
                    if unflushed {
                        if let Some(d) = self.dump.as_mut() {
                            let _ = d.flush();
                        }
                        unflushed = false;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
                Err(e) => return Err(live_error(&self.iface)(e)),
            }
        }
        if let Some(d) = self.dump.as_mut() {
            d.flush().map_err(|e| CaptureError::Live {
                iface: self.iface.clone(),
                reason: format!("flushing the pcap dump: {e}"),
            })?;
        }
        // Packets the kernel dropped never reached the engine: count them
        // as skipped so a lossy capture does not pass for a complete one.
        let dropped = self
            .cap
            .stats()
            .map(|st| u64::from(st.dropped) + u64::from(st.if_dropped))
            .unwrap_or(0);
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
