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

#[cfg(test)]
mod tests {
    use crate::isa::x86_64::sse_int::harness::{check, check_sigill, imms, native, no_prep};
    use crate::isa::x86_64::sse_int::harness::{exec, machine, DATA, DATA_LEN};

    #[test]
    fn movd_movq() {
        check(
            &[
                native!("movd xmm0, eax"),
                native!("movd xmm2, ecx"),
                native!("movd xmm0, dword ptr [rsi]"),
                native!("movd xmm0, dword ptr [rsi + 3]"),
                native!("movd eax, xmm1"),
                native!("movd edx, xmm3"),
                native!("movd dword ptr [rsi], xmm1"),
                native!("movd dword ptr [rsi + 5], xmm1"),
                native!("movq xmm0, rax"),
                native!("movq rcx, xmm1"),
                native!("movq xmm0, qword ptr [rsi]"),
                native!("movq xmm0, qword ptr [rsi + 7]"),
                native!("movq qword ptr [rsi], xmm1"),
                native!("movq qword ptr [rsi + 9], xmm2"),
                // F3 0F 7E and 66 0F D6 register forms.
                native!("movq xmm0, xmm1"),
                native!(".byte 0x66, 0x0f, 0xd6, 0xc8"),
                native!("movq xmm3, xmm3"),
            ],
            no_prep,
            false,
        );
    }

    #[test]
    fn full_moves() {
        check(
            &[
                native!("movdqa xmm0, xmm1"),
                native!("movdqa xmm0, [rsi]"),
                native!("movdqa [rsi], xmm1"),
                native!("movdqa [rsi + 32], xmm3"),
                native!("movaps xmm0, xmm1"),
                native!("movaps xmm2, [rsi]"),
                native!("movaps [rsi], xmm1"),
                native!("movapd xmm0, xmm1"),
                native!("movapd xmm0, [rsi]"),
                native!("movapd [rsi], xmm1"),
                native!("movntdq [rsi], xmm1"),
                native!("movntps [rsi], xmm2"),
                native!("movntpd [rsi], xmm3"),
            ],
            no_prep,
            true,
        );
        check(
            &[
                native!("movdqu xmm0, xmm1"),
                native!("movdqu xmm0, [rsi]"),
                native!("movdqu xmm0, [rsi + 1]"),
                native!("movdqu [rsi + 3], xmm1"),
                native!("movups xmm0, xmm1"),
                native!("movups xmm0, [rsi + 9]"),
                native!("movups [rsi + 15], xmm1"),
                native!("movupd xmm0, xmm1"),
                native!("movupd xmm0, [rsi + 2]"),
                native!("movupd [rsi + 4], xmm1"),
                native!("movnti [rsi], eax"),
                native!("movnti [rsi + 8], rcx"),
            ],
            no_prep,
            false,
        );
    }

    #[test]
    fn half_moves() {
        check(
            &[
                native!("movlps xmm0, qword ptr [rsi]"),
                native!("movlps xmm0, qword ptr [rsi + 3]"),
                native!("movlps qword ptr [rsi + 5], xmm1"),
                native!("movlpd xmm0, qword ptr [rsi + 8]"),
                native!("movlpd qword ptr [rsi + 1], xmm1"),
                native!("movhps xmm0, qword ptr [rsi + 1]"),
                native!("movhps qword ptr [rsi + 6], xmm1"),
                native!("movhpd xmm0, qword ptr [rsi]"),
                native!("movhpd qword ptr [rsi + 2], xmm1"),
                native!("movhlps xmm0, xmm1"),
                native!("movhlps xmm2, xmm2"),
                native!("movlhps xmm0, xmm1"),
                native!("movlhps xmm3, xmm3"),
            ],
            no_prep,
            false,
        );
    }

    #[test]
    fn masks_insert_extract() {
        check(
            &[
                native!("movmskps eax, xmm1"),
                native!("movmskpd ecx, xmm0"),
                native!("pmovmskb edx, xmm2"),
                // REX.W forms: movmskps rax, xmm1 / movmskpd rcx, xmm0 / pmovmskb rdx, xmm2
                native!(".byte 0x48, 0x0f, 0x50, 0xc1"),
                native!(".byte 0x66, 0x48, 0x0f, 0x50, 0xc8"),
                native!(".byte 0x66, 0x48, 0x0f, 0xd7, 0xd2"),
                // pinsrw xmm0, rax, 2 / pextrw rcx, xmm1, 3
                native!(".byte 0x66, 0x48, 0x0f, 0xc4, 0xc0, 0x02"),
                native!(".byte 0x66, 0x48, 0x0f, 0xc5, 0xc9, 0x03"),
                native!("maskmovdqu xmm0, xmm1"),
                native!("maskmovdqu xmm3, xmm2"),
            ],
            no_prep,
            false,
        );
        check(
            &[
                &imms!("pinsrw xmm0, eax, "; "0", "1", "3", "7", "8", "13", "255")[..],
                &imms!("pinsrw xmm1, word ptr [rsi + 1], "; "0", "2", "5", "7", "15")[..],
                &imms!("pextrw eax, xmm1, "; "0", "1", "4", "7", "9", "255")[..],
                &imms!("pextrw edx, xmm0, "; "3", "6")[..],
            ]
            .concat(),
            no_prep,
            false,
        );
    }

    #[test]
    fn maskmovdqu_faults_atomically() {
        let mut m = machine();
        let end = DATA + DATA_LEN;
        m.cpu.gpr[crate::isa::x86_64::state::reg::RDI] = end - 8;
        m.cpu.xmm[0] = 0x1111_2222_3333_4444_5555_6666_7777_8888;
        m.cpu.xmm[1] = u128::MAX;
        let r = exec(&mut m, &[0x66, 0x0f, 0xf7, 0xc1]);
        assert!(matches!(r, Err(crate::isa::x86_64::Trap::Fault(ref f)) if f.addr == end), "{r:?}");
        assert_eq!(m.mem.read_u64(end - 8).unwrap(), 0);
        // Only the bytes on the mapped page selected: no fault.
        m.cpu.xmm[1] = 0x80;
        exec(&mut m, &[0x66, 0x0f, 0xf7, 0xc1]).unwrap();
        assert_eq!(m.mem.read_u64(end - 8).unwrap(), 0x88);
    }

    #[test]
    fn unimplemented_forms_are_sigill() {
        for b in [
            &[0x0f, 0x6e, 0xc0][..],               // movd mm0, eax
            &[0x0f, 0x7e, 0xc0],                   // movd eax, mm0
            &[0x48, 0x0f, 0x6e, 0xc0],             // movq mm0, rax
            &[0x0f, 0x6f, 0xc1],                   // movq mm0, mm1
            &[0x0f, 0x7f, 0x06],                   // movq [rsi], mm0
            &[0x0f, 0xd7, 0xc1],                   // pmovmskb eax, mm1
            &[0x0f, 0xc4, 0xc0, 0x01],             // pinsrw mm0, eax, 1
            &[0x0f, 0xc5, 0xc1, 0x01],             // pextrw eax, mm1, 1
            &[0x66, 0x0f, 0x3a, 0x15, 0xc0, 0x01], // pextrw eax, xmm0, 1 (SSE4.1 form)
        ] {
            check_sigill(b);
        }
    }
}

#[cfg(test)]
mod more_tests {
    use crate::isa::x86_64::gp_fault;
    use crate::isa::x86_64::sse_int::compute;
    use crate::isa::x86_64::sse_int::harness::{exec, machine, DATA, DATA_LEN};
    use crate::isa::x86_64::state::reg;
    use crate::isa::x86_64::Trap;
    use iced_x86::Mnemonic as Mn;

    #[test]
    fn high_registers() {
        let mut m = machine();
        let (a, b) = (0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128, 0x8081_7f7e_0000_ffff_1111_2222_3333_4444u128);
        m.cpu.xmm[9] = a;
        m.cpu.xmm[12] = b;
        exec(&mut m, &[0x66, 0x45, 0x0f, 0xfc, 0xcc]).unwrap(); // paddb xmm9, xmm12
        assert_eq!(m.cpu.xmm[9], compute(Mn::Paddb, a, b, 0).unwrap());
        assert_eq!(m.cpu.xmm[12], b);
        // movdqa [r9 + r10*2], xmm15
        m.cpu.xmm[15] = a;
        m.cpu.gpr[reg::R9] = DATA;
        m.cpu.gpr[reg::R10] = 0x18;
        exec(&mut m, &[0x66, 0x47, 0x0f, 0x7f, 0x3c, 0x51]).unwrap();
        assert_eq!(m.mem.read_u128(DATA + 0x30).unwrap(), a);
        // pextrw r11d, xmm14, 6 / pinsrw xmm14, r11d, 0
        m.cpu.xmm[14] = b;
        exec(&mut m, &[0x66, 0x45, 0x0f, 0xc5, 0xde, 0x06]).unwrap();
        assert_eq!(m.cpu.gpr[reg::R11], 0x7f7e);
        exec(&mut m, &[0x66, 0x45, 0x0f, 0xc4, 0xf3, 0x00]).unwrap();
        assert_eq!(m.cpu.xmm[14], b & !0xffff | 0x7f7e);
    }

    #[test]
    fn memory_faults_change_nothing() {
        let mut m = machine();
        let end = DATA + DATA_LEN;
        m.cpu.xmm[0] = 5;
        m.cpu.gpr[reg::RSI] = end;
        let before = m.cpu;
        // movdqa xmm0, [rsi] (unmapped, aligned): page fault.
        let r = exec(&mut m, &[0x66, 0x0f, 0x6f, 0x06]);
        assert!(matches!(r, Err(Trap::Fault(ref f)) if f.signo == 11 && f.addr == end), "{r:?}");
        // paddw xmm0, [rsi+1]: #GP comes before the page fault.
        assert_eq!(exec(&mut m, &[0x66, 0x0f, 0xfd, 0x46, 0x01]), Err(gp_fault()));
        // movdqu [rsi-8], xmm0: crosses into the unmapped page; nothing written.
        m.cpu.gpr[reg::RSI] = end - 8;
        let r = exec(&mut m, &[0xf3, 0x0f, 0x7f, 0x06]);
        assert!(matches!(r, Err(Trap::Fault(ref f)) if f.addr == end), "{r:?}");
        assert_eq!(m.mem.read_u64(end - 8).unwrap(), 0);
        m.cpu.gpr[reg::RSI] = end;
        m.cpu.rip = before.rip;
        assert_eq!(m.cpu, before);
    }
}
