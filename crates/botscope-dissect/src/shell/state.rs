//! Per-connection shell state: which side runs the shell, and one
//! [`ShellEvent`] per line the other side types (at most
//! [`MAX_EVENTS`] per connection).

use super::parser::{fetch_of, FtpScript, MAX_LINE};
use crate::irc::parser::LineSplitter;
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{Event, Evidence, ShellEvent};

/// Most typed lines reported per connection.
pub const MAX_EVENTS: u32 = 256;

/// State of one shell connection.
#[derive(Debug, Default)]
pub struct ShellState {
    typed: LineSplitter,
    /// True when the originator runs the shell (a connect-back shell).
    pub shell_is_orig: bool,
    script: FtpScript,
    events: u32,
}

impl ShellState {
    /// Bytes this connection's state holds: itself and the typed line
    /// still waiting for its end.
    pub fn held_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.typed.held_bytes()
    }

    /// A shell run by the originator (`true`) or the responder.
    pub fn new(shell_is_orig: bool) -> Self {
        ShellState {
            shell_is_orig,
            ..Default::default()
        }
    }

    /// Stream bytes of one direction; only the typing side's are read.
    pub fn on_data(&mut self, ctx: &FlowCtx<'_>, from_orig: bool, data: &[u8], out: &mut Output) {
        if from_orig == self.shell_is_orig {
            return;
        }
        let mut lines = Vec::new();
        self.typed.push(data, &mut |l| lines.push(l.bytes));
        for l in lines {
            self.on_line(ctx, &l, out);
        }
    }

    /// The connection ended: a last line without its line end is read.
    pub fn on_end(&mut self, ctx: &FlowCtx<'_>, out: &mut Output) {
        let mut lines = Vec::new();
        self.typed.finish(&mut |l| lines.push(l.bytes));
        for l in lines {
            self.on_line(ctx, &l, out);
        }
    }

    fn on_line(&mut self, ctx: &FlowCtx<'_>, line: &[u8], out: &mut Output) {
        let text = String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if self.events >= MAX_EVENTS {
            out.anomaly(ctx, "shell_too_many_lines");
            return;
        }
        self.events += 1;
        let fetch = fetch_of(text, &mut self.script);
        let (shell_host, peer) = if self.shell_is_orig {
            (ctx.key.orig_h, ctx.key.resp_h)
        } else {
            (ctx.key.resp_h, ctx.key.orig_h)
        };
        out.push(Record {
            event: Event::Shell(ShellEvent {
                ts: ctx.ts,
                uid: ctx.uid.to_string(),
                id: *ctx.key,
                shell_host,
                peer,
                line: text.to_string(),
                fetch,
                evidence: Evidence {
                    file: ctx.file,
                    packets: vec![ctx.pkt_no],
                },
            }),
            dns_opcode: None,
            irc_log_row: false,
        });
    }
}
