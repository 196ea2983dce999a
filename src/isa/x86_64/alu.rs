//! Integer arithmetic and logic (SDM "Binary Arithmetic" and "Logical" instructions):
//! add adc sub sbb cmp and or xor test inc dec neg not.
//!
//! Handlers are generic over [`Args`] so the same function serves the table (through `Dyn`)
//! and the pre-decoded operand forms (`predecode.rs`).

use super::flags;
use super::operands::{mask, Args};
use super::state::fl;
use super::table::Table;
use super::{Res, M};
use crate::{binary_forms, reference, unary_forms};
use iced_x86::Mnemonic as Mn;

pub fn register(t: &mut Table) {
    t.add(&[Mn::Add], reference!(add));
    t.add(&[Mn::Adc], reference!(adc));
    t.add(&[Mn::Sub], reference!(sub));
    t.add(&[Mn::Sbb], reference!(sbb));
    t.add(&[Mn::Cmp], reference!(cmp));
    t.add(&[Mn::And], reference!(and));
    t.add(&[Mn::Or], reference!(or));
    t.add(&[Mn::Xor], reference!(xor));
    t.add(&[Mn::Test], reference!(test));
    t.add(&[Mn::Inc], reference!(inc));
    t.add(&[Mn::Dec], reference!(dec));
    t.add(&[Mn::Neg], reference!(neg));
    t.add(&[Mn::Not], reference!(not));
    t.specialize(&[Mn::Add], binary_forms!(add));
    t.specialize(&[Mn::Adc], binary_forms!(adc));
    t.specialize(&[Mn::Sub], binary_forms!(sub));
    t.specialize(&[Mn::Sbb], binary_forms!(sbb));
    t.specialize(&[Mn::Cmp], binary_forms!(cmp));
    t.specialize(&[Mn::And], binary_forms!(and));
    t.specialize(&[Mn::Or], binary_forms!(or));
    t.specialize(&[Mn::Xor], binary_forms!(xor));
    t.specialize(&[Mn::Test], binary_forms!(test));
    t.specialize(&[Mn::Inc], unary_forms!(inc));
    t.specialize(&[Mn::Dec], unary_forms!(dec));
    t.specialize(&[Mn::Neg], unary_forms!(neg));
    t.specialize(&[Mn::Not], unary_forms!(not));
}

/// Read both operands of a two-operand instruction and its size.
#[inline(always)]
fn operands<A: Args>(m: &M, a: A) -> Result<(u64, u64, u32), super::Trap> {
    let size = a.size(0);
    Ok((a.read(m, 0)?, a.read(m, 1)? & mask(size), size))
}

#[inline(always)]
pub fn add<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let r = a.wrapping_add(b);
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::add(a, b, 0, r, size));
    Ok(())
}

#[inline(always)]
pub fn adc<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let c = flags::cf(m);
    let r = a.wrapping_add(b).wrapping_add(c);
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::add(a, b, c, r, size));
    Ok(())
}

#[inline(always)]
pub fn sub<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let r = a.wrapping_sub(b);
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::sub(a, b, 0, r, size));
    Ok(())
}

#[inline(always)]
pub fn sbb<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let c = flags::cf(m);
    let r = a.wrapping_sub(b).wrapping_sub(c);
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::sub(a, b, c, r, size));
    Ok(())
}

#[inline(always)]
pub fn cmp<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    x.set_flags(m, fl::STATUS, flags::sub(a, b, 0, a.wrapping_sub(b), size));
    Ok(())
}

#[inline(always)]
pub fn and<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let r = a & b;
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::logic(r, size));
    Ok(())
}

#[inline(always)]
pub fn or<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let r = a | b;
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::logic(r, size));
    Ok(())
}

#[inline(always)]
pub fn xor<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    let r = a ^ b;
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::logic(r, size));
    Ok(())
}

#[inline(always)]
pub fn test<A: Args>(m: &mut M, x: A) -> Res {
    let (a, b, size) = operands(m, x)?;
    x.set_flags(m, fl::STATUS, flags::logic(a & b, size));
    Ok(())
}

#[inline(always)]
pub fn inc<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let r = a.wrapping_add(1);
    x.write(m, 0, r)?;
    // inc leaves CF alone.
    x.set_flags(m, fl::STATUS & !fl::CF, flags::add(a, 1, 0, r, size));
    Ok(())
}

#[inline(always)]
pub fn dec<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let r = a.wrapping_sub(1);
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS & !fl::CF, flags::sub(a, 1, 0, r, size));
    Ok(())
}

#[inline(always)]
pub fn neg<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let a = x.read(m, 0)?;
    let r = 0u64.wrapping_sub(a);
    x.write(m, 0, r)?;
    x.set_flags(m, fl::STATUS, flags::sub(0, a, 0, r, size));
    Ok(())
}

#[inline(always)]
pub fn not<A: Args>(m: &mut M, x: A) -> Res {
    let a = x.read(m, 0)?;
    x.write(m, 0, !a)
}
