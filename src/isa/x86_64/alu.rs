//! Integer arithmetic and logic (SDM "Binary Arithmetic" and "Logical" instructions):
//! add adc sub sbb cmp and or xor test inc dec neg not.

use super::flags;
use super::operands::{mask, op_size, read_op, write_op};
use super::state::fl;
use super::table::Table;
use super::{Res, M};
use iced_x86::{Instruction, Mnemonic as Mn};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Add], add);
    t.add(&[Mn::Adc], adc);
    t.add(&[Mn::Sub], sub);
    t.add(&[Mn::Sbb], sbb);
    t.add(&[Mn::Cmp], cmp);
    t.add(&[Mn::And], and);
    t.add(&[Mn::Or], or);
    t.add(&[Mn::Xor], xor);
    t.add(&[Mn::Test], test);
    t.add(&[Mn::Inc], inc);
    t.add(&[Mn::Dec], dec);
    t.add(&[Mn::Neg], neg);
    t.add(&[Mn::Not], not);
}

/// Read both operands of a two-operand instruction and its size.
#[inline(always)]
fn operands(m: &M, ins: &Instruction) -> Result<(u64, u64, u32), super::Trap> {
    let size = op_size(ins, 0);
    Ok((read_op(m, ins, 0)?, read_op(m, ins, 1)? & mask(size), size))
}

pub fn add(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let r = a.wrapping_add(b);
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::add(a, b, 0, r, size));
    Ok(())
}

pub fn adc(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let c = flags::cf(m);
    let r = a.wrapping_add(b).wrapping_add(c);
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::add(a, b, c, r, size));
    Ok(())
}

pub fn sub(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let r = a.wrapping_sub(b);
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::sub(a, b, 0, r, size));
    Ok(())
}

pub fn sbb(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let c = flags::cf(m);
    let r = a.wrapping_sub(b).wrapping_sub(c);
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::sub(a, b, c, r, size));
    Ok(())
}

pub fn cmp(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    flags::set_status(m, flags::sub(a, b, 0, a.wrapping_sub(b), size));
    Ok(())
}

pub fn and(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let r = a & b;
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::logic(r, size));
    Ok(())
}

pub fn or(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let r = a | b;
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::logic(r, size));
    Ok(())
}

pub fn xor(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    let r = a ^ b;
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::logic(r, size));
    Ok(())
}

pub fn test(m: &mut M, ins: &Instruction) -> Res {
    let (a, b, size) = operands(m, ins)?;
    flags::set_status(m, flags::logic(a & b, size));
    Ok(())
}

pub fn inc(m: &mut M, ins: &Instruction) -> Res {
    let size = op_size(ins, 0);
    let a = read_op(m, ins, 0)?;
    let r = a.wrapping_add(1);
    write_op(m, ins, 0, r)?;
    // inc leaves CF alone.
    flags::set(m, fl::STATUS & !fl::CF, flags::add(a, 1, 0, r, size));
    Ok(())
}

pub fn dec(m: &mut M, ins: &Instruction) -> Res {
    let size = op_size(ins, 0);
    let a = read_op(m, ins, 0)?;
    let r = a.wrapping_sub(1);
    write_op(m, ins, 0, r)?;
    flags::set(m, fl::STATUS & !fl::CF, flags::sub(a, 1, 0, r, size));
    Ok(())
}

pub fn neg(m: &mut M, ins: &Instruction) -> Res {
    let size = op_size(ins, 0);
    let a = read_op(m, ins, 0)?;
    let r = 0u64.wrapping_sub(a);
    write_op(m, ins, 0, r)?;
    flags::set_status(m, flags::sub(0, a, 0, r, size));
    Ok(())
}

pub fn not(m: &mut M, ins: &Instruction) -> Res {
    let a = read_op(m, ins, 0)?;
    write_op(m, ins, 0, !a)
}
