//! Instruction-level differential test of the AArch64 memory instructions (loads/stores of
//! general and SIMD&FP registers in every addressing mode, pairs, prefetch, SIMD structure
//! loads/stores, exclusives, load-acquire/store-release, LSE atomics, CAS/CASP, DC ZVA)
//! against qemu-aarch64 (design §8).
//!
//! Cases are written as assembly text (GNU as is the encoder, so the interpreter's own field
//! decoding is checked against an independent one) with a full register state whose base and
//! index registers point into a data area at a fixed address: `DATA_RW` read-write bytes, one
//! read-only page, then an unmapped page, so some cases straddle into a fault. A static driver
//! (`a64_mem/driver.c`, `a64_mem/tramp.S`) runs each case under qemu-aarch64 from that state
//! and reports the final registers and data area, or the signal taken with the registers in
//! its ucontext. The same case runs on deja's interpreter in-process; everything must match.
//!
//! Where qemu-user is known not to do what Linux on hardware does, deja follows hardware and
//! the harness checks deja's side alone:
//! - a faulting instruction must leave no partial effect (registers, memory, base
//!   writeback): deja's state after a fault must equal the state before it; qemu 7.2 stores
//!   STP/ST1.. element by element, so its memory may show a partial store (counted, printed);
//! - SP as a base must be 16-byte aligned at EL0 (Linux sets SCTLR_EL1.SA0), which qemu does
//!   not check: cases keep SP aligned (the misaligned case is a unit test in loadstore.rs).
//!
//! A quarter of the cases are random words from the load/store encoding space (minus the
//! features deja does not implement, listed in `random_skip`), which checks that deja
//! rejects exactly the encodings qemu rejects. `memory_program_vs_qemu` runs a whole static
//! program made of these instructions under `deja run`, and `c_memops_vs_qemu` glibc's string
//! routines and C11 atomics (LL/SC and LSE builds).
//!
//! `DEJA_A64MEM_SEED=N` (or `random`) and `DEJA_A64MEM_CASES=N` control the run.

mod common;

use deja::engine::interp_a64::InterpA64;
use deja::engine::{Exit, Machine};
use deja::isa::aarch64::A64State;
use deja::mem::{flags, Memory};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CODE: u64 = 0x100_0000;
const DATA: u64 = 0x101_0000;
const DATA_RW: u64 = 0x2000;
const DATA_ALL: u64 = 0x3000;
const MAXI: usize = 4;
const ST_BYTES: usize = 800;
const OUT_BYTES: usize = 48 + ST_BYTES + DATA_RW as usize;

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct St {
    x: [u64; 31],
    sp: u64,
    nzcv: u64,
    v: [u128; 32],
}

impl St {
    fn to_bytes(self) -> Vec<u8> {
        let mut b = Vec::with_capacity(ST_BYTES);
        for x in self.x {
            b.extend_from_slice(&x.to_le_bytes());
        }
        for x in [self.sp, self.nzcv, 0, 0, 0] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        for v in self.v {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }
    fn from_bytes(b: &[u8]) -> St {
        let u = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
        let mut s = St::default();
        for (i, x) in s.x.iter_mut().enumerate() {
            *x = u(i);
        }
        s.sp = u(31);
        s.nzcv = u(32);
        for (i, v) in s.v.iter_mut().enumerate() {
            *v = u128::from_le_bytes(b[288 + i * 16..304 + i * 16].try_into().unwrap());
        }
        s
    }
    fn from_cpu(c: &A64State) -> St {
        St { x: c.x, sp: c.sp, nzcv: c.nzcv, v: c.v }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn interesting(&mut self) -> u64 {
        match self.below(8) {
            0 => self.pick(&[
                0,
                1,
                u64::MAX,
                1 << 63,
                i64::MAX as u64,
                0x8000_0000,
                0x7fff_ffff,
                0xffff_ffff,
                0x80,
                0x7f,
            ]),
            1 => self.below(256),
            2 => 0x80u64 << (8 * self.below(8)),
            3 => (self.next() as i8) as i64 as u64,
            4 => (self.next() as i16) as i64 as u64,
            _ => self.next(),
        }
    }
}

struct Case {
    asm: Vec<String>,
    st: St,
    what: &'static str,
    /// The qemu CPU model to run the case on (`max` has every feature; DC ZVA cases use a
    /// core whose DC ZVA block is 64 bytes, as deja's DCZID_EL0 says).
    cpu: &'static str,
}

// ---- register naming and choice ----

fn x(n: u32) -> String {
    if n == 31 {
        "xzr".into()
    } else {
        format!("x{n}")
    }
}
fn w(n: u32) -> String {
    if n == 31 {
        "wzr".into()
    } else {
        format!("w{n}")
    }
}
fn xsp(n: u32) -> String {
    if n == 31 {
        "sp".into()
    } else {
        format!("x{n}")
    }
}
fn gpr(c: char, n: u32) -> String {
    if c == 'x' {
        x(n)
    } else {
        w(n)
    }
}
fn vreg(c: char, n: u32) -> String {
    format!("{c}{n}")
}

/// A register 0..=30 not in `avoid`.
fn pick_reg(r: &mut Rng, avoid: &[u32]) -> u32 {
    loop {
        let n = r.below(31) as u32;
        if !avoid.contains(&n) {
            return n;
        }
    }
}

/// A base register: SP (31) sometimes.
fn pick_base(r: &mut Rng, avoid: &[u32]) -> u32 {
    if r.chance(15) {
        31
    } else {
        pick_reg(r, avoid)
    }
}

/// An address for an access of `len` bytes aligned to `align`: mostly inside the read-write
/// area, sometimes straddling into the read-only page, into the unmapped page, or below DATA.
fn target(r: &mut Rng, len: u64, align: u64) -> u64 {
    let a = match r.below(32) {
        0 => DATA + DATA_RW - len + 1 + r.below(len + 8),
        1 => DATA + DATA_ALL - len + 1 + r.below(len + 8),
        2 => DATA - 1 - r.below(len + 8),
        3 => DATA + DATA_RW + r.below(DATA_ALL - DATA_RW - len),
        _ => DATA + r.below(DATA_RW - len + 1),
    };
    a & !(align - 1)
}

fn base_state(r: &mut Rng) -> St {
    let mut s = St::default();
    for i in 0..31 {
        s.x[i] = r.interesting();
    }
    for i in 0..32 {
        s.v[i] = ((r.next() as u128) << 64) | r.next() as u128;
    }
    s.sp = DATA + 0x1000;
    s.nzcv = r.below(16) << 28;
    s
}

/// Set base register `n` so that `base + off` is `addr` (SP stays 16-byte aligned: the
/// address moves down instead). Returns the base value.
/// General base registers sometimes carry a pointer tag in bits 63:56 (Linux runs EL0 with
/// top-byte-ignore).
fn set_base(r: &mut Rng, s: &mut St, n: u32, addr: u64, off: i64) -> u64 {
    let mut b = addr.wrapping_sub(off as u64);
    if r.chance(10) {
        b = b.wrapping_add(r.below(256) << 56);
    }
    if n == 31 {
        b &= !15;
        s.sp = b;
    } else {
        s.x[n as usize] = b;
    }
    b
}

fn log2(b: u64) -> u32 {
    b.trailing_zeros()
}

// ---- case generators ----

/// (normal, unscaled, unprivileged, register kind, bytes, is store)
type Single = (&'static str, &'static str, Option<&'static str>, char, u64, bool);
const SINGLES: &[Single] = &[
    ("ldrb", "ldurb", Some("ldtrb"), 'w', 1, false),
    ("ldrh", "ldurh", Some("ldtrh"), 'w', 2, false),
    ("ldr", "ldur", Some("ldtr"), 'w', 4, false),
    ("ldr", "ldur", Some("ldtr"), 'x', 8, false),
    ("ldrsb", "ldursb", Some("ldtrsb"), 'w', 1, false),
    ("ldrsb", "ldursb", Some("ldtrsb"), 'x', 1, false),
    ("ldrsh", "ldursh", Some("ldtrsh"), 'w', 2, false),
    ("ldrsh", "ldursh", Some("ldtrsh"), 'x', 2, false),
    ("ldrsw", "ldursw", Some("ldtrsw"), 'x', 4, false),
    ("strb", "sturb", Some("sttrb"), 'w', 1, true),
    ("strh", "sturh", Some("sttrh"), 'w', 2, true),
    ("str", "stur", Some("sttr"), 'w', 4, true),
    ("str", "stur", Some("sttr"), 'x', 8, true),
    ("ldr", "ldur", None, 'b', 1, false),
    ("ldr", "ldur", None, 'h', 2, false),
    ("ldr", "ldur", None, 's', 4, false),
    ("ldr", "ldur", None, 'd', 8, false),
    ("ldr", "ldur", None, 'q', 16, false),
    ("str", "stur", None, 'b', 1, true),
    ("str", "stur", None, 'h', 2, true),
    ("str", "stur", None, 's', 4, true),
    ("str", "stur", None, 'd', 8, true),
    ("str", "stur", None, 'q', 16, true),
];

fn single(r: &mut Rng) -> Case {
    let (mn, umn, tmn, k, bytes, store) = r.pick(SINGLES);
    let simd = !matches!(k, 'w' | 'x');
    let mut s = base_state(r);
    let mode = r.below(8);
    let n = pick_base(r, &[]);
    // The data register: mostly distinct from the base; sometimes the same (writeback
    // overlap, CONSTRAINED UNPREDICTABLE: deja follows qemu); 31 = zero register.
    let t = if simd {
        r.below(32) as u32
    } else if r.chance(8) && n != 31 {
        n
    } else if r.chance(5) {
        31
    } else {
        pick_reg(r, &[n])
    };
    let rt = if simd { vreg(k, t) } else { gpr(k, t) };
    let addr = target(r, bytes, 1);
    let line = match mode {
        0 => {
            let lim = r.pick(&[16, 256, 4096]);
            let imm = if r.chance(30) { 0 } else { r.below(lim) * bytes };
            set_base(r, &mut s, n, addr, imm as i64);
            format!("{mn} {rt}, [{}, #{imm}]", xsp(n))
        }
        1 => {
            let imm = r.range(-256, 255);
            set_base(r, &mut s, n, addr, imm);
            format!("{umn} {rt}, [{}, #{imm}]", xsp(n))
        }
        2 => {
            let imm = r.range(-256, 255);
            set_base(r, &mut s, n, addr, imm);
            format!("{mn} {rt}, [{}, #{imm}]!", xsp(n))
        }
        3 => {
            let imm = r.range(-256, 255);
            set_base(r, &mut s, n, addr, 0);
            format!("{mn} {rt}, [{}], #{imm}", xsp(n))
        }
        4 | 5 => {
            let m = if r.chance(5) { 31 } else { pick_reg(r, &[n, t]) };
            let sh = if r.chance(50) { log2(bytes) } else { 0 };
            let explicit = sh != 0 || (bytes == 1 && r.chance(50));
            let small = r.range(-300, 300);
            let garbage = r.next() << 32;
            let (text, eff, raw) = match r.below(4) {
                0 => {
                    let raw = small as u64;
                    let text = if explicit { format!("{}, lsl #{sh}", x(m)) } else { x(m) };
                    (text, raw << sh, raw)
                }
                1 => {
                    let raw = garbage | (small.unsigned_abs() & 0xffff);
                    (format!("{}, uxtw #{sh}", w(m)), (raw as u32 as u64) << sh, raw)
                }
                2 => {
                    let raw = garbage | (small as u32 as u64);
                    (format!("{}, sxtw #{sh}", w(m)), ((raw as u32 as i32 as i64) << sh) as u64, raw)
                }
                _ => {
                    let raw = small as u64;
                    (format!("{}, sxtx #{sh}", x(m)), raw << sh, raw)
                }
            };
            let (eff, raw) = if m == 31 { (0, 0) } else { (eff, raw) };
            if m != 31 {
                s.x[m as usize] = raw;
            }
            set_base(r, &mut s, n, addr, eff as i64);
            format!("{mn} {rt}, [{}, {text}]", xsp(n))
        }
        6 if tmn.is_some() => {
            let imm = r.range(-256, 255);
            set_base(r, &mut s, n, addr, imm);
            format!("{} {rt}, [{}, #{imm}]", tmn.unwrap(), xsp(n))
        }
        _ => {
            // Literal: loads of W, X, SW, S, D, Q only.
            let lit = !store && (matches!(k, 's' | 'd' | 'q') || (mn == "ldr" && !simd) || mn == "ldrsw");
            if !lit {
                let imm = r.range(-256, 255);
                set_base(r, &mut s, n, addr, imm);
                format!("{umn} {rt}, [{}, #{imm}]", xsp(n))
            } else if bytes == 4 && r.chance(10) {
                // Its own encoding (the words after it differ between qemu's driver and deja).
                format!("{mn} {rt}, .")
            } else {
                let a = (DATA + r.below(DATA_RW - 16)) & !3;
                format!("{mn} {rt}, .+{}", a - CODE)
            }
        }
    };
    Case { asm: vec![line], st: s, what: "single", cpu: "max" }
}

fn pair(r: &mut Rng) -> Case {
    let (mn, k, bytes) = r.pick(&[
        ("ldp", 'w', 4u64),
        ("ldp", 'x', 8),
        ("stp", 'w', 4),
        ("stp", 'x', 8),
        ("ldpsw", 'x', 4),
        ("ldnp", 'w', 4),
        ("ldnp", 'x', 8),
        ("stnp", 'w', 4),
        ("stnp", 'x', 8),
        ("ldp", 's', 4),
        ("ldp", 'd', 8),
        ("ldp", 'q', 16),
        ("stp", 's', 4),
        ("stp", 'd', 8),
        ("stp", 'q', 16),
        ("ldnp", 's', 4),
        ("ldnp", 'd', 8),
        ("ldnp", 'q', 16),
        ("stnp", 's', 4),
        ("stnp", 'd', 8),
        ("stnp", 'q', 16),
    ]);
    let simd = !matches!(k, 'w' | 'x');
    let load = mn.starts_with("ld");
    let mut s = base_state(r);
    let n = pick_base(r, &[]);
    let (t, t2) = if simd {
        let t = r.below(32) as u32;
        (t, if load && r.chance(5) { t } else { (t + 1 + r.below(31) as u32) % 32 })
    } else {
        let t = if r.chance(8) && n != 31 {
            n
        } else if r.chance(4) {
            31
        } else {
            pick_reg(r, &[n])
        };
        let t2 = if load && r.chance(5) {
            t
        } else if r.chance(8) && n != 31 {
            n
        } else if r.chance(4) {
            31
        } else {
            pick_reg(r, &[n, t])
        };
        (t, t2)
    };
    let name = |q: u32| if simd { vreg(k, q) } else { gpr(k, q) };
    let addr = target(r, 2 * bytes, 1);
    let imm = r.range(-64, 63) * bytes as i64;
    let mode = if mn.contains('n') { 0 } else { r.below(3) };
    let line = match mode {
        0 => {
            set_base(r, &mut s, n, addr, imm);
            format!("{mn} {}, {}, [{}, #{imm}]", name(t), name(t2), xsp(n))
        }
        1 => {
            set_base(r, &mut s, n, addr, imm);
            format!("{mn} {}, {}, [{}, #{imm}]!", name(t), name(t2), xsp(n))
        }
        _ => {
            set_base(r, &mut s, n, addr, 0);
            format!("{mn} {}, {}, [{}], #{imm}", name(t), name(t2), xsp(n))
        }
    };
    Case { asm: vec![line], st: s, what: "pair", cpu: "max" }
}

fn prefetch(r: &mut Rng) -> Case {
    let mut s = base_state(r);
    let op = if r.chance(30) {
        format!("#{}", r.below(32))
    } else {
        format!("{}{}{}", r.pick(&["pld", "pli", "pst"]), r.pick(&["l1", "l2", "l3"]), r.pick(&["keep", "strm"]))
    };
    let n = pick_base(r, &[]);
    if n == 31 && r.chance(50) {
        s.sp = r.next(); // PRFM does not check SP alignment and never faults
    } else if n != 31 {
        s.x[n as usize] = r.next();
    }
    let m = pick_reg(r, &[n]);
    let line = match r.below(4) {
        0 => format!("prfm {op}, [{}, #{}]", xsp(n), r.below(4096) * 8),
        1 => format!("prfum {op}, [{}, #{}]", xsp(n), r.range(-256, 255)),
        2 => format!("prfm {op}, [{}, {}, lsl #3]", xsp(n), x(m)),
        _ => format!("prfm {op}, .+{}", r.range(-1000, 1000) * 4),
    };
    Case { asm: vec![line], st: s, what: "prefetch", cpu: "max" }
}

fn arrangement(r: &mut Rng, allow_1d: bool) -> (&'static str, u64, u64) {
    // (name, element bytes, register bytes)
    loop {
        let a = r.pick(&[
            ("8b", 1u64, 8u64),
            ("16b", 1, 16),
            ("4h", 2, 8),
            ("8h", 2, 16),
            ("2s", 4, 8),
            ("4s", 4, 16),
            ("1d", 8, 8),
            ("2d", 8, 16),
        ]);
        if a.0 != "1d" || allow_1d {
            return a;
        }
    }
}

fn reglist(t: u32, count: u32, suffix: &str) -> String {
    let regs: Vec<String> = (0..count).map(|i| format!("v{}{suffix}", (t + i) % 32)).collect();
    format!("{{{}}}", regs.join(", "))
}

fn structures(r: &mut Rng) -> Case {
    let mut s = base_state(r);
    let n = pick_base(r, &[]);
    let t = r.below(32) as u32;
    let load = r.chance(60);
    let kind = r.below(3);
    let (line, total) = match kind {
        0 => {
            // multiple structures
            let sel = r.range(1, 4) as u32;
            let count = if sel == 1 { r.range(1, 4) as u32 } else { sel };
            let (arr, _eb, rb) = arrangement(r, sel == 1);
            let mn = format!("{}{}", if load { "ld" } else { "st" }, sel);
            (format!("{mn} {}", reglist(t, count, &format!(".{arr}"))), count as u64 * rb)
        }
        1 if load => {
            let sel = r.range(1, 4) as u32;
            let (arr, eb, _rb) = arrangement(r, true);
            (format!("ld{sel}r {}", reglist(t, sel, &format!(".{arr}"))), sel as u64 * eb)
        }
        _ => {
            let sel = r.range(1, 4) as u32;
            let (c, eb) = r.pick(&[('b', 1u64), ('h', 2), ('s', 4), ('d', 8)]);
            let lane = r.below(16 / eb);
            let mn = format!("{}{sel}", if load { "ld" } else { "st" });
            (format!("{mn} {}[{lane}]", reglist(t, sel, &format!(".{c}"))), sel as u64 * eb)
        }
    };
    let addr = target(r, total, 1);
    set_base(r, &mut s, n, addr, 0);
    let line = match r.below(3) {
        0 => format!("{line}, [{}]", xsp(n)),
        1 => format!("{line}, [{}], #{total}", xsp(n)),
        _ => {
            let m = pick_reg(r, &[n]);
            s.x[m as usize] = r.range(-200, 200) as u64;
            format!("{line}, [{}], {}", xsp(n), x(m))
        }
    };
    Case { asm: vec![line], st: s, what: "structures", cpu: "max" }
}

/// The pattern's little-endian value of `bytes` bytes at `addr` (inside the data area).
fn pattern_at(pat: &[u8], addr: u64, bytes: u64) -> u128 {
    let mut b = [0u8; 16];
    if addr >= DATA && addr + bytes <= DATA + DATA_ALL {
        let o = (addr - DATA) as usize;
        b[..bytes as usize].copy_from_slice(&pat[o..o + bytes as usize]);
    }
    u128::from_le_bytes(b)
}

/// An aligned address for an atomic access, misaligned sometimes.
fn atomic_target(r: &mut Rng, bytes: u64) -> u64 {
    let a = target(r, bytes, bytes);
    if r.chance(6) && bytes > 1 {
        a + 1 + r.below(bytes - 1)
    } else {
        a
    }
}

fn exclusive(r: &mut Rng) -> Case {
    let mut s = base_state(r);
    let (sz, k, bytes) = r.pick(&[("b", 'w', 1u64), ("h", 'w', 2), ("", 'w', 4), ("", 'x', 8)]);
    let pairf = sz.is_empty() && r.chance(30);
    let total = if pairf { 2 * bytes } else { bytes };
    let n = pick_base(r, &[]);
    let t = pick_reg(r, &[n]);
    let t2 = pick_reg(r, &[n, t]);
    let st = pick_reg(r, &[n, t, t2]);
    let v1 = pick_reg(r, &[n, st]);
    let v2 = pick_reg(r, &[n, st]);
    let variant = r.below(6);
    // Misaligned only behind an exclusive load (which faults first): a store-exclusive whose
    // monitor does not match fails without any check under qemu, while the Arm ARM (and
    // deja) check alignment first.
    let addr = if matches!(variant, 3 | 4) { target(r, total, total) } else { atomic_target(r, total) };
    set_base(r, &mut s, n, addr, 0);
    let a = if r.chance(50) { "a" } else { "" };
    let l = if r.chance(50) { "l" } else { "" };
    let ld = if pairf {
        format!("ld{a}xp {}, {}, [{}]", gpr(k, t), gpr(k, t2), xsp(n))
    } else {
        format!("ld{a}xr{sz} {}, [{}]", gpr(k, t), xsp(n))
    };
    let stx = |base: String| {
        if pairf {
            format!("st{l}xp {}, {}, {}, [{base}]", w(st), gpr(k, v1), gpr(k, v2))
        } else {
            format!("st{l}xr{sz} {}, {}, [{base}]", w(st), gpr(k, v1))
        }
    };
    let asm = match variant {
        0 | 1 => vec![ld, stx(xsp(n))],
        2 => vec![ld, "clrex".into(), stx(xsp(n))],
        3 => vec![stx(xsp(n))],
        4 => {
            // Store-exclusive to another (aligned) address than the one monitored.
            let m = pick_reg(r, &[n, st, v1, v2, t, t2]);
            s.x[m as usize] = (addr & !(total - 1)).wrapping_add(total * r.range(1, 4) as u64);
            vec![ld, stx(x(m))]
        }
        _ => vec![ld, stx(xsp(n)), stx(xsp(n))],
    };
    Case { asm, st: s, what: "exclusive", cpu: "max" }
}

fn ordered(r: &mut Rng) -> Case {
    let mut s = base_state(r);
    let (sz, k, bytes) = r.pick(&[("b", 'w', 1u64), ("h", 'w', 2), ("", 'w', 4), ("", 'x', 8)]);
    let n = pick_base(r, &[]);
    let t = if r.chance(5) { 31 } else { pick_reg(r, &[n]) };
    let which = r.below(4);
    // qemu 7.2 does not check LDAPR's alignment (its LDAR/STLR/LDAPUR/STLUR it does); the
    // misaligned LDAPR fault is a unit test in atomic.rs.
    let addr = if which == 2 { target(r, bytes, bytes) } else { atomic_target(r, bytes) };
    let line = match which {
        0 => {
            set_base(r, &mut s, n, addr, 0);
            format!("ldar{sz} {}, [{}]", gpr(k, t), xsp(n))
        }
        1 => {
            set_base(r, &mut s, n, addr, 0);
            format!("stlr{sz} {}, [{}]", gpr(k, t), xsp(n))
        }
        2 => {
            set_base(r, &mut s, n, addr, 0);
            format!("ldapr{sz} {}, [{}]", gpr(k, t), xsp(n))
        }
        _ => {
            let imm = r.range(-256, 255);
            set_base(r, &mut s, n, addr, imm);
            let signed = match bytes {
                1 => Some(("ldapursb", if r.chance(50) { x(t) } else { w(t) })),
                2 => Some(("ldapursh", if r.chance(50) { x(t) } else { w(t) })),
                4 => Some(("ldapursw", x(t))),
                _ => None,
            };
            let (mn, reg) = match (r.below(3), signed) {
                (0, _) => (format!("stlur{sz}"), gpr(k, t)),
                (1, Some((mn, reg))) => (mn.to_string(), reg),
                _ => (format!("ldapur{sz}"), gpr(k, t)),
            };
            format!("{mn} {reg}, [{}, #{imm}]", xsp(n))
        }
    };
    Case { asm: vec![line], st: s, what: "ordered", cpu: "max" }
}

fn lse(r: &mut Rng, pat: &[u8]) -> Case {
    let mut s = base_state(r);
    let (sz, k, bytes) = r.pick(&[("b", 'w', 1u64), ("h", 'w', 2), ("", 'w', 4), ("", 'x', 8)]);
    let order = r.pick(&["", "a", "l", "al"]);
    let n = pick_base(r, &[]);
    let rs = if r.chance(5) { 31 } else { pick_reg(r, &[n]) };
    let rt = if r.chance(8) { 31 } else { pick_reg(r, &[n, rs]) };
    let addr = atomic_target(r, bytes);
    set_base(r, &mut s, n, addr, 0);
    let line = match r.below(10) {
        0 => {
            // CAS: equal compare half of the time.
            if rs != 31 && r.chance(50) {
                let p = pattern_at(pat, addr, bytes) as u64;
                s.x[rs as usize] = if bytes < 8 { p | (r.next() << (bytes * 8)) } else { p };
            }
            format!("cas{order}{sz} {}, {}, [{}]", gpr(k, rs), gpr(k, rt), xsp(n))
        }
        1 if sz.is_empty() => {
            let rs = 2 * r.below(15) as u32;
            let rt = 2 * r.below(15) as u32;
            let n = if [rs, rs + 1, rt, rt + 1].contains(&n) { 31 } else { n };
            let addr = atomic_target(r, 2 * bytes);
            set_base(r, &mut s, n, addr, 0);
            if r.chance(50) {
                let p = pattern_at(pat, addr, 2 * bytes);
                s.x[rs as usize] = if bytes == 8 { p as u64 } else { p as u32 as u64 };
                s.x[rs as usize + 1] = (p >> (bytes * 8)) as u64;
            }
            format!("casp{order} {}, {}, {}, {}, [{}]", gpr(k, rs), gpr(k, rs + 1), gpr(k, rt), gpr(k, rt + 1), xsp(n))
        }
        2 => format!("swp{order}{sz} {}, {}, [{}]", gpr(k, rs), gpr(k, rt), xsp(n)),
        3 if order.is_empty() || order == "l" => {
            let op = r.pick(&["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"]);
            format!("st{op}{order}{sz} {}, [{}]", gpr(k, rs), xsp(n))
        }
        _ => {
            let op = r.pick(&["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"]);
            format!("ld{op}{order}{sz} {}, {}, [{}]", gpr(k, rs), gpr(k, rt), xsp(n))
        }
    };
    Case { asm: vec![line], st: s, what: "lse", cpu: "max" }
}

fn cache_ops(r: &mut Rng) -> Case {
    let mut s = base_state(r);
    let t = pick_reg(r, &[]);
    s.x[t as usize] = if r.chance(80) { target(r, 1, 1) } else { r.next() & 0x7fff_ffff_ffff };
    if r.chance(10) {
        s.x[t as usize] |= r.below(256) << 56;
    }
    let op = r.pick(&["dc zva", "dc zva", "dc zva", "dc cvau", "dc cvac", "dc civac", "dc cvap", "ic ivau"]);
    let mut asm = vec![format!("{op}, {}", x(t))];
    if r.chance(30) {
        asm.push(format!("ldr {}, [{}]", x(pick_reg(r, &[t])), x(t)));
    }
    Case { asm, st: s, what: "cache", cpu: "neoverse-n1" }
}

/// Load/store encoding classes (mask, value) for random words, weighted towards the classes
/// with many unallocated corners.
const CLASSES: &[(u32, u32)] = &[
    (0x0a00_0000, 0x0800_0000), // the whole load/store space
    (0x3b00_0000, 0x1800_0000), // load literal
    (0x3a00_0000, 0x2800_0000), // pairs
    (0x3b20_0000, 0x3800_0000), // imm9 forms
    (0x3b20_0c00, 0x3820_0800), // register offset
    (0x3b00_0000, 0x3900_0000), // unsigned offset
    (0x3f00_0000, 0x0800_0000), // exclusive / ordered / CAS
    (0x3f20_0c00, 0x3820_0000), // atomic memory operations
    (0x3f20_0c00, 0x1900_0000), // RCpc unscaled
    (0xbf80_0000, 0x0c00_0000), // SIMD multiple structures
    (0xbf80_0000, 0x0c80_0000), // SIMD multiple structures, post-index
    (0xbf80_0000, 0x0d00_0000), // SIMD single structure
    (0xbf80_0000, 0x0d80_0000), // SIMD single structure, post-index
];

/// Encodings in the load/store space that qemu's `max` CPU implements and deja deliberately
/// does not (the features are not advertised), with the reason.
fn random_skip(w: u32) -> Option<&'static str> {
    if w & 0xff20_0400 == 0xf820_0400 {
        return Some("LDRAA/LDRAB: pointer authentication (FEAT_PAuth) is not implemented");
    }
    if w & 0xff20_0000 == 0xd920_0000 || w & 0xfe40_0000 == 0x6800_0000 {
        return Some("MTE tag loads/stores and STGP (FEAT_MTE) are not implemented");
    }
    if w & 0x3fa0_8000 == 0x0880_0000 {
        return Some("LDLAR/STLLR: LORegions (FEAT_LOR) is not implemented");
    }
    if w & 0x3b00_0000 == 0x1800_0000 {
        let off = ((((w >> 5) & 0x7ffff) << 13) as i32 >> 11) as i64;
        if off != 0 && (-0x1000..0x1000).contains(&off) {
            return Some("literal load from the harness's code page, whose contents differ");
        }
    }
    None
}

/// A random word from the load/store encoding space, with registers pointing into the data
/// area (the base field always; others half of the time) or small.
fn random_word(r: &mut Rng) -> Case {
    let w = loop {
        let (mask, val) = r.pick(CLASSES);
        let w = (r.next() as u32 & !mask) | val;
        if random_skip(w).is_none() {
            break w;
        }
    };
    let mut s = base_state(r);
    for i in 0..31 {
        s.x[i] = if r.chance(50) { target(r, 64, 1) } else { r.range(-64, 64) as u64 };
    }
    let n = ((w >> 5) & 31) as usize;
    // Exclusive stores and LDAPR: aligned (qemu does not check alignment there first; the
    // misaligned behaviour is unit-tested).
    let excl_store = w & 0x3f40_0000 == 0x0800_0000;
    let ldapr = w & 0x3f20_fc00 == 0x3820_c000;
    if n < 31 {
        s.x[n] = target(r, 64, 1);
        if excl_store || ldapr {
            s.x[n] &= !15;
        }
    }
    s.sp = target(r, 64, 16);
    Case { asm: vec![format!(".inst {w:#010x}")], st: s, what: "random", cpu: "max" }
}

fn gen_case(r: &mut Rng, pat: &[u8]) -> Case {
    if r.chance(25) {
        return random_word(r);
    }
    match r.below(20) {
        0..=5 => single(r),
        6..=8 => pair(r),
        9 => prefetch(r),
        10..=12 => structures(r),
        13..=14 => exclusive(r),
        15 => ordered(r),
        16..=18 => lse(r, pat),
        _ => cache_ops(r),
    }
}

// ---- tools ----

fn tool_dir() -> PathBuf {
    let d = common::scratch_root().join("a64_loadstore");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_tool(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn build_driver(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/a64_mem");
    let exe = dir.join("driver");
    run_tool(
        Command::new("aarch64-linux-gnu-gcc")
            .args(["-static", "-O1", "-Wl,--defsym=case_code=0x1000000", "-o"])
            .arg(&exe)
            .args([src.join("driver.c"), src.join("tramp.S")]),
    );
    exe
}

/// Assemble every case's lines; returns each case's instruction words.
fn assemble(dir: &Path, cases: &[Case]) -> Vec<Vec<u32>> {
    let mut s = String::from(".text\n.arch armv8.4-a+lse+rcpc\n");
    for c in cases {
        for l in &c.asm {
            writeln!(s, "\t{l}").unwrap();
        }
    }
    let (src, obj, bin) = (dir.join("cases.s"), dir.join("cases.o"), dir.join("cases.bin"));
    std::fs::write(&src, s).unwrap();
    run_tool(Command::new("aarch64-linux-gnu-as").arg("-o").arg(&obj).arg(&src));
    run_tool(Command::new("aarch64-linux-gnu-objcopy").args(["-O", "binary", "-j", ".text"]).arg(&obj).arg(&bin));
    let bytes = std::fs::read(&bin).unwrap();
    let words: Vec<u32> = bytes.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
    let mut out = Vec::new();
    let mut i = 0;
    for c in cases {
        out.push(words[i..i + c.asm.len()].to_vec());
        i += c.asm.len();
    }
    assert_eq!(i, words.len(), "assembled word count");
    out
}

struct QemuOut {
    signal: Option<(i32, i32, u64, u64)>,
    st: St,
    data: Vec<u8>,
}

fn run_qemu(driver: &Path, cpu: &str, pat: &[u8], cases: &[&Case], words: &[Vec<u32>]) -> Vec<QemuOut> {
    let mut input = Vec::new();
    input.extend_from_slice(&0x4c53_4d41u32.to_le_bytes());
    input.extend_from_slice(&(cases.len() as u32).to_le_bytes());
    input.extend_from_slice(pat);
    for (c, ws) in cases.iter().zip(words) {
        input.extend_from_slice(&(ws.len() as u32).to_le_bytes());
        for i in 0..MAXI {
            input.extend_from_slice(&ws.get(i).copied().unwrap_or(0).to_le_bytes());
        }
        input.extend_from_slice(&c.st.to_bytes());
    }
    let mut child = Command::new("qemu-aarch64")
        .args(["-cpu", cpu])
        .arg(driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run qemu-aarch64");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    feeder.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "driver failed under qemu");
    assert_eq!(out.len(), cases.len() * OUT_BYTES, "driver output size");
    out.chunks(OUT_BYTES)
        .map(|b| {
            let u = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
            QemuOut {
                signal: (u(0) == 1).then(|| (u(1) as i32, u(2) as i32, u(3), u(4))),
                st: St::from_bytes(&b[48..48 + ST_BYTES]),
                data: b[48 + ST_BYTES..].to_vec(),
            }
        })
        .collect()
}

struct DejaOut {
    signal: Option<(i32, i32, u64, u64)>,
    st: St,
    data: Vec<u8>,
}

fn new_machine(pat: &[u8]) -> Machine<A64State> {
    let mut mem = Memory::new(0x200_0000).unwrap();
    assert!(mem.map(CODE, 0x1000, flags::R | flags::X));
    assert!(mem.map(DATA, DATA_RW, flags::R | flags::W));
    assert!(mem.map(DATA + DATA_RW, DATA_ALL - DATA_RW, flags::R));
    mem.poke(DATA, pat).unwrap();
    Machine { cpu: A64State::default(), mem, icount: 0, limit: 0 }
}

fn run_deja(m: &mut Machine<A64State>, pat: &[u8], st: &St, words: &[u32]) -> DejaOut {
    m.mem.poke(DATA, &pat[..DATA_RW as usize]).unwrap();
    let mut code = vec![0u8; 4 * (MAXI + 1)];
    for (i, w) in words.iter().enumerate() {
        code[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    m.mem.poke(CODE, &code).unwrap();
    m.cpu = A64State { x: st.x, sp: st.sp, nzcv: st.nzcv, v: st.v, pc: CODE, ..Default::default() };
    m.icount = 0;
    let mut interp = InterpA64::new();
    let exit = interp.run(m, words.len() as u64);
    let signal = match exit {
        Exit::Budget => None,
        Exit::Fault(f) => Some((f.signo, f.code, f.addr, m.cpu.pc)),
        e => panic!("unexpected exit {e:?}"),
    };
    let mut data = vec![0u8; DATA_RW as usize];
    m.mem.peek(DATA, &mut data).unwrap();
    DejaOut { signal, st: St::from_cpu(&m.cpu), data }
}

/// A signal outcome (signo, code, addr, pc) as compared with qemu: the si_code of a SIGILL is
/// masked, because Linux arm64 reports ILL_ILLOPC for an undefined instruction
/// (arch/arm64/kernel/traps.c: `do_undefinstr` → `force_signal_inject(SIGILL, ILL_ILLOPC, …)`),
/// which deja follows, while qemu-user reports ILL_ILLOPN. deja's code is checked on its own.
fn sigill_code_masked(s: Option<(i32, i32, u64, u64)>) -> Option<(i32, i32, u64, u64)> {
    s.map(|(signo, code, addr, pc)| (signo, if signo == 4 { 0 } else { code }, addr, pc))
}

fn diff_state(a: &St, b: &St) -> String {
    let mut s = String::new();
    for i in 0..31 {
        if a.x[i] != b.x[i] {
            writeln!(s, "  x{i}: qemu {:#018x} deja {:#018x}", a.x[i], b.x[i]).unwrap();
        }
    }
    if a.sp != b.sp {
        writeln!(s, "  sp: qemu {:#x} deja {:#x}", a.sp, b.sp).unwrap();
    }
    if a.nzcv != b.nzcv {
        writeln!(s, "  nzcv: qemu {:#x} deja {:#x}", a.nzcv, b.nzcv).unwrap();
    }
    for i in 0..32 {
        if a.v[i] != b.v[i] {
            writeln!(s, "  v{i}: qemu {:#034x} deja {:#034x}", a.v[i], b.v[i]).unwrap();
        }
    }
    s
}

fn diff_data(a: &[u8], b: &[u8]) -> String {
    let mut s = String::new();
    let mut shown = 0;
    for i in 0..a.len() {
        if a[i] != b[i] && shown < 24 {
            writeln!(s, "  mem {:#x}: qemu {:02x} deja {:02x}", DATA + i as u64, a[i], b[i]).unwrap();
            shown += 1;
        }
    }
    s
}

fn describe(c: &Case, words: &[u32]) -> String {
    let mut s = format!("[{}]", c.what);
    for (l, w) in c.asm.iter().zip(words) {
        let dis = deja_decoders::aarch64::decode_word(*w).map(|i| i.to_string()).unwrap_or_else(|| "(invalid)".into());
        write!(s, "\n  {w:08x}  {l:<45} yaxpeax: {dis}").unwrap();
    }
    s
}

#[test]
fn loadstore_vs_qemu() {
    for t in ["qemu-aarch64", "aarch64-linux-gnu-gcc", "aarch64-linux-gnu-as", "aarch64-linux-gnu-objcopy"] {
        if !common::have_tool(t) {
            common::skip_or_fail(&format!("{t} not installed"));
            return;
        }
    }
    let seed = match std::env::var("DEJA_A64MEM_SEED") {
        Ok(s) if s == "random" => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        }
        Ok(s) => s.parse().expect("DEJA_A64MEM_SEED"),
        Err(_) => 0x5eed_a64a_11e5,
    };
    let ncases: usize = std::env::var("DEJA_A64MEM_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(6000);
    let dir = tool_dir();
    let driver = build_driver(&dir);
    let mut r = Rng(seed);
    let mut pat = vec![0u8; DATA_ALL as usize];
    for b in pat.iter_mut() {
        *b = r.next() as u8;
    }
    let cases: Vec<Case> = (0..ncases).map(|_| gen_case(&mut r, &pat)).collect();
    let words = assemble(&dir, &cases);
    let mut qemu: Vec<Option<QemuOut>> = (0..cases.len()).map(|_| None).collect();
    for cpu in ["max", "neoverse-n1"] {
        let idx: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].cpu == cpu).collect();
        let sub: Vec<&Case> = idx.iter().map(|&i| &cases[i]).collect();
        let subw: Vec<Vec<u32>> = idx.iter().map(|&i| words[i].clone()).collect();
        for (i, o) in idx.into_iter().zip(run_qemu(&driver, cpu, &pat, &sub, &subw)) {
            qemu[i] = Some(o);
        }
    }
    let qemu: Vec<QemuOut> = qemu.into_iter().map(Option::unwrap).collect();
    let mut m = new_machine(&pat);
    let mut failures = Vec::new();
    let mut qemu_partial = 0;
    let mut partial_ops = std::collections::BTreeSet::new();
    let mut random_outcomes = [0usize; 3];
    let mut faults = 0;
    for (i, ((c, ws), q)) in cases.iter().zip(&words).zip(&qemu).enumerate() {
        let d = run_deja(&mut m, &pat, &c.st, ws);
        let mut why = String::new();
        if sigill_code_masked(d.signal) != sigill_code_masked(q.signal) {
            writeln!(why, "  signal (signo, code, addr, pc): qemu {:x?} deja {:x?}", q.signal, d.signal).unwrap();
        }
        if let Some((4, code, ..)) = d.signal {
            if code != 1 {
                writeln!(why, "  SIGILL with si_code {code}: Linux arm64 reports ILL_ILLOPC (1)").unwrap();
            }
        }
        if c.what == "random" {
            random_outcomes[match q.signal {
                None => 0,
                Some((4, ..)) => 1,
                Some(_) => 2,
            }] += 1;
        }
        if d.signal.is_some() {
            faults += 1;
            // No partial effect: deja's state is the state before the faulting instruction
            // (cases fault on their first instruction or after instructions without effect).
            if c.asm.len() == 1 {
                let ds = diff_state(&c.st, &d.st);
                if !ds.is_empty() {
                    writeln!(why, "  deja changed registers before faulting:\n{ds}").unwrap();
                }
                if d.data[..] != pat[..DATA_RW as usize] {
                    writeln!(why, "  deja changed memory before faulting").unwrap();
                }
            }
            if q.data != d.data || !diff_state(&q.st, &d.st).is_empty() {
                qemu_partial += 1;
                if let Some(i) = deja_decoders::aarch64::decode_word(ws[ws.len() - 1]) {
                    partial_ops.insert(format!("{:?}", i.opcode));
                }
            }
        } else {
            write!(why, "{}", diff_state(&q.st, &d.st)).unwrap();
            write!(why, "{}", diff_data(&q.data, &d.data)).unwrap();
        }
        if !why.is_empty() {
            failures.push(format!("case {i} {}\n{why}", describe(c, ws)));
        }
    }
    eprintln!(
        "a64 load/store vs qemu: {} cases ({} random words: {} executed, {} undefined, {} faulted), {} faulting, {} \
         where qemu left a partial effect ({:?}), {} failures (seed {seed})",
        cases.len(),
        random_outcomes.iter().sum::<usize>(),
        random_outcomes[0],
        random_outcomes[1],
        random_outcomes[2],
        faults,
        qemu_partial,
        partial_ops,
        failures.len()
    );
    for f in failures.iter().take(25) {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} mismatches against qemu (seed {seed})", failures.len());
}

/// End to end: a static program made only of memory instructions and `svc`, run by
/// `deja run` and by qemu-aarch64, must print the same bytes and exit the same way.
#[test]
fn memory_program_vs_qemu() {
    for t in ["qemu-aarch64", "aarch64-linux-gnu-gcc"] {
        if !common::have_tool(t) {
            common::skip_or_fail(&format!("{t} not installed"));
            return;
        }
    }
    let dir = tool_dir();
    let exe = dir.join("program");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/a64_mem/program.S");
    run_tool(
        Command::new("aarch64-linux-gnu-gcc")
            .args(["-nostdlib", "-static", "-march=armv8.1-a", "-o"])
            .arg(&exe)
            .arg(src),
    );
    let q = Command::new("qemu-aarch64").args(["-cpu", "neoverse-n1"]).arg(&exe).output().unwrap();
    let d = Command::new(common::deja_bin()).arg("run").arg(&exe).output().unwrap();
    assert_eq!(q.stdout.len(), 256);
    assert_eq!(d.stdout, q.stdout, "stdout differs; deja stderr: {}", String::from_utf8_lossy(&d.stderr));
    assert_eq!(d.status.code(), q.status.code());
}

/// glibc's memory and string routines and C11 atomics (LL/SC and LSE builds) under
/// `deja run` and qemu-aarch64: same output.
#[test]
fn c_memops_vs_qemu() {
    for t in ["qemu-aarch64", "aarch64-linux-gnu-gcc"] {
        if !common::have_tool(t) {
            common::skip_or_fail(&format!("{t} not installed"));
            return;
        }
    }
    let dir = tool_dir();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/a64_mem/memops.c");
    for (name, march) in
        [("memops-llsc", &["-march=armv8-a", "-mno-outline-atomics"][..]), ("memops-lse", &["-march=armv8.1-a"])]
    {
        let exe = dir.join(name);
        run_tool(
            Command::new("aarch64-linux-gnu-gcc").args(["-static", "-O2"]).args(march).arg("-o").arg(&exe).arg(&src),
        );
        let q = Command::new("qemu-aarch64").arg(&exe).output().unwrap();
        let d = Command::new(common::deja_bin()).arg("run").arg(&exe).output().unwrap();
        assert!(q.status.success(), "{name} under qemu: {}", String::from_utf8_lossy(&q.stderr));
        assert_eq!(
            String::from_utf8_lossy(&d.stdout),
            String::from_utf8_lossy(&q.stdout),
            "{name}: deja stderr: {}",
            String::from_utf8_lossy(&d.stderr)
        );
        assert_eq!(d.status.code(), q.status.code(), "{name}");
    }
}
