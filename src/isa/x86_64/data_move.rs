//! Data transfer (SDM "Data Transfer Instructions"): mov movzx movsx movsxd lea cmovcc setcc
//! bswap cbw/cwde/cdqe cwd/cdq/cqo.

use super::operands::{sext, write_op, Args, Dyn};
use super::state::reg;
use super::table::Table;
use super::{Res, M};
use crate::{cond_specializer, reference, specializer};
use iced_x86::{Instruction, Mnemonic as Mn, Register};

const CC: [Mn; 16] = [
    Mn::Cmovo,
    Mn::Cmovno,
    Mn::Cmovb,
    Mn::Cmovae,
    Mn::Cmove,
    Mn::Cmovne,
    Mn::Cmovbe,
    Mn::Cmova,
    Mn::Cmovs,
    Mn::Cmovns,
    Mn::Cmovp,
    Mn::Cmovnp,
    Mn::Cmovl,
    Mn::Cmovge,
    Mn::Cmovle,
    Mn::Cmovg,
];

const SETCC: [Mn; 16] = [
    Mn::Seto,
    Mn::Setno,
    Mn::Setb,
    Mn::Setae,
    Mn::Sete,
    Mn::Setne,
    Mn::Setbe,
    Mn::Seta,
    Mn::Sets,
    Mn::Setns,
    Mn::Setp,
    Mn::Setnp,
    Mn::Setl,
    Mn::Setge,
    Mn::Setle,
    Mn::Setg,
];

pub fn register(t: &mut Table) {
    t.add(&[Mn::Mov], mov_ref);
    t.add(&[Mn::Movzx], reference!(movzx));
    t.add(&[Mn::Movsx, Mn::Movsxd], reference!(movsx));
    t.add(&[Mn::Lea], reference!(lea));
    t.add(&CC, reference!(cmovcc));
    t.add(&SETCC, reference!(setcc));
    t.add(&[Mn::Bswap], bswap);
    t.add(&[Mn::Cbw, Mn::Cwde, Mn::Cdqe], cbw);
    t.add(&[Mn::Cwd, Mn::Cdq, Mn::Cqo], cwd);
    // Segment, control, debug and test-register forms have no pre-decoded form, so they
    // always reach `mov_ref`.
    t.specialize(
        &[Mn::Mov],
        specializer!(mov; RR8, RR4, RR2, RR1, RI8, RI4, RI2, RI1, RM8, RM4, RM2, RM1, MR8, MR4, MR2, MR1, MI8, MI4, MI2, MI1),
    );
    t.specialize(
        &[Mn::Movzx],
        specializer!(movzx; RR4_1, RR4_2, RR8_1, RR8_2, RR2_1, RM4_1, RM4_2, RM8_1, RM8_2, RM2_1),
    );
    t.specialize(
        &[Mn::Movsx, Mn::Movsxd],
        specializer!(movsx; RR4_1, RR4_2, RR8_1, RR8_2, RR8_4, RR2_1, RM4_1, RM4_2, RM8_1, RM8_2, RM8_4, RM2_1, RR4, RM4),
    );
    t.specialize(&[Mn::Lea], specializer!(lea; RA8, RA4));
    t.specialize(&CC, cond_specializer!(cmovcc; RR8, RR4, RR2, RM8, RM4, RM2));
    t.specialize(&SETCC, cond_specializer!(setcc; R1, M1));
}

/// The table handler: control, debug, test and segment-register forms, or [`mov`].
pub fn mov_ref(m: &mut M, ins: &Instruction) -> Res {
    let (r0, r1) = (ins.op0_register(), ins.op1_register());
    // mov to/from control, debug and test registers is privileged: #GP at CPL 3.
    if r0.is_cr() || r1.is_cr() || r0.is_dr() || r1.is_dr() || r0.is_tr() || r1.is_tr() {
        return Err(super::gp_fault());
    }
    if r0.is_segment_register() || r1.is_segment_register() {
        return mov_seg(m, ins);
    }
    mov(m, Dyn(ins))
}

#[inline(always)]
pub fn mov<A: Args>(m: &mut M, x: A) -> Res {
    let v = x.read(m, 1)?;
    x.write(m, 0, v)
}

/// Segment registers are flat in 64-bit user mode; reading them gives Linux's user selectors.
fn mov_seg(m: &mut M, ins: &Instruction) -> Res {
    if ins.op0_register().is_segment_register() {
        return Err(super::gp_fault());
    }
    let sel = match ins.op1_register() {
        Register::CS => 0x33,
        Register::SS => 0x2b,
        _ => 0,
    };
    write_op(m, ins, 0, sel)
}

#[inline(always)]
pub fn movzx<A: Args>(m: &mut M, x: A) -> Res {
    let v = x.read(m, 1)?;
    x.write(m, 0, v)
}

#[inline(always)]
pub fn movsx<A: Args>(m: &mut M, x: A) -> Res {
    let v = sext(x.read(m, 1)?, x.size(1));
    x.write(m, 0, v)
}

#[inline(always)]
pub fn lea<A: Args>(m: &mut M, x: A) -> Res {
    // lea does not apply segment bases; ea() only adds fs/gs for explicit prefixes, which lea
    // ignores, so strip it here.
    let a = x.ea(m).wrapping_sub(x.seg_base(m));
    x.write(m, 0, a)
}

#[inline(always)]
pub fn cmovcc<A: Args>(m: &mut M, x: A) -> Res {
    // The source is read (and may fault) even when the condition is false.
    let v = x.read(m, 1)?;
    if x.cond(m.cpu.rflags) {
        x.write(m, 0, v)
    } else {
        // A 32-bit cmov zero-extends its destination (always a register) even when it does
        // not move.
        if x.size(0) == 4 {
            let cur = x.read(m, 0)?;
            x.write(m, 0, cur)?;
        }
        Ok(())
    }
}

#[inline(always)]
pub fn setcc<A: Args>(m: &mut M, x: A) -> Res {
    let v = x.cond(m.cpu.rflags) as u64;
    x.write(m, 0, v)
}

pub fn bswap(m: &mut M, ins: &Instruction) -> Res {
    use super::operands::{get_reg, set_reg};
    let r = ins.op0_register();
    let v = get_reg(m, r);
    let out = match r.size() {
        8 => v.swap_bytes(),
        4 => (v as u32).swap_bytes() as u64,
        // 16-bit bswap is undefined; hardware zeroes the low word.
        _ => 0,
    };
    set_reg(m, r, out);
    Ok(())
}

/// cbw/cwde/cdqe: sign-extend the low half of the accumulator into all of it.
pub fn cbw(m: &mut M, ins: &Instruction) -> Res {
    let rax = m.cpu.gpr[reg::RAX];
    match ins.mnemonic() {
        Mn::Cbw => super::operands::set_reg(m, Register::AX, sext(rax, 1)),
        Mn::Cwde => super::operands::set_reg(m, Register::EAX, sext(rax, 2)),
        _ => m.cpu.gpr[reg::RAX] = sext(rax, 4),
    }
    Ok(())
}

/// cwd/cdq/cqo: fill rDX with the sign of rAX.
pub fn cwd(m: &mut M, ins: &Instruction) -> Res {
    let rax = m.cpu.gpr[reg::RAX];
    let (size, dst) = match ins.mnemonic() {
        Mn::Cwd => (2, Register::DX),
        Mn::Cdq => (4, Register::EDX),
        _ => (8, Register::RDX),
    };
    let sign = if sext(rax, size) as i64 >= 0 { 0 } else { u64::MAX };
    super::operands::set_reg(m, dst, sign);
    Ok(())
}
