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

/// A downloaded binary and how it actually came: the study's Table 8
/// copy method of the transfer that delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The binary.
    pub data: Vec<u8>,
    /// `tftp_get`, `tcp_push` (the infecting host connected and wrote the
    /// binary unprompted: a bind-port push) or `reverse_connect` (the
    /// sensor started the exchange: HTTP, or an FTP login to the infecting
    /// host, whichever side opened the FTP data connection).
    pub copy_method: &'static str,
}

/// The Table 8 copy method a download of `instr` is planned with, as
/// [`DownloadInstruction::copy_method`] says. An FTP script runs as
/// `ftp.exe` does, in active mode, and is still a `reverse_connect`: the
/// victim logged into the infecting host (issue 15: the method follows who
/// started the exchange, as `botscope analyze` classifies the same
/// capture). A transfer that ends another way reports its own
/// ([`Fetched::copy_method`]).
pub fn planned_copy_method(instr: &DownloadInstruction) -> &'static str {
    instr.copy_method()
}

/// Fetches the binary an instruction names from `target` (already
/// checked by containment).
/// A bind-port offer is listened for on `sensor` (the attacked address)
/// only. An FTP script (`echo open ... & ftp -s:o`) is run as Windows'
/// `ftp.exe` runs it, in active mode: the sensor listens on `sensor`
/// and takes the data connection from the target only (see
/// [`ftp_get_mode`]).
pub async fn fetch(
    instr: &DownloadInstruction,
    target: SocketAddr,
    sensor: std::net::IpAddr,
    caps: DownloadCaps,
) -> Result<Fetched, DownloadError> {
    let work = async {
        let by = |copy_method: &'static str| move |data: Vec<u8>| Fetched { data, copy_method };
        match instr {
            DownloadInstruction::Tftp { file, .. } => {
                tftp_get(target, file, caps).await.map(by("tftp_get"))
            }
            DownloadInstruction::Ftp {
                user,
                password,
                file,
                ..
            } => {
                let login = (user.as_deref(), password.as_deref());
                let (data, mode) =
                    ftp_get_mode(target, Some(sensor), login, file, FtpMode::Active, caps).await?;
                Ok(Fetched {
                    data,
                    copy_method: mode.copy_method(),
                })
            }
            DownloadInstruction::FtpUrl {
                user,
                password,
                path,
                ..
            } => ftp_get(target, user.as_deref(), password.as_deref(), path, caps)
                .await
                .map(by("reverse_connect")),
            DownloadInstruction::Http { host, path, .. } => http_get(target, host, path, caps)
                .await
                .map(by("reverse_connect")),
            DownloadInstruction::Push { .. } => {
                push_read(target, caps).await.map(by("reverse_connect"))
            }
            DownloadInstruction::BindPort { port } => bind_accept(sensor, target.ip(), *port, caps)
                .await
                .map(by("tcp_push")),
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
    let bind = if target.is_ipv4() {
        SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0))
    } else {
        SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
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

/// How an FTP data connection is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FtpMode {
    /// `PASV`: the sensor connects to the server's data port.
    Passive,
    /// `PORT`: the sensor listens and the server (the infecting host)
    /// connects to it, as Windows' `ftp.exe` always does.
    Active,
}

impl FtpMode {
    /// The Table 8 copy method of a transfer in this mode: a
    /// `reverse_connect` in both, since the victim started the exchange by
    /// logging into the infecting host; in active mode the data connection
    /// comes from the infecting host, but only because the victim's `PORT`
    /// asked for it (the study's `tcp_push` is an unprompted push).
    pub fn copy_method(self) -> &'static str {
        "reverse_connect"
    }
}

/// FTP RETR over passive mode.
pub async fn ftp_get(
    target: SocketAddr,
    user: Option<&str>,
    password: Option<&str>,
    file: &str,
    caps: DownloadCaps,
) -> Result<Vec<u8>, DownloadError> {
    let login = (user, password);
    Ok(
        ftp_get_mode(target, None, login, file, FtpMode::Passive, caps)
            .await?
            .0,
    )
}

/// The `PORT h1,h2,h3,h4,p1,p2` argument naming `addr`.
pub fn port_argument(addr: std::net::SocketAddrV4) -> String {
    let [a, b, c, d] = addr.ip().octets();
    let p = addr.port();
    format!("{a},{b},{c},{d},{},{}", p >> 8, p & 0xff)
}

/// FTP RETR in `mode`. The control connection goes from `local` (the
/// attacked sensor address, when given) to `target`. In active mode the
/// sensor listens on the control connection's own address, sends `PORT`
/// for it and takes the data connection from the target's address only
/// (any other is closed unread); a server that refuses `PORT` (not 200) or
/// cannot open the data connection (425) is asked again in passive mode.
/// Returns the body and the mode that delivered it.
pub async fn ftp_get_mode(
    target: SocketAddr,
    local: Option<std::net::IpAddr>,
    (user, password): (Option<&str>, Option<&str>),
    file: &str,
    mode: FtpMode,
    caps: DownloadCaps,
) -> Result<(Vec<u8>, FtpMode), DownloadError> {
    let ctrl = timeout(caps.step_timeout, connect_from(local, target)).await??;
    let ctrl_local = ctrl.local_addr()?;
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
    let retr = format!("RETR {}\r\n", file.trim_start_matches('/'));
    if let (FtpMode::Active, SocketAddr::V4(ctrl_v4)) = (mode, ctrl_local) {
        // The listener is on the address the server already talks to.
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ctrl_local.ip(), 0)).await?;
        let SocketAddr::V4(data_addr) = listener.local_addr()? else {
            unreachable!("bound to the IPv4 address {ctrl_v4}")
        };
        wr.write_all(format!("PORT {}\r\n", port_argument(data_addr)).as_bytes())
            .await?;
        let port_reply = ftp_reply(&mut rd, target, caps).await?;
        if port_reply.0 == 200 {
            wr.write_all(retr.as_bytes()).await?;
            let r = ftp_reply(&mut rd, target, caps).await?;
            if r.0 != 425 {
                expect(r, &[125, 150])?;
                let mut data = accept_from(&listener, target.ip(), caps).await?;
                drop(listener);
                let body = read_to_cap(&mut data, caps).await?;
                drop(data);
                expect(ftp_reply(&mut rd, target, caps).await?, &[226, 250])?;
                let _ = wr.write_all(b"QUIT\r\n").await;
                return Ok((body, FtpMode::Active));
            }
        }
    }
    wr.write_all(b"PASV\r\n").await?;
    let (_, pasv) = expect(ftp_reply(&mut rd, target, caps).await?, &[227])?;
    let port = pasv_port(&pasv).ok_or_else(|| DownloadError::Protocol(pasv.clone()))?;
    let mut data = timeout(
        caps.step_timeout,
        connect_from(local, SocketAddr::new(target.ip(), port)),
    )
    .await??;
    wr.write_all(retr.as_bytes()).await?;
    expect(ftp_reply(&mut rd, target, caps).await?, &[125, 150])?;
    let body = read_to_cap(&mut data, caps).await?;
    drop(data);
    expect(ftp_reply(&mut rd, target, caps).await?, &[226, 250])?;
    let _ = wr.write_all(b"QUIT\r\n").await;
    Ok((body, FtpMode::Passive))
}

/// Connects to `target`, from the address `local` when given (the
/// attacked sensor address: the victim answers from the address that was
/// attacked, as a real one would).
pub async fn connect_from(
    local: Option<std::net::IpAddr>,
    target: SocketAddr,
) -> std::io::Result<TcpStream> {
    let Some(local) = local.filter(|l| l.is_ipv4() == target.is_ipv4()) else {
        return TcpStream::connect(target).await;
    };
    let sock = if local.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    sock.bind(SocketAddr::new(local, 0))?;
    sock.connect(target).await
}

/// Waits (at most one step) for a connection from `from`; connections from
/// anyone else are closed unread and do not extend the wait.
async fn accept_from(
    listener: &tokio::net::TcpListener,
    from: std::net::IpAddr,
    caps: DownloadCaps,
) -> Result<TcpStream, DownloadError> {
    let deadline = tokio::time::Instant::now() + caps.step_timeout;
    loop {
        let (s, peer) = tokio::time::timeout_at(deadline, listener.accept()).await??;
        if peer.ip() == from {
            return Ok(s);
        }
    }
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

    /// A minimal FTP server on 127.0.0.1 for one RETR. With `allow_port`
    /// it takes PORT and, after RETR, first connects to the named data
    /// port from 127.0.0.2 (a stranger, whose bytes must be ignored) and
    /// then from 127.0.0.1; without, it refuses PORT (500) and serves
    /// PASV. Returns its port and the commands it saw.
    async fn ftp_server(
        body: Vec<u8>,
        allow_port: bool,
    ) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let (rd, mut wr) = s.into_split();
            let mut rd = BufReader::new(rd);
            wr.write_all(b"220 ready\r\n").await.unwrap();
            let mut seen = Vec::new();
            let mut data_to: Option<SocketAddr> = None;
            let mut pasv: Option<tokio::net::TcpListener> = None;
            loop {
                let mut line = String::new();
                if rd.read_line(&mut line).await.unwrap() == 0 {
                    return seen;
                }
                let line = line.trim_end().to_string();
                seen.push(line.split(' ').next().unwrap().to_string());
                let reply: &[u8] = match line.split(' ').next().unwrap() {
                    "USER" => b"331 pass?\r\n",
                    "PASS" => b"230 in\r\n",
                    "TYPE" => b"200 binary\r\n",
                    "PORT" if allow_port => {
                        let n: Vec<u16> =
                            line[5..].split(',').map(|x| x.parse().unwrap()).collect();
                        let ip =
                            std::net::Ipv4Addr::new(n[0] as u8, n[1] as u8, n[2] as u8, n[3] as u8);
                        data_to = Some(SocketAddr::new(ip.into(), n[4] * 256 + n[5]));
                        b"200 PORT command successful\r\n"
                    }
                    "PORT" => b"500 no active mode here\r\n",
                    "PASV" => {
                        let pl = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                        let p = pl.local_addr().unwrap().port();
                        pasv = Some(pl);
                        let r = format!(
                            "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                            p >> 8,
                            p & 255
                        );
                        wr.write_all(r.as_bytes()).await.unwrap();
                        continue;
                    }
                    "RETR" => {
                        wr.write_all(b"150 here it comes\r\n").await.unwrap();
                        let mut data = if let Some(to) = data_to {
                            let from = |ip: &str| {
                                let sock = tokio::net::TcpSocket::new_v4().unwrap();
                                sock.bind(SocketAddr::new(ip.parse().unwrap(), 0)).unwrap();
                                sock
                            };
                            if let Ok(mut stranger) = from("127.0.0.2").connect(to).await {
                                let _ = stranger.write_all(b"not the binary").await;
                            }
                            from("127.0.0.1").connect(to).await.unwrap()
                        } else {
                            pasv.take().unwrap().accept().await.unwrap().0
                        };
                        data.write_all(&body).await.unwrap();
                        drop(data);
                        b"226 done\r\n"
                    }
                    "QUIT" => b"221 bye\r\n",
                    _ => b"502 no\r\n",
                };
                wr.write_all(reply).await.unwrap();
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn ftp_active_mode_takes_the_data_connection_from_the_server_only() {
        let body: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let (port, server) = ftp_server(body.clone(), true).await;
        let target: SocketAddr = SocketAddr::new("127.0.0.1".parse().unwrap(), port);
        let (got, mode) = ftp_get_mode(
            target,
            Some("127.0.0.1".parse().unwrap()),
            (Some("u"), Some("p")),
            "bot.exe",
            FtpMode::Active,
            DownloadCaps::default(),
        )
        .await
        .unwrap();
        assert_eq!((got.len(), mode), (body.len(), FtpMode::Active));
        assert_eq!(got, body, "the stranger's bytes were not taken");
        assert_eq!(mode.copy_method(), "reverse_connect");
        assert_eq!(
            server.await.unwrap(),
            ["USER", "PASS", "TYPE", "PORT", "RETR", "QUIT"]
        );
    }

    #[tokio::test]
    async fn ftp_active_mode_refused_falls_back_to_passive() {
        let body = b"synthetic binary by PASV".to_vec();
        let (port, server) = ftp_server(body.clone(), false).await;
        let target: SocketAddr = SocketAddr::new("127.0.0.1".parse().unwrap(), port);
        let (got, mode) = ftp_get_mode(
            target,
            None,
            (None, None),
            "/bot.exe",
            FtpMode::Active,
            DownloadCaps::default(),
        )
        .await
        .unwrap();
        assert_eq!((got, mode), (body, FtpMode::Passive));
        assert_eq!(
            server.await.unwrap(),
            ["USER", "PASS", "TYPE", "PORT", "PASV", "RETR", "QUIT"]
        );
    }

    #[test]
    fn port_argument_names_address_and_port() {
        assert_eq!(
            port_argument("10.201.0.10:40001".parse().unwrap()),
            "10,201,0,10,156,65"
        );
    }
}
