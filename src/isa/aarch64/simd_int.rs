//! Advanced SIMD integer data processing (Arm ARM C4.1.96), vector and scalar forms:
//! - three same: \[SU\]HADD \[SU\]QADD \[SU\]RHADD \[SU\]HSUB \[SU\]QSUB CMGT CMHI CMGE CMHS \[SU\]SHL
//!   \[SU\]QSHL \[SU\]RSHL \[SU\]QRSHL \[SU\]MAX \[SU\]MIN \[SU\]ABD \[SU\]ABA ADD SUB CMTST CMEQ MLA MLS
//!   MUL PMUL \[SU\]MAXP \[SU\]MINP SQDMULH SQRDMULH ADDP, and the logical AND BIC ORR ORN EOR
//!   BSL BIT BIF;
//! - two-register miscellaneous: REV16/32/64 \[SU\]ADDLP \[SU\]ADALP SUQADD USQADD CLS CLZ CNT
//!   NOT RBIT SQABS SQNEG CMGT/CMGE/CMEQ/CMLE/CMLT (zero) ABS NEG XTN SQXTN UQXTN SQXTUN SHLL;
//! - across lanes: \[SU\]ADDLV \[SU\]MAXV \[SU\]MINV ADDV;
//! - three different: \[SU\]ADDL \[SU\]ADDW \[SU\]SUBL \[SU\]SUBW (R)ADDHN (R)SUBHN \[SU\]ABAL \[SU\]ABDL
//!   \[SU\]MLAL \[SU\]MLSL \[SU\]MULL SQDMLAL SQDMLSL SQDMULL PMULL (all with their "2" forms).
//!
//! The floating-point opcodes of these classes are forwarded to `simd_fp.rs`. Saturating
//! instructions set FPSR.QC.

use super::fp::{rd, rm, rn};
use super::fp_core::fpsr;
use super::simd::{emask, get, lanes, map1, map2, put, q, set_v, sext, size, u, vr};
use super::simd_fp;
use super::{Decoded, Res, M};

/// An element as a signed or unsigned integer.
#[inline(always)]
pub fn ext(x: u64, es: u32, unsigned: bool) -> i128 {
    if unsigned {
        x as i128
    } else {
        sext(x, es) as i128
    }
}

/// SatQ: `v` saturated to `es` bits (signed or unsigned) and whether it saturated.
#[inline(always)]
pub fn sat(v: i128, es: u32, unsigned: bool) -> (u64, bool) {
    let (lo, hi) = if unsigned { (0, (1i128 << es) - 1) } else { (-(1i128 << (es - 1)), (1i128 << (es - 1)) - 1) };
    if v < lo {
        (lo as u64 & emask(es), true)
    } else if v > hi {
        (hi as u64 & emask(es), true)
    } else {
        (v as u64 & emask(es), false)
    }
}

/// The register-controlled shift of SSHL USHL SQSHL UQSHL SRSHL URSHL SQRSHL UQRSHL: `a` shifted by the signed low byte of `b`.
#[inline(always)]
pub fn shift_reg(a: u64, b: u64, es: u32, unsigned: bool, rounding: bool, saturating: bool) -> (u64, bool) {
    let e = ext(a, es, unsigned);
    let shift = b as u8 as i8 as i32;
    let v = if shift >= 0 {
        if shift >= es as i32 {
            if !saturating || e == 0 {
                return (0, false);
            }
            if e > 0 {
                i128::MAX
            } else {
                i128::MIN
            }
        } else {
            e << shift
        }
    } else {
        let amt = (-shift).min(100) as u32;
        let rc = if rounding { 1i128 << (amt - 1) } else { 0 };
        (e + rc) >> amt
    };
    if saturating {
        sat(v, es, unsigned)
    } else {
        (v as u64 & emask(es), false)
    }
}

/// Polynomial (carry-less) multiply of two `es`-bit values, 2*es-bit result.
#[inline(always)]
pub fn pmul(a: u64, b: u64, es: u32) -> u128 {
    let mut r = 0u128;
    for i in 0..es {
        if (b >> i) & 1 != 0 {
            r ^= (a as u128) << i;
        }
    }
    r
}

/// SQDMULH / SQRDMULH of two `es`-bit elements.
#[inline(always)]
pub fn sqdmulh(a: u64, b: u64, es: u32, round: bool) -> (u64, bool) {
    let p = 2 * ext(a, es, false) * ext(b, es, false);
    let rc = if round { 1i128 << (es - 1) } else { 0 };
    sat((p + rc) >> es, es, false)
}

#[inline(always)]
fn set_qc(m: &mut M, q: bool) {
    if q {
        m.cpu.fpsr |= fpsr::QC as u64;
    }
}

/// Write `r` as a scalar (`es`-bit element, rest of the register zeroed) or a vector.
#[inline(always)]
fn write(m: &mut M, dd: usize, r: u128, scalar: bool, es: u32, qq: bool) {
    if scalar {
        m.cpu.v[dd] = r & emask(es) as u128;
    } else {
        set_v(m, dd, r, qq);
    }
}

// ---------------------------------------------------------------------------------------
// Three same
// ---------------------------------------------------------------------------------------

macro_rules! typed_three_same {
    ($name:ident, $u:ty, $s:ty, $n:expr) => {
        /// Fast path of the common non-saturating three-same operations on `$n` lanes of
        /// `$u` (all 128 bits; the caller's write drops the upper half of a 64-bit vector).
        #[inline(always)]
        fn $name(opc: u32, uu: bool, q: bool, a: u128, b: u128) -> Option<u128> {
            const W: usize = core::mem::size_of::<$u>();
            let split = |v: u128| -> [$u; $n] {
                let bytes = v.to_le_bytes();
                core::array::from_fn(|i| <$u>::from_le_bytes(bytes[i * W..i * W + W].try_into().unwrap_or_default()))
            };
            let join = |r: [$u; $n]| -> u128 {
                let mut bytes = [0u8; 16];
                for (i, l) in r.iter().enumerate() {
                    bytes[i * W..i * W + W].copy_from_slice(&l.to_le_bytes());
                }
                u128::from_le_bytes(bytes)
            };
            let (x, y) = (split(a), split(b));
            let mut r = [0 as $u; $n];
            let t = |c: bool| if c { <$u>::MAX } else { 0 };
            match (opc, uu) {
                (16, false) => (0..$n).for_each(|i| r[i] = x[i].wrapping_add(y[i])),
                (16, true) => (0..$n).for_each(|i| r[i] = x[i].wrapping_sub(y[i])),
                (17, true) => (0..$n).for_each(|i| r[i] = t(x[i] == y[i])),
                (17, false) => (0..$n).for_each(|i| r[i] = t(x[i] & y[i] != 0)),
                (6, true) => (0..$n).for_each(|i| r[i] = t(x[i] > y[i])),
                (7, true) => (0..$n).for_each(|i| r[i] = t(x[i] >= y[i])),
                (6, false) => (0..$n).for_each(|i| r[i] = t(x[i] as $s > y[i] as $s)),
                (7, false) => (0..$n).for_each(|i| r[i] = t(x[i] as $s >= y[i] as $s)),
                (12, true) => (0..$n).for_each(|i| r[i] = x[i].max(y[i])),
                (13, true) => (0..$n).for_each(|i| r[i] = x[i].min(y[i])),
                (12, false) => (0..$n).for_each(|i| r[i] = (x[i] as $s).max(y[i] as $s) as $u),
                (13, false) => (0..$n).for_each(|i| r[i] = (x[i] as $s).min(y[i] as $s) as $u),
                (14, true) => (0..$n).for_each(|i| r[i] = x[i].abs_diff(y[i])),
                (19, false) => (0..$n).for_each(|i| r[i] = x[i].wrapping_mul(y[i])),
                (20 | 21 | 23, _) => {
                    // Pairwise over Vm:Vn; a 64-bit vector pairs the concatenated low halves.
                    let (x, y): ([$u; $n], [$u; $n]) =
                        if q { (x, y) } else { (split((a & u64::MAX as u128) | (b << 64)), [0 as $u; $n]) };
                    let f = |p: $u, q: $u| -> $u {
                        match (opc, uu) {
                            (20, true) => p.max(q),
                            (21, true) => p.min(q),
                            (20, false) => (p as $s).max(q as $s) as $u,
                            (21, false) => (p as $s).min(q as $s) as $u,
                            _ => p.wrapping_add(q),
                        }
                    };
                    for i in 0..$n / 2 {
                        r[i] = f(x[2 * i], x[2 * i + 1]);
                        r[$n / 2 + i] = f(y[2 * i], y[2 * i + 1]);
                    }
                }
                _ => return None,
            }
            Some(join(r))
        }
    };
}

typed_three_same!(fast8, u8, i8, 16);
typed_three_same!(fast16, u16, i16, 8);
typed_three_same!(fast32, u32, i32, 4);
typed_three_same!(fast64, u64, i64, 2);

/// Advanced SIMD (scalar) three same.
pub fn three_same(m: &mut M, d: &Decoded, scalar: bool) -> Res {
    let w = d.word;
    let opc = (w >> 11) & 31;
    if opc >= 0b11000 {
        return simd_fp::three_same(m, d, scalar);
    }
    let qq = q(w);
    let uu = u(w);
    let sz = size(w);
    if opc == 0b00011 {
        if scalar {
            return Err(super::undefined(d));
        }
        return logic(m, d);
    }
    let ok = if scalar {
        match opc {
            1 | 5 | 9 | 11 => true,
            6 | 7 | 8 | 10 | 16 | 17 => sz == 3,
            22 => sz == 1 || sz == 2,
            _ => false,
        }
    } else {
        (sz != 3 || qq)
            && match opc {
                0 | 2 | 4 | 12..=15 | 18 | 20 | 21 => sz != 3,
                19 => sz != 3 && (!uu || sz == 0),
                22 => sz == 1 || sz == 2,
                23 => !uu,
                _ => true,
            }
    };
    if !ok {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let n = if scalar { 1 } else { lanes(es, qq) };
    let a = vr(m, rn(w));
    let b = vr(m, rm(w));
    let dd = rd(w);
    let is_pmul = opc == 19 && uu;
    if !scalar && !is_pmul {
        let fast = match sz {
            0 => fast8(opc, uu, qq, a, b),
            1 => fast16(opc, uu, qq, a, b),
            2 => fast32(opc, uu, qq, a, b),
            _ => fast64(opc, uu, qq, a, b),
        };
        if let Some(r) = fast {
            set_v(m, dd, r, qq);
            return Ok(());
        }
    }
    let acc = vr(m, dd);
    let mut qc = false;
    let ones = emask(es);
    let r = match opc {
        0 | 2 | 4 => map2(a, b, es, n, |x, y| {
            let (x, y) = (ext(x, es, uu), ext(y, es, uu));
            let v = match opc {
                0 => x + y,
                2 => x + y + 1,
                _ => x - y,
            };
            (v >> 1) as u64
        }),
        1 | 5 => map2(a, b, es, n, |x, y| {
            let (x, y) = (ext(x, es, uu), ext(y, es, uu));
            let (v, s) = sat(if opc == 1 { x + y } else { x - y }, es, uu);
            qc |= s;
            v
        }),
        6 => map2(a, b, es, n, |x, y| if ext(x, es, uu) > ext(y, es, uu) { ones } else { 0 }),
        7 => map2(a, b, es, n, |x, y| if ext(x, es, uu) >= ext(y, es, uu) { ones } else { 0 }),
        8..=11 => map2(a, b, es, n, |x, y| {
            let (v, s) = shift_reg(x, y, es, uu, opc & 2 != 0, opc & 1 != 0);
            qc |= s;
            v
        }),
        12 => map2(a, b, es, n, |x, y| if ext(x, es, uu) >= ext(y, es, uu) { x } else { y }),
        13 => map2(a, b, es, n, |x, y| if ext(x, es, uu) <= ext(y, es, uu) { x } else { y }),
        14 => map2(a, b, es, n, |x, y| (ext(x, es, uu) - ext(y, es, uu)).unsigned_abs() as u64),
        15 => {
            let diff = map2(a, b, es, n, |x, y| (ext(x, es, uu) - ext(y, es, uu)).unsigned_abs() as u64);
            map2(acc, diff, es, n, |x, y| x.wrapping_add(y))
        }
        16 => map2(a, b, es, n, |x, y| if uu { x.wrapping_sub(y) } else { x.wrapping_add(y) }),
        17 => map2(a, b, es, n, |x, y| {
            let hit = if uu { x == y } else { x & y != 0 };
            if hit {
                ones
            } else {
                0
            }
        }),
        18 => {
            let prod = map2(a, b, es, n, |x, y| x.wrapping_mul(y));
            map2(acc, prod, es, n, |x, y| if uu { x.wrapping_sub(y) } else { x.wrapping_add(y) })
        }
        19 => map2(a, b, es, n, |x, y| if uu { pmul(x, y, es) as u64 } else { x.wrapping_mul(y) }),
        20 | 21 | 23 => pairwise(a, b, es, n, |x, y| match opc {
            20 => {
                if ext(x, es, uu) >= ext(y, es, uu) {
                    x
                } else {
                    y
                }
            }
            21 => {
                if ext(x, es, uu) <= ext(y, es, uu) {
                    x
                } else {
                    y
                }
            }
            _ => x.wrapping_add(y),
        }),
        22 => map2(a, b, es, n, |x, y| {
            let (v, s) = sqdmulh(x, y, es, uu);
            qc |= s;
            v
        }),
        _ => return Err(super::undefined(d)),
    };
    write(m, dd, r, scalar, es, qq);
    set_qc(m, qc);
    Ok(())
}

/// Pairwise operation over the concatenation Vm:Vn (Vn's elements first).
#[inline(always)]
pub fn pairwise(a: u128, b: u128, es: u32, n: u32, mut f: impl FnMut(u64, u64) -> u64) -> u128 {
    let mut r = 0u128;
    let half = n / 2;
    for e in 0..n {
        let (src, i) = if e < half { (a, 2 * e) } else { (b, 2 * (e - half)) };
        put(&mut r, es, e, f(get(src, es, i), get(src, es, i + 1)));
    }
    r
}

/// AND BIC ORR ORN EOR BSL BIT BIF (vector).
fn logic(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let a = vr(m, rn(w));
    let b = vr(m, rm(w));
    let dd = rd(w);
    let old = vr(m, dd);
    let r = match (u(w), size(w)) {
        (false, 0) => a & b,
        (false, 1) => a & !b,
        (false, 2) => a | b,
        (false, _) => a | !b,
        (true, 0) => a ^ b,
        (true, 1) => b ^ ((b ^ a) & old),
        (true, 2) => old ^ ((old ^ a) & b),
        (true, _) => old ^ ((old ^ a) & !b),
    };
    set_v(m, dd, r, q(w));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Two-register miscellaneous
// ---------------------------------------------------------------------------------------

/// Is opcode `opc` (with U and size) of the two-register miscellaneous class a
/// floating-point one?
#[inline(always)]
fn misc_is_fp(opc: u32, sz: u32) -> bool {
    opc >= 0b10110 || (0b01100..=0b01111).contains(&opc) && sz >= 2
}

/// Advanced SIMD (scalar) two-register miscellaneous.
pub fn two_reg_misc(m: &mut M, d: &Decoded, scalar: bool) -> Res {
    let w = d.word;
    if (w >> 17) & 3 != 0 {
        return Err(super::undefined(d));
    }
    let opc = (w >> 12) & 31;
    let sz = size(w);
    if misc_is_fp(opc, sz) {
        return simd_fp::two_reg_misc(m, d, scalar);
    }
    let qq = q(w);
    let uu = u(w);
    let es = 8 << sz;
    let ok = if scalar {
        match opc {
            3 | 7 => true,
            20 => sz != 3,
            18 => uu && sz != 3,
            8..=11 => sz == 3 && (opc != 10 || !uu),
            _ => false,
        }
    } else {
        match opc {
            0 => sz + (uu as u32) < 3,
            1 => !uu && sz == 0,
            2 | 6 | 4 => sz != 3,
            5 => (!uu && sz == 0) || (uu && sz < 2),
            3 | 7 | 8 | 9 | 11 => sz != 3 || qq,
            10 => !uu && (sz != 3 || qq),
            18 | 20 => sz != 3,
            19 => uu && sz != 3,
            _ => false,
        }
    };
    if !ok {
        return Err(super::undefined(d));
    }
    let n = if scalar { 1 } else { lanes(es, qq) };
    let a = vr(m, rn(w));
    let dd = rd(w);
    let old = vr(m, dd);
    let ones = emask(es);
    let mut qc = false;
    let r = match opc {
        0 | 1 => {
            // REV64 / REV32 / REV16: reverse the elements inside each 64/32/16-bit container.
            let container = match (opc, uu) {
                (1, _) => 16,
                (_, true) => 32,
                _ => 64,
            };
            let per = container / es;
            let mut r = 0u128;
            for e in 0..n {
                let base = e - e % per;
                put(&mut r, es, base + (per - 1 - e % per), get(a, es, e));
            }
            r
        }
        2 | 6 => {
            // [SU]ADDLP / [SU]ADALP
            let wide = es * 2;
            let mut r = 0u128;
            for e in 0..n / 2 {
                let s = ext(get(a, es, 2 * e), es, uu) + ext(get(a, es, 2 * e + 1), es, uu);
                let acc = if opc == 6 { get(old, wide, e) } else { 0 };
                put(&mut r, wide, e, acc.wrapping_add(s as u64));
            }
            r
        }
        3 => map2(a, old, es, n, |x, acc| {
            // SUQADD: signed acc + unsigned x; USQADD: unsigned acc + signed x.
            let v = ext(acc, es, uu) + ext(x, es, !uu);
            let (v, s) = sat(v, es, uu);
            qc |= s;
            v
        }),
        4 => map1(a, es, n, |x| {
            if uu {
                (x.leading_zeros() - (64 - es)) as u64
            } else {
                let s = sext(x, es);
                let t = if s < 0 { !s } else { s } as u64;
                (t.leading_zeros() - (64 - es)) as u64 - 1
            }
        }),
        5 => match (uu, sz) {
            (false, _) => map1(a, 8, n, |x| x.count_ones() as u64),
            (true, 0) => !a,
            _ => map1(a, 8, lanes(8, qq), |x| (x as u8).reverse_bits() as u64),
        },
        7 => map1(a, es, n, |x| {
            let v = ext(x, es, false);
            let (v, s) = sat(if uu { -v } else { v.abs() }, es, false);
            qc |= s;
            v
        }),
        8 => map1(a, es, n, |x| {
            let hit = if uu { sext(x, es) >= 0 } else { sext(x, es) > 0 };
            if hit {
                ones
            } else {
                0
            }
        }),
        9 => map1(a, es, n, |x| {
            let hit = if uu { sext(x, es) <= 0 } else { x == 0 };
            if hit {
                ones
            } else {
                0
            }
        }),
        10 => map1(a, es, n, |x| if sext(x, es) < 0 { ones } else { 0 }),
        11 => map1(a, es, n, |x| if uu { x.wrapping_neg() } else { sext(x, es).unsigned_abs() }),
        18 | 20 => {
            // XTN / SQXTUN / SQXTN / UQXTN: es is the narrow size.
            let wide = es * 2;
            let cnt = if scalar { 1 } else { 64 / es };
            let mut r = 0u128;
            for e in 0..cnt {
                let x = get(a, wide, e);
                let v = match (opc, uu) {
                    (18, false) => x & emask(es),
                    (18, true) => {
                        let (v, s) = sat(ext(x, wide, false), es, true);
                        qc |= s;
                        v
                    }
                    _ => {
                        let (v, s) = sat(ext(x, wide, uu), es, uu);
                        qc |= s;
                        v
                    }
                };
                put(&mut r, es, e, v);
            }
            if scalar {
                m.cpu.v[dd] = r;
            } else {
                write_part(m, dd, r as u64, qq);
            }
            set_qc(m, qc);
            return Ok(());
        }
        19 => {
            // SHLL / SHLL2
            let wide = es * 2;
            let src = if qq { a >> 64 } else { a };
            let mut r = 0u128;
            for e in 0..64 / es {
                put(&mut r, wide, e, get(src, es, e) << es);
            }
            r
        }
        _ => return Err(super::undefined(d)),
    };
    let (es_out, qq_out) = if matches!(opc, 2 | 6 | 19) { (es * 2, qq || opc == 19) } else { (es, qq) };
    write(m, dd, r, scalar, es_out, qq_out);
    set_qc(m, qc);
    Ok(())
}

/// Vpart[d, part] = r: a narrowing result goes to the low half (upper zeroed) or, for the
/// "2" forms, to the upper half (lower kept).
#[inline(always)]
pub fn write_part(m: &mut M, dd: usize, r: u64, upper: bool) {
    if upper {
        m.cpu.v[dd] = (m.cpu.v[dd] & u64::MAX as u128) | (r as u128) << 64;
    } else {
        m.cpu.v[dd] = r as u128;
    }
}

// ---------------------------------------------------------------------------------------
// Across lanes
// ---------------------------------------------------------------------------------------

/// Advanced SIMD across lanes.
pub fn across_lanes(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if (w >> 17) & 3 != 0 {
        return Err(super::undefined(d));
    }
    let opc = (w >> 12) & 31;
    if opc == 0b01100 || opc == 0b01111 {
        return simd_fp::across_lanes(m, d);
    }
    let qq = q(w);
    let uu = u(w);
    let sz = size(w);
    if sz == 3 || (sz == 2 && !qq) || !matches!(opc, 3 | 10 | 26 | 27) || (opc == 27 && uu) {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let n = lanes(es, qq);
    let a = vr(m, rn(w));
    let mut acc = ext(get(a, es, 0), es, uu);
    for e in 1..n {
        let x = ext(get(a, es, e), es, uu);
        acc = match opc {
            3 | 27 => acc + x,
            10 => acc.max(x),
            _ => acc.min(x),
        };
    }
    let out_es = if opc == 3 { es * 2 } else { es };
    m.cpu.v[rd(w)] = (acc as u64 & emask(out_es)) as u128;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Three different
// ---------------------------------------------------------------------------------------

/// Advanced SIMD scalar three different: SQDMLAL SQDMLSL SQDMULL (H and S sources).
pub fn scalar_three_different(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let sz = size(w);
    let opc = (w >> 12) & 15;
    if u(w) || !matches!(opc, 9 | 11 | 13) || !(sz == 1 || sz == 2) {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let wide = 2 * es;
    let x = ext(get(vr(m, rn(w)), es, 0), es, false);
    let y = ext(get(vr(m, rm(w)), es, 0), es, false);
    let dd = rd(w);
    let acc = ext(get(vr(m, dd), wide, 0), wide, false);
    let (p, s1) = sat(2 * x * y, wide, false);
    let p = sext(p, wide) as i128;
    let (v, s2) = match opc {
        9 => sat(acc + p, wide, false),
        11 => sat(acc - p, wide, false),
        _ => (p as u64 & emask(wide), false),
    };
    m.cpu.v[dd] = v as u128;
    set_qc(m, s1 || s2);
    Ok(())
}

/// Advanced SIMD three different.
pub fn three_different(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    let uu = u(w);
    let sz = size(w);
    let opc = (w >> 12) & 15;
    let ok = match opc {
        9 | 11 | 13 => !uu && (sz == 1 || sz == 2),
        14 => !uu && (sz == 0 || sz == 3),
        15 => false,
        _ => sz != 3,
    };
    if !ok {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let wide = es * 2;
    let a = vr(m, rn(w));
    let b = vr(m, rm(w));
    let dd = rd(w);
    let old = vr(m, dd);
    // The narrow operands come from the upper halves for the "2" forms.
    let na = if qq { a >> 64 } else { a };
    let nb = if qq { b >> 64 } else { b };
    let cnt = 64 / es;
    let mut qc = false;
    if opc == 14 && sz == 3 {
        // PMULL/PMULL2 (1Q <- 1D x 1D).
        let r = pmul(na as u64, nb as u64, 64);
        m.cpu.v[dd] = r;
        return Ok(());
    }
    if opc == 4 || opc == 6 {
        // (R)ADDHN / (R)SUBHN: wide operands, high halves of the results.
        let mut r = 0u128;
        for e in 0..cnt {
            let (x, y) = (get(a, wide, e), get(b, wide, e));
            let s = if opc == 4 { x.wrapping_add(y) } else { x.wrapping_sub(y) };
            let s = if uu { s.wrapping_add(1 << (es - 1)) } else { s } & emask(wide);
            put(&mut r, es, e, s >> es);
        }
        write_part(m, dd, r as u64, qq);
        return Ok(());
    }
    let mut r = 0u128;
    for e in 0..cnt {
        let x = if opc == 1 || opc == 3 { ext(get(a, wide, e), wide, uu) } else { ext(get(na, es, e), es, uu) };
        let y = ext(get(nb, es, e), es, uu);
        let acc = ext(get(old, wide, e), wide, uu);
        let v: i128 = match opc {
            0 | 1 => x + y,
            2 | 3 => x - y,
            5 => acc + (x - y).abs(),
            7 => (x - y).abs(),
            8 => acc + x * y,
            10 => acc - x * y,
            12 => x * y,
            9 | 11 | 13 => {
                let (p, s1) = sat(2 * x * y, wide, false);
                let p = sext(p, wide) as i128;
                let (v, s2) = match opc {
                    9 => sat(acc + p, wide, false),
                    11 => sat(acc - p, wide, false),
                    _ => (p as u64 & emask(wide), false),
                };
                qc |= s1 || s2;
                v as i128
            }
            _ => pmul(get(na, es, e), get(nb, es, e), es) as i128,
        };
        put(&mut r, wide, e, v as u64);
    }
    m.cpu.v[dd] = r;
    set_qc(m, qc);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, int_cases};

    #[test]
    fn three_same_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for u in [0u32, 1] {
                for size in 0..4u32 {
                    if size == 3 && q == 0 {
                        continue;
                    }
                    for opc in 0..24u32 {
                        let ok = match opc {
                            0 | 2 | 4 | 12..=15 | 18 | 20 | 21 => size != 3,
                            3 => true,
                            19 => size != 3 && (u == 0 || size == 0),
                            22 => size == 1 || size == 2,
                            23 => u == 0,
                            _ => true,
                        };
                        if ok {
                            words.push(0x0e20_0400 | q << 30 | u << 29 | size << 22 | 2 << 16 | opc << 11 | 1 << 5);
                        }
                    }
                }
            }
            // Scalar forms.
            for u in [0u32, 1] {
                for size in 0..4u32 {
                    for opc in [1u32, 5, 9, 11, 6, 7, 8, 10, 16, 17, 22] {
                        let ok = match opc {
                            1 | 5 | 9 | 11 => true,
                            22 => size == 1 || size == 2,
                            _ => size == 3,
                        };
                        if ok && q == 1 {
                            words.push(0x5e20_0400 | u << 29 | size << 22 | 2 << 16 | opc << 11 | 1 << 5);
                        }
                    }
                }
            }
        }
        check(&int_cases(&words, 9, 11));
    }

    #[test]
    fn two_reg_misc_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for u in [0u32, 1] {
                for size in 0..4u32 {
                    for opc in 0..21u32 {
                        let ok = match opc {
                            0 => size + u < 3,
                            1 => u == 0 && size == 0,
                            2 | 6 | 4 => size != 3,
                            5 => (u == 0 && size == 0) || (u == 1 && size < 2),
                            3 | 7 | 8 | 9 | 11 => !(size == 3 && q == 0),
                            10 => u == 0 && !(size == 3 && q == 0),
                            18 | 20 => size != 3,
                            19 => u == 1 && size != 3,
                            _ => false,
                        };
                        if ok {
                            words.push(0x0e20_0800 | q << 30 | u << 29 | size << 22 | opc << 12 | 1 << 5);
                        }
                    }
                }
            }
        }
        for u in [0u32, 1] {
            for size in 0..4u32 {
                for opc in [3u32, 7, 20, 18, 8, 9, 10, 11] {
                    let ok = match opc {
                        3 | 7 | 20 => size != 3 || opc != 20,
                        18 => u == 1 && size != 3,
                        _ => size == 3 && (opc != 10 || u == 0),
                    };
                    if ok {
                        words.push(0x5e20_0800 | u << 29 | size << 22 | opc << 12 | 1 << 5);
                    }
                }
            }
        }
        check(&int_cases(&words, 6, 12));
    }

    #[test]
    fn across_lanes_and_three_different_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for u in [0u32, 1] {
                for size in 0..3u32 {
                    if size == 2 && q == 0 {
                        continue;
                    }
                    for opc in [3u32, 10, 26, 27] {
                        if opc == 27 && u == 1 {
                            continue;
                        }
                        words.push(0x0e30_0800 | q << 30 | u << 29 | size << 22 | opc << 12 | 1 << 5);
                    }
                }
                for size in 0..4u32 {
                    for opc in 0..15u32 {
                        let ok = match opc {
                            9 | 11 | 13 => u == 0 && (size == 1 || size == 2),
                            14 => u == 0 && (size == 0 || size == 3),
                            _ => size != 3,
                        };
                        if ok {
                            words.push(0x0e20_0000 | q << 30 | u << 29 | size << 22 | 2 << 16 | opc << 12 | 1 << 5);
                        }
                    }
                }
            }
        }
        for size in [1u32, 2] {
            for opc in [9u32, 11, 13] {
                words.push(0x5e20_0000 | size << 22 | 2 << 16 | opc << 12 | 1 << 5);
            }
        }
        check(&int_cases(&words, 6, 13));
    }
}
