//! IRC wire parsing: a tolerant line splitter and a message parser.
//!
//! Bot C&C servers and bots break RFC 1459 often (bare LF, missing CR at
//! the end of a stream, over-long lines, odd spacing), so the splitter
//! accepts CRLF or LF and reports — instead of drops — what it cannot frame.

use memchr::memchr;

/// The longest line kept whole; longer lines are cut here and reported.
pub const MAX_LINE: usize = 64 * 1024;
/// At most this many parameters are kept per message (RFC 1459 allows 15).
pub const MAX_PARAMS: usize = 64;
/// IRCv3 message tags: at most this many are kept per message (the rest
/// are skipped, still parsed past).
pub const MAX_TAGS: usize = 32;
/// IRCv3 message tags: the tag section may take at most this many bytes
/// (the spec's 8191 including `@` and the space); a longer section is
/// skipped whole and only its first [`MAX_TAGS`] tags within the cap kept.
pub const MAX_TAG_BYTES: usize = 8191;

/// Something odd about how a line was framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineAnomaly {
    /// The line was longer than [`MAX_LINE`] bytes; only its first
    /// [`MAX_LINE`] bytes are kept.
    TooLong,
    /// The stream ended (or was cut by a gap) before the line's LF.
    NoTerminator,
}

impl LineAnomaly {
    /// Stable name used in skip counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            LineAnomaly::TooLong => "irc_line_too_long",
            LineAnomaly::NoTerminator => "irc_line_without_crlf",
        }
    }
}

/// One framed line (CR/LF removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line's bytes, at most [`MAX_LINE`].
    pub bytes: Vec<u8>,
    /// Framing anomaly, if any.
    pub anomaly: Option<LineAnomaly>,
}

/// Splits one direction of a stream into lines. Memory is bounded by
/// [`MAX_LINE`] per direction.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    /// True while skipping the rest of a line that was already cut.
    discarding: bool,
}

impl LineSplitter {
    /// Feeds bytes; calls `out` for each complete line.
    pub fn push(&mut self, data: &[u8], out: &mut impl FnMut(Line)) {
        self.push_slices(data, &mut |bytes, anomaly| {
            out(Line {
                bytes: bytes.to_vec(),
                anomaly,
            })
        });
    }

    /// Feeds bytes; calls `out` with each complete line, borrowed: a line
    /// that lies whole in `data` is passed as a slice of it (no copy), and
    /// only a line split across calls is gathered in the splitter's
    /// buffer. The buffer is freed once its line is delivered, as the
    /// owned [`LineSplitter::push`] always did, so what a connection holds
    /// between lines stays the partial line alone.
    pub fn push_slices(
        &mut self,
        mut data: &[u8],
        out: &mut impl FnMut(&[u8], Option<LineAnomaly>),
    ) {
        while !data.is_empty() {
            match memchr(b'\n', data) {
                Some(i) => {
                    let chunk = &data[..i];
                    data = &data[i + 1..];
                    if self.discarding {
                        self.discarding = false;
                        continue;
                    }
                    let room = MAX_LINE - self.buf.len();
                    if chunk.len() > room {
                        self.deliver(&chunk[..room], false, Some(LineAnomaly::TooLong), out);
                        continue;
                    }
                    self.deliver(chunk, true, None, out);
                }
                None => {
                    if self.discarding {
                        return;
                    }
                    let room = MAX_LINE - self.buf.len();
                    if data.len() > room {
                        self.deliver(&data[..room], false, Some(LineAnomaly::TooLong), out);
                        self.discarding = true;
                    } else {
                        self.buf.extend_from_slice(data);
                    }
                    return;
                }
            }
        }
    }

    /// Hands out the held partial line followed by `tail` (a CR at the
    /// end dropped when `strip_cr`), then frees the buffer.
    fn deliver(
        &mut self,
        tail: &[u8],
        strip_cr: bool,
        anomaly: Option<LineAnomaly>,
        out: &mut impl FnMut(&[u8], Option<LineAnomaly>),
    ) {
        let strip = |b: &[u8]| -> usize {
            if strip_cr && b.last() == Some(&b'\r') {
                b.len() - 1
            } else {
                b.len()
            }
        };
        if self.buf.is_empty() {
            out(&tail[..strip(tail)], anomaly);
        } else {
            self.buf.extend_from_slice(tail);
            let n = strip(&self.buf);
            out(&self.buf[..n], anomaly);
            self.buf = Vec::new();
        }
    }

    /// Ends the stream (or a gap cut it): a pending partial line is
    /// delivered with [`LineAnomaly::NoTerminator`].
    pub fn finish(&mut self, out: &mut impl FnMut(Line)) {
        self.finish_slices(&mut |bytes, anomaly| {
            out(Line {
                bytes: bytes.to_vec(),
                anomaly,
            })
        });
    }

    /// [`LineSplitter::finish`] with the line borrowed.
    pub fn finish_slices(&mut self, out: &mut impl FnMut(&[u8], Option<LineAnomaly>)) {
        self.discarding = false;
        if !self.buf.is_empty() {
            self.deliver(&[], true, Some(LineAnomaly::NoTerminator), out);
        }
    }

    /// Bytes waiting for their line end.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held (the partial line's buffer, by capacity).
    pub fn held_bytes(&self) -> usize {
        self.buf.capacity()
    }
}

/// A parsed IRC message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// IRCv3 message tags (`@k=v;k2 ...`), key and unescaped value (an
    /// empty value for a tag without `=`), at most [`MAX_TAGS`].
    pub tags: Vec<(String, String)>,
    /// Prefix without the leading colon.
    pub prefix: Option<String>,
    /// Command, upper-cased (numerics stay digits).
    pub command: String,
    /// Middle parameters then the trailing one (without its colon).
    pub params: Vec<String>,
    /// Whether the last parameter was given as a `:trailing` one.
    pub has_trailing: bool,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The longest command [`parse_view`] accepts.
pub const MAX_COMMAND: usize = 32;

/// A message parsed in place: every part is a slice of the line, so
/// parsing allocates nothing; [`MessageView::to_message`] makes the owned
/// [`Message`] (one allocation per string, vectors at their final size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageView<'a> {
    /// The tag section without its `@` (at most [`MAX_TAG_BYTES`]), when
    /// the line has one.
    pub tags: Option<&'a [u8]>,
    /// Prefix without the leading colon.
    pub prefix: Option<&'a [u8]>,
    /// Command as sent: 1 to [`MAX_COMMAND`] ASCII letters or digits.
    pub command: &'a [u8],
    /// What follows the command (split by [`MessageView::params`]).
    rest: &'a [u8],
}

/// An upper-cased command held inline (at most [`MAX_COMMAND`] bytes).
#[derive(Clone, Copy, Debug)]
pub struct Command {
    buf: [u8; MAX_COMMAND],
    len: usize,
}

impl Command {
    /// The command text.
    pub fn as_str(&self) -> &str {
        // ASCII letters and digits by construction (`parse_view`).
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<'a> MessageView<'a> {
    /// The command upper-cased (numerics stay digits), without allocating.
    pub fn command_upper(&self) -> Command {
        let mut buf = [0u8; MAX_COMMAND];
        let len = self.command.len().min(MAX_COMMAND);
        for (o, c) in buf.iter_mut().zip(&self.command[..len]) {
            *o = c.to_ascii_uppercase();
        }
        Command { buf, len }
    }

    /// Middle parameters then the trailing one (without its colon); at
    /// most [`MAX_PARAMS`], the last taking the rest of the line.
    pub fn params(&self) -> Params<'a> {
        Params {
            rest: self.rest,
            count: 0,
            trailing: false,
        }
    }

    /// The owned message.
    pub fn to_message(&self) -> Message {
        let mut it = self.params();
        let mut params = Vec::with_capacity(it.clone().count());
        params.extend(it.by_ref().map(text));
        Message {
            tags: self.tags.map(parse_tags).unwrap_or_default(),
            prefix: self.prefix.map(text),
            command: self.command_upper().as_str().to_string(),
            params,
            has_trailing: it.trailing,
        }
    }
}

/// The parameters of a [`MessageView`], split as they are read.
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: &'a [u8],
    count: usize,
    /// Whether the last parameter read was a `:trailing` one.
    pub trailing: bool,
}

impl<'a> Iterator for Params<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = trim_spaces(self.rest);
        if rest.is_empty() {
            self.rest = rest;
            return None;
        }
        self.count += 1;
        if rest[0] == b':' || self.count == MAX_PARAMS {
            self.trailing = rest[0] == b':';
            self.rest = &[];
            return Some(rest.strip_prefix(b":").unwrap_or(rest));
        }
        let end = memchr(b' ', rest).unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }
}

/// Parses one line in place. Returns `None` for empty/whitespace-only
/// lines or a line whose command is not a word or a 3-digit numeric.
pub fn parse_view(line: &[u8]) -> Option<MessageView<'_>> {
    let mut rest = line;
    // Tolerate leading blanks (seen from hand-written bots).
    while let Some((&c, r)) = rest.split_first() {
        if c == b' ' || c == b'\t' {
            rest = r;
        } else {
            break;
        }
    }
    let mut tags = None;
    if let Some(r) = rest.strip_prefix(b"@") {
        let end = memchr(b' ', r).unwrap_or(r.len());
        tags = Some(&r[..end.min(MAX_TAG_BYTES)]);
        rest = trim_spaces(&r[end..]);
    }
    let mut prefix = None;
    if let Some(r) = rest.strip_prefix(b":") {
        let end = memchr(b' ', r).unwrap_or(r.len());
        prefix = Some(&r[..end]);
        rest = &r[end..];
    }
    let rest = trim_spaces(rest);
    let end = memchr(b' ', rest).unwrap_or(rest.len());
    let command = &rest[..end];
    if command.is_empty()
        || command.len() > MAX_COMMAND
        || !command.iter().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(MessageView {
        tags,
        prefix,
        command,
        rest: &rest[end..],
    })
}

/// Parses one line. Returns `None` for empty/whitespace-only lines or a
/// line whose command is not a word or a 3-digit numeric.
pub fn parse_message(line: &[u8]) -> Option<Message> {
    parse_view(line).map(|v| v.to_message())
}

/// Parses an IRCv3 tag section (without its `@`): `key[=value]` items
/// separated by `;`. Values are unescaped per the message-tags spec:
/// `\:` is `;`, `\s` a space, `\\` a backslash, `\r` and `\n` CR and LF,
/// a backslash before any other character is dropped, and a trailing lone
/// backslash is dropped. Empty keys are skipped; at most [`MAX_TAGS`] kept.
pub fn parse_tags(section: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in section.split(|&c| c == b';') {
        if out.len() == MAX_TAGS {
            break;
        }
        let (k, v) = match memchr(b'=', item) {
            Some(i) => (&item[..i], &item[i + 1..]),
            None => (item, &item[item.len()..]),
        };
        if k.is_empty() {
            continue;
        }
        out.push((text(k), unescape_tag_value(v)));
    }
    out
}

/// Unescapes one IRCv3 tag value (see [`parse_tags`]).
pub fn unescape_tag_value(v: &[u8]) -> String {
    let mut o = Vec::with_capacity(v.len());
    let mut it = v.iter();
    while let Some(&c) = it.next() {
        if c != b'\\' {
            o.push(c);
            continue;
        }
        match it.next() {
            Some(b':') => o.push(b';'),
            Some(b's') => o.push(b' '),
            Some(b'\\') => o.push(b'\\'),
            Some(b'r') => o.push(b'\r'),
            Some(b'n') => o.push(b'\n'),
            Some(&x) => o.push(x),
            None => {}
        }
    }
    String::from_utf8_lossy(&o).into_owned()
}

fn trim_spaces(mut b: &[u8]) -> &[u8] {
    while let Some((&b' ', r)) = b.split_first() {
        b = r;
    }
    b
}

/// The nick part of a `nick!user@host` prefix.
pub fn prefix_nick(prefix: &str) -> &str {
    prefix.split(['!', '@']).next().unwrap_or(prefix)
}

/// A CTCP request inside a PRIVMSG/NOTICE text: `\x01VERB args\x01`.
pub fn ctcp(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('\u{1}')?;
    let inner = inner.strip_suffix('\u{1}').unwrap_or(inner);
    let (verb, args) = inner.split_once(' ').unwrap_or((inner, ""));
    Some((verb, args))
}

/// A parsed DCC request (`DCC SEND name addr port [size]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dcc {
    /// `SEND`, `CHAT`, ... upper-cased.
    pub kind: String,
    /// The argument (file name for SEND), quotes removed.
    pub argument: String,
    /// Offered address (decimal IPv4 integer, dotted IPv4 or IPv6).
    pub host: Option<std::net::IpAddr>,
    /// Offered port.
    pub port: Option<u16>,
    /// Offered size.
    pub size: Option<u64>,
}

/// Parses the arguments of a `DCC` CTCP. Malformed address or port give
/// `None` in the field (the caller reports them).
pub fn parse_dcc(args: &str) -> Option<Dcc> {
    let args = args.trim();
    let (kind, rest) = args.split_once(' ')?;
    let rest = rest.trim_start();
    // The argument may be a quoted file name with spaces.
    let (argument, rest) = if let Some(r) = rest.strip_prefix('"') {
        let end = r.find('"')?;
        (r[..end].to_string(), &r[end + 1..])
    } else {
        let (a, r) = rest.split_once(' ').unwrap_or((rest, ""));
        (a.to_string(), r)
    };
    let mut it = rest.split_whitespace();
    let host = it.next().and_then(|h| {
        if let Ok(n) = h.parse::<u32>() {
            Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(n)))
        } else {
            h.parse::<std::net::IpAddr>().ok()
        }
    });
    let port = it.next().and_then(|p| p.parse::<u16>().ok());
    let size = it.next().and_then(|s| s.parse::<u64>().ok());
    Some(Dcc {
        kind: kind.to_ascii_uppercase(),
        argument,
        host,
        port,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<Line> {
        let mut s = LineSplitter::default();
        let mut v = Vec::new();
        for c in chunks {
            s.push(c, &mut |l| v.push(l));
        }
        s.finish(&mut |l| v.push(l));
        v
    }

    #[test]
    fn splits_crlf_and_bare_lf_across_chunks() {
        let v = lines(&[b"NICK a\r\nUS", b"ER b * * :c d\nPING :x"]);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].bytes, b"NICK a");
        assert_eq!(v[1].bytes, b"USER b * * :c d");
        assert_eq!(v[2].bytes, b"PING :x");
        assert_eq!(v[2].anomaly, Some(LineAnomaly::NoTerminator));
    }

    #[test]
    fn cuts_long_lines_and_resyncs() {
        let long = vec![b'A'; MAX_LINE + 10];
        let v = lines(&[b"PRIVMSG #c :", &long, b"\r\nNICK z\r\n"]);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].bytes.len(), MAX_LINE);
        assert_eq!(v[0].anomaly, Some(LineAnomaly::TooLong));
        assert_eq!(v[1].bytes, b"NICK z");
    }

    #[test]
    fn parses_prefix_command_params_trailing() {
        let m = parse_message(b":hunt3d.devilz.net 332 bot #chan :.advscan dcom135 200 3 0 -r -s")
            .unwrap();
        assert_eq!(m.prefix.as_deref(), Some("hunt3d.devilz.net"));
        assert_eq!(m.command, "332");
        assert_eq!(
            m.params,
            vec!["bot", "#chan", ".advscan dcom135 200 3 0 -r -s"]
        );
        let m = parse_message(b"privmsg  #x   hello").unwrap();
        assert_eq!(m.command, "PRIVMSG");
        assert_eq!(m.params, vec!["#x", "hello"]);
        assert!(parse_message(b"   ").is_none());
        assert!(parse_message(b"\x16\x03\x01").is_none());
    }

    #[test]
    fn parses_ircv3_tags_with_escapes() {
        // The line shape of Zeek's irc-dcc-send.pcapng (InspIRCd 4, server-time).
        let m = parse_message(
            b"@time=2025-07-28T20:48:30.049Z :tim2!tim@10.0.0.7 SETNAME :Tim Wojtulewicz",
        )
        .unwrap();
        assert_eq!(
            m.tags,
            vec![("time".to_string(), "2025-07-28T20:48:30.049Z".to_string())]
        );
        assert_eq!(m.prefix.as_deref(), Some("tim2!tim@10.0.0.7"));
        assert_eq!(m.command, "SETNAME");
        assert_eq!(m.params, vec!["Tim Wojtulewicz"]);
        // Escapes from the IRCv3 message-tags spec's examples.
        let m =
            parse_message(b"@a=x\\:y\\sz\\\\w;+example.com/k;b=\\r\\n;c=ab\\cd;d=e\\;;=q PING :t")
                .unwrap();
        assert_eq!(
            m.tags,
            vec![
                ("a".to_string(), "x;y z\\w".to_string()),
                ("+example.com/k".to_string(), String::new()),
                ("b".to_string(), "\r\n".to_string()),
                ("c".to_string(), "abcd".to_string()),
                ("d".to_string(), "e".to_string()),
            ]
        );
        assert_eq!(m.command, "PING");
        assert_eq!(m.params, vec!["t"]);
        // Tags without a prefix, and a bounded tag count.
        let many: Vec<u8> = (0..100)
            .flat_map(|i| format!("k{i}=v;").into_bytes())
            .collect();
        let mut line = b"@".to_vec();
        line.extend_from_slice(&many);
        line.extend_from_slice(b" PRIVMSG #c :hi");
        let m = parse_message(&line).unwrap();
        assert_eq!(m.tags.len(), MAX_TAGS);
        assert_eq!(m.command, "PRIVMSG");
        assert!(parse_message(b"@time=x").is_none());
    }

    #[test]
    fn parses_dcc_send() {
        let d = parse_dcc("SEND \"my file.exe\" 3232235777 4000 12345").unwrap();
        assert_eq!(d.kind, "SEND");
        assert_eq!(d.argument, "my file.exe");
        assert_eq!(d.host, Some("192.168.1.1".parse().unwrap()));
        assert_eq!(d.port, Some(4000));
        assert_eq!(d.size, Some(12345));
        let d = parse_dcc("SEND x.exe 1.2.3.4 99999").unwrap();
        assert_eq!(d.port, None);
        assert_eq!(
            ctcp("\u{1}DCC SEND a 1 2 3\u{1}"),
            Some(("DCC", "SEND a 1 2 3"))
        );
    }
}
