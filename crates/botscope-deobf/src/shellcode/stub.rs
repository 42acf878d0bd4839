//! Finding decoder stubs and running them.
//!
//! A decoder stub has to learn where it is (GetPC) before it can decode
//! the body that follows it. The era's stubs did that one of three ways:
//! `call` to the next instruction (or just past data) then `pop reg`; the
//! `jmp short` forward to a `call` back, whose return address is the body;
//! or an x87 instruction followed by `fnstenv [esp-0xc]`, which leaves the
//! x87 instruction's address on the stack. Those byte patterns are the
//! anchors. For each anchor the stub's set-up (the counter, the key) may
//! come just before it, so the run starts at the earliest point, at most
//! [`STUB_BACK`] bytes back, from which straight-line decoding reaches the
//! anchor through register-only instructions, and the stub is then run in
//! the interpreter ([`super::cpu`]) on a copy of the payload until it
//! jumps into what it decoded.

use super::cpu::{insn_len, Cpu, Stop, Traced, WriteOp, BASE};
use super::{DecoderKind, ShellcodeWork, MAX_BODY};

/// How far before a GetPC anchor the stub's set-up is looked for.
pub const STUB_BACK: usize = 32;
/// How far a GetPC `call` may reach (either way).
pub const STUB_WINDOW: usize = 512;
/// Instructions a run may execute before its first write into the
/// payload: a stub that has not started decoding by then is not one.
pub const PREFIX_STEPS: u64 = 96;
/// Instructions one decode loop may execute (16 per body byte).
pub const DECODE_STEPS: u64 = 16 * MAX_BODY as u64;
/// The decode budget per payload byte: decoding (instructions run after
/// a run's first write, plus the bytes of the copy it writes to) may cost
/// this much per payload byte, plus [`DECODE_BUDGET_BASE`]. A run may
/// start decoding only while budget is left. Decoy stubs that run away
/// (a counter never set) each spend at most one body's worth, so about a
/// thousand of them in a megabyte are needed to hide a real one, instead
/// of a fixed handful.
pub const DECODE_BUDGET_PER_BYTE: u64 = 32;
/// The part of the decode budget every payload gets: four full decodes.
pub const DECODE_BUDGET_BASE: u64 = 4 * (DECODE_STEPS + WINDOW as u64);
/// Largest window a run reads (and copies when it writes).
const WINDOW: usize = STUB_BACK + 2 * STUB_WINDOW + MAX_BODY;
/// A decoded body is at least this long.
pub const MIN_BODY: usize = 16;
/// Backward jumps allowed before the first write into the payload.
pub const MAX_BACK_JUMPS: u32 = 4;
/// Instructions remembered per run for the stub-start analysis.
const TRACE_CAP: usize = STUB_BACK + PREFIX_STEPS as usize;

/// A stub that ran and decoded a body.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// Payload offset of the stub's first useful instruction.
    pub stub: usize,
    /// Payload offset of the decoded body.
    pub body_start: usize,
    /// The body as the stub left it.
    pub body: Vec<u8>,
    /// How the body was encoded.
    pub decoder: DecoderKind,
    /// The key the stub used, in the order the body's bytes meet it.
    pub key: Vec<u8>,
}

/// Where execution of a stub around a GetPC pattern at `i` must pass.
fn anchor_at(p: &[u8], i: usize) -> Option<usize> {
    match p[i] {
        0xe8 if i + 5 <= p.len() => {
            let rel = i32::from_le_bytes([p[i + 1], p[i + 2], p[i + 3], p[i + 4]]);
            if rel.unsigned_abs() as usize > STUB_WINDOW {
                return None;
            }
            let target = (i + 5).checked_add_signed(rel as isize)?;
            if target >= p.len() {
                return None;
            }
            if rel < -5 {
                // `jmp short` to this call-back: the stub starts there.
                let from = target.saturating_sub(16);
                if let Some(j) = (from..target).find(|&j| {
                    p[j] == 0xeb && (j + 2).checked_add_signed(p[j + 1] as i8 as isize) == Some(i)
                }) {
                    return Some(j);
                }
            }
            Some(i)
        }
        0xd9 if i + 1 < p.len() => {
            let m = p[i + 1];
            ((m >> 3) & 7 == 6 && m >> 6 != 3).then_some(i)
        }
        _ => None,
    }
}

/// Bits for "this offset already ran as part of some stub's set-up".
struct Seen(Vec<u64>);

impl Seen {
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
}

/// Finds and runs decoder stubs in `p`, at most `max`, in payload order.
pub fn find_decoders(p: &[u8], work: &mut ShellcodeWork, max: usize) -> Vec<Decoded> {
    let mut out = Vec::new();
    let mut seen = Seen(vec![0; p.len() / 64 + 1]);
    let mut resume = 0;
    let mut budget = DECODE_BUDGET_PER_BYTE * p.len() as u64 + DECODE_BUDGET_BASE;
    for i in 0..p.len() {
        work.bytes_scanned += 1;
        if i < resume {
            continue;
        }
        let Some(anchor) = anchor_at(p, i) else {
            continue;
        };
        if anchor < resume || seen.get(anchor) {
            continue;
        }
        let earliest = earliest_start(p, anchor, work);
        let mut got = run(p, earliest, anchor, &mut budget, &mut seen, work);
        if got.is_none() && earliest != anchor && !seen.get(anchor) {
            // The set-up before the anchor jumped away: try the anchor
            // alone (a run that passed through it would do the same).
            got = run(p, anchor, anchor, &mut budget, &mut seen, work);
        }
        if let Some(d) = got {
            resume = d.body_start + d.body.len();
            out.push(d);
        }
        if out.len() >= max {
            break;
        }
    }
    out
}

/// The earliest offset, at most [`STUB_BACK`] before `anchor`, from which
/// straight-line decoding of register-only instructions lands exactly on
/// `anchor`.
fn earliest_start(p: &[u8], anchor: usize, work: &mut ShellcodeWork) -> usize {
    let lo = anchor.saturating_sub(STUB_BACK);
    let mut reach = [false; STUB_BACK + 1];
    reach[anchor - lo] = true;
    let mut earliest = anchor;
    for s in (lo..anchor).rev() {
        work.bytes_scanned += 1;
        let end = (s + 16).min(p.len());
        if let Some((len, true)) = insn_len(&p[s..end]) {
            if s + len <= anchor && reach[s + len - lo] {
                reach[s - lo] = true;
                earliest = s;
            }
        }
    }
    earliest
}

/// Runs the stub from `start`; the decoded body if it decoded one and
/// then jumped into it (or ran on into code this interpreter does not
/// know, having decoded it).
fn run(
    p: &[u8],
    start: usize,
    anchor: usize,
    budget: &mut u64,
    seen: &mut Seen,
    work: &mut ShellcodeWork,
) -> Option<Decoded> {
    let lo = start.saturating_sub(STUB_WINDOW);
    let hi = (anchor + STUB_WINDOW + MAX_BODY).min(p.len());
    let copy_cost = (hi - lo) as u64;
    let may_write = *budget > copy_cost;
    // The decode loop's allowance: what is left of the budget after the
    // copy, at most one body's worth.
    let loop_steps = budget.saturating_sub(copy_cost).min(DECODE_STEPS);
    let mut cpu = Cpu::new(p, lo, hi, start, may_write, MAX_BODY, TRACE_CAP);
    let mut first_write_step = 0;
    let (mut last_eip, mut back_jumps) = (0u32, 0);
    // Offsets of the instructions the stub ran (not counting the body).
    let mut code: Option<(usize, usize)> = None;
    let stop = loop {
        match cpu.written {
            None => {
                if cpu.steps >= PREFIX_STEPS {
                    break None;
                }
                if let Some(off) = cpu.eip_offset() {
                    seen.set(off);
                }
                if cpu.eip <= last_eip {
                    // GetPC jumps back once or twice; more, before any
                    // decoding, is a loop that is not a decoder.
                    back_jumps += 1;
                    if back_jumps > MAX_BACK_JUMPS {
                        break None;
                    }
                }
                last_eip = cpu.eip;
            }
            Some((a, b)) => {
                if first_write_step == 0 {
                    first_write_step = cpu.steps;
                }
                if cpu.steps - first_write_step >= loop_steps {
                    break None;
                }
                let at = cpu.eip.wrapping_sub(BASE) as usize;
                if b + 1 - a >= MIN_BODY && (a..=b).contains(&at) {
                    break Some(None);
                }
            }
        }
        let at = cpu.eip.wrapping_sub(BASE) as usize;
        if let Err(e) = cpu.step() {
            break Some(Some(e));
        }
        code = Some(code.map_or((at, at), |(x, y)| (x.min(at), y.max(at))));
    };
    work.steps += cpu.steps;
    if cpu.written.is_some() {
        let spent = copy_cost + cpu.steps - first_write_step;
        *budget = budget.saturating_sub(spent);
        work.decodes += 1;
        work.bytes_scanned += copy_cost;
    }
    let stop = stop?;
    if !matches!(stop, None | Some(Stop::Unsupported) | Some(Stop::ReadFault)) {
        return None;
    }
    let (a, b) = cpu.written?;
    if b + 1 - a < MIN_BODY {
        return None;
    }
    let (c0, c1) = code?;
    // A decoder decodes what it has not run: a run that rewrote its own
    // instructions is self-modifying junk, not a stub and a body. One
    // that stopped on an instruction it could not run must have left the
    // stub for it.
    let stopped_at = cpu.eip.wrapping_sub(BASE) as usize;
    if a <= c1 && c0 <= b || stop.is_some() && (c0..=c1).contains(&stopped_at) {
        return None;
    }
    let body = cpu.bytes(a, b + 1).to_vec();
    let orig = &p[a..=b];
    if body == orig {
        return None;
    }
    let (decoder, key) = classify(orig, &body, cpu.first_write);
    work.bytes_scanned += 4 * body.len() as u64;
    Some(Decoded {
        stub: stub_start(&cpu.trace, anchor),
        body_start: a,
        body,
        decoder,
        key,
    })
}

/// The first instruction before the anchor that matters: one with an
/// effect (memory, stack, a jump, x87) or whose result a later
/// instruction reads before it is overwritten. NOP sleds and filler that
/// happens to decode as `inc ecx` are not part of the stub.
fn stub_start(trace: &[Traced], anchor: usize) -> usize {
    let Some(k) = trace.iter().position(|t| t.off == anchor) else {
        return anchor;
    };
    let mut live: u16 = 0;
    let mut first = anchor;
    for (j, t) in trace.iter().enumerate().rev() {
        let useful = j >= k || t.effect || (t.writes | t.partial) & live != 0;
        if useful {
            live = (live & !t.writes) | t.reads;
            if j < k {
                first = t.off;
            }
        }
    }
    first
}

/// Names the decoder by comparing the body before and after: the same
/// byte XORed everywhere, a 4-byte XOR key, a constant byte or dword
/// added, or (the stub's write being an XOR) a key that changed as it
/// went (rolling). `key` is what the body was encoded with, in the order
/// the body's bytes meet it.
pub(super) fn classify(
    orig: &[u8],
    dec: &[u8],
    first_write: Option<(WriteOp, u8)>,
) -> (DecoderKind, Vec<u8>) {
    let (op, width) = first_write.unwrap_or((WriteOp::Store, 1));
    let x: Vec<u8> = orig.iter().zip(dec).map(|(a, b)| a ^ b).collect();
    if x.iter().all(|&v| v == x[0]) {
        return (DecoderKind::XorByte, vec![x[0]]);
    }
    if x.len() >= 8 && x.iter().enumerate().all(|(i, &v)| v == x[i % 4]) {
        return (DecoderKind::XorDword, x[..4].to_vec());
    }
    let d: Vec<u8> = orig
        .iter()
        .zip(dec)
        .map(|(a, b)| b.wrapping_sub(*a))
        .collect();
    if d.iter().all(|&v| v == d[0]) {
        return if op == WriteOp::Sub {
            (DecoderKind::SubByte, vec![d[0].wrapping_neg()])
        } else {
            (DecoderKind::AddByte, vec![d[0]])
        };
    }
    let dwords = orig.len() / 4;
    if dwords >= 2 {
        let word = |s: &[u8], i: usize| {
            u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]])
        };
        let diff = |i| word(dec, i).wrapping_sub(word(orig, i));
        let d0 = diff(0);
        if (1..dwords).all(|i| diff(i) == d0) {
            return if op == WriteOp::Sub {
                (
                    DecoderKind::SubDword,
                    d0.wrapping_neg().to_le_bytes().to_vec(),
                )
            } else {
                (DecoderKind::AddDword, d0.to_le_bytes().to_vec())
            };
        }
    }
    let kind = if op == WriteOp::Xor {
        DecoderKind::XorRolling
    } else {
        DecoderKind::Custom
    };
    (
        kind,
        x[..(width as usize).clamp(1, 4).min(x.len())].to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shellcode::cpu::FLAGS_BIT;

    #[test]
    fn classify_names_each_encoding() {
        let plain: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
        let sub_dword: Vec<u8> = plain
            .chunks(4)
            .flat_map(|c| {
                let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                v.wrapping_add(0x0102_03f4).to_le_bytes()
            })
            .collect();
        // The stub subtracted 0x010203f4 from every dword.
        assert_eq!(
            classify(&sub_dword, &plain, Some((WriteOp::Sub, 4))),
            (DecoderKind::SubDword, vec![0xf4, 0x03, 0x02, 0x01])
        );
        let add8: Vec<u8> = plain.iter().map(|b| b.wrapping_sub(7)).collect();
        assert_eq!(
            classify(&add8, &plain, Some((WriteOp::Add, 1))),
            (DecoderKind::AddByte, vec![7])
        );
        // A key stream with no pattern, written by a store: custom.
        let odd: Vec<u8> = plain
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ (i as u8).wrapping_mul(i as u8).wrapping_add(1))
            .collect();
        assert_eq!(
            classify(&odd, &plain, Some((WriteOp::Store, 1))).0,
            DecoderKind::Custom
        );
    }

    #[test]
    fn stub_start_skips_filler() {
        let t = |off, reads, writes, partial, effect| Traced {
            off,
            reads,
            writes,
            partial,
            effect,
        };
        // nop; inc ecx (filler); xor ecx,ecx; mov cl, N; anchor: call;
        // then a loop reading ecx.
        let mut trace = vec![
            t(0, 0, 0, 0, false),
            t(1, 0b10, 0b10 | FLAGS_BIT, 0, false),
            t(2, 0, 0b10 | FLAGS_BIT, 0, false),
            t(4, 0b10, 0, 0b10, false),
            t(6, 0, 0, 0, true),
            t(11, 0b10, 0b10, 0, false),
        ];
        assert_eq!(stub_start(&trace, 6), 2);
        // Nops before `mov cl, N` (a partial write): it starts the stub.
        trace[1] = t(1, 0, 0, 0, false);
        trace[2] = t(2, 0, 0, 0, false);
        assert_eq!(stub_start(&trace, 6), 4);
    }
}
