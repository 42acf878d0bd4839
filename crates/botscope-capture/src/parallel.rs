//! Flows spread over worker threads by a symmetric address-pair hash, as
//! Suricata's `workers` mode does, with output in an order that does not
//! depend on thread timing.
//!
//! One dispatcher thread reads the records, finds each frame's outermost
//! IP address pair (link layer and one IP header: nothing else) and
//! copies the frame into the batch of the worker that the **unordered**
//! pair hashes to. Each worker owns an [`Engine`] and its own sink and
//! runs the whole per-packet path (decoding, tunnels, fragments, flows,
//! reassembly, dissection). A merger on the calling thread takes the
//! workers' outputs round by round and hands them on in one order.
//!
//! Why the outermost address pair, and not the 5-tuple or the innermost
//! pair:
//! - both directions hash alike (the pair is unordered);
//! - IP fragments carry no ports after the first one: every fragment of a
//!   datagram has the same addresses, so all reach one worker's
//!   reassembly table;
//! - flows between the same two hosts stay together: a TFTP transfer's
//!   data on new ports, FTP data connections (passive and active), the
//!   dissectors' claims on them all stay within one worker's `Analyzer`;
//! - a tunnel (GRE, ERSPAN, IP-in-IP) is one outer pair, so a tunnel and
//!   every flow inside it (their fragments included) meet on one worker,
//!   and the inner flow's addresses never need decoding here. The price:
//!   one big tunnel is one worker's load; and an inner 5-tuple seen both
//!   inside a tunnel and outside it is one flow with one worker but two
//!   with several (not seen in the corpus).
//!
//! What stays equal to a one-thread run ([`crate::read_files`]):
//! - **Uids.** A flow's uid derives from the run-wide number of the packet
//!   that opened it, a tunnel's from its endpoints; the dispatcher numbers
//!   the packets, so no per-worker counter enters a uid.
//! - **Idle expiry.** Each packet carries the latest packet time of the
//!   whole run at its place (`now`), so a worker expires its flows at the
//!   same packet time as one engine would; at the end of every round all
//!   workers are also told the round's `now` (a tick), so a worker that
//!   sees few packets still ends its idle flows.
//! - **Checksum `auto`.** Each worker deciding from its own first packets
//!   would decide differently; the decision is taken once before the run,
//!   by one engine over the first packets ([`decide_checksums`]), and the
//!   workers run in the mode it chose.
//!
//! What differs, by design: under a memory cap each worker has
//! `memory_cap / workers` (the total stays bounded) and evicts its own
//! least recently active flows, so once a cap is reached the early-ended
//! flows are not the same ones; the summary's peaks are the sums of the
//! workers' peaks (an upper bound of the run's); flow ids
//! ([`crate::FlowRef::id`]) are dense per worker.
//!
//! **Order.** Every output a worker produces is keyed by the run-wide
//! number of the packet it came from (`2 × seq`), or of the round's last
//! packet for a tick (`2 × seq + 1`), or `u64::MAX` at the end of input.
//! Workers process packets in run order, so each worker's keys never go
//! down; the merger takes one message per worker per round and merges
//! them by (key, worker). The same input and worker count give the same
//! order, whatever the threads' timing.

use crate::engine::{framing, Engine, Framing};
use crate::reader::CaptureReader;
use crate::{CaptureError, CaptureSummary, ChecksumMode, ChecksumStats, EngineConfig, FlowSink};
use botscope_core::error::{Located, Location, SkipCounter};
use botscope_core::hash::mix64;
use botscope_core::Ts;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Packets per round (all workers together): a round ends with a tick to
/// every worker and one merged output.
const ROUND_PACKETS: usize = 4096;
/// Frame bytes per round, so a round of jumbo frames stays small.
const ROUND_BYTES: usize = 4 << 20;
/// Rounds queued per worker (input and output): enough to ride out a
/// slow batch, bounded so memory does not grow with the input.
const QUEUE: usize = 4;
/// Batches per worker: the queued ones, the one being processed and the
/// one being filled. Once all exist, the reader waits for one to come
/// back rather than allocate: a fresh batch would regrow its buffers
/// (megabytes, i.e. `mmap`, page faults and copies; measured as a third
/// of a 2-worker run's CPU when the pool was unbounded and mostly empty).
const POOL: usize = QUEUE + 2;

/// A sink run by one worker: a [`FlowSink`] whose output (log records,
/// events) is collected per packet so the merger can order it.
pub trait WorkerSink: FlowSink + Send {
    /// What the sink produces (e.g. a log record).
    type Out: Send;
    /// Moves what the sink produced since the last call into `out`, each
    /// item tagged with `key`. Called after every packet and tick, so it
    /// must be cheap when nothing was produced.
    fn take_output(&mut self, key: u64, out: &mut Vec<(u64, Self::Out)>);
    /// End of input, after the engine ended every flow: flush what is
    /// still open (e.g. `Analyzer::finish`).
    fn end_of_input(&mut self) {}
}

/// One packet in a batch: where its frame is in [`Batch::data`] and what
/// the worker's engine needs to process it as a one-thread run would.
#[derive(Clone, Copy)]
struct Meta {
    seq: u64,
    now: Ts,
    ts: Ts,
    pkt_no: u64,
    file: u32,
    link: u32,
    orig_len: u32,
    off: usize,
    len: usize,
}

/// One worker's packets for one round. Owned and reused: the worker
/// sends it back emptied, so a warm run allocates nothing per packet.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    pkts: Vec<Meta>,
    /// Run-wide number of the round's last packet.
    end_seq: u64,
    /// Latest packet time of the run at the round's end.
    end_now: Ts,
}

/// The outermost IP address pair's symmetric hash (0 for frames without
/// IP). Fixed keys, never the per-process hasher seed: the same input
/// goes to the same workers in every run.
pub fn pair_hash(link: u32, data: &[u8]) -> u64 {
    let Framing::Ip { ver, data: ip, .. } = framing(link, data) else {
        return 0;
    };
    let (a, b) = match ver {
        4 if ip.len() >= 20 => (
            u32::from_be_bytes([ip[12], ip[13], ip[14], ip[15]]) as u128,
            u32::from_be_bytes([ip[16], ip[17], ip[18], ip[19]]) as u128,
        ),
        6 if ip.len() >= 40 => (
            u128::from_be_bytes(ip[8..24].try_into().unwrap_or([0; 16])),
            u128::from_be_bytes(ip[24..40].try_into().unwrap_or([0; 16])),
        ),
        _ => return 0,
    };
    unordered_pair_hash(a, b)
}

/// The worker (of `workers`) that packets between `a` and `b` (outermost
/// addresses) go to: as [`pair_hash`] picks it.
pub fn worker_of(a: std::net::IpAddr, b: std::net::IpAddr, workers: usize) -> usize {
    let v = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => u32::from(v4) as u128,
        std::net::IpAddr::V6(v6) => u128::from(v6),
    };
    (unordered_pair_hash(v(a), v(b)) % workers.max(1) as u64) as usize
}

fn unordered_pair_hash(a: u128, b: u128) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let h = mix64(lo as u64 ^ mix64((lo >> 64) as u64));
    let h = mix64(h ^ hi as u64);
    mix64(h ^ (hi >> 64) as u64)
}

/// `auto` checksum mode, decided once for a parallel run: one engine reads
/// packets (into no sink) until it has decided, exactly as the first
/// packets of a one-thread run decide it. `None` for other modes.
pub fn decide_checksums(
    paths: &[PathBuf],
    cfg: &EngineConfig,
) -> Result<Option<ChecksumStats>, CaptureError> {
    if cfg.checksum_mode() != ChecksumMode::Auto {
        return Ok(None);
    }
    let mut eng = Engine::new(cfg);
    'files: for (i, p) in paths.iter().enumerate() {
        let file = open(p)?;
        eng.begin_file(i as u32, &p.display().to_string());
        let Ok(mut rd) = CaptureReader::new(Box::new(file)) else {
            continue;
        };
        while let Ok(Some(r)) = rd.next_record() {
            eng.packet(r.no, r.ts, r.link, r.data, r.orig_len, &mut ());
            if eng.checksums_decided() {
                break 'files;
            }
        }
    }
    if !eng.checksums_decided() {
        eng.finish(&mut ());
    }
    Ok(Some(eng.summary.checksums))
}

fn open(p: &PathBuf) -> Result<std::fs::File, CaptureError> {
    std::fs::File::open(p).map_err(|source| CaptureError::Open {
        path: p.clone(),
        source,
    })
}

/// Reads capture files in order as one run over `workers` threads (see
/// the module text), each with the sink `make_sink(i)` gives. Outputs
/// reach `emit` on the calling thread in the merged order; `progress`
/// gets each record's captured length on the reading thread. Returns the
/// merged summary and the workers' sinks.
pub fn read_files_parallel<S, E, P>(
    paths: &[PathBuf],
    cfg: &EngineConfig,
    workers: usize,
    make_sink: impl Fn(usize) -> S,
    mut emit: E,
    progress: P,
) -> Result<(CaptureSummary, Vec<S>), CaptureError>
where
    S: WorkerSink,
    E: FnMut(S::Out),
    P: FnMut(u64) + Send,
{
    let n = workers.max(1);
    let files = paths.iter().map(open).collect::<Result<Vec<_>, _>>()?;
    let decided = decide_checksums(paths, cfg)?;
    let mut wcfg = cfg.clone();
    wcfg.memory_cap = (cfg.memory_cap / n).max(1);
    if let Some(d) = &decided {
        wcfg.checksums = d.mode;
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let sinks: Vec<S> = (0..n).map(make_sink).collect();

    let mut to_worker = Vec::new();
    let mut from_worker = Vec::new();
    let mut returns = Vec::new();
    let mut ends = Vec::new();
    for _ in 0..n {
        let (tx_in, rx_in) = sync_channel::<Batch>(QUEUE);
        let (tx_ret, rx_ret) = sync_channel::<Batch>(POOL);
        let (tx_out, rx_out) = sync_channel::<Vec<(u64, S::Out)>>(QUEUE);
        to_worker.push(tx_in);
        returns.push(rx_ret);
        from_worker.push(rx_out);
        ends.push((rx_in, tx_ret, tx_out));
    }

    let (read_summary, done) = std::thread::scope(|scope| {
        let handles: Vec<_> = ends
            .into_iter()
            .zip(sinks)
            .map(|((rx_in, tx_ret, tx_out), sink)| {
                let (wcfg, names) = (&wcfg, &names);
                scope.spawn(move || worker(wcfg, names, sink, rx_in, tx_ret, tx_out))
            })
            .collect();
        let reader = scope.spawn(|| dispatch(files, &names, n, to_worker, returns, progress));
        // The merger owns the receivers: if it stops early (a worker
        // died), the other workers' sends fail and they stop too.
        merge(from_worker, &mut emit);
        let read_summary = reader.join();
        let done: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (read_summary, done)
    });
    let mut read_summary = read_summary.map_err(|_| CaptureError::WorkerPanicked)?;
    let done = done
        .into_iter()
        .collect::<Result<Vec<(CaptureSummary, S)>, _>>()
        .map_err(|_| CaptureError::WorkerPanicked)?;
    let (summaries, sinks): (Vec<_>, Vec<_>) = done.into_iter().unzip();
    read_summary.checksums.requested = cfg.checksum_mode();
    let summary = merge_summaries(read_summary, summaries, decided, &names);
    Ok((summary, sinks))
}

/// The reading thread: numbers the packets, keeps the run's packet time,
/// and fills each worker's batch; a round ends every [`ROUND_PACKETS`]
/// packets (or [`ROUND_BYTES`]) with a batch, maybe empty, to every
/// worker. Returns what it counted (files, file errors).
fn dispatch(
    files: Vec<std::fs::File>,
    names: &[String],
    n: usize,
    to_worker: Vec<SyncSender<Batch>>,
    returns: Vec<Receiver<Batch>>,
    mut progress: impl FnMut(u64),
) -> CaptureSummary {
    let mut summary = CaptureSummary::default();
    let mut batches: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
    let mut made = vec![1usize; n];
    let (mut seq, mut now) = (0u64, Ts(i64::MIN));
    let (mut round_pkts, mut round_bytes) = (0usize, 0usize);
    let mut flush = |batches: &mut Vec<Batch>, seq: u64, now: Ts| {
        for (w, b) in batches.iter_mut().enumerate() {
            let mut full = std::mem::take(b);
            (full.end_seq, full.end_now) = (seq, now);
            // A worker that stopped (it panicked) is reported by join.
            let _ = to_worker[w].send(full);
            *b = match returns[w].try_recv() {
                Ok(back) => back,
                Err(_) if made[w] < POOL => {
                    made[w] += 1;
                    Batch::default()
                }
                // All batches out: wait for the worker to hand one back
                // (it does once it has processed it; the merger never
                // waits on a round this worker has not been sent).
                Err(_) => returns[w].recv().unwrap_or_default(),
            };
        }
    };
    for (i, file) in files.into_iter().enumerate() {
        summary.files += 1;
        let name = &names[i];
        let mut last_no = 0;
        let mut rd = match CaptureReader::new(Box::new(file)) {
            Ok(r) => r,
            Err(e) => {
                file_error(&mut summary, name, 0, e.offset(), e.reason());
                continue;
            }
        };
        loop {
            let r = match rd.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    file_error(&mut summary, name, last_no, e.offset(), e.reason());
                    break;
                }
            };
            last_no = r.no;
            seq += 1;
            now = now.max(r.ts);
            progress(r.data.len() as u64);
            let w = (pair_hash(r.link, r.data) % n as u64) as usize;
            let b = &mut batches[w];
            let off = b.data.len();
            b.data.extend_from_slice(r.data);
            b.pkts.push(Meta {
                seq,
                now,
                ts: r.ts,
                pkt_no: r.no,
                file: i as u32,
                link: r.link,
                orig_len: r.orig_len,
                off,
                len: r.data.len(),
            });
            round_pkts += 1;
            round_bytes += r.data.len();
            if round_pkts >= ROUND_PACKETS || round_bytes >= ROUND_BYTES {
                flush(&mut batches, seq, now);
                (round_pkts, round_bytes) = (0, 0);
            }
        }
    }
    if round_pkts > 0 {
        flush(&mut batches, seq, now);
    }
    summary
}

/// As [`Engine::file_error`]: the record after the last one read.
fn file_error(
    summary: &mut CaptureSummary,
    name: &str,
    last_no: u64,
    offset: Option<u64>,
    reason: String,
) {
    let e = Located {
        location: Location {
            file: name.to_string(),
            packet: Some(last_no + 1),
            offset,
            line: None,
        },
        reason,
    };
    summary.skipped.add(&e);
    if summary.file_errors.len() < 64 {
        summary.file_errors.push(e);
    }
}

/// One worker: its engine over its batches, outputs keyed per packet and
/// tick, one output message per round and one at the end.
fn worker<S: WorkerSink>(
    cfg: &EngineConfig,
    names: &[String],
    mut sink: S,
    rx: Receiver<Batch>,
    ret: SyncSender<Batch>,
    tx: SyncSender<Vec<(u64, S::Out)>>,
) -> (CaptureSummary, S) {
    let mut eng = Engine::new(cfg);
    let mut file = None;
    let mut last_out = 0;
    for mut b in rx {
        // Sized as the last round's: no regrowth, no moving records.
        let mut out = Vec::with_capacity(last_out);
        for m in &b.pkts {
            if file != Some(m.file) {
                file = Some(m.file);
                let name = names.get(m.file as usize).map_or("", |s| s.as_str());
                eng.begin_file(m.file, name);
            }
            let data = &b.data[m.off..m.off + m.len];
            eng.packet_at(
                m.seq, m.now, m.pkt_no, m.ts, m.link, data, m.orig_len, &mut sink,
            );
            sink.take_output(2 * m.seq, &mut out);
        }
        eng.advance(b.end_now, &mut sink);
        sink.take_output(2 * b.end_seq + 1, &mut out);
        last_out = out.len();
        // The merger reads every worker each round: a stopped merger
        // means the run is over.
        if tx.send(out).is_err() {
            break;
        }
        b.data.clear();
        b.pkts.clear();
        let _ = ret.try_send(b);
    }
    let mut out = Vec::new();
    eng.finish(&mut sink);
    sink.end_of_input();
    sink.take_output(u64::MAX, &mut out);
    let _ = tx.send(out);
    (eng.summary, sink)
}

/// Takes one message per worker per round and hands the items on by
/// (key, worker): an order fixed by the input and the worker count.
fn merge<T>(from: Vec<Receiver<Vec<(u64, T)>>>, emit: &mut impl FnMut(T)) {
    loop {
        let mut round: Vec<std::iter::Peekable<std::vec::IntoIter<(u64, T)>>> = Vec::new();
        for rx in &from {
            match rx.recv() {
                Ok(v) => round.push(v.into_iter().peekable()),
                // Workers end together (the input ended for all): done.
                Err(_) => return,
            }
        }
        loop {
            let mut best: Option<(usize, u64)> = None;
            for (w, it) in round.iter_mut().enumerate() {
                if let Some(&(k, _)) = it.peek() {
                    if best.is_none_or(|(_, bk)| k < bk) {
                        best = Some((w, k));
                    }
                }
            }
            let Some((w, _)) = best else { break };
            if let Some((_, item)) = round[w].next() {
                emit(item);
            }
        }
    }
}

/// One summary for the run: the reading thread's (files, file errors) and
/// the workers' counters (summed; peaks summed, an upper bound), first
/// places kept in run order, `auto`'s decision from [`decide_checksums`].
fn merge_summaries(
    read: CaptureSummary,
    workers: Vec<CaptureSummary>,
    decided: Option<ChecksumStats>,
    names: &[String],
) -> CaptureSummary {
    let mut s = read;
    let requested = s.checksums.requested;
    let mut skipped = vec![std::mem::take(&mut s.skipped)];
    let mut anomalies = Vec::new();
    for w in workers {
        s.packets += w.packets;
        s.bytes += w.bytes;
        s.flows += w.flows;
        s.conns += w.conns;
        s.evicted_idle += w.evicted_idle;
        s.evicted_memory += w.evicted_memory;
        s.evicted_sink_memory += w.evicted_sink_memory;
        s.peak_flows += w.peak_flows;
        s.peak_memory += w.peak_memory;
        s.peak_sink_memory += w.peak_sink_memory;
        s.non_ip += w.non_ip;
        s.ip_fragments += w.ip_fragments;
        s.ip_reassembled += w.ip_reassembled;
        s.ip_fragment_overlaps += w.ip_fragment_overlaps;
        s.ip_fragment_conflicts += w.ip_fragment_conflicts;
        s.ip_fragments_expired += w.ip_fragments_expired;
        s.decapsulated += w.decapsulated;
        s.tunnels += w.tunnels;
        s.bad_checksums += w.bad_checksums;
        s.tcp_retransmissions += w.tcp_retransmissions;
        s.tcp_overlap_conflicts += w.tcp_overlap_conflicts;
        let c = &mut s.checksums;
        c.mode = w.checksums.mode;
        c.checked += w.checksums.checked;
        c.bad_ip += w.checksums.bad_ip;
        c.bad_tcp += w.checksums.bad_tcp;
        c.bad_udp += w.checksums.bad_udp;
        c.dropped += w.checksums.dropped;
        skipped.push(w.skipped);
        anomalies.push(w.anomalies);
    }
    s.skipped = merge_counters(skipped, names);
    s.anomalies = merge_counters(anomalies, names);
    if let Some(d) = decided {
        // Validation switched off by `auto`: a one-thread run checked
        // only the sample; the workers (mode off) checked nothing.
        if d.mode == ChecksumMode::Off {
            s.checksums = d.clone();
        }
        s.checksums.requested = requested;
        s.checksums.mode = d.mode;
        s.checksums.sampled = d.sampled;
        s.checksums.sample_bad = d.sample_bad;
    }
    s
}

/// Counters of several workers as one: counts summed, the first
/// [`SkipCounter::KEEP`] places of each reason in run order (file, then
/// packet), as one engine would have kept them.
pub fn merge_counters(counters: Vec<SkipCounter>, names: &[String]) -> SkipCounter {
    let mut all = SkipCounter::default();
    for c in counters {
        for (reason, (n, places)) in c.by_reason {
            let slot = all.by_reason.entry(reason).or_default();
            slot.0 += n;
            slot.1.extend(places);
        }
    }
    for (_, places) in all.by_reason.values_mut() {
        places.sort_by_key(|p| place_key(p, names));
        places.dedup();
        places.truncate(SkipCounter::KEEP);
    }
    all
}

/// (file index, packet number) of a place written as `file packet N ...`.
fn place_key(place: &str, names: &[String]) -> (usize, u64) {
    let file = names
        .iter()
        .enumerate()
        .filter(|(_, n)| place.starts_with(&format!("{n} packet ")))
        .max_by_key(|(_, n)| n.len())
        .map_or(usize::MAX, |(i, _)| i);
    let packet = place
        .rsplit_once(" packet ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(u64::MAX);
    (file, packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet/IPv4 frame from `s` to `d` (UDP, no payload), with
    /// `tags` 802.1Q tags.
    fn frame(s: [u8; 4], d: [u8; 4], tags: usize) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        for _ in 0..tags {
            f.extend_from_slice(&[0x81, 0x00, 0, 7]);
        }
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&s);
        f.extend_from_slice(&d);
        f.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
        f
    }

    #[test]
    fn both_directions_and_every_link_framing_hash_alike() {
        let (a, b) = ([10, 0, 0, 1], [192, 168, 7, 9]);
        let h = pair_hash(1, &frame(a, b, 0));
        assert_ne!(h, 0);
        assert_eq!(pair_hash(1, &frame(b, a, 0)), h);
        assert_eq!(pair_hash(1, &frame(b, a, 2)), h);
        // Raw IP and Linux cooked capture of the same IP header.
        let ip = frame(a, b, 0)[14..].to_vec();
        assert_eq!(pair_hash(101, &ip), h);
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&ip);
        assert_eq!(pair_hash(113, &sll), h);
        // The address form agrees with the frame form.
        let n = 7;
        assert_eq!(
            worker_of([10, 0, 0, 1].into(), [192, 168, 7, 9].into(), n),
            (h % n as u64) as usize
        );
        // Another pair goes elsewhere (these two differ).
        assert_ne!(pair_hash(1, &frame(a, [192, 168, 7, 10], 0)), h);
    }

    #[test]
    fn cut_and_odd_frames_hash_to_zero_without_panicking() {
        let f = frame([1, 2, 3, 4], [5, 6, 7, 8], 1);
        for len in 0..f.len() {
            let h = pair_hash(1, &f[..len]);
            // Until the destination address is in, there is no pair.
            if len < 18 + 20 {
                assert_eq!(h, 0, "len {len}");
            }
        }
        assert_eq!(pair_hash(999, &f), 0);
        assert_eq!(pair_hash(1, &[0x81, 0x00, 0x81, 0x00]), 0);
    }

    #[test]
    fn places_merge_in_run_order() {
        let names = vec!["a.pcap".to_string(), "b.pcap".to_string()];
        let mut w1 = SkipCounter::default();
        let mut w2 = SkipCounter::default();
        let add = |c: &mut SkipCounter, f: &str, p: u64| {
            c.add(&Located {
                location: Location {
                    file: f.into(),
                    packet: Some(p),
                    offset: None,
                    line: None,
                },
                reason: "x".into(),
            })
        };
        for p in [3, 10, 12] {
            add(&mut w1, "b.pcap", p);
        }
        for p in [7, 100] {
            add(&mut w2, "a.pcap", p);
        }
        add(&mut w2, "b.pcap", 4);
        let m = merge_counters(vec![w1, w2], &names);
        let (n, places) = &m.by_reason["x"];
        assert_eq!(*n, 6);
        assert_eq!(
            places,
            &[
                "a.pcap packet 7",
                "a.pcap packet 100",
                "b.pcap packet 3",
                "b.pcap packet 4",
                "b.pcap packet 10"
            ]
        );
    }
}
