//! Branches, exception generation excluded (Arm ARM C4.1.65 "Branches, Exception Generating
//! and System instructions": the branch part): B BL BR BLR RET B.cond CBZ CBNZ TBZ TBNZ.

use super::flags;
use super::operands::reg;
use super::table::Table;
use super::{Decoded, Res, M};
use deja_decoders::aarch64::{Opcode, Operand, SizeCode};

pub fn register(t: &mut Table) {
    t.add(&[Opcode::B], b);
    t.add(&[Opcode::BL], bl);
    t.add(&[Opcode::BR], br);
    t.add(&[Opcode::BLR], blr);
    t.add(&[Opcode::RET], ret);
    t.add(&[Opcode::Bcc(0)], bcc);
    t.add(&[Opcode::CBZ, Opcode::CBNZ], cbz);
    t.add(&[Opcode::TBZ, Opcode::TBNZ], tbz);
}

#[inline(always)]
fn target(d: &Decoded, i: usize) -> u64 {
    match d.ins.operands[i] {
        Operand::PCOffset(off) => d.pc.wrapping_add(off as u64),
        _ => d.pc,
    }
}

#[inline(always)]
fn reg_operand(m: &M, d: &Decoded, i: usize) -> u64 {
    match d.ins.operands[i] {
        Operand::Register(s, n) => reg(m, s, n),
        _ => 0,
    }
}

fn b(m: &mut M, d: &Decoded) -> Res {
    m.cpu.pc = target(d, 0);
    Ok(())
}

fn bl(m: &mut M, d: &Decoded) -> Res {
    m.cpu.x[30] = d.pc + 4;
    m.cpu.pc = target(d, 0);
    Ok(())
}

fn br(m: &mut M, d: &Decoded) -> Res {
    m.cpu.pc = reg_operand(m, d, 0);
    Ok(())
}

fn blr(m: &mut M, d: &Decoded) -> Res {
    let t = reg_operand(m, d, 0);
    m.cpu.x[30] = d.pc + 4;
    m.cpu.pc = t;
    Ok(())
}

fn ret(m: &mut M, d: &Decoded) -> Res {
    m.cpu.pc = match d.ins.operands[0] {
        Operand::Register(s, n) => reg(m, s, n),
        _ => m.cpu.x[30],
    };
    Ok(())
}

fn bcc(m: &mut M, d: &Decoded) -> Res {
    let Opcode::Bcc(c) = d.ins.opcode else { return Err(super::undefined(d)) };
    if flags::cond(m.cpu.nzcv, c) {
        m.cpu.pc = target(d, 0);
    }
    Ok(())
}

fn cbz(m: &mut M, d: &Decoded) -> Res {
    let v = reg_operand(m, d, 0);
    if (v == 0) == (d.ins.opcode == Opcode::CBZ) {
        m.cpu.pc = target(d, 1);
    }
    Ok(())
}

fn tbz(m: &mut M, d: &Decoded) -> Res {
    let v = match d.ins.operands[0] {
        Operand::Register(_, n) => reg(m, SizeCode::X, n),
        _ => 0,
    };
    let bit = match d.ins.operands[1] {
        Operand::Imm16(b) => b as u32,
        Operand::Immediate(b) => b,
        _ => 0,
    };
    let set = (v >> (bit & 63)) & 1 == 1;
    if set == (d.ins.opcode == Opcode::TBNZ) {
        m.cpu.pc = target(d, 2);
    }
    Ok(())
}
