//! Containment: the sensor connects out only to the address that attacked
//! it, only to fetch the binary, and only within global caps.
//!
//! A payload that names a third address (a download server elsewhere, or a
//! host name that would need resolving) is refused and the refusal logged:
//! the sensor must never become a tool that attacks or scans others.
//!
//! A UDP datagram's source address is whatever the sender wrote in it, so
//! an instruction that arrives by UDP is acted on only when its source
//! recently completed a TCP handshake with the sensor
//! ([`HandshakeTable`]): otherwise a forged source would make the sensor
//! fetch from, or connect to, any third party.

use crate::instructions::DownloadInstruction;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a download was not attempted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The instruction names an address other than the attacker's.
    #[error("instruction names {named}, not the attacking address {attacker}")]
    ThirdParty {
        /// What the payload named.
        named: String,
        /// Who attacked.
        attacker: IpAddr,
    },
    /// The instruction names a host name; resolving it would be traffic to
    /// a third party.
    #[error("instruction names host name {name}; only the attacking address is contacted")]
    HostName {
        /// The name.
        name: String,
    },
    /// Port 0 or otherwise unusable.
    #[error("unusable port {port}")]
    BadPort {
        /// The port.
        port: u16,
    },
    /// The instruction came in a datagram whose source has not completed
    /// a TCP handshake with the sensor recently: the source may be forged.
    #[error("datagram source {addr} has not completed a TCP handshake with the sensor; it may be forged")]
    UnconfirmedSource {
        /// The datagram's source address.
        addr: IpAddr,
    },
    /// Too many downloads under way or started recently.
    #[error("download rate or concurrency limit reached")]
    RateLimited,
    /// This source already has its quota of downloads under way.
    #[error("{addr} already has {limit} downloads under way")]
    SourceQuota {
        /// The source.
        addr: IpAddr,
        /// `limits.downloads_per_source`.
        limit: usize,
    },
    /// A connection to a bind-shell port (or another port the sensor
    /// opened for one attacker) came from some other address.
    #[error("connection from {addr}, not from the attacking address {attacker}")]
    OtherSource {
        /// Who connected.
        addr: IpAddr,
        /// The attacker the port was opened for.
        attacker: IpAddr,
    },
    /// This source already holds its quota of sessions (a shell is one).
    #[error("{addr} already holds {limit} sessions")]
    SessionQuota {
        /// The source.
        addr: IpAddr,
        /// `limits.sessions_per_source`.
        limit: usize,
    },
    /// The same shell offer was already being served for this attacker.
    #[error("a shell for this offer is already open")]
    Duplicate,
    /// A bind-port offer for a privileged port or one of the sensor's own
    /// listening ports.
    #[error("bindport {port} is below 1024 or one of the sensor's own ports")]
    ReservedPort {
        /// The port.
        port: u16,
    },
}

/// Whether the sensor may open `port` for a bind-port offer: never below
/// 1024, never one of its own listening ports (`own`).
pub fn check_bind_port(port: u16, own: &[u16]) -> Result<(), Refusal> {
    if port < 1024 || own.contains(&port) {
        return Err(Refusal::ReservedPort { port });
    }
    Ok(())
}

/// A per-source quota: at most `per_source` slots held by one address at
/// once. Only sources holding a slot are remembered, so the table is no
/// larger than the slots handed out.
#[derive(Debug)]
pub struct SourceQuota {
    per_source: usize,
    held: Mutex<std::collections::HashMap<IpAddr, usize>>,
}

/// One slot of a [`SourceQuota`]; given back when dropped.
#[derive(Debug)]
pub struct SourceSlot<'a> {
    quota: &'a SourceQuota,
    addr: IpAddr,
}

impl SourceQuota {
    /// At most `per_source` slots per address (0 is taken as 1).
    pub fn new(per_source: usize) -> Self {
        SourceQuota {
            per_source: per_source.max(1),
            held: Mutex::new(Default::default()),
        }
    }

    /// The quota.
    pub fn limit(&self) -> usize {
        self.per_source
    }

    /// A slot for `addr`, unless it holds its quota already.
    pub fn try_acquire(&self, addr: IpAddr) -> Option<SourceSlot<'_>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(addr).or_insert(0);
        if *n >= self.per_source {
            return None;
        }
        *n += 1;
        Some(SourceSlot { quota: self, addr })
    }

    /// Slots `addr` holds now.
    pub fn held(&self, addr: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get(&addr).copied().unwrap_or(0)
    }

    /// Sources holding a slot now.
    pub fn sources(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for SourceSlot<'_> {
    fn drop(&mut self) {
        let mut held = self.quota.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.addr);
            }
        }
    }
}

/// Whether a host an instruction names stands for the attacker itself:
/// its own address, or the unspecified address (`0.0.0.0`, `::`), which
/// bots type (`echo open 0.0.0.0 PORT`) for "the host that infected you"
/// and which, connected to, would reach the sensor's own host.
pub fn means_attacker(named: IpAddr, attacker: IpAddr) -> bool {
    named == attacker || named.is_unspecified()
}

/// Where a connect-back shell may connect: the attacker only (`addr` must
/// mean the attacker, see [`means_attacker`]), on a usable port.
pub fn connect_back_target(
    addr: IpAddr,
    port: u16,
    attacker: IpAddr,
) -> Result<SocketAddr, Refusal> {
    if port == 0 {
        return Err(Refusal::BadPort { port });
    }
    if !means_attacker(addr, attacker) {
        return Err(Refusal::ThirdParty {
            named: addr.to_string(),
            attacker,
        });
    }
    Ok(SocketAddr::new(attacker, port))
}

/// Decides where a download instruction may connect: always the attacker.
pub fn target_for(instr: &DownloadInstruction, attacker: IpAddr) -> Result<SocketAddr, Refusal> {
    let port = match instr {
        DownloadInstruction::Tftp { .. } => 69,
        DownloadInstruction::Ftp { port, .. }
        | DownloadInstruction::Http { port, .. }
        | DownloadInstruction::FtpUrl { port, .. }
        | DownloadInstruction::Push { port }
        | DownloadInstruction::BindPort { port } => *port,
    };
    if port == 0 {
        return Err(Refusal::BadPort { port });
    }
    if let Some(host) = instr.host() {
        match host.parse::<IpAddr>() {
            Ok(ip) if means_attacker(ip, attacker) => {}
            Ok(_) => {
                return Err(Refusal::ThirdParty {
                    named: host.to_string(),
                    attacker,
                })
            }
            Err(_) => {
                return Err(Refusal::HostName {
                    name: host.to_string(),
                })
            }
        }
    }
    Ok(SocketAddr::new(attacker, port))
}

/// A global limit on downloads: at most `max_concurrent` at once and at
/// most `per_minute` started in any sliding minute.
#[derive(Debug)]
pub struct DownloadLimiter {
    max_concurrent: usize,
    per_minute: usize,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    running: usize,
    started: std::collections::VecDeque<Instant>,
}

/// Held while a download runs; dropping it frees the slot.
#[derive(Debug)]
pub struct DownloadPermit<'a> {
    limiter: &'a DownloadLimiter,
}

impl Drop for DownloadPermit<'_> {
    fn drop(&mut self) {
        let mut s = self.limiter.state.lock().unwrap_or_else(|e| e.into_inner());
        s.running = s.running.saturating_sub(1);
    }
}

impl DownloadLimiter {
    /// A limiter with the given caps.
    pub fn new(max_concurrent: usize, per_minute: usize) -> Self {
        DownloadLimiter {
            max_concurrent,
            per_minute,
            state: Mutex::new(LimiterState::default()),
        }
    }

    /// Takes a slot, or refuses when a cap is reached.
    pub fn acquire(&self) -> Result<DownloadPermit<'_>, Refusal> {
        self.acquire_at(Instant::now())
    }

    fn acquire_at(&self, now: Instant) -> Result<DownloadPermit<'_>, Refusal> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s
            .started
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            s.started.pop_front();
        }
        if s.running >= self.max_concurrent || s.started.len() >= self.per_minute {
            return Err(Refusal::RateLimited);
        }
        s.running += 1;
        s.started.push_back(now);
        Ok(DownloadPermit { limiter: self })
    }
}

/// Sources that completed a TCP handshake with the sensor recently: a
/// bounded table with expiry. Only these may instruct the sensor by UDP.
///
/// At most `capacity` sources are held; when full, expired entries are
/// dropped first and then the oldest one, so a flood of connections costs
/// memory bounded by the capacity.
#[derive(Debug)]
pub struct HandshakeTable {
    capacity: usize,
    ttl: Duration,
    state: Mutex<HandshakeState>,
}

#[derive(Debug, Default)]
struct HandshakeState {
    /// Source → last handshake.
    seen: std::collections::HashMap<IpAddr, Instant>,
    /// Insertion order with the time recorded then (stale entries are
    /// skipped when their time no longer matches `seen`).
    order: std::collections::VecDeque<(IpAddr, Instant)>,
}

impl HandshakeTable {
    /// A table holding at most `capacity` sources for `ttl` each.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        HandshakeTable {
            capacity: capacity.max(1),
            ttl,
            state: Mutex::new(HandshakeState::default()),
        }
    }

    /// Records that `ip` completed a TCP handshake now.
    pub fn confirm(&self, ip: IpAddr) {
        self.confirm_at(ip, Instant::now())
    }

    /// Whether `ip` completed a TCP handshake within the expiry time.
    pub fn is_confirmed(&self, ip: IpAddr) -> bool {
        self.is_confirmed_at(ip, Instant::now())
    }

    /// Sources held right now (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seen
            .len()
    }

    /// Whether the table holds no source.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn confirm_at(&self, ip: IpAddr, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Drop expired entries from the front, then the oldest while full.
        while let Some(&(old, t)) = s.order.front() {
            let current = s.seen.get(&old) == Some(&t);
            let expired = now.saturating_duration_since(t) >= self.ttl;
            let full = s.seen.len() >= self.capacity && !s.seen.contains_key(&ip);
            if !current {
                s.order.pop_front();
            } else if expired || full {
                s.order.pop_front();
                s.seen.remove(&old);
            } else {
                break;
            }
        }
        s.seen.insert(ip, now);
        s.order.push_back((ip, now));
        // Refreshes leave stale entries behind; keep the queue bounded too.
        if s.order.len() > 2 * self.capacity {
            let HandshakeState { seen, order } = &mut *s;
            order.retain(|(a, t)| seen.get(a) == Some(t));
        }
    }

    fn is_confirmed_at(&self, ip: IpAddr, now: Instant) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.seen
            .get(&ip)
            .is_some_and(|t| now.saturating_duration_since(*t) < self.ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_table_expires_and_stays_bounded() {
        let t = HandshakeTable::new(3, Duration::from_secs(600));
        let now = Instant::now();
        let ip = |i: u8| IpAddr::from([10, 9, 0, i]);
        assert!(!t.is_confirmed_at(ip(1), now));
        t.confirm_at(ip(1), now);
        assert!(t.is_confirmed_at(ip(1), now + Duration::from_secs(599)));
        assert!(!t.is_confirmed_at(ip(1), now + Duration::from_secs(600)));
        // Full: the oldest goes first.
        t.confirm_at(ip(2), now + Duration::from_secs(1));
        t.confirm_at(ip(3), now + Duration::from_secs(2));
        t.confirm_at(ip(4), now + Duration::from_secs(3));
        assert_eq!(t.len(), 3);
        assert!(!t.is_confirmed_at(ip(1), now + Duration::from_secs(3)));
        assert!(t.is_confirmed_at(ip(4), now + Duration::from_secs(3)));
        // A refresh keeps a source; a flood of new ones never grows the table.
        t.confirm_at(ip(2), now + Duration::from_secs(4));
        for i in 10..200 {
            t.confirm_at(ip(i), now + Duration::from_secs(5));
            assert!(t.len() <= 3);
            assert!(t.state.lock().unwrap().order.len() <= 6 + 1);
        }
        assert!(t.is_confirmed_at(ip(199), now + Duration::from_secs(5)));
        assert!(!t.is_confirmed_at(ip(2), now + Duration::from_secs(5)));
        // Expired entries are dropped before live ones.
        let t = HandshakeTable::new(2, Duration::from_secs(10));
        t.confirm_at(ip(1), now);
        t.confirm_at(ip(2), now + Duration::from_secs(9));
        t.confirm_at(ip(3), now + Duration::from_secs(11));
        assert_eq!(t.len(), 2);
        assert!(t.is_confirmed_at(ip(2), now + Duration::from_secs(11)));
        assert!(t.is_confirmed_at(ip(3), now + Duration::from_secs(11)));
    }

    fn tftp(host: &str) -> DownloadInstruction {
        DownloadInstruction::Tftp {
            host: host.into(),
            file: "a.exe".into(),
        }
    }

    #[test]
    fn only_the_attacker_is_contacted() {
        let attacker: IpAddr = "10.9.0.2".parse().unwrap();
        assert_eq!(
            target_for(&tftp("10.9.0.2"), attacker),
            Ok(SocketAddr::new(attacker, 69))
        );
        assert_eq!(
            target_for(&tftp("10.9.0.3"), attacker),
            Err(Refusal::ThirdParty {
                named: "10.9.0.3".into(),
                attacker
            })
        );
        assert_eq!(
            target_for(&tftp("bots.example.net"), attacker),
            Err(Refusal::HostName {
                name: "bots.example.net".into()
            })
        );
        assert_eq!(
            target_for(&DownloadInstruction::Push { port: 4444 }, attacker),
            Ok(SocketAddr::new(attacker, 4444))
        );
        // 0.0.0.0 stands for the attacker: never the sensor's own host.
        assert_eq!(
            target_for(&tftp("0.0.0.0"), attacker),
            Ok(SocketAddr::new(attacker, 69))
        );
    }

    #[test]
    fn connect_back_goes_to_the_attacker_only() {
        let attacker: IpAddr = "10.9.0.2".parse().unwrap();
        let ok = Ok(SocketAddr::new(attacker, 4444));
        assert_eq!(connect_back_target(attacker, 4444, attacker), ok);
        assert_eq!(
            connect_back_target("0.0.0.0".parse().unwrap(), 4444, attacker),
            ok
        );
        assert_eq!(
            connect_back_target("10.9.9.9".parse().unwrap(), 4444, attacker),
            Err(Refusal::ThirdParty {
                named: "10.9.9.9".into(),
                attacker
            })
        );
        assert_eq!(
            connect_back_target(attacker, 0, attacker),
            Err(Refusal::BadPort { port: 0 })
        );
    }

    /// Refusals are logged as JSON tagged by `reason`: every variant must
    /// serialise (an internally tagged newtype around a string cannot).
    #[test]
    fn every_refusal_serialises() {
        let ip: IpAddr = "10.9.0.2".parse().unwrap();
        let got: Vec<String> = [
            Refusal::ThirdParty {
                named: "10.9.0.3".into(),
                attacker: ip,
            },
            Refusal::HostName {
                name: "a.example".into(),
            },
            Refusal::UnconfirmedSource { addr: ip },
            Refusal::BadPort { port: 0 },
            Refusal::RateLimited,
            Refusal::SourceQuota { addr: ip, limit: 2 },
            Refusal::ReservedPort { port: 445 },
            Refusal::OtherSource {
                addr: "10.9.0.3".parse().unwrap(),
                attacker: ip,
            },
            Refusal::SessionQuota { addr: ip, limit: 3 },
            Refusal::Duplicate,
        ]
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_else(|e| format!("{r:?}: {e}")))
        .collect();
        assert_eq!(
            got,
            [
                r#"{"reason":"third_party","named":"10.9.0.3","attacker":"10.9.0.2"}"#,
                r#"{"reason":"host_name","name":"a.example"}"#,
                r#"{"reason":"unconfirmed_source","addr":"10.9.0.2"}"#,
                r#"{"reason":"bad_port","port":0}"#,
                r#"{"reason":"rate_limited"}"#,
                r#"{"reason":"source_quota","addr":"10.9.0.2","limit":2}"#,
                r#"{"reason":"reserved_port","port":445}"#,
                r#"{"reason":"other_source","addr":"10.9.0.3","attacker":"10.9.0.2"}"#,
                r#"{"reason":"session_quota","addr":"10.9.0.2","limit":3}"#,
                r#"{"reason":"duplicate"}"#,
            ]
        );
    }

    #[test]
    fn source_quota_gives_one_source_16_of_50() {
        let q = SourceQuota::new(16);
        let a: IpAddr = "10.9.0.2".parse().unwrap();
        let b: IpAddr = "10.9.0.3".parse().unwrap();
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..50 {
            match q.try_acquire(a) {
                Some(s) => held.push(s),
                None => refused += 1,
            }
        }
        assert_eq!((held.len(), refused), (16, 34));
        assert_eq!(q.held(a), 16);
        // Another source is not affected.
        let other = q.try_acquire(b);
        assert!(other.is_some());
        assert_eq!(q.sources(), 2);
        // Slots come back when dropped; a source with none is forgotten.
        held.truncate(10);
        assert_eq!(q.held(a), 10);
        let more: Vec<_> = (0..10).filter_map(|_| q.try_acquire(a)).collect();
        assert_eq!(more.len(), 6, "6 slots free again");
        assert_eq!(q.held(a), 16);
        drop(more);
        drop(held);
        drop(other);
        assert_eq!((q.held(a), q.sources()), (0, 0));
    }

    #[test]
    fn bind_port_never_privileged_or_own() {
        let own = [135, 139, 445, 1025, 2745, 3127, 5000, 6129, 80, 21, 42, 69];
        assert_eq!(check_bind_port(5555, &own), Ok(()));
        assert_eq!(check_bind_port(1024, &own), Ok(()));
        assert_eq!(
            check_bind_port(1023, &own),
            Err(Refusal::ReservedPort { port: 1023 })
        );
        assert_eq!(
            check_bind_port(1025, &own),
            Err(Refusal::ReservedPort { port: 1025 })
        );
        assert_eq!(
            check_bind_port(5000, &own),
            Err(Refusal::ReservedPort { port: 5000 })
        );
    }

    #[test]
    fn limiter_caps_concurrency_and_rate() {
        let l = DownloadLimiter::new(2, 3);
        let now = Instant::now();
        let a = l.acquire_at(now).unwrap();
        let _b = l.acquire_at(now).unwrap();
        assert_eq!(l.acquire_at(now).unwrap_err(), Refusal::RateLimited);
        drop(a);
        let _c = l.acquire_at(now).unwrap();
        drop(_c);
        // Three started within the minute: the fourth waits for the window.
        assert_eq!(l.acquire_at(now).unwrap_err(), Refusal::RateLimited);
        assert!(l.acquire_at(now + Duration::from_secs(61)).is_ok());
    }
}
