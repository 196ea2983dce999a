//! Exchange and compare-exchange (SDM "Exchange Instructions"): xchg cmpxchg cmpxchg8b
//! cmpxchg16b xadd. The guest runs on one thread at a time, so LOCK changes nothing here.
//!
//! Register-write details follow this AMD Zen host (family 1Ah), checked by the tests:
//! - cmpxchg with a 32-bit register destination writes only the register that changes: on
//!   success the destination (zero-extended) and not EAX; on failure EAX (zero-extended) and
//!   not the destination, whose upper half stays. (The SDM's pseudocode writes the
//!   destination in both cases; this host does not.)
//! - cmpxchg8b/16b on success leave rDX:rAX untouched; on failure load them (zero-extended).
//! - A memory destination is always written, with its own value when the comparison fails,
//!   so a read-only destination faults either way (SDM: "the destination operand is written
//!   back if the comparison fails").
//! - `xchg eax, eax` (87 c0) zero-extends rax; the one-byte 90 is `nop` (system.rs).

use super::flags;
use super::operands::{ea, mask, op_size, read_op, write_op};
use super::state::{fl, reg};
use super::table::Table;
use super::{gp_fault, Res, M};
use iced_x86::{Instruction, Mnemonic as Mn, OpKind, Register};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Xchg], xchg);
    t.add(&[Mn::Cmpxchg], cmpxchg);
    t.add(&[Mn::Cmpxchg8b], cmpxchg8b);
    t.add(&[Mn::Cmpxchg16b], cmpxchg16b);
    t.add(&[Mn::Xadd], xadd);
}

/// Index of the operand that is in memory, if any.
#[inline]
fn mem_operand(ins: &Instruction) -> Option<u32> {
    (0..ins.op_count()).find(|&i| ins.op_kind(i) == OpKind::Memory)
}

/// `xchg a, b`: swap. The memory side (if any) is written first, so a fault changes nothing.
pub fn xchg(m: &mut M, ins: &Instruction) -> Res {
    let a = read_op(m, ins, 0)?;
    let b = read_op(m, ins, 1)?;
    if mem_operand(ins) == Some(1) {
        write_op(m, ins, 1, a)?;
        write_op(m, ins, 0, b)
    } else {
        write_op(m, ins, 0, b)?;
        write_op(m, ins, 1, a)
    }
}

/// The accumulator register of a `size`-byte operation.
#[inline]
fn accumulator(size: u32) -> Register {
    match size {
        1 => Register::AL,
        2 => Register::AX,
        4 => Register::EAX,
        _ => Register::RAX,
    }
}

/// `cmpxchg dest, src`: if rAX == dest { ZF = 1; dest = src } else { ZF = 0; rAX = dest };
/// the other status flags as `cmp rAX, dest`.
pub fn cmpxchg(m: &mut M, ins: &Instruction) -> Res {
    let size = op_size(ins, 0);
    let dest = read_op(m, ins, 0)?;
    let src = read_op(m, ins, 1)?;
    let acc = m.cpu.gpr[reg::RAX] & mask(size);
    let equal = acc == dest;
    if equal {
        write_op(m, ins, 0, src)?;
    } else {
        if ins.op0_kind() == OpKind::Memory {
            write_op(m, ins, 0, dest)?;
        }
        super::operands::set_reg(m, accumulator(size), dest);
    }
    flags::set_status(m, flags::sub(acc, dest, 0, acc.wrapping_sub(dest), size));
    Ok(())
}

/// `cmpxchg8b m64`: if EDX:EAX == m64 { ZF = 1; m64 = ECX:EBX } else { ZF = 0; EDX:EAX = m64 }.
/// Only ZF changes.
pub fn cmpxchg8b(m: &mut M, ins: &Instruction) -> Res {
    let a = ea(m, ins);
    let old = m.mem.read_u64(a)?;
    let g = &m.cpu.gpr;
    let expect = (g[reg::RDX] as u32 as u64) << 32 | g[reg::RAX] as u32 as u64;
    let equal = old == expect;
    if equal {
        let new = (g[reg::RCX] as u32 as u64) << 32 | g[reg::RBX] as u32 as u64;
        m.mem.write_u64(a, new)?;
    } else {
        m.mem.write_u64(a, old)?;
        m.cpu.gpr[reg::RAX] = old as u32 as u64;
        m.cpu.gpr[reg::RDX] = old >> 32;
    }
    flags::set(m, fl::ZF, if equal { fl::ZF } else { 0 });
    Ok(())
}

/// `cmpxchg16b m128`: as cmpxchg8b with RDX:RAX and RCX:RBX; the operand must be 16-byte
/// aligned (#GP otherwise).
pub fn cmpxchg16b(m: &mut M, ins: &Instruction) -> Res {
    let a = ea(m, ins);
    if a & 15 != 0 {
        return Err(gp_fault());
    }
    let old = m.mem.read_u128(a)?;
    let g = &m.cpu.gpr;
    let expect = (g[reg::RDX] as u128) << 64 | g[reg::RAX] as u128;
    let equal = old == expect;
    if equal {
        let new = (g[reg::RCX] as u128) << 64 | g[reg::RBX] as u128;
        m.mem.write_u128(a, new)?;
    } else {
        m.mem.write_u128(a, old)?;
        m.cpu.gpr[reg::RAX] = old as u64;
        m.cpu.gpr[reg::RDX] = (old >> 64) as u64;
    }
    flags::set(m, fl::ZF, if equal { fl::ZF } else { 0 });
    Ok(())
}

/// `xadd dest, src`: src = dest; dest = dest + src; flags as `add`. With one register as both
/// operands, the sum wins (dest is written last).
pub fn xadd(m: &mut M, ins: &Instruction) -> Res {
    let size = op_size(ins, 0);
    let d = read_op(m, ins, 0)?;
    let s = read_op(m, ins, 1)?;
    let sum = d.wrapping_add(s);
    if ins.op0_kind() == OpKind::Memory {
        write_op(m, ins, 0, sum)?;
        write_op(m, ins, 1, d)?;
    } else {
        write_op(m, ins, 1, d)?;
        write_op(m, ins, 0, sum)?;
    }
    flags::set_status(m, flags::add(d, s, 0, sum, size));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::Trap;
    use super::*;

    const SIZES: [u32; 4] = [1, 2, 4, 8];

    fn check(b: &[u8], ctx: &Ctx, data: &[u8; 4096]) {
        compare(b, ctx, data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Prefixes for a random size, with LOCK sometimes in front of a memory form.
    fn prefixes(rng: &mut Rng, size: u32, rm: Rm) -> Vec<u8> {
        let (pre, _, _) = size_enc(size);
        let mut v = Vec::new();
        if matches!(rm, Rm::Mem(..)) && rng.below(2) == 0 {
            v.push(0xf0);
        }
        v.extend_from_slice(pre);
        v
    }

    /// Make the accumulator equal to the destination half of the time.
    fn maybe_equal(rng: &mut Rng, ctx: &mut Ctx, data: &mut [u8; 4096], rm: Rm, size: u32) {
        if rng.below(2) == 0 {
            return;
        }
        let mk = mask(size);
        let v = match rm {
            Rm::Reg(r) => ctx.gpr[r as usize] & mk,
            Rm::Mem(_, d) => {
                let at = (0x800 + d as i64) as usize;
                let mut b = [0u8; 8];
                b[..size as usize].copy_from_slice(&data[at..at + size as usize]);
                u64::from_le_bytes(b)
            }
        };
        ctx.gpr[0] = (ctx.gpr[0] & !mk) | v;
    }

    /// xchg/cmpxchg/xadd in their ModRM forms: `op` is the byte-sized opcode.
    fn modrm_case(rng: &mut Rng, op: &[u8]) -> (Vec<u8>, Ctx, [u8; 4096]) {
        let size = SIZES[rng.below(4) as usize];
        let (_, w, lo) = size_enc(size);
        let (r, rex) = pick_regs(rng, 2, size == 1);
        let rm = pick_rm(rng, r[1]);
        let mut ctx = random_ctx(rng, 6);
        let mut data = random_data(rng);
        maybe_equal(rng, &mut ctx, &mut data, rm, size);
        let mut opc = op.to_vec();
        *opc.last_mut().unwrap() |= lo;
        (encode(&prefixes(rng, size, rm), w, rex, &opc, r[0], rm, &[]), ctx, data)
    }

    #[test]
    fn xchg_matches_host() {
        let mut rng = Rng(31);
        for _ in 0..6000 {
            let (b, ctx, data) = modrm_case(&mut rng, &[0x86]);
            check(&b, &ctx, &data);
        }
        // 90+r with every register but rsp and rsi (and rax itself: 90 is nop), in 16/32/64
        // bits, and `xchg eax, eax` in its 87 c0 form.
        for _ in 0..200 {
            let ctx = random_ctx(&mut rng, 6);
            let data = random_data(&mut rng);
            for r in (1..16u8).filter(|&r| r != 4 && r != 6) {
                for size in [2, 4, 8] {
                    let (pre, w, _) = size_enc(size);
                    let rex = 0x40 | (w as u8) << 3 | r >> 3;
                    let mut b = pre.to_vec();
                    if rex != 0x40 {
                        b.push(rex);
                    }
                    b.push(0x90 | (r & 7));
                    check(&b, &ctx, &data);
                }
            }
            check(&[0x87, 0xc0], &ctx, &data);
            check(&[0x41, 0x90], &ctx, &data);
        }
    }

    #[test]
    fn cmpxchg_matches_host() {
        let mut rng = Rng(32);
        for _ in 0..12000 {
            let (b, ctx, data) = modrm_case(&mut rng, &[0x0f, 0xb0]);
            check(&b, &ctx, &data);
        }
    }

    #[test]
    fn xadd_matches_host() {
        let mut rng = Rng(33);
        for _ in 0..8000 {
            let (b, ctx, data) = modrm_case(&mut rng, &[0x0f, 0xc0]);
            check(&b, &ctx, &data);
        }
    }

    #[test]
    fn cmpxchg8b_16b_match_host() {
        let mut rng = Rng(34);
        for i in 0..6000 {
            let wide = i % 2 == 1;
            let disp = (rng.below(8) as i8 - 4) * 16 + if wide { 0 } else { rng.below(16) as i8 };
            let rm = Rm::Mem(6, disp);
            let pre = if rng.below(2) == 0 { vec![0xf0] } else { vec![] };
            let b = encode(&pre, wide, false, &[0x0f, 0xc7], 1, rm, &[]);
            let mut ctx = random_ctx(&mut rng, 6);
            let data = random_data(&mut rng);
            if rng.below(2) == 0 {
                let at = (0x800 + disp as i64) as usize;
                let lo = u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
                let hi = u64::from_le_bytes(data[at + 8..at + 16].try_into().unwrap());
                let (lo, hi) = if wide { (lo, hi) } else { (lo & 0xffff_ffff, lo >> 32) };
                ctx.gpr[0] = if wide { lo } else { (ctx.gpr[0] & !0xffff_ffff) | lo };
                ctx.gpr[2] = if wide { hi } else { (ctx.gpr[2] & !0xffff_ffff) | hi };
            }
            check(&b, &ctx, &data);
        }
    }

    #[test]
    fn cmpxchg16b_needs_alignment() {
        let mut m = machine();
        m.cpu.gpr[6] = DATA + 8;
        let before = m.cpu;
        let r = exec(&mut m, &[0xf0, 0x48, 0x0f, 0xc7, 0x0e]);
        let Err(Trap::Fault(f)) = r else { panic!("{r:?}") };
        assert_eq!((f.signo, f.trapno), (crate::engine::sig::SIGSEGV, 13));
        assert_eq!(m.cpu.gpr, before.gpr);
    }

    #[test]
    fn failed_compare_still_writes_memory() {
        let mut m = machine();
        m.mem.protect(DATA, 0x1000, crate::mem::flags::R);
        m.cpu.gpr[6] = DATA;
        m.cpu.gpr[0] = 1; // memory holds 0: the comparison fails
        let before = m.cpu;
        for b in [&[0x0f, 0xb1, 0x0e][..], &[0x0f, 0xc7, 0x0e], &[0x48, 0x0f, 0xc7, 0x0e]] {
            let r = exec(&mut m, b);
            assert!(matches!(r, Err(Trap::Fault(ref f)) if f.signo == crate::engine::sig::SIGSEGV), "{b:02x?}: {r:?}");
            m.cpu.rip = before.rip;
            assert_eq!(m.cpu, before, "{b:02x?} changed state before faulting");
        }
    }
}
