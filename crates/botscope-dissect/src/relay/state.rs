//! Per-flow relay state: which client segment is the request.

use super::parser::relay_request;
use crate::FlowCtx;
use botscope_core::events::{Evidence, RelayObs};

/// Relay detection on one TCP flow (client bytes only).
#[derive(Clone, Debug, Default)]
pub struct RelayState {
    /// Decided: a request was found, or the flow is not one.
    done: bool,
    /// The first segment was a SOCKS5 greeting: the next one is the CONNECT.
    socks5_greeting: bool,
}

impl RelayState {
    /// Reads one client segment (`first`: the first one of the
    /// direction). Connections to port 25 are mail, not relay requests.
    pub fn on_client_data(
        &mut self,
        ctx: &FlowCtx<'_>,
        first: bool,
        data: &[u8],
    ) -> Option<RelayObs> {
        if self.done || ctx.key.resp_p == 25 {
            return None;
        }
        let req = if self.socks5_greeting {
            self.done = true;
            relay_request(data)
                .filter(|r| r.0 == "socks5")
                .map(|r| ("socks5", r.1))
        } else if first {
            match relay_request(data) {
                Some(("socks5", None)) => {
                    self.socks5_greeting = true;
                    None
                }
                r => {
                    self.done = true;
                    r
                }
            }
        } else {
            None
        };
        let (protocol, target_port) = req?;
        Some(RelayObs {
            uid: ctx.uid.to_string(),
            spammer: ctx.key.orig_h,
            bot: ctx.key.resp_h,
            port: ctx.key.resp_p,
            protocol: protocol.to_string(),
            target_port,
            ts: ctx.ts,
            evidence: Evidence {
                file: ctx.file,
                packets: vec![ctx.pkt_no],
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::{FlowKey, Proto, Ts};

    fn key(port: u16) -> FlowKey {
        FlowKey {
            orig_h: "10.0.0.7".parse().unwrap(),
            orig_p: 40000,
            resp_h: "10.0.0.9".parse().unwrap(),
            resp_p: port,
            proto: Proto::Tcp,
        }
    }

    fn ctx(k: &FlowKey, pkt_no: u64) -> FlowCtx<'_> {
        FlowCtx {
            uid: "Crelay",
            key: k,
            ts: Ts(pkt_no as i64),
            file: 0,
            pkt_no,
        }
    }

    #[test]
    fn socks5_connect_follows_the_greeting() {
        let k = key(1080);
        let mut s = RelayState::default();
        assert_eq!(s.on_client_data(&ctx(&k, 3), true, &[5, 1, 0]), None);
        let r = s
            .on_client_data(&ctx(&k, 5), false, &[5, 1, 0, 1, 10, 0, 0, 1, 0, 25])
            .unwrap();
        assert_eq!(
            (
                r.protocol.as_str(),
                r.target_port,
                r.port,
                r.evidence.packets
            ),
            ("socks5", Some(25), 1080, vec![5])
        );
        // Decided: later bytes are not requests.
        assert_eq!(s.on_client_data(&ctx(&k, 7), false, b"HELO x\r\n"), None);
    }

    #[test]
    fn port_25_and_other_first_bytes_are_not_relays() {
        let k = key(25);
        let mut s = RelayState::default();
        assert_eq!(s.on_client_data(&ctx(&k, 1), true, b"HELO x\r\n"), None);
        let k = key(8080);
        let mut s = RelayState::default();
        assert_eq!(
            s.on_client_data(&ctx(&k, 1), true, b"GET / HTTP/1.0\r\n"),
            None
        );
        assert_eq!(s.on_client_data(&ctx(&k, 2), false, b"HELO x\r\n"), None);
    }
}
