//! HTTP/1.x message heads (via `httparse`) and body framing.

/// Longest head buffered before the message is reported as malformed.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header fields parsed per head.
pub const MAX_HEADERS: usize = 96;

/// What a head says about its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

/// A request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// Method.
    pub method: String,
    /// Target.
    pub uri: String,
    /// Minor version (`1.x`).
    pub version: u8,
    /// Host header.
    pub host: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Body framing.
    pub body: BodyKind,
}

/// A response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code.
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// Minor version.
    pub version: u8,
    /// Content-Length, if any.
    pub content_length: Option<u64>,
    /// Chunked transfer coding.
    pub chunked: bool,
}

/// Result of trying to parse a head from buffered bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Head<T> {
    /// Need more bytes.
    Partial,
    /// Parsed; the head was this many bytes.
    Complete(T, usize),
    /// Not HTTP.
    Invalid,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn framing(headers: &[httparse::Header<'_>]) -> (Option<u64>, bool) {
    let mut len = None;
    let mut chunked = false;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            len = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // ASCII case folded in place: no lower-cased copy per head.
            chunked = h
                .value
                .windows(7)
                .any(|w| w.eq_ignore_ascii_case(b"chunked"));
        }
    }
    (len, chunked)
}

fn header(headers: &[httparse::Header<'_>], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| text(h.value))
}

/// Parses a request head.
pub fn parse_request(buf: &[u8]) -> Head<RequestHead> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hs);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let (len, chunked) = framing(req.headers);
            let body = if chunked {
                BodyKind::Chunked
            } else {
                match len {
                    Some(0) | None => BodyKind::None,
                    Some(l) => BodyKind::Length(l),
                }
            };
            Head::Complete(
                RequestHead {
                    method: req.method.unwrap_or("").to_string(),
                    uri: req.path.unwrap_or("").to_string(),
                    version: req.version.unwrap_or(1),
                    host: header(req.headers, "host"),
                    user_agent: header(req.headers, "user-agent"),
                    body,
                },
                n,
            )
        }
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Head::Partial,
        _ => Head::Invalid,
    }
}

/// Parses a response head.
pub fn parse_response(buf: &[u8]) -> Head<ResponseHead> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hs);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let (content_length, chunked) = framing(resp.headers);
            Head::Complete(
                ResponseHead {
                    code: resp.code.unwrap_or(0),
                    reason: resp.reason.unwrap_or("").to_string(),
                    version: resp.version.unwrap_or(1),
                    content_length,
                    chunked,
                },
                n,
            )
        }
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Head::Partial,
        _ => Head::Invalid,
    }
}

/// Request methods recognised by detection.
pub const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"TRACE ",
    b"PATCH ",
];

/// Whether the first bytes of a direction look like HTTP/1.x.
pub fn plausible(first: &[u8]) -> bool {
    METHODS.iter().any(|m| first.starts_with(m)) || first.starts_with(b"HTTP/1.")
}

/// Decodes chunked transfer coding incrementally, bounded: chunk-size
/// lines and trailers longer than 4 KiB are errors.
#[derive(Debug, Default, Clone)]
pub struct Dechunker {
    state: ChunkState,
    line: Vec<u8>,
}

impl Dechunker {
    /// Heap bytes held (the chunk-size line being read).
    pub fn held_bytes(&self) -> usize {
        self.line.capacity()
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

/// Result of feeding bytes to a [`Dechunker`].
#[derive(Debug, PartialEq, Eq)]
pub enum Chunked {
    /// Consumed all input, body continues.
    More,
    /// Body ended after this many input bytes.
    Done(usize),
    /// Malformed chunk framing.
    Error,
}

impl Dechunker {
    /// Feeds bytes; `body` receives decoded body bytes.
    pub fn feed(&mut self, data: &[u8], body: &mut impl FnMut(&[u8])) -> Chunked {
        let mut i = 0;
        while i < data.len() {
            match self.state {
                ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailer => {
                    let Some(nl) = memchr::memchr(b'\n', &data[i..]) else {
                        self.line.extend_from_slice(&data[i..]);
                        if self.line.len() > 4096 {
                            return Chunked::Error;
                        }
                        return Chunked::More;
                    };
                    self.line.extend_from_slice(&data[i..i + nl]);
                    i += nl + 1;
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    match self.state {
                        ChunkState::Size => {
                            let hexpart = line.split(|&c| c == b';').next().unwrap_or(b"");
                            let s = std::str::from_utf8(hexpart).unwrap_or("").trim();
                            let Ok(n) = u64::from_str_radix(s, 16) else {
                                return Chunked::Error;
                            };
                            self.state = if n == 0 {
                                ChunkState::Trailer
                            } else {
                                ChunkState::Data(n)
                            };
                        }
                        ChunkState::DataEnd => {
                            if !line.is_empty() {
                                return Chunked::Error;
                            }
                            self.state = ChunkState::Size;
                        }
                        _ => {
                            if line.is_empty() {
                                self.state = ChunkState::Done;
                                return Chunked::Done(i);
                            }
                        }
                    }
                }
                ChunkState::Data(n) => {
                    let take = (n as usize).min(data.len() - i);
                    body(&data[i..i + take]);
                    i += take;
                    let left = n - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::Done => return Chunked::Done(i),
            }
        }
        Chunked::More
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        let r = b"GET /bbnz.exe HTTP/1.1\r\nHost: x.example\r\nUser-Agent: Mozilla\r\n\r\nGET";
        match parse_request(r) {
            Head::Complete(h, n) => {
                assert_eq!(h.method, "GET");
                assert_eq!(h.uri, "/bbnz.exe");
                assert_eq!(h.host.as_deref(), Some("x.example"));
                assert_eq!(h.body, BodyKind::None);
                assert_eq!(n, r.len() - 3);
            }
            x => panic!("{x:?}"),
        }
        assert_eq!(parse_request(b"GET / HT"), Head::Partial);
        assert_eq!(
            parse_request(b"\x00\x01\x02 garbage\r\n\r\n"),
            Head::Invalid
        );
        match parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello") {
            Head::Complete(h, _) => assert_eq!((h.code, h.content_length), (200, Some(5))),
            x => panic!("{x:?}"),
        }
    }

    #[test]
    fn dechunks_across_feeds() {
        let mut d = Dechunker::default();
        let mut body = Vec::new();
        assert_eq!(
            d.feed(b"4\r\nWi", &mut |b| body.extend_from_slice(b)),
            Chunked::More
        );
        assert_eq!(
            d.feed(b"ki\r\n5;x=y\r\npedia\r\n0\r\n\r\nNEXT", &mut |b| body
                .extend_from_slice(b)),
            Chunked::Done(23)
        );
        assert_eq!(body, b"Wikipedia");
        let mut d = Dechunker::default();
        assert_eq!(d.feed(b"zz\r\n", &mut |_| {}), Chunked::Error);
    }
}
