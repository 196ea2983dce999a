//! Random A64 instruction generation for the differential test against qemu-aarch64
//! (`tests/differential_a64.rs`), shared so other tests can extend it.
//!
//! Instructions are drawn **per instruction class** from encoding templates built bit by bit
//! from the Arm ARM's encoding diagrams: a [`Template`] is the fixed bits of one encoding
//! class plus a list of variable [`Field`]s; the generator fills the fields (registers,
//! immediates biased towards edge values, choices), then keeps the word only if yaxpeax-arm
//! decodes it, the interpreter implements it (`TABLE.is_implemented_ins`) and it is not on the
//! do-not-test list ([`skip_reason`]).
//!
//! Adding a class (loads/stores, FP, SIMD…): write `tests/a64_gen/<class>.rs` with a
//! `pub static TEMPLATES: &[Template]`, add `pub mod <class>;` below and its templates to
//! [`templates`], and give it a [`Class`] variant. Memory instructions use [`Field::Base`]
//! for their base register: it holds the address of the middle of the case's data buffer
//! ([`BUF_SIZE`] bytes, 16-byte aligned, random contents, compared after the run), so signed
//! offsets of -256..255 (imm9) stay inside it; no other instruction of such a case writes
//! it. Offsets (and writeback) must keep every access inside the buffer.

#![allow(dead_code)]

pub mod elf;
pub mod fp;
pub mod harness;
pub mod int;
pub mod loadstore;
pub mod simd;

use deja::isa::aarch64::table::TABLE;
use deja_decoders::aarch64::{decode_word, Instruction, Opcode, Operand};

/// Instruction classes (the Arm ARM's top-level encoding groups, as deja's files split them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Data Processing -- Immediate (src/isa/aarch64/dp_imm.rs).
    IntImm,
    /// Data Processing -- Register (src/isa/aarch64/dp_reg.rs).
    IntReg,
    /// Loads and stores, atomics (loadstore.rs, atomic.rs).
    LoadStore,
    /// Scalar floating point (fp*.rs).
    Fp,
    /// Advanced SIMD (simd*.rs).
    Simd,
}

/// A variable field of an encoding template.
#[derive(Clone, Copy, Debug)]
pub enum Field {
    /// A general register number (5 bits at `lo`): 0..31, where 31 is XZR or SP as the
    /// encoding says. Never the case's buffer base register.
    R(u8),
    /// A SIMD&FP register number (5 bits at `lo`).
    V(u8),
    /// The buffer base register (5 bits at `lo`): see the module comment.
    Base(u8),
    /// An unsigned `width`-bit immediate at `lo`, biased to edge values (0, 1, all ones, the
    /// top bit, the top bit minus one, …).
    Imm(u8, u8),
    /// One of these values, in a `width`-bit field at `lo`.
    OneOf(u8, u8, &'static [u32]),
    /// A copy of the 5-bit field at `from` (same register: aliases such as ROR, CINC).
    Same(u8, u8),
}

/// One encoding class: fixed bits and variable fields.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    /// What it is, for reports (e.g. "ADD/SUB (extended register)").
    pub name: &'static str,
    pub class: Class,
    /// The encoding with every variable field zero.
    pub base: u32,
    pub fields: &'static [Field],
}

/// Every template of every class.
pub fn templates() -> Vec<&'static Template> {
    let mut v: Vec<&'static Template> = Vec::new();
    v.extend(int::TEMPLATES.iter());
    v.extend(loadstore::TEMPLATES.iter());
    v.extend(fp::TEMPLATES.iter());
    v.extend(simd::TEMPLATES.iter());
    v
}

/// The do-not-test list: decoded, implemented instructions that random differential testing
/// cannot check, with the reason. The generators do not build most of these; the list makes
/// the exclusion explicit for any template that could.
pub fn skip_reason(ins: &Instruction) -> Option<&'static str> {
    use Opcode::*;
    Some(match ins.opcode {
        SVC | HVC | SMC => "leaves the CPU for the platform (syscall)",
        BRK | HLT | UDF => "faults by design",
        B | BL | BR | BLR | RET | Bcc(_) | CBZ | CBNZ | TBZ | TBNZ => {
            "control flow leaves the straight-line sequence; covered by guest programs"
        }
        MRS => match ins.operands[1] {
            Operand::SystemReg(r) if r == deja::isa::aarch64::system::CNTVCT_EL0 => {
                "MRS CNTVCT_EL0: non-deterministic (a recorded input)"
            }
            Operand::SystemReg(r)
                if r == deja::isa::aarch64::system::RNDR || r == deja::isa::aarch64::system::RNDRRS =>
            {
                "MRS RNDR: non-deterministic (a recorded input)"
            }
            _ => "system registers: deja reports fixed values by design (MIDR, CTR, CNTFRQ…)",
        },
        MSR => "writes system state the harness itself uses (TPIDR_EL0) or checks separately",
        HINT | DMB(_) | DSB(_) | ISB | CLREX => "no architectural effect to compare",
        _ => return None,
    })
}

/// Instructions tested only with FPCR.FZ clear: a case holding one starts with FZ = 0 (and no
/// template writes FPCR), with the reason.
pub fn fz_clear(ins: &Instruction) -> Option<&'static str> {
    match ins.opcode {
        Opcode::FJCVTZS => Some(
            "qemu 7.2 sets Z for a denormal input flushed by FZ (qemu issue #2375, fixed in 9.0.2); deja follows \
             the Arm ARM (FPToFixedJS): that case is unit-tested in fp_convert.rs",
        ),
        _ => None,
    }
}

/// Register the harness reserves as the buffer base in cases with memory instructions.
pub const BASE_REG: u32 = 28;
/// Bytes of data buffer per case.
pub const BUF_SIZE: usize = 512;
/// Where [`BASE_REG`] points: this far into the buffer.
pub const BASE_OFFSET: u64 = (BUF_SIZE / 2) as u64;

/// xorshift64*.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
    /// A 64-bit value biased towards integer edge cases: 0, ±1, INT_MIN/MAX of both widths,
    /// shift amounts around the widths, byte/halfword/word boundaries, random bits.
    pub fn interesting(&mut self) -> u64 {
        const EDGES: [u64; 28] = [
            0,
            1,
            2,
            u64::MAX,
            u64::MAX - 1,
            1 << 63,
            (1 << 63) - 1,
            (1 << 63) + 1,
            0x8000_0000,
            0x7fff_ffff,
            0xffff_ffff,
            0x1_0000_0000,
            0xffff_ffff_8000_0000,
            0xffff_ffff_7fff_ffff,
            0x0000_0001_ffff_ffff,
            31,
            32,
            33,
            63,
            64,
            65,
            0x80,
            0xff,
            0x7f,
            0x8000,
            0xffff,
            0x7fff,
            0xdead_beef_8000_0001,
        ];
        match self.below(10) {
            0..=3 => self.pick(&EDGES),
            4 => self.below(130),
            5 => (self.next() as i8) as i64 as u64,
            6 => (self.next() as i32) as i64 as u64,
            7 => self.next() as u32 as u64,
            _ => self.next(),
        }
    }
    /// A `width`-bit field value biased towards edges.
    pub fn field(&mut self, width: u8) -> u32 {
        let m = if width >= 32 { u32::MAX } else { (1u32 << width) - 1 };
        let top = 1u32 << (width - 1);
        match self.below(8) {
            0 => 0,
            1 => 1 & m,
            2 => m,
            3 => top,
            4 => top.wrapping_sub(1) & m,
            5 => (top | 1) & m,
            _ => self.next() as u32 & m,
        }
    }
}

/// A 128-bit SIMD&FP register value: random bits, or lanes of FP specials.
fn interesting_v(rng: &mut Rng) -> u128 {
    const F64: [u64; 12] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0xbff0_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0x7ff4_0000_0000_0000,
        0x0000_0000_0000_0001,
        0x000f_ffff_ffff_ffff,
        0x7fef_ffff_ffff_ffff,
        0x4330_0000_0000_0000,
    ];
    const F32: [u32; 12] = [
        0,
        0x8000_0000,
        0x3f80_0000,
        0xbf80_0000,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0x7fa0_0000,
        1,
        0x007f_ffff,
        0x7f7f_ffff,
        0x4b00_0000,
    ];
    match rng.below(4) {
        0 => (rng.pick(&F64) as u128) | ((rng.pick(&F64) as u128) << 64),
        1 => (0..4).fold(0u128, |a, i| a | ((rng.pick(&F32) as u128) << (32 * i))),
        2 => rng.interesting() as u128 | ((rng.interesting() as u128) << 64),
        _ => rng.next() as u128 | ((rng.next() as u128) << 64),
    }
}

/// Architectural state the harness loads before a case and dumps after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct State {
    pub x: [u64; 31],
    pub sp: u64,
    /// NZCV in bits 31..28.
    pub nzcv: u64,
    pub fpcr: u64,
    pub fpsr: u64,
    pub v: [u128; 32],
}

/// Byte layout of a [`State`] in the ELF's data area (and in its output).
pub mod off {
    pub const X: usize = 0;
    pub const SP: usize = 248;
    pub const NZCV: usize = 256;
    pub const FPCR: usize = 264;
    pub const FPSR: usize = 272;
    pub const V: usize = 288;
    pub const SIZE: usize = 800;
}

impl State {
    pub fn to_bytes(self) -> Vec<u8> {
        let mut b = vec![0u8; off::SIZE];
        for (i, x) in self.x.iter().enumerate() {
            b[off::X + 8 * i..][..8].copy_from_slice(&x.to_le_bytes());
        }
        b[off::SP..][..8].copy_from_slice(&self.sp.to_le_bytes());
        b[off::NZCV..][..8].copy_from_slice(&self.nzcv.to_le_bytes());
        b[off::FPCR..][..8].copy_from_slice(&self.fpcr.to_le_bytes());
        b[off::FPSR..][..8].copy_from_slice(&self.fpsr.to_le_bytes());
        for (i, v) in self.v.iter().enumerate() {
            b[off::V + 16 * i..][..16].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8]) -> State {
        let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let mut s =
            State { sp: u(off::SP), nzcv: u(off::NZCV), fpcr: u(off::FPCR), fpsr: u(off::FPSR), ..State::default() };
        for i in 0..31 {
            s.x[i] = u(off::X + 8 * i);
        }
        for i in 0..32 {
            s.v[i] = u128::from_le_bytes(b[off::V + 16 * i..][..16].try_into().unwrap());
        }
        s
    }

    /// Every field as (name, value) for comparisons and reports.
    pub fn fields(&self) -> Vec<(String, u128)> {
        let mut f: Vec<(String, u128)> =
            self.x.iter().enumerate().map(|(i, &x)| (format!("x{i}"), x as u128)).collect();
        f.push(("sp".into(), self.sp as u128));
        f.push(("nzcv".into(), self.nzcv as u128));
        f.push(("fpcr".into(), self.fpcr as u128));
        f.push(("fpsr".into(), self.fpsr as u128));
        f.extend(self.v.iter().enumerate().map(|(i, &v)| (format!("v{i}"), v)));
        f
    }
}

/// A random initial state.
pub fn gen_state(rng: &mut Rng) -> State {
    let mut s = State::default();
    for x in s.x.iter_mut() {
        *x = rng.interesting();
    }
    s.sp = if rng.below(2) == 0 { rng.interesting() } else { 0x7fff_0000 + 16 * rng.below(64) };
    s.nzcv = rng.below(16) << 28;
    // FPCR: AHP DN FZ RMode, FZ16; FPSR: QC and the cumulative exception flags.
    s.fpcr = if rng.below(2) == 0 { 0 } else { rng.next() & 0x07c8_0000 };
    s.fpsr = if rng.below(2) == 0 { 0 } else { rng.next() & 0x0800_009f };
    for v in s.v.iter_mut() {
        *v = interesting_v(rng);
    }
    s
}

/// One test case: an initial state, its data buffer, and a straight-line sequence.
#[derive(Clone, Debug)]
pub struct Case {
    pub init: State,
    pub buf: Vec<u8>,
    pub words: Vec<u32>,
    /// The template of each word (for reports).
    pub from: Vec<&'static str>,
    /// The case has memory instructions: [`BASE_REG`] holds its buffer's address plus
    /// [`BASE_OFFSET`] (the ELF builder sets it) and nothing else writes it.
    pub memory: bool,
}

/// Fill one template; None if the word is not a candidate (yaxpeax rejects it, deja does
/// not implement it, or it is on the do-not-test list).
pub fn fill(rng: &mut Rng, t: &Template, reserve_base: bool) -> Option<(u32, Instruction)> {
    let mut w = t.base;
    for f in t.fields {
        w |= match *f {
            Field::R(lo) => {
                let mut r = rng.below(32) as u32;
                while reserve_base && r == BASE_REG {
                    r = rng.below(32) as u32;
                }
                r << lo
            }
            Field::V(lo) => (rng.below(32) as u32) << lo,
            Field::Base(lo) => BASE_REG << lo,
            Field::Imm(lo, width) => rng.field(width) << lo,
            Field::OneOf(lo, _, vals) => rng.pick(vals) << lo,
            Field::Same(lo, from) => ((w >> from) & 0x1f) << lo,
        };
    }
    let ins = decode_word(w)?;
    if !TABLE.is_implemented_ins(&ins) || skip_reason(&ins).is_some() {
        return None;
    }
    Some((w, ins))
}

/// Draw one candidate instruction from `t` (None if 200 tries found none).
pub fn draw(rng: &mut Rng, t: &Template, reserve_base: bool) -> Option<u32> {
    (0..200).find_map(|_| fill(rng, t, reserve_base)).map(|(w, _)| w)
}

/// A case of `len` instructions drawn from `pool` (templates of one class, or a mix).
pub fn gen_case(rng: &mut Rng, pool: &[&'static Template], len: usize) -> Case {
    let chosen: Vec<&'static Template> = (0..len).map(|_| pool[rng.below(pool.len() as u64) as usize]).collect();
    let memory = chosen.iter().any(|t| t.fields.iter().any(|f| matches!(f, Field::Base(_))));
    let mut words = Vec::with_capacity(len);
    let mut from = Vec::with_capacity(len);
    for t in chosen {
        if let Some(w) = draw(rng, t, memory) {
            words.push(w);
            from.push(t.name);
        }
    }
    let mut init = gen_state(rng);
    if words.iter().any(|&w| decode_word(w).is_some_and(|i| fz_clear(&i).is_some())) {
        init.fpcr &= !(1 << 24);
    }
    let buf = (0..BUF_SIZE).map(|_| rng.next() as u8).collect();
    Case { init, buf, words, from, memory }
}

/// Disassembly of a word (yaxpeax-arm).
pub fn disasm(w: u32) -> String {
    match decode_word(w) {
        Some(i) => i.to_string(),
        None => "(undecodable)".into(),
    }
}
