//! Shifts and rotates (SDM "Shift and Rotate Instructions"): shl/sal shr sar rol ror rcl rcr
//! shld shrd.
//!
//! The count is masked to 6 bits for 64-bit operands and 5 bits otherwise; a masked count of 0
//! leaves the flags alone (a 32-bit register destination is still zero-extended, as on
//! hardware). rcl/rcr rotate through CF modulo width + 1.
//!
//! Flags the SDM leaves undefined take the values this AMD Zen host (family 1Ah) produces;
//! the tests below check every one against it:
//! - shifts (shl shr sar shld shrd): AF = 1.
//! - OF for counts above 1: shl and shld = MSB(result) XOR CF; shr = 0; sar = 0;
//!   shrd = MSB(result) XOR the bit below it (the count-1 formulas, applied to every count).
//! - rotates: OF = the count-1 formula for every count (rol, rcl: MSB(result) XOR CF;
//!   ror, rcr: the top two result bits differ). SF ZF AF PF are unaffected.
//! - shl/shr with a count >= the width: CF is the last bit shifted out of a zero-extended
//!   operand (so 0 beyond the width).
//! - 16-bit shld/shrd with counts 17-31 (undefined result): see [`double_bits`]; shld sets
//!   CF = OF = 0 and shrd CF = 0 there, and shld with a count of exactly 16 sets OF = CF.

use super::flags;
use super::operands::{mask, sext, Args};
use super::state::fl;
use super::table::Table;
use super::{Res, M};
use crate::{reference, shift_forms};
use iced_x86::Mnemonic as Mn;

pub fn register(t: &mut Table) {
    t.add(&[Mn::Shl, Mn::Sal], reference!(shl));
    t.add(&[Mn::Shr], reference!(shr));
    t.add(&[Mn::Sar], reference!(sar));
    t.add(&[Mn::Rol], reference!(rol));
    t.add(&[Mn::Ror], reference!(ror));
    t.add(&[Mn::Rcl], reference!(rcl));
    t.add(&[Mn::Rcr], reference!(rcr));
    t.add(&[Mn::Shld], reference!(shld));
    t.add(&[Mn::Shrd], reference!(shrd));
    t.specialize(&[Mn::Shl, Mn::Sal], shift_forms!(shl));
    t.specialize(&[Mn::Shr], shift_forms!(shr));
    t.specialize(&[Mn::Sar], shift_forms!(sar));
    t.specialize(&[Mn::Rol], shift_forms!(rol));
    t.specialize(&[Mn::Ror], shift_forms!(ror));
}

/// The shift count in operand `i` masked as the hardware does: 6 bits for 64-bit operands,
/// 5 bits otherwise.
#[inline]
fn count<A: Args>(m: &M, x: A, i: u32, size: u32) -> Result<u32, super::Trap> {
    let c = x.read(m, i)? as u32;
    Ok(c & if size == 8 { 0x3f } else { 0x1f })
}

/// A zero count changes nothing, except that a 32-bit register destination is still written
/// and so zero-extended (as on hardware). Memory is not written.
#[inline]
fn zero_count<A: Args>(m: &mut M, x: A, a: u64) -> Res {
    if x.is_reg(0) && x.size(0) == 4 {
        x.write(m, 0, a)?;
    }
    Ok(())
}

#[inline]
fn msb(v: u64, size: u32) -> u64 {
    (v >> (size * 8 - 1)) & 1
}

#[inline]
fn bit(v: u64, n: u32) -> u64 {
    if n < 64 {
        (v >> n) & 1
    } else {
        0
    }
}

#[inline]
fn if_set(b: u64, f: u64) -> u64 {
    if b != 0 {
        f
    } else {
        0
    }
}

/// Set the status flags of a shift: SF ZF PF from `res`, `cf`, `of`; AF = 1 (undefined; the
/// host sets it).
#[inline]
fn shift_flags<A: Args>(m: &mut M, x: A, res: u64, size: u32, cf: u64, of: u64) {
    let f = flags::szp(res, size) | fl::AF | if_set(cf, fl::CF) | if_set(of, fl::OF);
    x.set_flags(m, fl::STATUS, f);
}

#[inline(always)]
pub fn shl<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let res = if c < 64 { (a << c) & mask(size) } else { 0 };
    x.write(m, 0, res)?;
    let cf = if c <= w { bit(a, w - c) } else { 0 };
    shift_flags(m, x, res, size, cf, msb(res, size) ^ cf);
    Ok(())
}

#[inline(always)]
pub fn shr<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let res = if c < 64 { a >> c } else { 0 };
    x.write(m, 0, res)?;
    let cf = bit(a, c - 1);
    shift_flags(m, x, res, size, cf, if c == 1 { msb(a, size) } else { 0 });
    Ok(())
}

#[inline(always)]
pub fn sar<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let s = sext(a, size) as i64;
    let res = (s >> c.min(63)) as u64 & mask(size);
    x.write(m, 0, res)?;
    let cf = ((s >> (c - 1).min(63)) & 1) as u64;
    shift_flags(m, x, res, size, cf, 0);
    Ok(())
}

/// Set CF and OF only (rotates leave SF ZF AF PF alone).
#[inline]
fn rot_flags<A: Args>(m: &mut M, x: A, cf: u64, of: u64) {
    x.set_flags(m, fl::CF | fl::OF, if_set(cf, fl::CF) | if_set(of, fl::OF));
}

#[inline(always)]
pub fn rol<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let r = c % w;
    let res = if r == 0 { a } else { ((a << r) | (a >> (w - r))) & mask(size) };
    x.write(m, 0, res)?;
    let cf = res & 1;
    rot_flags(m, x, cf, msb(res, size) ^ cf);
    Ok(())
}

#[inline(always)]
pub fn ror<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let r = c % w;
    let res = if r == 0 { a } else { ((a >> r) | (a << (w - r))) & mask(size) };
    x.write(m, 0, res)?;
    let cf = msb(res, size);
    rot_flags(m, x, cf, cf ^ bit(res, w - 2));
    Ok(())
}

/// Rotate the (w+1)-bit value CF:a left by `r` (< w+1); returns (result, CF).
#[inline]
fn rcl_wide(a: u64, cf: u64, w: u32, r: u32) -> (u64, u64) {
    let v = ((cf as u128) << w) | a as u128;
    let mk = (1u128 << (w + 1)) - 1;
    let v = if r == 0 { v } else { ((v << r) | (v >> (w + 1 - r))) & mk };
    ((v as u64) & mask(w / 8), (v >> w) as u64 & 1)
}

#[inline(always)]
pub fn rcl<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let (res, cf) = rcl_wide(a, flags::cf(m), w, c % (w + 1));
    x.write(m, 0, res)?;
    rot_flags(m, x, cf, msb(res, size) ^ cf);
    Ok(())
}

#[inline(always)]
pub fn rcr<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let c = count(m, x, 1, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let r = c % (w + 1);
    // A right rotation by r of w+1 bits is a left rotation by w+1-r.
    let (res, cf) = rcl_wide(a, flags::cf(m), w, if r == 0 { 0 } else { w + 1 - r });
    x.write(m, 0, res)?;
    rot_flags(m, x, cf, msb(res, size) ^ bit(res, w - 2));
    Ok(())
}

/// The bits shld/shrd shift through, as (value, width in bits): dest:src for 32/64-bit
/// operands. For 16-bit operands the counts 17-31 are undefined; this host behaves as if src
/// were repeated, so the 48-bit dest:src:src (shld) or src:src:dest (shrd) is used for every
/// 16-bit count (for counts up to 16 it gives the defined result).
#[inline]
fn double_bits(hi: u64, lo: u64, size: u32, left: bool) -> (u128, u32) {
    let w = size * 8;
    if size == 2 {
        let v = if left { (hi << 32) | (lo << 16) | lo } else { (hi << 32) | (hi << 16) | lo };
        (v as u128, 48)
    } else {
        (((hi as u128) << w) | lo as u128, 2 * w)
    }
}

/// `shld dest, src, count`: dest shifted left, filled from the top of src. CF = last bit
/// shifted out; OF = MSB(result) XOR CF (for every count, as on the host; SDM: count 1 only).
#[inline(always)]
pub fn shld<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let b = x.read(m, 1)?;
    let c = count(m, x, 2, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let (v, t) = double_bits(a, b, size, true);
    // c <= t - w, so the shift amounts stay in range.
    let res = (v >> (t - w - c)) as u64 & mask(size);
    x.write(m, 0, res)?;
    let (cf, of) = match c {
        // Undefined 16-bit counts, as on the host: at 16, OF = CF; above 16, CF = OF = 0.
        17.. if size == 2 => (0, 0),
        16 if size == 2 => (a & 1, a & 1),
        _ => {
            let cf = (v >> (t - c)) as u64 & 1;
            (cf, msb(res, size) ^ cf)
        }
    };
    shift_flags(m, x, res, size, cf, of);
    Ok(())
}

/// `shrd dest, src, count`: dest shifted right, filled from the bottom of src. CF = last bit
/// shifted out; OF = the top two bits of the result differ (for every count, as on the host).
#[inline(always)]
pub fn shrd<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let b = x.read(m, 1)?;
    let c = count(m, x, 2, size)?;
    if c == 0 {
        return zero_count(m, x, a);
    }
    let w = size * 8;
    let (v, _) = double_bits(b, a, size, false);
    let res = (v >> c) as u64 & mask(size);
    x.write(m, 0, res)?;
    // Undefined 16-bit counts above 16 clear CF on the host.
    let cf = if c > w { 0 } else { (v >> (c - 1)) as u64 & 1 };
    shift_flags(m, x, res, size, cf, msb(res, size) ^ bit(res, w - 2));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    const SIZES: [u32; 4] = [1, 2, 4, 8];

    /// A random count: often 0, 1, the width or just around it, sometimes any byte.
    fn pick_count(rng: &mut Rng) -> u8 {
        match rng.below(4) {
            0 => [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65][rng.below(14) as usize],
            1 => rng.next_u64() as u8,
            _ => rng.below(70) as u8,
        }
    }

    /// One random group-2 shift/rotate (`ext` = ModRM.reg) of a random size, operand and count
    /// form, with its starting state.
    fn group2(rng: &mut Rng, ext: u8) -> (Vec<u8>, Ctx, [u8; 4096]) {
        let size = SIZES[rng.below(4) as usize];
        let (pre, w, lo) = size_enc(size);
        let (r, rex) = pick_regs(rng, 1, size == 1);
        let rm = pick_rm(rng, r[0]);
        let mut ctx = random_ctx(rng, 6);
        let c = pick_count(rng);
        let b = match rng.below(3) {
            0 => encode(pre, w, rex, &[0xc0 | lo], ext, rm, &[c]),
            1 => encode(pre, w, rex, &[0xd0 | lo], ext, rm, &[]),
            _ => {
                ctx.gpr[1] = (ctx.gpr[1] & !0xff) | c as u64;
                encode(pre, w, rex, &[0xd2 | lo], ext, rm, &[])
            }
        };
        (b, ctx, random_data(rng))
    }

    /// One random shld (`op` = 0xa4) or shrd (0xac).
    fn double(rng: &mut Rng, op: u8) -> (Vec<u8>, Ctx, [u8; 4096]) {
        let size = SIZES[1 + rng.below(3) as usize];
        let (pre, w, _) = size_enc(size);
        let (r, _) = pick_regs(rng, 2, false);
        let rm = pick_rm(rng, r[1]);
        let mut ctx = random_ctx(rng, 6);
        let c = pick_count(rng);
        let b = if rng.below(2) == 0 {
            encode(pre, w, false, &[0x0f, op], r[0], rm, &[c])
        } else {
            ctx.gpr[1] = (ctx.gpr[1] & !0xff) | c as u64;
            encode(pre, w, false, &[0x0f, op | 1], r[0], rm, &[])
        };
        (b, ctx, random_data(rng))
    }

    fn sweep(seed: u64, iters: usize, gen: impl Fn(&mut Rng) -> (Vec<u8>, Ctx, [u8; 4096])) {
        let mut rng = Rng(seed);
        for _ in 0..iters {
            let (b, ctx, data) = gen(&mut rng);
            compare(&b, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn shl_sal_shr_sar_match_host() {
        for ext in [4, 5, 6, 7] {
            sweep(ext as u64, 5000, |r| group2(r, ext));
        }
    }

    #[test]
    fn rol_ror_match_host() {
        for ext in [0, 1] {
            sweep(ext as u64, 5000, |r| group2(r, ext));
        }
    }

    #[test]
    fn rcl_rcr_match_host() {
        for ext in [2, 3] {
            sweep(ext as u64, 6000, |r| group2(r, ext));
        }
    }

    #[test]
    fn shld_shrd_match_host() {
        sweep(11, 10000, |r| double(r, 0xa4));
        sweep(12, 10000, |r| double(r, 0xac));
    }

    /// Every count byte 0..=255 for every size and operation, on a few edge values, with both
    /// incoming CF values (rcl/rcr read it).
    #[test]
    fn every_count_matches_host() {
        let data = [0u8; 4096];
        let vals =
            [0u64, 1, 0x80, 0x8000, 0x8000_0000, 1 << 63, u64::MAX, 0x7fff_ffff_ffff_fffe, 0x0123_4567_89ab_cdef];
        for c in 0..=255u8 {
            for &v in &vals {
                for cf in [0, fl::CF | fl::OF] {
                    let mut ctx = Ctx { gpr: [0; 16], rflags: cf };
                    ctx.gpr[0] = v;
                    ctx.gpr[3] = v.rotate_left(17) ^ 0x5555;
                    ctx.gpr[1] = 0xffff_ff00 | c as u64;
                    for size in SIZES {
                        let (pre, w, lo) = size_enc(size);
                        for ext in 0..8 {
                            let b = encode(pre, w, false, &[0xd2 | lo], ext, Rm::Reg(0), &[]);
                            compare(&b, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
                        }
                        if size > 1 {
                            for op in [0xa4, 0xac] {
                                let b = encode(pre, w, false, &[0x0f, op], 3, Rm::Reg(0), &[c]);
                                compare(&b, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn zero_count_zero_extends_32_bit_register_only() {
        let mut m = machine();
        m.cpu.gpr[0] = 0xffff_ffff_1234_5678;
        m.cpu.gpr[1] = 0xffff_0000_0000_0000;
        m.cpu.rflags |= fl::CF | fl::OF | fl::ZF;
        let f = m.cpu.rflags;
        // shl eax, cl (cl = 0): rax zero-extended, flags unchanged.
        exec(&mut m, &[0xd3, 0xe0]).unwrap();
        assert_eq!((m.cpu.gpr[0], m.cpu.rflags), (0x1234_5678, f));
        // rol cx, 0x20 (masked to 0): nothing changes.
        exec(&mut m, &[0x66, 0xc1, 0xc1, 0x20]).unwrap();
        assert_eq!((m.cpu.gpr[1], m.cpu.rflags), (0xffff_0000_0000_0000, f));
    }
}
