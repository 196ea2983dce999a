//! Stack instructions: push pop enter leave pushf popf.

use super::operands::{Args, Dyn};
use super::state::{fl, reg};
use super::table::Table;
use super::{Res, Trap, M};
use crate::specializer;
use iced_x86::{Instruction, Mnemonic as Mn};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Push], push_ref);
    t.add(&[Mn::Pop], pop_ref);
    // Segment-register forms have no pre-decoded form, so they always reach the table.
    t.specialize(&[Mn::Push], specializer!(push; R8, M8, I8, R2, M2, I2));
    t.specialize(&[Mn::Pop], specializer!(pop; R8, M8, R2, M2));
    t.add(&[Mn::Enter], enter);
    t.add(&[Mn::Leave], leave);
    t.add(&[Mn::Pushf, Mn::Pushfq], pushf);
    t.add(&[Mn::Popf, Mn::Popfq], popf);
}

/// Push `size` bytes (2 or 8). The store happens before rsp changes so a fault leaves rsp
/// untouched.
#[inline]
pub fn push_sized(m: &mut M, v: u64, size: u32) -> Res {
    let sp = m.cpu.gpr[reg::RSP].wrapping_sub(size as u64);
    m.mem.write_sized(sp, size, v)?;
    m.cpu.gpr[reg::RSP] = sp;
    Ok(())
}

#[inline]
pub fn push64(m: &mut M, v: u64) -> Res {
    push_sized(m, v, 8)
}

#[inline]
pub fn pop64(m: &mut M) -> Result<u64, Trap> {
    let sp = m.cpu.gpr[reg::RSP];
    let v = m.mem.read_u64(sp)?;
    m.cpu.gpr[reg::RSP] = sp.wrapping_add(8);
    Ok(v)
}

/// Operand size of push/pop: 2 with a 0x66 prefix (a 16-bit register or memory operand, or
/// an Immediate8to16/Immediate16), else 8 (immediates are pushed as 8).
#[inline(always)]
fn stack_size<A: Args>(x: A) -> u32 {
    if x.size(0) == 2 {
        2
    } else {
        8
    }
}

/// The table handler: segment registers, or [`push`].
pub fn push_ref(m: &mut M, ins: &Instruction) -> Res {
    if ins.op0_register().is_segment_register() {
        // push fs/gs: the (null) selector Linux gives 64-bit user code.
        return push_sized(m, 0, stack_size(Dyn(ins)));
    }
    push(m, Dyn(ins))
}

/// The table handler: segment registers, or [`pop`].
pub fn pop_ref(m: &mut M, ins: &Instruction) -> Res {
    if ins.op0_register().is_segment_register() {
        // Loading segment selectors is not emulated (flat 64-bit user mode).
        return Err(super::gp_fault());
    }
    pop(m, Dyn(ins))
}

#[inline(always)]
pub fn push<A: Args>(m: &mut M, x: A) -> Res {
    let v = x.read(m, 0)?;
    push_sized(m, v, stack_size(x))
}

#[inline(always)]
pub fn pop<A: Args>(m: &mut M, x: A) -> Res {
    let size = stack_size(x);
    let sp = m.cpu.gpr[reg::RSP];
    let v = m.mem.read_sized(sp, size)?;
    // A memory destination addressed through rsp uses the incremented rsp (SDM: POP).
    m.cpu.gpr[reg::RSP] = sp.wrapping_add(size as u64);
    if let Err(e) = x.write(m, 0, v) {
        m.cpu.gpr[reg::RSP] = sp;
        return Err(e);
    }
    Ok(())
}

pub fn enter(m: &mut M, ins: &Instruction) -> Res {
    let alloc = ins.immediate16() as u64;
    let level = (ins.immediate8_2nd() & 31) as u64;
    let rbp = m.cpu.gpr[reg::RBP];
    let start_sp = m.cpu.gpr[reg::RSP];
    push64(m, rbp)?;
    let frame = m.cpu.gpr[reg::RSP];
    if level > 0 {
        let mut bp = rbp;
        for _ in 1..level {
            bp = bp.wrapping_sub(8);
            let v = match m.mem.read_u64(bp) {
                Ok(v) => v,
                Err(e) => {
                    m.cpu.gpr[reg::RSP] = start_sp;
                    return Err(e.into());
                }
            };
            if let Err(e) = push64(m, v) {
                m.cpu.gpr[reg::RSP] = start_sp;
                return Err(e);
            }
        }
        if let Err(e) = push64(m, frame) {
            m.cpu.gpr[reg::RSP] = start_sp;
            return Err(e);
        }
    }
    m.cpu.gpr[reg::RBP] = frame;
    m.cpu.gpr[reg::RSP] = m.cpu.gpr[reg::RSP].wrapping_sub(alloc);
    Ok(())
}

pub fn leave(m: &mut M, _ins: &Instruction) -> Res {
    let bp = m.cpu.gpr[reg::RBP];
    let v = m.mem.read_u64(bp)?;
    m.cpu.gpr[reg::RSP] = bp.wrapping_add(8);
    m.cpu.gpr[reg::RBP] = v;
    Ok(())
}

/// RFLAGS as software sees it (pushf): RF and VM read as 0.
pub fn visible_rflags(m: &M) -> u64 {
    (m.cpu.rflags | fl::FIXED) & 0x3f_7fd7
}

pub fn pushf(m: &mut M, ins: &Instruction) -> Res {
    let v = visible_rflags(m);
    push_sized(m, v, if ins.mnemonic() == Mn::Pushf { 2 } else { 8 })
}

pub fn popf(m: &mut M, ins: &Instruction) -> Res {
    let size = if ins.mnemonic() == Mn::Popf { 2 } else { 8 };
    let sp = m.cpu.gpr[reg::RSP];
    let v = m.mem.read_sized(sp, size)?;
    m.cpu.gpr[reg::RSP] = sp.wrapping_add(size as u64);
    let writable = if size == 2 { fl::USER_WRITABLE & 0xffff } else { fl::USER_WRITABLE };
    m.cpu.rflags = ((m.cpu.rflags & !writable) | (v & writable)) | fl::FIXED;
    Ok(())
}
