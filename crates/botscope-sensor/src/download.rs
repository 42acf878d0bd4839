//! Contained download clients: TFTP, FTP, HTTP and raw TCP push, each
//! bounded in size and time, each connecting only to the address that
//! [`crate::containment::target_for`] allowed.

use crate::instructions::DownloadInstruction;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

/// Caps on one download.
#[derive(Clone, Copy, Debug)]
pub struct DownloadCaps {
    /// Largest binary accepted, in bytes.
    pub max_bytes: usize,
    /// Longest a whole download may take.
    pub max_time: Duration,
    /// Longest wait for any one reply.
    pub step_timeout: Duration,
}

impl Default for DownloadCaps {
    fn default() -> Self {
        DownloadCaps {
            max_bytes: 8 << 20,
            max_time: Duration::from_secs(60),
            step_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Socket error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// No reply in time, or the whole download took too long.
    #[error("timed out")]
    Timeout,
    /// The binary is larger than the cap.
    #[error("larger than the {0}-byte cap")]
    TooLarge(usize),
    /// The server answered with an error or something unexpected.
    #[error("protocol: {0}")]
    Protocol(String),
}

impl From<tokio::time::error::Elapsed> for DownloadError {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        DownloadError::Timeout
    }
}

/// Fetches the binary an instruction names from `target` (already
/// checked by containment).
/// A bind-port offer is listened for on `sensor` (the attacked address)
/// only.
pub async fn fetch(
    instr: &DownloadInstruction,
    target: SocketAddr,
    sensor: std::net::IpAddr,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let work = async {
        match instr {
            DownloadInstruction::Tftp { file, .. } => tftp_get(target, file, caps).await,
            DownloadInstruction::Ftp {
                user,
                password,
                file,
                ..
            } => ftp_get(target, user.as_deref(), password.as_deref(), file, caps).await,
            DownloadInstruction::FtpUrl {
                user,
                password,
                path,
                ..
            } => ftp_get(target, user.as_deref(), password.as_deref(), path, caps).await,
            DownloadInstruction::Http { host, path, .. } => {
                http_get(target, host, path, caps).await
            }
            DownloadInstruction::Push { .. } => push_read(target, caps).await,
            DownloadInstruction::BindPort { port } => {
                bind_accept(sensor, target.ip(), *port, caps).await
            }
        }
    };
    timeout(caps.max_time, work).await?
}

async fn read_to_cap<R: AsyncReadExt + Unpin>(
    r: &mut R,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = timeout(caps.step_timeout, r.read(&mut buf)).await??;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > caps.max_bytes {
            return Err(DownloadError::TooLarge(caps.max_bytes));
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// TFTP RRQ in octet mode (RFC 1350). Replies must come from the target's
/// address; the server's transfer port is learnt from its first DATA.
pub async fn tftp_get(
    target: SocketAddr,
    file: &str,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let sock = UdpSocket::bind(bind).await?;
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(file.as_bytes());
    rrq.push(0);
    rrq.extend_from_slice(b"octet\0");
    sock.send_to(&rrq, target).await?;
    let mut out = Vec::new();
    let mut expected: u16 = 1;
    let mut buf = vec![0u8; 4 + 512 + 64];
    let mut server: Option<SocketAddr> = None;
    loop {
        let (n, from) = timeout(caps.step_timeout, sock.recv_from(&mut buf)).await??;
        if from.ip() != target.ip() || server.is_some_and(|s| s != from) {
            continue; // not our peer: ignore, never answer
        }
        if n < 4 {
            return Err(DownloadError::Protocol("short TFTP packet".into()));
        }
        let op = u16::from_be_bytes([buf[0], buf[1]]);
        let block = u16::from_be_bytes([buf[2], buf[3]]);
        match op {
            3 => {
                server = Some(from);
                if block == expected {
                    let data = &buf[4..n];
                    if out.len() + data.len() > caps.max_bytes {
                        return Err(DownloadError::TooLarge(caps.max_bytes));
                    }
                    out.extend_from_slice(data);
                    expected = expected.wrapping_add(1);
                }
                sock.send_to(&[0, 4, buf[2], buf[3]], from).await?;
                if block == expected.wrapping_sub(1) && n - 4 < 512 {
                    return Ok(out);
                }
            }
            5 => {
                let msg = String::from_utf8_lossy(&buf[4..n]);
                return Err(DownloadError::Protocol(format!(
                    "TFTP error {block}: {}",
                    msg.trim_end_matches('\0')
                )));
            }
            _ => {
                return Err(DownloadError::Protocol(format!(
                    "unexpected TFTP opcode {op}"
                )))
            }
        }
    }
}

/// Longest FTP reply line read from a server, line end included.
pub const MAX_FTP_LINE: usize = 8 * 1024;

async fn ftp_reply<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    server: SocketAddr,
    caps: DownloadCaps,
) -> Result<(u16, String), DownloadError> {
    // Multi-line replies (`230-...`) end with a line `230 ...`.
    let mut last = String::new();
    for _ in 0..64 {
        // At most one byte past the cap is read: a server sending an
        // endless line costs 8 KiB, not memory until the timeout.
        let mut line = Vec::new();
        let n = timeout(
            caps.step_timeout,
            (&mut *r)
                .take(MAX_FTP_LINE as u64 + 1)
                .read_until(b'\n', &mut line),
        )
        .await??;
        if n == 0 {
            return Err(DownloadError::Protocol(format!(
                "FTP server {server} closed the control connection"
            )));
        }
        if line.len() > MAX_FTP_LINE {
            return Err(DownloadError::Protocol(format!(
                "FTP server {server} sent a reply line longer than {MAX_FTP_LINE} bytes"
            )));
        }
        last = String::from_utf8_lossy(&line).trim_end().to_string();
        if let Some(code) = ftp_final_code(&last) {
            return Ok((code, last));
        }
    }
    Err(DownloadError::Protocol(format!(
        "FTP server {server} sent more than 64 reply lines: {last}"
    )))
}

/// The code of a reply's last line (`230 ok`), or None for a continuation
/// (`230-...`) or anything else.
pub fn ftp_final_code(line: &str) -> Option<u16> {
    if line.len() >= 4 && line.as_bytes()[3] == b' ' {
        return line.get(..3).and_then(|c| c.parse::<u16>().ok());
    }
    None
}

/// Parses the port out of a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`
/// reply. The address in it is ignored: data goes to the target only.
pub fn pasv_port(reply: &str) -> Option<u16> {
    let inner = reply.split('(').nth(1)?.split(')').next()?;
    let nums: Vec<u16> = inner
        .split(',')
        .map(|n| n.trim().parse::<u16>().ok().filter(|v| *v < 256))
        .collect::<Option<_>>()?;
    (nums.len() == 6).then(|| nums[4] * 256 + nums[5])
}

/// FTP RETR over passive mode.
pub async fn ftp_get(
    target: SocketAddr,
    user: Option<&str>,
    password: Option<&str>,
    file: &str,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let ctrl = TcpStream::connect(target).await?;
    let (rd, mut wr) = ctrl.into_split();
    let mut rd = BufReader::new(rd);
    let expect = |got: (u16, String), ok: &[u16]| {
        if ok.contains(&got.0) {
            Ok(got)
        } else {
            Err(DownloadError::Protocol(got.1))
        }
    };
    expect(ftp_reply(&mut rd, target, caps).await?, &[220])?;
    wr.write_all(format!("USER {}\r\n", user.unwrap_or("anonymous")).as_bytes())
        .await?;
    let r = expect(ftp_reply(&mut rd, target, caps).await?, &[230, 331])?;
    if r.0 == 331 {
        wr.write_all(format!("PASS {}\r\n", password.unwrap_or("sensor@")).as_bytes())
            .await?;
        expect(ftp_reply(&mut rd, target, caps).await?, &[230, 202])?;
    }
    wr.write_all(b"TYPE I\r\n").await?;
    expect(ftp_reply(&mut rd, target, caps).await?, &[200])?;
    wr.write_all(b"PASV\r\n").await?;
    let (_, pasv) = expect(ftp_reply(&mut rd, target, caps).await?, &[227])?;
    let port = pasv_port(&pasv).ok_or_else(|| DownloadError::Protocol(pasv.clone()))?;
    let mut data = TcpStream::connect(SocketAddr::new(target.ip(), port)).await?;
    wr.write_all(format!("RETR {}\r\n", file.trim_start_matches('/')).as_bytes())
        .await?;
    expect(ftp_reply(&mut rd, target, caps).await?, &[125, 150])?;
    let body = read_to_cap(&mut data, caps).await?;
    drop(data);
    expect(ftp_reply(&mut rd, target, caps).await?, &[226, 250])?;
    let _ = wr.write_all(b"QUIT\r\n").await;
    Ok(body)
}

/// HTTP/1.0 GET; the body is returned when the status is 200.
pub async fn http_get(
    target: SocketAddr,
    host: &str,
    path: &str,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let mut s = TcpStream::connect(target).await?;
    s.write_all(
        format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: Mozilla/4.0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let raw = read_to_cap(&mut s, caps).await?;
    http_body(&raw).map(<[u8]>::to_vec)
}

/// The body of a whole HTTP response when its status is 200.
pub fn http_body(raw: &[u8]) -> Result<&[u8], DownloadError> {
    let head_end = memchr::memmem::find(raw, b"\r\n\r\n")
        .ok_or_else(|| DownloadError::Protocol("no HTTP header end".into()))?;
    let status_line = raw[..head_end].split(|&b| b == b'\n').next().unwrap_or(&[]);
    let status = String::from_utf8_lossy(status_line);
    let code = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok());
    if code != Some(200) {
        return Err(DownloadError::Protocol(status.trim().to_string()));
    }
    Ok(&raw[head_end + 4..])
}

/// Connects to the attacker's offered port and reads until it closes.
pub async fn push_read(target: SocketAddr, caps: DownloadCaps) -> Result<Vec<u8>, DownloadError> {
    let mut s = timeout(caps.step_timeout, TcpStream::connect(target)).await??;
    read_to_cap(&mut s, caps).await
}

/// Opens `port` on the attacked address `sensor` only (never every local
/// address) and takes one connection from `attacker` (others are closed
/// at once), reading the pushed binary. The port was checked by
/// [`crate::containment::check_bind_port`].
pub async fn bind_accept(
    sensor: std::net::IpAddr,
    attacker: std::net::IpAddr,
    port: u16,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(sensor, port)).await?;
    loop {
        let (mut s, from) = timeout(caps.max_time, listener.accept()).await??;
        if from.ip() == attacker {
            return read_to_cap(&mut s, caps).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasv_port_ignores_named_address() {
        assert_eq!(
            pasv_port("227 Entering Passive Mode (192,0,2,1,19,137)"),
            Some(19 * 256 + 137)
        );
        assert_eq!(pasv_port("227 nonsense"), None);
        assert_eq!(pasv_port("227 (1,2,3,4,999,1)"), None);
    }

    fn server() -> SocketAddr {
        "127.0.0.9:2121".parse().unwrap()
    }

    #[tokio::test]
    async fn ftp_reply_lines_are_capped_at_8_kib() {
        // A line of exactly 8,192 bytes (CRLF included) is read...
        let mut ok = b"220 ".to_vec();
        ok.resize(MAX_FTP_LINE - 2, b'x');
        ok.extend_from_slice(b"\r\n");
        let mut r = BufReader::new(&ok[..]);
        let (code, line) = ftp_reply(&mut r, server(), DownloadCaps::default())
            .await
            .unwrap();
        assert_eq!((code, line.len()), (220, MAX_FTP_LINE - 2));
        // ...one byte more is refused, naming the server.
        let mut long = b"220 ".to_vec();
        long.resize(MAX_FTP_LINE - 1, b'x');
        long.extend_from_slice(b"\r\n");
        let mut r = BufReader::new(&long[..]);
        let e = ftp_reply(&mut r, server(), DownloadCaps::default())
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "protocol: FTP server 127.0.0.9:2121 sent a reply line longer than 8192 bytes"
        );
    }

    #[tokio::test]
    async fn endless_ftp_line_stops_at_the_cap() {
        // A server that never ends its line: the reply fails after at most
        // 8,193 bytes instead of buffering until the (long) timeout.
        let mut r = BufReader::new(tokio::io::repeat(b'2'));
        let caps = DownloadCaps {
            step_timeout: Duration::from_secs(3600),
            max_time: Duration::from_secs(3600),
            ..Default::default()
        };
        let e = ftp_reply(&mut r, server(), caps).await.unwrap_err();
        assert!(
            matches!(&e, DownloadError::Protocol(m) if m.contains("127.0.0.9:2121") && m.contains("8192")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn bindport_listens_on_the_attacked_address_only() {
        // A free port on 127.0.0.3 (the "attacked address").
        let port = std::net::TcpListener::bind("127.0.0.3:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let sensor: std::net::IpAddr = "127.0.0.3".parse().unwrap();
        let attacker: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let caps = DownloadCaps::default();
        let accept = tokio::spawn(bind_accept(sensor, attacker, port, caps));
        // Wait until it listens on the attacked address...
        let mut s = loop {
            if let Ok(s) = TcpStream::connect(SocketAddr::new(sensor, port)).await {
                break s;
            }
            tokio::task::yield_now().await;
        };
        // ...and it does not listen on any other local address.
        let other = TcpStream::connect(("127.0.0.4", port)).await;
        assert_eq!(
            other.unwrap_err().kind(),
            std::io::ErrorKind::ConnectionRefused
        );
        s.write_all(b"pushed synthetic binary").await.unwrap();
        drop(s);
        assert_eq!(accept.await.unwrap().unwrap(), b"pushed synthetic binary");
    }
}
