//! Shellcode in exploit payloads, found and decoded as Nepenthes'
//! shellcode handlers did (the stubs, the interpreter and the key
//! guessing live in `botscope_deobf::shellcode`, shared with specimen
//! analysis; this module reads what the decoded bodies ask for).
//!
//! Worm and bot exploits of 2003–2006 carried an encoded body behind a
//! small decoder stub: GetPC (`call`/`pop`, `jmp`/`call` back, or
//! `fnstenv [esp-0xc]`), a counter, and a loop XORing (or adding) a key
//! into each byte or dword. The body opened a bind shell, connected back
//! to the attacker, or ran a download command. This module finds the
//! stubs (`botscope_deobf::shellcode::stub`), runs them in a small x86 interpreter on a copy of the
//! payload (its `cpu`: nothing is ever executed on the host), and reads
//! the decoded body ([`body`]): the sockaddr it pushes, the ror13 API
//! hashes it resolves ([`hashes`]), and any download command it carries.
//! When no stub is recognised, keys are guessed from known plaintext
//! ([`plaintext`]). Plain (unencoded) bodies are read too.
//!
//! Everything is bounded: at most [`MAX_SCAN`] bytes are searched, each
//! GetPC anchor costs at most two runs of [`PREFIX_STEPS`] instructions
//! before it decodes, decoding is paid from a budget linear in the
//! payload ([`DECODE_BUDGET_PER_BYTE`], each body at most [`MAX_BODY`]
//! bytes), and at most [`MAX_FINDINGS`] findings are returned: the work
//! is linear in the payload ([`find_shellcode_with_work`]).

mod body;
mod plaintext;

pub use botscope_deobf::shellcode::hashes;
pub use botscope_deobf::shellcode::{
    DecoderKind, ShellcodeWork, DECODE_BUDGET_BASE, DECODE_BUDGET_PER_BYTE, DECODE_STEPS, MAX_BODY,
    MAX_FINDINGS, MAX_SCAN, MIN_BODY, PREFIX_STEPS, STUB_BACK, STUB_WINDOW,
};

use crate::instructions::DownloadInstruction;
use botscope_deobf::shellcode::stub;
use std::net::Ipv4Addr;

/// What a decoded (or plain) shellcode body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellAction {
    /// Opens a listening shell on this TCP port (bind shell).
    BindShell {
        /// Port, host order.
        port: u16,
    },
    /// Connects back to this address and port and serves a shell there.
    ConnectBack {
        /// Address pushed with the port.
        addr: Ipv4Addr,
        /// Port, host order.
        port: u16,
    },
    /// A download the body carries as text (URL, tftp/ftp command): what
    /// [`crate::instructions::find_instructions`] finds in the decoded body.
    Download(DownloadInstruction),
}

/// One shellcode found in a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellcodeFinding {
    /// Where the decoder stub (or plain body) starts in the payload.
    pub offset: usize,
    /// How the body was encoded.
    pub decoder: DecoderKind,
    /// The key the stub used (empty for [`DecoderKind::Plain`]).
    pub key: Vec<u8>,
    /// Length of the decoded body.
    pub body_len: usize,
    /// What the body asks for (possibly nothing recognised).
    pub actions: Vec<ShellAction>,
}

/// Every shellcode found in `payload`, decoded ones first in payload
/// order, then key guesses, then a plain body (at most
/// [`MAX_FINDINGS`]).
pub fn find_shellcode(payload: &[u8]) -> Vec<ShellcodeFinding> {
    find_shellcode_with_work(payload).0
}

/// [`find_shellcode`], also saying how much work it did.
pub fn find_shellcode_with_work(payload: &[u8]) -> (Vec<ShellcodeFinding>, ShellcodeWork) {
    let payload = &payload[..payload.len().min(MAX_SCAN)];
    let mut work = ShellcodeWork::default();
    let mut found = Vec::new();
    let mut covered = Vec::new();
    for d in stub::find_decoders(payload, &mut work, MAX_FINDINGS) {
        let a = body::analyse(&d.body, false, true, &mut work);
        covered.push((d.stub.min(d.body_start), d.body_start + d.body.len()));
        found.push(ShellcodeFinding {
            offset: d.stub,
            decoder: d.decoder,
            key: d.key,
            body_len: d.body.len(),
            actions: a.actions,
        });
    }
    if found.len() < MAX_FINDINGS {
        for g in plaintext::guess(payload, &covered, &mut work) {
            if found.len() == MAX_FINDINGS {
                break;
            }
            found.push(g);
        }
    }
    if found.len() < MAX_FINDINGS {
        let a = body::analyse(payload, true, false, &mut work);
        let shells: Vec<ShellAction> = a
            .actions
            .into_iter()
            .filter(|a| !matches!(a, ShellAction::Download(_)))
            .collect();
        if let (false, Some((from, to))) = (shells.is_empty(), a.span) {
            found.push(ShellcodeFinding {
                offset: from,
                decoder: DecoderKind::Plain,
                key: Vec::new(),
                body_len: (to - from).min(MAX_BODY),
                actions: shells,
            });
        }
    }
    (found, work)
}

/// The download instructions in the decoded bodies of `payload`'s
/// shellcode (each once), with the work done.
pub(crate) fn shellcode_downloads(payload: &[u8]) -> (Vec<DownloadInstruction>, ShellcodeWork) {
    let (found, work) = find_shellcode_with_work(payload);
    let mut out = Vec::new();
    for a in found.into_iter().flat_map(|f| f.actions) {
        if let ShellAction::Download(i) = a {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    (out, work)
}
