//! A sink shared between the capture thread and the rest of a program
//! (which reads its results while or after the capture runs).

use crate::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::events::Conn;
use std::sync::{Arc, Mutex};

/// Forwards every call to the inner sink under its lock. A poisoned lock
/// (a reader panicked while holding it) is taken over: the sink's counts
/// are still consistent per call, and losing the capture would be worse.
impl<T: FlowSink> FlowSink for Arc<Mutex<T>> {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        lock(self).on_packet(pkt, flow)
    }
    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        lock(self).on_datagram(flow, dir, pkt)
    }
    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        lock(self).on_stream_data(flow, dir, pkt, data)
    }
    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        lock(self).on_stream_gap(flow, dir, len)
    }
    fn on_flow_end(&mut self, flow: FlowRef<'_>, conn: &mut Conn) {
        lock(self).on_flow_end(flow, conn)
    }
    fn held_bytes(&self) -> usize {
        lock(self).held_bytes()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConnCollector;

    /// The shared sink sees what a plain one sees: one TCP flow ending.
    #[test]
    fn shared_sink_forwards_flow_end() {
        // A minimal Ethernet/IPv4/TCP SYN then RST pair in a pcap file.
        let mut pcap = Vec::new();
        pcap.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        pcap.extend_from_slice(&2u16.to_le_bytes());
        pcap.extend_from_slice(&4u16.to_le_bytes());
        pcap.extend_from_slice(&[0; 8]);
        pcap.extend_from_slice(&65535u32.to_le_bytes());
        pcap.extend_from_slice(&1u32.to_le_bytes());
        for (i, flags) in [(0u32, 0x02u8), (1, 0x04)] {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&[0x08, 0x00]);
            let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0];
            ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
            let mut tcp = vec![0u8; 20];
            tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
            tcp[2..4].copy_from_slice(&445u16.to_be_bytes());
            tcp[4..8].copy_from_slice(&(100 + i).to_be_bytes());
            tcp[12] = 0x50;
            tcp[13] = flags;
            f.extend_from_slice(&ip);
            f.extend_from_slice(&tcp);
            pcap.extend_from_slice(&(1_000 + i).to_le_bytes());
            pcap.extend_from_slice(&0u32.to_le_bytes());
            pcap.extend_from_slice(&(f.len() as u32).to_le_bytes());
            pcap.extend_from_slice(&(f.len() as u32).to_le_bytes());
            pcap.extend_from_slice(&f);
        }
        let cfg = crate::EngineConfig {
            verify_checksums: false,
            ..Default::default()
        };
        let shared = Arc::new(Mutex::new(ConnCollector::default()));
        let mut sink = shared.clone();
        let sum = crate::read_bytes("t.pcap", &pcap, &cfg, &mut sink).unwrap();
        assert_eq!(sum.packets, 2);
        let got = shared.lock().unwrap();
        assert_eq!(got.conns.len(), 1);
        assert_eq!(got.conns[0].id.resp_p, 445);
    }
}
