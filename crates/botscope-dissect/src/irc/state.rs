//! Per-connection IRC state: splits both directions into lines, tracks the
//! client's nick and user, and emits one [`IrcEvent`] per message.
//!
//! Zeek's `irc.log` rows (client NICK, USER, each JOIN channel, DCC SEND in
//! either direction) are marked with [`Record::irc_log_row`]; every other
//! message is kept in the JSON stream because bot orders live in TOPIC,
//! 332, PRIVMSG and NOTICE texts.

use super::parser::{ctcp, parse_dcc, parse_view, prefix_nick, LineAnomaly, LineSplitter};
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{DccOffer, Event, Evidence, IrcEvent};

/// State of one IRC connection.
#[derive(Debug, Default)]
pub struct IrcState {
    from_client: LineSplitter,
    from_server: LineSplitter,
    nick: Option<String>,
    user: Option<String>,
    /// Zeek keeps one `irc` record per connection and only overwrites the
    /// columns a command sets, so a DCC row repeats the previous row's
    /// `value` and `addl`; these mirror that record.
    last_value: Option<String>,
    last_addl: Option<String>,
    /// Messages parsed so far.
    pub messages: u64,
    /// Per direction (client, server): the next bytes may start inside a
    /// line (after a gap, or on a connection picked up mid-stream), so a
    /// leading fragment that does not look like IRC is dropped.
    resync: [bool; 2],
}

impl IrcState {
    /// Bytes this connection's state holds: itself, both directions'
    /// partial lines, and the nick/user/value strings it remembers.
    pub fn held_bytes(&self) -> usize {
        let s = |o: &Option<String>| o.as_ref().map_or(0, String::capacity);
        std::mem::size_of::<Self>()
            + self.from_client.held_bytes()
            + self.from_server.held_bytes()
            + s(&self.nick)
            + s(&self.user)
            + s(&self.last_value)
            + s(&self.last_addl)
    }

    /// Feeds in-order stream bytes of one direction.
    pub fn on_data(&mut self, ctx: &FlowCtx<'_>, from_client: bool, data: &[u8], out: &mut Output) {
        let data = self.skip_cut_line(ctx, from_client, data, out);
        if data.is_empty() {
            return;
        }
        // The splitter lends each line to `on_line`, which needs `self`:
        // take it out for the call (moving it allocates nothing).
        let mut splitter = std::mem::take(self.splitter(from_client));
        splitter.push_slices(data, &mut |bytes, anomaly| {
            self.on_line(ctx, from_client, bytes, anomaly, out)
        });
        *self.splitter(from_client) = splitter;
    }

    fn splitter(&mut self, from_client: bool) -> &mut LineSplitter {
        if from_client {
            &mut self.from_client
        } else {
            &mut self.from_server
        }
    }

    /// Bytes were lost: a partial line before the gap is delivered as is,
    /// and the data after it may start inside a line.
    pub fn on_gap(&mut self, ctx: &FlowCtx<'_>, from_client: bool, out: &mut Output) {
        self.finish_dir(ctx, from_client, out);
        self.start_mid_stream(from_client);
    }

    /// This direction's data starts somewhere inside the stream (its SYN
    /// was not captured): a leading partial line is dropped.
    pub fn start_mid_stream(&mut self, from_client: bool) {
        self.resync[usize::from(!from_client)] = true;
    }

    /// While resynchronising, drops bytes up to and including the first
    /// line end unless they already look like the start of an IRC line.
    fn skip_cut_line<'d>(
        &mut self,
        ctx: &FlowCtx<'_>,
        from_client: bool,
        data: &'d [u8],
        out: &mut Output,
    ) -> &'d [u8] {
        let i = usize::from(!from_client);
        if !self.resync[i] || data.is_empty() {
            return data;
        }
        let nl = memchr::memchr(b'\n', data);
        let head = &data[..nl.unwrap_or(data.len())];
        if crate::detect::irc_line(head) {
            self.resync[i] = false;
            return data;
        }
        out.anomaly(ctx, "irc_partial_line_dropped");
        match nl {
            Some(n) => {
                self.resync[i] = false;
                &data[n + 1..]
            }
            None => &[],
        }
    }

    /// The connection ended: partial lines are delivered and reported.
    pub fn on_end(&mut self, ctx: &FlowCtx<'_>, out: &mut Output) {
        self.finish_dir(ctx, true, out);
        self.finish_dir(ctx, false, out);
    }

    fn finish_dir(&mut self, ctx: &FlowCtx<'_>, from_client: bool, out: &mut Output) {
        let mut splitter = std::mem::take(self.splitter(from_client));
        splitter.finish_slices(&mut |bytes, anomaly| {
            self.on_line(ctx, from_client, bytes, anomaly, out)
        });
        *self.splitter(from_client) = splitter;
    }

    fn on_line(
        &mut self,
        ctx: &FlowCtx<'_>,
        from_client: bool,
        line: &[u8],
        anomaly: Option<LineAnomaly>,
        out: &mut Output,
    ) {
        if let Some(a) = anomaly {
            out.anomaly(ctx, a.name());
        }
        // Parsed in place; the owned strings made here are the event's.
        let Some(msg) = parse_view(line).map(|v| v.to_message()) else {
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                out.anomaly(ctx, "irc_unparsable_line");
            }
            return;
        };
        self.messages += 1;
        let nick_before = self.nick.clone();
        let user_before = self.user.clone();
        let mut value = None;
        let mut addl = None;
        let mut dcc = None;
        let mut row = false;
        let p = &msg.params;
        match msg.command.as_str() {
            "NICK" => {
                if let Some(n) = p.first() {
                    value = Some(n.clone());
                    if from_client {
                        row = true;
                        self.nick = Some(n.clone());
                    } else if let (Some(pre), Some(cur)) = (&msg.prefix, &self.nick) {
                        // The server confirms (or forces) a nick change.
                        if prefix_nick(pre) == cur {
                            self.nick = Some(n.clone());
                        }
                    }
                }
            }
            "USER" if from_client => {
                // Zeek's rendering: value = user, addl = "host server realname",
                // the real name being the words after the third one, joined
                // with a space after each but the first.
                let words: Vec<&str> = line_words_after_command(line);
                if let Some(u) = words.first() {
                    value = Some(u.to_string());
                    let host = words.get(1).copied().unwrap_or("");
                    let server = words.get(2).copied().unwrap_or("");
                    let mut real = words
                        .get(3)
                        .map(|w| w.trim_start_matches(':').to_string())
                        .unwrap_or_default();
                    for w in words.iter().skip(4) {
                        real.push_str(w);
                        real.push(' ');
                    }
                    addl = Some(format!("{host} {server} {real}"));
                    row = true;
                    self.user = Some(u.to_string());
                }
            }
            "JOIN" => {
                if let Some(chans) = p.first().filter(|c| !c.is_empty()) {
                    value = Some(chans.clone());
                    addl = Some(p.get(1).cloned().unwrap_or_default());
                    row = from_client;
                }
            }
            "PRIVMSG" | "NOTICE" => {
                value = p.first().cloned();
                if let Some(text) = p.get(1) {
                    if let Some(("DCC", args)) = ctcp(text) {
                        match parse_dcc(args) {
                            Some(d) => {
                                if d.host.is_none() {
                                    out.anomaly(ctx, "irc_dcc_bad_address");
                                }
                                if d.port.is_none() {
                                    out.anomaly(ctx, "irc_dcc_bad_port");
                                }
                                row = d.kind == "SEND";
                                if row {
                                    value = self.last_value.clone();
                                    addl = self.last_addl.clone();
                                }
                                dcc = Some(DccOffer {
                                    kind: d.kind,
                                    file_name: Some(d.argument),
                                    host: d.host,
                                    port: d.port,
                                    size: d.size,
                                });
                            }
                            None => out.anomaly(ctx, "irc_dcc_malformed"),
                        }
                    }
                }
            }
            "TOPIC" | "PART" | "KICK" | "MODE" | "INVITE" => value = p.first().cloned(),
            // RPL_TOPIC (332) and RPL_NAMREPLY (353): the channel is a later parameter.
            "332" | "333" => value = p.get(1).cloned(),
            "353" => value = p.get(2).cloned(),
            _ => {}
        }
        if row && dcc.is_none() {
            // JOIN rows: Zeek's record keeps the last channel and key.
            if msg.command == "JOIN" {
                self.last_value = value
                    .as_ref()
                    .and_then(|v| v.split(',').next_back())
                    .map(str::to_string);
                self.last_addl = Some(
                    addl.as_deref()
                        .unwrap_or("")
                        .split(',')
                        .next_back()
                        .unwrap_or("")
                        .to_string(),
                );
            } else {
                self.last_value = value.clone();
                self.last_addl = addl.clone();
            }
        }
        let ev = IrcEvent {
            ts: ctx.ts,
            uid: ctx.uid.to_string(),
            id: *ctx.key,
            from_client,
            nick: nick_before,
            user: user_before,
            prefix: msg.prefix,
            command: msg.command,
            params: msg.params,
            value,
            addl,
            dcc,
            tags: msg.tags,
            evidence: Evidence {
                file: ctx.file,
                packets: vec![ctx.pkt_no],
            },
        };
        out.push(Record {
            event: Event::Irc(ev),
            dns_opcode: None,
            irc_log_row: row,
        });
    }
}

/// The space-separated words after the command (what Zeek's USER parsing
/// works on), empty words dropped.
fn line_words_after_command(line: &[u8]) -> Vec<&str> {
    let s = std::str::from_utf8(line).unwrap_or("");
    let mut it = s.split(' ').filter(|w| !w.is_empty()).peekable();
    if it.peek().is_some_and(|w| w.starts_with('@')) {
        it.next();
    }
    if it.peek().is_some_and(|w| w.starts_with(':')) {
        it.next();
    }
    it.next();
    it.collect()
}
