//! The decoder registry and the stage that runs it.

use crate::record::{hex, printable_runs, Finding, Record};
use crate::shellcode::{self, ShellcodeWork};
use crate::text;
use crate::xorstr::{self, HostCheck, Transform};

/// One input of the stage: a specimen segment or a payload (or the part
/// of one the registry kept, see [`Limits::max_entropy`]).
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Name in the record (`.data`, `overlay`, `unpacked`, `payload`).
    pub name: &'a str,
    /// The bytes.
    pub bytes: &'a [u8],
    /// Whether the input is mapped memory of an image (stored keys of
    /// XOR decoders are looked for in mapped inputs only).
    pub mapped: bool,
    /// Offset of `bytes` in the region `name` (record offsets add it).
    pub base: usize,
    /// Index of the caller's input this one was cut from.
    pub orig: usize,
}

impl<'a> Input<'a> {
    /// A whole region.
    pub fn new(name: &'a str, bytes: &'a [u8], mapped: bool) -> Input<'a> {
        Input {
            name,
            bytes,
            mapped,
            base: 0,
            orig: 0,
        }
    }
}

/// Bytes per block whose entropy decides whether it is decoded.
pub const ENTROPY_BLOCK: usize = 4096;

/// Shannon entropy of `b` in bits per byte: `log2 n − Σ c·log2 c / n`
/// over the byte counts `c` (`c·log2 c` from a table for blocks up to
/// [`ENTROPY_BLOCK`] bytes).
pub fn entropy(b: &[u8]) -> f64 {
    static CLOG: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let clog = CLOG.get_or_init(|| {
        (0..=ENTROPY_BLOCK)
            .map(|c| {
                if c == 0 {
                    0.0
                } else {
                    c as f64 * (c as f64).log2()
                }
            })
            .collect()
    });
    // Four tables: consecutive equal bytes do not wait on one counter.
    let mut h = [[0u32; 256]; 4];
    let mut chunks = b.chunks_exact(4);
    for q in &mut chunks {
        h[0][q[0] as usize] += 1;
        h[1][q[1] as usize] += 1;
        h[2][q[2] as usize] += 1;
        h[3][q[3] as usize] += 1;
    }
    for &x in chunks.remainder() {
        h[0][x as usize] += 1;
    }
    if b.is_empty() {
        return 0.0;
    }
    let n = b.len() as f64;
    let sum: f64 = (0..256)
        .map(|v| {
            let c = (h[0][v] + h[1][v] + h[2][v] + h[3][v]) as usize;
            clog.get(c)
                .copied()
                .unwrap_or_else(|| c as f64 * (c as f64).log2())
        })
        .sum();
    n.log2() - sum / n
}

/// The parts of `inputs` worth decoding: runs of [`ENTROPY_BLOCK`]-byte
/// blocks whose entropy is at most `max` (compressed or encrypted data
/// holds no text a decoder could find), each with its `base` and `orig`.
pub fn live_parts<'a>(inputs: &[Input<'a>], max: Option<f64>) -> Vec<Input<'a>> {
    let mut out = Vec::new();
    for (o, inp) in inputs.iter().enumerate() {
        let Some(max) = max else {
            out.push(Input { orig: o, ..*inp });
            continue;
        };
        let mut start: Option<usize> = None;
        let blocks = inp.bytes.len().div_ceil(ENTROPY_BLOCK);
        for k in 0..=blocks {
            let keep = k < blocks && {
                let b =
                    &inp.bytes[k * ENTROPY_BLOCK..((k + 1) * ENTROPY_BLOCK).min(inp.bytes.len())];
                entropy(b) <= max
            };
            match (keep, start) {
                (true, None) => start = Some(k * ENTROPY_BLOCK),
                (false, Some(s)) => {
                    let e = (k * ENTROPY_BLOCK).min(inp.bytes.len());
                    out.push(Input {
                        bytes: &inp.bytes[s..e],
                        base: inp.base + s,
                        orig: o,
                        ..*inp
                    });
                    start = None;
                }
                _ => {}
            }
        }
    }
    out
}

/// How much work the stage may do: every decoder reads at most
/// `max_bytes` input bytes in all, and its findings are capped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Input bytes each decoder may read, all inputs together.
    pub max_bytes: usize,
    /// Input bytes the shellcode stub finder may read (it interprets
    /// instructions at its anchors, the costliest decoder a byte).
    pub max_shellcode_bytes: usize,
    /// Findings each decoder may add.
    pub max_findings: usize,
    /// Revealed strings kept per finding.
    pub max_revealed: usize,
    /// Blocks of [`ENTROPY_BLOCK`] bytes above this entropy (bits per
    /// byte) are not decoded; `None`: everything is.
    pub max_entropy: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 20,
            max_shellcode_bytes: shellcode::MAX_SCAN,
            max_findings: 16,
            max_revealed: 16,
            max_entropy: None,
        }
    }
}

/// What decoders write into while they run.
pub struct Sink<'h> {
    /// Findings of the decoder running now (the registry moves them
    /// into `done`).
    pub findings: Vec<Finding>,
    /// Findings of the decoders that ran before (a decoder may leave
    /// alone what an earlier one decoded).
    pub done: Vec<Finding>,
    /// XOR-family string decodings, `(transform, input index, anchor)`:
    /// the specimen's config extraction builds its encoded views from
    /// them instead of searching again.
    pub transforms: Vec<(Transform, usize, usize)>,
    /// Accepts a decoded host name (a C&C candidate).
    pub host_ok: HostCheck<'h>,
    /// The limits of this run.
    pub limits: Limits,
    /// XOR-family findings the caller already has (see
    /// [`Registry::run_with`]); `xor_strings` records them instead of
    /// searching.
    pub given: Option<Vec<Finding>>,
    cut_short: bool,
}

impl Sink<'_> {
    /// Whether the decoder running now may add another finding.
    pub fn room(&self) -> bool {
        self.findings.len() < self.limits.max_findings
    }

    /// Notes that the decoder running now stopped at the budget.
    pub fn cut_short(&mut self) {
        self.cut_short = true;
    }
}

/// A decoding the stage knows.
pub trait Decoder: Send + Sync {
    /// The name in the record.
    fn name(&self) -> &'static str;
    /// Decodes what it can of `inputs` into `sink`, reading at most
    /// `budget` bytes; returns the bytes it read.
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64;
}

/// The decoders a stage runs, in order.
pub struct Registry {
    decoders: Vec<Box<dyn Decoder>>,
}

/// The stage's output: the record and the XOR-family decodings found.
pub struct Output {
    /// The record.
    pub record: Record,
    /// XOR-family string decodings (see [`Sink::transforms`]).
    pub transforms: Vec<(Transform, usize, usize)>,
}

impl Registry {
    /// No decoders.
    pub fn empty() -> Registry {
        Registry {
            decoders: Vec::new(),
        }
    }

    /// Every decoder botscope knows: shellcode stubs, shellcode XOR
    /// guesses, XOR-family strings, base64, hex, ROT13, stack strings,
    /// UTF-16LE.
    pub fn standard() -> Registry {
        let mut r = Registry::empty();
        r.register(Box::new(ShellcodeStubs));
        r.register(Box::new(ShellcodeGuess));
        r.register(Box::new(XorStrings));
        r.register(Box::new(text::Base64));
        r.register(Box::new(text::Hex));
        r.register(Box::new(text::Rot13));
        r.register(Box::new(text::StackStrings));
        r.register(Box::new(text::Utf16));
        r
    }

    /// [`Registry::standard`], built once for the process.
    pub fn shared() -> &'static Registry {
        static R: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        R.get_or_init(Registry::standard)
    }

    /// Adds a decoder (it runs after those already registered).
    pub fn register(&mut self, d: Box<dyn Decoder>) {
        self.decoders.push(d);
    }

    /// The decoders' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.decoders.iter().map(|d| d.name()).collect()
    }

    /// Runs every decoder over `inputs` within `limits`.
    pub fn run(&self, inputs: &[Input], limits: Limits, host_ok: HostCheck) -> Output {
        self.run_with(inputs, limits, host_ok, None)
    }

    /// [`Registry::run`], with the XOR-family decodings the caller already
    /// searched for (`(transform, input index, anchor)`; an empty list: the
    /// caller decided no search was needed, and `xor_strings` is listed
    /// as cut short): `xor_strings` records them instead of searching.
    pub fn run_with(
        &self,
        inputs: &[Input],
        limits: Limits,
        host_ok: HostCheck,
        known: Option<&[(Transform, usize, usize)]>,
    ) -> Output {
        let given = known.map(|k| {
            k.iter()
                .filter_map(|(t, o, at)| {
                    let inp = inputs.get(*o)?;
                    Some(xor_finding(t, inp, *at, limits.max_revealed))
                })
                .collect()
        });
        let parts = live_parts(inputs, limits.max_entropy);
        let inputs = &parts[..];
        let mut record = Record::default();
        let mut sink = Sink {
            findings: Vec::new(),
            done: Vec::new(),
            transforms: Vec::new(),
            host_ok,
            limits,
            given,
            cut_short: false,
        };
        for d in &self.decoders {
            let budget = if d.name() == ShellcodeStubs.name() {
                limits.max_shellcode_bytes.min(limits.max_bytes)
            } else {
                limits.max_bytes
            };
            sink.cut_short = false;
            record.bytes_examined += d.run(inputs, budget, &mut sink);
            record.ran.push(d.name().to_string());
            if sink.cut_short {
                record.cut_short.push(d.name().to_string());
            }
            for mut f in std::mem::take(&mut sink.findings) {
                f.decoder = d.name().to_string();
                f.revealed.truncate(limits.max_revealed);
                sink.done.push(f);
            }
        }
        record.findings = sink.done;
        // Decodings are named by the caller's inputs and offsets.
        let transforms = sink
            .transforms
            .into_iter()
            .map(|(t, k, at)| (t, inputs[k].orig, inputs[k].base + at))
            .collect();
        Output { record, transforms }
    }
}

/// Inputs clipped to `budget` bytes in all: `(index, bytes)`; sets
/// `cut_short` when something was left out.
pub fn within<'a>(inputs: &[Input<'a>], budget: usize, sink: &mut Sink) -> Vec<(usize, &'a [u8])> {
    let mut left = budget;
    let mut out = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        let n = inp.bytes.len().min(left);
        if n < inp.bytes.len() {
            sink.cut_short();
        }
        if n > 0 {
            out.push((i, &inp.bytes[..n]));
        }
        left -= n;
    }
    out
}

/// A shellcode decoding's finding: the stretch `from..to` of the input
/// decoded into `body`.
fn shell_finding(
    kind: shellcode::DecoderKind,
    key: &[u8],
    inp: &Input,
    from: usize,
    to: usize,
    body: &[u8],
    sink: &Sink,
) -> Finding {
    Finding {
        method: kind.name().to_string(),
        key: Some(hex(key)),
        region: inp.name.to_string(),
        offset: inp.base + from,
        length: to.saturating_sub(from),
        revealed: printable_runs(body, 5, sink.limits.max_revealed),
        ..Finding::default()
    }
}

/// Decoder stubs run in the x86 interpreter.
struct ShellcodeStubs;

impl Decoder for ShellcodeStubs {
    fn name(&self) -> &'static str {
        "shellcode_stub"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        let mut work = ShellcodeWork::default();
        let mut read = 0;
        for (i, b) in within(inputs, budget, sink) {
            read += b.len() as u64;
            let room = sink.limits.max_findings - sink.findings.len().min(sink.limits.max_findings);
            for d in shellcode::find_decoders(b, &mut work, room.min(shellcode::MAX_FINDINGS)) {
                // The stretch runs from the stub to the end of its body.
                let end = d.body_start + d.body.len();
                let f = shell_finding(d.decoder, &d.key, &inputs[i], d.stub, end, &d.body, sink);
                sink.findings.push(f);
            }
        }
        read
    }
}

/// XOR keys guessed from known shellcode text and API-hash pushes.
struct ShellcodeGuess;

impl Decoder for ShellcodeGuess {
    fn name(&self) -> &'static str {
        "shellcode_xor_guess"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        let mut work = ShellcodeWork::default();
        let mut read = 0;
        for (i, b) in within(inputs, budget, sink) {
            read += b.len() as u64;
            let b = &b[..b.len().min(shellcode::MAX_SCAN)];
            // Stretches a stub already decoded are not guessed again.
            let covered: Vec<(usize, usize)> = sink
                .done
                .iter()
                .filter(|f| f.region == inputs[i].name && f.decoder == ShellcodeStubs.name())
                .filter(|f| f.offset >= inputs[i].base)
                .map(|f| {
                    (
                        f.offset - inputs[i].base,
                        f.offset - inputs[i].base + f.length,
                    )
                })
                .collect();
            for g in shellcode::guess::guess_keys(b, &covered, &mut work) {
                if !sink.room() {
                    break;
                }
                let end = g.start + g.body.len();
                let f = shell_finding(g.decoder, &g.key, &inputs[i], g.start, end, &g.body, sink);
                sink.findings.push(f);
            }
        }
        read
    }
}

/// XOR-family config strings found by known plaintext.
struct XorStrings;

/// Bytes decoded each side of an anchor for the revealed strings.
const XOR_WINDOW: usize = 1024;

impl Decoder for XorStrings {
    fn name(&self) -> &'static str {
        "xor_strings"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        if let Some(given) = sink.given.take() {
            if given.is_empty() {
                sink.cut_short();
            }
            sink.findings.extend(given);
            return 0;
        }
        let clipped = within(inputs, budget, sink);
        // Indices into `inputs` are kept: `segs[k]` is `inputs[k]` clipped.
        let segs: Vec<(&[u8], bool)> = inputs
            .iter()
            .enumerate()
            .map(|(i, inp)| {
                let b = clipped.iter().find(|c| c.0 == i).map_or(&[][..], |c| c.1);
                (b, inp.mapped)
            })
            .collect();
        let found = xorstr::find_in_segments(&segs, sink.host_ok);
        for (t, k, anchor) in &found {
            if !sink.room() {
                break;
            }
            let inp = Input {
                bytes: segs[*k].0,
                ..inputs[*k]
            };
            sink.findings
                .push(xor_finding(t, &inp, *anchor, sink.limits.max_revealed));
        }
        sink.transforms.extend(found);
        clipped.iter().map(|c| c.1.len() as u64).sum()
    }
}

/// The finding of XOR-family decoding `t` anchored at `anchor` of `inp`.
pub fn xor_finding(t: &Transform, inp: &Input, anchor: usize, max_revealed: usize) -> Finding {
    Finding {
        decoder: XorStrings.name().to_string(),
        method: t.label(),
        key: Some(match t {
            Transform::XorKey(k) => hex(k),
            Transform::Xor1(k) | Transform::Add(k) | Transform::Rol(k) => hex(&[*k]),
            Transform::Rolling(k) | Transform::Chained(k) => hex(&[*k]),
        }),
        region: inp.name.to_string(),
        offset: inp.base + anchor,
        length: 0,
        revealed: xor_revealed(inp.bytes, anchor, t, max_revealed),
        ..Finding::default()
    }
}

/// The strings a XOR-family decoding reveals within [`XOR_WINDOW`] of
/// its anchor: the whole window decoded for byte-wise decodings; for
/// per-string ones, each string starting at the anchor or after a
/// stored zero.
fn xor_revealed(raw: &[u8], anchor: usize, t: &Transform, max: usize) -> Vec<String> {
    let lo = anchor.saturating_sub(XOR_WINDOW);
    let hi = (anchor + XOR_WINDOW).min(raw.len());
    if !t.per_string() {
        let dec: Vec<u8> = raw[lo..hi].iter().map(|&b| t.decode(b, 0)).collect();
        return printable_runs(&dec, 5, max);
    }
    let mut out = Vec::new();
    let mut s = lo;
    while s < hi && out.len() < max {
        let start = s == anchor || (s > 0 && raw[s - 1] == 0 && raw[s] != 0);
        if start {
            if let Some(d) = xorstr::decode_string(raw, s, t) {
                if d.len() >= 4 && (t.zero_ok() || !raw[s..s + d.len()].contains(&0)) {
                    out.push(String::from_utf8_lossy(&d).into_owned());
                    s += d.len() + 1;
                    continue;
                }
            }
        }
        s += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_blocks() {
        assert_eq!(entropy(&[]), 0.0);
        assert_eq!(entropy(&[7; 4096]), 0.0);
        let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert!((entropy(&all) - 8.0).abs() < 1e-9);
        let two: Vec<u8> = [0u8, 1].iter().cycle().take(1001).copied().collect();
        // 501 zeros, 500 ones.
        let (p, q) = (501.0 / 1001.0f64, 500.0 / 1001.0f64);
        assert!((entropy(&two) - (-p * p.log2() - q * q.log2())).abs() < 1e-9);
    }
}
