//! Advanced SIMD floating point (Arm ARM C4.1.96), single and double precision elements,
//! vector and scalar forms, computed element by element with `fp_core.rs` (so NaN rules,
//! FZ, DN, rounding and FPSR flags are the scalar ones):
//! - three same: FMAXNM FMLA FADD FMULX FCMEQ FMAX FRECPS FMINNM FMLS FSUB FMIN FRSQRTS
//!   FMAXNMP FADDP FMUL FCMGE FACGE FMAXP FDIV FMINNMP FABD FCMGT FACGT FMINP;
//! - two-register miscellaneous: FCVTN(2) FCVTXN(2) FCVTL(2) FRINT<N,P,M,Z,A,X,I>
//!   FCVT<N,P,M,Z,A><S,U> SCVTF UCVTF FCMGT/FCMEQ/FCMLT/FCMGE/FCMLE (zero) FABS FNEG FSQRT
//!   FRECPX;
//! - across lanes FMAXNMV FMINNMV FMAXV FMINV, scalar pairwise ADDP FADDP FMAXP FMINP
//!   FMAXNMP FMINNMP, and the fixed-point conversions of the shift-by-immediate class.
//!
//! - the estimates FRECPE FRSQRTE URECPE URSQRTE.
//!
//! - FRINT32Z FRINT32X FRINT64Z FRINT64X (FEAT_FRINTTS).
//!
//! Not implemented (SIGILL): FP16 arithmetic (FEAT_FP16), FMLAL/FMLSL (FEAT_FHM).

// Opcode keys are written U_a_opcode (e.g. 0b1_0_11010 is U=1, a=0, opcode=11010).
#![allow(clippy::unusual_byte_groupings)]

use super::fp::{rd, rm, rn};
use super::fp_core::{self as fc, Arith, Cmp, Env, Fmt, MinMax, Rounding};
use super::simd::{emask, get, lanes, put, q, set_v, size, u, vr};
use super::simd_int::{pairwise, write_part};
use super::{Decoded, Res, M};

/// The format of an `es`-bit element.
#[inline(always)]
pub fn fmt_of(es: u32) -> Fmt {
    match es {
        16 => Fmt::H,
        32 => Fmt::S,
        _ => Fmt::D,
    }
}

/// Element-wise `f` over `n` elements of `es` bits of `a`, `b` and the destination `c`.
#[inline(always)]
fn fmap3(
    env: &mut Env,
    a: u128,
    b: u128,
    c: u128,
    es: u32,
    n: u32,
    mut f: impl FnMut(&mut Env, u64, u64, u64) -> u64,
) -> u128 {
    let mut r = 0u128;
    for e in 0..n {
        put(&mut r, es, e, f(env, get(a, es, e), get(b, es, e), get(c, es, e)));
    }
    r
}

/// Write a vector (or, for `scalar`, one element with the register's rest zeroed).
#[inline(always)]
fn write(m: &mut M, dd: usize, r: u128, scalar: bool, es: u32, qq: bool) {
    if scalar {
        m.cpu.v[dd] = r & emask(es) as u128;
    } else {
        set_v(m, dd, r, qq);
    }
}

/// FPRecipStepFused (FRECPS: 2 - a*b) and FPRSqrtStepFused (FRSQRTS: (3 - a*b) / 2).
pub fn step_fused(env: &mut Env, fmt: Fmt, a: u64, b: u64, rsqrt: bool) -> u64 {
    let a = fc::flush_in(env, fmt, fmt.neg(a));
    let b = fc::flush_in(env, fmt, b);
    if let Some(r) = fc::process_nans2(env, fmt, a, b) {
        return r;
    }
    let (inf_a, inf_b) = (fmt.is_inf(a), fmt.is_inf(b));
    if (inf_a && fmt.is_zero(b)) || (fmt.is_zero(a) && inf_b) {
        return if rsqrt { fmt.pow2(false, 0) | (1u64 << (fmt.frac_bits() - 1)) } else { fmt.pow2(false, 1) };
    }
    if inf_a || inf_b {
        return fmt.inf(fmt.sign(a) != fmt.sign(b));
    }
    if rsqrt {
        fc::soft_muladd_scaled(env, fmt, fmt.pow2(false, 1) | (1u64 << (fmt.frac_bits() - 1)), a, b, -1)
    } else {
        fc::muladd(env, fmt, fmt.pow2(false, 1), a, b)
    }
}

/// FRECPX: the reciprocal exponent.
pub fn recpx(env: &mut Env, fmt: Fmt, x: u64) -> u64 {
    let x = fc::flush_in(env, fmt, x);
    if fmt.is_nan(x) {
        return fc::process_nan(env, fmt, x);
    }
    let sign = x & fmt.sign_bit();
    let e = fmt.exp_field(x);
    let emax = (1u64 << fmt.exp_bits()) - 1;
    if e == 0 {
        // Zero or denormal: the maximum exponent minus one.
        sign | ((emax - 1) << fmt.frac_bits())
    } else {
        sign | ((!e & emax) << fmt.frac_bits())
    }
}

// ---------------------------------------------------------------------------------------
// Three same
// ---------------------------------------------------------------------------------------

/// The FP opcodes (11000..11111) of Advanced SIMD (scalar) three same.
pub fn three_same(m: &mut M, d: &Decoded, scalar: bool) -> Res {
    let w = d.word;
    let qq = q(w);
    let uu = u(w);
    let opc = (w >> 11) & 31;
    let a_bit = (w >> 23) & 1;
    let sz = (w >> 22) & 1;
    let key = ((uu as u32) << 4) | (a_bit << 3) | (opc & 7);
    // Implemented (key = U:a:opc<2:0>).
    let vec_ok = matches!(key, 0..=4 | 6 | 7 | 8..=10 | 14 | 15 | 16 | 18..=24 | 26 | 28..=30);
    let scalar_ok = matches!(key, 3 | 4 | 7 | 15 | 20 | 21 | 26 | 28 | 29);
    if (scalar && !scalar_ok) || (!scalar && !vec_ok) {
        // FMLAL/FMLSL (FEAT_FHM) or unallocated.
        return if matches!(key, 5 | 13 | 17 | 25) { super::unimplemented(m, d) } else { Err(super::undefined(d)) };
    }
    if !scalar && sz == 1 && !qq {
        return Err(super::undefined(d));
    }
    let es = 32 << sz;
    let fmt = fmt_of(es);
    let n = if scalar { 1 } else { lanes(es, qq) };
    let a = vr(m, rn(w));
    let b = vr(m, rm(w));
    let dd = rd(w);
    let c = vr(m, dd);
    let mut env = Env::new(m);
    let ones = emask(es);
    let t = |v: bool| if v { ones } else { 0 };
    let r = match key {
        // Pairwise forms.
        16 | 18 | 22 | 24 | 30 => {
            let kind = match key {
                16 => Some(MinMax::MaxNum),
                22 => Some(MinMax::Max),
                24 => Some(MinMax::MinNum),
                30 => Some(MinMax::Min),
                _ => None,
            };
            pairwise(a, b, es, n, |x, y| match kind {
                Some(k) => fc::minmax(&mut env, fmt, k, x, y),
                None => fc::arith(&mut env, fmt, Arith::Add, x, y),
            })
        }
        _ => fmap3(&mut env, a, b, c, es, n, |env, x, y, acc| match key {
            0 => fc::minmax(env, fmt, MinMax::MaxNum, x, y),
            1 => fc::muladd(env, fmt, acc, x, y),
            2 => fc::arith(env, fmt, Arith::Add, x, y),
            3 => fc::mulx(env, fmt, x, y),
            4 => t(fc::compare_cond(env, fmt, x, y, Cmp::Eq)),
            6 => fc::minmax(env, fmt, MinMax::Max, x, y),
            7 => step_fused(env, fmt, x, y, false),
            8 => fc::minmax(env, fmt, MinMax::MinNum, x, y),
            9 => fc::muladd(env, fmt, acc, fmt.neg(x), y),
            10 => fc::arith(env, fmt, Arith::Sub, x, y),
            14 => fc::minmax(env, fmt, MinMax::Min, x, y),
            15 => step_fused(env, fmt, x, y, true),
            19 => fc::arith(env, fmt, Arith::Mul, x, y),
            20 => t(fc::compare_cond(env, fmt, x, y, Cmp::Ge)),
            21 => t(fc::compare_cond(env, fmt, fmt.abs(x), fmt.abs(y), Cmp::Ge)),
            23 => fc::arith(env, fmt, Arith::Div, x, y),
            26 => fmt.abs(fc::arith(env, fmt, Arith::Sub, x, y)),
            28 => t(fc::compare_cond(env, fmt, x, y, Cmp::Gt)),
            _ => t(fc::compare_cond(env, fmt, fmt.abs(x), fmt.abs(y), Cmp::Gt)),
        }),
    };
    write(m, dd, r, scalar, es, qq);
    env.commit(m);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Two-register miscellaneous
// ---------------------------------------------------------------------------------------

/// The FP opcodes of Advanced SIMD (scalar) two-register miscellaneous.
pub fn two_reg_misc(m: &mut M, d: &Decoded, scalar: bool) -> Res {
    let w = d.word;
    let qq = q(w);
    let uu = u(w);
    let opc = (w >> 12) & 31;
    let a_bit = (w >> 23) & 1;
    let sz = (w >> 22) & 1;
    let key = ((uu as u32) << 6) | (a_bit << 5) | opc;
    let src = vr(m, rn(w));
    let dd = rd(w);
    let mut env = Env::new(m);
    // Narrowing and widening conversions.
    match key {
        0b0_0_10110 | 0b1_0_10110 => {
            // FCVTN(2) (U=0; S<-D or H<-S) / FCVTXN(2) (U=1; S<-D, round to odd).
            if uu && sz == 0 {
                return Err(super::undefined(d));
            }
            let es = 16 << sz;
            let (from, to) = (fmt_of(2 * es), fmt_of(es));
            let rounding = if uu { Rounding::Odd } else { env.rounding() };
            let cnt = if scalar { 1 } else { 64 / es };
            if scalar && !uu {
                return Err(super::undefined(d));
            }
            let mut r = 0u128;
            for e in 0..cnt {
                put(&mut r, es, e, fc::convert(&mut env, from, to, get(src, 2 * es, e), rounding));
            }
            if scalar {
                m.cpu.v[dd] = r;
            } else {
                write_part(m, dd, r as u64, qq);
            }
            env.commit(m);
            return Ok(());
        }
        0b0_0_10111 if !scalar => {
            // FCVTL(2): D<-S or S<-H from the selected half.
            let es = 16 << sz;
            let (from, to) = (fmt_of(es), fmt_of(2 * es));
            let half = if qq { src >> 64 } else { src };
            let rounding = env.rounding();
            let mut r = 0u128;
            for e in 0..64 / es {
                put(&mut r, 2 * es, e, fc::convert(&mut env, from, to, get(half, es, e), rounding));
            }
            m.cpu.v[dd] = r;
            env.commit(m);
            return Ok(());
        }
        _ => {}
    }
    let es = 32 << sz;
    let fmt = fmt_of(es);
    let n = if scalar { 1 } else { lanes(es, qq) };
    if !scalar && sz == 1 && !qq {
        return Err(super::undefined(d));
    }
    let ones = emask(es);
    let t = |v: bool| if v { ones } else { 0 };
    let fpcr_rounding = env.rounding();
    let vec_only =
        matches!(key, 0b0_0_11000 | 0b0_0_11001 | 0b0_1_11000 | 0b0_1_11001 | 0b1_0_11000 | 0b1_0_11001 | 0b1_1_11001)
            || matches!(key, 0b0_1_01111 | 0b1_1_01111 | 0b1_1_11111);
    let implemented = vec_only
        || matches!(
            key,
            0b0_1_11101
                | 0b1_1_11101
                | 0b0_0_11010
                | 0b0_0_11011
                | 0b0_0_11100
                | 0b0_0_11101
                | 0b0_1_11010
                | 0b0_1_11011
                | 0b1_0_11010
                | 0b1_0_11011
                | 0b1_0_11100
                | 0b1_0_11101
                | 0b1_1_11010
                | 0b1_1_11011
                | 0b0_1_01100
                | 0b0_1_01101
                | 0b0_1_01110
                | 0b1_1_01100
                | 0b1_1_01101
        )
        || (scalar && key == 0b0_1_11111);
    if !scalar && matches!(key, 0b0_1_11100 | 0b1_1_11100) {
        // URECPE / URSQRTE (32-bit elements only).
        if sz == 1 {
            return Err(super::undefined(d));
        }
        let r = super::simd::map1(src, 32, lanes(32, qq), |x| {
            let est = if key == 0b0_1_11100 {
                if x >> 31 == 0 {
                    return 0xffff_ffff;
                }
                fc::recip_estimate((x >> 23) as u32)
            } else {
                if x >> 30 == 0 {
                    return 0xffff_ffff;
                }
                fc::recip_sqrt_estimate((x >> 23) as u32)
            };
            ((est & 0x1ff) as u64) << 23
        });
        set_v(m, dd, r, qq);
        return Ok(());
    }
    let frint_n = !scalar && matches!(key, 0b0_0_11110 | 0b0_0_11111 | 0b1_0_11110 | 0b1_0_11111);
    if !frint_n && (!implemented || (scalar && vec_only)) {
        return Err(super::undefined(d));
    }
    let mut r = 0u128;
    for e in 0..n {
        let x = get(src, es, e);
        let v = match key {
            0b0_0_11000 => fc::round_int(&mut env, fmt, x, Rounding::TieEven, false),
            0b0_1_11000 => fc::round_int(&mut env, fmt, x, Rounding::PosInf, false),
            0b1_0_11000 => fc::round_int(&mut env, fmt, x, Rounding::TieAway, false),
            0b0_0_11001 => fc::round_int(&mut env, fmt, x, Rounding::NegInf, false),
            0b0_1_11001 => fc::round_int(&mut env, fmt, x, Rounding::Zero, false),
            0b1_0_11001 => fc::round_int(&mut env, fmt, x, fpcr_rounding, true),
            0b1_1_11001 => fc::round_int(&mut env, fmt, x, fpcr_rounding, false),
            0b0_0_11010 | 0b0_1_11010 | 0b0_0_11011 | 0b0_1_11011 | 0b1_0_11010 | 0b1_1_11010 | 0b1_0_11011
            | 0b1_1_11011 => {
                let rounding = match (a_bit, opc) {
                    (0, 0b11010) => Rounding::TieEven,
                    (1, 0b11010) => Rounding::PosInf,
                    (0, _) => Rounding::NegInf,
                    _ => Rounding::Zero,
                };
                fc::to_fixed(&mut env, fmt, x, 0, uu, rounding, es)
            }
            0b0_0_11100 | 0b1_0_11100 => fc::to_fixed(&mut env, fmt, x, 0, uu, Rounding::TieAway, es),
            0b0_0_11101 | 0b1_0_11101 => fc::from_fixed(&mut env, fmt, x, es, !uu, 0, fpcr_rounding),
            0b0_1_01100 => t(fc::compare_cond(&mut env, fmt, x, 0, Cmp::Gt)),
            0b0_1_01101 => t(fc::compare_cond(&mut env, fmt, x, 0, Cmp::Eq)),
            0b0_1_01110 => t(fc::compare_cond(&mut env, fmt, 0, x, Cmp::Gt)),
            0b1_1_01100 => t(fc::compare_cond(&mut env, fmt, x, 0, Cmp::Ge)),
            0b1_1_01101 => t(fc::compare_cond(&mut env, fmt, 0, x, Cmp::Ge)),
            0b0_1_01111 => fmt.abs(x),
            0b1_1_01111 => fmt.neg(x) & ones,
            0b1_1_11111 => fc::sqrt(&mut env, fmt, x),
            0b0_1_11101 => fc::recip_est(&mut env, fmt, x),
            // FRINT32Z FRINT64Z (U=0) / FRINT32X FRINT64X (U=1).
            0b0_0_11110 | 0b0_0_11111 => fc::round_int_n(&mut env, fmt, x, Rounding::Zero, 32 << (opc & 1)),
            0b1_0_11110 | 0b1_0_11111 => fc::round_int_n(&mut env, fmt, x, fpcr_rounding, 32 << (opc & 1)),
            0b1_1_11101 => fc::rsqrt_est(&mut env, fmt, x),
            _ => recpx(&mut env, fmt, x),
        };
        put(&mut r, es, e, v);
    }
    write(m, dd, r, scalar, es, qq);
    env.commit(m);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Across lanes, pairwise, fixed-point conversions
// ---------------------------------------------------------------------------------------

/// Reduce (the Arm ARM's recursive halving) of elements `lo..lo+n`.
fn reduce(env: &mut Env, fmt: Fmt, kind: MinMax, v: u128, es: u32, lo: u32, n: u32) -> u64 {
    if n == 1 {
        return get(v, es, lo);
    }
    let half = n / 2;
    let l = reduce(env, fmt, kind, v, es, lo, half);
    let h = reduce(env, fmt, kind, v, es, lo + half, half);
    fc::minmax(env, fmt, kind, l, h)
}

/// FMAXNMV FMINNMV FMAXV FMINV (4S only; the FP16 forms are not implemented).
pub fn across_lanes(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if !u(w) {
        return super::unimplemented(m, d);
    }
    if (w >> 22) & 1 != 0 || !q(w) {
        return Err(super::undefined(d));
    }
    let opc = (w >> 12) & 31;
    let min = (w >> 23) & 1 != 0;
    let kind = match (opc, min) {
        (0b01100, false) => MinMax::MaxNum,
        (0b01100, true) => MinMax::MinNum,
        (_, false) => MinMax::Max,
        (_, true) => MinMax::Min,
    };
    let mut env = Env::new(m);
    let r = reduce(&mut env, Fmt::S, kind, vr(m, rn(w)), 32, 0, 4);
    m.cpu.v[rd(w)] = r as u128;
    env.commit(m);
    Ok(())
}

/// Advanced SIMD scalar pairwise: ADDP (D) and FADDP FMAXP FMINP FMAXNMP FMINNMP (S, D).
pub fn scalar_pairwise(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if (w >> 17) & 3 != 0 {
        return Err(super::undefined(d));
    }
    let opc = (w >> 12) & 31;
    let src = vr(m, rn(w));
    let dd = rd(w);
    if !u(w) {
        if opc == 0b11011 && size(w) == 3 {
            m.cpu.v[dd] = ((src as u64).wrapping_add((src >> 64) as u64)) as u128;
            return Ok(());
        }
        if matches!(opc, 0b01100 | 0b01101 | 0b01111) && (w >> 22) & 1 == 0 {
            return super::unimplemented(m, d);
        }
        return Err(super::undefined(d));
    }
    let min = (w >> 23) & 1 != 0;
    let kind = match (opc, min) {
        (0b01100, false) => Some(MinMax::MaxNum),
        (0b01100, true) => Some(MinMax::MinNum),
        (0b01111, false) => Some(MinMax::Max),
        (0b01111, true) => Some(MinMax::Min),
        (0b01101, false) => None,
        _ => return Err(super::undefined(d)),
    };
    let es = 32 << ((w >> 22) & 1);
    let fmt = fmt_of(es);
    let (x, y) = (get(src, es, 0), get(src, es, 1));
    let mut env = Env::new(m);
    let r = match kind {
        Some(k) => fc::minmax(&mut env, fmt, k, x, y),
        None => fc::arith(&mut env, fmt, Arith::Add, x, y),
    };
    m.cpu.v[dd] = r as u128;
    env.commit(m);
    Ok(())
}

/// SCVTF UCVTF FCVTZS FCVTZU (vector and scalar, fixed point) of `es`-bit elements with
/// `fbits` fraction bits (the shift-by-immediate class, opcode 11100 and 11111).
pub fn fixed_conv(m: &mut M, d: &Decoded, scalar: bool, es: u32, fbits: u32) -> Res {
    let w = d.word;
    let qq = q(w);
    let uu = u(w);
    let to_fp = (w >> 11) & 31 == 0b11100;
    let fmt = fmt_of(es);
    let n = if scalar { 1 } else { lanes(es, qq) };
    let src = vr(m, rn(w));
    let mut env = Env::new(m);
    let rounding = env.rounding();
    let mut r = 0u128;
    for e in 0..n {
        let x = get(src, es, e);
        let v = if to_fp {
            fc::from_fixed(&mut env, fmt, x, es, !uu, fbits, rounding)
        } else {
            fc::to_fixed(&mut env, fmt, x, fbits, uu, Rounding::Zero, es)
        };
        put(&mut r, es, e, v);
    }
    write(m, rd(w), r, scalar, es, qq);
    env.commit(m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, fp_vec_cases, FpRng, Rng};
    use super::*;

    #[test]
    fn three_same_fp_vs_qemu() {
        let mut cases = Vec::new();
        for sz in [0u32, 1] {
            let mut words = Vec::new();
            for q in [0u32, 1] {
                if sz == 1 && q == 0 {
                    continue;
                }
                for key in [0u32, 1, 2, 3, 4, 6, 7, 8, 9, 10, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 26, 28, 29, 30] {
                    let (u, a, opc) = (key >> 4, (key >> 3) & 1, 0b11000 | (key & 7));
                    words.push(0x0e20_0400 | q << 30 | u << 29 | a << 23 | sz << 22 | 2 << 16 | opc << 11 | 1 << 5);
                }
            }
            for key in [3u32, 4, 7, 15, 20, 21, 26, 28, 29] {
                let (u, a, opc) = (key >> 4, (key >> 3) & 1, 0b11000 | (key & 7));
                words.push(0x5e20_0400 | u << 29 | a << 23 | sz << 22 | 2 << 16 | opc << 11 | 1 << 5);
            }
            cases.extend(fp_vec_cases(&words, 32 << sz, 6, 31 + sz as u64));
        }
        check(&cases);
    }

    #[test]
    fn two_reg_misc_fp_vs_qemu() {
        let mut cases = Vec::new();
        let vec_keys = [
            0b0_0_11000u32,
            0b0_1_11000,
            0b1_0_11000,
            0b0_0_11001,
            0b0_1_11001,
            0b1_0_11001,
            0b1_1_11001,
            0b0_0_11010,
            0b0_1_11010,
            0b1_0_11010,
            0b1_1_11010,
            0b0_0_11011,
            0b0_1_11011,
            0b1_0_11011,
            0b1_1_11011,
            0b0_0_11100,
            0b1_0_11100,
            0b0_0_11101,
            0b1_0_11101,
            0b0_1_01100,
            0b0_1_01101,
            0b0_1_01110,
            0b1_1_01100,
            0b1_1_01101,
            0b0_1_01111,
            0b1_1_01111,
            0b1_1_11111,
            0b0_1_11101,
            0b1_1_11101,
            0b0_0_11110,
            0b0_0_11111,
            0b1_0_11110,
            0b1_0_11111,
        ];
        for sz in [0u32, 1] {
            let mut words = Vec::new();
            for key in vec_keys {
                let (u, a, opc) = (key >> 6, (key >> 5) & 1, key & 31);
                for q in [0u32, 1] {
                    if sz == 1 && q == 0 {
                        continue;
                    }
                    words.push(0x0e20_0800 | q << 30 | u << 29 | a << 23 | sz << 22 | opc << 12 | 1 << 5);
                }
                let scalar_ok =
                    !matches!(key & 31, 0b11000 | 0b11001 | 0b01111 | 0b11110 | 0b11111) && key != 0b1_1_11111;
                if scalar_ok {
                    words.push(0x5e20_0800 | u << 29 | a << 23 | sz << 22 | opc << 12 | 1 << 5);
                }
            }
            // FRECPX (scalar).
            words.push(0x5ea1_f800 | sz << 22 | 1 << 5);
            if sz == 0 {
                // URECPE, URSQRTE.
                for q in [0u32, 1] {
                    words.push(0x0ea1_c800 | q << 30 | 1 << 5);
                    words.push(0x2ea1_c800 | q << 30 | 1 << 5);
                }
            }
            cases.extend(fp_vec_cases(&words, 32 << sz, 5, 41 + sz as u64));
        }
        // Narrowing / widening: FCVTN(2) S<-D and H<-S, FCVTXN(2), FCVTL(2).
        let mut words = Vec::new();
        for q in [0u32, 1] {
            words.push(0x0e61_6800 | q << 30 | 1 << 5); // fcvtn 2s, 2d
            words.push(0x2e61_6800 | q << 30 | 1 << 5); // fcvtxn 2s, 2d
            words.push(0x0e61_7800 | q << 30 | 1 << 5); // fcvtl 2d, 2s
        }
        words.push(0x7e61_6800 | 1 << 5); // fcvtxn s, d
        cases.extend(fp_vec_cases(&words, 64, 6, 51));
        let mut words = Vec::new();
        for q in [0u32, 1] {
            words.push(0x0e21_6800 | q << 30 | 1 << 5); // fcvtn 4h, 4s
            words.push(0x0e21_7800 | q << 30 | 1 << 5); // fcvtl 4s, 4h
        }
        let mut hs = fp_vec_cases(&words, 32, 6, 52);
        let mut rng = Rng(9);
        for c in hs.iter_mut().step_by(2) {
            // Half-precision inputs for FCVTL.
            let mut x = 0u128;
            for e in 0..8 {
                put(&mut x, 16, e, rng.fp(Fmt::H));
            }
            c.v[1] = x;
            if rng.next_u64() & 1 == 1 {
                c.fpcr |= 1 << 26;
            }
        }
        cases.extend(hs);
        check(&cases);
    }

    #[test]
    fn across_pairwise_fixed_vs_qemu() {
        let mut cases = Vec::new();
        let mut words = Vec::new();
        for a in [0u32, 1] {
            for opc in [0b01100u32, 0b01111] {
                words.push(0x6e30_0800 | a << 23 | opc << 12 | 1 << 5);
                words.push(0x7e30_0800 | a << 23 | opc << 12 | 1 << 5);
            }
        }
        words.push(0x7e30_d800 | 1 << 5); // faddp s
        cases.extend(fp_vec_cases(&words, 32, 8, 61));
        let mut words = Vec::new();
        for a in [0u32, 1] {
            for opc in [0b01100u32, 0b01111] {
                words.push(0x7e70_0800 | a << 23 | opc << 12 | 1 << 5);
            }
        }
        words.push(0x7e70_d800 | 1 << 5); // faddp d
        words.push(0x5ef1_b800 | 1 << 5); // addp d
        cases.extend(fp_vec_cases(&words, 64, 8, 62));
        for (es, immh) in [(32u32, 4u32), (64, 8)] {
            let mut words = Vec::new();
            for immb in [0u32, 3, 7] {
                for u in [0u32, 1] {
                    for opc in [0b11100u32, 0b11111] {
                        for q in [0u32, 1] {
                            for low in [0u32, 1, 3] {
                                let ih = immh | low;
                                if es == 64 && q == 0 {
                                    continue;
                                }
                                words
                                    .push(0x0f00_0400 | q << 30 | u << 29 | ih << 19 | immb << 16 | opc << 11 | 1 << 5);
                            }
                        }
                        words.push(0x5f00_0400 | u << 29 | immh << 19 | immb << 16 | opc << 11 | 1 << 5);
                    }
                }
            }
            cases.extend(fp_vec_cases(&words, es, 3, 63));
        }
        check(&cases);
    }
}
