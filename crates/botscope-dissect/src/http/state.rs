//! Per-connection HTTP/1.x state: requests and responses paired in order
//! (pipelining), bodies framed by Content-Length, chunked coding or close,
//! executable (`MZ`) response bodies hashed with SHA-256 as they stream,
//! CONNECT tunnels recognised (the tunnelled bytes are not parsed as HTTP).

use super::parser::{parse_request, parse_response, BodyKind, Chunked, Dechunker, Head, MAX_HEAD};
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{Event, Evidence, HttpEvent};
use botscope_core::Ts;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// Most requests waiting for responses; beyond it the oldest is logged.
const MAX_PENDING: usize = 64;

/// Longest response body kept as text in `HttpEvent::response_text`: a
/// polling bot's orders are a few lines; pages and files are longer.
pub const MAX_RESPONSE_TEXT: usize = 1024;

/// The body as text when it is short, complete, valid UTF-8 and holds no
/// control character but tab and line ends.
fn short_text(body: &[u8], body_len: u64) -> Option<String> {
    if body.is_empty() || body_len != body.len() as u64 || body.len() > MAX_RESPONSE_TEXT {
        return None;
    }
    let t = std::str::from_utf8(body).ok()?;
    t.chars()
        .all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t'))
        .then(|| t.to_string())
}

#[derive(Debug)]
struct Txn {
    ts: Ts,
    depth: u32,
    method: Option<String>,
    host: Option<String>,
    uri: Option<String>,
    version: Option<String>,
    user_agent: Option<String>,
    request_body_len: u64,
    response_body_len: u64,
    status_code: Option<u16>,
    status_msg: Option<String>,
    first_bytes: Vec<u8>,
    /// The body's first bytes, up to [`MAX_RESPONSE_TEXT`] + 1.
    text: Vec<u8>,
    hasher: Option<Sha256>,
    packets: Vec<u64>,
}

#[derive(Debug)]
enum Body {
    None,
    Length(u64),
    Chunked(Dechunker),
    UntilClose,
}

/// State of one HTTP connection.
#[derive(Debug)]
pub struct HttpState {
    req_buf: Vec<u8>,
    resp_buf: Vec<u8>,
    req_body: Body,
    resp_body: Body,
    pending: VecDeque<Txn>,
    current: Option<Txn>,
    depth: u32,
    tunnel: bool,
    req_failed: bool,
    resp_failed: bool,
    /// Transactions logged.
    pub transactions: u64,
}

impl Default for HttpState {
    fn default() -> Self {
        HttpState {
            req_buf: Vec::new(),
            resp_buf: Vec::new(),
            req_body: Body::None,
            resp_body: Body::None,
            pending: VecDeque::new(),
            current: None,
            depth: 0,
            tunnel: false,
            req_failed: false,
            resp_failed: false,
            transactions: 0,
        }
    }
}

/// Adds `data` to a direction's head buffer (bounded by `MAX_HEAD`) and
/// parses it. Gives the head and how many bytes of `data` it used once it
/// is complete; `None` when more bytes are needed or the head is bad or
/// too long (then `failed` is set and the anomaly named).
#[allow(clippy::too_many_arguments)]
fn next_head<T>(
    buf: &mut Vec<u8>,
    data: &[u8],
    parse: fn(&[u8]) -> Head<T>,
    failed: &mut bool,
    bad: &str,
    ctx: &FlowCtx<'_>,
    out: &mut Output,
) -> Option<(T, usize)> {
    let old = buf.len();
    let take = data.len().min(MAX_HEAD - old.min(MAX_HEAD));
    buf.extend_from_slice(&data[..take]);
    match parse(buf) {
        Head::Partial => {
            if take < data.len() {
                out.anomaly(ctx, "http_head_too_long");
                *failed = true;
            }
            None
        }
        Head::Invalid => {
            out.anomaly(ctx, bad);
            *failed = true;
            None
        }
        Head::Complete(h, n) => {
            buf.clear();
            Some((h, n - old))
        }
    }
}

/// Feeds body bytes; returns how many were consumed and whether the body ended.
fn feed_body(
    body: &mut Body,
    data: &[u8],
    sink: &mut impl FnMut(&[u8]),
) -> Result<(usize, bool), ()> {
    match body {
        Body::None => Ok((0, true)),
        Body::Length(left) => {
            let take = (*left).min(data.len() as u64) as usize;
            sink(&data[..take]);
            *left -= take as u64;
            Ok((take, *left == 0))
        }
        Body::Chunked(d) => match d.feed(data, sink) {
            Chunked::More => Ok((data.len(), false)),
            Chunked::Done(n) => Ok((n, true)),
            Chunked::Error => Err(()),
        },
        Body::UntilClose => {
            sink(data);
            Ok((data.len(), false))
        }
    }
}

impl Txn {
    /// Heap bytes of one transaction's strings and buffers.
    fn heap_bytes(&self) -> usize {
        let s = |o: &Option<String>| o.as_ref().map_or(0, String::capacity);
        s(&self.method)
            + s(&self.host)
            + s(&self.uri)
            + s(&self.version)
            + s(&self.user_agent)
            + s(&self.status_msg)
            + self.first_bytes.capacity()
            + self.text.capacity()
            + self.packets.capacity() * std::mem::size_of::<u64>()
    }

    /// A transaction started by the current packet, nothing known yet.
    fn new(ctx: &FlowCtx<'_>, depth: u32) -> Txn {
        Txn {
            ts: ctx.ts,
            depth,
            method: None,
            host: None,
            uri: None,
            version: None,
            user_agent: None,
            request_body_len: 0,
            response_body_len: 0,
            status_code: None,
            status_msg: None,
            first_bytes: Vec::new(),
            text: Vec::new(),
            hasher: None,
            packets: vec![ctx.pkt_no],
        }
    }

    fn body_bytes(&mut self, b: &[u8]) {
        self.response_body_len += b.len() as u64;
        if self.text.len() <= MAX_RESPONSE_TEXT {
            let room = MAX_RESPONSE_TEXT + 1 - self.text.len();
            self.text.extend_from_slice(&b[..room.min(b.len())]);
        }
        if self.first_bytes.len() < 2 {
            let need = 2 - self.first_bytes.len();
            self.first_bytes.extend_from_slice(&b[..need.min(b.len())]);
            if self.first_bytes == b"MZ" {
                self.hasher = Some(Sha256::new());
            }
        }
        if let Some(h) = &mut self.hasher {
            h.update(b);
        }
    }
}

impl HttpState {
    /// Bytes this connection's state holds: itself, both head buffers,
    /// chunk-size lines, and the requests waiting for responses.
    pub fn held_bytes(&self) -> usize {
        let body = |b: &Body| match b {
            Body::Chunked(d) => d.held_bytes(),
            _ => 0,
        };
        std::mem::size_of::<Self>()
            + self.req_buf.capacity()
            + self.resp_buf.capacity()
            + body(&self.req_body)
            + body(&self.resp_body)
            + self.pending.capacity() * std::mem::size_of::<Txn>()
            + self.pending.iter().map(Txn::heap_bytes).sum::<usize>()
            + self.current.as_ref().map_or(0, Txn::heap_bytes)
    }

    /// In-order bytes from the client.
    pub fn on_request_data(&mut self, ctx: &FlowCtx<'_>, mut data: &[u8], out: &mut Output) {
        while !data.is_empty() && !self.req_failed && !self.tunnel {
            if !matches!(self.req_body, Body::None) {
                let txn = self.pending.back_mut().or(self.current.as_mut());
                let mut n = 0u64;
                let res = feed_body(&mut self.req_body, data, &mut |b| n += b.len() as u64);
                if let Some(t) = txn {
                    t.request_body_len += n;
                }
                match res {
                    Ok((used, done)) => {
                        data = &data[used..];
                        if done {
                            self.req_body = Body::None;
                        }
                    }
                    Err(()) => {
                        out.anomaly(ctx, "http_bad_chunk");
                        self.req_failed = true;
                    }
                }
                continue;
            }
            let Some((h, used)) = next_head(
                &mut self.req_buf,
                data,
                parse_request,
                &mut self.req_failed,
                "http_bad_request",
                ctx,
                out,
            ) else {
                return;
            };
            data = &data[used..];
            self.depth += 1;
            if self.pending.len() >= MAX_PENDING {
                if let Some(t) = self.pending.pop_front() {
                    self.emit(ctx, t, out);
                }
            }
            self.req_body = match h.body {
                BodyKind::Length(l) => Body::Length(l),
                BodyKind::Chunked => Body::Chunked(Dechunker::default()),
                _ => Body::None,
            };
            self.pending.push_back(Txn {
                method: Some(h.method),
                host: h.host,
                uri: Some(h.uri),
                version: Some(format!("1.{}", h.version)),
                user_agent: h.user_agent,
                ..Txn::new(ctx, self.depth)
            });
        }
    }

    /// In-order bytes from the server.
    pub fn on_response_data(&mut self, ctx: &FlowCtx<'_>, mut data: &[u8], out: &mut Output) {
        while !data.is_empty() && !self.resp_failed && !self.tunnel {
            if let Some(t) = self.current.as_mut() {
                if t.packets.len() < 2 {
                    t.packets.push(ctx.pkt_no);
                }
                match feed_body(&mut self.resp_body, data, &mut |b| t.body_bytes(b)) {
                    Ok((used, done)) => {
                        data = &data[used..];
                        if done {
                            self.resp_body = Body::None;
                            let t = self.current.take().expect("current");
                            self.emit(ctx, t, out);
                        }
                    }
                    Err(()) => {
                        out.anomaly(ctx, "http_bad_chunk");
                        self.resp_failed = true;
                    }
                }
                continue;
            }
            let Some((h, used)) = next_head(
                &mut self.resp_buf,
                data,
                parse_response,
                &mut self.resp_failed,
                "http_bad_response",
                ctx,
                out,
            ) else {
                return;
            };
            data = &data[used..];
            // Interim responses (100 Continue...) have no body and
            // do not answer the request.
            if (100..200).contains(&h.code) && h.code != 101 {
                continue;
            }
            let mut t = self.pending.pop_front().unwrap_or_else(|| {
                self.depth += 1;
                Txn::new(ctx, self.depth)
            });
            t.status_code = Some(h.code);
            t.status_msg = Some(h.reason);
            if t.version.is_none() {
                t.version = Some(format!("1.{}", h.version));
            }
            let is_head = t.method.as_deref() == Some("HEAD");
            let connect_ok = t.method.as_deref() == Some("CONNECT") && (200..300).contains(&h.code);
            if connect_ok || h.code == 101 {
                // The rest of the connection is a tunnel.
                self.tunnel = true;
                self.emit(ctx, t, out);
                return;
            }
            self.resp_body = if is_head || h.code == 204 || h.code == 304 {
                Body::None
            } else if h.chunked {
                Body::Chunked(Dechunker::default())
            } else {
                match h.content_length {
                    Some(0) => Body::None,
                    Some(l) => Body::Length(l),
                    None => Body::UntilClose,
                }
            };
            if matches!(self.resp_body, Body::None) {
                self.emit(ctx, t, out);
            } else {
                self.current = Some(t);
            }
        }
    }

    /// Bytes were lost in one direction.
    pub fn on_gap(&mut self, ctx: &FlowCtx<'_>, from_client: bool, len: u64, out: &mut Output) {
        let body = if from_client {
            &mut self.req_body
        } else {
            &mut self.resp_body
        };
        match body {
            Body::Length(left) if *left > len => {
                *left -= len;
                if !from_client {
                    if let Some(t) = self.current.as_mut() {
                        t.response_body_len += len;
                        t.hasher = None;
                    }
                }
            }
            Body::UntilClose => {
                if let Some(t) = self.current.as_mut() {
                    t.response_body_len += len;
                    t.hasher = None;
                }
            }
            _ => {
                out.anomaly(ctx, "http_gap");
                if from_client {
                    self.req_failed = true;
                } else {
                    self.resp_failed = true;
                }
            }
        }
    }

    /// The connection ended: open transactions are logged.
    pub fn on_end(&mut self, ctx: &FlowCtx<'_>, out: &mut Output) {
        if let Some(t) = self.current.take() {
            self.emit(ctx, t, out);
        }
        while let Some(t) = self.pending.pop_front() {
            self.emit(ctx, t, out);
        }
    }

    /// Whether a CONNECT (or upgrade) turned the connection into a tunnel.
    pub fn is_tunnel(&self) -> bool {
        self.tunnel
    }

    fn emit(&mut self, ctx: &FlowCtx<'_>, t: Txn, out: &mut Output) {
        self.transactions += 1;
        let is_executable = t.first_bytes == b"MZ";
        let response_text = short_text(&t.text, t.response_body_len);
        let ev = HttpEvent {
            ts: t.ts,
            uid: ctx.uid.to_string(),
            id: *ctx.key,
            trans_depth: t.depth,
            method: t.method,
            host: t.host,
            uri: t.uri,
            version: t.version,
            user_agent: t.user_agent,
            request_body_len: t.request_body_len,
            response_body_len: t.response_body_len,
            status_code: t.status_code,
            status_msg: t.status_msg,
            is_executable,
            sha256: t
                .hasher
                .filter(|_| is_executable)
                .map(|h| hex::encode(h.finalize())),
            response_text,
            evidence: Evidence {
                file: ctx.file,
                packets: t.packets,
            },
        };
        out.push(Record {
            event: Event::Http(ev),
            dns_opcode: None,
            irc_log_row: false,
        });
    }
}
