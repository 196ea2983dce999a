//! Operand access for A64: general registers (31 = XZR or SP depending on the operand kind),
//! shifted and extended register operands, immediates, and addressing modes.

use super::{Trap, M};
use deja_decoders::aarch64::{Operand, ShiftStyle, SizeCode};

/// Read X/W register `n` where 31 is the zero register. W reads are zero-extended.
#[inline(always)]
pub fn reg(m: &M, size: SizeCode, n: u16) -> u64 {
    if n >= 31 {
        return 0;
    }
    let v = m.cpu.x[n as usize];
    match size {
        SizeCode::X => v,
        SizeCode::W => v as u32 as u64,
    }
}

/// Write X/W register `n` (31 = zero register: discarded). W writes zero the upper half.
#[inline(always)]
pub fn set_reg(m: &mut M, size: SizeCode, n: u16, v: u64) {
    if n < 31 {
        m.cpu.x[n as usize] = match size {
            SizeCode::X => v,
            SizeCode::W => v as u32 as u64,
        };
    }
}

/// Read X/W register `n` where 31 is SP.
#[inline(always)]
pub fn reg_sp(m: &M, size: SizeCode, n: u16) -> u64 {
    let v = if n >= 31 { m.cpu.sp } else { m.cpu.x[n as usize] };
    match size {
        SizeCode::X => v,
        SizeCode::W => v as u32 as u64,
    }
}

/// Write X/W register `n` where 31 is SP.
#[inline(always)]
pub fn set_reg_sp(m: &mut M, size: SizeCode, n: u16, v: u64) {
    let v = match size {
        SizeCode::X => v,
        SizeCode::W => v as u32 as u64,
    };
    if n >= 31 {
        m.cpu.sp = v;
    } else {
        m.cpu.x[n as usize] = v;
    }
}

/// Width in bits of a size code.
#[inline(always)]
pub fn bits(size: SizeCode) -> u32 {
    match size {
        SizeCode::X => 64,
        SizeCode::W => 32,
    }
}

/// Mask of a size code's width.
#[inline(always)]
pub fn mask(size: SizeCode) -> u64 {
    match size {
        SizeCode::X => u64::MAX,
        SizeCode::W => 0xffff_ffff,
    }
}

/// Apply a shift (LSL/LSR/ASR/ROR) of `amount` to `v` of width `size`.
#[inline(always)]
pub fn shift(v: u64, style: ShiftStyle, amount: u32, size: SizeCode) -> u64 {
    let w = bits(size);
    let v = v & mask(size);
    let a = amount % w;
    let r = match style {
        ShiftStyle::LSL => v.wrapping_shl(a),
        ShiftStyle::LSR => v.wrapping_shr(a),
        ShiftStyle::ASR => {
            let s = (v << (64 - w)) as i64 >> (64 - w);
            (s >> a) as u64
        }
        ShiftStyle::ROR => {
            if a == 0 {
                v
            } else {
                (v >> a) | (v << (w - a))
            }
        }
        _ => extend(v, style, amount, size),
    };
    r & mask(size)
}

/// Apply an extend (UXTB…SXTX) then a left shift of `amount` (0..4).
#[inline(always)]
pub fn extend(v: u64, style: ShiftStyle, amount: u32, size: SizeCode) -> u64 {
    let e = match style {
        ShiftStyle::UXTB => v as u8 as u64,
        ShiftStyle::UXTH => v as u16 as u64,
        ShiftStyle::UXTW => v as u32 as u64,
        ShiftStyle::UXTX | ShiftStyle::LSL => v,
        ShiftStyle::SXTB => v as u8 as i8 as i64 as u64,
        ShiftStyle::SXTH => v as u16 as i16 as i64 as u64,
        ShiftStyle::SXTW => v as u32 as i32 as i64 as u64,
        ShiftStyle::SXTX => v,
        _ => v,
    };
    (e << (amount & 7)) & mask(size)
}

/// Value of a source operand: a register (31 = zero), register-or-SP, shifted or extended
/// register, or an immediate. `size` is the operation width.
#[inline(always)]
pub fn value(m: &M, op: &Operand, size: SizeCode) -> u64 {
    match *op {
        Operand::Register(s, n) => reg(m, s, n),
        Operand::RegisterOrSP(s, n) => reg_sp(m, s, n),
        Operand::RegisterPair(s, n) => reg(m, s, n),
        Operand::Immediate(i) => i as u64,
        Operand::Imm64(i) => i,
        Operand::Imm16(i) => i as u64,
        Operand::ImmShift(i, s) => (i as u64) << s,
        Operand::RegShift(style, amount, s, n) => {
            let v = reg(m, s, n);
            match style {
                ShiftStyle::LSL | ShiftStyle::LSR | ShiftStyle::ASR | ShiftStyle::ROR => {
                    shift(v, style, amount as u32, size)
                }
                _ => extend(v, style, amount as u32, size),
            }
        }
        _ => 0,
    }
}

/// Address of a memory operand and the base-register writeback it implies, if any.
/// `pc` is the instruction's address (for PC-relative literals).
#[inline(always)]
pub fn address(m: &M, op: &Operand, pc: u64) -> Result<(u64, Option<(u16, u64)>), Trap> {
    Ok(match *op {
        Operand::RegPreIndex(n, off, wback) => {
            let a = reg_sp(m, SizeCode::X, n).wrapping_add(off as i64 as u64);
            (a, wback.then_some((n, a)))
        }
        Operand::RegPostIndex(n, off) => {
            let b = reg_sp(m, SizeCode::X, n);
            (b, Some((n, b.wrapping_add(off as i64 as u64))))
        }
        Operand::RegPostIndexReg(n, rm) => {
            let b = reg_sp(m, SizeCode::X, n);
            (b, Some((n, b.wrapping_add(reg(m, SizeCode::X, rm)))))
        }
        Operand::RegRegOffset(n, rm, size, style, amount) => {
            let b = reg_sp(m, SizeCode::X, n);
            let idx = extend(reg(m, size, rm), style, amount as u32, SizeCode::X);
            (b.wrapping_add(idx), None)
        }
        Operand::PCOffset(off) => (pc.wrapping_add(off as u64), None),
        _ => {
            return Err(Trap::Fault(crate::engine::GuestFault::new(
                crate::engine::sig::SIGILL,
                crate::engine::sig::ILL_ILLOPC,
                pc,
            )))
        }
    })
}

/// Perform a base-register writeback (register 31 is SP here).
#[inline(always)]
pub fn writeback(m: &mut M, wb: Option<(u16, u64)>) {
    if let Some((n, v)) = wb {
        set_reg_sp(m, SizeCode::X, n, v);
    }
}
