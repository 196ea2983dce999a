//! Floating-point arithmetic executed on the host: add, subtract, multiply, divide, square
//! root and fused multiply-add of singles and doubles (see `fp_core.rs` for the approach:
//! the IEEE operation on the host, with the Arm rules for NaNs, flush-to-zero, default NaN
//! and tininess done around it). Three paths:
//! - round to nearest with operands and result safely inside the normal range: the native
//!   operation plus an error-free transformation for IXC, no MXCSR access (the hot path);
//! - otherwise the same instruction under the guest's rounding mode in MXCSR, whose flags
//!   are then mapped to FPSR;
//! - fused multiply-add on a host without FMA: exact software ([`soft_muladd`]).

use super::fp_core::{flush_in, fpsr, process_nan, process_nans2, process_nans3, round_pack, Env, Fmt, Rounding};
use core::arch::asm;

// ---------------------------------------------------------------------------------------
// Host arithmetic
// ---------------------------------------------------------------------------------------

/// MXCSR bits.
mod mx {
    pub const IE: u32 = 1 << 0;
    pub const ZE: u32 = 1 << 2;
    pub const OE: u32 = 1 << 3;
    pub const PE: u32 = 1 << 5;
    /// All six exceptions masked, flags clear, FTZ/DAZ off.
    pub const BASE: u32 = 0x3f << 7;
    pub const RC_SHIFT: u32 = 13;
}

/// The binary arithmetic operations executed on the host.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

macro_rules! host_binop {
    ($name:ident, $t:ty, $add:literal, $sub:literal, $mul:literal, $div:literal) => {
        #[inline(always)]
        fn $name(op: Arith, a: $t, b: $t, csr_in: u32) -> ($t, u32) {
            let mut x = a;
            let mut csr = [csr_in, 0u32];
            macro_rules! run {
                                                                        ($insn:literal) => {
                                                                            // SAFETY: the block only touches `x`, `b` and the two words of `csr`; MXCSR
                                                                            // is saved and restored around the one instruction executed under the
                                                                            // guest's settings.
                                                                            unsafe {
                                                                                asm!(
                                                                                    "stmxcsr [{p} + 4]",
                                                                                    "ldmxcsr [{p}]",
                                                                                    concat!($insn, " {x}, {y}"),
                                                                                    "stmxcsr [{p}]",
                                                                                    "ldmxcsr [{p} + 4]",
                                                                                    p = in(reg) csr.as_mut_ptr(),
                                                                                    x = inout(xmm_reg) x,
                                                                                    y = in(xmm_reg) b,
                                                                                    options(nostack, preserves_flags),
                                                                                )
                                                                            }
                                                                        };
                                                                    }
            match op {
                Arith::Add => run!($add),
                Arith::Sub => run!($sub),
                Arith::Mul => run!($mul),
                Arith::Div => run!($div),
            }
            (x, csr[0])
        }
    };
}

host_binop!(host_binop_s, f32, "addss", "subss", "mulss", "divss");
host_binop!(host_binop_d, f64, "addsd", "subsd", "mulsd", "divsd");

macro_rules! host_unop {
    ($name:ident, $t:ty, $insn:literal) => {
        #[inline(always)]
        fn $name(a: $t, csr_in: u32) -> ($t, u32) {
            let mut x = a;
            let mut csr = [csr_in, 0u32];
            // SAFETY: as in `host_binop`.
            unsafe {
                asm!(
                    "stmxcsr [{p} + 4]",
                    "ldmxcsr [{p}]",
                    concat!($insn, " {x}, {x}"),
                    "stmxcsr [{p}]",
                    "ldmxcsr [{p} + 4]",
                    p = in(reg) csr.as_mut_ptr(),
                    x = inout(xmm_reg) x,
                    options(nostack, preserves_flags),
                )
            }
            (x, csr[0])
        }
    };
}

host_unop!(host_sqrt_s, f32, "sqrtss");
host_unop!(host_sqrt_d, f64, "sqrtsd");

macro_rules! host_fma {
    ($name:ident, $t:ty, $insn:literal) => {
        /// `acc + n * m` with one rounding (the host must have FMA: see [`has_fma`]).
        #[inline(always)]
        fn $name(acc: $t, n: $t, m: $t, csr_in: u32) -> ($t, u32) {
            let mut x = acc;
            let mut csr = [csr_in, 0u32];
            // SAFETY: as in `host_binop`; only called when the host CPU has FMA.
            unsafe {
                asm!(
                    "stmxcsr [{p} + 4]",
                    "ldmxcsr [{p}]",
                    concat!($insn, " {x}, {n}, {m}"),
                    "stmxcsr [{p}]",
                    "ldmxcsr [{p} + 4]",
                    p = in(reg) csr.as_mut_ptr(),
                    x = inout(xmm_reg) x,
                    n = in(xmm_reg) n,
                    m = in(xmm_reg) m,
                    options(nostack, preserves_flags),
                )
            }
            (x, csr[0])
        }
    };
}

host_fma!(host_fma_s, f32, "vfmadd231ss");
host_fma!(host_fma_d, f64, "vfmadd231sd");

/// Does the host have the FMA instructions? (Checked once; without them fused
/// multiply-add uses the software path, [`soft_muladd`].)
#[inline(always)]
pub fn has_fma() -> bool {
    use std::sync::OnceLock;
    static FMA: OnceLock<bool> = OnceLock::new();
    *FMA.get_or_init(|| std::arch::is_x86_feature_detected!("fma"))
}

/// The MXCSR for rounding `r` (TieEven/PosInf/NegInf/Zero only).
#[inline(always)]
fn mxcsr_for(r: Rounding) -> u32 {
    let rc = match r {
        Rounding::PosInf => 2,
        Rounding::NegInf => 1,
        Rounding::Zero => 3,
        _ => 0,
    };
    mx::BASE | (rc << mx::RC_SHIFT)
}

/// One host operation on the bit patterns of `fmt` (S or D) values.
#[derive(Clone, Copy, Debug)]
enum HostOp {
    Bin(Arith, u64, u64),
    Sqrt(u64),
    Fma(u64, u64, u64),
}

#[inline(always)]
fn host_exec(fmt: Fmt, op: HostOp, csr: u32) -> (u64, u32) {
    match fmt {
        Fmt::D => {
            let f = f64::from_bits;
            let (r, c) = match op {
                HostOp::Bin(o, a, b) => host_binop_d(o, f(a), f(b), csr),
                HostOp::Sqrt(a) => host_sqrt_d(f(a), csr),
                HostOp::Fma(a, n, m) => host_fma_d(f(a), f(n), f(m), csr),
            };
            (r.to_bits(), c)
        }
        _ => {
            let f = |x: u64| f32::from_bits(x as u32);
            let (r, c) = match op {
                HostOp::Bin(o, a, b) => host_binop_s(o, f(a), f(b), csr),
                HostOp::Sqrt(a) => host_sqrt_s(f(a), csr),
                HostOp::Fma(a, n, m) => host_fma_s(f(a), f(n), f(m), csr),
            };
            (r.to_bits() as u64, c)
        }
    }
}

/// `n * m + a` with one rounding under the host's default MXCSR (round to nearest).
#[inline(always)]
fn fma_d(a: f64, n: f64, m: f64) -> f64 {
    let mut x = a;
    // SAFETY: register-only FMA instruction; only called when the host has FMA.
    unsafe {
        asm!("vfmadd231sd {x}, {n}, {m}", x = inout(xmm_reg) x, n = in(xmm_reg) n, m = in(xmm_reg) m, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

#[inline(always)]
fn fma_s(a: f32, n: f32, m: f32) -> f32 {
    let mut x = a;
    // SAFETY: as in `fma_d`.
    unsafe {
        asm!("vfmadd231ss {x}, {n}, {m}", x = inout(xmm_reg) x, n = in(xmm_reg) n, m = in(xmm_reg) m, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

macro_rules! fast_rn {
    ($name:ident, $t:ty, $fma:ident, $lo:expr, $hi:expr) => {
        /// Round-to-nearest fast path without touching MXCSR: the native operation plus an
        /// error-free transformation that decides exactness (TwoSum for add/sub, the FMA
        /// residual for mul/div/sqrt, TwoProd vs TwoSum(r, -c) for fused multiply-add).
        /// Those are exact when every operand and the result lie in [$lo, $hi] (or are
        /// zero where noted), so no underflow, overflow or invalid operation can occur and
        /// IXC is the only possible flag. `None`: take the MXCSR path.
        #[inline(always)]
        fn $name(op: HostOp, bits: impl Fn(u64) -> $t) -> Option<($t, bool)> {
            let safe = |x: $t| {
                let a = x.abs();
                ($lo..=$hi).contains(&a)
            };
            match op {
                HostOp::Bin(o, a, b) => {
                    let (a, b) = (bits(a), bits(b));
                    match o {
                        Arith::Add | Arith::Sub => {
                            let b = if o == Arith::Sub { -b } else { b };
                            if !(safe(a) || a == 0.0) || !(safe(b) || b == 0.0) {
                                return None;
                            }
                            let s = a + b;
                            if s != 0.0 && !safe(s) {
                                return None;
                            }
                            let bb = s - a;
                            let err = (a - (s - bb)) + (b - bb);
                            Some((s, err != 0.0))
                        }
                        Arith::Mul => {
                            if !safe(a) || !safe(b) {
                                return None;
                            }
                            let r = a * b;
                            Some((r, $fma(-r, a, b) != 0.0))
                        }
                        Arith::Div => {
                            if !safe(a) || !safe(b) {
                                return None;
                            }
                            let r = a / b;
                            if !safe(r) {
                                return None;
                            }
                            Some((r, $fma(a, -r, b) != 0.0))
                        }
                    }
                }
                HostOp::Sqrt(a) => {
                    let a = bits(a);
                    if !safe(a) || a < 0.0 {
                        return None;
                    }
                    let r = a.sqrt();
                    Some((r, $fma(a, -r, r) != 0.0))
                }
                HostOp::Fma(c, a, b) => {
                    let (c, a, b) = (bits(c), bits(a), bits(b));
                    if !safe(a) || !safe(b) || !(safe(c) || c == 0.0) {
                        return None;
                    }
                    let r = $fma(c, a, b);
                    if !safe(r) {
                        return None;
                    }
                    // a*b = u1 + u2 exactly; r - c = d1 + d2 exactly; both pairs are
                    // (RN(x), x - RN(x)), so the values are equal iff the pairs are.
                    let u1 = a * b;
                    let u2 = $fma(-u1, a, b);
                    let d1 = r - c;
                    let bb = d1 - r;
                    let d2 = (r - (d1 - bb)) + (-c - bb);
                    Some((r, !(u1 == d1 && u2 == d2)))
                }
            }
        }
    };
}

fast_rn!(fast_rn_d, f64, fma_d, 1.0e-120, 1.0e120);
fast_rn!(fast_rn_s, f32, fma_s, 1.0e-12, 1.0e12);

/// Run `op` on the host (operands already flushed, no NaNs) and turn the x86 outcome into
/// the Arm one (see the module documentation). The round-to-nearest fast path is inlined
/// into the callers; everything else is [`host_round_slow`].
#[inline(always)]
fn host_round(env: &mut Env, fmt: Fmt, op: HostOp) -> u64 {
    if env.rounding() == Rounding::TieEven && has_fma() {
        let fast = match fmt {
            Fmt::D => fast_rn_d(op, f64::from_bits).map(|(r, x)| (r.to_bits(), x)),
            _ => fast_rn_s(op, |x| f32::from_bits(x as u32)).map(|(r, x)| (r.to_bits() as u64, x)),
        };
        if let Some((r, inexact)) = fast {
            if inexact {
                env.raise(fpsr::IXC);
            }
            return r;
        }
    }
    host_round_slow(env, fmt, op)
}

#[inline(never)]
fn host_round_slow(env: &mut Env, fmt: Fmt, op: HostOp) -> u64 {
    let rounding = env.rounding();
    let (r, hf) = host_exec(fmt, op, mxcsr_for(rounding));
    if hf & mx::IE != 0 {
        env.raise(fpsr::IOC);
        return fmt.default_nan();
    }
    let mut flags = 0;
    if hf & mx::ZE != 0 {
        flags |= fpsr::DZC;
    }
    if hf & mx::OE != 0 {
        flags |= fpsr::OFC;
    }
    if hf & mx::PE != 0 {
        flags |= fpsr::IXC;
    }
    let mag = fmt.abs(r);
    let tiny = if mag < fmt.min_normal() {
        // Zero or denormal result: the exact value was tiny unless it was an exact zero.
        mag != 0 || hf & mx::PE != 0
    } else if mag == fmt.min_normal() && hf & mx::PE != 0 {
        let (rz, _) = host_exec(fmt, op, mxcsr_for(Rounding::Zero));
        fmt.abs(rz) < fmt.min_normal()
    } else {
        false
    };
    if tiny {
        if env.fz(fmt) {
            env.raise(fpsr::UFC);
            return r & fmt.sign_bit();
        }
        if hf & mx::PE != 0 {
            flags |= fpsr::UFC;
        }
    }
    env.raise(flags);
    r
}

// ---------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------

/// FPAdd / FPSub / FPMul / FPDiv. Half precision is not supported (callers reject it).
#[inline(always)]
pub fn arith(env: &mut Env, fmt: Fmt, op: Arith, a: u64, b: u64) -> u64 {
    debug_assert!(fmt != Fmt::H);
    let a = flush_in(env, fmt, a);
    let b = flush_in(env, fmt, b);
    if let Some(r) = process_nans2(env, fmt, a, b) {
        return r;
    }
    host_round(env, fmt, HostOp::Bin(op, a, b))
}

/// FPMulX: FPMul except that infinity times zero is 2.0 with the product's sign.
pub fn mulx(env: &mut Env, fmt: Fmt, a: u64, b: u64) -> u64 {
    let a = flush_in(env, fmt, a);
    let b = flush_in(env, fmt, b);
    if let Some(r) = process_nans2(env, fmt, a, b) {
        return r;
    }
    if (fmt.is_inf(a) && fmt.is_zero(b)) || (fmt.is_zero(a) && fmt.is_inf(b)) {
        return fmt.pow2(fmt.sign(a) != fmt.sign(b), 1);
    }
    host_round(env, fmt, HostOp::Bin(Arith::Mul, a, b))
}

/// FPSqrt.
#[inline(always)]
pub fn sqrt(env: &mut Env, fmt: Fmt, a: u64) -> u64 {
    let a = flush_in(env, fmt, a);
    if fmt.is_nan(a) {
        return process_nan(env, fmt, a);
    }
    host_round(env, fmt, HostOp::Sqrt(a))
}

/// FPMulAdd: `addend + op1 * op2` with a single rounding.
#[inline(always)]
pub fn muladd(env: &mut Env, fmt: Fmt, addend: u64, op1: u64, op2: u64) -> u64 {
    let a = flush_in(env, fmt, addend);
    let n = flush_in(env, fmt, op1);
    let m = flush_in(env, fmt, op2);
    let inf_zero = (fmt.is_inf(n) && fmt.is_zero(m)) || (fmt.is_zero(n) && fmt.is_inf(m));
    if let Some(r) = process_nans3(env, fmt, a, n, m) {
        if fmt.is_nan(a) && !fmt.is_snan(a) && !fmt.is_nan(n) && !fmt.is_nan(m) && inf_zero {
            env.raise(fpsr::IOC);
            return fmt.default_nan();
        }
        return r;
    }
    if has_fma() {
        host_round(env, fmt, HostOp::Fma(a, n, m))
    } else {
        soft_muladd(env, fmt, a, n, m)
    }
}

/// Software FPMulAdd for hosts without FMA (operands flushed, no NaNs): exact product and
/// sum in 256-bit fixed point, then [`round_pack`].
pub fn soft_muladd(env: &mut Env, fmt: Fmt, a: u64, n: u64, m: u64) -> u64 {
    soft_muladd_scaled(env, fmt, a, n, m, 0)
}

/// `(a + n * m) * 2^scale` with a single rounding (operands flushed, no NaNs; `scale` = -1
/// is FRSQRTS's halving).
pub fn soft_muladd_scaled(env: &mut Env, fmt: Fmt, a: u64, n: u64, m: u64, scale: i32) -> u64 {
    let sign_p = fmt.sign(n) != fmt.sign(m);
    let inf_p = fmt.is_inf(n) || fmt.is_inf(m);
    let zero_p = fmt.is_zero(n) || fmt.is_zero(m);
    if (fmt.is_inf(n) && fmt.is_zero(m))
        || (fmt.is_zero(n) && fmt.is_inf(m))
        || (fmt.is_inf(a) && inf_p && fmt.sign(a) != sign_p)
    {
        env.raise(fpsr::IOC);
        return fmt.default_nan();
    }
    if fmt.is_inf(a) {
        return a;
    }
    if inf_p {
        return fmt.inf(sign_p);
    }
    let zero_a = fmt.is_zero(a);
    let rounding = env.rounding();
    if zero_a && zero_p {
        return if fmt.sign(a) == sign_p { a } else { fmt.zero(rounding == Rounding::NegInf) };
    }
    if zero_p {
        if scale == 0 {
            return a;
        }
        let (sa, ea, ma) = fmt.decompose(a);
        return round_pack(env, fmt, sa, ea + scale, ma as u128, rounding, env.fz(fmt), false);
    }
    let (_, pe, pm) = {
        let (_, e1, m1) = fmt.decompose(n);
        let (_, e2, m2) = fmt.decompose(m);
        (sign_p, e1 + e2, m1 as u128 * m2 as u128)
    };
    let fz = env.fz(fmt);
    if zero_a {
        return round_pack(env, fmt, sign_p, pe + scale, pm, rounding, fz, false);
    }
    let (sa, ae, am) = fmt.decompose(a);
    // Align both on the smaller exponent, capped so the sum fits in 256 bits; a value
    // shifted below the cap only contributes a sticky bit, which cannot change the
    // rounding because the other value then has at least 100 more significant bits.
    let lo = pe.min(ae).max(pe.max(ae) - 130);
    let to_wide = |e: i32, mm: u128| -> (u128, u128, bool) {
        // Returns (high, low) of mm * 2^(e - lo) and whether bits were lost.
        let sh = e - lo;
        if sh >= 0 {
            let sh = sh as u32;
            if sh == 0 {
                (0, mm, false)
            } else if sh < 128 {
                (mm >> (128 - sh), mm << sh, false)
            } else {
                (mm << (sh - 128), 0, false)
            }
        } else {
            let s = (-sh) as u32;
            if s >= 128 {
                (0, 0, mm != 0)
            } else {
                (0, mm >> s, mm & ((1u128 << s) - 1) != 0)
            }
        }
    };
    let (ph, pl, pst) = to_wide(pe, pm);
    let (ah, al, ast) = to_wide(ae, am as u128);
    let sticky = pst || ast;
    // Magnitudes as 256-bit integers; add or subtract. Only the smaller operand can have
    // lost bits (see above), so a subtraction with lost bits is one grid unit lower
    // (borrow) plus a sticky bit.
    let (mut rh, mut rl, sign) = if sa == sign_p {
        let (l, c) = pl.overflowing_add(al);
        (ph + ah + c as u128, l, sign_p)
    } else if (ph, pl) >= (ah, al) {
        let (l, b) = pl.overflowing_sub(al);
        (ph - ah - b as u128, l, sign_p)
    } else {
        let (l, b) = al.overflowing_sub(pl);
        (ah - ph - b as u128, l, sa)
    };
    if sticky && sa != sign_p {
        let (l, b) = rl.overflowing_sub(1);
        rl = l;
        rh -= b as u128;
    }
    if rh == 0 && rl == 0 && !sticky {
        return fmt.zero(rounding == Rounding::NegInf);
    }
    // Compress to at most 126 bits plus a sticky bit below them.
    let len = if rh != 0 { 256 - rh.leading_zeros() } else { 128 - rl.leading_zeros() };
    let k = len.saturating_sub(126);
    let (v, lost) = if k == 0 {
        (rl, false)
    } else if k < 128 {
        ((rh << (128 - k)) | (rl >> k), rl & ((1u128 << k) - 1) != 0)
    } else if k == 128 {
        (rh, rl != 0)
    } else {
        (rh >> (k - 128), rl != 0 || rh & ((1u128 << (k - 128)) - 1) != 0)
    };
    let mant = (v << 1) | (lost || sticky) as u128;
    let exp = lo + k as i32 - 1 + scale;
    round_pack(env, fmt, sign, exp, mant, rounding, fz, false)
}

#[cfg(test)]
mod tests {
    use super::super::fp_core::fpcr;
    use super::*;

    fn env(fpcr: u32) -> Env {
        Env::with_fpcr(fpcr)
    }

    #[test]
    fn host_add_matches_native_and_default_nan() {
        let mut e = env(0);
        let r = arith(&mut e, Fmt::D, Arith::Add, 1.5f64.to_bits(), 2.25f64.to_bits());
        assert_eq!(f64::from_bits(r), 3.75);
        assert_eq!(e.flags(), 0);
        let r = arith(&mut e, Fmt::D, Arith::Sub, f64::INFINITY.to_bits(), f64::INFINITY.to_bits());
        assert_eq!(r, 0x7ff8_0000_0000_0000);
        assert_eq!(e.flags(), fpsr::IOC);
        let mut e = env(0);
        let r = arith(&mut e, Fmt::S, Arith::Div, 1.0f32.to_bits() as u64, 3.0f32.to_bits() as u64);
        assert_eq!(r, (1.0f32 / 3.0).to_bits() as u64);
        assert_eq!(e.flags(), fpsr::IXC);
    }

    #[test]
    fn nan_propagation_order() {
        let q1 = 0x7ff8_0000_0000_0001;
        let s2 = 0x7ff0_0000_0000_0002;
        let mut e = env(0);
        assert_eq!(arith(&mut e, Fmt::D, Arith::Add, q1, s2), 0x7ff8_0000_0000_0002);
        assert_eq!(e.flags(), fpsr::IOC);
        let mut e = env(fpcr::DN);
        assert_eq!(arith(&mut e, Fmt::D, Arith::Add, q1, 0), 0x7ff8_0000_0000_0000);
        assert_eq!(e.flags(), 0);
    }

    #[test]
    fn tininess_before_rounding() {
        // min_normal * (1 - 2^-53) rounds to min_normal but is tiny before rounding.
        let mut e = env(0);
        let a = f64::from_bits(0x0010_0000_0000_0000); // 2^-1022
        let b = 1.0 - f64::EPSILON / 2.0; // 1 - 2^-53
        let r = arith(&mut e, Fmt::D, Arith::Mul, a.to_bits(), b.to_bits());
        assert_eq!(r, 0x0010_0000_0000_0000);
        assert_eq!(e.flags(), fpsr::UFC | fpsr::IXC);
        let mut e = env(fpcr::FZ);
        let r = arith(&mut e, Fmt::D, Arith::Mul, a.to_bits(), b.to_bits());
        assert_eq!(r, 0);
        assert_eq!(e.flags(), fpsr::UFC);
    }

    #[test]
    fn soft_fma_matches_host() {
        let vals: [f64; 12] = [
            1.0,
            -1.0,
            3.0,
            1e308,
            -1e-308,
            f64::MIN_POSITIVE,
            5e-324,
            1.0 + f64::EPSILON,
            0.1,
            -7.5e15,
            123456.789,
            2.0f64.powi(-1060),
        ];
        for fp in [0, 1 << 22, 2 << 22, 3 << 22, fpcr::FZ] {
            for &a in &vals {
                for &b in &vals {
                    for &c in &vals {
                        let mut e1 = env(fp);
                        let mut e2 = env(fp);
                        let (a, b, c) = (a.to_bits(), b.to_bits(), c.to_bits());
                        let (fa, fb, fc) =
                            (flush_in(&mut e1, Fmt::D, a), flush_in(&mut e1, Fmt::D, b), flush_in(&mut e1, Fmt::D, c));
                        e2.bits = e1.bits;
                        let h = host_round(&mut e1, Fmt::D, HostOp::Fma(fa, fb, fc));
                        let s = soft_muladd(&mut e2, Fmt::D, fa, fb, fc);
                        assert_eq!((h, e1.flags()), (s, e2.flags()), "fma {a:x} {b:x} {c:x} fpcr {fp:x}");
                    }
                }
            }
        }
    }

    #[test]
    fn fast_path_matches_mxcsr_path() {
        if !has_fma() {
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut fast_hits = 0;
        for fmt in [Fmt::S, Fmt::D] {
            for i in 0..200_000u32 {
                let mut val = || {
                    let r = next();
                    // Exponents around the fast path's limits, around 1.0, and anywhere.
                    let bias = (1u64 << (fmt.exp_bits() - 1)) - 1;
                    let lim = if fmt == Fmt::D { 400 } else { 40 };
                    let e = match r % 4 {
                        0 => bias + lim - 4 + (r >> 8) % 8,
                        1 => bias - lim - 4 + (r >> 8) % 8,
                        2 => bias - 8 + (r >> 8) % 16,
                        _ => (r >> 8) % ((1 << fmt.exp_bits()) - 1),
                    };
                    // Few significant bits half of the time, so exact results happen.
                    let frac = if r & (1 << 40) != 0 { next() & (0xff << (fmt.frac_bits() - 8)) } else { next() };
                    ((r >> 50) & 1) << (fmt.bits() - 1) | e << fmt.frac_bits() | (frac & ((1 << fmt.frac_bits()) - 1))
                };
                let (a, b, c) = (val(), val(), val());
                let op = match i % 6 {
                    0 => HostOp::Bin(Arith::Add, a, b),
                    1 => HostOp::Bin(Arith::Sub, a, b),
                    2 => HostOp::Bin(Arith::Mul, a, b),
                    3 => HostOp::Bin(Arith::Div, a, b),
                    4 => HostOp::Sqrt(a & !fmt.sign_bit()),
                    _ => HostOp::Fma(c, a, b),
                };
                let fast = match fmt {
                    Fmt::D => fast_rn_d(op, f64::from_bits).map(|(r, x)| (r.to_bits(), x)),
                    _ => fast_rn_s(op, |x| f32::from_bits(x as u32)).map(|(r, x)| (r.to_bits() as u64, x)),
                };
                if let Some((r, inexact)) = fast {
                    fast_hits += 1;
                    let (want, hf) = host_exec(fmt, op, mxcsr_for(Rounding::TieEven));
                    assert_eq!(r, want, "{fmt:?} {op:?}");
                    assert_eq!(hf & 0x3f & !2, if inexact { mx::PE } else { 0 }, "{fmt:?} {op:?} flags");
                }
            }
        }
        assert!(fast_hits > 100_000);
    }
}
