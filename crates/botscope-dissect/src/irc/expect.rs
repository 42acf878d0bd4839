//! DCC transfers announced on IRC and not yet seen: `DCC SEND` offers
//! name the address and port the file will come from, and the first new
//! TCP flow to one of them is its data connection (`irc-dcc-data`).
//!
//! Bounded in time and size, like Zeek's `dcc_expected_transfers`
//! (`&read_expire=5mins`): an offer expires 5 minutes of capture time
//! after it was made (packet time, never the wall clock, so a capture
//! read twice gives the same result), and at most [`MAX_EXPECTED`] offers
//! wait at once, the oldest giving way to a new one.

use botscope_core::hash::FastMap;
use botscope_core::Ts;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Most offers waiting at once.
pub const MAX_EXPECTED: usize = 4096;
/// How long an offer waits for its connection, in microseconds of
/// capture time (5 minutes, as Zeek's).
pub const EXPIRE_US: i64 = 300 * 1_000_000;

/// The announced endpoint of a transfer.
pub type Endpoint = (IpAddr, u16);

/// Offers waiting for their data connection, oldest first.
#[derive(Debug, Default)]
pub struct DccExpectations {
    /// Endpoint → (time of its latest offer, that offer's number).
    live: FastMap<Endpoint, (Ts, u64)>,
    /// Offers in the order they were made; an entry whose number is no
    /// longer the endpoint's latest is stale and skipped.
    order: VecDeque<(u64, Endpoint)>,
    next: u64,
    /// Offers dropped unanswered because they expired.
    pub expired: u64,
    /// Offers dropped unanswered to make room for newer ones.
    pub displaced: u64,
}

impl DccExpectations {
    /// Records an offer made at `now` (a repeated offer renews it).
    pub fn offer(&mut self, ep: Endpoint, now: Ts) {
        self.expire(now);
        if !self.live.contains_key(&ep) {
            while self.live.len() >= MAX_EXPECTED {
                if !self.pop_oldest() {
                    break;
                }
                self.displaced += 1;
            }
        }
        let n = self.next;
        self.next += 1;
        self.live.insert(ep, (now, n));
        self.order.push_back((n, ep));
        // Renewed offers leave stale entries behind: keep the queue
        // within twice the live set.
        if self.order.len() > 2 * MAX_EXPECTED {
            let live = &self.live;
            self.order
                .retain(|(n, ep)| live.get(ep).is_some_and(|&(_, m)| m == *n));
        }
    }

    /// Whether a connection to `ep` starting at `now` was announced by an
    /// offer still waiting; the offer is used up.
    pub fn take(&mut self, ep: &Endpoint, now: Ts) -> bool {
        self.expire(now);
        self.live.remove(ep).is_some()
    }

    /// Offers waiting.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether no offer waits.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Drops offers older than [`EXPIRE_US`] at `now`.
    fn expire(&mut self, now: Ts) {
        while let Some(&(n, ep)) = self.order.front() {
            match self.live.get(&ep) {
                Some(&(ts, m)) if m == n => {
                    if now.0.saturating_sub(ts.0) <= EXPIRE_US {
                        break;
                    }
                    self.live.remove(&ep);
                    self.expired += 1;
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Removes the oldest live offer; false when there is none.
    fn pop_oldest(&mut self) -> bool {
        while let Some((n, ep)) = self.order.pop_front() {
            if self.live.get(&ep).is_some_and(|&(_, m)| m == n) {
                self.live.remove(&ep);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ep(i: u32) -> Endpoint {
        (
            IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
            1024 + (i % 60000) as u16,
        )
    }

    const T0: i64 = 1_700_000_000_000_000;

    #[test]
    fn offers_expire_after_five_minutes_of_capture_time() {
        let mut d = DccExpectations::default();
        d.offer(ep(1), Ts(T0));
        d.offer(ep(2), Ts(T0 + 200_000_000));
        // 4 min 59 s after the first offer: both still wait.
        assert!(d.take(&ep(1), Ts(T0 + 299_000_000)));
        // 5 min 1 s after the second: expired, not an irc-dcc-data flow.
        assert!(!d.take(&ep(2), Ts(T0 + 501_000_000)));
        assert_eq!(d.expired, 1);
        assert!(d.is_empty());
        // A renewed offer restarts its clock.
        d.offer(ep(3), Ts(T0));
        d.offer(ep(3), Ts(T0 + 240_000_000));
        assert!(d.take(&ep(3), Ts(T0 + 480_000_000)));
        // An endpoint is taken once.
        assert!(!d.take(&ep(3), Ts(T0 + 480_000_000)));
    }

    #[test]
    fn at_most_max_expected_wait_and_the_oldest_give_way() {
        let mut d = DccExpectations::default();
        let n = MAX_EXPECTED as u32 + 1000;
        for i in 0..n {
            d.offer(ep(i), Ts(T0 + i as i64));
        }
        assert_eq!(d.len(), MAX_EXPECTED);
        assert_eq!(d.displaced, 1000);
        // The first 1000 gave way; the newest are still expected.
        assert!(!d.take(&ep(999), Ts(T0 + n as i64)));
        assert!(d.take(&ep(1000), Ts(T0 + n as i64)));
        assert!(d.take(&ep(n - 1), Ts(T0 + n as i64)));
        // Renewing one endpoint over and over keeps the queue bounded.
        for k in 0..20_000i64 {
            d.offer(ep(5000), Ts(T0 + n as i64 + k));
        }
        assert!(d.order.len() <= 2 * MAX_EXPECTED + 1);
        assert_eq!(d.len(), MAX_EXPECTED - 2);
    }
}
