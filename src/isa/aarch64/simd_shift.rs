//! Advanced SIMD (scalar) shift by immediate (Arm ARM C4.1.96): SSHR USHR SSRA USRA SRSHR
//! URSHR SRSRA URSRA SRI SHL SLI SQSHLU SQSHL UQSHL, the narrowing SHRN RSHRN SQSHRN UQSHRN
//! SQRSHRN UQRSHRN SQSHRUN SQRSHRUN (and their "2" forms), SSHLL/USHLL (SXTL/UXTL), and the
//! fixed-point conversions SCVTF/UCVTF/FCVTZS/FCVTZU (#fbits), which `simd_fp.rs` computes.

use super::fp::{rd, rn};
use super::fp_core::fpsr;
use super::simd::{emask, get, lanes, put, q, set_v, u, vr};
use super::simd_fp;
use super::simd_int::{ext, sat, write_part};
use super::{Decoded, Res, M};

/// Advanced SIMD (scalar) shift by immediate.
pub fn shift_imm(m: &mut M, d: &Decoded, scalar: bool) -> Res {
    let w = d.word;
    let immh = (w >> 19) & 15;
    let immb = (w >> 16) & 7;
    let opc = (w >> 11) & 31;
    let qq = q(w);
    let uu = u(w);
    if immh == 0 {
        return Err(super::undefined(d));
    }
    let hsb = 31 - immh.leading_zeros();
    let es = 8u32 << hsb;
    let immhb = (immh << 3) | immb;
    if opc == 28 || opc == 31 {
        if hsb == 1 {
            // Half precision: FEAT_FP16.
            return super::unimplemented(m, d);
        }
        if hsb == 0 || (!scalar && hsb == 3 && !qq) {
            return Err(super::undefined(d));
        }
        return simd_fp::fixed_conv(m, d, scalar, es, 2 * es - immhb);
    }
    let narrow = (16..=19).contains(&opc);
    let ok = match opc {
        0 | 2 | 4 | 6 | 10 => !scalar || hsb == 3,
        8 => uu && (!scalar || hsb == 3),
        12 => uu,
        14 => true,
        16 | 17 => !scalar || uu,
        18 | 19 => true,
        20 => !scalar,
        _ => false,
    } && if narrow || opc == 20 { hsb != 3 } else { scalar || hsb != 3 || qq };
    if !ok {
        return Err(super::undefined(d));
    }
    let shr = 2 * es - immhb;
    let shl = immhb - es;
    let a = vr(m, rn(w));
    let dd = rd(w);
    let old = vr(m, dd);
    let ones = emask(es);
    let mut qc = false;
    if narrow {
        // Source elements are 2*es wide; shift right by shr (1..=es) into es bits.
        let wide = 2 * es;
        let cnt = if scalar { 1 } else { 64 / es };
        let round = opc & 1 == 1;
        let mut r = 0u128;
        for e in 0..cnt {
            let src_unsigned = uu && opc >= 18;
            let x = ext(get(a, wide, e), wide, src_unsigned);
            let rc = if round { 1i128 << (shr - 1) } else { 0 };
            let v = (x + rc) >> shr;
            let out = match (opc, uu) {
                (16 | 17, false) => v as u64 & ones,
                (16 | 17, true) => {
                    let (o, s) = sat(v, es, true);
                    qc |= s;
                    o
                }
                _ => {
                    let (o, s) = sat(v, es, uu);
                    qc |= s;
                    o
                }
            };
            put(&mut r, es, e, out);
        }
        if scalar {
            m.cpu.v[dd] = r;
        } else {
            write_part(m, dd, r as u64, qq);
        }
        if qc {
            m.cpu.fpsr |= fpsr::QC as u64;
        }
        return Ok(());
    }
    if opc == 20 {
        // SSHLL / USHLL (and their "2" forms): widen the selected half.
        let wide = 2 * es;
        let src = if qq { a >> 64 } else { a };
        let mut r = 0u128;
        for e in 0..64 / es {
            put(&mut r, wide, e, (ext(get(src, es, e), es, uu) << shl) as u64);
        }
        m.cpu.v[dd] = r;
        return Ok(());
    }
    let n = if scalar { 1 } else { lanes(es, qq) };
    let mut r = 0u128;
    for e in 0..n {
        let x = get(a, es, e);
        let acc = get(old, es, e);
        let v = match opc {
            0 | 2 | 4 | 6 => {
                let rc = if opc & 4 != 0 { 1i128 << (shr - 1) } else { 0 };
                let s = ((ext(x, es, uu) + rc) >> shr) as u64;
                if opc & 2 != 0 {
                    acc.wrapping_add(s)
                } else {
                    s
                }
            }
            8 => {
                // SRI: shift right and insert (shr == es leaves the destination unchanged).
                if shr >= es {
                    acc
                } else {
                    let mk = ones >> shr;
                    (acc & !mk) | (x >> shr)
                }
            }
            10 => {
                if uu {
                    let mk = (ones << shl) & ones;
                    (acc & !mk) | ((x << shl) & mk)
                } else {
                    x << shl
                }
            }
            _ => {
                // SQSHLU (12) / SQSHL, UQSHL (14).
                let src_unsigned = opc == 14 && uu;
                let dst_unsigned = opc == 12 || uu;
                let (o, s) = sat(ext(x, es, src_unsigned) << shl, es, dst_unsigned);
                qc |= s;
                o
            }
        };
        put(&mut r, es, e, v);
    }
    if scalar {
        m.cpu.v[dd] = r & ones as u128;
    } else {
        set_v(m, dd, r, qq);
    }
    if qc {
        m.cpu.fpsr |= fpsr::QC as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, int_cases};

    #[test]
    fn shift_imm_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for u in [0u32, 1] {
                for immh in 1..16u32 {
                    let hsb = 31 - immh.leading_zeros();
                    for immb in [0u32, 1, 5, 7] {
                        for opc in [0u32, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19, 20] {
                            let narrow = (16..=20).contains(&opc);
                            let ok = match opc {
                                8 | 12 => u == 1,
                                _ => true,
                            } && if narrow { hsb != 3 } else { !(hsb == 3 && q == 0) };
                            if ok {
                                words.push(
                                    0x0f00_0400 | q << 30 | u << 29 | immh << 19 | immb << 16 | opc << 11 | 1 << 5,
                                );
                            }
                        }
                    }
                }
            }
        }
        for u in [0u32, 1] {
            for immh in 1..16u32 {
                let hsb = 31 - immh.leading_zeros();
                for immb in [0u32, 3, 7] {
                    for opc in [0u32, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19] {
                        let ok = match opc {
                            0 | 2 | 4 | 6 | 10 => hsb == 3,
                            8 => u == 1 && hsb == 3,
                            12 => u == 1,
                            14 => true,
                            16 | 17 => u == 1 && hsb != 3,
                            _ => hsb != 3,
                        };
                        if ok {
                            words.push(0x5f00_0400 | u << 29 | immh << 19 | immb << 16 | opc << 11 | 1 << 5);
                        }
                    }
                }
            }
        }
        check(&int_cases(&words, 4, 21));
    }
}
