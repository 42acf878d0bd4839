//! A tiny 32-bit x86 interpreter for decoder stubs: just the instructions
//! the XOR/ADD decoders of 2003–2006 shellcode use (register arithmetic,
//! push/pop, call/jmp/jcc/loop, lods/stos, the x87 `fnstenv` GetPC trick).
//!
//! The payload is mapped at [`BASE`] (payload offset `i` at `BASE + i`),
//! readable inside a window around the stub; writes go to a copy made on
//! the first write, so a stub decodes its body for real and nothing else
//! is touched. A small stack lives at [`STACK_BASE`]. Anything outside
//! those, or any instruction not listed here, stops the run: this is a
//! decoder finder, not an emulator of Windows. Shellcode is never executed
//! on the host.

/// Virtual address of payload offset 0.
pub(crate) const BASE: u32 = 0x0040_0000;
/// Lowest address of the emulated stack.
const STACK_BASE: u32 = 0x0012_0000;
/// Size of the emulated stack.
const STACK_SIZE: usize = 4096;
/// Where `esp` starts: room above it for `fnstenv [esp-0xc]` and for pops
/// of values the stub never pushed.
const STACK_START: u32 = STACK_BASE + 3072;

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// An instruction this interpreter does not know.
    Unsupported,
    /// A read outside the window or the stack.
    ReadFault,
    /// A write outside the window or the stack.
    WriteFault,
    /// The first write into the payload was not allowed (decode budget).
    NoWrite,
    /// The written span grew past the body cap.
    BodyCap,
}

/// How an instruction wrote into the payload copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteOp {
    /// `xor [mem], x`.
    Xor,
    /// `add [mem], x` (or `adc`).
    Add,
    /// `sub [mem], x` (or `sbb`).
    Sub,
    /// A store (`mov`, `stos`, anything else).
    Store,
}

/// One executed instruction, as the stub-start analysis needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Traced {
    /// Payload offset of the instruction.
    pub off: usize,
    /// Registers read (bit r; bit 8: flags).
    pub reads: u16,
    /// Registers wholly overwritten.
    pub writes: u16,
    /// Registers partly overwritten (a byte or word of them).
    pub partial: u16,
    /// Memory, stack, control flow or x87 state touched.
    pub effect: bool,
}

pub(crate) const FLAGS_BIT: u16 = 1 << 8;
const ESP: usize = 4;

/// Interpreter state over one payload window.
pub(crate) struct Cpu<'a> {
    payload: &'a [u8],
    /// Readable payload window `[lo, hi)`.
    lo: usize,
    hi: usize,
    /// Copy of `payload[lo..hi]`, made on the first write.
    copy: Option<Vec<u8>>,
    allow_copy: bool,
    max_body: usize,
    stack: Vec<u8>,
    pub regs: [u32; 8],
    pub eip: u32,
    cf: bool,
    zf: bool,
    sf: bool,
    of: bool,
    pf: bool,
    df: bool,
    fpu_ip: u32,
    /// Payload offsets written: lowest, highest (inclusive), bytes.
    pub written: Option<(usize, usize)>,
    pub write_count: usize,
    /// The first write into the payload: its kind and width.
    pub first_write: Option<(WriteOp, u8)>,
    /// Instructions executed.
    pub steps: u64,
    /// The first `trace_cap` executed instructions.
    pub trace: Vec<Traced>,
    trace_cap: usize,
    cur: Traced,
}

/// Operand location: a register (index, width) or a memory address.
#[derive(Clone, Copy)]
enum Loc {
    Reg(u8),
    Mem(u32),
}

type R<T> = Result<T, Stop>;

fn mask(w: u8) -> u32 {
    match w {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xffff_ffff,
    }
}

fn sign(w: u8) -> u32 {
    match w {
        1 => 0x80,
        2 => 0x8000,
        _ => 0x8000_0000,
    }
}

impl<'a> Cpu<'a> {
    /// A CPU about to run at payload offset `start`, able to read
    /// `payload[lo..hi]`; `allow_copy` says whether it may write into the
    /// payload at all (the caller's decode budget), `max_body` caps the
    /// written span.
    pub fn new(
        payload: &'a [u8],
        lo: usize,
        hi: usize,
        start: usize,
        allow_copy: bool,
        max_body: usize,
        trace_cap: usize,
    ) -> Cpu<'a> {
        let mut regs = [0u32; 8];
        regs[ESP] = STACK_START;
        Cpu {
            payload,
            lo,
            hi: hi.min(payload.len()),
            copy: None,
            allow_copy,
            max_body,
            stack: vec![0; STACK_SIZE],
            regs,
            eip: BASE.wrapping_add(start as u32),
            cf: false,
            zf: false,
            sf: false,
            of: false,
            pf: false,
            df: false,
            fpu_ip: 0,
            written: None,
            write_count: 0,
            first_write: None,
            steps: 0,
            trace: Vec::new(),
            trace_cap,
            cur: Traced {
                off: 0,
                reads: 0,
                writes: 0,
                partial: 0,
                effect: false,
            },
        }
    }

    /// The payload offset `eip` points at, if inside the window.
    pub fn eip_offset(&self) -> Option<usize> {
        let off = self.eip.wrapping_sub(BASE) as usize;
        (self.lo..self.hi).contains(&off).then_some(off)
    }

    /// The decoded bytes of `payload[range]` (the copy where written).
    pub fn bytes(&self, from: usize, to: usize) -> &[u8] {
        match &self.copy {
            Some(c) => &c[from - self.lo..to - self.lo],
            None => &self.payload[from..to],
        }
    }

    fn read8(&self, addr: u32) -> R<u8> {
        let off = addr.wrapping_sub(BASE) as usize;
        if (self.lo..self.hi).contains(&off) {
            return Ok(match &self.copy {
                Some(c) => c[off - self.lo],
                None => self.payload[off],
            });
        }
        let s = addr.wrapping_sub(STACK_BASE) as usize;
        self.stack.get(s).copied().ok_or(Stop::ReadFault)
    }

    fn read(&self, addr: u32, w: u8) -> R<u32> {
        let mut v = 0u32;
        for i in 0..w {
            v |= (self.read8(addr.wrapping_add(i as u32))? as u32) << (8 * i);
        }
        Ok(v)
    }

    fn write8(&mut self, addr: u32, v: u8) -> R<()> {
        let off = addr.wrapping_sub(BASE) as usize;
        if (self.lo..self.hi).contains(&off) {
            if self.copy.is_none() {
                if !self.allow_copy {
                    return Err(Stop::NoWrite);
                }
                self.copy = Some(self.payload[self.lo..self.hi].to_vec());
            }
            let (a, b) = match self.written {
                Some((a, b)) => (a.min(off), b.max(off)),
                None => (off, off),
            };
            if b - a >= self.max_body {
                return Err(Stop::BodyCap);
            }
            self.written = Some((a, b));
            if let Some(c) = self.copy.as_mut() {
                c[off - self.lo] = v;
            }
            return Ok(());
        }
        let s = addr.wrapping_sub(STACK_BASE) as usize;
        match self.stack.get_mut(s) {
            Some(b) => {
                *b = v;
                Ok(())
            }
            None => Err(Stop::WriteFault),
        }
    }

    fn in_payload(&self, addr: u32) -> bool {
        let off = addr.wrapping_sub(BASE) as usize;
        (self.lo..self.hi).contains(&off)
    }

    fn write(&mut self, addr: u32, w: u8, v: u32, op: WriteOp, _operand: u32) -> R<()> {
        if self.in_payload(addr) {
            if self.first_write.is_none() {
                self.first_write = Some((op, w));
            }
            self.write_count += 1;
        }
        for i in 0..w {
            self.write8(addr.wrapping_add(i as u32), (v >> (8 * i)) as u8)?;
        }
        self.cur.effect = true;
        Ok(())
    }

    fn fetch8(&mut self) -> R<u8> {
        let b = self.read8(self.eip)?;
        if !self.in_payload(self.eip) {
            // Code runs from the payload only, never from the stack.
            return Err(Stop::ReadFault);
        }
        self.eip = self.eip.wrapping_add(1);
        Ok(b)
    }

    fn fetch(&mut self, w: u8) -> R<u32> {
        let mut v = 0u32;
        for i in 0..w {
            v |= (self.fetch8()? as u32) << (8 * i);
        }
        Ok(v)
    }

    fn fetch_i8(&mut self) -> R<u32> {
        Ok(self.fetch8()? as i8 as i32 as u32)
    }

    fn get(&mut self, r: usize) -> u32 {
        self.cur.reads |= 1 << r;
        if r == ESP {
            self.cur.effect = true;
        }
        self.regs[r]
    }

    fn set(&mut self, r: usize, v: u32) {
        self.cur.writes |= 1 << r;
        if r == ESP {
            self.cur.effect = true;
        }
        self.regs[r] = v;
    }

    /// Register `r` of width `w` (for bytes: 0–3 low, 4–7 high bytes).
    fn get_w(&mut self, r: u8, w: u8) -> u32 {
        match w {
            1 if r >= 4 => (self.get(r as usize - 4) >> 8) & 0xff,
            1 => self.get(r as usize) & 0xff,
            2 => self.get(r as usize) & 0xffff,
            _ => self.get(r as usize),
        }
    }

    fn set_w(&mut self, r: u8, w: u8, v: u32) {
        match w {
            4 => self.set(r as usize, v),
            2 => {
                let old = self.get(r as usize);
                self.set(r as usize, (old & 0xffff_0000) | (v & 0xffff));
            }
            _ if r >= 4 => {
                let i = r as usize - 4;
                let old = self.get(i);
                self.set(i, (old & 0xffff_00ff) | ((v & 0xff) << 8));
            }
            _ => {
                let old = self.get(r as usize);
                self.set(r as usize, (old & 0xffff_ff00) | (v & 0xff));
            }
        }
        if w != 4 {
            // A partial write keeps the rest: the register was read too.
            let full = if w == 1 && r >= 4 { r - 4 } else { r };
            self.cur.writes &= !(1 << full);
            self.cur.partial |= 1 << full;
        }
    }

    fn load(&mut self, loc: Loc, w: u8) -> R<u32> {
        match loc {
            Loc::Reg(r) => Ok(self.get_w(r, w)),
            Loc::Mem(a) => {
                self.cur.effect = true;
                self.read(a, w)
            }
        }
    }

    fn store(&mut self, loc: Loc, w: u8, v: u32, op: WriteOp, operand: u32) -> R<()> {
        match loc {
            Loc::Reg(r) => {
                self.set_w(r, w, v);
                Ok(())
            }
            Loc::Mem(a) => self.write(a, w, v & mask(w), op, operand),
        }
    }

    /// Decodes a ModRM operand; returns the reg field and the r/m location.
    fn modrm(&mut self) -> R<(u8, Loc, u8)> {
        let m = self.fetch8()?;
        let (md, reg, rm) = (m >> 6, (m >> 3) & 7, m & 7);
        if md == 3 {
            return Ok((reg, Loc::Reg(rm), md));
        }
        let mut addr: u32;
        if rm == 4 {
            let sib = self.fetch8()?;
            let (scale, idx, base) = (sib >> 6, (sib >> 3) & 7, sib & 7);
            addr = if base == 5 && md == 0 {
                self.fetch(4)?
            } else {
                self.get(base as usize)
            };
            if idx != 4 {
                addr = addr.wrapping_add(self.get(idx as usize) << scale);
            }
        } else if rm == 5 && md == 0 {
            addr = self.fetch(4)?;
        } else {
            addr = self.get(rm as usize);
        }
        match md {
            1 => addr = addr.wrapping_add(self.fetch_i8()?),
            2 => addr = addr.wrapping_add(self.fetch(4)?),
            _ => {}
        }
        Ok((reg, Loc::Mem(addr), md))
    }

    fn set_szp(&mut self, r: u32, w: u8) {
        self.zf = r & mask(w) == 0;
        self.sf = r & sign(w) != 0;
        self.pf = (r as u8).count_ones().is_multiple_of(2);
        self.cur.writes |= FLAGS_BIT;
    }

    /// The eight group-1 operations; returns the result (for `cmp`, not
    /// written back).
    fn alu(&mut self, op: u8, a: u32, b: u32, w: u8) -> u32 {
        let (m, s) = (mask(w), sign(w));
        let (a, b) = (a & m, b & m);
        if op == 2 || op == 3 {
            self.cur.reads |= FLAGS_BIT;
        }
        let carry = self.cf as u32;
        let r = match op {
            0 | 2 => {
                let c = if op == 2 { carry } else { 0 };
                let wide = a as u64 + b as u64 + c as u64;
                let r = wide as u32 & m;
                self.cf = wide > m as u64;
                self.of = (a ^ r) & (b ^ r) & s != 0;
                r
            }
            3 | 5 | 7 => {
                let c = if op == 3 { carry } else { 0 };
                let r = a.wrapping_sub(b).wrapping_sub(c) & m;
                self.cf = (a as u64) < b as u64 + c as u64;
                self.of = (a ^ b) & (a ^ r) & s != 0;
                r
            }
            1 | 4 | 6 => {
                self.cf = false;
                self.of = false;
                match op {
                    1 => a | b,
                    4 => a & b,
                    _ => a ^ b,
                }
            }
            _ => unreachable!("group-1 operation index is 3 bits"),
        };
        self.set_szp(r, w);
        r
    }

    fn write_op(op: u8) -> WriteOp {
        match op {
            0 | 2 => WriteOp::Add,
            3 | 5 => WriteOp::Sub,
            6 => WriteOp::Xor,
            _ => WriteOp::Store,
        }
    }

    /// `op loc, b` for a group-1 operation, writing back unless `cmp`.
    fn alu_to(&mut self, op: u8, loc: Loc, b: u32, w: u8) -> R<()> {
        // `xor r, r` and `sub r, r` zero a register without reading it.
        let a = self.load(loc, w)?;
        let r = self.alu(op, a, b, w);
        if op != 7 {
            self.store(loc, w, r, Self::write_op(op), b)?;
        }
        Ok(())
    }

    fn cond(&mut self, cc: u8) -> bool {
        self.cur.reads |= FLAGS_BIT;
        let v = match cc >> 1 {
            0 => self.of,
            1 => self.cf,
            2 => self.zf,
            3 => self.cf || self.zf,
            4 => self.sf,
            5 => self.pf,
            6 => self.sf != self.of,
            _ => self.zf || self.sf != self.of,
        };
        v != (cc & 1 == 1)
    }

    fn push(&mut self, v: u32) -> R<()> {
        let sp = self.get(ESP).wrapping_sub(4);
        self.set(ESP, sp);
        self.write(sp, 4, v, WriteOp::Store, v)
    }

    fn pop(&mut self) -> R<u32> {
        let sp = self.get(ESP);
        let v = self.read(sp, 4)?;
        self.set(ESP, sp.wrapping_add(4));
        Ok(v)
    }

    fn jump(&mut self, target: u32) {
        self.cur.effect = true;
        self.eip = target;
    }

    /// Runs one instruction.
    pub fn step(&mut self) -> R<()> {
        self.cur = Traced {
            off: self.eip.wrapping_sub(BASE) as usize,
            reads: 0,
            writes: 0,
            partial: 0,
            effect: false,
        };
        self.steps += 1;
        let r = self.exec();
        if self.trace.len() < self.trace_cap {
            self.trace.push(self.cur);
        }
        r
    }

    fn exec(&mut self) -> R<()> {
        let here = self.eip;
        let mut op = self.fetch8()?;
        let mut w4: u8 = 4;
        while op == 0x66 || op == 0x9b {
            if op == 0x66 {
                w4 = 2;
            }
            op = self.fetch8()?;
        }
        match op {
            0x00..=0x3f if op & 7 < 6 => self.group1_forms(op, w4),
            0x40..=0x6a => self.regs_and_stack(op, w4),
            0x70..=0x7f | 0xc3 | 0xe0..=0xe3 | 0xe8 | 0xe9 | 0xeb => self.control(op),
            0x80..=0x8f => self.moves(op, w4),
            0xf6 | 0xf7 | 0xfe | 0xff => self.groups_3_to_5(op, w4),
            0x0f => self.two_byte(w4),
            0xd8..=0xdf => self.x87(op, here),
            _ => self.misc(op, w4),
        }
    }

    /// The six classic forms of the eight group-1 operations (00–3d).
    fn group1_forms(&mut self, op: u8, w4: u8) -> R<()> {
        match op {
            0x00..=0x3f if op & 7 < 6 => {
                let alu = op >> 3;
                let w = if op & 1 == 0 { 1 } else { w4 };
                match op & 7 {
                    0 | 1 => {
                        let (reg, loc, md) = self.modrm()?;
                        if md == 3
                            && matches!(loc, Loc::Reg(r) if r == reg)
                            && (alu == 5 || alu == 6)
                        {
                            self.store(loc, w, 0, WriteOp::Store, 0)?;
                            self.alu(6, 0, 0, w);
                            return Ok(());
                        }
                        let b = self.get_w(reg, w);
                        self.alu_to(alu, loc, b, w)
                    }
                    2 | 3 => {
                        let (reg, loc, md) = self.modrm()?;
                        if md == 3
                            && matches!(loc, Loc::Reg(r) if r == reg)
                            && (alu == 5 || alu == 6)
                        {
                            self.set_w(reg, w, 0);
                            self.alu(6, 0, 0, w);
                            return Ok(());
                        }
                        let b = self.load(loc, w)?;
                        self.alu_to(alu, Loc::Reg(reg), b, w)
                    }
                    4 => {
                        let b = self.fetch8()? as u32;
                        self.alu_to(alu, Loc::Reg(0), b, 1)
                    }
                    _ => {
                        let b = self.fetch(w4)?;
                        self.alu_to(alu, Loc::Reg(0), b, w4)
                    }
                }
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// inc/dec r32, push/pop r32, pusha/popa, push imm.
    fn regs_and_stack(&mut self, op: u8, w4: u8) -> R<()> {
        match op {
            0x40..=0x4f => {
                let r = op & 7;
                let v = self.get_w(r, w4);
                let cf = self.cf;
                let res = if op < 0x48 {
                    self.alu(0, v, 1, w4)
                } else {
                    self.alu(5, v, 1, w4)
                };
                self.cf = cf;
                self.set_w(r, w4, res);
                Ok(())
            }
            0x50..=0x57 => {
                let v = self.get((op & 7) as usize);
                self.push(v)
            }
            0x58..=0x5f => {
                let v = self.pop()?;
                self.set((op & 7) as usize, v);
                Ok(())
            }
            0x60 => {
                let sp = self.get(ESP);
                for r in 0..8 {
                    let v = if r == ESP { sp } else { self.get(r) };
                    self.push(v)?;
                }
                Ok(())
            }
            0x61 => {
                for r in (0..8).rev() {
                    let v = self.pop()?;
                    if r != ESP {
                        self.set(r, v);
                    }
                }
                Ok(())
            }
            0x68 => {
                let v = self.fetch(w4)?;
                self.push(v)
            }
            0x6a => {
                let v = self.fetch_i8()?;
                self.push(v)
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// Jumps, calls, `ret` and the `loop` family.
    fn control(&mut self, op: u8) -> R<()> {
        match op {
            0x70..=0x7f => {
                let d = self.fetch_i8()?;
                if self.cond(op & 0xf) {
                    self.jump(self.eip.wrapping_add(d));
                }
                Ok(())
            }
            0xc3 => {
                let t = self.pop()?;
                self.jump(t);
                Ok(())
            }
            0xe0..=0xe3 => {
                let d = self.fetch_i8()?;
                let c = self.get(1);
                let taken = if op == 0xe3 {
                    c == 0
                } else {
                    let c = c.wrapping_sub(1);
                    self.set(1, c);
                    match op {
                        0xe0 => c != 0 && !self.cond(4),
                        0xe1 => c != 0 && self.cond(4),
                        _ => c != 0,
                    }
                };
                if taken {
                    self.jump(self.eip.wrapping_add(d));
                }
                Ok(())
            }
            0xe8 => {
                let d = self.fetch(4)?;
                self.push(self.eip)?;
                self.jump(self.eip.wrapping_add(d));
                Ok(())
            }
            0xe9 => {
                let d = self.fetch(4)?;
                self.jump(self.eip.wrapping_add(d));
                Ok(())
            }
            0xeb => {
                let d = self.fetch_i8()?;
                self.jump(self.eip.wrapping_add(d));
                Ok(())
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// Group-1 with immediates (80–83), test, xchg, mov, lea, pop r/m.
    fn moves(&mut self, op: u8, w4: u8) -> R<()> {
        match op {
            0x80..=0x83 => {
                let w = if op == 0x81 || op == 0x83 { w4 } else { 1 };
                let (alu, loc, _) = self.modrm()?;
                let b = match op {
                    0x81 => self.fetch(w4)?,
                    0x83 => self.fetch_i8()?,
                    _ => self.fetch8()? as u32,
                };
                self.alu_to(alu, loc, b, w)
            }
            0x84 | 0x85 => {
                let w = if op == 0x84 { 1 } else { w4 };
                let (reg, loc, _) = self.modrm()?;
                let a = self.load(loc, w)?;
                let b = self.get_w(reg, w);
                self.alu(4, a, b, w);
                Ok(())
            }
            0x86 | 0x87 => {
                let w = if op == 0x86 { 1 } else { w4 };
                let (reg, loc, _) = self.modrm()?;
                let a = self.load(loc, w)?;
                let b = self.get_w(reg, w);
                self.store(loc, w, b, WriteOp::Store, b)?;
                self.set_w(reg, w, a);
                Ok(())
            }
            0x88..=0x8b => {
                let w = if op & 1 == 0 { 1 } else { w4 };
                let (reg, loc, _) = self.modrm()?;
                if op < 0x8a {
                    let v = self.get_w(reg, w);
                    self.store(loc, w, v, WriteOp::Store, v)
                } else {
                    let v = self.load(loc, w)?;
                    self.set_w(reg, w, v);
                    Ok(())
                }
            }
            0x8d => match self.modrm()? {
                (reg, Loc::Mem(a), _) => {
                    self.set_w(reg, w4, a);
                    Ok(())
                }
                _ => Err(Stop::Unsupported),
            },
            0x8f => {
                let v = self.pop()?;
                let (_, loc, _) = self.modrm()?;
                self.store(loc, w4, v, WriteOp::Store, v)
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// Groups 3 (test/not/neg), 4 and 5 (inc/dec r/m, call/jmp/push r/m).
    fn groups_3_to_5(&mut self, op: u8, w4: u8) -> R<()> {
        match op {
            0xf6 | 0xf7 => {
                let w = if op == 0xf6 { 1 } else { w4 };
                let (sub, loc, _) = self.modrm()?;
                let a = self.load(loc, w)?;
                match sub {
                    0 | 1 => {
                        let b = self.fetch(w)?;
                        self.alu(4, a, b, w);
                        Ok(())
                    }
                    2 => self.store(loc, w, !a, WriteOp::Store, 0),
                    3 => {
                        let r = self.alu(5, 0, a, w);
                        self.store(loc, w, r, WriteOp::Store, 0)
                    }
                    _ => Err(Stop::Unsupported),
                }
            }
            0xfe | 0xff => {
                let w = if op == 0xfe { 1 } else { w4 };
                let (sub, loc, _) = self.modrm()?;
                match sub {
                    0 | 1 => {
                        let a = self.load(loc, w)?;
                        let cf = self.cf;
                        let r = self.alu(if sub == 0 { 0 } else { 5 }, a, 1, w);
                        self.cf = cf;
                        let op = if sub == 0 { WriteOp::Add } else { WriteOp::Sub };
                        self.store(loc, w, r, op, 1)
                    }
                    2 | 4 if op == 0xff => {
                        let t = self.load(loc, 4)?;
                        if sub == 2 {
                            self.push(self.eip)?;
                        }
                        self.jump(t);
                        Ok(())
                    }
                    6 if op == 0xff => {
                        let v = self.load(loc, 4)?;
                        self.push(v)
                    }
                    _ => Err(Stop::Unsupported),
                }
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// The rest: nop, xchg eax, cwde/cdq, test al/eax, stos/lods, mov imm, shifts, mov r/m imm, flag bits.
    fn misc(&mut self, op: u8, w4: u8) -> R<()> {
        match op {
            0x90 => Ok(()),
            0x91..=0x97 => {
                let r = op & 7;
                let a = self.get_w(0, w4);
                let b = self.get_w(r, w4);
                self.set_w(0, w4, b);
                self.set_w(r, w4, a);
                Ok(())
            }
            0x98 => {
                let v = self.get(0) as u16 as i16 as i32 as u32;
                self.set(0, v);
                Ok(())
            }
            0x99 => {
                let v = if self.get(0) & 0x8000_0000 != 0 {
                    u32::MAX
                } else {
                    0
                };
                self.set(2, v);
                Ok(())
            }
            0xa8 | 0xa9 => {
                let w = if op == 0xa8 { 1 } else { w4 };
                let b = self.fetch(w)?;
                let a = self.get_w(0, w);
                self.alu(4, a, b, w);
                Ok(())
            }
            0xaa..=0xad => self.string_op(op, w4),
            0xb0..=0xb7 => {
                let v = self.fetch8()? as u32;
                self.set_w(op & 7, 1, v);
                Ok(())
            }
            0xb8..=0xbf => {
                let v = self.fetch(w4)?;
                self.set_w(op & 7, w4, v);
                Ok(())
            }
            0xc0 | 0xc1 | 0xd0..=0xd3 => {
                let w = if op & 1 == 0 { 1 } else { w4 };
                let (sh, loc, _) = self.modrm()?;
                let n = match op {
                    0xc0 | 0xc1 => self.fetch8()? as u32,
                    0xd0 | 0xd1 => 1,
                    _ => self.get_w(1, 1),
                };
                let a = self.load(loc, w)?;
                let r = self.shift(sh, a, n, w)?;
                self.store(loc, w, r, WriteOp::Store, n)
            }
            0xc6 | 0xc7 => {
                let w = if op == 0xc6 { 1 } else { w4 };
                let (_, loc, _) = self.modrm()?;
                let v = self.fetch(w)?;
                self.store(loc, w, v, WriteOp::Store, v)
            }
            0xf5 => {
                self.cf = !self.cf;
                Ok(())
            }
            0xf8 | 0xf9 => {
                self.cf = op == 0xf9;
                Ok(())
            }
            0xfc | 0xfd => {
                self.df = op == 0xfd;
                Ok(())
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// Two-byte opcodes: jcc rel32, movzx/movsx.
    fn two_byte(&mut self, w4: u8) -> R<()> {
        let op2 = self.fetch8()?;
        match op2 {
            0x80..=0x8f => {
                let d = self.fetch(4)?;
                if self.cond(op2 & 0xf) {
                    self.jump(self.eip.wrapping_add(d));
                }
                Ok(())
            }
            0xb6 | 0xb7 | 0xbe | 0xbf => {
                let w = if op2 & 1 == 0 { 1 } else { 2 };
                let (reg, loc, _) = self.modrm()?;
                let v = self.load(loc, w)?;
                let v = match (op2 >= 0xbe, w) {
                    (true, 1) => v as u8 as i8 as i32 as u32,
                    (true, _) => v as u16 as i16 as i32 as u32,
                    _ => v,
                };
                self.set_w(reg, w4, v);
                Ok(())
            }
            _ => Err(Stop::Unsupported),
        }
    }

    fn shift(&mut self, sh: u8, a: u32, n: u32, w: u8) -> R<u32> {
        let bits = 8 * w as u32;
        let m = mask(w);
        let n = n & 31;
        if n == 0 {
            return Ok(a);
        }
        let r = match sh {
            0 => {
                let k = n % bits;
                ((a << k) | (a >> ((bits - k) % bits))) & m
            }
            1 => {
                let k = n % bits;
                ((a >> k) | (a << ((bits - k) % bits))) & m
            }
            4 | 6 => a.checked_shl(n).unwrap_or(0) & m,
            5 => (a & m).checked_shr(n).unwrap_or(0),
            7 => {
                let s = match w {
                    1 => a as u8 as i8 as i32,
                    2 => a as u16 as i16 as i32,
                    _ => a as i32,
                };
                (s >> n.min(31)) as u32 & m
            }
            _ => return Err(Stop::Unsupported),
        };
        if sh >= 4 {
            self.set_szp(r, w);
        }
        Ok(r)
    }

    /// `stos`/`lods` (no `rep`).
    fn string_op(&mut self, op: u8, w4: u8) -> R<()> {
        let w = if op & 1 == 0 { 1 } else { w4 };
        self.cur.effect = true;
        let step = if self.df {
            (w as u32).wrapping_neg()
        } else {
            w as u32
        };
        if op <= 0xab {
            let di = self.get(7);
            let v = self.get_w(0, w);
            self.write(di, w, v, WriteOp::Store, v)?;
            self.set(7, di.wrapping_add(step));
        } else {
            let si = self.get(6);
            let v = self.read(si, w)?;
            self.set_w(0, w, v);
            self.set(6, si.wrapping_add(step));
        }
        Ok(())
    }

    /// x87: every instruction moves the FPU instruction pointer except
    /// `fnstenv`, which stores it (at offset 12 of its 28-byte image):
    /// the GetPC trick `fldz; fnstenv [esp-0xc]; pop reg`.
    fn x87(&mut self, op: u8, here: u32) -> R<()> {
        self.cur.effect = true;
        let (sub, loc, _) = self.modrm()?;
        match (op, sub, loc) {
            (0xd9, 6, Loc::Mem(a)) => {
                for i in 0..7u32 {
                    let v = if i == 3 { self.fpu_ip } else { 0 };
                    self.write(a.wrapping_add(4 * i), 4, v, WriteOp::Store, v)?;
                }
            }
            (0xd9, 4 | 5 | 7, Loc::Mem(_)) | (0xdd, 4 | 6 | 7, Loc::Mem(_)) => {}
            _ => self.fpu_ip = here,
        }
        Ok(())
    }
}

/// Length of the instruction at the start of `b` if the interpreter
/// knows it, and whether it is "clean" for a stub prefix: it touches
/// registers (and the stack) only, so starting a run before it cannot
/// fault on a wild memory operand.
pub(crate) fn insn_len(b: &[u8]) -> Option<(usize, bool)> {
    let mut i = 0;
    let mut w4 = 4;
    while matches!(b.get(i), Some(0x66) | Some(0x9b)) {
        if b[i] == 0x66 {
            w4 = 2;
        }
        i += 1;
        if i > 2 {
            return None;
        }
    }
    let op = *b.get(i)?;
    i += 1;
    let modrm = |i: usize| -> Option<(usize, bool)> {
        let m = *b.get(i)?;
        let (md, rm) = (m >> 6, m & 7);
        if md == 3 {
            return Some((1, true));
        }
        let mut n = 1;
        if rm == 4 {
            let sib = *b.get(i + 1)?;
            n += 1;
            if sib & 7 == 5 && md == 0 {
                n += 4;
            }
        } else if rm == 5 && md == 0 {
            n += 4;
        }
        n += match md {
            1 => 1,
            2 => 4,
            _ => 0,
        };
        Some((n, false))
    };
    let (len, clean) = match op {
        0x00..=0x3f if op & 7 < 6 => match op & 7 {
            0..=3 => {
                let (n, c) = modrm(i)?;
                (i + n, c)
            }
            4 => (i + 1, true),
            _ => (i + w4, true),
        },
        0x40..=0x61 | 0x90..=0x99 | 0xf5 | 0xf8 | 0xf9 | 0xfc | 0xfd => (i, true),
        0x68 => (i + w4, true),
        0x6a | 0x70..=0x7f | 0xb0..=0xb7 | 0xeb | 0xa8 => (i + 1, true),
        0xa9 | 0xb8..=0xbf => (i + w4, true),
        0xe0..=0xe3 => (i + 1, true),
        0xe8 | 0xe9 if w4 == 4 => (i + 4, true),
        0x80 | 0x82 | 0x83 | 0xc0 | 0xc1 | 0xc6 => {
            let (n, c) = modrm(i)?;
            (i + n + 1, c)
        }
        0x81 | 0xc7 => {
            let (n, c) = modrm(i)?;
            (i + n + w4, c)
        }
        0x84..=0x8b | 0x8f | 0xd0..=0xd3 | 0xfe | 0xff => {
            let (n, c) = modrm(i)?;
            (i + n, c)
        }
        0x8d => {
            let (n, _) = modrm(i)?;
            (i + n, true)
        }
        0xd8..=0xdf => {
            let (n, _) = modrm(i)?;
            (i + n, true)
        }
        0xf6 | 0xf7 => {
            let (n, c) = modrm(i)?;
            let sub = (*b.get(i)? >> 3) & 7;
            let imm = match (sub, op) {
                (0 | 1, 0xf6) => 1,
                (0 | 1, _) => w4,
                _ => 0,
            };
            (i + n + imm, c)
        }
        0x0f => match *b.get(i)? {
            0x80..=0x8f => (i + 5, true),
            0xb6 | 0xb7 | 0xbe | 0xbf => {
                let (n, c) = modrm(i + 1)?;
                (i + 1 + n, c)
            }
            _ => return None,
        },
        _ => return None,
    };
    (len <= b.len()).then_some((len, clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &[u8], steps: usize) -> Cpu<'_> {
        let mut c = Cpu::new(code, 0, code.len(), 0, true, 4096, 64);
        for _ in 0..steps {
            if c.step().is_err() {
                break;
            }
        }
        c
    }

    #[test]
    fn call_pop_and_fnstenv_give_the_pc() {
        // call $+5; pop esi
        let c = run(&[0xe8, 0, 0, 0, 0, 0x5e], 2);
        assert_eq!(c.regs[6], BASE + 5);
        // nop; fldz; fnstenv [esp-0xc]; pop ebx
        let c = run(&[0x90, 0xd9, 0xee, 0xd9, 0x74, 0x24, 0xf4, 0x5b], 4);
        assert_eq!(c.regs[3], BASE + 1);
    }

    #[test]
    fn counters_and_flags() {
        // xor ecx,ecx; mov cl,0x30; sub ecx,-2 (83 e9 fe); push 7; pop eax
        let c = run(
            &[0x31, 0xc9, 0xb1, 0x30, 0x83, 0xe9, 0xfe, 0x6a, 0x07, 0x58],
            5,
        );
        assert_eq!(c.regs[1], 0x32);
        assert_eq!(c.regs[0], 7);
        // mov cx, 0x1234 (66 b9); dec ecx; jnz -> taken
        let c = run(&[0x66, 0xb9, 0x34, 0x12, 0x49, 0x75, 0x02, 0x90, 0x90], 3);
        assert_eq!(c.regs[1], 0x1233);
        assert_eq!(c.eip, BASE + 9);
    }

    #[test]
    fn lengths() {
        assert_eq!(insn_len(&[0x80, 0x73, 0x0e, 0x99]), Some((4, false)));
        assert_eq!(insn_len(&[0x80, 0x36, 0x99]), Some((3, false)));
        assert_eq!(insn_len(&[0x66, 0xb9, 0x34, 0x12]), Some((4, true)));
        assert_eq!(insn_len(&[0xd9, 0x74, 0x24, 0xf4]), Some((4, true)));
        assert_eq!(insn_len(&[0x81, 0x73, 0x13, 1, 2, 3, 4]), Some((7, false)));
        assert_eq!(insn_len(&[0xe8, 0, 0, 0]), None);
        assert_eq!(insn_len(&[0x0f, 0x05]), None);
    }
}
