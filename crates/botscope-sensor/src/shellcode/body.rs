//! What a (decoded or plain) shellcode body asks for: the socket address
//! it builds on the stack, whether it binds or connects (by the ror13
//! hashes it resolves), and any download command it carries as text.

use super::hashes::{role, HashRole};
use super::{ShellAction, ShellcodeWork, MAX_BODY};
use crate::instructions::find_text_instructions_with_work;
use std::net::Ipv4Addr;

/// At most this many actions are taken from one body.
pub const MAX_ACTIONS: usize = 8;
/// At most this many hashes, and as many sockaddrs, are looked at per
/// body (or plain payload).
const MAX_EVIDENCE: usize = 256;

/// A `sockaddr_in` pushed onto the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sockaddr {
    at: usize,
    end: usize,
    port: u16,
    /// The address pushed just before the port, if one was.
    addr: Option<Ipv4Addr>,
}

/// The pushes that build a `sockaddr_in` at `i`: `push 0xPPPP0002`
/// (`68 02 00 PH PL`: family 2, port in network order), or `push word
/// PORT` (`66 68 PH PL`) followed shortly by `push word 2` (`66 6a 02`)
/// or a push of a 16-bit register (`66 50`..`66 57`). A connect-back body
/// pushes the address first: `68 A B C D` right before.
fn sockaddr_at(b: &[u8], i: usize) -> Option<Sockaddr> {
    let port_at = |j: usize| u16::from_be_bytes([b[j], b[j + 1]]);
    let (port, end) = if b.get(i..i + 3) == Some(&[0x68, 0x02, 0x00]) && i + 5 <= b.len() {
        (port_at(i + 3), i + 5)
    } else if b.get(i..i + 2) == Some(&[0x66, 0x68]) && i + 4 <= b.len() {
        let tail = &b[i + 4..(i + 12).min(b.len())];
        let family = tail.windows(3).any(|w| w == [0x66, 0x6a, 0x02])
            || tail
                .windows(2)
                .any(|w| w[0] == 0x66 && (0x50..=0x57).contains(&w[1]));
        if !family {
            return None;
        }
        (port_at(i + 2), i + 4)
    } else {
        return None;
    };
    if port == 0 {
        return None;
    }
    let addr =
        (i >= 5 && b[i - 5] == 0x68).then(|| Ipv4Addr::new(b[i - 4], b[i - 3], b[i - 2], b[i - 1]));
    Some(Sockaddr {
        at: if addr.is_some() { i - 5 } else { i },
        end,
        port,
        addr,
    })
}

/// What [`analyse`] found, and where in the body.
#[derive(Clone, Debug, Default)]
pub(super) struct Analysis {
    pub actions: Vec<ShellAction>,
    /// First and one-past-last byte of the evidence (hashes, sockaddrs).
    pub span: Option<(usize, usize)>,
}

/// The actions of `body`. A bind or connect-back shell needs a sockaddr;
/// which one it is comes from the hashes (`bind`/`listen`/`accept` or
/// `connect`), else, when `need_hash` is false (a body a decoder stub
/// produced), from whether an address was pushed with the port. Plain
/// payload bytes (`need_hash`) need a hash: a sockaddr-like byte run
/// alone proves nothing there. Downloads come from the text search
/// (`with_text`).
pub(super) fn analyse(
    body: &[u8],
    need_hash: bool,
    with_text: bool,
    work: &mut ShellcodeWork,
) -> Analysis {
    let mut hashes: Vec<(usize, usize, HashRole)> = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..body.len() {
        if i + 4 <= body.len() && hashes.len() < MAX_EVIDENCE {
            let v = u32::from_le_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
            if let Some(r) = role(v) {
                // The evidence starts at the `push` when the hash is pushed.
                let at = if i >= 1 && body[i - 1] == 0x68 {
                    i - 1
                } else {
                    i
                };
                hashes.push((at, i + 4, r));
            }
        }
        if addrs.len() < MAX_EVIDENCE {
            if let Some(s) = sockaddr_at(body, i) {
                addrs.push(s);
            }
        }
    }
    work.bytes_scanned += body.len() as u64;
    let mut span: Option<(usize, usize)> = None;
    let mut widen = |a: usize, e: usize| {
        span = Some(span.map_or((a, e), |(x, y)| (x.min(a), y.max(e))));
    };
    let mut actions = Vec::new();
    for s in &addrs {
        // Only hashes within a body's length of the sockaddr count: in a
        // whole payload, a hash far away is not this shellcode's.
        let near: Vec<&(usize, usize, HashRole)> = hashes
            .iter()
            .filter(|h| h.0 < s.end + MAX_BODY && s.at < h.1 + MAX_BODY)
            .collect();
        let listens = near.iter().any(|h| h.2 == HashRole::Listens);
        let connects = near.iter().any(|h| h.2 == HashRole::Connects);
        if need_hash && !listens && !connects {
            continue;
        }
        let action = match s.addr.filter(|a| !a.is_unspecified()) {
            Some(addr) if connects || !listens => ShellAction::ConnectBack { addr, port: s.port },
            _ if listens || !connects => ShellAction::BindShell { port: s.port },
            _ => continue,
        };
        widen(s.at, s.end);
        for h in near {
            widen(h.0, h.1);
        }
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    let found = if with_text {
        let (found, text_work) = find_text_instructions_with_work(body);
        work.bytes_scanned += text_work.bytes_scanned;
        found
    } else {
        Vec::new()
    };
    for i in found {
        let a = ShellAction::Download(i);
        if !actions.contains(&a) {
            actions.push(a);
        }
    }
    actions.truncate(MAX_ACTIONS);
    Analysis { actions, span }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shellcode::hashes::{ACCEPT, BIND, CONNECT, LISTEN};

    fn push(h: u32) -> Vec<u8> {
        let mut v = vec![0x68];
        v.extend_from_slice(&h.to_le_bytes());
        v
    }

    #[test]
    fn bind_shell_port_from_push_and_hashes() {
        let mut b = vec![0x31, 0xdb, 0x53];
        b.extend_from_slice(&[0x68, 0x02, 0x00, 0x11, 0x5c]); // port 4444
        for h in [BIND, LISTEN, ACCEPT] {
            b.extend(push(h));
        }
        let a = analyse(&b, true, true, &mut ShellcodeWork::default());
        assert_eq!(a.actions, vec![ShellAction::BindShell { port: 4444 }]);
        assert_eq!(a.span, Some((3, b.len())));
    }

    #[test]
    fn connect_back_from_word_pushes() {
        let mut b = vec![0x68, 10, 1, 2, 3, 0x66, 0x68, 0x1f, 0x90, 0x66, 0x6a, 0x02];
        b.extend(push(CONNECT));
        let a = analyse(&b, true, true, &mut ShellcodeWork::default());
        assert_eq!(
            a.actions,
            vec![ShellAction::ConnectBack {
                addr: Ipv4Addr::new(10, 1, 2, 3),
                port: 8080
            }]
        );
        // Without a hash, plain bytes are not trusted; decoded ones are.
        let b = &b[..12];
        assert!(analyse(b, true, true, &mut ShellcodeWork::default())
            .actions
            .is_empty());
        assert_eq!(
            analyse(b, false, true, &mut ShellcodeWork::default())
                .actions
                .len(),
            1
        );
    }
}
