//! Native translation of the hot A64 instructions for the JIT (`jit_a64.rs`). Everything
//! else is a call to the interpreter's handler.
//!
//! Instructions are recognised from their encoding (the Arm ARM's fields, as loadstore.rs
//! reads them); only the forms below are inlined, every other encoding of a class (and
//! everything the Arm ARM leaves unallocated) goes to the handler:
//! - MOVZ MOVN MOVK; ADR ADRP;
//! - ADD ADDS SUB SUBS (immediate, shifted register, extended register), so CMP CMN, MOV
//!   to/from SP; AND ORR EOR ANDS (immediate, shifted register, with the inverted forms BIC
//!   ORN EON BICS), so TST MOV MVN;
//! - CSEL CSINC CSINV CSNEG (CSET CSETM CINC CINV CNEG); SBFM UBFM (ASR LSL LSR SXTB SXTH
//!   SXTW UXTB UXTH SBFX UBFX SBFIZ UBFIZ); LSLV LSRV ASRV RORV; MADD MSUB (MUL MNEG);
//! - B BL B.cond CBZ CBNZ TBZ TBNZ BR BLR RET;
//! - LDR/STR of general registers (1, 2, 4, 8 bytes, sign- and zero-extending) with unsigned
//!   offset, unscaled offset, pre/post-index, register offset and literal addresses; LDP STP
//!   LDPSW LDNP STNP of general registers; PRFM/PRFUM (no effect).
//!
//! Flags: A64 NZCV from the host's flags after the same host operation: N = SF, Z = ZF, V =
//! OF, and C = CF after an addition but **not** CF after a subtraction (A64's C is "no
//! borrow", x86's CF is "borrow"), so subtractions complement CF (`cmc`) first. `lahf`/`seto`
//! gather SF ZF CF OF, and one multiply moves them to bits 31..28.
//!
//! Memory (design §6): the address is computed as the handler computes it; then one inline
//! check (inside the window, not crossing a page, the page's flags byte has R for a load,
//! FASTW for a store) leads to one host access at `host_base + address`. Anything else (an
//! SP base not 16-byte aligned, a tagged address, a fault, a page needing bookkeeping such
//! as a code page) takes the slow path: a call to the instruction's handler, which performs
//! the whole instruction as the interpreter does and may fault. Nothing architectural is
//! written before the check, so the slow path starts from the instruction's own state.

// dynasm! expands a dynamic register (`Rq(r)`) to `r.into()`.
#![allow(clippy::useless_conversion)]

use super::interp_a64::Op;
use super::jit_a64::off;
use crate::mem::flags;
use deja_jit::dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};
use deja_jit::emit::Asm;
use std::cell::Cell;

// Host registers (x86-64 numbering).
const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RSI: u8 = 6;
const RDI: u8 = 7;

/// An out-of-line slow path: call the handler of `op` with the icount brought up to date,
/// then rejoin the fast path at `back`.
struct Slow {
    label: DynamicLabel,
    back: DynamicLabel,
    op: *const Op,
    pending: i32,
}

/// Translation state within one block.
pub struct Translator<'s> {
    /// Inlined instructions retired since the icount in memory was last brought up to date.
    pending: i32,
    /// The block's exits are emitted (its last instruction was an inlined branch).
    ended: bool,
    /// The last instruction ran through its handler (so the pc in guest state is current).
    pc_current: bool,
    slots: &'s [Cell<usize>],
    /// The guest pc each slot leads to (its stub sets it).
    succ: [u64; 2],
    helper: usize,
    slow: Vec<Slow>,
}

fn sext(v: u64, bits: u32) -> u64 {
    let s = 64 - bits;
    (((v << s) as i64) >> s) as u64
}

// ---- guest register access ----

/// Host register `r` = guest register `n` (31: SP when `sp31`, else zero); W reads
/// zero-extend.
fn load(a: &mut Asm, r: u8, n: u32, sf: bool, sp31: bool) {
    if n == 31 && !sp31 {
        dynasm!(a.ops ; .arch x64 ; xor Rd(r), Rd(r));
        return;
    }
    let o = if n == 31 { off::SP } else { off::x(n) };
    if sf {
        dynasm!(a.ops ; .arch x64 ; mov Rq(r), QWORD [rbx + o]);
    } else {
        dynasm!(a.ops ; .arch x64 ; mov Rd(r), DWORD [rbx + o]);
    }
}

/// Guest register `n` (31: SP when `sp31`, else discarded) = host register `r`; a W write
/// zero-extends.
fn store(a: &mut Asm, r: u8, n: u32, sf: bool, sp31: bool) {
    if n == 31 && !sp31 {
        return;
    }
    let o = if n == 31 { off::SP } else { off::x(n) };
    if !sf {
        dynasm!(a.ops ; .arch x64 ; mov Rd(r), Rd(r));
    }
    dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + o], Rq(r));
}

/// Guest register `n` (31 = zero register: discarded) = constant `v`.
fn store_const(a: &mut Asm, n: u32, v: u64) {
    if n == 31 {
        return;
    }
    let o = off::x(n);
    if v as i64 == v as i32 as i64 {
        dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + o], v as i32);
    } else {
        dynasm!(a.ops
            ; .arch x64
            ; mov rax, QWORD v as i64
            ; mov QWORD [rbx + o], rax
        );
    }
}

/// Host register `r` = constant `v`.
fn mov_const(a: &mut Asm, r: u8, v: u64) {
    if v <= u32::MAX as u64 {
        dynasm!(a.ops ; .arch x64 ; mov Rd(r), v as i32);
    } else {
        dynasm!(a.ops ; .arch x64 ; mov Rq(r), QWORD v as i64);
    }
}

/// Shift host register `r` of width 64 (`sf`) or 32 by a constant: 0 LSL, 1 LSR, 2 ASR, 3 ROR.
fn shift_const(a: &mut Asm, r: u8, kind: u32, amount: u32, sf: bool) {
    if amount == 0 {
        return;
    }
    let n = amount as i8;
    match (kind, sf) {
        (0, true) => dynasm!(a.ops ; .arch x64 ; shl Rq(r), n),
        (0, false) => dynasm!(a.ops ; .arch x64 ; shl Rd(r), n),
        (1, true) => dynasm!(a.ops ; .arch x64 ; shr Rq(r), n),
        (1, false) => dynasm!(a.ops ; .arch x64 ; shr Rd(r), n),
        (2, true) => dynasm!(a.ops ; .arch x64 ; sar Rq(r), n),
        (2, false) => dynasm!(a.ops ; .arch x64 ; sar Rd(r), n),
        (_, true) => dynasm!(a.ops ; .arch x64 ; ror Rq(r), n),
        (_, false) => dynasm!(a.ops ; .arch x64 ; ror Rd(r), n),
    }
}

/// ExtendReg: option 0 UXTB 1 UXTH 2 UXTW 3 UXTX 4 SXTB 5 SXTH 6 SXTW 7 SXTX, then `<< amount`.
fn extend(a: &mut Asm, r: u8, option: u32, amount: u32) {
    match option {
        0 => dynasm!(a.ops ; .arch x64 ; movzx Rd(r), Rb(r)),
        1 => dynasm!(a.ops ; .arch x64 ; movzx Rd(r), Rw(r)),
        2 => dynasm!(a.ops ; .arch x64 ; mov Rd(r), Rd(r)),
        4 => dynasm!(a.ops ; .arch x64 ; movsx Rq(r), Rb(r)),
        5 => dynasm!(a.ops ; .arch x64 ; movsx Rq(r), Rw(r)),
        6 => dynasm!(a.ops ; .arch x64 ; movsxd Rq(r), Rd(r)),
        _ => {}
    }
    if amount != 0 {
        dynasm!(a.ops ; .arch x64 ; shl Rq(r), amount as i8);
    }
}

/// rcx = rcx op rdx at the width: 0 add, 1 sub, 2 and, 3 or, 4 xor.
fn alu(a: &mut Asm, op: u32, sf: bool) {
    match (op, sf) {
        (0, true) => dynasm!(a.ops ; .arch x64 ; add rcx, rdx),
        (0, false) => dynasm!(a.ops ; .arch x64 ; add ecx, edx),
        (1, true) => dynasm!(a.ops ; .arch x64 ; sub rcx, rdx),
        (1, false) => dynasm!(a.ops ; .arch x64 ; sub ecx, edx),
        (2, true) => dynasm!(a.ops ; .arch x64 ; and rcx, rdx),
        (2, false) => dynasm!(a.ops ; .arch x64 ; and ecx, edx),
        (3, true) => dynasm!(a.ops ; .arch x64 ; or rcx, rdx),
        (3, false) => dynasm!(a.ops ; .arch x64 ; or ecx, edx),
        (_, true) => dynasm!(a.ops ; .arch x64 ; xor rcx, rdx),
        (_, false) => dynasm!(a.ops ; .arch x64 ; xor ecx, edx),
    }
}

/// NZCV = the host flags of the operation just done: N = SF, Z = ZF, C = CF (after a
/// subtraction NOT CF: A64's carry is "no borrow"), V = OF. Clobbers rax.
fn nzcv_from_host(a: &mut Asm, sub: bool) {
    if sub {
        dynasm!(a.ops ; .arch x64 ; cmc);
    }
    // ah = SF ZF 0 AF 0 PF 1 CF, al = OF: eax bits 15 (N), 14 (Z), 8 (C), 0 (V) after the
    // mask; the multiply moves them to 31, 30, 29, 28 (bit 15 << 16, 14 << 16, 8 << 21,
    // 0 << 28; the other products land below bit 28 or above bit 31).
    dynasm!(a.ops
        ; .arch x64
        ; lahf
        ; seto al
        ; and eax, 0xc101
        ; imul eax, eax, 0x1021_0000
        ; and eax, 0xf000_0000u32 as i32
        ; mov QWORD [rbx + off::NZCV], rax
    );
}

/// Evaluate A64 condition `c` on NZCV in guest state into the host's ZF: returns `None`
/// when it always holds, else whether it holds when ZF is set. Clobbers rax, rcx.
fn cond(a: &mut Asm, c: u32) -> Option<bool> {
    if c >= 14 {
        return None;
    }
    dynasm!(a.ops ; .arch x64 ; mov eax, DWORD [rbx + off::NZCV]);
    let holds_on_zf = match c >> 1 {
        0 => {
            dynasm!(a.ops ; .arch x64 ; test eax, 1 << 30);
            false
        }
        1 => {
            dynasm!(a.ops ; .arch x64 ; test eax, 1 << 29);
            false
        }
        2 => {
            dynasm!(a.ops ; .arch x64 ; test eax, 0x8000_0000u32 as i32);
            false
        }
        3 => {
            dynasm!(a.ops ; .arch x64 ; test eax, 1 << 28);
            false
        }
        4 => {
            // HI: C set and Z clear.
            dynasm!(a.ops
                ; .arch x64
                ; and eax, 0x6000_0000
                ; cmp eax, 0x2000_0000
            );
            true
        }
        5 => {
            // GE: N == V.
            dynasm!(a.ops
                ; .arch x64
                ; mov ecx, eax
                ; shr ecx, 3
                ; xor ecx, eax
                ; test ecx, 1 << 28
            );
            true
        }
        _ => {
            // GT: Z clear and N == V.
            dynasm!(a.ops
                ; .arch x64
                ; mov ecx, eax
                ; shr ecx, 3
                ; xor ecx, eax
                ; and ecx, 1 << 28
                ; and eax, 1 << 30
                ; or ecx, eax
            );
            true
        }
    };
    Some(if c & 1 == 1 { !holds_on_zf } else { holds_on_zf })
}

/// Jump to `l` when the condition evaluated by [`cond`] holds (`holds_on_zf`).
fn jump_if(a: &mut Asm, holds_on_zf: bool, l: DynamicLabel) {
    if holds_on_zf {
        dynasm!(a.ops ; .arch x64 ; jz =>l);
    } else {
        dynasm!(a.ops ; .arch x64 ; jnz =>l);
    }
}

/// DecodeBitMasks (Arm ARM) for a logical immediate: the `wmask`, or None if reserved.
fn bit_masks(n: u32, imms: u32, immr: u32, sf: bool) -> Option<u64> {
    let v = (n << 6) | (!imms & 0x3f);
    if v <= 1 {
        return None;
    }
    let len = 31 - v.leading_zeros();
    let levels = (1u32 << len) - 1;
    if imms & levels == levels {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let esize = 1u32 << len;
    let emask = if esize == 64 { u64::MAX } else { (1u64 << esize) - 1 };
    let welem = (1u64 << (s + 1)) - 1;
    let rot = if r == 0 { welem } else { ((welem >> r) | (welem << (esize - r))) & emask };
    let mut v = 0u64;
    let mut i = 0;
    while i < 64 {
        v |= rot << i;
        i += esize;
    }
    Some(if sf { v } else { v & 0xffff_ffff })
}

/// Kinds of single-register general loads and stores (size:opc of the Arm ARM).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Acc {
    Store,
    /// Zero-extending load (W or X: the same for a zero-extended value).
    Load,
    /// Sign-extending load into X (`x`) or W.
    LoadSigned {
        x: bool,
    },
    Prefetch,
    /// Store the low bytes of a V register.
    VStore,
    /// Load into a V register, zeroing the rest of it.
    VLoad,
}

/// size:opc (and the V bit) of the single-register classes: the access and log2 of its size.
fn decode_acc(size: u32, opc: u32, v: bool) -> Option<(Acc, u32)> {
    if v {
        return Some(match (opc, size) {
            (0, _) => (Acc::VStore, size),
            (1, _) => (Acc::VLoad, size),
            (2, 0) => (Acc::VStore, 4),
            (3, 0) => (Acc::VLoad, 4),
            _ => return None,
        });
    }
    Some((decode_gpr_acc(size, opc)?, size))
}

fn decode_gpr_acc(size: u32, opc: u32) -> Option<Acc> {
    Some(match (opc, size) {
        (0, _) => Acc::Store,
        (1, _) => Acc::Load,
        (2, 3) => Acc::Prefetch,
        (2, _) => Acc::LoadSigned { x: true },
        (3, 0 | 1) => Acc::LoadSigned { x: false },
        _ => return None,
    })
}

/// How the address of a single-register access is formed.
#[derive(Clone, Copy)]
enum Addr {
    /// Base register plus a constant; `wb`: 0 none, 1 post-index, 3 pre-index.
    Imm { n: u32, imm: u64, wb: u32 },
    /// Base register plus an extended index register.
    Reg { n: u32, m: u32, option: u32, shift: u32 },
    /// A constant (PC-relative literal).
    Const(u64),
}

impl<'s> Translator<'s> {
    pub fn new(slots: &'s [Cell<usize>], helper: usize) -> Translator<'s> {
        Translator { pending: 0, ended: false, pc_current: false, slots, succ: [0; 2], helper, slow: Vec::new() }
    }

    /// The guest pc each chaining slot leads to.
    pub fn successors(&self) -> [u64; 2] {
        self.succ
    }

    /// The block's exits are emitted.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Bring the icount in memory up to date.
    pub fn sync_icount(&mut self, a: &mut Asm) {
        a.add_icount(self.pending);
        self.pending = 0;
    }

    /// Run `op` through its handler.
    pub fn call(&mut self, a: &mut Asm, op: &Op) {
        self.sync_icount(a);
        a.call_helper(self.helper, op as *const Op as u64);
        self.pc_current = true;
    }

    /// Emit the slow paths of the block's inlined memory accesses.
    pub fn slow_paths(&mut self, a: &mut Asm) {
        for s in std::mem::take(&mut self.slow) {
            a.bind(s.label);
            a.add_icount(s.pending);
            a.call_helper(self.helper, s.op as u64);
            a.add_icount(-(s.pending + 1));
            dynasm!(a.ops ; .arch x64 ; jmp =>s.back);
        }
    }

    /// Leave through slot `i` to the constant guest pc `target`. The pc in guest state is
    /// not written: a chained successor does not need it (its failed entry check and the
    /// slot's stub write it).
    fn exit_direct(&mut self, a: &mut Asm, target: u64, i: usize) {
        self.succ[i] = target;
        a.jump_slot(self.slots[i].as_ptr());
    }

    /// Leave after the block's last instruction when it was not an inlined branch: to its
    /// successor `next` through slot 1, or (after a handler that branched) to the pc in
    /// guest state through the lookup table.
    pub fn exit_to_state_pc(&mut self, a: &mut Asm, next: u64) {
        self.sync_icount(a);
        if !self.pc_current {
            self.exit_direct(a, next, 1);
            return;
        }
        let other = a.label();
        dynasm!(a.ops
            ; .arch x64
            ; mov rax, QWORD [rbx + off::PC]
            ; mov rcx, QWORD next as i64
            ; cmp rax, rcx
            ; jne =>other
        );
        self.succ[1] = next;
        a.jump_slot(self.slots[1].as_ptr());
        a.bind(other);
        a.jump_lookup();
    }

    /// Emit `op` natively if it is one of the inlined forms; false leaves it to a helper.
    pub fn inline(&mut self, a: &mut Asm, op: &Op) -> bool {
        let w = op.d.word;
        let pc = op.d.pc;
        if self.branch(a, w, pc) {
            return true;
        }
        // HINT (NOP, YIELD, the PAC and BTI hints deja does not implement…): no effect.
        let hint = op.d.ins.opcode == deja_decoders::aarch64::Opcode::HINT;
        let done = hint || self.data_processing(a, w, pc) || self.load_store(a, op) || self.fp(a, op) || simd(a, w);
        if done {
            self.pending += 1;
            self.pc_current = false;
        }
        done
    }

    // ---- data processing ----

    fn data_processing(&mut self, a: &mut Asm, w: u32, pc: u64) -> bool {
        let sf = w >> 31 == 1;
        let rd = w & 31;
        let rn = (w >> 5) & 31;
        let rm = (w >> 16) & 31;
        match (w >> 23) & 0x3f {
            // Add/subtract (immediate).
            0b100010 => {
                let sub = (w >> 30) & 1 == 1;
                let s = (w >> 29) & 1 == 1;
                let imm = (((w >> 10) & 0xfff) << (12 * ((w >> 22) & 1))) as i32;
                load(a, RCX, rn, sf, true);
                if s || imm != 0 {
                    match (sub, sf) {
                        (false, true) => dynasm!(a.ops ; .arch x64 ; add rcx, imm),
                        (false, false) => dynasm!(a.ops ; .arch x64 ; add ecx, imm),
                        (true, true) => dynasm!(a.ops ; .arch x64 ; sub rcx, imm),
                        (true, false) => dynasm!(a.ops ; .arch x64 ; sub ecx, imm),
                    }
                }
                if s {
                    nzcv_from_host(a, sub);
                }
                store(a, RCX, rd, sf, !s);
                return true;
            }
            // Logical (immediate).
            0b100100 => {
                let opc = (w >> 29) & 3;
                let Some(imm) = bit_masks((w >> 22) & 1, (w >> 10) & 0x3f, (w >> 16) & 0x3f, sf) else {
                    return false;
                };
                if !sf && (w >> 22) & 1 == 1 {
                    return false;
                }
                load(a, RCX, rn, sf, false);
                mov_const(a, RDX, imm);
                alu(a, [2, 3, 4, 2][opc as usize], sf);
                if opc == 3 {
                    nzcv_from_host(a, false);
                }
                store(a, RCX, rd, sf, opc != 3);
                return true;
            }
            // Move wide (immediate).
            0b100101 => {
                let opc = (w >> 29) & 3;
                let hw = (w >> 21) & 3;
                if opc == 1 || (!sf && hw >= 2) {
                    return false;
                }
                let imm = ((w >> 5) & 0xffff) as u64;
                let s = 16 * hw;
                match opc {
                    0 => {
                        let v = !(imm << s);
                        store_const(a, rd, if sf { v } else { v & 0xffff_ffff });
                    }
                    2 => store_const(a, rd, imm << s),
                    _ => {
                        if rd != 31 {
                            let o = off::x(rd) + 2 * hw as i32;
                            dynasm!(a.ops ; .arch x64 ; mov WORD [rbx + o], imm as i16);
                            if !sf {
                                let hi = off::x(rd) + 4;
                                dynasm!(a.ops ; .arch x64 ; mov DWORD [rbx + hi], 0);
                            }
                        }
                    }
                }
                return true;
            }
            // Bitfield: SBFM, UBFM (BFM goes to its handler).
            0b100110 => {
                let opc = (w >> 29) & 3;
                let nbit = (w >> 22) & 1;
                let r = (w >> 16) & 0x3f;
                let s = (w >> 10) & 0x3f;
                if (opc != 0 && opc != 2) || nbit != sf as u32 || (!sf && (r >= 32 || s >= 32)) {
                    return false;
                }
                let width = if sf { 64 } else { 32 };
                load(a, RCX, rn, sf, false);
                let lsh = 63 - s;
                let rsh = if s >= r { 63 - s + r } else { 63 - s - (width - r) };
                if lsh != 0 {
                    dynasm!(a.ops ; .arch x64 ; shl rcx, lsh as i8);
                }
                if rsh != 0 {
                    if opc == 0 {
                        dynasm!(a.ops ; .arch x64 ; sar rcx, rsh as i8);
                    } else {
                        dynasm!(a.ops ; .arch x64 ; shr rcx, rsh as i8);
                    }
                }
                store(a, RCX, rd, sf, false);
                return true;
            }
            _ => {}
        }
        match (w >> 24) & 0x1f {
            // PC-relative addressing.
            0b10000 => {
                let imm = sext(((((w >> 5) & 0x7ffff) << 2) | ((w >> 29) & 3)) as u64, 21);
                let v = if sf { (pc & !0xfff).wrapping_add(imm << 12) } else { pc.wrapping_add(imm) };
                store_const(a, rd, v);
                return true;
            }
            // Logical (shifted register).
            0b01010 => {
                let opc = (w >> 29) & 3;
                let shift = (w >> 22) & 3;
                let imm6 = (w >> 10) & 0x3f;
                if !sf && imm6 >= 32 {
                    return false;
                }
                load(a, RCX, rn, sf, false);
                load(a, RDX, rm, sf, false);
                shift_const(a, RDX, shift, imm6, sf);
                if (w >> 21) & 1 == 1 {
                    if sf {
                        dynasm!(a.ops ; .arch x64 ; not rdx);
                    } else {
                        dynasm!(a.ops ; .arch x64 ; not edx);
                    }
                }
                alu(a, [2, 3, 4, 2][opc as usize], sf);
                if opc == 3 {
                    nzcv_from_host(a, false);
                }
                store(a, RCX, rd, sf, false);
                return true;
            }
            // Add/subtract (shifted register, extended register).
            0b01011 => {
                let sub = (w >> 30) & 1 == 1;
                let s = (w >> 29) & 1 == 1;
                if (w >> 21) & 1 == 0 {
                    let shift = (w >> 22) & 3;
                    let imm6 = (w >> 10) & 0x3f;
                    if shift == 3 || (!sf && imm6 >= 32) {
                        return false;
                    }
                    load(a, RCX, rn, sf, false);
                    load(a, RDX, rm, sf, false);
                    shift_const(a, RDX, shift, imm6, sf);
                    alu(a, sub as u32, sf);
                    if s {
                        nzcv_from_host(a, sub);
                    }
                    store(a, RCX, rd, sf, false);
                } else {
                    let imm3 = (w >> 10) & 7;
                    if (w >> 22) & 3 != 0 || imm3 > 4 {
                        return false;
                    }
                    load(a, RCX, rn, sf, true);
                    load(a, RDX, rm, true, false);
                    extend(a, RDX, (w >> 13) & 7, imm3);
                    alu(a, sub as u32, sf);
                    if s {
                        nzcv_from_host(a, sub);
                    }
                    store(a, RCX, rd, sf, !s);
                }
                return true;
            }
            _ => {}
        }
        // Conditional select.
        if w & 0x3fe0_0800 == 0x1a80_0000 {
            let inv = (w >> 30) & 1 == 1;
            let o2 = (w >> 10) & 1 == 1;
            load(a, RSI, rn, sf, false);
            load(a, RDI, rm, sf, false);
            match (inv, o2, sf) {
                (false, false, _) => {}
                (false, true, true) => dynasm!(a.ops ; .arch x64 ; add rdi, 1),
                (false, true, false) => dynasm!(a.ops ; .arch x64 ; add edi, 1),
                (true, false, true) => dynasm!(a.ops ; .arch x64 ; not rdi),
                (true, false, false) => dynasm!(a.ops ; .arch x64 ; not edi),
                (true, true, true) => dynasm!(a.ops ; .arch x64 ; neg rdi),
                (true, true, false) => dynasm!(a.ops ; .arch x64 ; neg edi),
            }
            match cond(a, (w >> 12) & 15) {
                None => {}
                Some(true) => dynasm!(a.ops ; .arch x64 ; cmovnz rsi, rdi),
                Some(false) => dynasm!(a.ops ; .arch x64 ; cmovz rsi, rdi),
            }
            store(a, RSI, rd, sf, false);
            return true;
        }
        // EXTR (ROR immediate): (Rn:Rm) >> lsb.
        if w & 0x7fa0_0000 == 0x1380_0000 {
            let lsb = (w >> 10) & 0x3f;
            if (w >> 22) & 1 != sf as u32 || (!sf && lsb >= 32) {
                return false;
            }
            load(a, RCX, rn, sf, false);
            load(a, RDX, rm, sf, false);
            if lsb != 0 {
                if sf {
                    dynasm!(a.ops ; .arch x64 ; shrd rdx, rcx, lsb as i8);
                } else {
                    dynasm!(a.ops ; .arch x64 ; shrd edx, ecx, lsb as i8);
                }
            }
            store(a, RDX, rd, sf, false);
            return true;
        }
        // SMADDL SMSUBL UMADDL UMSUBL (SMULL UMULL…): Xa ± Wn * Wm, extended to 64 bits.
        if w & 0xff60_0000 == 0x9b20_0000 {
            let unsigned = (w >> 23) & 1 == 1;
            let ra = (w >> 10) & 31;
            load(a, RCX, rn, false, false);
            load(a, RDX, rm, false, false);
            if !unsigned {
                dynasm!(a.ops ; .arch x64 ; movsxd rcx, ecx ; movsxd rdx, edx);
            }
            load(a, RSI, ra, true, false);
            if (w >> 15) & 1 == 0 {
                dynasm!(a.ops ; .arch x64 ; imul rcx, rdx ; add rsi, rcx);
            } else {
                dynasm!(a.ops ; .arch x64 ; imul rcx, rdx ; sub rsi, rcx);
            }
            store(a, RSI, rd, true, false);
            return true;
        }
        // SMULH UMULH: the high half of the 128-bit product.
        if w & 0xff60_fc00 == 0x9b40_7c00 {
            load(a, RAX, rn, true, false);
            load(a, RCX, rm, true, false);
            if (w >> 23) & 1 == 1 {
                dynasm!(a.ops ; .arch x64 ; mul rcx);
            } else {
                dynasm!(a.ops ; .arch x64 ; imul rcx);
            }
            store(a, RDX, rd, true, false);
            return true;
        }
        // UDIV SDIV: x / 0 = 0, INT_MIN / -1 = INT_MIN (no trap, unlike the host's).
        if w & 0x7fe0_f800 == 0x1ac0_0800 {
            let signed = (w >> 10) & 1 == 1;
            let (zero, done, neg) = (a.label(), a.label(), a.label());
            load(a, RAX, rn, sf, false);
            load(a, RCX, rm, sf, false);
            match (signed, sf) {
                (false, true) => dynasm!(a.ops
                    ; .arch x64
                    ; test rcx, rcx ; jz =>zero
                    ; xor edx, edx ; div rcx ; jmp =>done
                ),
                (false, false) => dynasm!(a.ops
                    ; .arch x64
                    ; test ecx, ecx ; jz =>zero
                    ; xor edx, edx ; div ecx ; jmp =>done
                ),
                (true, true) => dynasm!(a.ops
                    ; .arch x64
                    ; test rcx, rcx ; jz =>zero
                    ; cmp rcx, -1 ; je =>neg
                    ; cqo ; idiv rcx ; jmp =>done
                    ; =>neg ; neg rax ; jmp =>done
                ),
                (true, false) => dynasm!(a.ops
                    ; .arch x64
                    ; test ecx, ecx ; jz =>zero
                    ; cmp ecx, -1 ; je =>neg
                    ; cdq ; idiv ecx ; jmp =>done
                    ; =>neg ; neg eax ; jmp =>done
                ),
            }
            dynasm!(a.ops ; .arch x64 ; =>zero ; xor eax, eax ; =>done);
            store(a, RAX, rd, sf, false);
            return true;
        }
        // Data-processing (1 source): CLZ (with LZCNT), REV (W and X).
        if w & 0x7fff_c000 == 0x5ac0_0000 {
            match ((w >> 10) & 0x3f, sf) {
                (4, _) if std::is_x86_feature_detected!("lzcnt") => {
                    load(a, RCX, rn, sf, false);
                    if sf {
                        dynasm!(a.ops ; .arch x64 ; lzcnt rcx, rcx);
                    } else {
                        dynasm!(a.ops ; .arch x64 ; lzcnt ecx, ecx);
                    }
                }
                (2, false) => {
                    load(a, RCX, rn, false, false);
                    dynasm!(a.ops ; .arch x64 ; bswap ecx);
                }
                (3, true) => {
                    load(a, RCX, rn, true, false);
                    dynasm!(a.ops ; .arch x64 ; bswap rcx);
                }
                _ => return false,
            }
            store(a, RCX, rd, sf, false);
            return true;
        }
        // Add/subtract with carry: ADC ADCS SBC SBCS (NGC NGCS). x86's carry in and out of
        // a subtraction is a borrow, A64's is "no borrow": complemented both ways.
        if w & 0x1fe0_fc00 == 0x1a00_0000 {
            let sub = (w >> 30) & 1 == 1;
            let s = (w >> 29) & 1 == 1;
            load(a, RCX, rn, sf, false);
            load(a, RDX, rm, sf, false);
            dynasm!(a.ops ; .arch x64 ; bt DWORD [rbx + off::NZCV], 29);
            match (sub, sf) {
                (false, true) => dynasm!(a.ops ; .arch x64 ; adc rcx, rdx),
                (false, false) => dynasm!(a.ops ; .arch x64 ; adc ecx, edx),
                (true, true) => dynasm!(a.ops ; .arch x64 ; cmc ; sbb rcx, rdx),
                (true, false) => dynasm!(a.ops ; .arch x64 ; cmc ; sbb ecx, edx),
            }
            if s {
                nzcv_from_host(a, sub);
            }
            store(a, RCX, rd, sf, false);
            return true;
        }
        // Conditional compare (register, immediate): CCMN, CCMP.
        if w & 0x3fe0_0410 == 0x3a40_0000 {
            let sub = (w >> 30) & 1 == 1;
            let done = a.label();
            let other = a.label();
            let holds = cond(a, (w >> 12) & 15);
            if let Some(z) = holds {
                jump_if(a, !z, other);
            }
            load(a, RCX, rn, sf, false);
            if (w >> 11) & 1 == 1 {
                mov_const(a, RDX, rm as u64);
            } else {
                load(a, RDX, rm, sf, false);
            }
            alu(a, sub as u32, sf);
            nzcv_from_host(a, sub);
            if holds.is_some() {
                dynasm!(a.ops ; .arch x64 ; jmp =>done ; =>other);
                let f = ((w & 15) << 28) as i32;
                dynasm!(a.ops
                    ; .arch x64
                    ; mov eax, f
                    ; mov QWORD [rbx + off::NZCV], rax
                );
            }
            a.bind(done);
            return true;
        }
        // Data-processing (3 source): MADD, MSUB.
        if w & 0x7fe0_0000 == 0x1b00_0000 {
            let ra = (w >> 10) & 31;
            load(a, RCX, rn, sf, false);
            load(a, RDX, rm, sf, false);
            load(a, RSI, ra, sf, false);
            match ((w >> 15) & 1 == 1, sf) {
                (false, true) => dynasm!(a.ops ; .arch x64 ; imul rcx, rdx ; add rsi, rcx),
                (false, false) => dynasm!(a.ops ; .arch x64 ; imul ecx, edx ; add esi, ecx),
                (true, true) => dynasm!(a.ops ; .arch x64 ; imul rcx, rdx ; sub rsi, rcx),
                (true, false) => dynasm!(a.ops ; .arch x64 ; imul ecx, edx ; sub esi, ecx),
            }
            store(a, RSI, rd, sf, false);
            return true;
        }
        // Data-processing (2 source): LSLV LSRV ASRV RORV (the host masks the count by the
        // width, as A64 does).
        if w & 0x7fe0_f000 == 0x1ac0_2000 {
            load(a, RDX, rn, sf, false);
            load(a, RCX, rm, sf, false);
            match ((w >> 10) & 3, sf) {
                (0, true) => dynasm!(a.ops ; .arch x64 ; shl rdx, cl),
                (0, false) => dynasm!(a.ops ; .arch x64 ; shl edx, cl),
                (1, true) => dynasm!(a.ops ; .arch x64 ; shr rdx, cl),
                (1, false) => dynasm!(a.ops ; .arch x64 ; shr edx, cl),
                (2, true) => dynasm!(a.ops ; .arch x64 ; sar rdx, cl),
                (2, false) => dynasm!(a.ops ; .arch x64 ; sar edx, cl),
                (_, true) => dynasm!(a.ops ; .arch x64 ; ror rdx, cl),
                (_, false) => dynasm!(a.ops ; .arch x64 ; ror edx, cl),
            }
            store(a, RDX, rd, sf, false);
            return true;
        }
        false
    }

    // ---- branches (always the block's last instruction) ----

    fn branch(&mut self, a: &mut Asm, w: u32, pc: u64) -> bool {
        let next = pc.wrapping_add(4);
        // B, BL.
        if w & 0x7c00_0000 == 0x1400_0000 {
            let target = pc.wrapping_add(sext(((w & 0x3ff_ffff) << 2) as u64, 28));
            if w >> 31 == 1 {
                store_const(a, 30, next);
            }
            self.pending += 1;
            self.sync_icount(a);
            self.exit_direct(a, target, 0);
            self.ended = true;
            return true;
        }
        // B.cond, CBZ/CBNZ, TBZ/TBNZ.
        let imm19_target = pc.wrapping_add(sext((((w >> 5) & 0x7ffff) << 2) as u64, 21));
        if w & 0xff00_0010 == 0x5400_0000 {
            let target = imm19_target;
            self.pending += 1;
            self.sync_icount(a);
            match cond(a, w & 15) {
                None => self.exit_direct(a, target, 0),
                Some(z) => {
                    let taken = a.label();
                    jump_if(a, z, taken);
                    self.exit_direct(a, next, 1);
                    a.bind(taken);
                    self.exit_direct(a, target, 0);
                }
            }
            self.ended = true;
            return true;
        }
        if w & 0x7e00_0000 == 0x3400_0000 || w & 0x7e00_0000 == 0x3600_0000 {
            let nz = (w >> 24) & 1 == 1;
            let rt = w & 31;
            let taken = a.label();
            let target;
            self.pending += 1;
            self.sync_icount(a);
            if w & 0x7e00_0000 == 0x3400_0000 {
                target = imm19_target;
                load(a, RCX, rt, w >> 31 == 1, false);
                dynasm!(a.ops ; .arch x64 ; test rcx, rcx);
                jump_if(a, !nz, taken);
            } else {
                target = pc.wrapping_add(sext((((w >> 5) & 0x3fff) << 2) as u64, 16));
                let bit = ((w >> 31) << 5) | ((w >> 19) & 31);
                load(a, RCX, rt, true, false);
                dynasm!(a.ops ; .arch x64 ; bt rcx, bit as i8);
                if nz {
                    dynasm!(a.ops ; .arch x64 ; jc =>taken);
                } else {
                    dynasm!(a.ops ; .arch x64 ; jnc =>taken);
                }
            }
            self.exit_direct(a, next, 1);
            a.bind(taken);
            self.exit_direct(a, target, 0);
            self.ended = true;
            return true;
        }
        // BR, BLR, RET.
        if matches!(w & 0xffff_fc1f, 0xd61f_0000 | 0xd63f_0000 | 0xd65f_0000) {
            load(a, RAX, (w >> 5) & 31, true, false);
            if w & 0xffff_fc1f == 0xd63f_0000 {
                store_const(a, 30, next);
            }
            self.pending += 1;
            self.sync_icount(a);
            dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + off::PC], rax);
            a.jump_lookup();
            self.ended = true;
            return true;
        }
        false
    }

    // ---- loads and stores of general registers ----

    fn load_store(&mut self, a: &mut Asm, op: &Op) -> bool {
        let w = op.d.word;
        let t = w & 31;
        let n = (w >> 5) & 31;
        let size = w >> 30;
        let opc = (w >> 22) & 3;
        let v = (w >> 26) & 1 == 1;
        // Load register (literal).
        if w & 0x3b00_0000 == 0x1800_0000 {
            let addr = op.d.pc.wrapping_add(sext(((w >> 5) & 0x7ffff) as u64, 19) << 2);
            let (acc, scale) = match (v, size) {
                (false, 0) => (Acc::Load, 2),
                (false, 1) => (Acc::Load, 3),
                (false, 2) => (Acc::LoadSigned { x: true }, 2),
                (false, _) => return true, // PRFM (literal): no effect
                (true, 3) => return false,
                (true, _) => (Acc::VLoad, 2 + size),
            };
            return self.single(a, op, acc, scale, t, Addr::Const(addr));
        }
        // Unsigned offset.
        if w & 0x3b00_0000 == 0x3900_0000 {
            let Some((acc, scale)) = decode_acc(size, opc, v) else { return false };
            if acc == Acc::Prefetch {
                return true;
            }
            let imm = (((w >> 10) & 0xfff) as u64) << scale;
            return self.single(a, op, acc, scale, t, Addr::Imm { n, imm, wb: 0 });
        }
        // imm9: unscaled, post-index, pre-index (unprivileged goes to the handler).
        if w & 0x3b20_0000 == 0x3800_0000 {
            let mode = (w >> 10) & 3;
            let Some((acc, scale)) = decode_acc(size, opc, v) else { return false };
            if mode == 2 || (acc == Acc::Prefetch && mode != 0) {
                return false;
            }
            if acc == Acc::Prefetch {
                return true;
            }
            let imm = sext(((w >> 12) & 0x1ff) as u64, 9);
            return self.single(a, op, acc, scale, t, Addr::Imm { n, imm, wb: mode });
        }
        // Register offset.
        if w & 0x3b20_0c00 == 0x3820_0800 {
            let option = (w >> 13) & 7;
            let Some((acc, scale)) = decode_acc(size, opc, v) else { return false };
            if option & 2 == 0 {
                return false;
            }
            if acc == Acc::Prefetch {
                return true;
            }
            let shift = if (w >> 12) & 1 == 1 { scale } else { 0 };
            return self.single(a, op, acc, scale, t, Addr::Reg { n, m: (w >> 16) & 31, option, shift });
        }
        // Load/store pair: opc 101 V 0 idx L imm7 Rt2 Rn Rt.
        if w & 0x3a00_0000 == 0x2800_0000 {
            return if v { self.pair_v(a, op) } else { self.pair(a, op) };
        }
        false
    }

    /// rdx = the base register (31: SP, which must be 16-byte aligned, else the slow path).
    fn base(&mut self, a: &mut Asm, n: u32, slow: DynamicLabel) {
        load(a, RDX, n, true, true);
        if n == 31 {
            dynasm!(a.ops ; .arch x64 ; test dl, 15 ; jnz =>slow);
        }
    }

    fn new_slow(&mut self, a: &mut Asm, op: &Op) -> (DynamicLabel, DynamicLabel) {
        let (label, back) = (a.label(), a.label());
        self.slow.push(Slow { label, back, op: op as *const Op, pending: self.pending });
        (label, back)
    }

    fn single(&mut self, a: &mut Asm, op: &Op, acc: Acc, scale: u32, t: u32, addr: Addr) -> bool {
        let (slow, back) = self.new_slow(a, op);
        let bytes = 1u32 << scale;
        // rax = address (rdx = base where there is one).
        match addr {
            Addr::Const(v) => mov_const(a, RAX, v),
            Addr::Imm { n, imm, wb } => {
                self.base(a, n, slow);
                let imm = imm as i64 as i32;
                if wb == 1 {
                    dynasm!(a.ops ; .arch x64 ; mov rax, rdx);
                } else {
                    dynasm!(a.ops ; .arch x64 ; lea rax, [rdx + imm]);
                }
            }
            Addr::Reg { n, m, option, shift } => {
                self.base(a, n, slow);
                load(a, RCX, m, true, false);
                extend(a, RCX, option, shift);
                dynasm!(a.ops ; .arch x64 ; lea rax, [rdx + rcx]);
            }
        }
        let need = if matches!(acc, Acc::Store | Acc::VStore) { flags::FASTW } else { flags::R };
        a.check_access(bytes, need, slow);
        match acc {
            Acc::Store => {
                load(a, RCX, t, true, false);
                match bytes {
                    1 => dynasm!(a.ops ; .arch x64 ; mov BYTE [r12 + rax], cl),
                    2 => dynasm!(a.ops ; .arch x64 ; mov WORD [r12 + rax], cx),
                    4 => dynasm!(a.ops ; .arch x64 ; mov DWORD [r12 + rax], ecx),
                    _ => dynasm!(a.ops ; .arch x64 ; mov QWORD [r12 + rax], rcx),
                }
            }
            Acc::Load => {
                match bytes {
                    1 => dynasm!(a.ops ; .arch x64 ; movzx ecx, BYTE [r12 + rax]),
                    2 => dynasm!(a.ops ; .arch x64 ; movzx ecx, WORD [r12 + rax]),
                    4 => dynasm!(a.ops ; .arch x64 ; mov ecx, DWORD [r12 + rax]),
                    _ => dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD [r12 + rax]),
                }
                store(a, RCX, t, true, false);
            }
            Acc::LoadSigned { x } => {
                match (bytes, x) {
                    (1, true) => dynasm!(a.ops ; .arch x64 ; movsx rcx, BYTE [r12 + rax]),
                    (1, false) => dynasm!(a.ops ; .arch x64 ; movsx ecx, BYTE [r12 + rax]),
                    (2, true) => dynasm!(a.ops ; .arch x64 ; movsx rcx, WORD [r12 + rax]),
                    (2, false) => dynasm!(a.ops ; .arch x64 ; movsx ecx, WORD [r12 + rax]),
                    _ => dynasm!(a.ops ; .arch x64 ; movsxd rcx, DWORD [r12 + rax]),
                }
                store(a, RCX, t, true, false);
            }
            Acc::VLoad => {
                let o = off::v(t);
                match bytes {
                    1 => dynasm!(a.ops ; .arch x64 ; movzx ecx, BYTE [r12 + rax]),
                    2 => dynasm!(a.ops ; .arch x64 ; movzx ecx, WORD [r12 + rax]),
                    4 => dynasm!(a.ops ; .arch x64 ; mov ecx, DWORD [r12 + rax]),
                    8 => dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD [r12 + rax]),
                    _ => dynasm!(a.ops ; .arch x64 ; movdqu xmm0, [r12 + rax] ; movdqu [rbx + o], xmm0),
                }
                if bytes < 16 {
                    dynasm!(a.ops
                        ; .arch x64
                        ; mov QWORD [rbx + o], rcx
                        ; mov QWORD [rbx + o + 8], 0
                    );
                }
            }
            Acc::VStore => {
                let o = off::v(t);
                if bytes < 16 {
                    dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD [rbx + o]);
                }
                match bytes {
                    1 => dynasm!(a.ops ; .arch x64 ; mov BYTE [r12 + rax], cl),
                    2 => dynasm!(a.ops ; .arch x64 ; mov WORD [r12 + rax], cx),
                    4 => dynasm!(a.ops ; .arch x64 ; mov DWORD [r12 + rax], ecx),
                    8 => dynasm!(a.ops ; .arch x64 ; mov QWORD [r12 + rax], rcx),
                    _ => dynasm!(a.ops ; .arch x64 ; movdqu xmm0, [rbx + o] ; movdqu [r12 + rax], xmm0),
                }
            }
            Acc::Prefetch => {}
        }
        if let Addr::Imm { n, imm, wb } = addr {
            // Writeback after the load's register write (the writeback wins when Rt == Rn).
            if wb == 3 {
                store(a, RAX, n, true, true);
            } else if wb == 1 {
                let imm = imm as i64 as i32;
                dynasm!(a.ops ; .arch x64 ; lea rdx, [rdx + imm]);
                store(a, RDX, n, true, true);
            }
        }
        a.bind(back);
        true
    }

    /// LDP STP LDPSW LDNP STNP of general registers.
    fn pair(&mut self, a: &mut Asm, op: &Op) -> bool {
        let w = op.d.word;
        let opc = w >> 30;
        let idx = (w >> 23) & 3;
        let load_ = (w >> 22) & 1 == 1;
        let (scale, signed) = match opc {
            0 => (2, false),
            2 => (3, false),
            1 if load_ && idx != 0 => (2, true),
            _ => return false,
        };
        let (t, t2, n) = (w & 31, (w >> 10) & 31, (w >> 5) & 31);
        let off = (sext(((w >> 15) & 0x7f) as u64, 7) << scale) as i64 as i32;
        let (slow, back) = self.new_slow(a, op);
        self.base(a, n, slow);
        if idx == 1 {
            dynasm!(a.ops ; .arch x64 ; mov rax, rdx);
        } else {
            dynasm!(a.ops ; .arch x64 ; lea rax, [rdx + off]);
        }
        let need = if load_ { flags::R } else { flags::FASTW };
        a.check_access(2 << scale, need, slow);
        match (load_, scale, signed) {
            (true, 3, _) => dynasm!(a.ops
                ; .arch x64
                ; mov rcx, QWORD [r12 + rax]
                ; mov rsi, QWORD [r12 + rax + 8]
            ),
            (true, _, false) => dynasm!(a.ops
                ; .arch x64
                ; mov ecx, DWORD [r12 + rax]
                ; mov esi, DWORD [r12 + rax + 4]
            ),
            (true, _, true) => dynasm!(a.ops
                ; .arch x64
                ; movsxd rcx, DWORD [r12 + rax]
                ; movsxd rsi, DWORD [r12 + rax + 4]
            ),
            (false, 3, _) => {
                load(a, RCX, t, true, false);
                load(a, RSI, t2, true, false);
                dynasm!(a.ops
                    ; .arch x64
                    ; mov QWORD [r12 + rax], rcx
                    ; mov QWORD [r12 + rax + 8], rsi
                );
            }
            (false, _, _) => {
                load(a, RCX, t, true, false);
                load(a, RSI, t2, true, false);
                dynasm!(a.ops
                    ; .arch x64
                    ; mov DWORD [r12 + rax], ecx
                    ; mov DWORD [r12 + rax + 4], esi
                );
            }
        }
        if load_ {
            // As the handler: Rt2 first, then Rt.
            store(a, RSI, t2, true, false);
            store(a, RCX, t, true, false);
        }
        if idx & 1 == 1 {
            dynasm!(a.ops ; .arch x64 ; lea rdx, [rdx + off]);
            store(a, RDX, n, true, true);
        }
        a.bind(back);
        true
    }

    /// LDP STP LDNP STNP of S, D and Q registers.
    fn pair_v(&mut self, a: &mut Asm, op: &Op) -> bool {
        let w = op.d.word;
        let scale = match w >> 30 {
            0 => 2,
            1 => 3,
            2 => 4,
            _ => return false,
        };
        let idx = (w >> 23) & 3;
        let load_ = (w >> 22) & 1 == 1;
        let (t, t2, n) = (w & 31, (w >> 10) & 31, (w >> 5) & 31);
        let off = (sext(((w >> 15) & 0x7f) as u64, 7) << scale) as i64 as i32;
        let (slow, back) = self.new_slow(a, op);
        self.base(a, n, slow);
        if idx == 1 {
            dynasm!(a.ops ; .arch x64 ; mov rax, rdx);
        } else {
            dynasm!(a.ops ; .arch x64 ; lea rax, [rdx + off]);
        }
        let need = if load_ { flags::R } else { flags::FASTW };
        a.check_access(2 << scale, need, slow);
        let (ot, ot2) = (off::v(t), off::v(t2));
        match (load_, scale) {
            // As the handler: Rt first, then Rt2.
            (true, 4) => dynasm!(a.ops
                ; .arch x64
                ; movdqu xmm0, [r12 + rax]
                ; movdqu xmm1, [r12 + rax + 16]
                ; movdqu [rbx + ot], xmm0
                ; movdqu [rbx + ot2], xmm1
            ),
            (true, 3) => dynasm!(a.ops
                ; .arch x64
                ; mov rcx, QWORD [r12 + rax]
                ; mov rsi, QWORD [r12 + rax + 8]
                ; mov QWORD [rbx + ot], rcx
                ; mov QWORD [rbx + ot + 8], 0
                ; mov QWORD [rbx + ot2], rsi
                ; mov QWORD [rbx + ot2 + 8], 0
            ),
            (true, _) => dynasm!(a.ops
                ; .arch x64
                ; mov ecx, DWORD [r12 + rax]
                ; mov esi, DWORD [r12 + rax + 4]
                ; mov QWORD [rbx + ot], rcx
                ; mov QWORD [rbx + ot + 8], 0
                ; mov QWORD [rbx + ot2], rsi
                ; mov QWORD [rbx + ot2 + 8], 0
            ),
            (false, 4) => dynasm!(a.ops
                ; .arch x64
                ; movdqu xmm0, [rbx + ot]
                ; movdqu xmm1, [rbx + ot2]
                ; movdqu [r12 + rax], xmm0
                ; movdqu [r12 + rax + 16], xmm1
            ),
            (false, 3) => dynasm!(a.ops
                ; .arch x64
                ; mov rcx, QWORD [rbx + ot]
                ; mov rsi, QWORD [rbx + ot2]
                ; mov QWORD [r12 + rax], rcx
                ; mov QWORD [r12 + rax + 8], rsi
            ),
            (false, _) => dynasm!(a.ops
                ; .arch x64
                ; mov ecx, DWORD [rbx + ot]
                ; mov esi, DWORD [rbx + ot2]
                ; mov DWORD [r12 + rax], ecx
                ; mov DWORD [r12 + rax + 4], esi
            ),
        }
        if idx & 1 == 1 {
            dynasm!(a.ops ; .arch x64 ; lea rdx, [rdx + off]);
            store(a, RDX, n, true, true);
        }
        a.bind(back);
        true
    }

    // ---- scalar floating point ----

    /// FMOV between general and FP registers and between FP registers; FADD FSUB FMUL FDIV
    /// FMADD FMSUB FNMADD FNMSUB FCMP FCMPE of S and D registers.
    ///
    /// The arithmetic runs on the host (SSE2, FMA3 for the fused forms) only where the host's
    /// result is the A64 result and the FPSR does not change: FPCR is 0 (round to nearest, no
    /// flush-to-zero, no default NaN), FPSR.IXC is already set (the handler sets it the first
    /// time), and the result is finite and above the minimum normal magnitude. Such a result
    /// raised no exception but inexact: invalid operations and NaN operands give a NaN (whose
    /// rules differ), divide by zero and overflow an infinity, and an underflow a zero, a
    /// subnormal or the minimum normal (A64 detects tininess before rounding). Everything else
    /// is the slow path: the handler performs the instruction. No MXCSR access.
    fn fp(&mut self, a: &mut Asm, op: &Op) -> bool {
        let w = op.d.word;
        let (d, n, m) = (w & 31, (w >> 5) & 31, (w >> 16) & 31);
        // FMOV (general): Wd <- Sn, Sd <- Wn, Xd <- Dn, Dd <- Xn.
        match w & 0xffff_fc00 {
            0x1e26_0000 | 0x9e66_0000 => {
                let sf = w >> 31 == 1;
                if sf {
                    dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD [rbx + off::v(n)]);
                } else {
                    dynasm!(a.ops ; .arch x64 ; mov ecx, DWORD [rbx + off::v(n)]);
                }
                store(a, RCX, d, true, false);
                return true;
            }
            0x1e27_0000 | 0x9e67_0000 => {
                load(a, RCX, n, w >> 31 == 1, false);
                let o = off::v(d);
                dynasm!(a.ops
                    ; .arch x64
                    ; mov QWORD [rbx + o], rcx
                    ; mov QWORD [rbx + o + 8], 0
                );
                return true;
            }
            _ => {}
        }
        let ftype = (w >> 22) & 3;
        if ftype > 1 {
            return false;
        }
        let dbl = ftype == 1;
        // FMOV (register).
        if w & 0xff3f_fc00 == 0x1e20_4000 {
            let o = off::v(d);
            if dbl {
                dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD [rbx + off::v(n)]);
            } else {
                dynasm!(a.ops ; .arch x64 ; mov ecx, DWORD [rbx + off::v(n)]);
            }
            dynasm!(a.ops
                ; .arch x64
                ; mov QWORD [rbx + o], rcx
                ; mov QWORD [rbx + o + 8], 0
            );
            return true;
        }
        // FCMP, FCMPE (register or zero).
        if w & 0xff20_fc07 == 0x1e20_2000 {
            let (slow, back) = self.new_slow(a, op);
            dynasm!(a.ops ; .arch x64 ; cmp QWORD [rbx + off::FPCR], 0 ; jne =>slow);
            load_fp(a, 0, n, dbl);
            if (w >> 3) & 1 == 1 {
                dynasm!(a.ops ; .arch x64 ; xorps xmm1, xmm1);
            } else {
                load_fp(a, 1, m, dbl);
            }
            if dbl {
                dynasm!(a.ops ; .arch x64 ; ucomisd xmm0, xmm1);
            } else {
                dynasm!(a.ops ; .arch x64 ; ucomiss xmm0, xmm1);
            }
            // Unordered (a NaN: exceptions, NZCV 0011) goes to the handler; equal 0110,
            // less 1000, greater 0010.
            dynasm!(a.ops
                ; .arch x64
                ; jp =>slow
                ; mov ecx, 0x2000_0000
                ; mov edx, 0x8000_0000u32 as i32
                ; cmovb ecx, edx
                ; mov edx, 0x6000_0000
                ; cmove ecx, edx
                ; mov QWORD [rbx + off::NZCV], rcx
            );
            a.bind(back);
            return true;
        }
        // FMUL FDIV FADD FSUB (scalar).
        let two = w & 0xff20_cc00 == 0x1e20_0800;
        // FMADD FMSUB FNMADD FNMSUB.
        let three = w & 0xff00_0000 == 0x1f00_0000;
        if !two && !three {
            return false;
        }
        if three && !std::is_x86_feature_detected!("fma") {
            return false;
        }
        let (slow, back) = self.new_slow(a, op);
        dynasm!(a.ops
            ; .arch x64
            ; cmp QWORD [rbx + off::FPCR], 0
            ; jne =>slow
            ; test BYTE [rbx + off::FPSR], 0x10
            ; jz =>slow
        );
        load_fp(a, 0, n, dbl);
        load_fp(a, 1, m, dbl);
        if three {
            load_fp(a, 2, (w >> 10) & 31, dbl);
        }
        if two {
            match ((w >> 12) & 3, dbl) {
                (0, true) => dynasm!(a.ops ; .arch x64 ; mulsd xmm0, xmm1),
                (0, false) => dynasm!(a.ops ; .arch x64 ; mulss xmm0, xmm1),
                (1, true) => dynasm!(a.ops ; .arch x64 ; divsd xmm0, xmm1),
                (1, false) => dynasm!(a.ops ; .arch x64 ; divss xmm0, xmm1),
                (2, true) => dynasm!(a.ops ; .arch x64 ; addsd xmm0, xmm1),
                (2, false) => dynasm!(a.ops ; .arch x64 ; addss xmm0, xmm1),
                (_, true) => dynasm!(a.ops ; .arch x64 ; subsd xmm0, xmm1),
                (_, false) => dynasm!(a.ops ; .arch x64 ; subss xmm0, xmm1),
            }
        } else {
            // xmm2 = Ra; FMADD Ra + Rn*Rm, FMSUB Ra - Rn*Rm, FNMADD -Ra - Rn*Rm,
            // FNMSUB -Ra + Rn*Rm (each one rounding).
            match ((w >> 21) & 1, (w >> 15) & 1, dbl) {
                (0, 0, true) => dynasm!(a.ops ; .arch x64 ; vfmadd231sd xmm2, xmm0, xmm1),
                (0, 0, false) => dynasm!(a.ops ; .arch x64 ; vfmadd231ss xmm2, xmm0, xmm1),
                (0, _, true) => dynasm!(a.ops ; .arch x64 ; vfnmadd231sd xmm2, xmm0, xmm1),
                (0, _, false) => dynasm!(a.ops ; .arch x64 ; vfnmadd231ss xmm2, xmm0, xmm1),
                (_, 0, true) => dynasm!(a.ops ; .arch x64 ; vfnmsub231sd xmm2, xmm0, xmm1),
                (_, 0, false) => dynasm!(a.ops ; .arch x64 ; vfnmsub231ss xmm2, xmm0, xmm1),
                (_, _, true) => dynasm!(a.ops ; .arch x64 ; vfmsub231sd xmm2, xmm0, xmm1),
                (_, _, false) => dynasm!(a.ops ; .arch x64 ; vfmsub231ss xmm2, xmm0, xmm1),
            }
            dynasm!(a.ops ; .arch x64 ; movaps xmm0, xmm2);
        }
        // The result decides: finite and above the minimum normal magnitude means no
        // exception but inexact (invalid and NaN operands give a NaN, divide by zero and
        // overflow an infinity, underflow a zero, a subnormal or the minimum normal).
        let o = off::v(d);
        if dbl {
            dynasm!(a.ops
                ; .arch x64
                ; movq rcx, xmm0
                ; mov rax, rcx
                ; shl rax, 1
                ; mov rdx, QWORD 0x0020_0000_0000_0000
                ; cmp rax, rdx
                ; jbe =>slow
                ; mov rdx, QWORD 0xffe0_0000_0000_0000u64 as i64
                ; cmp rax, rdx
                ; jae =>slow
            );
        } else {
            dynasm!(a.ops
                ; .arch x64
                ; movd ecx, xmm0
                ; lea eax, [rcx + rcx]
                ; cmp eax, 0x0100_0000
                ; jbe =>slow
                ; cmp eax, 0xff00_0000u32 as i32
                ; jae =>slow
            );
        }
        dynasm!(a.ops
            ; .arch x64
            ; mov QWORD [rbx + o], rcx
            ; mov QWORD [rbx + o + 8], 0
        );
        a.bind(back);
        true
    }
}

/// Host xmm`x` = the S or D register `n` (low lanes).
fn load_fp(a: &mut Asm, x: u8, n: u32, dbl: bool) {
    let o = off::v(n);
    if dbl {
        dynasm!(a.ops ; .arch x64 ; movsd Rx(x), QWORD [rbx + o]);
    } else {
        dynasm!(a.ops ; .arch x64 ; movss Rx(x), DWORD [rbx + o]);
    }
}

/// Advanced SIMD: the bitwise ops (AND BIC ORR ORN EOR), CMEQ (register, zero), CMHS, and
/// UMAXP UMINP of bytes, on SSE2/SSE4.1 (no exceptions, no rounding: always exact). A 64-bit
/// vector (Q = 0) zeroes the upper half of the destination.
fn simd(a: &mut Asm, w: u32) -> bool {
    let (d, n, m) = (w & 31, (w >> 5) & 31, (w >> 16) & 31);
    let q = (w >> 30) & 1 == 1;
    let size = (w >> 22) & 3;
    let sse41 = std::is_x86_feature_detected!("sse4.1");
    // Three same: 0 Q U 01110 size 1 Rm opcode 1 Rn Rd.
    let three = w & 0x9f20_0400 == 0x0e20_0400;
    let u = (w >> 29) & 1 == 1;
    let opcode = (w >> 11) & 0x1f;
    // CMEQ (zero): 0 Q 0 01110 size 10000 01001 10 Rn Rd.
    let cmeq0 = w & 0xbf3f_fc00 == 0x0e20_9800;
    let kind = if cmeq0 {
        Some(0)
    } else if !three {
        None
    } else {
        match (u, opcode) {
            (_, 0b00011) => Some(1),                 // logical
            (true, 0b10001) => Some(0),              // CMEQ
            (true, 0b00111) => Some(2),              // CMHS
            (_, 0b10000) => Some(5),                 // ADD, SUB
            (true, 0b10100) if size == 0 => Some(3), // UMAXP .8b/.16b
            (true, 0b10101) if size == 0 => Some(4), // UMINP .8b/.16b
            _ => None,
        }
    };
    let Some(kind) = kind else { return simd_shift(a, w) || popcount(a, w) };
    // Which operations the host has for this element size.
    match kind {
        0 if size == 3 && !sse41 => return false,
        2 if size == 3 || (size > 0 && !sse41) => return false,
        1 if u && size != 0 => return false, // BSL BIT BIF
        _ => {}
    }
    if !q && size == 3 && kind != 1 {
        return false; // reserved (.1d)
    }
    let (on, om, od) = (off::v(n), off::v(m), off::v(d));
    dynasm!(a.ops ; .arch x64 ; movdqu xmm0, [rbx + on]);
    if kind == 0 && cmeq0 {
        dynasm!(a.ops ; .arch x64 ; pxor xmm1, xmm1);
    } else {
        dynasm!(a.ops ; .arch x64 ; movdqu xmm1, [rbx + om]);
    }
    match kind {
        0 => match size {
            0 => dynasm!(a.ops ; .arch x64 ; pcmpeqb xmm0, xmm1),
            1 => dynasm!(a.ops ; .arch x64 ; pcmpeqw xmm0, xmm1),
            2 => dynasm!(a.ops ; .arch x64 ; pcmpeqd xmm0, xmm1),
            _ => dynasm!(a.ops ; .arch x64 ; pcmpeqq xmm0, xmm1),
        },
        1 => match (u, size) {
            (false, 0) => dynasm!(a.ops ; .arch x64 ; pand xmm0, xmm1),
            (false, 1) => dynasm!(a.ops ; .arch x64 ; pandn xmm1, xmm0 ; movdqa xmm0, xmm1),
            (false, 2) => dynasm!(a.ops ; .arch x64 ; por xmm0, xmm1),
            (false, _) => dynasm!(a.ops
                ; .arch x64
                ; pcmpeqb xmm2, xmm2
                ; pxor xmm1, xmm2
                ; por xmm0, xmm1
            ),
            _ => dynasm!(a.ops ; .arch x64 ; pxor xmm0, xmm1),
        },
        // n >= m (unsigned) <=> max(n, m) == n.
        5 => match (u, size) {
            (false, 0) => dynasm!(a.ops ; .arch x64 ; paddb xmm0, xmm1),
            (false, 1) => dynasm!(a.ops ; .arch x64 ; paddw xmm0, xmm1),
            (false, 2) => dynasm!(a.ops ; .arch x64 ; paddd xmm0, xmm1),
            (false, _) => dynasm!(a.ops ; .arch x64 ; paddq xmm0, xmm1),
            (true, 0) => dynasm!(a.ops ; .arch x64 ; psubb xmm0, xmm1),
            (true, 1) => dynasm!(a.ops ; .arch x64 ; psubw xmm0, xmm1),
            (true, 2) => dynasm!(a.ops ; .arch x64 ; psubd xmm0, xmm1),
            (true, _) => dynasm!(a.ops ; .arch x64 ; psubq xmm0, xmm1),
        },
        2 => match size {
            0 => dynasm!(a.ops ; .arch x64 ; pmaxub xmm1, xmm0 ; pcmpeqb xmm0, xmm1),
            1 => dynasm!(a.ops ; .arch x64 ; pmaxuw xmm1, xmm0 ; pcmpeqw xmm0, xmm1),
            _ => dynasm!(a.ops ; .arch x64 ; pmaxud xmm1, xmm0 ; pcmpeqd xmm0, xmm1),
        },
        _ => {
            // Pairwise over the concatenation n:m (16 bytes; of their low halves for Q = 0):
            // the even and the odd bytes side by side, then the element-wise max or min.
            if !q {
                dynasm!(a.ops ; .arch x64 ; punpcklqdq xmm0, xmm1 ; movdqa xmm1, xmm0);
            }
            dynasm!(a.ops
                ; .arch x64
                ; pcmpeqw xmm7, xmm7
                ; psrlw xmm7, 8
                ; movdqa xmm2, xmm0
                ; movdqa xmm3, xmm1
                ; pand xmm2, xmm7
                ; pand xmm3, xmm7
                ; packuswb xmm2, xmm3
                ; psrlw xmm0, 8
                ; psrlw xmm1, 8
                ; packuswb xmm0, xmm1
            );
            if kind == 3 {
                dynasm!(a.ops ; .arch x64 ; pmaxub xmm0, xmm2);
            } else {
                dynasm!(a.ops ; .arch x64 ; pminub xmm0, xmm2);
            }
        }
    }
    if !q {
        dynasm!(a.ops ; .arch x64 ; movq xmm0, xmm0);
    }
    dynasm!(a.ops ; .arch x64 ; movdqu [rbx + od], xmm0);
    true
}

/// Advanced SIMD shift by immediate: SHL, USHR, SSHR of 16-, 32- and 64-bit elements
/// (SSHR: 16 and 32), on SSE2: 0 Q U 011110 immh immb opcode 1 Rn Rd.
fn simd_shift(a: &mut Asm, w: u32) -> bool {
    if w & 0x9f80_0400 != 0x0f00_0400 {
        return false;
    }
    let (d, n) = (w & 31, (w >> 5) & 31);
    let q = (w >> 30) & 1 == 1;
    let u = (w >> 29) & 1 == 1;
    let immh = (w >> 19) & 15;
    let imm = (w >> 16) & 0x7f; // immh:immb
    let esize = match immh {
        0 | 1 => return false, // other encodings, or 8-bit elements (no SSE byte shifts)
        2 | 3 => 16,
        4..=7 => 32,
        _ => 64,
    };
    if esize == 64 && !q {
        return false; // reserved
    }
    // kind: 0 SHL, 1 USHR, 2 SSHR.
    let (kind, sh) = match ((w >> 11) & 0x1f, u) {
        (0b01010, false) => (0, imm - esize),
        (0b00000, true) => (1, 2 * esize - imm),
        (0b00000, false) if esize < 64 => (2, 2 * esize - imm),
        _ => return false,
    };
    let sh = sh as i8;
    dynasm!(a.ops ; .arch x64 ; movdqu xmm0, [rbx + off::v(n)]);
    match (kind, esize) {
        (0, 16) => dynasm!(a.ops ; .arch x64 ; psllw xmm0, sh),
        (0, 32) => dynasm!(a.ops ; .arch x64 ; pslld xmm0, sh),
        (0, _) => dynasm!(a.ops ; .arch x64 ; psllq xmm0, sh),
        (1, 16) => dynasm!(a.ops ; .arch x64 ; psrlw xmm0, sh),
        (1, 32) => dynasm!(a.ops ; .arch x64 ; psrld xmm0, sh),
        (1, _) => dynasm!(a.ops ; .arch x64 ; psrlq xmm0, sh),
        (_, 16) => dynasm!(a.ops ; .arch x64 ; psraw xmm0, sh),
        (_, _) => dynasm!(a.ops ; .arch x64 ; psrad xmm0, sh),
    }
    if !q {
        dynasm!(a.ops ; .arch x64 ; movq xmm0, xmm0);
    }
    dynasm!(a.ops ; .arch x64 ; movdqu [rbx + off::v(d)], xmm0);
    true
}

/// CNT of bytes (SSSE3: a nibble table lookup) and ADDV of bytes: the population-count idiom
/// `cnt v.8b, v.8b; addv b, v.8b`.
fn popcount(a: &mut Asm, w: u32) -> bool {
    let (d, n) = (w & 31, (w >> 5) & 31);
    let q = (w >> 30) & 1 == 1;
    let (on, od) = (off::v(n), off::v(d));
    match w & 0xbfff_fc00 {
        // CNT .8b/.16b.
        0x0e20_5800 if std::is_x86_feature_detected!("ssse3") => {
            dynasm!(a.ops
                ; .arch x64
                ; movdqu xmm0, [rbx + on]
                ; mov rax, QWORD 0x0302_0201_0201_0100
                ; movq xmm7, rax
                ; mov rax, QWORD 0x0403_0302_0302_0201
                ; movq xmm6, rax
                ; punpcklqdq xmm7, xmm6
                ; mov eax, 0x0f0f_0f0f
                ; movd xmm5, eax
                ; pshufd xmm5, xmm5, 0
                ; movdqa xmm1, xmm0
                ; psrlw xmm1, 4
                ; pand xmm0, xmm5
                ; pand xmm1, xmm5
                ; movdqa xmm2, xmm7
                ; pshufb xmm7, xmm0
                ; pshufb xmm2, xmm1
                ; paddb xmm7, xmm2
            );
            if !q {
                dynasm!(a.ops ; .arch x64 ; movq xmm7, xmm7);
            }
            dynasm!(a.ops ; .arch x64 ; movdqu [rbx + od], xmm7);
            true
        }
        // ADDV of .8b/.16b: the sum modulo 256 into a B register.
        0x0e31_b800 => {
            dynasm!(a.ops ; .arch x64 ; movdqu xmm0, [rbx + on]);
            if !q {
                dynasm!(a.ops ; .arch x64 ; movq xmm0, xmm0);
            }
            dynasm!(a.ops
                ; .arch x64
                ; pxor xmm1, xmm1
                ; psadbw xmm0, xmm1
                ; pshufd xmm1, xmm0, 0x4e
                ; paddq xmm0, xmm1
                ; movd eax, xmm0
                ; movzx eax, al
                ; mov QWORD [rbx + od], rax
                ; mov QWORD [rbx + od + 8], 0
            );
            true
        }
        _ => false,
    }
}
