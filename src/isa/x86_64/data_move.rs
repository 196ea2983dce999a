//! Data transfer (SDM "Data Transfer Instructions"): mov movzx movsx movsxd lea cmovcc setcc
//! bswap cbw/cwde/cdqe cwd/cdq/cqo.

use super::flags;
use super::operands::{ea, get_reg, op_size, read_op, set_reg, sext, write_op};
use super::state::reg;
use super::table::Table;
use super::{Res, M};
use iced_x86::{Instruction, Mnemonic as Mn, Register};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Mov], mov);
    t.add(&[Mn::Movzx], movzx);
    t.add(&[Mn::Movsx, Mn::Movsxd], movsx);
    t.add(&[Mn::Lea], lea);
    t.add(
        &[
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
        ],
        cmovcc,
    );
    t.add(
        &[
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
        ],
        setcc,
    );
    t.add(&[Mn::Bswap], bswap);
    t.add(&[Mn::Cbw, Mn::Cwde, Mn::Cdqe], cbw);
    t.add(&[Mn::Cwd, Mn::Cdq, Mn::Cqo], cwd);
}

pub fn mov(m: &mut M, ins: &Instruction) -> Res {
    let (r0, r1) = (ins.op0_register(), ins.op1_register());
    // mov to/from control, debug and test registers is privileged: #GP at CPL 3.
    if r0.is_cr() || r1.is_cr() || r0.is_dr() || r1.is_dr() || r0.is_tr() || r1.is_tr() {
        return Err(super::gp_fault());
    }
    if r0.is_segment_register() || r1.is_segment_register() {
        return mov_seg(m, ins);
    }
    let v = read_op(m, ins, 1)?;
    write_op(m, ins, 0, v)
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

pub fn movzx(m: &mut M, ins: &Instruction) -> Res {
    let v = read_op(m, ins, 1)?;
    write_op(m, ins, 0, v)
}

pub fn movsx(m: &mut M, ins: &Instruction) -> Res {
    let v = sext(read_op(m, ins, 1)?, op_size(ins, 1));
    write_op(m, ins, 0, v)
}

pub fn lea(m: &mut M, ins: &Instruction) -> Res {
    // lea does not apply segment bases; ea() only adds fs/gs for explicit prefixes, which lea
    // ignores, so strip it here.
    let mut a = ea(m, ins);
    match ins.segment_prefix() {
        Register::FS => a = a.wrapping_sub(m.cpu.fs_base),
        Register::GS => a = a.wrapping_sub(m.cpu.gs_base),
        _ => {}
    }
    write_op(m, ins, 0, a)
}

pub fn cmovcc(m: &mut M, ins: &Instruction) -> Res {
    // The source is read (and may fault) even when the condition is false.
    let v = read_op(m, ins, 1)?;
    if flags::cond(m.cpu.rflags, ins.condition_code()) {
        write_op(m, ins, 0, v)
    } else {
        // A 32-bit cmov zero-extends its destination even when it does not move.
        let r = ins.op0_register();
        if r.size() == 4 {
            let cur = get_reg(m, r);
            set_reg(m, r, cur);
        }
        Ok(())
    }
}

pub fn setcc(m: &mut M, ins: &Instruction) -> Res {
    let v = flags::cond(m.cpu.rflags, ins.condition_code()) as u64;
    write_op(m, ins, 0, v)
}

pub fn bswap(m: &mut M, ins: &Instruction) -> Res {
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
        Mn::Cbw => set_reg(m, Register::AX, sext(rax, 1)),
        Mn::Cwde => set_reg(m, Register::EAX, sext(rax, 2)),
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
    set_reg(m, dst, sign);
    Ok(())
}
