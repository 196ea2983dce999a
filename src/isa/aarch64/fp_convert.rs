//! Conversions between floating point and integers (Arm ARM C4.1.96: "Conversion between
//! floating-point and integer", "Conversion between floating-point and fixed-point"):
//! FCVT<N,P,M,Z,A><S,U> (to W/X, saturating, incl. fixed point for FCVTZ*), SCVTF/UCVTF
//! (incl. fixed point), FMOV between general and FP registers (incl. the top half of a
//! vector register), and FJCVTZS. FP16 conversions to and from integers are not implemented
//! (FEAT_FP16); FMOV of a half between registers is.

use super::fp::{rd, read_fp, rn, write_fp};
use super::fp_core::{self as fc, fpsr, Env, Fmt, Rounding};
use super::operands::{reg, set_reg};
use super::{Decoded, Res, M};
use deja_decoders::aarch64::SizeCode;

/// Conversion between floating point and integer.
pub fn int_conv(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if w & (1 << 29) != 0 {
        return Err(super::undefined(d));
    }
    let sf = w >> 31 != 0;
    let ftype = (w >> 22) & 3;
    let rmode = (w >> 19) & 3;
    let opcode = (w >> 16) & 7;
    let size = if sf { SizeCode::X } else { SizeCode::W };
    let bits = if sf { 64 } else { 32 };
    let (n, dd) = (rn(w), rd(w));
    if opcode >= 6 {
        return fmov_general(m, d, sf, ftype, rmode, opcode);
    }
    let Some(fmt) = Fmt::from_ftype(ftype) else { return Err(super::undefined(d)) };
    if fmt == Fmt::H {
        return super::unimplemented(m, d);
    }
    let mut env = Env::new(m);
    match (opcode, rmode) {
        (0 | 1, _) | (4 | 5, 0) => {
            let rounding = if opcode >= 4 { Rounding::TieAway } else { Rounding::from_rmode(rmode) };
            let a = read_fp(m, n, fmt);
            let r = fc::to_fixed(&mut env, fmt, a, 0, opcode & 1 != 0, rounding, bits);
            set_reg(m, size, dd as u16, r);
        }
        (2 | 3, 0) => {
            let v = reg(m, size, n as u16);
            let rounding = env.rounding();
            let r = fc::from_fixed(&mut env, fmt, v, bits, opcode == 2, 0, rounding);
            write_fp(m, dd, r);
        }
        _ => return Err(super::undefined(d)),
    }
    env.commit(m);
    Ok(())
}

/// FMOV (general) and FJCVTZS (opcode 6 and 7 of the conversion class).
fn fmov_general(m: &mut M, d: &Decoded, sf: bool, ftype: u32, rmode: u32, opcode: u32) -> Res {
    let w = d.word;
    let (n, dd) = (rn(w), rd(w));
    let to_fp = opcode == 7;
    match (sf, ftype, rmode) {
        (false, 0, 0) | (true, 1, 0) | (_, 3, 0) => {
            let fmt = match ftype {
                0 => Fmt::S,
                1 => Fmt::D,
                _ => Fmt::H,
            };
            let size = if sf { SizeCode::X } else { SizeCode::W };
            if to_fp {
                let v = reg(m, size, n as u16) & fmt.mask();
                write_fp(m, dd, v);
            } else {
                let v = read_fp(m, n, fmt);
                set_reg(m, size, dd as u16, v);
            }
        }
        (true, 2, 1) => {
            if to_fp {
                let v = reg(m, SizeCode::X, n as u16);
                m.cpu.v[dd] = (m.cpu.v[dd] & u64::MAX as u128) | (v as u128) << 64;
            } else {
                let v = (m.cpu.v[n] >> 64) as u64;
                set_reg(m, SizeCode::X, dd as u16, v);
            }
        }
        (false, 1, 3) if !to_fp => {
            let mut env = Env::new(m);
            let (r, z) = fjcvtzs(&mut env, read_fp(m, n, Fmt::D));
            set_reg(m, SizeCode::W, dd as u16, r as u64);
            m.cpu.nzcv = (z as u64) << 30;
            env.commit(m);
        }
        _ => return Err(super::undefined(d)),
    }
    Ok(())
}

/// FPToFixedJS (FJCVTZS): the double `x` truncated, modulo 2^32, and whether the conversion
/// was exact and in range (the Z flag).
pub fn fjcvtzs(env: &mut Env, x: u64) -> (u32, bool) {
    let f = Fmt::D;
    let flushed = fc::flush_in(env, f, x);
    if f.is_nan(flushed) || f.is_inf(flushed) {
        env.raise(fpsr::IOC);
        return (0, false);
    }
    if f.is_zero(flushed) {
        // -0, and a flushed positive denormal, are not exact.
        let z = !f.sign(x) && f.is_zero(x);
        return (0, z);
    }
    let (sign, exp, mant) = f.decompose(flushed);
    // Truncate toward zero: |int| = mant * 2^exp rounded down.
    let (int_lo, in_range, inexact) = if exp >= 0 {
        let lo = if exp >= 64 { 0 } else { mant << exp };
        let in_range = exp + 53 <= 32 && (mant << exp) <= (1u64 << 31);
        (lo, in_range, false)
    } else {
        let s = (-exp) as u32;
        let int = if s >= 64 { 0 } else { mant >> s };
        let inexact = if s >= 64 { true } else { mant & ((1u64 << s) - 1) != 0 };
        (int, int <= 1u64 << 31, inexact)
    };
    // In range: -2^31 <= v <= 2^31 - 1.
    let in_range = in_range && (sign || int_lo < 1u64 << 31);
    let r = if sign { (int_lo as u32).wrapping_neg() } else { int_lo as u32 };
    if !in_range {
        env.raise(fpsr::IOC);
        return (r, false);
    }
    if inexact {
        env.raise(fpsr::IXC);
        return (r, false);
    }
    (r, true)
}

/// Conversion between floating point and fixed point.
pub fn fixed_conv(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if w & (1 << 29) != 0 {
        return Err(super::undefined(d));
    }
    let sf = w >> 31 != 0;
    let scale = (w >> 10) & 63;
    if !sf && scale < 32 {
        return Err(super::undefined(d));
    }
    let fbits = 64 - scale;
    let Some(fmt) = Fmt::from_ftype((w >> 22) & 3) else { return Err(super::undefined(d)) };
    let rmode = (w >> 19) & 3;
    let opcode = (w >> 16) & 7;
    let size = if sf { SizeCode::X } else { SizeCode::W };
    let bits = if sf { 64 } else { 32 };
    let (n, dd) = (rn(w), rd(w));
    if !matches!((rmode, opcode), (3, 0) | (3, 1) | (0, 2) | (0, 3)) {
        return Err(super::undefined(d));
    }
    if fmt == Fmt::H {
        return super::unimplemented(m, d);
    }
    let mut env = Env::new(m);
    if rmode == 3 {
        let a = read_fp(m, n, fmt);
        let r = fc::to_fixed(&mut env, fmt, a, fbits, opcode == 1, Rounding::Zero, bits);
        set_reg(m, size, dd as u16, r);
    } else {
        let v = reg(m, size, n as u16);
        let rounding = env.rounding();
        let r = fc::from_fixed(&mut env, fmt, v, bits, opcode == 2, fbits, rounding);
        write_fp(m, dd, r);
    }
    env.commit(m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, values, Case, FpRng, Rng, FPCRS};
    use super::*;

    fn fp_to_int_cases(word: u32, fmt: Fmt, out: &mut Vec<Case>) {
        let mut rng = Rng(0x9e37_79b9 ^ word as u64);
        for &fpcr in FPCRS {
            let mut push = |a: u64| {
                let mut c = Case::new(word);
                c.v[1] = a as u128 | 0xdead << 64;
                c.x[0] = 0x1111_2222_3333_4444;
                c.fpcr = fpcr;
                out.push(c);
            };
            values(fmt).into_iter().for_each(&mut push);
            for _ in 0..40 {
                let a = rng.fp(fmt);
                push(a);
            }
        }
    }

    fn int_to_fp_cases(word: u32, out: &mut Vec<Case>) {
        let ints: [u64; 14] = [
            0,
            1,
            u64::MAX,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000_0000_0000,
            0x0020_0000_0000_0001,
            0x0000_0000_0100_0001,
            0xffff_ffff_feff_ffff,
            0x1234_5678_9abc_def1,
            0x8000_0000_0000_0401,
            3,
        ];
        let mut rng = Rng(0x5151 ^ word as u64);
        for &fpcr in FPCRS {
            for v in ints.iter().copied().chain((0..20).map(|_| rng.next_u64() >> (rng.next_u64() % 64))) {
                let mut c = Case::new(word);
                c.x[1] = v;
                c.v[0] = u128::MAX;
                c.fpcr = fpcr;
                out.push(c);
            }
        }
    }

    #[test]
    fn fp_to_int_vs_qemu() {
        let mut cases = Vec::new();
        for sf in [0u32, 1] {
            for (ft, fmt) in [(0u32, Fmt::S), (1, Fmt::D)] {
                for rmode in 0..4u32 {
                    for opcode in [0u32, 1] {
                        fp_to_int_cases(
                            sf << 31 | 0x1e20_0000 | ft << 22 | rmode << 19 | opcode << 16 | 1 << 5,
                            fmt,
                            &mut cases,
                        );
                    }
                }
                for opcode in [4u32, 5] {
                    fp_to_int_cases(sf << 31 | 0x1e20_0000 | ft << 22 | opcode << 16 | 1 << 5, fmt, &mut cases);
                }
                // Fixed point: fbits 1, 10, 32 (and 33, 64 for X).
                for scale in [63u32, 54, 32, 31, 0] {
                    if sf == 0 && scale < 32 {
                        continue;
                    }
                    for opcode in [0u32, 1] {
                        let word = sf << 31 | 0x1e00_0000 | ft << 22 | 3 << 19 | opcode << 16 | scale << 10 | 1 << 5;
                        fp_to_int_cases(word, fmt, &mut cases);
                    }
                }
            }
        }
        // FJCVTZS. qemu 7.2 sets Z for a denormal flushed by FZ; the Arm ARM (FPToFixedJS)
        // and qemu >= 9.0.2 (qemu issue #2375) clear it: those cases are checked by
        // `fjcvtzs_flushed_denormal` instead.
        let mut js = Vec::new();
        fp_to_int_cases(0x1e7e_0020, Fmt::D, &mut js);
        cases.extend(js.into_iter().filter(|c| !(c.fpcr & (1 << 24) != 0 && Fmt::D.is_denormal(c.v[1] as u64))));
        check(&cases);
    }

    #[test]
    fn fjcvtzs_flushed_denormal() {
        let mut env = Env::with_fpcr(1 << 24);
        assert_eq!(fjcvtzs(&mut env, 0x00fc_ff00), (0, false));
        assert_eq!(env.flags(), fpsr::IDC);
        let mut env = Env::with_fpcr(0);
        assert_eq!(fjcvtzs(&mut env, 0x00fc_ff00), (0, false));
        assert_eq!(env.flags(), fpsr::IXC);
        assert_eq!(fjcvtzs(&mut env, 0), (0, true));
        assert_eq!(fjcvtzs(&mut env, (-0.0f64).to_bits()), (0, false));
        assert_eq!(fjcvtzs(&mut env, 4294967298.0f64.to_bits()), (2, false));
        assert_eq!(fjcvtzs(&mut env, (-5.0f64).to_bits()), (-5i32 as u32, true));
    }

    #[test]
    fn int_to_fp_vs_qemu() {
        let mut cases = Vec::new();
        for sf in [0u32, 1] {
            for ft in [0u32, 1] {
                for opcode in [2u32, 3] {
                    int_to_fp_cases(sf << 31 | 0x1e20_0000 | ft << 22 | opcode << 16 | 1 << 5, &mut cases);
                    for scale in [63u32, 40, 32, 0] {
                        if sf == 0 && scale < 32 {
                            continue;
                        }
                        int_to_fp_cases(
                            sf << 31 | 0x1e00_0000 | ft << 22 | opcode << 16 | scale << 10 | 1 << 5,
                            &mut cases,
                        );
                    }
                }
            }
        }
        check(&cases);
    }

    #[test]
    fn fmov_general_vs_qemu() {
        let mut cases = Vec::new();
        for word in [
            0x1e26_0020u32, // fmov w0, s1
            0x1e27_0020,    // fmov s0, w1
            0x9e66_0020,    // fmov x0, d1
            0x9e67_0020,    // fmov d0, x1
            0x9eae_0020,    // fmov x0, v1.d[1]
            0x9eaf_0020,    // fmov v0.d[1], x1
            0x1ee6_0020,    // fmov w0, h1
            0x1ee7_0020,    // fmov h0, w1
            0x9ee6_0020,    // fmov x0, h1
            0x9ee7_0020,    // fmov h0, x1
        ] {
            let mut c = Case::new(word);
            c.v = [
                0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
                0xfedc_ba98_7654_3210_0123_4567_89ab_cdef,
                0,
                0,
                0,
                0,
                0,
                0,
            ];
            c.x = [0x1111_2222_3333_4444, 0x8888_9999_aaaa_bbbb, 0, 0, 0, 0, 0, 0];
            cases.push(c);
        }
        check(&cases);
    }
}
