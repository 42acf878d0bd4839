//! Live capture through libpcap.

use crate::engine::Engine;
use crate::{CaptureError, CaptureSummary, EngineConfig, FlowSink};
use botscope_core::Ts;
use std::sync::atomic::{AtomicBool, Ordering};

/// Captures on `iface` (optionally filtered by a BPF expression) until
/// `stop` is set or `max_packets` packets were processed, then ends all
/// flows and returns the summary. Needs capture rights (root or
/// CAP_NET_RAW).
pub fn read_live(
    iface: &str,
    bpf: Option<&str>,
    cfg: &EngineConfig,
    sink: &mut impl FlowSink,
    stop: &AtomicBool,
    max_packets: Option<u64>,
) -> Result<CaptureSummary, CaptureError> {
    let err = |e: pcap::Error| CaptureError::Live {
        iface: iface.to_string(),
        reason: e.to_string(),
    };
    let mut cap = pcap::Capture::from_device(iface)
        .map_err(err)?
        .promisc(false)
        .snaplen(262_144)
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
    let link = cap.get_datalink().0 as u32;
    let mut eng = Engine::new(cfg);
    eng.begin_file(0, iface);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if max_packets.is_some_and(|m| n >= m) {
            break;
        }
        match cap.next_packet() {
            Ok(p) => {
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
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            }
            Err(e) => return Err(err(e)),
        }
    }
    eng.finish(sink);
    Ok(eng.summary)
}
