//! FTP control sessions and their data connections, across flows.
//!
//! A control connection's commands are queued until their final reply
//! (1xx replies keep them pending; multi-line replies count once). PORT
//! and EPRT (active mode: the server connects to the client) and 227/229
//! replies to PASV/EPSV (passive mode: the client connects to the server)
//! announce a data channel; each leaves an expectation keyed by where the
//! data connection goes (address, port), and the first new TCP flow that
//! matches becomes that channel's data flow (`conn.service` `ftp-data`).
//! The next transfer command (RETR, STOR, STOU, APPE, LIST, NLST, MLSD)
//! takes the latest announced channel, so its row carries what the data
//! flow carried: bytes, SHA-256, the `MZ` flag and the flow's uid.
//!
//! Rows follow Zeek's `ftp.log`: only APPE, DELE, RETR, STOR, STOU, ACCT,
//! PORT, PASV, EPRT and EPSV are logged, the PASV/PORT row holds the data
//! channel, file commands get Zeek's `ftp://host/path` argument, and a
//! session with a user but no logged command logs its last command.
//! A transfer row is emitted when both its final reply and the end of its
//! data flow were seen (or the data flow never came). Nothing is buffered
//! beyond the line splitters: data is hashed as it arrives.

use super::parser::{self, parse_command, parse_reply, ReplyLine};
use crate::irc::parser::{Line, LineSplitter};
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{Event, Evidence, FtpDataChannel, FtpEvent, FtpTransfer};
use botscope_core::hash::FastMap;
use botscope_core::{FlowKey, Ts};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::net::IpAddr;

/// Most commands waiting for a reply per session (Zeek's `max_pending_commands`).
const MAX_PENDING: usize = 20;
/// Most data-channel expectations held at once (oldest dropped).
const MAX_EXPECT: usize = 4096;
/// Most finished-but-unclaimed data flows or waiting rows held at once.
const MAX_HELD: usize = 4096;

/// Commands Zeek's `ftp.log` writes.
const LOGGED: &[&str] = &[
    "APPE", "DELE", "RETR", "STOR", "STOU", "ACCT", "PORT", "PASV", "EPRT", "EPSV",
];
/// Commands whose argument is a file (Zeek's `file_cmds`).
const FILE_CMDS: &[&str] = &[
    "APPE", "CWD", "DELE", "MKD", "RETR", "RMD", "RNFR", "RNTO", "STOR", "STOU", "REST", "SIZE",
    "MDTM",
];
/// Commands that use a data connection.
const DATA_CMDS: &[&str] = &["RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"];

#[derive(Debug)]
struct Cmd {
    ts: Ts,
    pkt: u64,
    verb: String,
    arg: String,
    /// Data channel this command announced (PORT/EPRT at once, PASV/EPSV at the reply).
    channel: Option<FtpDataChannel>,
    /// Data channel id this transfer command uses.
    uses: Option<u32>,
    file_size: Option<u64>,
}

/// One FTP control connection.
#[derive(Debug)]
pub struct FtpSession {
    from_client: LineSplitter,
    from_server: LineSplitter,
    uid: String,
    key: Option<FlowKey>,
    file: u32,
    user: Option<String>,
    password: Option<String>,
    cwd: String,
    pending: VecDeque<Cmd>,
    /// Code of the multi-line reply being read.
    multiline: Option<u16>,
    next_chan: u32,
    last_chan: Option<u32>,
    logged_any: bool,
    last_done: Option<(Cmd, Option<u16>, Option<String>)>,
    /// The last `213 N` answer to SIZE: (the file's path resolved against
    /// the working directory then, N).
    size_reply: Option<(String, u64)>,
    /// Commands parsed.
    pub commands: u64,
}

impl Default for FtpSession {
    fn default() -> Self {
        let mut pending = VecDeque::new();
        // The server's greeting answers no command (Zeek's `<init>` shim).
        pending.push_back(Cmd {
            ts: Ts(0),
            pkt: 0,
            verb: "<init>".into(),
            arg: String::new(),
            channel: None,
            uses: None,
            file_size: None,
        });
        FtpSession {
            from_client: LineSplitter::default(),
            from_server: LineSplitter::default(),
            uid: String::new(),
            key: None,
            file: 0,
            user: None,
            password: None,
            cwd: ".".into(),
            pending,
            multiline: None,
            next_chan: 0,
            last_chan: None,
            logged_any: false,
            last_done: None,
            size_reply: None,
            commands: 0,
        }
    }
}

#[derive(Debug)]
struct DataFlow {
    ctrl: u64,
    chan: u32,
    uid: String,
    key: FlowKey,
    /// Direction that carries the data (set by the first byte).
    dir: Option<bool>,
    bytes: u64,
    hasher: Sha256,
    lost: bool,
    is_mz: bool,
    head: [u8; 2],
    head_len: u8,
}

impl DataFlow {
    fn transfer(self) -> FtpTransfer {
        FtpTransfer {
            uid: self.uid,
            id: self.key,
            bytes: self.bytes,
            from_orig: self.dir.unwrap_or(true),
            sha256: (!self.lost && self.bytes > 0).then(|| hex::encode(self.hasher.finalize())),
            is_executable: self.is_mz,
        }
    }
}

/// Every FTP session and data connection of a run.
#[derive(Debug, Default)]
pub struct FtpTracker {
    /// (address, port) a data connection will go to → (control flow, channel).
    expect: FastMap<(IpAddr, u16), (u64, u32)>,
    expect_order: VecDeque<(IpAddr, u16)>,
    data: FastMap<u64, DataFlow>,
    /// (control flow, channel) → data flow id, while it is open.
    open: FastMap<(u64, u32), u64>,
    /// Ended data flows whose transfer row is not written yet.
    done: FastMap<(u64, u32), FtpTransfer>,
    /// Transfer rows waiting for their data flow to end.
    waiting: FastMap<(u64, u32), FtpEvent>,
}

fn guest(user: &str) -> bool {
    matches!(
        user.to_ascii_lowercase().as_str(),
        "anonymous" | "ftp" | "ftpuser" | "guest"
    )
}

/// Zeek's rendering of the password column: hidden unless the user is a guest.
pub fn shown_password(user: &str, password: Option<&str>) -> Option<String> {
    password.map(|p| {
        if guest(user) {
            p.to_string()
        } else {
            "<hidden>".to_string()
        }
    })
}

impl FtpTracker {
    /// Whether a new TCP flow is an announced data connection; if so it is
    /// attached and its bytes go to [`Self::on_data`].
    pub fn claim(&mut self, flow_id: u64, uid: &str, key: &FlowKey) -> bool {
        // Runs for every new TCP flow: no hashing while nothing is expected.
        if self.expect.is_empty() {
            return false;
        }
        let Some((ctrl, chan)) = self.expect.remove(&(key.resp_h, key.resp_p)) else {
            return false;
        };
        self.open.insert((ctrl, chan), flow_id);
        self.data.insert(
            flow_id,
            DataFlow {
                ctrl,
                chan,
                uid: uid.to_string(),
                key: *key,
                dir: None,
                bytes: 0,
                hasher: Sha256::new(),
                lost: false,
                is_mz: false,
                head: [0; 2],
                head_len: 0,
            },
        );
        true
    }

    /// Stream bytes on a data connection.
    pub fn on_data(
        &mut self,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        from_orig: bool,
        data: &[u8],
        out: &mut Output,
    ) {
        let Some(d) = self.data.get_mut(&flow_id) else {
            return;
        };
        if data.is_empty() {
            return;
        }
        match d.dir {
            None => d.dir = Some(from_orig),
            Some(x) if x != from_orig => {
                out.anomaly(ctx, "ftp_data_both_directions");
                return;
            }
            _ => {}
        }
        for &b in data.iter().take(2 - d.head_len as usize) {
            d.head[d.head_len as usize] = b;
            d.head_len += 1;
        }
        d.is_mz = d.head_len == 2 && &d.head == b"MZ";
        d.bytes += data.len() as u64;
        d.hasher.update(data);
    }

    /// Bytes were lost on a data connection: no hash.
    pub fn on_data_gap(&mut self, flow_id: u64, len: u64) {
        if let Some(d) = self.data.get_mut(&flow_id) {
            d.lost = true;
            d.bytes += len;
        }
    }

    /// A data connection ended.
    pub fn on_data_end(&mut self, flow_id: u64, out: &mut Output) {
        let Some(d) = self.data.remove(&flow_id) else {
            return;
        };
        let k = (d.ctrl, d.chan);
        self.open.remove(&k);
        let t = d.transfer();
        if let Some(mut row) = self.waiting.remove(&k) {
            fill(&mut row, t);
            emit(row, out);
        } else if self.done.len() < MAX_HELD {
            self.done.insert(k, t);
        }
    }

    fn expect(&mut self, ctrl: u64, chan: u32, addr: IpAddr, port: u16) {
        if self.expect.len() >= MAX_EXPECT {
            while let Some(old) = self.expect_order.pop_front() {
                if self.expect.remove(&old).is_some() {
                    break;
                }
            }
        }
        if self.expect_order.len() >= 2 * MAX_EXPECT {
            let live = &self.expect;
            self.expect_order.retain(|k| live.contains_key(k));
        }
        self.expect.insert((addr, port), (ctrl, chan));
        self.expect_order.push_back((addr, port));
    }

    /// Control-connection bytes of one direction.
    pub fn on_control(
        &mut self,
        s: &mut FtpSession,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        from_client: bool,
        data: &[u8],
        out: &mut Output,
    ) {
        if s.key.is_none() {
            s.key = Some(*ctx.key);
            s.uid = ctx.uid.to_string();
            s.file = ctx.file;
        }
        let mut lines = Vec::new();
        let sp = if from_client {
            &mut s.from_client
        } else {
            &mut s.from_server
        };
        sp.push(data, &mut |l| lines.push(l));
        for l in lines {
            self.on_line(s, ctx, flow_id, from_client, l, out);
        }
    }

    /// Bytes lost on the control connection: the partial lines are
    /// dropped and a multi-line reply is abandoned.
    pub fn on_control_gap(&mut self, s: &mut FtpSession, ctx: &FlowCtx<'_>, out: &mut Output) {
        s.from_client = LineSplitter::default();
        s.from_server = LineSplitter::default();
        s.multiline = None;
        out.anomaly(ctx, "ftp_control_gap");
    }

    /// The control connection ended: partial lines are read, unanswered
    /// commands logged (Zeek logs them at the connection's end).
    pub fn on_control_end(
        &mut self,
        s: &mut FtpSession,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        out: &mut Output,
    ) {
        for from_client in [true, false] {
            let mut lines = Vec::new();
            let sp = if from_client {
                &mut s.from_client
            } else {
                &mut s.from_server
            };
            sp.finish(&mut |l| lines.push(l));
            for l in lines {
                self.on_line(s, ctx, flow_id, from_client, l, out);
            }
        }
        while let Some(c) = s.pending.pop_front() {
            if c.verb != "<init>" {
                self.finish_cmd(s, flow_id, c, None, None, out);
            }
        }
        if !s.logged_any && s.user.is_some() {
            if let Some((c, code, msg)) = s.last_done.take() {
                let row = row(s, &c, code, msg);
                emit(row, out);
            }
        }
        self.expect.retain(|_, v| v.0 != flow_id);
        self.done.retain(|k, _| k.0 != flow_id);
    }

    /// End of input: transfer rows still waiting for data are written with
    /// what their data flows carried so far.
    pub fn finish(&mut self, out: &mut Output) {
        let mut keys: Vec<(u64, u32)> = self.waiting.keys().copied().collect();
        keys.sort_unstable();
        for k in keys {
            if let Some(mut row) = self.waiting.remove(&k) {
                if let Some(fid) = self.open.remove(&k) {
                    if let Some(d) = self.data.remove(&fid) {
                        fill(&mut row, d.transfer());
                    }
                }
                emit(row, out);
            }
        }
    }

    fn on_line(
        &mut self,
        s: &mut FtpSession,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        from_client: bool,
        line: Line,
        out: &mut Output,
    ) {
        if line.anomaly == Some(crate::irc::parser::LineAnomaly::TooLong) {
            out.anomaly(ctx, "ftp_line_too_long");
        }
        if from_client {
            self.on_command(s, ctx, flow_id, &line.bytes, out);
        } else {
            self.on_reply_line(s, ctx, flow_id, &line.bytes, out);
        }
    }

    fn on_command(
        &mut self,
        s: &mut FtpSession,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        line: &[u8],
        out: &mut Output,
    ) {
        let Some(c) = parse_command(line) else {
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                out.anomaly(ctx, "ftp_bad_command");
            }
            return;
        };
        s.commands += 1;
        let mut cmd = Cmd {
            ts: ctx.ts,
            pkt: ctx.pkt_no,
            verb: c.verb,
            arg: c.arg,
            channel: None,
            uses: None,
            file_size: None,
        };
        let key = *ctx.key;
        match cmd.verb.as_str() {
            "USER" => s.user = Some(truncate(&cmd.arg, 128)),
            "PASS" => s.password = Some(truncate(&cmd.arg, 128)),
            "PORT" | "EPRT" => {
                let hp = if cmd.verb == "PORT" {
                    parser::parse_host_port(&cmd.arg)
                } else {
                    parser::parse_eprt(&cmd.arg)
                };
                match hp {
                    Some((h, p)) => {
                        let chan = s.next_chan;
                        s.next_chan = s.next_chan.wrapping_add(1);
                        s.last_chan = Some(chan);
                        self.expect(flow_id, chan, h, p);
                        // Behind NAT the announced address is not the one
                        // seen; the client's own address is expected too.
                        if h != key.orig_h {
                            self.expect(flow_id, chan, key.orig_h, p);
                        }
                        cmd.channel = Some(FtpDataChannel {
                            passive: false,
                            orig_h: key.resp_h,
                            resp_h: h,
                            resp_p: p,
                        });
                    }
                    None => out.anomaly(ctx, "ftp_bad_port"),
                }
            }
            v if DATA_CMDS.contains(&v) => {
                cmd.uses = s.last_chan.take();
                // The size the server gave a SIZE for the same file.
                if v == "RETR" {
                    if let Some((path, n)) = &s.size_reply {
                        if *path == resolved(&s.cwd, &cmd.arg) {
                            cmd.file_size = Some(*n);
                        }
                    }
                }
            }
            _ => {}
        }
        if s.pending.len() >= MAX_PENDING {
            out.anomaly(ctx, "ftp_too_many_pending_commands");
            return;
        }
        s.pending.push_back(cmd);
    }

    fn on_reply_line(
        &mut self,
        s: &mut FtpSession,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        line: &[u8],
        out: &mut Output,
    ) {
        let (code, msg) = match (parse_reply(line), s.multiline) {
            (ReplyLine::Final(c, m), Some(open)) if c == open => {
                s.multiline = None;
                (c, m)
            }
            (_, Some(_)) => return,
            (ReplyLine::Begin(c, _), None) => {
                s.multiline = Some(c);
                return;
            }
            (ReplyLine::Final(c, m), None) => (c, m),
            (ReplyLine::Other, None) => {
                if line.iter().any(|b| !b.is_ascii_whitespace()) {
                    out.anomaly(ctx, "ftp_bad_reply");
                }
                return;
            }
        };
        let key = *ctx.key;
        let Some(idx) = best_pending(&s.pending, code, &msg) else {
            out.anomaly(ctx, "ftp_reply_without_command");
            return;
        };
        let cmd = &mut s.pending[idx];
        match (code, cmd.verb.as_str()) {
            // A size already known from SIZE wins (Pure-FTPd's 150 says
            // `5289713.5 kbytes to download`); else the 150's `(N bytes)`.
            (150, "RETR") if cmd.file_size.is_none() => {
                cmd.file_size = parser::bytes_in_reply(&msg)
            }
            (213, "SIZE") => {
                if let Some(n) = parser::size_reply(&msg) {
                    s.size_reply = Some((resolved(&s.cwd, &cmd.arg), n));
                }
            }
            (227, "PASV") | (229, "EPSV") | (227, "EPSV") | (229, "PASV") => {
                let hp = if code == 227 {
                    parser::parse_pasv(&msg)
                } else {
                    parser::parse_epsv(&msg).map(|p| (key.resp_h, p))
                };
                match hp {
                    Some((h, p)) => {
                        let chan = s.next_chan;
                        s.next_chan = s.next_chan.wrapping_add(1);
                        s.last_chan = Some(chan);
                        self.expect(flow_id, chan, h, p);
                        if h != key.resp_h {
                            self.expect(flow_id, chan, key.resp_h, p);
                        }
                        cmd.channel = Some(FtpDataChannel {
                            passive: true,
                            orig_h: key.orig_h,
                            resp_h: h,
                            resp_p: p,
                        });
                    }
                    None => out.anomaly(ctx, "ftp_bad_pasv"),
                }
            }
            (250, "CWD") | (250, "XCWD") => {
                s.cwd = parser::compress_path(&parser::build_path(&s.cwd, &cmd.arg))
            }
            (200 | 250, "CDUP") => {
                s.cwd = parser::compress_path(&parser::build_path(&s.cwd, "/.."))
            }
            (257, "PWD") | (257, "XPWD") => {
                if let Some(p) = parser::extract_path(&msg) {
                    s.cwd = p;
                }
            }
            _ => {}
        }
        if code < 200 {
            return;
        }
        let Some(c) = s.pending.remove(idx) else {
            return;
        };
        if c.verb == "<init>" {
            return;
        }
        self.finish_cmd(s, flow_id, c, Some(code), Some(msg), out);
    }

    fn finish_cmd(
        &mut self,
        s: &mut FtpSession,
        flow_id: u64,
        c: Cmd,
        code: Option<u16>,
        msg: Option<String>,
        out: &mut Output,
    ) {
        if !LOGGED.contains(&c.verb.as_str()) {
            // An unused transfer channel (LIST/NLST) must not feed a later row.
            if let Some(ch) = c.uses {
                self.done.remove(&(flow_id, ch));
            }
            s.last_done = Some((c, code, msg));
            return;
        }
        s.logged_any = true;
        let r = row(s, &c, code, msg);
        match c.uses {
            Some(ch) => {
                let k = (flow_id, ch);
                if let Some(t) = self.done.remove(&k) {
                    let mut r = r;
                    fill(&mut r, t);
                    emit(r, out);
                } else if self.open.contains_key(&k) && self.waiting.len() < MAX_HELD {
                    self.waiting.insert(k, r);
                } else {
                    emit(r, out);
                }
            }
            None => emit(r, out),
        }
    }
}

/// Reply codes each command may get (RFC 959 and extensions; the table of
/// Zeek's `FTP::cmd_reply_code`).
fn compatible(verb: &str, code: u16) -> bool {
    let codes: &[u16] = match verb {
        "<init>" | "REIN" => &[120, 220, 421, 500, 502],
        "USER" => &[230, 331, 332, 421, 530, 500, 501],
        "PASS" => &[230, 202, 332, 421, 530, 500, 501, 503],
        "ACCT" => &[230, 202, 421, 530, 500, 501, 503],
        "CWD" | "XCWD" | "RMD" | "XRMD" => &[250, 421, 500, 501, 502, 530, 550],
        "CDUP" => &[200, 250, 421, 500, 501, 502, 530, 550],
        "SMNT" => &[202, 250, 421, 500, 501, 502, 530, 550],
        "QUIT" => &[221, 500],
        "PORT" => &[200, 421, 500, 501, 530],
        "PASV" => &[227, 421, 500, 501, 502, 530],
        "MODE" | "TYPE" | "STRU" => &[200, 421, 500, 501, 502, 504, 530],
        "ALLO" => &[200, 202, 421, 500, 501, 504, 530],
        "REST" => &[200, 350, 421, 500, 501, 502, 530],
        "STOR" | "STOU" | "APPE" => &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501,
            502, 530, 550,
        ],
        "RETR" | "LIST" | "NLST" => &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550,
        ],
        "RNFR" => &[350, 421, 450, 550, 500, 501, 502, 530],
        "RNTO" => &[250, 421, 532, 553, 500, 501, 502, 503, 530],
        "DELE" => &[250, 421, 450, 550, 500, 501, 502, 530],
        "MKD" | "XMKD" | "PWD" | "XPWD" => &[257, 421, 500, 501, 502, 530, 550],
        "ABOR" => &[225, 226, 421, 500, 501, 502],
        "SYST" => &[215, 421, 500, 501, 502, 530],
        "STAT" => &[211, 212, 213, 421, 450, 500, 501, 502, 530],
        "HELP" => &[200, 211, 214, 421, 500, 501, 502],
        "SITE" => &[200, 202, 214, 500, 501, 502, 530],
        "NOOP" | "CLNT" => &[200, 421, 500],
        "FEAT" => &[211, 500, 502],
        "OPTS" => &[200, 451, 501],
        "EPSV" => &[229, 500, 501],
        "EPRT" => &[200, 500, 501, 522],
        "SIZE" | "MDTM" => &[213, 500, 501, 550],
        "MLST" | "MLSD" => &[150, 226, 250, 500, 501, 550],
        _ => &[],
    };
    code == 500 || codes.contains(&code)
}

/// The pending command a reply answers, scored like Zeek's
/// `get_pending_cmd`: a compatible reply code counts most, then the
/// command or its argument named in the text; ties go to the oldest. So a
/// capture picked up mid-session (whose first replies answer commands
/// never seen) does not shift every later pairing.
fn best_pending(pending: &VecDeque<Cmd>, code: u16, msg: &str) -> Option<usize> {
    let mut best: Option<(i32, usize)> = None;
    for (i, c) in pending.iter().enumerate() {
        let mut score = 0;
        if compatible(&c.verb, code) {
            score += 100;
        }
        if msg.contains(c.verb.as_str()) {
            score += 20;
        }
        if !c.arg.is_empty() && msg.contains(c.arg.as_str()) {
            score += 10;
        }
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, i));
        }
    }
    best.map(|b| b.1)
}

/// A file argument as a path from the working directory (Zeek's
/// `build_path_compressed`).
fn resolved(cwd: &str, arg: &str) -> String {
    parser::compress_path(&parser::build_path(cwd, arg))
}

fn truncate(s: &str, n: usize) -> String {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn row(s: &FtpSession, c: &Cmd, code: Option<u16>, msg: Option<String>) -> FtpEvent {
    let key = s.key.unwrap_or(FlowKey {
        orig_h: IpAddr::from([0, 0, 0, 0]),
        orig_p: 0,
        resp_h: IpAddr::from([0, 0, 0, 0]),
        resp_p: 0,
        proto: botscope_core::Proto::Tcp,
    });
    let file_cmd = FILE_CMDS.contains(&c.verb.as_str());
    let arg = if file_cmd {
        parser::url(key.resp_h, &s.cwd, &c.arg)
    } else {
        c.arg.clone()
    };
    FtpEvent {
        ts: c.ts,
        uid: s.uid.clone(),
        id: key,
        user: s.user.clone().unwrap_or_else(|| "<unknown>".into()),
        password: s.password.clone(),
        command: c.verb.clone(),
        arg: (!arg.is_empty()).then(|| truncate(&arg, parser::MAX_ARG)),
        file_name: (file_cmd && !c.arg.is_empty()).then(|| c.arg.clone()),
        mime_type: None,
        file_size: c.file_size,
        reply_code: code,
        reply_msg: msg.map(|m| truncate(&m, parser::MAX_ARG)),
        data_channel: c.channel.clone(),
        transfer: None,
        evidence: Evidence {
            file: s.file,
            packets: vec![c.pkt],
        },
    }
}

fn fill(r: &mut FtpEvent, t: FtpTransfer) {
    if t.is_executable {
        r.mime_type = Some("application/x-dosexec".into());
    }
    r.transfer = Some(t);
}

fn emit(r: FtpEvent, out: &mut Output) {
    out.push(Record {
        event: Event::Ftp(r),
        dns_opcode: None,
        irc_log_row: false,
    });
}
