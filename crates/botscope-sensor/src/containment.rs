//! Containment: the sensor connects out only to the address that attacked
//! it, only to fetch the binary, and only within global caps.
//!
//! A payload that names a third address (a download server elsewhere, or a
//! host name that would need resolving) is refused and the refusal logged:
//! the sensor must never become a tool that attacks or scans others.

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
    #[error("instruction names host name {0}; only the attacking address is contacted")]
    HostName(String),
    /// Port 0 or otherwise unusable.
    #[error("unusable port {0}")]
    BadPort(u16),
    /// Too many downloads under way or started recently.
    #[error("download rate or concurrency limit reached")]
    RateLimited,
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
        return Err(Refusal::BadPort(port));
    }
    if let Some(host) = instr.host() {
        match host.parse::<IpAddr>() {
            Ok(ip) if ip == attacker => {}
            Ok(_) => {
                return Err(Refusal::ThirdParty {
                    named: host.to_string(),
                    attacker,
                })
            }
            Err(_) => return Err(Refusal::HostName(host.to_string())),
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

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(Refusal::HostName("bots.example.net".into()))
        );
        assert_eq!(
            target_for(&DownloadInstruction::Push { port: 4444 }, attacker),
            Ok(SocketAddr::new(attacker, 4444))
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
