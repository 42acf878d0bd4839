//! Table 8: how the bot binary was copied after each exploit — the
//! first transfer between the exploit's two hosts within 10 minutes, each
//! transfer used once: a TFTP get, a victim-initiated FTP fetch (a
//! reverse connection), or raw executable bytes pushed by the attacker
//! or fetched by the victim.

use crate::analysis::{bump, table, Report};
use crate::inputs::Inputs;
use botscope_core::events::Evidence;
use botscope_core::exploit::ExploitEvent;
use botscope_core::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// A copy counts when it starts at most this long after the exploit.
pub const COPY_WINDOW_US: i64 = 600_000_000;

/// How a binary was copied after an exploit (Table 8).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CopyRow {
    /// Exploit uid.
    pub exploit_uid: String,
    /// Infecting host.
    pub attacker: IpAddr,
    /// Victim.
    pub victim: IpAddr,
    /// `tftp_get`, `tcp_push` or `reverse_connect` (the study's three
    /// categories, by who started the exchange).
    pub method: String,
    /// How the bytes came: `tftp`, `ftp` (a victim-initiated FTP RETR,
    /// whatever mode its data connection used) or `tcp` (raw bytes).
    pub via: String,
    /// Transfer flow uid.
    pub uid: String,
    /// Start.
    pub ts: Ts,
    /// File name (TFTP).
    pub filename: Option<String>,
    /// Bytes.
    pub size: u64,
    /// Size the server announced for the file (FTP `SIZE`/`150` reply),
    /// when it did: a transfer that carried fewer bytes is partial.
    pub announced_size: Option<u64>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// Whether the whole binary arrived (a partial FTP transfer, fewer
    /// bytes than announced, did not).
    pub success: bool,
    /// Evidence.
    pub evidence: Evidence,
}

/// Whether an FTP data connection carried the whole file: no byte lost
/// (a SHA-256 was taken) and, when the server announced a size, at least
/// that many bytes. A `226` alone does not say so: captures cut off
/// mid-transfer still hold the server's reply to an earlier command, and
/// servers send `226` on aborted transfers too.
pub fn ftp_transfer_complete(
    t: &botscope_core::events::FtpTransfer,
    announced: Option<u64>,
) -> bool {
    t.sha256.is_some() && announced.is_none_or(|n| t.bytes >= n)
}

/// The transfers of a run indexed by host pair, and which of them a
/// copy already took.
struct Transfers<'a> {
    inp: &'a Inputs,
    tftp_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>>,
    ftp_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>>,
    bin_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>>,
    used_tftp: BTreeSet<usize>,
    used_ftp: BTreeSet<usize>,
    used_bin: BTreeSet<usize>,
}

impl<'a> Transfers<'a> {
    fn new(inp: &'a Inputs) -> Self {
        // Transfers by (originator, responder), so each exploit looks only at
        // its own pair's (a field has thousands of exploits and transfers).
        let mut tftp_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
        for (i, x) in inp.tftp.iter().enumerate() {
            if !x.wrq {
                tftp_by_pair
                    .entry((x.id.orig_h, x.id.resp_h))
                    .or_default()
                    .push(i);
            }
        }
        // FTP fetches by (client, server): the victim logged into the
        // infecting host and sent RETR. Their data connections are not pushes,
        // even when the infecting host opened them (active mode, PORT).
        let mut ftp_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
        let mut ftp_data: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (i, f) in inp.ftp.iter().enumerate() {
            if let Some(t) = &f.transfer {
                ftp_data.insert(t.uid.as_str());
            }
            if f.command == "RETR" {
                ftp_by_pair
                    .entry((f.id.orig_h, f.id.resp_h))
                    .or_default()
                    .push(i);
            }
        }
        let mut bin_by_pair: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
        for (i, b) in inp.binaries.iter().enumerate() {
            if ftp_data.contains(b.uid.as_str()) {
                continue;
            }
            bin_by_pair
                .entry((b.id.orig_h, b.id.resp_h))
                .or_default()
                .push(i);
        }
        Transfers {
            inp,
            tftp_by_pair,
            ftp_by_pair,
            bin_by_pair,
            used_tftp: BTreeSet::new(),
            used_ftp: BTreeSet::new(),
            used_bin: BTreeSet::new(),
        }
    }

    /// The earliest unused transfer that fits exploit `e` (its `uid` is
    /// still `kind#index`, see [`Transfers::take`]).
    fn best(&self, e: &ExploitEvent) -> Option<CopyRow> {
        let (a, v, t) = (e.id.orig_h, e.id.resp_h, e.ts.0);
        let mut best: Option<CopyRow> = None;
        let consider = |c: CopyRow, best: &mut Option<CopyRow>| {
            if best.as_ref().is_none_or(|b| c.ts < b.ts) {
                *best = Some(c);
            }
        };
        for &i in self.tftp_by_pair.get(&(v, a)).into_iter().flatten() {
            let x = &self.inp.tftp[i];
            if self.used_tftp.contains(&i) {
                continue;
            }
            // A TFTP request can start a moment before the deciding PDU's packet.
            if x.ts.0 + 5_000_000 < t || x.ts.0 > t + COPY_WINDOW_US {
                continue;
            }
            consider(
                CopyRow {
                    exploit_uid: e.uid.clone(),
                    attacker: a,
                    victim: v,
                    method: "tftp_get".into(),
                    via: "tftp".into(),
                    uid: format!("tftp#{i}"),
                    ts: x.ts,
                    filename: Some(x.fname.clone()),
                    size: x.size,
                    announced_size: None,
                    sha256: x.sha256.clone(),
                    success: x.sha256.is_some() && x.error_code.is_none(),
                    evidence: x.evidence.clone(),
                },
                &mut best,
            );
        }
        // A victim-initiated FTP fetch from the infecting host: a reverse
        // connection in the study's terms (the victim connects to A).
        for &i in self.ftp_by_pair.get(&(v, a)).into_iter().flatten() {
            let f = &self.inp.ftp[i];
            if self.used_ftp.contains(&i) || f.ts.0 + 5_000_000 < t || f.ts.0 > t + COPY_WINDOW_US {
                continue;
            }
            let tr = f.transfer.as_ref();
            let ok = f.reply_code.is_some_and(|c| (200..300).contains(&c));
            consider(
                CopyRow {
                    exploit_uid: e.uid.clone(),
                    attacker: a,
                    victim: v,
                    method: "reverse_connect".into(),
                    via: "ftp".into(),
                    uid: format!("ftp#{i}"),
                    ts: f.ts,
                    filename: f.file_name.clone(),
                    size: tr.map_or(0, |t| t.bytes),
                    announced_size: f.file_size,
                    sha256: tr.and_then(|t| t.sha256.clone()),
                    success: ok && tr.is_some_and(|t| ftp_transfer_complete(t, f.file_size)),
                    evidence: f.evidence.clone(),
                },
                &mut best,
            );
        }
        // Pushes (attacker to victim) and reverse connections (victim to
        // attacker), in capture order as before.
        let mut bins: Vec<usize> = [(a, v), (v, a)]
            .iter()
            .filter_map(|k| self.bin_by_pair.get(k))
            .flatten()
            .copied()
            .collect();
        bins.sort_unstable();
        bins.dedup();
        for i in bins {
            let b = &self.inp.binaries[i];
            if self.used_bin.contains(&i) || b.ts.0 + 5_000_000 < t || b.ts.0 > t + COPY_WINDOW_US {
                continue;
            }
            let method = if b.from_orig && b.id.orig_h == a && b.id.resp_h == v {
                "tcp_push"
            } else if !b.from_orig && b.id.orig_h == v && b.id.resp_h == a {
                "reverse_connect"
            } else {
                continue;
            };
            consider(
                CopyRow {
                    exploit_uid: e.uid.clone(),
                    attacker: a,
                    victim: v,
                    method: method.into(),
                    via: "tcp".into(),
                    uid: format!("bin#{i}"),
                    ts: b.ts,
                    filename: None,
                    size: b.size,
                    announced_size: None,
                    sha256: Some(b.sha256.clone()),
                    success: b.complete,
                    evidence: b.evidence.clone(),
                },
                &mut best,
            );
        }
        best
    }

    /// Marks the copy's transfer used and gives it its flow uid.
    fn take(&mut self, mut c: CopyRow) -> CopyRow {
        let (kind, i) = c
            .uid
            .split_once('#')
            .map(|(k, i)| (k.to_string(), i.parse::<usize>().unwrap_or(0)))
            .unwrap_or_default();
        if kind == "tftp" {
            self.used_tftp.insert(i);
            c.uid = self.inp.tftp[i].uid.clone();
        } else if kind == "ftp" {
            self.used_ftp.insert(i);
            c.uid = self.inp.ftp[i].uid.clone();
        } else {
            self.used_bin.insert(i);
            c.uid = self.inp.binaries[i].uid.clone();
        }
        c
    }
}

/// Table 8: the copies after each exploit of `r.exploits` (Table 7's),
/// counted per method, and the successful ones per method.
pub(crate) fn table8(inp: &Inputs, r: &mut Report) {
    let mut transfers = Transfers::new(inp);
    for e in &r.exploits {
        if let Some(c) = transfers.best(e) {
            r.copies.push(transfers.take(c));
        }
    }
    let mut t8 = BTreeMap::new();
    for c in &r.copies {
        bump(&mut t8, c.method.clone(), &c.uid, 1);
        if c.success {
            *r.table8_success.entry(c.method.clone()).or_default() += 1;
        }
    }
    r.table8 = table(&t8);
}
