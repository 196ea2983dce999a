//! Legacy-SSE-encoded (not VEX) XMM data moves: movd movq movdqa movdqu movaps movapd movups
//! movupd movlps movhps movlpd movhpd movhlps movlhps movntdq movntps movntpd movnti
//! movmskps movmskpd pmovmskb pinsrw pextrw maskmovdqu.
//!
//! Non-temporal stores are plain stores. The MMX-register forms of the same mnemonics are not
//! implemented (SIGILL).

use super::operands::{ea, read_op, read_xmm_op, read_xmm_op_aligned, set_reg, write_op, write_xmm_op, xmm_index};
use super::sse_int::{bytes, dwords, from_words, has_mm, qwords, words};
use super::state::reg;
use super::table::Table;
use super::{Res, M};
use iced_x86::{Code, Instruction, Mnemonic as Mn, OpKind};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Movd, Mn::Movq], movd_q);
    t.add(&[Mn::Movdqa, Mn::Movaps, Mn::Movapd, Mn::Movntdq, Mn::Movntps, Mn::Movntpd], mov_aligned);
    t.add(&[Mn::Movdqu, Mn::Movups, Mn::Movupd], mov_unaligned);
    t.add(&[Mn::Movnti], movnti);
    t.add(&[Mn::Movlps, Mn::Movlpd], movlp);
    t.add(&[Mn::Movhps, Mn::Movhpd], movhp);
    t.add(&[Mn::Movhlps], movhlps);
    t.add(&[Mn::Movlhps], movlhps);
    t.add(&[Mn::Movmskps, Mn::Movmskpd, Mn::Pmovmskb], movmsk);
    t.add(&[Mn::Pinsrw], pinsrw);
    t.add(&[Mn::Pextrw], pextrw);
    t.add(&[Mn::Maskmovdqu], maskmovdqu);
}

/// Mask of the low 64 bits of an XMM value.
const LO: u128 = u64::MAX as u128;

/// movd/movq between XMM and r/m32/r/m64 or XMM/m64. A write to an XMM register zeroes the bits
/// above the moved 32/64; a write to a 32-bit GPR zero-extends it.
pub fn movd_q(m: &mut M, ins: &Instruction) -> Res {
    if has_mm(ins) {
        return super::unimplemented(m, ins);
    }
    let size = if ins.mnemonic() == Mn::Movd { 4 } else { 8 };
    let v = read_xmm_op(m, ins, 1)? & ((1u128 << (size * 8)) - 1);
    write_xmm_op(m, ins, 0, v)
}

/// movdqa/movaps/movapd and the non-temporal stores: 16-byte memory operands must be aligned.
pub fn mov_aligned(m: &mut M, ins: &Instruction) -> Res {
    let v = read_xmm_op_aligned(m, ins, 1)?;
    super::operands::write_xmm_op_aligned(m, ins, 0, v)
}

/// movdqu/movups/movupd.
pub fn mov_unaligned(m: &mut M, ins: &Instruction) -> Res {
    let v = read_xmm_op(m, ins, 1)?;
    write_xmm_op(m, ins, 0, v)
}

/// movnti m32/m64, r32/r64.
pub fn movnti(m: &mut M, ins: &Instruction) -> Res {
    let v = read_op(m, ins, 1)?;
    write_op(m, ins, 0, v)
}

/// movlps/movlpd: load m64 into the low half of an XMM register (upper kept), or store the low
/// half.
pub fn movlp(m: &mut M, ins: &Instruction) -> Res {
    if ins.op0_kind() == OpKind::Memory {
        let v = m.cpu.xmm[xmm_index(ins.op1_register())];
        return write_xmm_op(m, ins, 0, v & LO);
    }
    let v = read_xmm_op(m, ins, 1)? & LO;
    let d = xmm_index(ins.op0_register());
    m.cpu.xmm[d] = (m.cpu.xmm[d] & !LO) | v;
    Ok(())
}

/// movhps/movhpd: load m64 into the high half (low kept), or store the high half.
pub fn movhp(m: &mut M, ins: &Instruction) -> Res {
    if ins.op0_kind() == OpKind::Memory {
        let v = m.cpu.xmm[xmm_index(ins.op1_register())];
        return write_xmm_op(m, ins, 0, v >> 64);
    }
    let v = read_xmm_op(m, ins, 1)? & LO;
    let d = xmm_index(ins.op0_register());
    m.cpu.xmm[d] = (m.cpu.xmm[d] & LO) | v << 64;
    Ok(())
}

/// movhlps xmm1, xmm2: xmm1[63:0] = xmm2[127:64].
pub fn movhlps(m: &mut M, ins: &Instruction) -> Res {
    let s = m.cpu.xmm[xmm_index(ins.op1_register())];
    let d = xmm_index(ins.op0_register());
    m.cpu.xmm[d] = (m.cpu.xmm[d] & !LO) | s >> 64;
    Ok(())
}

/// movlhps xmm1, xmm2: xmm1[127:64] = xmm2[63:0].
pub fn movlhps(m: &mut M, ins: &Instruction) -> Res {
    let s = m.cpu.xmm[xmm_index(ins.op1_register())];
    let d = xmm_index(ins.op0_register());
    m.cpu.xmm[d] = (m.cpu.xmm[d] & LO) | s << 64;
    Ok(())
}

/// movmskps/movmskpd/pmovmskb r32/r64, xmm: the lanes' sign bits, zero-extended.
pub fn movmsk(m: &mut M, ins: &Instruction) -> Res {
    if has_mm(ins) {
        return super::unimplemented(m, ins);
    }
    let s = m.cpu.xmm[xmm_index(ins.op1_register())];
    let r: u64 = match ins.mnemonic() {
        Mn::Movmskps => dwords(s).iter().enumerate().map(|(i, &x)| ((x >> 31) as u64) << i).sum(),
        Mn::Movmskpd => qwords(s).iter().enumerate().map(|(i, &x)| (x >> 63) << i).sum(),
        _ => bytes(s).iter().enumerate().map(|(i, &x)| ((x >> 7) as u64) << i).sum(),
    };
    set_reg(m, ins.op0_register(), r);
    Ok(())
}

/// pinsrw xmm, r32/r64/m16, imm8.
pub fn pinsrw(m: &mut M, ins: &Instruction) -> Res {
    if has_mm(ins) {
        return super::unimplemented(m, ins);
    }
    let v = read_op(m, ins, 1)? as u16;
    let d = xmm_index(ins.op0_register());
    let mut w = words(m.cpu.xmm[d]);
    w[(ins.immediate8() & 7) as usize] = v;
    m.cpu.xmm[d] = from_words(w);
    Ok(())
}

/// pextrw r32/r64, xmm, imm8 (SSE2 form): the word, zero-extended.
pub fn pextrw(m: &mut M, ins: &Instruction) -> Res {
    // The SSE4.1 r/m16 form (66 0F 3A 15) and the MMX form are not implemented.
    if has_mm(ins) || !matches!(ins.code(), Code::Pextrw_r32_xmm_imm8 | Code::Pextrw_r64_xmm_imm8) {
        return super::unimplemented(m, ins);
    }
    let w = words(m.cpu.xmm[xmm_index(ins.op1_register())]);
    set_reg(m, ins.op0_register(), w[(ins.immediate8() & 7) as usize] as u64);
    Ok(())
}

/// maskmovdqu xmm1, xmm2: store the bytes of xmm1 whose byte in xmm2 has its top bit set to
/// [rdi] (ds: or an explicit segment; edi with a 0x67 prefix). All selected bytes are checked
/// writable before any is stored, so a fault leaves memory unchanged. A mask of zero stores
/// nothing and does not fault (hardware may or may not fault then; the SDM allows both).
pub fn maskmovdqu(m: &mut M, ins: &Instruction) -> Res {
    let data = bytes(m.cpu.xmm[xmm_index(ins.op1_register())]);
    let mask = bytes(m.cpu.xmm[xmm_index(ins.op2_register())]);
    // iced reports the implicit [rdi] as the memory operand, so ea() applies the address size
    // and segment prefix.
    let base = if ins.op0_kind() == OpKind::MemorySegRDI || ins.op0_kind() == OpKind::MemorySegEDI {
        implicit_di(m, ins)
    } else {
        ea(m, ins)
    };
    let sel = || (0..16u64).filter(|&i| mask[i as usize] & 0x80 != 0);
    for i in sel() {
        // Probe that each selected byte is writable before storing any (slice_mut checks
        // and marks the page dirty, which is harmless).
        m.mem.slice_mut(base.wrapping_add(i), 1)?;
    }
    for i in sel() {
        m.mem.write_u8(base.wrapping_add(i), data[i as usize])?;
    }
    Ok(())
}

/// The address of an implicit ds:[rdi]/[edi] operand, with any segment override.
fn implicit_di(m: &M, ins: &Instruction) -> u64 {
    let di = m.cpu.gpr[reg::RDI];
    let a = if ins.op0_kind() == OpKind::MemorySegEDI { di & 0xffff_ffff } else { di };
    a.wrapping_add(match ins.segment_prefix() {
        iced_x86::Register::FS => m.cpu.fs_base,
        iced_x86::Register::GS => m.cpu.gs_base,
        _ => 0,
    })
}
