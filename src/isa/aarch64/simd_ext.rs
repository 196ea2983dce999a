//! Advanced SIMD three-register extension and scalar three same extra (Arm ARM C4.1.96),
//! the ARMv8.1-8.3 additions: SQRDMLAH/SQRDMLSH (FEAT_RDM, vector and scalar), SDOT/UDOT
//! (FEAT_DotProd), FCMLA/FCADD (FEAT_FCMA, single and double precision). Their by-element
//! forms are in `simd_elem.rs` and use the helpers here. Not implemented: USDOT/SMMLA/
//! UMMLA/USMMLA (FEAT_I8MM), BFloat16 (FEAT_BF16) and the FP16 forms.

use super::fp::{rd, rm, rn};
use super::fp_core::{self as fc, fpsr, Arith, Env, Fmt};
use super::simd::{get, lanes, put, q, set_v, size, u, vr};
use super::simd_fp::fmt_of;
use super::simd_int::{ext, sat};
use super::{Decoded, Res, M};

/// SQRDMLAH / SQRDMLSH of one element: `acc ± 2*a*b` rounded, high half, saturated.
#[inline(always)]
pub fn sqrdmlah(acc: u64, a: u64, b: u64, es: u32, sub: bool) -> (u64, bool) {
    let p = 2 * ext(a, es, false) * ext(b, es, false);
    let acc = ext(acc, es, false) << es;
    let v = if sub { acc - p } else { acc + p } + (1i128 << (es - 1));
    sat(v >> es, es, false)
}

/// SDOT / UDOT of one 32-bit element: `acc + sum of the four byte products`.
#[inline(always)]
pub fn dot(acc: u64, a: u64, b: u64, unsigned: bool) -> u64 {
    let mut s = acc as u32;
    for i in 0..4 {
        let x = ext((a >> (8 * i)) & 0xff, 8, unsigned);
        let y = ext((b >> (8 * i)) & 0xff, 8, unsigned);
        s = s.wrapping_add((x * y) as u32);
    }
    s as u64
}

/// FCMLA of one complex pair: `(d_re, d_im) += rotate(m) * n` for `rot` in 0..4 (x 90°),
/// with the element operands of the pseudocode (`n_re`/`n_im` and `m_re`/`m_im`).
#[inline(always)]
pub fn fcmla_pair(env: &mut Env, fmt: Fmt, d: (u64, u64), n: (u64, u64), mm: (u64, u64), rot: u32) -> (u64, u64) {
    let neg = |x: u64| fmt.neg(x);
    let (e1, e2, e3, e4) = match rot {
        0 => (mm.0, n.0, mm.1, n.0),
        1 => (neg(mm.1), n.1, mm.0, n.1),
        2 => (neg(mm.0), n.0, neg(mm.1), n.0),
        _ => (mm.1, n.1, neg(mm.0), n.1),
    };
    let re = fc::muladd(env, fmt, d.0, e2, e1);
    let im = fc::muladd(env, fmt, d.1, e4, e3);
    (re, im)
}

/// Advanced SIMD three-register extension.
pub fn three_reg_extension(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    let uu = u(w);
    let sz = size(w);
    let opc = (w >> 11) & 15;
    let a = vr(m, rn(w));
    let b = vr(m, rm(w));
    let dd = rd(w);
    let c = vr(m, dd);
    match (uu, opc) {
        (true, 0 | 1) => {
            // SQRDMLAH / SQRDMLSH (vector)
            if !(sz == 1 || sz == 2) {
                return Err(super::undefined(d));
            }
            let es = 8 << sz;
            let mut qc = false;
            let mut r = 0u128;
            for e in 0..lanes(es, qq) {
                let (v, s) = sqrdmlah(get(c, es, e), get(a, es, e), get(b, es, e), es, opc == 1);
                qc |= s;
                put(&mut r, es, e, v);
            }
            set_v(m, dd, r, qq);
            if qc {
                m.cpu.fpsr |= fpsr::QC as u64;
            }
        }
        (_, 2) => {
            // SDOT / UDOT (vector)
            if sz != 2 {
                return Err(super::undefined(d));
            }
            let mut r = 0u128;
            for e in 0..lanes(32, qq) {
                put(&mut r, 32, e, dot(get(c, 32, e), get(a, 32, e), get(b, 32, e), uu));
            }
            set_v(m, dd, r, qq);
        }
        (true, 8..=11) | (true, 12 | 14) => {
            // FCMLA (opcode 10 rot) / FCADD (opcode 11 rot 0)
            if sz == 1 {
                return super::unimplemented(m, d);
            }
            if sz == 0 || (sz == 3 && !qq) {
                return Err(super::undefined(d));
            }
            let es = 8 << sz;
            let fmt = fmt_of(es);
            let mut env = Env::new(m);
            let mut r = 0u128;
            for p in 0..lanes(es, qq) / 2 {
                let (i, j) = (2 * p, 2 * p + 1);
                let n = (get(a, es, i), get(a, es, j));
                let mm = (get(b, es, i), get(b, es, j));
                let (re, im) = if opc < 12 {
                    fcmla_pair(&mut env, fmt, (get(c, es, i), get(c, es, j)), n, mm, opc & 3)
                } else {
                    // FCADD #90: (n_re - m_im, n_im + m_re); #270: (n_re + m_im, n_im - m_re).
                    let (e1, e3) = if opc == 12 { (fmt.neg(mm.1), mm.0) } else { (mm.1, fmt.neg(mm.0)) };
                    (fc::arith(&mut env, fmt, Arith::Add, n.0, e1), fc::arith(&mut env, fmt, Arith::Add, n.1, e3))
                };
                put(&mut r, es, i, re);
                put(&mut r, es, j, im);
            }
            set_v(m, dd, r, qq);
            env.commit(m);
        }
        (false, 3) | (false, 4) | (true, 4) | (false, 5) | (true, 13) | (false, 15) | (true, 15) => {
            // USDOT, SMMLA, UMMLA, USMMLA (FEAT_I8MM), BFDOT, BFMMLA, BFMLAL (FEAT_BF16).
            return super::unimplemented(m, d);
        }
        _ => return Err(super::undefined(d)),
    }
    Ok(())
}

/// Advanced SIMD scalar three same extra: SQRDMLAH / SQRDMLSH (scalar).
pub fn scalar_three_same_extra(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let sz = size(w);
    let opc = (w >> 11) & 15;
    if !u(w) || opc > 1 || !(sz == 1 || sz == 2) {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let dd = rd(w);
    let (v, s) = sqrdmlah(get(vr(m, dd), es, 0), get(vr(m, rn(w)), es, 0), get(vr(m, rm(w)), es, 0), es, opc == 1);
    m.cpu.v[dd] = v as u128;
    if s {
        m.cpu.fpsr |= fpsr::QC as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, fp_vec_cases, int_cases};

    #[test]
    fn three_reg_extension_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for size in [1u32, 2] {
                for opc in [0u32, 1] {
                    words.push(0x2e00_8400 | q << 30 | size << 22 | 2 << 16 | opc << 11 | 1 << 5);
                }
                words.push(0x7e00_8400 | size << 22 | 2 << 16 | (q & 1) << 11 | 1 << 5);
            }
            for u in [0u32, 1] {
                words.push(0x0e80_9400 | q << 30 | u << 29 | 2 << 16 | 1 << 5);
            }
        }
        check(&int_cases(&words, 6, 81));
        for (sz, es) in [(2u32, 32u32), (3, 64)] {
            let mut words = Vec::new();
            for q in [0u32, 1] {
                if sz == 3 && q == 0 {
                    continue;
                }
                for opc in [8u32, 9, 10, 11, 12, 14] {
                    words.push(0x2e00_8400 | q << 30 | sz << 22 | 2 << 16 | opc << 11 | 1 << 5);
                }
            }
            check(&fp_vec_cases(&words, es, 4, 82));
        }
    }
}
