//! The engine's per-flow work makes no heap allocation once warm (issue
//! 19): a flow opened, given a uid, ended by idle time and summarised as a
//! `Conn` (uid, state, history and evidence all inline). Counted with a
//! global allocator that tallies the allocations of the test's own
//! thread (its own test binary, so no other test shares the allocator).

use botscope_capture::{Engine, EngineConfig, FlowRef, FlowSink};
use botscope_core::events::Conn;
use botscope_core::Ts;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

/// An Ethernet/IPv4/TCP SYN with zero checksums (checked off).
fn syn(dst: [u8; 4], sport: u16) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&[192, 0, 2, 7]);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&445u16.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    f
}

/// Checks every ended flow against what was sent.
#[derive(Default)]
struct Check {
    ended: u64,
    wrong: u64,
}

impl FlowSink for Check {
    fn on_flow_end(&mut self, _flow: FlowRef<'_>, c: &mut Conn) {
        self.ended += 1;
        let ok = c.conn_state == "S0"
            && c.history == "S"
            && c.uid.starts_with('C')
            && c.uid.len() >= 12
            && c.orig_pkts == 1
            && c.resp_pkts == 0
            && c.evidence.packets.len() == 1
            && c.tunnel_parents.is_empty();
        self.wrong += u64::from(!ok);
    }
}

#[test]
fn flow_ends_allocate_nothing_once_warm() {
    let cfg = EngineConfig {
        verify_checksums: false,
        ..EngineConfig::default()
    };
    // 60,000 single-SYN flows to fresh addresses, 20 ms apart: flows end
    // by idle time while new ones open (the synthetic field's scans).
    let frames: Vec<Vec<u8>> = (0..60_000u32)
        .map(|i| {
            syn(
                [10, (i >> 16) as u8, (i >> 8) as u8, i as u8],
                40_000 + (i % 1000) as u16,
            )
        })
        .collect();
    // The counter sees this thread's allocations (the frames above).
    assert!(allocs() >= 60_000);
    let mut eng = Engine::new(&cfg);
    eng.begin_file(0, "scan");
    let mut sink = Check::default();
    let feed = |eng: &mut Engine<'_>, sink: &mut Check, range: std::ops::Range<usize>| {
        for n in range {
            let f = &frames[n];
            let ts = Ts(1_600_000_000_000_000 + n as i64 * 20_000);
            eng.packet(n as u64 + 1, ts, 1, f, f.len() as u32, sink);
        }
    };
    feed(&mut eng, &mut sink, 0..40_000);
    let warm_ended = sink.ended;
    assert!(
        warm_ended > 10_000,
        "{warm_ended} flows ended while warming"
    );
    let before = allocs();
    feed(&mut eng, &mut sink, 40_000..60_000);
    let during = allocs() - before;
    let ended = sink.ended - warm_ended;
    // Each new packet opens a flow and, in the steady state, one ends.
    assert!(ended >= 19_000, "{ended} flows ended");
    assert_eq!(during, 0, "{during} allocations for {ended} flow ends");
    eng.finish(&mut sink);
    assert_eq!(sink.ended, 60_000);
    assert_eq!(sink.wrong, 0);
}
