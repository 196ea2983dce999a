//! Advanced SIMD (scalar) x indexed element (Arm ARM C4.1.96): MUL MLA MLS, [SU]MULL(2)
//! [SU]MLAL(2) [SU]MLSL(2), SQDMULL(2) SQDMLAL(2) SQDMLSL(2), SQDMULH SQRDMULH, and FMUL FMLA
//! FMLS FMULX (single and double precision) by element. Not implemented: the dot products
//! (FEAT_DotProd, FEAT_I8MM), SQRDMLAH/SQRDMLSH (FEAT_RDM), FMLAL/FMLSL (FEAT_FHM) and the
//! FP16 forms.

use super::fp::{rd, rn};
use super::fp_core::{self as fc, fpsr, Arith, Env};
use super::simd::{emask, get, lanes, put, q, set_v, size, u, vr};
use super::simd_fp::fmt_of;
use super::simd_int::{ext, sat, sqdmulh};
use super::{Decoded, Res, M};

/// Advanced SIMD (scalar) x indexed element.
pub fn indexed(m: &mut M, d: &Decoded, scalar: bool) -> Res {
    let w = d.word;
    let qq = q(w);
    let uu = u(w);
    let sz = size(w);
    let opc = (w >> 12) & 15;
    let (h, l, mbit) = ((w >> 11) & 1, (w >> 21) & 1, (w >> 20) & 1);
    let fp = matches!((uu, opc), (false, 1) | (false, 5) | (false, 9) | (true, 9));
    if fp {
        if sz == 0 {
            return super::unimplemented(m, d);
        }
        if sz == 1 || (sz == 3 && (l == 1 || (!qq && !scalar))) {
            return Err(super::undefined(d));
        }
        let es = if sz == 2 { 32 } else { 64 };
        let idx = if sz == 2 { (h << 1) | l } else { h };
        let rmi = ((mbit << 4) | ((w >> 16) & 15)) as usize;
        let fmt = fmt_of(es);
        let elem = get(vr(m, rmi), es, idx);
        let n = if scalar { 1 } else { lanes(es, qq) };
        let a = vr(m, rn(w));
        let dd = rd(w);
        let c = vr(m, dd);
        let mut env = Env::new(m);
        let mut r = 0u128;
        for e in 0..n {
            let x = get(a, es, e);
            let v = match (uu, opc) {
                (false, 1) => fc::muladd(&mut env, fmt, get(c, es, e), x, elem),
                (false, 5) => fc::muladd(&mut env, fmt, get(c, es, e), fmt.neg(x), elem),
                (false, _) => fc::arith(&mut env, fmt, Arith::Mul, x, elem),
                (true, _) => fc::mulx(&mut env, fmt, x, elem),
            };
            put(&mut r, es, e, v);
        }
        if scalar {
            m.cpu.v[dd] = r & emask(es) as u128;
        } else {
            set_v(m, dd, r, qq);
        }
        env.commit(m);
        return Ok(());
    }
    // Integer forms.
    let implemented = match (uu, opc) {
        (false, 2 | 6 | 8 | 10) | (true, 0 | 2 | 4 | 6 | 10) => !scalar,
        (false, 3 | 7 | 11 | 12 | 13) => true,
        _ => false,
    };
    if !implemented {
        let known = matches!((uu, opc), (_, 14) | (false, 15) | (true, 13) | (true, 15) | (false, 0) | (false, 4));
        return if known { super::unimplemented(m, d) } else { Err(super::undefined(d)) };
    }
    if sz == 0 || sz == 3 {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let (idx, rmi) = if sz == 1 {
        ((h << 2) | (l << 1) | mbit, ((w >> 16) & 15) as usize)
    } else {
        ((h << 1) | l, ((mbit << 4) | ((w >> 16) & 15)) as usize)
    };
    let elem = get(vr(m, rmi), es, idx);
    let a = vr(m, rn(w));
    let dd = rd(w);
    let c = vr(m, dd);
    let mut qc = false;
    let long = matches!(opc, 2 | 3 | 6 | 7 | 10 | 11);
    if long {
        let wide = 2 * es;
        let cnt = if scalar { 1 } else { 64 / es };
        let src = if qq && !scalar { a >> 64 } else { a };
        let y = ext(elem, es, uu);
        let mut r = 0u128;
        for e in 0..cnt {
            let x = ext(get(src, es, e), es, uu);
            let acc = ext(get(c, wide, e), wide, uu);
            let v: u64 = match opc {
                2 => (acc + x * y) as u64,
                6 => (acc - x * y) as u64,
                10 => (x * y) as u64,
                _ => {
                    // SQDMLAL (3), SQDMLSL (7), SQDMULL (11).
                    let (p, s1) = sat(2 * x * y, wide, false);
                    let p = ext(p, wide, false);
                    let (v, s2) = match opc {
                        3 => sat(acc + p, wide, false),
                        7 => sat(acc - p, wide, false),
                        _ => (p as u64 & emask(wide), false),
                    };
                    qc |= s1 || s2;
                    v
                }
            };
            put(&mut r, wide, e, v);
        }
        m.cpu.v[dd] = if scalar { r & emask(wide) as u128 } else { r };
    } else {
        let n = if scalar { 1 } else { lanes(es, qq) };
        let mut r = 0u128;
        for e in 0..n {
            let x = get(a, es, e);
            let acc = get(c, es, e);
            let v = match (uu, opc) {
                (false, 8) => x.wrapping_mul(elem),
                (true, 0) => acc.wrapping_add(x.wrapping_mul(elem)),
                (true, 4) => acc.wrapping_sub(x.wrapping_mul(elem)),
                _ => {
                    let (v, s) = sqdmulh(x, elem, es, opc == 13);
                    qc |= s;
                    v
                }
            };
            put(&mut r, es, e, v);
        }
        if scalar {
            m.cpu.v[dd] = r & emask(es) as u128;
        } else {
            set_v(m, dd, r, qq);
        }
    }
    if qc {
        m.cpu.fpsr |= fpsr::QC as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, fp_vec_cases, int_cases};

    #[test]
    fn indexed_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for size in [1u32, 2] {
                for (u, opc) in [
                    (0u32, 2u32),
                    (0, 3),
                    (0, 6),
                    (0, 7),
                    (0, 8),
                    (0, 10),
                    (0, 11),
                    (0, 12),
                    (0, 13),
                    (1, 0),
                    (1, 2),
                    (1, 4),
                    (1, 6),
                    (1, 10),
                ] {
                    for (h, l, mb) in [(0u32, 0u32, 0u32), (1, 1, 1), (0, 1, 0), (1, 0, 1)] {
                        words.push(
                            0x0f00_0000
                                | q << 30
                                | u << 29
                                | size << 22
                                | l << 21
                                | mb << 20
                                | 2 << 16
                                | opc << 12
                                | h << 11
                                | 1 << 5,
                        );
                    }
                }
            }
        }
        for size in [1u32, 2] {
            for opc in [3u32, 7, 11, 12, 13] {
                for (h, l, mb) in [(0u32, 0u32, 0u32), (1, 1, 1)] {
                    words.push(0x5f00_0000 | size << 22 | l << 21 | mb << 20 | 2 << 16 | opc << 12 | h << 11 | 1 << 5);
                }
            }
        }
        check(&int_cases(&words, 4, 71));
        for (sz, es) in [(2u32, 32u32), (3, 64)] {
            let mut words = Vec::new();
            for (u, opc) in [(0u32, 1u32), (0, 5), (0, 9), (1, 9)] {
                for h in [0u32, 1] {
                    for l in [0u32, 1] {
                        if sz == 3 && l == 1 {
                            continue;
                        }
                        for q in [0u32, 1] {
                            if sz == 3 && q == 0 {
                                continue;
                            }
                            words.push(
                                0x0f00_0000
                                    | q << 30
                                    | u << 29
                                    | sz << 22
                                    | l << 21
                                    | 2 << 16
                                    | opc << 12
                                    | h << 11
                                    | 1 << 5,
                            );
                        }
                        words.push(0x5f00_0000 | u << 29 | sz << 22 | l << 21 | 2 << 16 | opc << 12 | h << 11 | 1 << 5);
                    }
                }
            }
            check(&fp_vec_cases(&words, es, 3, 72));
        }
    }
}
