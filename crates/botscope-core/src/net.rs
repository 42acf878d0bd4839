//! Flow keys and transport protocols.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Transport protocol of a flow, named as Zeek's `proto` column names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP and ICMPv6.
    Icmp,
    /// Any other IP protocol.
    Other,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "unknown_transport",
        })
    }
}

/// A connection 5-tuple, oriented from originator to responder as Zeek's
/// `id.orig_h`, `id.orig_p`, `id.resp_h`, `id.resp_p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlowKey {
    /// Originator address.
    pub orig_h: IpAddr,
    /// Originator port (ICMP: type).
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port (ICMP: code).
    pub resp_p: u16,
    /// Transport protocol.
    pub proto: Proto,
}

impl FlowKey {
    /// The same flow seen from the other side.
    pub fn reversed(&self) -> FlowKey {
        FlowKey {
            orig_h: self.resp_h,
            orig_p: self.resp_p,
            resp_h: self.orig_h,
            resp_p: self.orig_p,
            proto: self.proto,
        }
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}:{} -> {}:{}",
            self.proto, self.orig_h, self.orig_p, self.resp_h, self.resp_p
        )
    }
}
