//! Bit instructions (SDM "Bit and Byte Instructions" and the bit-count extensions): bt bts btr
//! btc bsf bsr, and the F3-prefixed tzcnt (BMI1), lzcnt (ABM) and popcnt.
//!
//! Flags the SDM leaves undefined are set as on this AMD Zen host (family 1Ah), which the tests
//! check against:
//! - bt/bts/btr/btc: only CF changes; OF SF ZF AF PF are left as they were.
//! - bsf/bsr: ZF = (source == 0); CF = OF = SF = AF = 0; PF = parity of the index (of 0 for
//!   a zero source, so PF = 1). A zero source leaves the whole destination register unchanged
//!   (not even zero-extended), as both AMD and Intel do.
//! - tzcnt/lzcnt: CF = (source == 0), ZF = (result == 0); SF = AF = PF = 0; OF is left as it
//!   was.

use super::operands::{ea, mask, sext, Args};
use super::state::fl;
use super::table::Table;
use super::{flags, Res, M};
use crate::{reference, specializer};
use iced_x86::{Instruction, Mnemonic as Mn, Register};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Bt, Mn::Bts, Mn::Btr, Mn::Btc], reference!(bt));
    t.add(&[Mn::Bsf], reference!(bsf));
    t.add(&[Mn::Bsr], reference!(bsr));
    t.add(&[Mn::Tzcnt], reference!(tzcnt));
    t.add(&[Mn::Lzcnt], reference!(lzcnt));
    t.add(&[Mn::Popcnt], reference!(popcnt));
    // bt* with a memory operand and a register offset address outside the operand: those
    // keep the table handler.
    t.specialize(&[Mn::Bt, Mn::Bts, Mn::Btr, Mn::Btc], specializer!(bt; RR8, RR4, RI8B, RI4B, MI8B, MI4B));
    t.specialize(&[Mn::Bsf], specializer!(bsf; RR8, RR4, RM8, RM4));
    t.specialize(&[Mn::Bsr], specializer!(bsr; RR8, RR4, RM8, RM4));
    t.specialize(&[Mn::Tzcnt], specializer!(tzcnt; RR8, RR4, RM8, RM4));
    t.specialize(&[Mn::Lzcnt], specializer!(lzcnt; RR8, RR4, RM8, RM4));
    t.specialize(&[Mn::Popcnt], specializer!(popcnt; RR8, RR4, RM8, RM4));
}

#[inline]
fn if_set(c: bool, f: u64) -> u64 {
    if c {
        f
    } else {
        0
    }
}

/// The address of the memory operand moved by `delta` bytes, wrapping as the address size
/// does (32-bit addressing wraps inside the segment).
#[inline]
fn displaced_ea(m: &M, ins: &Instruction, delta: i64) -> u64 {
    let seg = match ins.segment_prefix() {
        Register::FS => m.cpu.fs_base,
        Register::GS => m.cpu.gs_base,
        _ => 0,
    };
    let off = ea(m, ins).wrapping_sub(seg).wrapping_add(delta as u64);
    let addr32 = ins.memory_base().size() == 4 || ins.memory_index().size() == 4;
    (if addr32 { off & 0xffff_ffff } else { off }).wrapping_add(seg)
}

/// bt/bts/btr/btc: CF = the selected bit, which bts/btr/btc then set, clear or flip.
///
/// A register operand selects bit (offset mod width). A memory operand with an immediate
/// offset does the same within the operand; with a register offset, the offset is a signed
/// bit index relative to the operand's address, and the operand-sized unit holding that bit
/// is accessed (SDM: EA + size * (offset DIV width)).
#[inline(always)]
pub fn bt<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let bits = size * 8;
    let off = x.read(m, 1)?;
    let (addr, n) = if x.is_mem(0) && x.is_reg(1) {
        let s = sext(off, size) as i64;
        (
            Some(displaced_ea(m, x.insn(), (s >> bits.trailing_zeros()) * size as i64)),
            (s as u64 & (bits as u64 - 1)) as u32,
        )
    } else {
        (None, (off & (bits as u64 - 1)) as u32)
    };
    let v = match addr {
        Some(a) => m.mem.read_sized(a, size)?,
        None => x.read(m, 0)?,
    };
    let b = 1u64 << n;
    let mnemonic = x.insn().mnemonic();
    let new = match mnemonic {
        Mn::Bts => v | b,
        Mn::Btr => v & !b,
        Mn::Btc => v ^ b,
        _ => v,
    };
    if mnemonic != Mn::Bt {
        match addr {
            Some(a) => m.mem.write_sized(a, size, new)?,
            None => x.write(m, 0, new)?,
        }
    }
    flags::set(m, fl::CF, if_set(v & b != 0, fl::CF));
    Ok(())
}

/// bsf: index of the lowest set bit; a zero source sets ZF and leaves the destination alone.
#[inline(always)]
pub fn bsf<A: Args>(m: &mut M, x: A) -> Res {
    let src = x.read(m, 1)?;
    bit_scan(m, x, src, src.trailing_zeros() as u64)
}

/// bsr: index of the highest set bit; a zero source sets ZF and leaves the destination alone.
#[inline(always)]
pub fn bsr<A: Args>(m: &mut M, x: A) -> Res {
    let src = x.read(m, 1)?;
    bit_scan(m, x, src, 63u64.wrapping_sub(src.leading_zeros() as u64))
}

/// Write the index found by bsf/bsr unless the source is zero; flags as the host sets them.
#[inline]
fn bit_scan<A: Args>(m: &mut M, x: A, src: u64, index: u64) -> Res {
    if src == 0 {
        flags::set_status(m, fl::ZF | fl::PF);
        return Ok(());
    }
    x.write(m, 0, index)?;
    flags::set_status(m, flags::parity(index));
    Ok(())
}

/// Flags of tzcnt/lzcnt: CF = (source == 0), ZF = (result == 0), SF AF PF cleared, OF kept.
#[inline]
fn count_flags(m: &mut M, src: u64, r: u64) {
    flags::set(m, fl::STATUS & !fl::OF, if_set(src == 0, fl::CF) | if_set(r == 0, fl::ZF));
}

/// tzcnt: trailing zero bits of the source (the width if it is zero).
#[inline(always)]
pub fn tzcnt<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let src = x.read(m, 1)?;
    let r = if src == 0 { size as u64 * 8 } else { src.trailing_zeros() as u64 };
    x.write(m, 0, r)?;
    count_flags(m, src, r);
    Ok(())
}

/// lzcnt: leading zero bits of the source within its width (the width if it is zero).
#[inline(always)]
pub fn lzcnt<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let src = x.read(m, 1)? & mask(size);
    let r = src.leading_zeros() as u64 - (64 - size as u64 * 8);
    x.write(m, 0, r)?;
    count_flags(m, src, r);
    Ok(())
}

/// popcnt: set bits of the source; ZF = (source == 0), the other status flags cleared.
#[inline(always)]
pub fn popcnt<A: Args>(m: &mut M, x: A) -> Res {
    let src = x.read(m, 1)?;
    x.write(m, 0, src.count_ones() as u64)?;
    flags::set_status(m, if_set(src == 0, fl::ZF));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    const SIZES: [u32; 3] = [2, 4, 8];

    fn check(b: &[u8], ctx: &Ctx, data: &[u8; 4096]) {
        compare(b, ctx, data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
    }

    /// bt/bts/btr/btc (`k` = 0..3) in a random form: register or memory destination, register
    /// or immediate offset.
    fn bt_case(rng: &mut Rng, k: u8) -> (Vec<u8>, Ctx, [u8; 4096]) {
        let size = SIZES[rng.below(3) as usize];
        let (pre, w, _) = size_enc(size);
        let (r, _) = pick_regs(rng, 2, false);
        let rm = pick_rm(rng, r[1]);
        let mut ctx = random_ctx(rng, 6);
        let b = if rng.below(2) == 0 {
            encode(pre, w, false, &[0x0f, 0xba], 4 + k, rm, &[rng.next_u64() as u8])
        } else {
            if matches!(rm, Rm::Mem(..)) && rng.below(4) != 0 {
                // A signed bit offset reaching up to ~1.5 KiB either side, keeping the upper
                // bits beyond the operand size random (they must be ignored).
                let off = (rng.below(0x6000) as i64 - 0x3000) as u64;
                let keep = mask(size);
                ctx.gpr[r[0] as usize] = (ctx.gpr[r[0] as usize] & !keep) | (off & keep);
            }
            encode(pre, w, false, &[0x0f, 0xa3 | k << 3], r[0], rm, &[])
        };
        // A register offset into memory may not leave the data page.
        if let Rm::Mem(..) = rm {
            let (res, _, _) = emulate(&b, &ctx, &random_data(&mut Rng(1)));
            if res.is_err() {
                ctx.gpr[r[0] as usize] &= 0xfff;
            }
        }
        (b, ctx, random_data(rng))
    }

    #[test]
    fn bt_family_matches_host() {
        let mut rng = Rng(21);
        for i in 0..12000 {
            let (b, ctx, data) = bt_case(&mut rng, (i % 4) as u8);
            check(&b, &ctx, &data);
        }
    }

    /// bsf/bsr (no prefix) and tzcnt/lzcnt/popcnt (F3).
    fn scan_case(rng: &mut Rng, pre2: &[u8], op: u8) -> (Vec<u8>, Ctx, [u8; 4096]) {
        let size = SIZES[rng.below(3) as usize];
        let (pre, w, _) = size_enc(size);
        let pre: Vec<u8> = pre.iter().chain(pre2).copied().collect();
        let (r, _) = pick_regs(rng, 2, false);
        let rm = pick_rm(rng, r[1]);
        let mut ctx = random_ctx(rng, 6);
        let mut data = random_data(rng);
        if rng.below(6) == 0 {
            // A zero source of the operand's width.
            ctx.gpr[r[1] as usize] &= !mask(size);
            if let Rm::Mem(_, d) = rm {
                let at = (0x800 + d as i64) as usize;
                data[at..at + size as usize].fill(0);
            }
        }
        (encode(&pre, w, false, &[0x0f, op], r[0], rm, &[]), ctx, data)
    }

    #[test]
    fn bsf_bsr_match_host() {
        let mut rng = Rng(22);
        for i in 0..8000 {
            let (b, ctx, data) = scan_case(&mut rng, &[], if i % 2 == 0 { 0xbc } else { 0xbd });
            check(&b, &ctx, &data);
        }
    }

    #[test]
    fn tzcnt_lzcnt_popcnt_match_host() {
        let mut rng = Rng(23);
        for i in 0..12000 {
            let (b, ctx, data) = scan_case(&mut rng, &[0xf3], [0xbc, 0xbd, 0xb8][i % 3]);
            let ins = iced_x86::Decoder::with_ip(64, &b, CODE, 0).decode();
            assert!(matches!(ins.mnemonic(), Mn::Tzcnt | Mn::Lzcnt | Mn::Popcnt), "{b:02x?}");
            check(&b, &ctx, &data);
        }
    }

    /// Every bit position, with each offset form, on an all-ones/all-zeros/alternating word.
    #[test]
    fn every_bit_position_matches_host() {
        let data = random_data(&mut Rng(5));
        for size in SIZES {
            let (pre, w, _) = size_enc(size);
            for n in 0..=255u8 {
                for v in [0u64, u64::MAX, 0x5555_5555_5555_5555, 1 << (n % 64)] {
                    let mut ctx = Ctx { gpr: [0; 16], rflags: fl::STATUS };
                    ctx.gpr[0] = v;
                    ctx.gpr[1] = n as u64 | 0xffff_ff00;
                    ctx.gpr[2] = (n as i8 as i64) as u64;
                    ctx.gpr[6] = DATA + 0x800;
                    for k in 0..4u8 {
                        check(&encode(pre, w, false, &[0x0f, 0xba], 4 + k, Rm::Reg(0), &[n]), &ctx, &data);
                        check(&encode(pre, w, false, &[0x0f, 0xa3 | k << 3], 1, Rm::Reg(0), &[]), &ctx, &data);
                        check(&encode(pre, w, false, &[0x0f, 0xba], 4 + k, Rm::Mem(6, 0), &[n]), &ctx, &data);
                        check(&encode(pre, w, false, &[0x0f, 0xa3 | k << 3], 2, Rm::Mem(6, 0), &[]), &ctx, &data);
                    }
                    for op in [0xbc, 0xbd] {
                        check(&encode(pre, w, false, &[0x0f, op], 1, Rm::Reg(0), &[]), &ctx, &data);
                        let pre2: Vec<u8> = pre.iter().chain(&[0xf3]).copied().collect();
                        check(&encode(&pre2, w, false, &[0x0f, op], 1, Rm::Reg(0), &[]), &ctx, &data);
                    }
                }
            }
        }
    }

    #[test]
    fn bt_memory_offset_faults_outside_the_page() {
        let mut m = machine();
        m.cpu.gpr[6] = DATA;
        // bt [rsi], rax with a bit offset one dword below the page: SIGSEGV at DATA - 4.
        m.cpu.gpr[0] = (-32i64) as u64;
        let r = exec(&mut m, &[0x0f, 0xa3, 0x06]);
        assert!(matches!(r, Err(super::super::Trap::Fault(ref f)) if f.addr == DATA - 4), "{r:?}");
        // ... and with the 64-bit form, one qword above the page.
        m.cpu.gpr[0] = 4096 * 8;
        let r = exec(&mut m, &[0x48, 0x0f, 0xab, 0x06]);
        assert!(matches!(r, Err(super::super::Trap::Fault(ref f)) if f.addr == DATA + 4096), "{r:?}");
    }
}
