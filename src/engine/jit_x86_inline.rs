//! Native translation of the hot x86-64 instructions for the JIT (`jit_x86.rs`): x86 on
//! x86, so the host instruction computes the guest result and, where the block needs them,
//! the guest flags. Everything else is a call to the interpreter's handler.
//!
//! Guest registers stay in `X86State` (addressed from `rbx`); values pass through `rdx`
//! (first operand, result) and `rcx` (second operand), addresses through `rax`. The guest
//! rflags live in `r15` inside translated code (the backend writes them back at helper
//! calls and exits: `GUEST` in `jit_x86.rs`). Flags are captured into it (with `pushfq`)
//! only when live: an op whose `lite`
//! handler differs from its `fast` one has its flags proven dead by `elide_dead_flags`, and
//! a block is entered only when it runs to its end, where that proof holds. Flags the SDM
//! leaves undefined are never taken from the host: they get the interpreter's fixed values
//! (AF = 0 after logic ops, AF = 1 after shifts, OF of multi-bit shifts by formula), so
//! the JIT is exact on any host.
//!
//! A guest memory access gets the inline check of design §6 (`Asm::check_access`); when it
//! fails, an out-of-line slow path runs the whole instruction through its interpreter
//! handler (which does the full access and may fault), then resumes after it. Nothing is
//! written before the check passes, so the re-execution is exact.

// dynasm! expands dynamic registers (`Rq(h)`) into `h.into()`, a no-op on a u8.
#![allow(clippy::useless_conversion)]

use super::jit_x86::{helper_op, off};
use crate::isa::x86_64::predecode::{kind_of, size_of, Op, IMM, MEM, NONE, NO_FORM, REG};
use crate::isa::x86_64::state::{fl, reg};
use crate::mem::flags;
use deja_jit::dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};
use deja_jit::emit::Asm;
use iced_x86::Mnemonic as Mn;
use std::cell::Cell;

/// Value registers (host register numbers).
const A: u8 = 2; // rdx
const B: u8 = 1; // rcx

/// A deferred slow path: run `op` through its helper with the icount brought up to date
/// (`pending` inlined instructions precede it), then resume.
struct Slow {
    entry: DynamicLabel,
    resume: DynamicLabel,
    op: *const Op,
    pending: i32,
}

/// Translation state within one block.
pub struct Translator {
    /// Inlined instructions retired since the icount in memory was last brought up to date.
    pending: i32,
    slow: Vec<Slow>,
    /// The slow path of the op being translated, if it has a memory access.
    cur: Option<(DynamicLabel, DynamicLabel)>,
    /// Is the guest rip in memory the address after the last translated instruction? (A
    /// helper sets it; inlined instructions do not.)
    rip_current: bool,
    /// Do the host flags equal the guest status flags (the last instruction emitted
    /// captured them)? A jcc right after then branches on them directly.
    host_flags: bool,
}

impl Translator {
    pub fn new() -> Translator {
        Translator { pending: 0, slow: Vec::new(), cur: None, rip_current: false, host_flags: false }
    }

    /// Bring the icount in memory up to date.
    pub fn sync_icount(&mut self, a: &mut Asm) {
        a.add_icount(self.pending);
        self.pending = 0;
    }

    /// Run `op` through its interpreter handler.
    pub fn helper(&mut self, a: &mut Asm, op: &Op) {
        self.sync_icount(a);
        a.call_helper(helper_op as *const () as usize, op as *const Op as u64);
        self.rip_current = true;
        self.host_flags = false;
    }

    /// Emit `op` natively if it is one of the inlined forms (not a branch: see
    /// [`Translator::end`]); false leaves it to a helper (nothing was emitted).
    pub fn inline(&mut self, a: &mut Asm, op: &Op) -> bool {
        if op.form == NO_FORM || !inlinable(op) {
            return false;
        }
        self.cur = None;
        self.host_flags = false;
        let start = self.pending;
        self.emit(a, op);
        if let Some((_, resume)) = self.cur.take() {
            // The slow path rejoins here with other host flags.
            self.host_flags = false;
            a.bind(resume);
        }
        debug_assert_eq!(self.pending, start);
        self.pending += 1;
        self.rip_current = false;
        true
    }

    /// The end of the block after its last op `last` (which the caller has translated
    /// unless this returns true for an inlined branch). Leaves for the successors through
    /// `slots`, then emits the slow paths.
    pub fn end(&mut self, a: &mut Asm, last: &Op, translated: bool, slots: &[Cell<usize>], succ: &[u64]) {
        if !translated {
            self.branch(a, last, slots);
        } else {
            if !self.rip_current {
                store_rip(a, last.next_ip);
            }
            self.sync_icount(a);
            exit_to(a, succ, slots);
        }
        for s in std::mem::take(&mut self.slow) {
            a.bind(s.entry);
            a.add_icount(s.pending);
            a.call_helper(helper_op as *const () as usize, s.op as u64);
            a.add_icount(-(s.pending + 1));
            dynasm!(a.ops ; .arch x64 ; jmp =>s.resume);
        }
    }

    /// Can the block's last op be translated natively as a branch by [`Translator::end`]?
    pub fn is_inline_branch(op: &Op) -> bool {
        if op.form == NO_FORM {
            return false;
        }
        let k0 = kind_of(op.form, 0);
        match op.ins.mnemonic() {
            Mn::Jmp => k0 == IMM || (k0 == REG && size_of(op.form, 0) == 8),
            Mn::Call => k0 == IMM,
            Mn::Ret => op.form == 0,
            _ => op.ins.is_jcc_short_or_near(),
        }
    }

    /// The memory check for the current op's access of `size` bytes at the address in rax.
    fn guard(&mut self, a: &mut Asm, op: &Op, size: u32, need: u8) {
        let (entry, resume) = match self.cur {
            Some(x) => x,
            None => {
                let x = (a.label(), a.label());
                self.slow.push(Slow { entry: x.0, resume: x.1, op, pending: self.pending });
                self.cur = Some(x);
                x
            }
        };
        let _ = resume;
        if need.count_ones() == 1 {
            a.check_access(size, need, entry);
        } else {
            a.check_access(size, need, entry);
            // Every bit of `need`: check_access tested for any; test the rest.
            dynasm!(a.ops
                ; .arch x64
                ; mov cl, BYTE [r13 + rcx]
                ; and cl, need as i8
                ; cmp cl, need as i8
                ; jne =>entry
            );
        }
    }

    fn emit(&mut self, a: &mut Asm, op: &Op) {
        let f = op.form;
        let (k0, k1) = (kind_of(f, 0), kind_of(f, 1));
        let (s0, s1) = (size_of(f, 0), size_of(f, 1));
        let mn = op.ins.mnemonic();
        let live = op.lite as usize == op.fast as usize;
        match mn {
            Mn::Nop | Mn::Endbr64 => {}
            Mn::Mov => {
                // Source into A.
                match k1 {
                    REG => ld_gpr(a, A, op.r[1], s1),
                    IMM => ld_imm(a, A, op.imm, s0),
                    _ => {
                        ea(a, op);
                        self.guard(a, op, s1, flags::R);
                        ld_mem(a, A, s1, false);
                    }
                }
                if k0 == REG {
                    st_gpr(a, op.r[0], s0, A);
                } else {
                    ea(a, op);
                    self.guard(a, op, s0, flags::FASTW);
                    st_mem(a, s0, A);
                }
            }
            Mn::Movzx | Mn::Movsx | Mn::Movsxd => {
                let sx = mn != Mn::Movzx;
                if k1 == REG {
                    ld_gpr(a, A, op.r[1], s1);
                } else {
                    ea(a, op);
                    self.guard(a, op, s1, flags::R);
                    ld_mem(a, A, s1, false);
                }
                if sx {
                    sext(a, A, s1);
                }
                st_gpr(a, op.r[0], s0, A);
            }
            Mn::Lea => {
                ea(a, op);
                st_gpr(a, op.r[0], s0, 0);
            }
            Mn::Add | Mn::Sub | Mn::And | Mn::Or | Mn::Xor | Mn::Cmp | Mn::Test | Mn::Adc | Mn::Sbb => {
                let writes = !matches!(mn, Mn::Cmp | Mn::Test);
                // First operand into A (through memory: address kept in rax).
                if k0 == REG {
                    ld_gpr(a, A, op.r[0], s0);
                } else {
                    ea(a, op);
                    self.guard(a, op, s0, if writes { flags::R | flags::FASTW } else { flags::R });
                    ld_mem(a, A, s0, false);
                }
                let imm = match k1 {
                    REG => {
                        ld_gpr(a, B, op.r[1], s1);
                        None
                    }
                    IMM if s0 < 8 || op.imm as i64 == op.imm as i32 as i64 => Some(op.imm as i64),
                    IMM => {
                        ld_imm(a, B, op.imm, 8);
                        None
                    }
                    _ => {
                        ea(a, op);
                        self.guard(a, op, s1, flags::R);
                        ld_mem(a, B, s1, false);
                        None
                    }
                };
                alu(a, mn, s0, imm);
                let logic = matches!(mn, Mn::And | Mn::Or | Mn::Xor | Mn::Test);
                if live && logic {
                    // The host leaves AF undefined after logic ops: recompute the flags of
                    // the result with `add r, 0` (CF = OF = AF = 0, SF ZF PF of the result,
                    // the result unchanged), exactly the interpreter's.
                    alu(a, Mn::Add, s0, Some(0));
                }
                if writes {
                    if k0 == REG {
                        st_gpr(a, op.r[0], s0, A);
                    } else {
                        st_mem(a, s0, A);
                    }
                }
                if live {
                    self.host_flags = capture(a, matches!(mn, Mn::Sub | Mn::Cmp));
                }
            }
            Mn::Inc | Mn::Dec | Mn::Neg | Mn::Not => {
                if k0 == REG {
                    ld_gpr(a, A, op.r[0], s0);
                } else {
                    ea(a, op);
                    self.guard(a, op, s0, flags::R | flags::FASTW);
                    ld_mem(a, A, s0, false);
                }
                let live = live && mn != Mn::Not;
                if live && matches!(mn, Mn::Inc | Mn::Dec) {
                    // inc/dec keep CF: give the host the guest's, so all its flags are right.
                    dynasm!(a.ops ; .arch x64 ; bt r15, 0);
                }
                unary(a, mn, s0);
                if k0 == REG {
                    st_gpr(a, op.r[0], s0, A);
                } else {
                    st_mem(a, s0, A);
                }
                if live {
                    self.host_flags = capture(a, false);
                }
            }
            Mn::Shl | Mn::Sal | Mn::Shr | Mn::Sar => {
                let c = (op.imm as u32) & if s0 == 8 { 0x3f } else { 0x1f };
                ld_gpr(a, A, op.r[0], s0);
                if c == 0 {
                    // Flags unchanged; a 32-bit register is still written (zero-extended).
                    st_gpr(a, op.r[0], s0, A);
                    return;
                }
                shift(a, mn, s0, c as i8);
                st_gpr(a, op.r[0], s0, A);
                if live {
                    // SF ZF PF CF from the host; AF = 1; OF from the host for a count of
                    // 1, else shl: MSB(result) ^ CF, shr/sar: 0 (the interpreter's values).
                    let host = fl::CF | fl::PF | fl::ZF | fl::SF | if c == 1 { fl::OF } else { 0 };
                    capture_shift(a, host, c > 1 && matches!(mn, Mn::Shl | Mn::Sal));
                }
            }
            Mn::Push => {
                dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::gpr(reg::RSP as u8)] ; sub rax, 8);
                self.guard(a, op, 8, flags::FASTW);
                if k0 == REG {
                    ld_gpr(a, A, op.r[0], 8);
                } else {
                    ld_imm(a, A, op.imm, 8);
                }
                st_mem(a, 8, A);
                dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + off::gpr(reg::RSP as u8)], rax);
            }
            Mn::Pop => {
                dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::gpr(reg::RSP as u8)]);
                self.guard(a, op, 8, flags::R);
                ld_mem(a, A, 8, false);
                dynasm!(a.ops ; .arch x64 ; add rax, 8 ; mov QWORD [rbx + off::gpr(reg::RSP as u8)], rax);
                st_gpr(a, op.r[0], 8, A);
            }
            Mn::Setb
            | Mn::Setae
            | Mn::Sete
            | Mn::Setne
            | Mn::Setbe
            | Mn::Seta
            | Mn::Sets
            | Mn::Setns
            | Mn::Setp
            | Mn::Setnp
            | Mn::Setl
            | Mn::Setge
            | Mn::Setle
            | Mn::Setg
            | Mn::Seto
            | Mn::Setno => {
                let yes = a.label();
                let done = a.label();
                jump_if(a, op.cc, yes);
                dynasm!(a.ops ; .arch x64 ; mov BYTE [rbx + off::gpr(op.r[0])], 0 ; jmp =>done ; =>yes
                    ; mov BYTE [rbx + off::gpr(op.r[0])], 1 ; =>done);
            }
            _ if op.ins.condition_code() != iced_x86::ConditionCode::None => {
                // cmovcc r, r/m: the source is read (and may fault) whatever the condition;
                // a 32-bit destination is zero-extended even when the condition is false.
                // (jump_if clobbers rax and rcx: the value goes through rdx.)
                if k1 == REG {
                    ld_gpr(a, A, op.r[1], s1);
                } else {
                    ea(a, op);
                    self.guard(a, op, s1, flags::R);
                    ld_mem(a, A, s1, false);
                }
                let keep = a.label();
                let done = a.label();
                jump_if(a, op.cc ^ 1, keep);
                st_gpr(a, op.r[0], s0, A);
                dynasm!(a.ops ; .arch x64 ; jmp =>done ; =>keep);
                if s0 == 4 {
                    dynasm!(a.ops ; .arch x64 ; mov edx, DWORD [rbx + off::gpr(op.r[0])]);
                    st_gpr(a, op.r[0], 4, A);
                }
                a.bind(done);
            }
            _ => unreachable!("inlinable() admitted {mn:?}"),
        }
    }

    /// The block's last op as a native branch (see [`Translator::is_inline_branch`]).
    fn branch(&mut self, a: &mut Asm, op: &Op, slots: &[Cell<usize>]) {
        let k0 = kind_of(op.form, 0);
        match op.ins.mnemonic() {
            Mn::Jmp if k0 == IMM => {
                self.sync_icount_plus(a, 1);
                a.jump_slot(slots[0].as_ptr());
            }
            Mn::Jmp => {
                self.sync_icount_plus(a, 1);
                dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::gpr(op.r[0])] ; mov QWORD [rbx + off::RIP], rax);
                a.jump_lookup();
            }
            Mn::Call => {
                self.cur = None;
                dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::gpr(reg::RSP as u8)] ; sub rax, 8);
                self.guard(a, op, 8, flags::FASTW);
                ld_imm(a, A, op.next_ip, 8);
                st_mem(a, 8, A);
                dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + off::gpr(reg::RSP as u8)], rax);
                let (_, resume) = self.cur.take().expect("call has a memory access");
                let pending = self.pending;
                self.sync_icount_plus(a, 1);
                a.jump_slot(slots[0].as_ptr());
                // Slow path: the helper did the call (rip set); leave like the fast path.
                a.bind(resume);
                a.add_icount(pending + 1);
                a.jump_slot(slots[0].as_ptr());
            }
            Mn::Ret => {
                self.cur = None;
                dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::gpr(reg::RSP as u8)]);
                self.guard(a, op, 8, flags::R);
                dynasm!(a.ops
                    ; .arch x64
                    ; mov rdx, QWORD [r12 + rax]
                    ; add rax, 8
                    ; mov QWORD [rbx + off::gpr(reg::RSP as u8)], rax
                    ; mov QWORD [rbx + off::RIP], rdx
                );
                let (_, resume) = self.cur.take().expect("ret has a memory access");
                let pending = self.pending;
                a.add_icount(pending + 1);
                let join = a.label();
                a.bind(join);
                dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::RIP]);
                a.jump_lookup();
                a.bind(resume);
                a.add_icount(pending + 1);
                dynasm!(a.ops ; .arch x64 ; jmp =>join);
                self.pending = 0;
            }
            _ => {
                // jcc: on the host flags when the instruction before computed them (and
                // had no slow path, which rejoins with other host flags).
                self.sync_icount_plus(a, 1);
                let taken = a.label();
                if self.host_flags {
                    jump_host(a, op.cc, taken);
                } else {
                    jump_if(a, op.cc, taken);
                }
                a.jump_slot(slots[1].as_ptr());
                a.bind(taken);
                a.jump_slot(slots[0].as_ptr());
            }
        }
    }

    fn sync_icount_plus(&mut self, a: &mut Asm, k: i32) {
        a.add_icount(self.pending + k);
        self.pending = 0;
    }
}

/// Is `op` (whose form is known) one of the inlined non-branch forms?
fn inlinable(op: &Op) -> bool {
    let f = op.form;
    let (k0, k1, k2) = (kind_of(f, 0), kind_of(f, 1), kind_of(f, 2));
    let (s0, s1) = (size_of(f, 0), size_of(f, 1));
    let sized = |s: u32| matches!(s, 1 | 2 | 4 | 8);
    if k2 != NONE {
        return false;
    }
    let mn = op.ins.mnemonic();
    match mn {
        Mn::Nop | Mn::Endbr64 => true,
        Mn::Mov => {
            sized(s0)
                && s0 == s1
                && (k0 == REG && matches!(k1, REG | IMM | MEM) || k0 == MEM && matches!(k1, REG | IMM))
        }
        Mn::Movzx | Mn::Movsx => k0 == REG && matches!(k1, REG | MEM) && s1 < s0 && matches!(s1, 1 | 2),
        Mn::Movsxd => k0 == REG && matches!(k1, REG | MEM) && s0 == 8 && s1 == 4,
        Mn::Lea => k0 == REG && k1 == MEM && matches!(s0, 4 | 8),
        Mn::Add | Mn::Sub | Mn::And | Mn::Or | Mn::Xor | Mn::Cmp | Mn::Test | Mn::Adc | Mn::Sbb => {
            sized(s0)
                && (s1 == s0 || k1 == IMM)
                && match k0 {
                    REG => matches!(k1, REG | IMM | MEM),
                    MEM => matches!(k1, REG | IMM),
                    _ => false,
                }
                && !(mn == Mn::Test && k1 == MEM)
        }
        Mn::Inc | Mn::Dec | Mn::Neg | Mn::Not => sized(s0) && matches!(k0, REG | MEM) && k1 == NONE,
        Mn::Shl | Mn::Sal | Mn::Shr | Mn::Sar => {
            // Immediate counts below the operand width (larger ones leave flags the SDM
            // does not define, which the interpreter gives fixed values).
            let c = (op.imm as u32) & if s0 == 8 { 0x3f } else { 0x1f };
            sized(s0) && k0 == REG && k1 == IMM && c < s0 * 8
        }
        Mn::Push => s0 == 8 && matches!(k0, REG | IMM),
        Mn::Pop => k0 == REG && s0 == 8,
        _ if op.ins.condition_code() != iced_x86::ConditionCode::None => {
            let setcc = format!("{mn:?}").starts_with("Set");
            if setcc {
                k0 == REG && s0 == 1 && k1 == NONE
            } else {
                // cmovcc
                format!("{mn:?}").starts_with("Cmov") && k0 == REG && matches!(k1, REG | MEM) && s0 == s1 && s0 >= 2
            }
        }
        _ => false,
    }
}

/// Guest rip = `pc`.
fn store_rip(a: &mut Asm, pc: u64) {
    if pc as i64 == pc as i32 as i64 {
        dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + off::RIP], pc as i32);
    } else {
        dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD pc as i64 ; mov QWORD [rbx + off::RIP], rcx);
    }
}

/// Host register `h` = guest GPR `n`'s low `size` bytes, zero-extended.
fn ld_gpr(a: &mut Asm, h: u8, n: u8, size: u32) {
    let o = off::gpr(n);
    match size {
        8 => dynasm!(a.ops ; .arch x64 ; mov Rq(h), QWORD [rbx + o]),
        4 => dynasm!(a.ops ; .arch x64 ; mov Rd(h), DWORD [rbx + o]),
        2 => dynasm!(a.ops ; .arch x64 ; movzx Rd(h), WORD [rbx + o]),
        _ => dynasm!(a.ops ; .arch x64 ; movzx Rd(h), BYTE [rbx + o]),
    }
}

/// Guest GPR `n` = host register `h` with x86's write rules: a 4-byte write zero-extends
/// (host `h` holds a zero-extended 32-bit value), 1- and 2-byte writes merge.
fn st_gpr(a: &mut Asm, n: u8, size: u32, h: u8) {
    let o = off::gpr(n);
    match size {
        8 => dynasm!(a.ops ; .arch x64 ; mov QWORD [rbx + o], Rq(h)),
        4 => dynasm!(a.ops ; .arch x64 ; mov Rd(h), Rd(h) ; mov QWORD [rbx + o], Rq(h)),
        2 => dynasm!(a.ops ; .arch x64 ; mov WORD [rbx + o], Rw(h)),
        _ => dynasm!(a.ops ; .arch x64 ; mov BYTE [rbx + o], Rb(h)),
    }
}

/// Host register `h` = an immediate of an operation of `size` bytes (iced sign-extends it
/// to the operation size).
fn ld_imm(a: &mut Asm, h: u8, imm: u64, size: u32) {
    let v = imm & crate::isa::x86_64::operands::mask(size);
    if v <= u32::MAX as u64 {
        dynasm!(a.ops ; .arch x64 ; mov Rd(h), v as i32);
    } else {
        dynasm!(a.ops ; .arch x64 ; mov Rq(h), QWORD v as i64);
    }
}

/// Host register `h` = the `size`-byte value at `[r12 + rax]`, zero-extended.
fn ld_mem(a: &mut Asm, h: u8, size: u32, _sx: bool) {
    match size {
        8 => dynasm!(a.ops ; .arch x64 ; mov Rq(h), QWORD [r12 + rax]),
        4 => dynasm!(a.ops ; .arch x64 ; mov Rd(h), DWORD [r12 + rax]),
        2 => dynasm!(a.ops ; .arch x64 ; movzx Rd(h), WORD [r12 + rax]),
        _ => dynasm!(a.ops ; .arch x64 ; movzx Rd(h), BYTE [r12 + rax]),
    }
}

/// `[r12 + rax]` = the low `size` bytes of host register `h`.
fn st_mem(a: &mut Asm, size: u32, h: u8) {
    match size {
        8 => dynasm!(a.ops ; .arch x64 ; mov QWORD [r12 + rax], Rq(h)),
        4 => dynasm!(a.ops ; .arch x64 ; mov DWORD [r12 + rax], Rd(h)),
        2 => dynasm!(a.ops ; .arch x64 ; mov WORD [r12 + rax], Rw(h)),
        _ => dynasm!(a.ops ; .arch x64 ; mov BYTE [r12 + rax], Rb(h)),
    }
}

/// Sign-extend the low `from` bytes of host register `h` to 64 bits.
fn sext(a: &mut Asm, h: u8, from: u32) {
    match from {
        1 => dynasm!(a.ops ; .arch x64 ; movsx Rq(h), Rb(h)),
        2 => dynasm!(a.ops ; .arch x64 ; movsx Rq(h), Rw(h)),
        _ => dynasm!(a.ops ; .arch x64 ; movsxd Rq(h), Rd(h)),
    }
}

/// rax = the effective address of `op`'s memory operand (no segment: the form excludes
/// fs/gs and 32-bit addressing). Clobbers rcx.
fn ea(a: &mut Asm, op: &Op) {
    let has_base = op.base_mask != 0;
    let has_index = op.index_mask != 0;
    let disp = op.disp as i64;
    let small = disp == disp as i32 as i64;
    if !has_base && !has_index {
        dynasm!(a.ops ; .arch x64 ; mov rax, QWORD disp);
        return;
    }
    if has_base {
        dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::gpr(op.base)]);
    }
    if has_index {
        dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD [rbx + off::gpr(op.index)]);
        if op.shift & 3 != 0 {
            dynasm!(a.ops ; .arch x64 ; shl rcx, (op.shift & 3) as i8);
        }
        if has_base {
            dynasm!(a.ops ; .arch x64 ; add rax, rcx);
        } else {
            dynasm!(a.ops ; .arch x64 ; mov rax, rcx);
        }
    }
    if disp != 0 {
        if small {
            dynasm!(a.ops ; .arch x64 ; add rax, disp as i32);
        } else {
            dynasm!(a.ops ; .arch x64 ; mov rcx, QWORD disp ; add rax, rcx);
        }
    }
}

macro_rules! alu_rr {
    ($a:expr, $size:expr, $($mn:tt)+) => {
        match $size {
            8 => dynasm!($a.ops ; .arch x64 ; $($mn)+ rdx, rcx),
            4 => dynasm!($a.ops ; .arch x64 ; $($mn)+ edx, ecx),
            2 => dynasm!($a.ops ; .arch x64 ; $($mn)+ dx, cx),
            _ => dynasm!($a.ops ; .arch x64 ; $($mn)+ dl, cl),
        }
    };
}

macro_rules! alu_ri {
    ($a:expr, $size:expr, $imm:expr, $($mn:tt)+) => {
        match $size {
            8 => dynasm!($a.ops ; .arch x64 ; $($mn)+ rdx, $imm as i32),
            4 => dynasm!($a.ops ; .arch x64 ; $($mn)+ edx, $imm as i32),
            2 => dynasm!($a.ops ; .arch x64 ; $($mn)+ dx, $imm as i16),
            _ => dynasm!($a.ops ; .arch x64 ; $($mn)+ dl, $imm as i8),
        }
    };
}

/// rdx = rdx OP (rcx | imm) at `size` bytes, host flags as the guest's.
fn alu(a: &mut Asm, mn: Mn, size: u32, imm: Option<i64>) {
    if matches!(mn, Mn::Adc | Mn::Sbb) {
        // The guest CF into the host CF (nothing below changes flags before the op).
        dynasm!(a.ops ; .arch x64 ; bt r15, 0);
    }
    macro_rules! both {
        ($($mn:tt)+) => {
            match imm {
                Some(i) => alu_ri!(a, size, i, $($mn)+),
                None => alu_rr!(a, size, $($mn)+),
            }
        };
    }
    match mn {
        Mn::Add => both!(add),
        Mn::Sub => both!(sub),
        Mn::And => both!(and),
        Mn::Or => both!(or),
        Mn::Xor => both!(xor),
        Mn::Cmp => both!(cmp),
        // test as and: the result (in the scratch register) gives the flags of `add r, 0`.
        Mn::Test => both!(and),
        Mn::Adc => both!(adc),
        Mn::Sbb => both!(sbb),
        _ => unreachable!(),
    }
}

macro_rules! unary_r {
    ($a:expr, $size:expr, $mn:tt) => {
        match $size {
            8 => dynasm!($a.ops ; .arch x64 ; $mn rdx),
            4 => dynasm!($a.ops ; .arch x64 ; $mn edx),
            2 => dynasm!($a.ops ; .arch x64 ; $mn dx),
            _ => dynasm!($a.ops ; .arch x64 ; $mn dl),
        }
    };
}

fn unary(a: &mut Asm, mn: Mn, size: u32) {
    match mn {
        Mn::Inc => unary_r!(a, size, inc),
        Mn::Dec => unary_r!(a, size, dec),
        Mn::Neg => unary_r!(a, size, neg),
        _ => unary_r!(a, size, not),
    }
}

macro_rules! shift_r {
    ($a:expr, $size:expr, $c:expr, $mn:tt) => {
        match $size {
            8 => dynasm!($a.ops ; .arch x64 ; $mn rdx, $c),
            4 => dynasm!($a.ops ; .arch x64 ; $mn edx, $c),
            2 => dynasm!($a.ops ; .arch x64 ; $mn dx, $c),
            _ => dynasm!($a.ops ; .arch x64 ; $mn dl, $c),
        }
    };
}

fn shift(a: &mut Asm, mn: Mn, size: u32, c: i8) {
    match mn {
        Mn::Shl | Mn::Sal => shift_r!(a, size, c, shl),
        Mn::Shr => shift_r!(a, size, c, shr),
        _ => shift_r!(a, size, c, sar),
    }
}

/// The guest status flags (in r15) = the host's, right after the host instruction that
/// computed them (only flag-preserving instructions between). r15's other bits become the
/// host's: only its status bits mean anything (the backend's spill merges just those).
/// Returns whether the host flags still equal the guest's afterwards.
fn capture(a: &mut Asm, _flip_cf: bool) -> bool {
    dynasm!(a.ops ; .arch x64 ; pushfq ; pop r15);
    #[cfg(feature = "broken-engine")]
    if _flip_cf {
        // Test only (`broken-engine`): the JIT gets CF of sub/cmp wrong, so that engine
        // comparisons (deja check) can be shown to catch it.
        dynasm!(a.ops ; .arch x64 ; xor r15d, 1);
        return false;
    }
    true
}

/// [`capture`] for a shift: AF = 1, OF = SF ^ CF when `of_formula` (shl by more than 1).
fn capture_shift(a: &mut Asm, host: u64, of_formula: bool) {
    dynasm!(a.ops
        ; .arch x64
        ; pushfq
        ; pop rcx
        ; and ecx, host as i32
        ; or ecx, fl::AF as i32
    );
    if of_formula {
        dynasm!(a.ops
            ; .arch x64
            ; mov r8d, ecx
            ; shr r8d, 7
            ; xor r8d, ecx
            ; and r8d, 1
            ; shl r8d, 11
            ; or ecx, r8d
        );
    }
    dynasm!(a.ops
        ; .arch x64
        ; and r15, !(fl::STATUS as i32)
        ; or r15, rcx
    );
}

/// Jump to `to` if condition `cc` (hardware encoding) holds for the guest rflags (r15).
/// Clobbers rax, rcx.
fn jump_if(a: &mut Asm, cc: u8, to: DynamicLabel) {
    match (cc >> 1) & 7 {
        6 => dynasm!(a.ops
            ; .arch x64
            ; mov eax, r15d
            ; mov ecx, eax
            ; shr ecx, 4
            ; xor eax, ecx
            ; test eax, fl::SF as i32
        ),
        7 => dynasm!(a.ops
            ; .arch x64
            ; mov eax, r15d
            ; mov ecx, eax
            ; shr ecx, 4
            ; xor ecx, eax
            ; and ecx, fl::SF as i32
            ; and eax, fl::ZF as i32
            ; or eax, ecx
        ),
        p => {
            let bits = [fl::OF, fl::CF, fl::ZF, fl::CF | fl::ZF, fl::SF, fl::PF][p as usize];
            dynasm!(a.ops ; .arch x64 ; test r15d, bits as i32);
        }
    }
    if cc & 1 == 0 {
        dynasm!(a.ops ; .arch x64 ; jnz =>to);
    } else {
        dynasm!(a.ops ; .arch x64 ; jz =>to);
    }
}

/// Jump to `to` if condition `cc` (hardware encoding) holds for the host flags.
fn jump_host(a: &mut Asm, cc: u8, to: DynamicLabel) {
    match cc & 15 {
        0 => dynasm!(a.ops ; .arch x64 ; jo =>to),
        1 => dynasm!(a.ops ; .arch x64 ; jno =>to),
        2 => dynasm!(a.ops ; .arch x64 ; jb =>to),
        3 => dynasm!(a.ops ; .arch x64 ; jae =>to),
        4 => dynasm!(a.ops ; .arch x64 ; je =>to),
        5 => dynasm!(a.ops ; .arch x64 ; jne =>to),
        6 => dynasm!(a.ops ; .arch x64 ; jbe =>to),
        7 => dynasm!(a.ops ; .arch x64 ; ja =>to),
        8 => dynasm!(a.ops ; .arch x64 ; js =>to),
        9 => dynasm!(a.ops ; .arch x64 ; jns =>to),
        10 => dynasm!(a.ops ; .arch x64 ; jp =>to),
        11 => dynasm!(a.ops ; .arch x64 ; jnp =>to),
        12 => dynasm!(a.ops ; .arch x64 ; jl =>to),
        13 => dynasm!(a.ops ; .arch x64 ; jge =>to),
        14 => dynasm!(a.ops ; .arch x64 ; jle =>to),
        _ => dynasm!(a.ops ; .arch x64 ; jg =>to),
    }
}

/// Leave the block for the guest pc in guest state: through slot `i` when it is `succ[i]`,
/// else through the lookup table. The icount must be up to date.
pub fn exit_to(a: &mut Asm, succ: &[u64], slots: &[Cell<usize>]) {
    dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::RIP]);
    for (pc, slot) in succ.iter().zip(slots) {
        let next = a.label();
        dynasm!(a.ops
            ; .arch x64
            ; mov rcx, QWORD *pc as i64
            ; cmp rax, rcx
            ; jne =>next
        );
        a.jump_slot(slot.as_ptr());
        a.bind(next);
    }
    a.jump_lookup();
}
