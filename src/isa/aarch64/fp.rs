//! Scalar floating point (Arm ARM C4.1.96, the scalar FP classes): data-processing with one
//! source (FMOV FABS FNEG FSQRT FCVT FRINT<N,P,M,Z,A,X,I>), two sources (FMUL FDIV FADD FSUB
//! FMAX FMIN FMAXNM FMINNM FNMUL), three sources (FMADD FMSUB FNMADD FNMSUB), FCMP/FCMPE,
//! FCCMP/FCCMPE, FCSEL and FMOV (immediate). Conversions to and from integers are in
//! `fp_convert.rs`; the arithmetic itself (Arm NaN, flush-to-zero, rounding and FPSR rules)
//! in `fp_core.rs`.
//!
//! Half precision: only what FEAT_FP16 adds that is pure data movement (FMOV, FABS, FNEG,
//! FCSEL) and FCVT to/from half (ARMv8.0) are implemented; FP16 arithmetic raises SIGILL.
//! Every scalar write zeroes the rest of the vector register.

use super::flags;
use super::fp_core::{self as fc, Arith, Env, Fmt, MinMax, Rounding};
use super::table::Table;
use super::{Decoded, Res, Trap, M};

/// The scalar FP opcodes are registered, with the rest of their encoding group, by
/// `simd_decode::register` (one handler decodes the group's classes from the bits).
pub fn register(_t: &mut Table) {}

#[inline(always)]
pub fn rd(w: u32) -> usize {
    (w & 31) as usize
}

#[inline(always)]
pub fn rn(w: u32) -> usize {
    ((w >> 5) & 31) as usize
}

#[inline(always)]
pub fn rm(w: u32) -> usize {
    ((w >> 16) & 31) as usize
}

/// The scalar value of `fmt` in the low bits of V`n`.
#[inline(always)]
pub fn read_fp(m: &M, n: usize, fmt: Fmt) -> u64 {
    m.cpu.v[n] as u64 & fmt.mask()
}

/// Write a scalar to V`n`, zeroing the rest of the register.
#[inline(always)]
pub fn write_fp(m: &mut M, n: usize, v: u64) {
    m.cpu.v[n] = v as u128;
}

/// The format of a scalar FP encoding (`M` = bit 31 and `S` = bit 29 must be zero).
#[inline(always)]
fn scalar_fmt(d: &Decoded) -> Result<Fmt, Trap> {
    if d.word & 0xa000_0000 != 0 {
        return Err(super::undefined(d));
    }
    Fmt::from_ftype((d.word >> 22) & 3).ok_or_else(|| super::undefined(d))
}

/// SIGILL for FP16 arithmetic (FEAT_FP16 is not implemented).
#[inline(always)]
fn no_half(m: &mut M, d: &Decoded, fmt: Fmt) -> Res {
    if fmt == Fmt::H {
        return super::unimplemented(m, d);
    }
    Ok(())
}

/// FP data-processing (1 source).
pub fn dp1(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    let opc = (w >> 15) & 0x3f;
    let a = read_fp(m, rn(w), fmt);
    let mut env = Env::new(m);
    let r = match opc {
        0 => a,
        1 => fmt.abs(a),
        2 => fmt.neg(a),
        3 => {
            no_half(m, d, fmt)?;
            fc::sqrt(&mut env, fmt, a)
        }
        4 | 5 | 7 => {
            let to = match opc {
                4 => Fmt::S,
                5 => Fmt::D,
                _ => Fmt::H,
            };
            if to == fmt {
                return Err(super::undefined(d));
            }
            let rounding = env.rounding();
            fc::convert(&mut env, fmt, to, a, rounding)
        }
        16..=19 => {
            // FRINT32Z FRINT32X FRINT64Z FRINT64X (FEAT_FRINTTS)
            no_half(m, d, fmt)?;
            let x_form = opc & 1 == 1;
            let rounding = if x_form { env.rounding() } else { Rounding::Zero };
            fc::round_int_n(&mut env, fmt, a, rounding, if opc < 18 { 32 } else { 64 })
        }
        8..=12 | 14 | 15 => {
            no_half(m, d, fmt)?;
            let rounding =
                if opc >= 14 { env.rounding() } else { Rounding::from_frint(opc & 7).unwrap_or(Rounding::TieEven) };
            fc::round_int(&mut env, fmt, a, rounding, opc == 14)
        }
        _ => return super::unimplemented(m, d),
    };
    write_fp(m, rd(w), r);
    env.commit(m);
    Ok(())
}

/// FP data-processing (2 source).
pub fn dp2(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    let opc = (w >> 12) & 0xf;
    if opc > 8 {
        return Err(super::undefined(d));
    }
    no_half(m, d, fmt)?;
    let a = read_fp(m, rn(w), fmt);
    let b = read_fp(m, rm(w), fmt);
    let mut env = Env::new(m);
    let r = binop(&mut env, fmt, opc, a, b);
    write_fp(m, rd(w), r);
    env.commit(m);
    Ok(())
}

/// The two-source operation `opc` (the scalar encoding's opcode field, 0..=8).
#[inline(always)]
pub fn binop(env: &mut Env, fmt: Fmt, opc: u32, a: u64, b: u64) -> u64 {
    match opc {
        0 => fc::arith(env, fmt, Arith::Mul, a, b),
        1 => fc::arith(env, fmt, Arith::Div, a, b),
        2 => fc::arith(env, fmt, Arith::Add, a, b),
        3 => fc::arith(env, fmt, Arith::Sub, a, b),
        4 => fc::minmax(env, fmt, MinMax::Max, a, b),
        5 => fc::minmax(env, fmt, MinMax::Min, a, b),
        6 => fc::minmax(env, fmt, MinMax::MaxNum, a, b),
        7 => fc::minmax(env, fmt, MinMax::MinNum, a, b),
        // FNMUL: the negation applies to whatever FPMul returns, NaNs included.
        _ => fmt.neg(fc::arith(env, fmt, Arith::Mul, a, b)),
    }
}

/// FP data-processing (3 source): FMADD FMSUB FNMADD FNMSUB.
pub fn dp3(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    no_half(m, d, fmt)?;
    let n = read_fp(m, rn(w), fmt);
    let mm = read_fp(m, rm(w), fmt);
    let a = read_fp(m, ((w >> 10) & 31) as usize, fmt);
    let o1 = (w >> 21) & 1 != 0;
    let o0 = (w >> 15) & 1 != 0;
    // FMSUB negates op1, FNMADD both, FNMSUB the addend; the negations happen before NaN
    // processing, so a NaN operand comes out with its sign flipped.
    let a = if o1 { fmt.neg(a) } else { a };
    let n = if o0 != o1 { fmt.neg(n) } else { n };
    let mut env = Env::new(m);
    let r = fc::muladd(&mut env, fmt, a, n, mm);
    write_fp(m, rd(w), r);
    env.commit(m);
    Ok(())
}

/// FCMP / FCMPE (register or zero).
pub fn compare(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    if (w >> 14) & 3 != 0 || w & 7 != 0 {
        return Err(super::undefined(d));
    }
    no_half(m, d, fmt)?;
    let a = read_fp(m, rn(w), fmt);
    let b = if w & 8 != 0 { 0 } else { read_fp(m, rm(w), fmt) };
    let mut env = Env::new(m);
    m.cpu.nzcv = fc::compare(&mut env, fmt, a, b, w & 0x10 != 0);
    env.commit(m);
    Ok(())
}

/// FCCMP / FCCMPE.
pub fn cond_compare(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    no_half(m, d, fmt)?;
    let cond = ((w >> 12) & 15) as u8;
    if flags::cond(m.cpu.nzcv, cond) {
        let a = read_fp(m, rn(w), fmt);
        let b = read_fp(m, rm(w), fmt);
        let mut env = Env::new(m);
        m.cpu.nzcv = fc::compare(&mut env, fmt, a, b, w & 0x10 != 0);
        env.commit(m);
    } else {
        m.cpu.nzcv = ((w & 15) as u64) << 28;
    }
    Ok(())
}

/// FCSEL.
pub fn cond_select(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    let cond = ((w >> 12) & 15) as u8;
    let src = if flags::cond(m.cpu.nzcv, cond) { rn(w) } else { rm(w) };
    let r = read_fp(m, src, fmt);
    write_fp(m, rd(w), r);
    Ok(())
}

/// VFPExpandImm: the 8-bit FMOV immediate as a value of `fmt`.
#[inline(always)]
pub fn expand_imm(fmt: Fmt, imm8: u32) -> u64 {
    let e = fmt.exp_bits();
    let f = fmt.frac_bits();
    let sign = ((imm8 >> 7) & 1) as u64;
    let b6 = ((imm8 >> 6) & 1) as u64;
    // NOT(imm8<6>) : Replicate(imm8<6>, E-3) : imm8<5:4>
    let exp =
        ((b6 ^ 1) << (e - 1)) | (if b6 == 1 { ((1u64 << (e - 3)) - 1) << 2 } else { 0 }) | ((imm8 >> 4) & 3) as u64;
    let frac = ((imm8 & 15) as u64) << (f - 4);
    (sign << (fmt.bits() - 1)) | (exp << f) | frac
}

/// FMOV (scalar, immediate).
pub fn imm(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let fmt = scalar_fmt(d)?;
    if (w >> 5) & 31 != 0 {
        return Err(super::undefined(d));
    }
    write_fp(m, rd(w), expand_imm(fmt, (w >> 13) & 0xff));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, values, Case, FpRng, Rng, FPCRS};
    use super::*;

    /// Cases for a scalar instruction `word` (registers: d=0, n=1, m=2, a=3) over `vals`
    /// pairs/triples and all FPCRs.
    fn scalar_cases(word: u32, fmt: Fmt, nops: usize, out: &mut Vec<Case>) {
        let mut vals = values(fmt);
        if nops == 0 {
            // A few values only, as pairs (conditional compare and select).
            vals = vals.into_iter().step_by(5).collect();
        }
        let mut rng = Rng(0x1234_5678 ^ word as u64);
        for &fpcr in FPCRS {
            let mut push = |a: u64, b: u64, c: u64| {
                let mut cs = Case::new(word);
                cs.v = [0x5555_5555_5555_5555_aaaa_aaaa_aaaa_aaaa, a as u128, b as u128, c as u128, 0, 0, 0, 0];
                cs.fpcr = fpcr;
                cs.nzcv = 0x6000_0000;
                out.push(cs);
            };
            match nops {
                1 => vals.iter().for_each(|&a| push(a, 0, 0)),
                // Every pair of specials under the default FPCR and under FZ|DN|RM; random
                // pairs (below) under the other modes.
                0 | 2 if nops == 0 || fpcr == 0 || fpcr == FPCRS[FPCRS.len() - 1] => {
                    vals.iter().for_each(|&a| vals.iter().for_each(|&b| push(a, b, 0)))
                }
                2 => {
                    for _ in 0..300 {
                        let (a, b) = (vals[(rng.next_u64() % vals.len() as u64) as usize], rng.fp(fmt));
                        push(a, b, 0);
                        push(b, a, 0);
                    }
                }
                _ => {
                    for _ in 0..400 {
                        let (a, b, c) = (rng.fp(fmt), rng.fp(fmt), rng.fp(fmt));
                        push(a, b, c);
                    }
                    for &a in &vals {
                        push(a, vals[(a as usize) % vals.len()], 0x3ff0_0000_0000_0000 & fmt.mask());
                    }
                }
            }
            for _ in 0..60 {
                let (a, b, c) = (rng.fp(fmt), rng.fp(fmt), rng.fp(fmt));
                push(a, b, c);
            }
        }
    }

    const FTYPES: [(u32, Fmt); 2] = [(0, Fmt::S), (1, Fmt::D)];

    #[test]
    fn one_source_vs_qemu() {
        let mut cases = Vec::new();
        for (ft, fmt) in FTYPES {
            for opc in [0u32, 1, 2, 3, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19] {
                scalar_cases(0x1e20_4000 | ft << 22 | opc << 15 | 1 << 5, fmt, 1, &mut cases);
            }
        }
        // FCVT between S, D and H (both AHP settings).
        for (from, ft) in [(Fmt::S, 0u32), (Fmt::D, 1), (Fmt::H, 3)] {
            for to in [0u32, 1, 3] {
                if to == ft {
                    continue;
                }
                let opc = if to == 3 { 7 } else { 4 + to };
                let start = cases.len();
                scalar_cases(0x1e20_4000 | ft << 22 | opc << 15 | 1 << 5, from, 1, &mut cases);
                let ahp: Vec<Case> = cases[start..]
                    .iter()
                    .cloned()
                    .map(|mut c| {
                        c.fpcr |= 1 << 26;
                        c
                    })
                    .collect();
                cases.extend(ahp);
            }
        }
        check(&cases);
    }

    #[test]
    fn two_source_vs_qemu() {
        let mut cases = Vec::new();
        for (ft, fmt) in FTYPES {
            for opc in 0..=8u32 {
                scalar_cases(0x1e20_0800 | ft << 22 | 2 << 16 | opc << 12 | 1 << 5, fmt, 2, &mut cases);
            }
        }
        check(&cases);
    }

    #[test]
    fn three_source_vs_qemu() {
        let mut cases = Vec::new();
        for (ft, fmt) in FTYPES {
            for o in 0..4u32 {
                let word = 0x1f00_0000 | ft << 22 | (o >> 1) << 21 | 2 << 16 | (o & 1) << 15 | 3 << 10 | 1 << 5;
                scalar_cases(word, fmt, 3, &mut cases);
            }
        }
        check(&cases);
    }

    #[test]
    fn compare_select_imm_vs_qemu() {
        let mut cases = Vec::new();
        for (ft, fmt) in FTYPES {
            for opc2 in [0u32, 8, 16, 24] {
                scalar_cases(0x1e20_2000 | ft << 22 | 2 << 16 | 1 << 5 | opc2, fmt, 2, &mut cases);
            }
            for cond in [0u32, 1, 10, 14] {
                for e in [0u32, 1] {
                    scalar_cases(
                        0x1e20_0400 | ft << 22 | 2 << 16 | cond << 12 | 1 << 5 | e << 4 | 0b1010,
                        fmt,
                        0,
                        &mut cases,
                    );
                }
                scalar_cases(0x1e20_0c00 | ft << 22 | 2 << 16 | cond << 12 | 1 << 5, fmt, 0, &mut cases);
            }
        }
        for ft in [0u32, 1, 3] {
            for imm8 in 0..256u32 {
                cases.push(Case::new(0x1e20_1000 | ft << 22 | imm8 << 13));
            }
        }
        check(&cases);
    }

    #[test]
    fn expand_imm_values() {
        assert_eq!(expand_imm(Fmt::D, 0x70), 1.0f64.to_bits());
        assert_eq!(expand_imm(Fmt::S, 0x70), 1.0f32.to_bits() as u64);
        assert_eq!(expand_imm(Fmt::D, 0xc4), (-0.15625f64).to_bits());
        assert_eq!(expand_imm(Fmt::H, 0x70), 0x3c00);
    }
}
