//! Advanced SIMD (scalar) x indexed element (Arm ARM C4.1.96): MUL MLA MLS, \[SU\]MULL(2)
//! \[SU\]MLAL(2) \[SU\]MLSL(2), SQDMULL(2) SQDMLAL(2) SQDMLSL(2), SQDMULH SQRDMULH, SQRDMLAH
//! SQRDMLSH (FEAT_RDM), SDOT UDOT (FEAT_DotProd), FMUL FMLA FMLS FMULX (single and double
//! precision) and FCMLA (single, FEAT_FCMA) by element. Not implemented: USDOT/SUDOT
//! (FEAT_I8MM), FMLAL/FMLSL (FEAT_FHM), BFloat16 and the FP16 forms.

use super::fp::{rd, rn};
use super::fp_core::{self as fc, fpsr, Arith, Env, Fmt};
use super::simd::{emask, get, lanes, put, q, set_v, size, u, vr};
use super::simd_ext;
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
    if uu && opc & 1 == 1 && opc < 8 && !scalar {
        // FCMLA (by element): single precision only (the half form is FEAT_FP16).
        if sz == 1 {
            return super::unimplemented(m, d);
        }
        if sz != 2 || l == 1 || !qq {
            return Err(super::undefined(d));
        }
        let rmi = ((mbit << 4) | ((w >> 16) & 15)) as usize;
        let b = vr(m, rmi);
        let mm = (get(b, 32, 2 * h), get(b, 32, 2 * h + 1));
        let a = vr(m, rn(w));
        let dd = rd(w);
        let c = vr(m, dd);
        let mut env = Env::new(m);
        let mut r = 0u128;
        for p in 0..2 {
            let (i, j) = (2 * p, 2 * p + 1);
            let (re, im) = simd_ext::fcmla_pair(
                &mut env,
                Fmt::S,
                (get(c, 32, i), get(c, 32, j)),
                (get(a, 32, i), get(a, 32, j)),
                mm,
                opc >> 1,
            );
            put(&mut r, 32, i, re);
            put(&mut r, 32, j, im);
        }
        m.cpu.v[dd] = r;
        env.commit(m);
        return Ok(());
    }
    if opc == 14 && !scalar {
        // SDOT / UDOT (by element): the indexed 32-bit element of Vm holds four bytes.
        if sz != 2 {
            return Err(super::undefined(d));
        }
        let rmi = ((mbit << 4) | ((w >> 16) & 15)) as usize;
        let elem = get(vr(m, rmi), 32, (h << 1) | l);
        let a = vr(m, rn(w));
        let dd = rd(w);
        let c = vr(m, dd);
        let mut r = 0u128;
        for e in 0..lanes(32, qq) {
            put(&mut r, 32, e, simd_ext::dot(get(c, 32, e), get(a, 32, e), elem, uu));
        }
        set_v(m, dd, r, qq);
        return Ok(());
    }
    // Integer forms.
    let implemented = match (uu, opc) {
        (false, 2 | 6 | 8 | 10) | (true, 0 | 2 | 4 | 6 | 10) => !scalar,
        (false, 3 | 7 | 11 | 12 | 13) | (true, 13 | 15) => true,
        _ => false,
    };
    if !implemented {
        let known = matches!((uu, opc), (_, 14) | (false, 15) | (false, 0) | (false, 4));
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
                (true, _) => {
                    // SQRDMLAH (13) / SQRDMLSH (15)
                    let (v, s) = simd_ext::sqrdmlah(acc, x, elem, es, opc == 15);
                    qc |= s;
                    v
                }
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
        for q in [0u32, 1] {
            for size in [1u32, 2] {
                for opc in [13u32, 15] {
                    for (h, l, mb) in [(0u32, 0u32, 0u32), (1, 1, 1)] {
                        words.push(
                            0x2f00_0000
                                | q << 30
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
            for u in [0u32, 1] {
                for (h, l, mb) in [(0u32, 0u32, 0u32), (1, 1, 1), (0, 1, 0)] {
                    words.push(0x0f80_e000 | q << 30 | u << 29 | l << 21 | mb << 20 | 2 << 16 | h << 11 | 1 << 5);
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
            if sz == 2 {
                // FCMLA (by element), 4S.
                for rot in 0..4u32 {
                    for h in [0u32, 1] {
                        words.push(0x6f80_1000 | 2 << 16 | rot << 13 | h << 11 | 1 << 5);
                    }
                }
            }
            check(&fp_vec_cases(&words, es, 3, 72));
        }
    }
}
