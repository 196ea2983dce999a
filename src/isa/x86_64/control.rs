//! Control transfer: jmp jcc call ret loop/loope/loopne jrcxz/jecxz.

use super::operands::Args;
use super::stack::{pop64, push64};
use super::state::{fl, reg};
use super::table::Table;
use super::{Res, M};
use crate::{cond_specializer, reference, specializer};
use iced_x86::{Instruction, Mnemonic as Mn};

const JCC: [Mn; 16] = [
    Mn::Jo,
    Mn::Jno,
    Mn::Jb,
    Mn::Jae,
    Mn::Je,
    Mn::Jne,
    Mn::Jbe,
    Mn::Ja,
    Mn::Js,
    Mn::Jns,
    Mn::Jp,
    Mn::Jnp,
    Mn::Jl,
    Mn::Jge,
    Mn::Jle,
    Mn::Jg,
];

pub fn register(t: &mut Table) {
    t.add(&[Mn::Jmp], reference!(jmp));
    t.add(&JCC, reference!(jcc));
    t.add(&[Mn::Call], reference!(call));
    t.add(&[Mn::Ret], reference!(ret));
    t.add(&[Mn::Loop, Mn::Loope, Mn::Loopne], loop_);
    t.add(&[Mn::Jrcxz, Mn::Jecxz], jrcxz);
    // Near branches have the form I8 (the target); indirect ones R8 or M8.
    t.specialize(&[Mn::Jmp], specializer!(jmp; I8, R8, M8));
    t.specialize(&[Mn::Call], specializer!(call; I8, R8, M8));
    t.specialize(&JCC, cond_specializer!(jcc; I8));
    t.specialize(&[Mn::Ret], specializer!(ret; NOARGS, I2));
}

/// Branch target of operand 0: a relative target or an indirect register/memory operand.
#[inline(always)]
fn target<A: Args>(m: &M, x: A) -> Result<u64, super::Trap> {
    if x.is_reg(0) || x.is_mem(0) {
        x.read(m, 0)
    } else {
        Ok(x.branch_target())
    }
}

#[inline(always)]
pub fn jmp<A: Args>(m: &mut M, x: A) -> Res {
    m.cpu.rip = target(m, x)?;
    Ok(())
}

#[inline(always)]
pub fn jcc<A: Args>(m: &mut M, x: A) -> Res {
    if x.cond(m.cpu.rflags) {
        m.cpu.rip = x.branch_target();
    }
    Ok(())
}

#[inline(always)]
pub fn call<A: Args>(m: &mut M, x: A) -> Res {
    let t = target(m, x)?;
    push64(m, m.cpu.rip)?;
    m.cpu.rip = t;
    Ok(())
}

#[inline(always)]
pub fn ret<A: Args>(m: &mut M, x: A) -> Res {
    let t = pop64(m)?;
    if x.op_count() == 1 {
        // ret imm16: the immediate is the only operand.
        let n = x.read(m, 0)? & 0xffff;
        m.cpu.gpr[reg::RSP] = m.cpu.gpr[reg::RSP].wrapping_add(n);
    }
    m.cpu.rip = t;
    Ok(())
}

pub fn loop_(m: &mut M, ins: &Instruction) -> Res {
    let c = m.cpu.gpr[reg::RCX].wrapping_sub(1);
    m.cpu.gpr[reg::RCX] = c;
    let zf = m.cpu.rflags & fl::ZF != 0;
    let taken = c != 0
        && match ins.mnemonic() {
            Mn::Loope => zf,
            Mn::Loopne => !zf,
            _ => true,
        };
    if taken {
        m.cpu.rip = ins.near_branch_target();
    }
    Ok(())
}

pub fn jrcxz(m: &mut M, ins: &Instruction) -> Res {
    let c = m.cpu.gpr[reg::RCX];
    let zero = if ins.mnemonic() == Mn::Jecxz { c as u32 == 0 } else { c == 0 };
    if zero {
        m.cpu.rip = ins.near_branch_target();
    }
    Ok(())
}
