//! Control transfer: jmp jcc call ret loop/loope/loopne jrcxz/jecxz.

use super::flags;
use super::operands::read_op;
use super::stack::{pop64, push64};
use super::state::{fl, reg};
use super::table::Table;
use super::{Res, M};
use iced_x86::{Instruction, Mnemonic as Mn, OpKind};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Jmp], jmp);
    t.add(
        &[
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
        ],
        jcc,
    );
    t.add(&[Mn::Call], call);
    t.add(&[Mn::Ret], ret);
    t.add(&[Mn::Loop, Mn::Loope, Mn::Loopne], loop_);
    t.add(&[Mn::Jrcxz, Mn::Jecxz], jrcxz);
}

/// Branch target of operand 0: a relative target or an indirect register/memory operand.
#[inline]
fn target(m: &M, ins: &Instruction) -> Result<u64, super::Trap> {
    match ins.op0_kind() {
        OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16 => Ok(ins.near_branch_target()),
        _ => read_op(m, ins, 0),
    }
}

pub fn jmp(m: &mut M, ins: &Instruction) -> Res {
    m.cpu.rip = target(m, ins)?;
    Ok(())
}

pub fn jcc(m: &mut M, ins: &Instruction) -> Res {
    if flags::cond(m.cpu.rflags, ins.condition_code()) {
        m.cpu.rip = ins.near_branch64();
    }
    Ok(())
}

pub fn call(m: &mut M, ins: &Instruction) -> Res {
    let t = target(m, ins)?;
    push64(m, m.cpu.rip)?;
    m.cpu.rip = t;
    Ok(())
}

pub fn ret(m: &mut M, ins: &Instruction) -> Res {
    let t = pop64(m)?;
    if ins.op_count() == 1 {
        m.cpu.gpr[reg::RSP] = m.cpu.gpr[reg::RSP].wrapping_add(ins.immediate16() as u64);
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
        m.cpu.rip = ins.near_branch64();
    }
    Ok(())
}

pub fn jrcxz(m: &mut M, ins: &Instruction) -> Res {
    let c = m.cpu.gpr[reg::RCX];
    let zero = if ins.mnemonic() == Mn::Jecxz { c as u32 == 0 } else { c == 0 };
    if zero {
        m.cpu.rip = ins.near_branch64();
    }
    Ok(())
}
