//! The flow table: flows in a slab of slots, a hash map from canonical
//! key to slot, and four LRU lists (open TCP, closed TCP, UDP, other) for
//! idle expiry and memory-cap eviction.
//!
//! A flow lives in its slot from open to end and is never moved: a slot
//! is claimed ([`FlowTable::claim`]) and the flow filled in place
//! ([`Flow::open`]), and a flow is ended by reading it where it lies and
//! then releasing the slot ([`FlowTable::release`]). The `Flow` is a few
//! hundred bytes (inline uid, history, tunnel parent); moving it in and
//! out of an `Option` on every open and end cost 9 % of a SYN scan's time
//! in `memmove`. A free slot keeps its last flow's bytes until reused.

use super::flow::Flow;
use super::Engine;
use crate::FlowSink;
// Flow keys come off the wire (attacker-chosen): the core hasher is
// seeded per process, so they cannot be picked to collide (see
// `botscope_core::hash`); the map is never iterated, so the seed never
// changes the output.
use botscope_core::hash::FastMap;
use botscope_core::{FlowKey, Ts};

/// Zeek's tcp_close_delay / tcp_reset_delay.
const CLOSE_DELAY_US: i64 = 5 * 1_000_000;

pub(super) struct Slot {
    /// The slot's flow; stale (its last flow's state) while the slot is
    /// free, that is while `list` is [`L_FREE`].
    pub(super) flow: Flow,
    pub(super) prev: u32,
    pub(super) next: u32,
    pub(super) list: u8,
}

pub(super) const NIL: u32 = u32::MAX;
/// LRU lists: open TCP, closed TCP, UDP, other.
pub(super) const L_TCP: u8 = 0;
pub(super) const L_CLOSED: u8 = 1;
pub(super) const L_UDP: u8 = 2;
pub(super) const L_OTHER: u8 = 3;
/// Not on any list: the slot is free.
pub(super) const L_FREE: u8 = 4;

#[derive(Default)]
pub(super) struct FlowTable {
    pub(super) slots: Vec<Slot>,
    pub(super) free: Vec<u32>,
    pub(super) map: FastMap<FlowKey, u32>,
    pub(super) heads: [u32; 4],
    pub(super) tails: [u32; 4],
}

impl FlowTable {
    pub(super) fn new() -> FlowTable {
        FlowTable {
            heads: [NIL; 4],
            tails: [NIL; 4],
            ..Default::default()
        }
    }
    pub(super) fn unlink(&mut self, i: u32) {
        let (p, n, l) = {
            let s = &self.slots[i as usize];
            (s.prev, s.next, s.list as usize)
        };
        if p != NIL {
            self.slots[p as usize].next = n;
        } else {
            self.heads[l] = n;
        }
        if n != NIL {
            self.slots[n as usize].prev = p;
        } else {
            self.tails[l] = p;
        }
    }
    pub(super) fn push_front(&mut self, i: u32, list: u8) {
        let l = list as usize;
        let h = self.heads[l];
        {
            let s = &mut self.slots[i as usize];
            s.prev = NIL;
            s.next = h;
            s.list = list;
        }
        if h != NIL {
            self.slots[h as usize].prev = i;
        } else {
            self.tails[l] = i;
        }
        self.heads[l] = i;
    }
    /// Takes a slot for a new flow keyed `canon` (a free one, else a new
    /// one at the end), at the front of `list`. The caller fills the flow
    /// in place with [`Flow::open`] before anything reads it.
    pub(super) fn claim(&mut self, canon: FlowKey, list: u8) -> u32 {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                // `resize_with` reserves before it builds the slot, so the
                // placeholder is written straight into the vector (a
                // `push` built it on the stack and copied it in).
                self.slots.resize_with(self.slots.len() + 1, || Slot {
                    flow: Flow::vacant(),
                    prev: NIL,
                    next: NIL,
                    list: L_FREE,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.push_front(i, list);
        self.map.insert(canon, i);
        i
    }
    pub(super) fn touch(&mut self, i: u32, list: u8) {
        if self.heads[list as usize] == i {
            return;
        }
        self.unlink(i);
        self.push_front(i, list);
    }
    /// Frees slot `i` once its flow has been read: off its list, out of
    /// the map, onto the free list. The flow's bytes stay until reuse.
    pub(super) fn release(&mut self, i: u32) {
        self.unlink(i);
        let canon = canonical(&self.slots[i as usize].flow.key);
        self.map.remove(&canon);
        self.slots[i as usize].list = L_FREE;
        self.free.push(i);
    }
    /// The live flow in slot `i`.
    pub(super) fn flow(&mut self, i: u32) -> &mut Flow {
        debug_assert!(self.slots[i as usize].list != L_FREE, "live slot");
        &mut self.slots[i as usize].flow
    }
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}

pub(super) fn canonical(k: &FlowKey) -> FlowKey {
    if (k.orig_h, k.orig_p) <= (k.resp_h, k.resp_p) {
        *k
    } else {
        k.reversed()
    }
}

impl Engine<'_> {
    /// Ends the least recently active flows while the engine's state plus
    /// what the sink holds for its flows ([`FlowSink::held_bytes`]) is over
    /// the cap. Each ended flow emits its conn record (and the sink what it
    /// had), so nothing already decoded is lost.
    pub(super) fn enforce_cap(&mut self, sink: &mut dyn FlowSink) {
        loop {
            let own = self.mem + self.frags.bytes;
            if own + sink.held_bytes() <= self.cfg.memory_cap || self.flows.len() <= 1 {
                break;
            }
            // Evict the flow with the oldest last activity across lists.
            let mut best: Option<(Ts, u32)> = None;
            for l in 0..4 {
                let t = self.flows.tails[l];
                if t != NIL {
                    let last = self.flows.slots[t as usize].flow.last;
                    if best.is_none_or(|(b, _)| last < b) {
                        best = Some((last, t));
                    }
                }
            }
            let Some((_, victim)) = best else { break };
            self.summary.evicted_memory += 1;
            if own <= self.cfg.memory_cap {
                self.summary.evicted_sink_memory += 1;
            }
            self.end_flow(victim, sink);
        }
        // Measured after eviction: between packets the state never
        // exceeds the cap (unless one flow alone does).
        let held = sink.held_bytes();
        let used = self.mem + self.frags.bytes + held;
        self.summary.peak_memory = self.summary.peak_memory.max(used as u64);
        self.summary.peak_sink_memory = self.summary.peak_sink_memory.max(held as u64);
    }

    /// Ends flows idle longer than their timeout.
    pub(super) fn expire(&mut self, sink: &mut dyn FlowSink) {
        let timeouts = [
            (self.cfg.tcp_idle_secs as i64).saturating_mul(1_000_000),
            CLOSE_DELAY_US,
            (self.cfg.udp_idle_secs as i64).saturating_mul(1_000_000),
            (self.cfg.icmp_idle_secs as i64).saturating_mul(1_000_000),
        ];
        for (l, &t) in timeouts.iter().enumerate() {
            loop {
                let tail = self.flows.tails[l];
                if tail == NIL {
                    break;
                }
                let last = self.flows.slots[tail as usize].flow.last;
                if self.now.0.saturating_sub(last.0) <= t {
                    break;
                }
                if l != L_CLOSED as usize {
                    self.summary.evicted_idle += 1;
                }
                self.end_flow(tail, sink);
            }
        }
        self.frags.expire(self.now);
    }
}
