//! SSE/SSE2 floating point, legacy (non-VEX) encodings: arithmetic (add sub mul div sqrt min
//! max), compares (cmpXX, comis, ucomis), scalar moves (movss, the SSE form of movsd), shuffles
//! and unpacks. Conversions are in `sse_fp_convert.rs`, MXCSR and FXSAVE in `sse_fp_state.rs`.
//!
//! ## How results are computed
//! Every arithmetic, compare and conversion instruction is executed as *the same host
//! instruction* on the guest's operands (the host is x86-64 too). The guest's rounding control,
//! FTZ and DAZ are loaded into the host MXCSR with every exception masked and the flags
//! cleared; the flags the host raises are collected and the host MXCSR is restored, all inside
//! one `asm!` block so no Rust code ever runs under the guest's settings. These instructions
//! are fully specified by IEEE 754 and the SDM (NaN propagation, min/max operand order,
//! integer indefinite, DAZ/FTZ, tininess after rounding), so the result is bit-exact and the
//! same on every x86-64 host. (`rcpps`/`rsqrtps` and their scalar forms are *not* specified
//! bit-exactly: Intel and AMD return different approximations, so a log recorded on one would
//! not replay on the other. They stay unimplemented; see the task report.)
//!
//! ## Exceptions (MXCSR flags, SIGFPE)
//! With the guest's exceptions masked (Linux starts processes with MXCSR = 0x1f80) the flags
//! of the masked host run are OR-ed into the guest MXCSR. When the guest unmasks an exception
//! and it occurs, the instruction raises #XM, which Linux reports as SIGFPE (trapno 19, si_code
//! from the MXCSR as the kernel computes it). As on hardware, the destination is left unchanged
//! but the exception flags *are* set in MXCSR (the kernel derives si_code from them, and the
//! handler sees them in its fpstate). Which flags are set follows the SDM (11.5.2) and was
//! checked against the host with real traps (see the tests):
//! - pre-computation conditions (IE, DE, ZE) of every element are detected first; if any of
//!   them is unmasked, exactly those flags are set and nothing else is computed;
//! - otherwise, for an element that overflows with OE unmasked, or whose result is tiny with
//!   UE unmasked (tiny regardless of exactness, FTZ ignored), the flags are OE (or UE) plus PE
//!   only if the result rounded to the destination precision with an unbounded exponent is
//!   inexact; every other element contributes its masked flags.

use super::operands::{read_xmm_op, read_xmm_op_aligned, write_xmm_op, xmm_index};
use super::state::fl;
use super::table::Table;
use super::{ud, Res, Trap, M};
use crate::engine::{sig, GuestFault};
use core::arch::asm;
use core::arch::x86_64::__m128i;
use iced_x86::{Instruction, Mnemonic as Mn, OpKind};

/// MXCSR bits.
pub mod mx {
    /// Invalid operation.
    pub const IE: u32 = 1 << 0;
    /// Denormal operand.
    pub const DE: u32 = 1 << 1;
    /// Divide by zero.
    pub const ZE: u32 = 1 << 2;
    /// Overflow.
    pub const OE: u32 = 1 << 3;
    /// Underflow.
    pub const UE: u32 = 1 << 4;
    /// Precision (inexact).
    pub const PE: u32 = 1 << 5;
    /// The six exception flags; the mask of flag `f` is `f << 7`.
    pub const FLAGS: u32 = 0x3f;
    /// Denormals are zeros.
    pub const DAZ: u32 = 1 << 6;
    /// The six exception masks.
    pub const MASKS: u32 = 0x3f << 7;
    /// Rounding control.
    pub const RC: u32 = 3 << 13;
    /// Flush to zero.
    pub const FTZ: u32 = 1 << 15;
    /// Bits that change how results are computed.
    pub const CONTROL: u32 = DAZ | RC | FTZ;
    /// Pre-computation exceptions.
    pub const PRE: u32 = IE | DE | ZE;
    /// Post-computation exceptions.
    pub const POST: u32 = OE | UE | PE;
    /// Writable bits (FXSAVE's MXCSR_MASK). deja's CPU has DAZ and nothing above bit 15 (AMD's
    /// misaligned-SSE bit 17 is not implemented), so this is the same on every host.
    pub const MXCSR_MASK: u32 = 0xffff;
    /// Linux's initial MXCSR: all exceptions masked, round to nearest.
    pub const DEFAULT: u32 = 0x1f80;
}

/// si_code values of SIGFPE for floating-point exceptions (Linux `asm-generic/siginfo.h`).
pub mod fpe {
    pub const FPE_FLTDIV: i32 = 3;
    pub const FPE_FLTOVF: i32 = 4;
    pub const FPE_FLTUND: i32 = 5;
    pub const FPE_FLTRES: i32 = 6;
    pub const FPE_FLTINV: i32 = 7;
}

/// x86 vector of the SIMD floating-point exception (#XM).
pub const TRAP_XM: u64 = 19;

pub fn register(t: &mut Table) {
    use native as n;
    use Ou::*;
    // Arithmetic. The Ou describes what may overflow/underflow: (operation, double, lanes).
    t.add(&[Mn::Addss], |m, i| xmm_binary(m, i, n::addss, Some((Add, false, 1))));
    t.add(&[Mn::Addsd], |m, i| xmm_binary(m, i, n::addsd, Some((Add, true, 1))));
    t.add(&[Mn::Addps], |m, i| xmm_binary(m, i, n::addps, Some((Add, false, 4))));
    t.add(&[Mn::Addpd], |m, i| xmm_binary(m, i, n::addpd, Some((Add, true, 2))));
    t.add(&[Mn::Subss], |m, i| xmm_binary(m, i, n::subss, Some((Sub, false, 1))));
    t.add(&[Mn::Subsd], |m, i| xmm_binary(m, i, n::subsd, Some((Sub, true, 1))));
    t.add(&[Mn::Subps], |m, i| xmm_binary(m, i, n::subps, Some((Sub, false, 4))));
    t.add(&[Mn::Subpd], |m, i| xmm_binary(m, i, n::subpd, Some((Sub, true, 2))));
    t.add(&[Mn::Mulss], |m, i| xmm_binary(m, i, n::mulss, Some((Mul, false, 1))));
    t.add(&[Mn::Mulsd], |m, i| xmm_binary(m, i, n::mulsd, Some((Mul, true, 1))));
    t.add(&[Mn::Mulps], |m, i| xmm_binary(m, i, n::mulps, Some((Mul, false, 4))));
    t.add(&[Mn::Mulpd], |m, i| xmm_binary(m, i, n::mulpd, Some((Mul, true, 2))));
    t.add(&[Mn::Divss], |m, i| xmm_binary(m, i, n::divss, Some((Div, false, 1))));
    t.add(&[Mn::Divsd], |m, i| xmm_binary(m, i, n::divsd, Some((Div, true, 1))));
    t.add(&[Mn::Divps], |m, i| xmm_binary(m, i, n::divps, Some((Div, false, 4))));
    t.add(&[Mn::Divpd], |m, i| xmm_binary(m, i, n::divpd, Some((Div, true, 2))));
    t.add(&[Mn::Sqrtss], |m, i| xmm_binary(m, i, n::sqrtss, None));
    t.add(&[Mn::Sqrtsd], |m, i| xmm_binary(m, i, n::sqrtsd, None));
    t.add(&[Mn::Sqrtps], |m, i| xmm_binary(m, i, n::sqrtps, None));
    t.add(&[Mn::Sqrtpd], |m, i| xmm_binary(m, i, n::sqrtpd, None));
    t.add(&[Mn::Minss], |m, i| xmm_binary(m, i, n::minss, None));
    t.add(&[Mn::Minsd], |m, i| xmm_binary(m, i, n::minsd, None));
    t.add(&[Mn::Minps], |m, i| xmm_binary(m, i, n::minps, None));
    t.add(&[Mn::Minpd], |m, i| xmm_binary(m, i, n::minpd, None));
    t.add(&[Mn::Maxss], |m, i| xmm_binary(m, i, n::maxss, None));
    t.add(&[Mn::Maxsd], |m, i| xmm_binary(m, i, n::maxsd, None));
    t.add(&[Mn::Maxps], |m, i| xmm_binary(m, i, n::maxps, None));
    t.add(&[Mn::Maxpd], |m, i| xmm_binary(m, i, n::maxpd, None));
    // Compares. Cmpsd is registered by string.rs, which forwards the SSE form to cmpsd_sse.
    t.add(&[Mn::Cmpss], |m, i| cmp(m, i, n::cmpss));
    t.add(&[Mn::Cmpps], |m, i| cmp(m, i, n::cmpps));
    t.add(&[Mn::Cmppd], |m, i| cmp(m, i, n::cmppd));
    t.add(&[Mn::Ucomiss], |m, i| comis(m, i, n::ucomiss));
    t.add(&[Mn::Ucomisd], |m, i| comis(m, i, n::ucomisd));
    t.add(&[Mn::Comiss], |m, i| comis(m, i, n::comiss));
    t.add(&[Mn::Comisd], |m, i| comis(m, i, n::comisd));
    // Moves and shuffles (no MXCSR involvement). Movsd: see movsd_sse.
    t.add(&[Mn::Movss], |m, i| mov_scalar(m, i, 4));
    t.add(&[Mn::Shufps, Mn::Shufpd, Mn::Unpcklps, Mn::Unpckhps, Mn::Unpcklpd, Mn::Unpckhpd], shuffle);
}

// ---- native execution ----

/// A host instruction `op xmm_a, xmm_b` run under a given MXCSR: (result, flags raised).
pub(super) type Native2 = fn(u128, u128, u32) -> (u128, u32);

#[inline(always)]
pub(super) fn to_v(x: u128) -> __m128i {
    // SAFETY: u128 and __m128i are both 16 bytes of plain data; every bit pattern is valid.
    unsafe { core::mem::transmute::<u128, __m128i>(x) }
}

#[inline(always)]
pub(super) fn from_v(x: __m128i) -> u128 {
    // SAFETY: as in to_v.
    unsafe { core::mem::transmute::<__m128i, u128>(x) }
}

/// Run `insn x, y[, imm]` on the host with MXCSR = `ctl`; evaluates to (x after, flags).
/// The host MXCSR is saved and restored inside the same asm block.
macro_rules! asm_xx {
    ($insn:ident $(, $imm:literal)?; $a:expr, $b:expr, $ctl:expr) => {{
        let mut x = $crate::isa::x86_64::sse_fp::to_v($a);
        let y = $crate::isa::x86_64::sse_fp::to_v($b);
        let mut csr: [u32; 2] = [$ctl, 0];
        // SAFETY: the block touches only its two xmm operands and the 8 bytes of `csr`, and
        // restores the host MXCSR before it ends, so no Rust code runs with guest settings.
        unsafe {
            core::arch::asm!(
                "stmxcsr [{p} + 4]",
                "ldmxcsr [{p}]",
                concat!(stringify!($insn), " {x}, {y}" $(, ", ", $imm)?),
                "stmxcsr [{p}]",
                "ldmxcsr [{p} + 4]",
                p = in(reg) csr.as_mut_ptr(),
                x = inout(xmm_reg) x,
                y = in(xmm_reg) y,
                options(nostack, preserves_flags),
            );
        }
        ($crate::isa::x86_64::sse_fp::from_v(x), csr[0] & $crate::isa::x86_64::sse_fp::mx::FLAGS)
    }};
}
pub(super) use asm_xx;

/// Host wrappers, one per instruction form (named after the instruction).
pub(super) mod native {
    use super::*;

    macro_rules! natives {
        ($($name:ident),* $(,)?) => {$(
            pub fn $name(a: u128, b: u128, ctl: u32) -> (u128, u32) {
                asm_xx!($name; a, b, ctl)
            }
        )*};
    }
    natives!(
        addss, addsd, addps, addpd, subss, subsd, subps, subpd, mulss, mulsd, mulps, mulpd, divss, divsd, divps, divpd,
        sqrtss, sqrtsd, sqrtps, sqrtpd, minss, minsd, minps, minpd, maxss, maxsd, maxps, maxpd,
    );

    macro_rules! native_cmp {
        ($($name:ident),*) => {$(
            pub fn $name(a: u128, b: u128, ctl: u32, pred: u8) -> (u128, u32) {
                match pred & 7 {
                    0 => asm_xx!($name, "0"; a, b, ctl),
                    1 => asm_xx!($name, "1"; a, b, ctl),
                    2 => asm_xx!($name, "2"; a, b, ctl),
                    3 => asm_xx!($name, "3"; a, b, ctl),
                    4 => asm_xx!($name, "4"; a, b, ctl),
                    5 => asm_xx!($name, "5"; a, b, ctl),
                    6 => asm_xx!($name, "6"; a, b, ctl),
                    _ => asm_xx!($name, "7"; a, b, ctl),
                }
            }
        )*};
    }
    native_cmp!(cmpss, cmpsd, cmpps, cmppd);

    /// (u)comis: returns (ZF|PF|CF as RFLAGS bits, MXCSR flags).
    macro_rules! native_comis {
        ($($name:ident),*) => {$(
            pub fn $name(a: u128, b: u128, ctl: u32) -> (u64, u32) {
                let (z, p, c): (u8, u8, u8);
                let mut csr: [u32; 2] = [ctl, 0];
                // SAFETY: touches only the named registers and `csr`; restores the host MXCSR.
                unsafe {
                    asm!(
                        "stmxcsr [{csr} + 4]",
                        "ldmxcsr [{csr}]",
                        concat!(stringify!($name), " {x}, {y}"),
                        "setz {z}",
                        "setp {p}",
                        "setc {c}",
                        "stmxcsr [{csr}]",
                        "ldmxcsr [{csr} + 4]",
                        csr = in(reg) csr.as_mut_ptr(),
                        x = in(xmm_reg) to_v(a),
                        y = in(xmm_reg) to_v(b),
                        z = out(reg_byte) z,
                        p = out(reg_byte) p,
                        c = out(reg_byte) c,
                        options(nostack),
                    );
                }
                let f = if z != 0 { fl::ZF } else { 0 } | if p != 0 { fl::PF } else { 0 } | if c != 0 { fl::CF } else { 0 };
                (f, csr[0] & mx::FLAGS)
            }
        )*};
    }
    native_comis!(ucomiss, ucomisd, comiss, comisd);
}

// ---- exception handling ----

/// Operations that can overflow or underflow, for the unmasked OE/UE path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ou {
    Add,
    Sub,
    Mul,
    Div,
    /// double → single (cvtsd2ss, cvtpd2ps).
    Cvt,
}

/// An instruction that may overflow/underflow: the operation, whether its inputs are doubles,
/// how many lanes it computes, and its operands (`a` = destination, `b` = source).
#[derive(Debug, Clone, Copy)]
pub(super) struct OuInfo {
    pub op: Ou,
    pub dbl: bool,
    pub lanes: usize,
    pub a: u128,
    pub b: u128,
}

/// Run `run` natively with the guest's rounding/FTZ/DAZ and all exceptions masked, then apply
/// the guest's exception masks: OR the flags into MXCSR and return the value, or raise SIGFPE
/// (#XM) when an unmasked exception occurred (flags set as hardware does, value discarded).
/// `ou` describes instructions that can overflow/underflow (see the module comment).
#[inline]
pub(super) fn fp<T>(
    m: &mut M,
    ins: &Instruction,
    ou: Option<OuInfo>,
    run: impl Fn(u32) -> (T, u32),
) -> Result<T, Trap> {
    let csr = m.cpu.mxcsr;
    let ctl = (csr & mx::CONTROL) | mx::MASKS;
    let (val, mut flags) = run(ctl);
    let unmasked = !(csr >> 7) & mx::FLAGS;
    if flags & unmasked & mx::PRE != 0 {
        // An unmasked pre-computation exception: results are not computed, so only the
        // pre-computation conditions (of all elements) are reported.
        flags &= mx::PRE;
    } else if let Some(o) = ou {
        let oe = unmasked & mx::OE != 0 && flags & mx::OE != 0;
        if oe || (unmasked & mx::UE != 0 && run(ctl | mx::FTZ).1 & mx::UE != 0) {
            flags = (flags & mx::PRE) | post_flags(&o, ctl, unmasked);
        }
    }
    m.cpu.mxcsr |= flags;
    if flags & unmasked != 0 {
        return Err(simd_fault(ins, m.cpu.mxcsr));
    }
    Ok(val)
}

/// SIGFPE for #XM, with si_code chosen as Linux does (`fpu__exception_code`): from the
/// unmasked flags of the whole MXCSR, invalid > divide > overflow > underflow/denormal > inexact.
pub(super) fn simd_fault(ins: &Instruction, mxcsr: u32) -> Trap {
    let err = !(mxcsr >> 7) & mxcsr;
    let code = if err & mx::IE != 0 {
        fpe::FPE_FLTINV
    } else if err & mx::ZE != 0 {
        fpe::FPE_FLTDIV
    } else if err & mx::OE != 0 {
        fpe::FPE_FLTOVF
    } else if err & (mx::UE | mx::DE) != 0 {
        fpe::FPE_FLTUND
    } else if err & mx::PE != 0 {
        fpe::FPE_FLTRES
    } else {
        0
    };
    let mut f = GuestFault::new(sig::SIGFPE, code, ins.ip());
    f.trapno = TRAP_XM;
    Trap::Fault(f)
}

/// Post-computation flags when OE or UE is unmasked and some element overflows or is tiny:
/// element by element (module comment).
#[cold]
fn post_flags(o: &OuInfo, ctl: u32, unmasked: u32) -> u32 {
    let daz = ctl & mx::DAZ != 0;
    let w = if o.dbl { 64 } else { 32 };
    let lane = |v: u128, i: usize| ((v >> (i * w)) as u64) & (u64::MAX >> (64 - w));
    let mut out = 0;
    for i in 0..o.lanes {
        let (a, b) = (lane(o.a, i), lane(o.b, i));
        let f = scalar_flags(o.op, o.dbl, a, b, ctl);
        let cond = if unmasked & mx::OE != 0 && f & mx::OE != 0 {
            mx::OE
        } else if unmasked & mx::UE != 0 && scalar_flags(o.op, o.dbl, a, b, ctl | mx::FTZ) & mx::UE != 0 {
            mx::UE
        } else {
            out |= f & mx::POST;
            continue;
        };
        out |= cond | if inexact_unbounded(o.op, o.dbl, a, b, daz) { mx::PE } else { 0 };
    }
    out
}

/// Flags of the scalar form of `op` on one element.
fn scalar_flags(op: Ou, dbl: bool, a: u64, b: u64, ctl: u32) -> u32 {
    use native as n;
    let f: Native2 = match (op, dbl) {
        (Ou::Add, false) => n::addss,
        (Ou::Add, true) => n::addsd,
        (Ou::Sub, false) => n::subss,
        (Ou::Sub, true) => n::subsd,
        (Ou::Mul, false) => n::mulss,
        (Ou::Mul, true) => n::mulsd,
        (Ou::Div, false) => n::divss,
        (Ou::Div, true) => n::divsd,
        (Ou::Cvt, _) => super::sse_fp_convert::native::cvtsd2ss,
    };
    f(a as u128, b as u128, ctl).1
}

/// A finite value as `(negative, m, e)` with value `m * 2^e` and `m` odd (or 0); denormals
/// are zero under DAZ.
fn decompose(bits: u64, dbl: bool, daz: bool) -> (bool, u64, i32) {
    let (fbits, ebits) = if dbl { (52, 11) } else { (23, 8) };
    let bias = (1 << (ebits - 1)) - 1;
    let neg = bits >> (fbits + ebits) & 1 != 0;
    let exp = ((bits >> fbits) & ((1 << ebits) - 1)) as i32;
    let frac = bits & ((1u64 << fbits) - 1);
    let (m, e) =
        if exp == 0 { (if daz { 0 } else { frac }, 1 - bias - fbits) } else { (frac | 1 << fbits, exp - bias - fbits) };
    if m == 0 {
        return (neg, 0, 0);
    }
    let tz = m.trailing_zeros();
    (neg, m >> tz, e + tz as i32)
}

/// Number of significant bits of `x` (from its highest to its lowest set bit).
fn sig_bits(x: u128) -> u32 {
    if x == 0 {
        0
    } else {
        128 - x.leading_zeros() - x.trailing_zeros()
    }
}

/// Is the exact result of `op` on finite `a`, `b` not representable with the destination's
/// precision (an unbounded exponent)? This is what sets PE along an unmasked OE/UE.
fn inexact_unbounded(op: Ou, dbl: bool, a: u64, b: u64, daz: bool) -> bool {
    let p = if dbl && op != Ou::Cvt { 53 } else { 24 };
    let (sa, ma, ea) = decompose(a, dbl, daz);
    let (sb, mb, eb) = decompose(b, dbl, daz);
    match op {
        Ou::Cvt => sig_bits(mb as u128) > p,
        Ou::Mul => sig_bits(ma as u128 * mb as u128) > p,
        // ma, mb odd: the quotient is finite in binary iff mb divides ma, and then it is odd
        // and no wider than ma.
        Ou::Div => mb != 0 && ma % mb != 0,
        Ou::Add | Ou::Sub => {
            let sb = sb ^ (op == Ou::Sub);
            if ma == 0 || mb == 0 {
                return false;
            }
            let lo = ea.min(eb);
            let d = (ea.max(eb) - lo) as u32;
            if d > 64 {
                // The lower term's lowest set bit survives and the sum spans more than 64 bits.
                return true;
            }
            let term = |s: bool, m: u64, e: i32| {
                let v = (m as i128) << (e - lo);
                if s {
                    -v
                } else {
                    v
                }
            };
            sig_bits((term(sa, ma, ea) + term(sb, mb, eb)).unsigned_abs()) > p
        }
    }
}

// ---- handlers ----

/// `op xmm, xmm/mem` through a host wrapper (arithmetic, xmm↔xmm conversions). `ou` =
/// (operation, double inputs, lanes) for instructions that can overflow/underflow.
#[inline]
pub(super) fn xmm_binary(m: &mut M, ins: &Instruction, f: Native2, ou: Option<(Ou, bool, usize)>) -> Res {
    let d = xmm_index(ins.op0_register());
    let a = m.cpu.xmm[d];
    let b = read_xmm_op_aligned(m, ins, 1)?;
    let ou = ou.map(|(op, dbl, lanes)| OuInfo { op, dbl, lanes, a, b });
    m.cpu.xmm[d] = fp(m, ins, ou, |ctl| f(a, b, ctl))?;
    Ok(())
}

/// cmpss/cmpsd/cmpps/cmppd xmm, xmm/mem, imm8 (predicate = imm8 & 7).
fn cmp(m: &mut M, ins: &Instruction, f: fn(u128, u128, u32, u8) -> (u128, u32)) -> Res {
    let d = xmm_index(ins.op0_register());
    let a = m.cpu.xmm[d];
    let b = read_xmm_op_aligned(m, ins, 1)?;
    let pred = ins.immediate8();
    m.cpu.xmm[d] = fp(m, ins, None, |ctl| f(a, b, ctl, pred))?;
    Ok(())
}

/// comiss/comisd/ucomiss/ucomisd: ZF PF CF from the compare, OF SF AF cleared.
fn comis(m: &mut M, ins: &Instruction, f: fn(u128, u128, u32) -> (u64, u32)) -> Res {
    let a = m.cpu.xmm[xmm_index(ins.op0_register())];
    let b = read_xmm_op(m, ins, 1)?;
    let zpc = fp(m, ins, None, |ctl| f(a, b, ctl))?;
    m.cpu.rflags = (m.cpu.rflags & !fl::STATUS) | zpc;
    Ok(())
}

/// SSE2 `cmpsd xmm, xmm/m64, imm8` (string.rs owns the `Cmpsd` mnemonic and forwards here).
pub fn cmpsd_sse(m: &mut M, ins: &Instruction) -> Res {
    if ins.op_count() != 3 || ins.op0_kind() != OpKind::Register || !ins.op0_register().is_xmm() {
        return Err(ud(ins));
    }
    cmp(m, ins, native::cmpsd)
}

/// SSE2 `movsd` (string.rs owns the `Movsd` mnemonic and forwards the non-string forms here).
pub fn movsd_sse(m: &mut M, ins: &Instruction) -> Res {
    if ins.op_count() != 2 || ins.is_string_instruction() {
        return Err(ud(ins));
    }
    mov_scalar(m, ins, 8)
}

/// movss/movsd: register to register merges the low element; a load zeroes the rest of the
/// register; a store writes the low element only.
fn mov_scalar(m: &mut M, ins: &Instruction, size: u32) -> Res {
    let low = u128::MAX >> (128 - size * 8);
    if ins.op0_kind() == OpKind::Register {
        let d = xmm_index(ins.op0_register());
        let v = read_xmm_op(m, ins, 1)?;
        m.cpu.xmm[d] = if ins.op1_kind() == OpKind::Register { (m.cpu.xmm[d] & !low) | (v & low) } else { v & low };
        Ok(())
    } else {
        let v = m.cpu.xmm[xmm_index(ins.op1_register())];
        write_xmm_op(m, ins, 0, v & low)
    }
}

/// shufps, shufpd, unpck{l,h}{ps,pd}: pure data movement, no exceptions.
fn shuffle(m: &mut M, ins: &Instruction) -> Res {
    let d = xmm_index(ins.op0_register());
    let a = m.cpu.xmm[d];
    let b = read_xmm_op_aligned(m, ins, 1)?;
    let s = |v: u128, i: u32| (v >> (32 * (i & 3))) as u32 as u128;
    let q = |v: u128, i: u32| (v >> (64 * (i & 1))) as u64 as u128;
    let r = match ins.mnemonic() {
        Mn::Shufps => {
            let i = ins.immediate8() as u32;
            s(a, i) | s(a, i >> 2) << 32 | s(b, i >> 4) << 64 | s(b, i >> 6) << 96
        }
        Mn::Shufpd => {
            let i = ins.immediate8() as u32;
            q(a, i) | q(b, i >> 1) << 64
        }
        Mn::Unpcklps => s(a, 0) | s(b, 0) << 32 | s(a, 1) << 64 | s(b, 1) << 96,
        Mn::Unpckhps => s(a, 2) | s(b, 2) << 32 | s(a, 3) << 64 | s(b, 3) << 96,
        Mn::Unpcklpd => q(a, 0) | q(b, 0) << 64,
        Mn::Unpckhpd => q(a, 1) | q(b, 1) << 64,
        _ => return Err(ud(ins)),
    };
    m.cpu.xmm[d] = r;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32b(x: f32) -> u64 {
        x.to_bits() as u64
    }

    #[test]
    fn inexact_unbounded_cases() {
        use Ou::*;
        // 3e38 + 3e38 = 6e38: only the exponent changes.
        assert!(!inexact_unbounded(Add, false, f32b(3e38), f32b(3e38), false));
        // big + 1: the 1 is far below big's last bit.
        assert!(inexact_unbounded(Add, false, f32b(3e38), f32b(1.0), false));
        assert!(!inexact_unbounded(Sub, false, f32b(1.0), f32b(1.0), false));
        // (1+2^-23)(1-2^-23) = 1-2^-46 needs 46 bits.
        let (p, q) = (f32b(1.0 + f32::EPSILON), f32b(1.0 - f32::EPSILON));
        assert!(inexact_unbounded(Mul, false, p, q, false));
        assert!(!inexact_unbounded(Mul, true, f64::to_bits(1.0 + f64::EPSILON), f64::to_bits(2.0), false));
        assert!(!inexact_unbounded(Div, false, f32b(3.0), f32b(1.5), false));
        assert!(inexact_unbounded(Div, false, f32b(1.0), f32b(3.0), false));
        assert!(!inexact_unbounded(Cvt, true, 0, f64::to_bits(0.5), false));
        assert!(inexact_unbounded(Cvt, true, 0, f64::to_bits(0.1), false));
        // A denormal plus a huge value: 2^-149 + 2^127 spans 277 bits.
        assert!(inexact_unbounded(Add, false, 1, f32b(2f32.powi(127)), false));
        // ... but under DAZ the denormal is zero.
        assert!(!inexact_unbounded(Add, false, 1, f32b(2f32.powi(127)), true));
    }

    #[test]
    fn simd_fault_si_code() {
        let ins = Instruction::default();
        let code = |csr| match simd_fault(&ins, csr) {
            Trap::Fault(f) => (f.code, f.trapno),
            _ => unreachable!(),
        };
        assert_eq!(code(0x1f80 & !(mx::ZE << 7) | mx::ZE | mx::PE), (fpe::FPE_FLTDIV, 19));
        assert_eq!(code(0x1f80 & !(mx::PE << 7) | mx::OE | mx::PE), (fpe::FPE_FLTRES, 19));
        assert_eq!(code(mx::DE), (fpe::FPE_FLTUND, 19));
        assert_eq!(code(mx::IE | mx::PE), (fpe::FPE_FLTINV, 19));
    }
}
