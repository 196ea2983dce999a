//! Operand access: registers with x86's partial-write rules, effective addresses, memory
//! and immediates. All handlers read and write operands through these functions.

use super::{Trap, M};
use iced_x86::{Instruction, OpKind, Register};

/// GPR number and width of a general-purpose register operand.
/// Returns (index into `gpr`, size in bytes, is AH/CH/DH/BH).
#[inline(always)]
pub fn gpr_info(r: Register) -> (usize, u32, bool) {
    let v = r as usize;
    match v {
        1..=4 => (v - 1, 1, false),
        5..=8 => (v - 5, 1, true),
        9..=20 => (v - 5, 1, false),
        21..=36 => (v - 21, 2, false),
        37..=52 => (v - 37, 4, false),
        53..=68 => (v - 53, 8, false),
        _ => unreachable_reg(r),
    }
}

#[cold]
#[inline(never)]
fn unreachable_reg(r: Register) -> ! {
    panic!("not a general-purpose register: {r:?}")
}

/// Is `r` a general-purpose register?
#[inline]
pub fn is_gpr(r: Register) -> bool {
    (1..=68).contains(&(r as usize))
}

/// XMM register index.
#[inline]
pub fn xmm_index(r: Register) -> usize {
    debug_assert!(r.is_xmm());
    r as usize - Register::XMM0 as usize
}

/// Read a GPR, zero-extended from its width.
#[inline(always)]
pub fn get_reg(m: &M, r: Register) -> u64 {
    let (i, size, hi) = gpr_info(r);
    let v = m.cpu.gpr[i];
    match size {
        8 => v,
        4 => v as u32 as u64,
        2 => v as u16 as u64,
        _ if hi => (v >> 8) as u8 as u64,
        _ => v as u8 as u64,
    }
}

/// Write a GPR with x86 rules: 32-bit writes zero the upper half; 8/16-bit writes merge.
#[inline(always)]
pub fn set_reg(m: &mut M, r: Register, v: u64) {
    let (i, size, hi) = gpr_info(r);
    let old = m.cpu.gpr[i];
    m.cpu.gpr[i] = match size {
        8 => v,
        4 => v as u32 as u64,
        2 => (old & !0xffff) | (v & 0xffff),
        _ if hi => (old & !0xff00) | ((v & 0xff) << 8),
        _ => (old & !0xff) | (v & 0xff),
    };
}

/// Segment base added to memory operands (fs/gs only in 64-bit mode).
#[inline(always)]
fn seg_base(m: &M, ins: &Instruction) -> u64 {
    match ins.segment_prefix() {
        Register::FS => m.cpu.fs_base,
        Register::GS => m.cpu.gs_base,
        _ => 0,
    }
}

/// Effective (linear) address of the instruction's memory operand.
#[inline(always)]
pub fn ea(m: &M, ins: &Instruction) -> u64 {
    let base = ins.memory_base();
    let mut a = ins.memory_displacement64();
    if base == Register::RIP {
        // iced already folded next_ip into the displacement.
    } else if base == Register::EIP {
        // eip-relative (0x67 prefix): iced folded next_ip too; the address is 32-bit.
        a &= 0xffff_ffff;
    } else if base != Register::None {
        a = a.wrapping_add(get_reg(m, base));
    }
    let index = ins.memory_index();
    if index != Register::None {
        a = a.wrapping_add(get_reg(m, index).wrapping_mul(ins.memory_index_scale() as u64));
    }
    if base != Register::RIP && base != Register::EIP && is_addr32(ins) {
        a &= 0xffff_ffff;
    }
    a.wrapping_add(seg_base(m, ins))
}

/// Does the instruction use 32-bit addressing (0x67 prefix)?
#[inline(always)]
fn is_addr32(ins: &Instruction) -> bool {
    let b = ins.memory_base();
    let i = ins.memory_index();
    (b != Register::None && b != Register::EIP && b.size() == 4)
        || (i != Register::None && i.size() == 4 && !i.is_xmm())
}

/// Size in bytes of operand `i`.
#[inline(always)]
pub fn op_size(ins: &Instruction, i: u32) -> u32 {
    match ins.op_kind(i) {
        OpKind::Register => ins.op_register(i).size() as u32,
        OpKind::Memory => ins.memory_size().size() as u32,
        OpKind::Immediate8 | OpKind::Immediate8_2nd => 1,
        OpKind::Immediate16 | OpKind::Immediate8to16 => 2,
        OpKind::Immediate32 | OpKind::Immediate8to32 => 4,
        _ => 8,
    }
}

/// Read operand `i` (register, memory or immediate), zero-extended to 64 bits. Immediates
/// come sign-extended to the operation size, as iced reports them.
#[inline(always)]
pub fn read_op(m: &M, ins: &Instruction, i: u32) -> Result<u64, Trap> {
    match ins.op_kind(i) {
        OpKind::Register => Ok(get_reg(m, ins.op_register(i))),
        OpKind::Memory => Ok(m.mem.read_sized(ea(m, ins), ins.memory_size().size() as u32)?),
        _ => Ok(ins.immediate(i)),
    }
}

/// Write operand `i` (register or memory).
#[inline(always)]
pub fn write_op(m: &mut M, ins: &Instruction, i: u32, v: u64) -> Result<(), Trap> {
    match ins.op_kind(i) {
        OpKind::Register => {
            set_reg(m, ins.op_register(i), v);
            Ok(())
        }
        _ => {
            let a = ea(m, ins);
            Ok(m.mem.write_sized(a, ins.memory_size().size() as u32, v)?)
        }
    }
}

/// Mask of the low `size` bytes.
#[inline(always)]
pub fn mask(size: u32) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size * 8)) - 1
    }
}

/// Sign bit of a `size`-byte value.
#[inline(always)]
pub fn sign_bit(size: u32) -> u64 {
    1u64 << (size * 8 - 1)
}

/// Sign-extend the low `size` bytes of `v`.
#[inline(always)]
pub fn sext(v: u64, size: u32) -> u64 {
    let sh = 64 - size * 8;
    (((v << sh) as i64) >> sh) as u64
}

// ---- XMM operands ----

/// Read operand `i` as a 128-bit XMM value: a register, or `memory_size` bytes from memory
/// (zero-extended). `align16` enforces the alignment that movdqa/movaps-style forms require
/// (#GP → SIGSEGV).
#[inline]
pub fn read_xmm_op(m: &M, ins: &Instruction, i: u32) -> Result<u128, Trap> {
    match ins.op_kind(i) {
        OpKind::Register => {
            let r = ins.op_register(i);
            if r.is_xmm() {
                Ok(m.cpu.xmm[xmm_index(r)])
            } else {
                Ok(get_reg(m, r) as u128)
            }
        }
        OpKind::Memory => {
            let a = ea(m, ins);
            Ok(match ins.memory_size().size() {
                16 => m.mem.read_u128(a)?,
                8 => m.mem.read_u64(a)? as u128,
                4 => m.mem.read_u32(a)? as u128,
                2 => m.mem.read_u16(a)? as u128,
                1 => m.mem.read_u8(a)? as u128,
                _ => m.mem.read_u128(a)?,
            })
        }
        _ => Ok(ins.immediate(i) as u128),
    }
}

/// Like `read_xmm_op`, but a 16-byte memory operand must be 16-byte aligned.
#[inline]
pub fn read_xmm_op_aligned(m: &M, ins: &Instruction, i: u32) -> Result<u128, Trap> {
    if ins.op_kind(i) == OpKind::Memory && ins.memory_size().size() == 16 && ea(m, ins) & 15 != 0 {
        return Err(super::gp_fault());
    }
    read_xmm_op(m, ins, i)
}

/// Write a whole XMM register, or `memory_size` bytes of `v` to memory.
#[inline]
pub fn write_xmm_op(m: &mut M, ins: &Instruction, i: u32, v: u128) -> Result<(), Trap> {
    match ins.op_kind(i) {
        OpKind::Register => {
            let r = ins.op_register(i);
            if r.is_xmm() {
                m.cpu.xmm[xmm_index(r)] = v;
            } else {
                set_reg(m, r, v as u64);
            }
            Ok(())
        }
        _ => {
            let a = ea(m, ins);
            match ins.memory_size().size() {
                16 => m.mem.write_u128(a, v)?,
                8 => m.mem.write_u64(a, v as u64)?,
                4 => m.mem.write_u32(a, v as u32)?,
                2 => m.mem.write_u16(a, v as u16)?,
                1 => m.mem.write_u8(a, v as u8)?,
                _ => m.mem.write_u128(a, v)?,
            }
            Ok(())
        }
    }
}

/// Like `write_xmm_op`, but a 16-byte memory operand must be 16-byte aligned.
#[inline]
pub fn write_xmm_op_aligned(m: &mut M, ins: &Instruction, i: u32, v: u128) -> Result<(), Trap> {
    if ins.op_kind(i) == OpKind::Memory && ins.memory_size().size() == 16 && ea(m, ins) & 15 != 0 {
        return Err(super::gp_fault());
    }
    write_xmm_op(m, ins, i, v)
}

// ---- operand access for handlers written once for every operand representation ----

/// How a handler reaches the operands of the instruction it executes. Handlers generic over
/// `Args` are written once and run two ways: through [`Dyn`] (the iced `Instruction`, read
/// field by field: the reference path every instruction can take) and through the
/// pre-decoded forms in `predecode.rs` (register numbers, memory-operand descriptors and
/// sizes fixed at block-decode time), which the interpreter uses for common operand forms.
/// Both must behave identically; `read`/`write`/`size` mean exactly what [`read_op`],
/// [`write_op`] and [`op_size`] mean.
pub trait Args: Copy {
    /// The decoded instruction, for everything else (ip, mnemonic, prefixes, diagnostics).
    fn insn(&self) -> &Instruction;
    /// Size in bytes of operand `i` (as [`op_size`]).
    fn size(self, i: u32) -> u32;
    /// Is operand `i` a register?
    fn is_reg(self, i: u32) -> bool;
    /// Is operand `i` a memory operand?
    fn is_mem(self, i: u32) -> bool;
    /// Read operand `i`, zero-extended (as [`read_op`]).
    fn read(self, m: &M, i: u32) -> Result<u64, Trap>;
    /// Write operand `i` (as [`write_op`]).
    fn write(self, m: &mut M, i: u32, v: u64) -> Result<(), Trap>;
    /// Effective address of the memory operand (as [`ea`]).
    fn ea(self, m: &M) -> u64;
    /// The FS/GS base a segment prefix adds to the memory operand (0 without one).
    fn seg_base(self, m: &M) -> u64;
    /// Does the instruction's condition (jcc/setcc/cmovcc) hold for `rflags`?
    fn cond(self, rflags: u64) -> bool;
    /// Target of a near branch.
    fn branch_target(self) -> u64;
    /// Number of operands.
    fn op_count(self) -> u32;
    /// Replace the status flags selected by `which` with those in `f` (as [`flags::set`]).
    /// Every flag write of a handler generic over `Args` goes through here, so the
    /// pre-decoded path can drop writes that a later instruction of the same block is
    /// known to overwrite before anything reads them.
    ///
    /// [`flags::set`]: super::flags::set
    #[inline(always)]
    fn set_flags(self, m: &mut M, which: u64, f: u64) {
        super::flags::set(m, which, f)
    }
}

/// The reference operand access: straight from the iced `Instruction`.
#[derive(Clone, Copy)]
pub struct Dyn<'a>(pub &'a Instruction);

impl Args for Dyn<'_> {
    #[inline(always)]
    fn insn(&self) -> &Instruction {
        self.0
    }
    #[inline(always)]
    fn size(self, i: u32) -> u32 {
        op_size(self.0, i)
    }
    #[inline(always)]
    fn is_reg(self, i: u32) -> bool {
        self.0.op_kind(i) == OpKind::Register
    }
    #[inline(always)]
    fn is_mem(self, i: u32) -> bool {
        self.0.op_kind(i) == OpKind::Memory
    }
    #[inline(always)]
    fn read(self, m: &M, i: u32) -> Result<u64, Trap> {
        read_op(m, self.0, i)
    }
    #[inline(always)]
    fn write(self, m: &mut M, i: u32, v: u64) -> Result<(), Trap> {
        write_op(m, self.0, i, v)
    }
    #[inline(always)]
    fn ea(self, m: &M) -> u64 {
        ea(m, self.0)
    }
    #[inline(always)]
    fn seg_base(self, m: &M) -> u64 {
        seg_base(m, self.0)
    }
    #[inline(always)]
    fn cond(self, rflags: u64) -> bool {
        super::flags::cond(rflags, self.0.condition_code())
    }
    #[inline(always)]
    fn branch_target(self) -> u64 {
        self.0.near_branch_target()
    }
    #[inline(always)]
    fn op_count(self) -> u32 {
        self.0.op_count()
    }
}
