//! Pre-decoded instructions and specialised handlers.
//!
//! At block-decode time every instruction becomes an [`Op`]: the iced `Instruction` and its
//! table handler (the reference path), plus what the common operand forms need at run time,
//! worked out once: GPR numbers, a memory-operand descriptor (base, index, shift,
//! displacement), the immediate or branch target, the condition code, and a *form*: the kind
//! and size of each operand packed in one `u32`.
//!
//! A mnemonic may register a *specializer* in the table beside its handler. Given an `Op`, it
//! returns a handler monomorphised for that op's form, or `None` (then the table handler
//! runs). Specialised handlers are not a second implementation: each is the group file's own
//! handler function, generic over [`Args`], instantiated with [`Fast`] (operands from the
//! pre-decoded fields, kinds and sizes known at compile time) instead of `Dyn` (operands
//! from the iced `Instruction`). So the semantics of every instruction are written once.
//!
//! Forms [`Fast`] can describe: GPR operands (not AH/CH/DH/BH), memory operands without a
//! segment prefix, 32-bit addressing or a vector index, one immediate, a near branch target.
//! Anything else keeps the table handler.

use super::operands::{is_gpr, Args};
use super::state::fl;
use super::{Handler, Res, Trap, M};
use iced_x86::{ConditionCode, FlowControl, Instruction, Mnemonic, OpKind, Register};

/// A specialised handler: like [`Handler`], but given the pre-decoded op, and returning a
/// trap boxed (so the common `Ok` comes back in a register).
pub type FastHandler = fn(&mut M, &Op) -> FastRes;

/// The result of a [`FastHandler`].
pub type FastRes = Result<(), Box<Trap>>;

/// Box a handler's trap (the cold path of every [`FastHandler`]).
#[inline(always)]
pub fn boxed(r: Res) -> FastRes {
    match r {
        Ok(()) => Ok(()),
        Err(t) => Err(box_trap(t)),
    }
}

#[cold]
#[inline(never)]
fn box_trap(t: Trap) -> Box<Trap> {
    Box::new(t)
}

/// A specialised handler for an op, and possibly its variant that writes no flags.
#[derive(Clone, Copy)]
pub struct Spec {
    /// The handler instantiated for the op's form: exactly the table handler's behaviour.
    pub exact: FastHandler,
    /// The same with every flag write dropped ([`NoFlags`]), for handlers that write flags:
    /// usable only where [`elide_dead_flags`] proves the flags dead.
    pub no_flags: Option<FastHandler>,
}

/// Picks a specialised handler for an op's form, if the mnemonic has one for it.
pub type Specializer = fn(&Op) -> Option<Spec>;

/// One pre-decoded instruction.
#[derive(Clone)]
pub struct Op {
    /// What the interpreter calls: a specialised handler, or [`generic`] (the table handler).
    pub fast: FastHandler,
    /// What the interpreter calls when the whole block runs: `fast`, or its variant that
    /// writes no flags when the block proves them dead.
    pub lite: FastHandler,
    /// The table handler (the reference semantics for this mnemonic).
    pub handler: Handler,
    /// Address of the next instruction.
    pub next_ip: u64,
    /// The immediate operand as iced reports it (`Instruction::immediate`), or the near
    /// branch target.
    pub imm: u64,
    /// Memory operand: displacement (absolute target for rip-relative operands), and masks
    /// that select the base and index registers (all ones when present, 0 when absent).
    pub disp: u64,
    pub base_mask: u64,
    pub index_mask: u64,
    /// GPR numbers of register operands 0..2 (0 for other kinds).
    pub r: [u8; 3],
    /// Memory operand base and index GPR numbers (0 when absent; the masks zero them) and
    /// the index scale as a shift.
    pub base: u8,
    pub index: u8,
    pub shift: u8,
    /// Condition code in hardware encoding (0 = o … 15 = g), for jcc/setcc/cmovcc.
    pub cc: u8,
    /// Operand kinds and sizes (see [`form`]), or [`NO_FORM`].
    pub form: u32,
    pub ins: Instruction,
}

/// Operand kinds in a form.
pub const NONE: u32 = 0;
pub const REG: u32 = 1;
pub const MEM: u32 = 2;
pub const IMM: u32 = 3;

/// An instruction whose operands [`Fast`] cannot describe.
pub const NO_FORM: u32 = u32::MAX;

/// Pack operand kinds and sizes: kinds in bits 0-5 (2 bits each), sizes in bytes in bits
/// 8-15, 16-23 and 24-31.
pub const fn form(k: [u32; 3], s: [u32; 3]) -> u32 {
    k[0] | k[1] << 2 | k[2] << 4 | s[0] << 8 | s[1] << 16 | s[2] << 24
}

#[inline(always)]
pub const fn kind_of(f: u32, i: u32) -> u32 {
    (f >> (2 * i)) & 3
}

#[inline(always)]
pub const fn size_of(f: u32, i: u32) -> u32 {
    (f >> (8 + 8 * i)) & 0xff
}

/// The reference path: run the table handler on the iced instruction.
pub fn generic(m: &mut M, op: &Op) -> FastRes {
    boxed((op.handler)(m, &op.ins))
}

/// Pre-decode `ins` (with its table handler `handler`); `fast` starts as [`generic`].
pub fn predecode(ins: &Instruction, handler: Handler) -> Op {
    let mut op = Op {
        fast: generic,
        lite: generic,
        handler,
        next_ip: ins.next_ip(),
        imm: 0,
        disp: 0,
        base_mask: 0,
        index_mask: 0,
        r: [0; 3],
        base: 0,
        index: 0,
        shift: 0,
        cc: match ins.condition_code() {
            ConditionCode::None => 0,
            c => c as u8 - 1,
        },
        form: NO_FORM,
        ins: *ins,
    };
    op.form = describe(ins, &mut op).unwrap_or(NO_FORM);
    op
}

/// Fill the run-time operand fields of `op` and return its form, if [`Fast`] can serve it.
fn describe(ins: &Instruction, op: &mut Op) -> Option<u32> {
    let n = ins.op_count();
    if n > 3 {
        return None;
    }
    let (mut kinds, mut sizes) = ([NONE; 3], [0; 3]);
    let mut imms = 0;
    for i in 0..n {
        let (k, s) = match ins.op_kind(i) {
            OpKind::Register => {
                let r = ins.op_register(i);
                if !is_gpr(r) || matches!(r, Register::AH | Register::CH | Register::DH | Register::BH) {
                    return None;
                }
                op.r[i as usize] = gpr_num(r);
                (REG, r.size() as u32)
            }
            OpKind::Memory => {
                let (b, x) = (ins.memory_base(), ins.memory_index());
                let seg = ins.segment_prefix();
                if seg == Register::FS || seg == Register::GS {
                    return None;
                }
                if b != Register::None && b != Register::RIP && (!is_gpr(b) || b.size() != 8) {
                    return None; // eip-relative or 32-bit addressing
                }
                if x != Register::None && (!is_gpr(x) || x.size() != 8) {
                    return None; // 32-bit addressing or a vector index
                }
                op.disp = ins.memory_displacement64();
                if b != Register::None && b != Register::RIP {
                    op.base = gpr_num(b);
                    op.base_mask = u64::MAX;
                }
                if x != Register::None {
                    op.index = gpr_num(x);
                    op.index_mask = u64::MAX;
                    op.shift = ins.memory_index_scale().trailing_zeros() as u8;
                }
                (MEM, ins.memory_size().size() as u32)
            }
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64 => {
                imms += 1;
                op.imm = ins.near_branch_target();
                (IMM, 8)
            }
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64 => {
                imms += 1;
                op.imm = ins.immediate(i);
                (IMM, super::operands::op_size(ins, i))
            }
            _ => return None,
        };
        if s > 0xff || imms > 1 {
            return None;
        }
        kinds[i as usize] = k;
        sizes[i as usize] = s;
    }
    Some(form(kinds, sizes))
}

// ---- dead flags ----

/// Choose each op's `lite` handler (what runs when the whole block runs): the flag-less
/// variant of its specialised handler (`specs[i]`) when its flags are dead, else `fast`.
///
/// The flags an op writes are dead when, running the block to its end, a later op
/// overwrites all six status flags before any op reads one, and nothing in between can
/// make them observable: every op after it up to the overwriting one is *quiet* (a
/// specialised register-only form that cannot fault, write memory, branch or exit), and the
/// op itself writes no memory (a store to a code page ends the block right after it).
/// Budget limits are handled by the interpreter: a block cut short runs `fast` throughout.
pub fn elide_dead_flags(ops: &mut [Op], specs: &[Option<Spec>]) {
    let quiet: Vec<bool> = ops.iter().zip(specs).map(|(op, s)| s.is_some() && is_quiet(op)).collect();
    for i in 0..ops.len() {
        ops[i].lite = ops[i].fast;
        let Some(nf) = specs[i].and_then(|s| s.no_flags) else { continue };
        let op = &ops[i];
        if kind_of(op.form, 0) == MEM && !matches!(op.ins.mnemonic(), Mnemonic::Cmp | Mnemonic::Test) {
            continue; // may write memory
        }
        let mut pending = fl::STATUS;
        for k in i + 1..ops.len() {
            if !quiet[k] || status_bits(ops[k].ins.rflags_read()) & pending != 0 {
                break;
            }
            pending &= !always_written(ops[k].ins.mnemonic());
            if pending == 0 {
                ops[i].lite = nf;
                break;
            }
        }
    }
}

/// The status flags an instruction writes whatever its operands (for [`elide_dead_flags`]).
fn always_written(mn: Mnemonic) -> u64 {
    use Mnemonic::*;
    match mn {
        Add | Adc | Sub | Sbb | Cmp | And | Or | Xor | Test | Neg => fl::STATUS,
        Inc | Dec => fl::STATUS & !fl::CF,
        _ => 0,
    }
}

/// Can this (specialised) op neither fault, nor write memory, nor branch or exit, nor read
/// flags other than those iced reports? Register-only forms of these mnemonics (lea and the
/// nops never access their memory operand).
fn is_quiet(op: &Op) -> bool {
    use Mnemonic::*;
    let mn = op.ins.mnemonic();
    let no_access = matches!(mn, Lea | Nop | Endbr64);
    let kinds_ok = (0..3).all(|i| kind_of(op.form, i) != MEM) || no_access;
    op.form != NO_FORM
        && kinds_ok
        && (matches!(
            mn,
            Add | Adc
                | Sub
                | Sbb
                | Cmp
                | And
                | Or
                | Xor
                | Test
                | Inc
                | Dec
                | Neg
                | Not
                | Mov
                | Movzx
                | Movsx
                | Movsxd
                | Lea
                | Shl
                | Sal
                | Shr
                | Sar
                | Rol
                | Ror
                | Imul
                | Mul
                | Bsf
                | Bsr
                | Tzcnt
                | Lzcnt
                | Popcnt
                | Bt
                | Bts
                | Btr
                | Btc
                | Nop
                | Endbr64
        ) || (op.ins.condition_code() != ConditionCode::None && op.ins.flow_control() == FlowControl::Next))
}

/// x86 RFLAGS status bits of an iced `RflagsBits` set.
fn status_bits(bits: u32) -> u64 {
    use iced_x86::RflagsBits as R;
    [(R::OF, fl::OF), (R::SF, fl::SF), (R::ZF, fl::ZF), (R::AF, fl::AF), (R::CF, fl::CF), (R::PF, fl::PF)]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .fold(0, |acc, (_, f)| acc | f)
}

/// GPR number (encoding order) of a general-purpose register that is not AH/CH/DH/BH.
fn gpr_num(r: Register) -> u8 {
    super::operands::gpr_info(r).0 as u8
}

/// Read the low `size` bytes of GPR `n`, zero-extended.
#[inline(always)]
fn get(m: &M, n: u8, size: u32) -> u64 {
    let v = m.cpu.gpr[n as usize & 15];
    match size {
        8 => v,
        4 => v as u32 as u64,
        2 => v as u16 as u64,
        _ => v as u8 as u64,
    }
}

/// Write GPR `n` with x86's rules (32-bit writes zero-extend, 8/16-bit writes merge).
#[inline(always)]
fn put(m: &mut M, n: u8, size: u32, v: u64) {
    let g = &mut m.cpu.gpr[n as usize & 15];
    *g = match size {
        8 => v,
        4 => v as u32 as u64,
        2 => (*g & !0xffff) | (v & 0xffff),
        _ => (*g & !0xff) | (v & 0xff),
    };
}

/// Operands from the pre-decoded fields of an [`Op`], for form `F`.
#[derive(Clone, Copy)]
pub struct Fast<'a, const F: u32>(pub &'a Op);

impl<const F: u32> Args for Fast<'_, F> {
    #[inline(always)]
    fn insn(&self) -> &Instruction {
        &self.0.ins
    }
    #[inline(always)]
    fn size(self, i: u32) -> u32 {
        size_of(F, i)
    }
    #[inline(always)]
    fn is_reg(self, i: u32) -> bool {
        kind_of(F, i) == REG
    }
    #[inline(always)]
    fn is_mem(self, i: u32) -> bool {
        kind_of(F, i) == MEM
    }
    #[inline(always)]
    fn read(self, m: &M, i: u32) -> Result<u64, Trap> {
        match kind_of(F, i) {
            REG => Ok(get(m, self.0.r[i as usize], size_of(F, i))),
            MEM => Ok(m.mem.read_sized(self.ea(m), size_of(F, i))?),
            _ => Ok(self.0.imm),
        }
    }
    #[inline(always)]
    fn write(self, m: &mut M, i: u32, v: u64) -> Result<(), Trap> {
        match kind_of(F, i) {
            REG => {
                put(m, self.0.r[i as usize], size_of(F, i), v);
                Ok(())
            }
            _ => {
                let a = self.ea(m);
                Ok(m.mem.write_sized(a, size_of(F, i), v)?)
            }
        }
    }
    #[inline(always)]
    fn ea(self, m: &M) -> u64 {
        let op = self.0;
        let b = m.cpu.gpr[op.base as usize & 15] & op.base_mask;
        let x = (m.cpu.gpr[op.index as usize & 15] & op.index_mask) << (op.shift & 3);
        op.disp.wrapping_add(b).wrapping_add(x)
    }
    #[inline(always)]
    fn seg_base(self, _m: &M) -> u64 {
        0
    }
    #[inline(always)]
    fn cond(self, rflags: u64) -> bool {
        super::flags::cond_hw(rflags, self.0.cc)
    }
    #[inline(always)]
    fn branch_target(self) -> u64 {
        self.0.imm
    }
    #[inline(always)]
    fn op_count(self) -> u32 {
        (kind_of(F, 0) != NONE) as u32 + (kind_of(F, 1) != NONE) as u32 + (kind_of(F, 2) != NONE) as u32
    }
}

// ---- forms ----

const fn f1(k0: u32, s0: u32) -> u32 {
    form([k0, NONE, NONE], [s0, 0, 0])
}
const fn f2(k0: u32, s0: u32, k1: u32, s1: u32) -> u32 {
    form([k0, k1, NONE], [s0, s1, 0])
}
const fn f3(k0: u32, s0: u32, k1: u32, s1: u32, k2: u32, s2: u32) -> u32 {
    form([k0, k1, k2], [s0, s1, s2])
}

/// Named forms: kinds and sizes of each operand (`R` register, `M` memory, `I` immediate,
/// `C` a one-byte register such as CL).
pub mod forms {
    use super::{f1, f2, f3, IMM, MEM, REG};
    macro_rules! sized {
        ($($name:ident = $e:expr;)*) => { $(pub const $name: u32 = $e;)* };
    }
    sized! {
        NOARGS = 0;
        R1 = f1(REG, 1); R2 = f1(REG, 2); R4 = f1(REG, 4); R8 = f1(REG, 8);
        M1 = f1(MEM, 1); M2 = f1(MEM, 2); M4 = f1(MEM, 4); M8 = f1(MEM, 8);
        I8 = f1(IMM, 8); I4 = f1(IMM, 4); I2 = f1(IMM, 2); I1 = f1(IMM, 1);
        RR1 = f2(REG, 1, REG, 1); RR2 = f2(REG, 2, REG, 2); RR4 = f2(REG, 4, REG, 4); RR8 = f2(REG, 8, REG, 8);
        RM1 = f2(REG, 1, MEM, 1); RM2 = f2(REG, 2, MEM, 2); RM4 = f2(REG, 4, MEM, 4); RM8 = f2(REG, 8, MEM, 8);
        MR1 = f2(MEM, 1, REG, 1); MR2 = f2(MEM, 2, REG, 2); MR4 = f2(MEM, 4, REG, 4); MR8 = f2(MEM, 8, REG, 8);
        RI1 = f2(REG, 1, IMM, 1); RI2 = f2(REG, 2, IMM, 2); RI4 = f2(REG, 4, IMM, 4); RI8 = f2(REG, 8, IMM, 8);
        MI1 = f2(MEM, 1, IMM, 1); MI2 = f2(MEM, 2, IMM, 2); MI4 = f2(MEM, 4, IMM, 4); MI8 = f2(MEM, 8, IMM, 8);
        // Shifts and rotates: count in an imm8 or CL.
        RI1B = f2(REG, 1, IMM, 1); RI2B = f2(REG, 2, IMM, 1); RI4B = f2(REG, 4, IMM, 1); RI8B = f2(REG, 8, IMM, 1);
        MI2B = f2(MEM, 2, IMM, 1); MI4B = f2(MEM, 4, IMM, 1); MI8B = f2(MEM, 8, IMM, 1);
        RC1 = f2(REG, 1, REG, 1); RC2 = f2(REG, 2, REG, 1); RC4 = f2(REG, 4, REG, 1); RC8 = f2(REG, 8, REG, 1);
        MC1 = f2(MEM, 1, REG, 1); MC2 = f2(MEM, 2, REG, 1); MC4 = f2(MEM, 4, REG, 1); MC8 = f2(MEM, 8, REG, 1);
        // Zero/sign extension: destination, then a narrower source.
        RR4_1 = f2(REG, 4, REG, 1); RR4_2 = f2(REG, 4, REG, 2); RR8_1 = f2(REG, 8, REG, 1);
        RR8_2 = f2(REG, 8, REG, 2); RR8_4 = f2(REG, 8, REG, 4); RR2_1 = f2(REG, 2, REG, 1);
        RM4_1 = f2(REG, 4, MEM, 1); RM4_2 = f2(REG, 4, MEM, 2); RM8_1 = f2(REG, 8, MEM, 1);
        RM8_2 = f2(REG, 8, MEM, 2); RM8_4 = f2(REG, 8, MEM, 4); RM2_1 = f2(REG, 2, MEM, 1);
        // lea: the memory operand has no size.
        RA4 = f2(REG, 4, MEM, 0); RA8 = f2(REG, 8, MEM, 0);
        // Three operands (imul r, r/m, imm).
        RRI4 = f3(REG, 4, REG, 4, IMM, 4); RRI8 = f3(REG, 8, REG, 8, IMM, 8);
        RMI4 = f3(REG, 4, MEM, 4, IMM, 4); RMI8 = f3(REG, 8, MEM, 8, IMM, 8);
        RRI2 = f3(REG, 2, REG, 2, IMM, 2); RMI2 = f3(REG, 2, MEM, 2, IMM, 2);
    }
}

/// A specializer choosing among `forms` for a handler generic over [`Args`]:
/// `specializer!(handler; F1, F2, …)` gives a [`Specializer`] that returns `handler`
/// instantiated with `Fast<F>` when the op's form is one of the `F`s. With a leading
/// `flags`, it also gives the [`NoFlags`] variant of each instance. The instances are named
/// `<module>::<handler>::<form>::run` (and `run_nf`), readable in profiles.
#[macro_export]
macro_rules! specializer {
    (flags $h:ident; $($f:ident),* $(,)?) => {
        $crate::specializer!(@gen $h; yes; $($f),*)
    };
    ($h:ident; $($f:ident),* $(,)?) => {
        $crate::specializer!(@gen $h; no; $($f),*)
    };
    (@nf yes $f:ident) => {
        Some($f::run_nf)
    };
    (@nf no $f:ident) => {
        None
    };
    (@gen $h:ident; $nf:ident; $($f:ident),*) => {{
        #[allow(non_snake_case, dead_code)]
        mod $h {
            use $crate::isa::x86_64::predecode::{Op, Spec};
            $(
                pub mod $f {
                    use $crate::isa::x86_64::predecode::{boxed, forms, Fast, FastRes, NoFlags, Op};
                    use $crate::isa::x86_64::M;
                    pub fn run(m: &mut M, op: &Op) -> FastRes {
                        boxed(super::super::$h(m, Fast::<{ forms::$f }>(op)))
                    }
                    pub fn run_nf(m: &mut M, op: &Op) -> FastRes {
                        boxed(super::super::$h(m, NoFlags(Fast::<{ forms::$f }>(op))))
                    }
                }
            )*
            pub fn pick(op: &Op) -> Option<Spec> {
                use $crate::isa::x86_64::predecode::forms;
                $(
                    if op.form == forms::$f {
                        return Some(Spec { exact: $f::run, no_flags: $crate::specializer!(@nf $nf $f) });
                    }
                )*
                None
            }
        }
        $h::pick as $crate::isa::x86_64::predecode::Specializer
    }};
}

/// Operands of `A` whose flag writes are dropped: for an instruction whose flags a later
/// instruction of its block overwrites before anything can read or observe them.
#[derive(Clone, Copy)]
pub struct NoFlags<A>(pub A);

/// Operands of `A` with the condition code fixed at compile time (`CC`, hardware encoding),
/// so a jcc/setcc/cmovcc instance evaluates exactly one condition.
#[derive(Clone, Copy)]
pub struct WithCond<A, const CC: u8>(pub A);

macro_rules! delegate_args {
    () => {
        #[inline(always)]
        fn insn(&self) -> &Instruction {
            self.0.insn()
        }
        #[inline(always)]
        fn size(self, i: u32) -> u32 {
            self.0.size(i)
        }
        #[inline(always)]
        fn is_reg(self, i: u32) -> bool {
            self.0.is_reg(i)
        }
        #[inline(always)]
        fn is_mem(self, i: u32) -> bool {
            self.0.is_mem(i)
        }
        #[inline(always)]
        fn read(self, m: &M, i: u32) -> Result<u64, Trap> {
            self.0.read(m, i)
        }
        #[inline(always)]
        fn write(self, m: &mut M, i: u32, v: u64) -> Result<(), Trap> {
            self.0.write(m, i, v)
        }
        #[inline(always)]
        fn ea(self, m: &M) -> u64 {
            self.0.ea(m)
        }
        #[inline(always)]
        fn seg_base(self, m: &M) -> u64 {
            self.0.seg_base(m)
        }
        #[inline(always)]
        fn branch_target(self) -> u64 {
            self.0.branch_target()
        }
        #[inline(always)]
        fn op_count(self) -> u32 {
            self.0.op_count()
        }
    };
}

impl<A: Args> Args for NoFlags<A> {
    delegate_args!();
    #[inline(always)]
    fn cond(self, rflags: u64) -> bool {
        self.0.cond(rflags)
    }
    #[inline(always)]
    fn set_flags(self, _m: &mut M, _which: u64, _f: u64) {}
}

impl<A: Args, const CC: u8> Args for WithCond<A, CC> {
    delegate_args!();
    #[inline(always)]
    fn cond(self, rflags: u64) -> bool {
        super::flags::cond_hw(rflags, CC)
    }
    #[inline(always)]
    fn set_flags(self, m: &mut M, which: u64, f: u64) {
        self.0.set_flags(m, which, f)
    }
}

/// Like [`specializer!`] for jcc/setcc/cmovcc: one instance per form and condition code.
#[macro_export]
macro_rules! cond_specializer {
    ($h:ident; $($f:ident),* $(,)?) => {{
        #[allow(non_snake_case)]
        mod $h {
            use $crate::isa::x86_64::predecode::{FastHandler, Op, Spec};
            $(
                pub mod $f {
                    use $crate::isa::x86_64::predecode::{boxed, forms, Fast, FastRes, Op, WithCond};
                    pub fn run<const CC: u8>(m: &mut $crate::isa::x86_64::M, op: &Op) -> FastRes {
                        boxed(super::super::$h(m, WithCond::<_, CC>(Fast::<{ forms::$f }>(op))))
                    }
                }
            )*
            pub fn pick(op: &Op) -> Option<Spec> {
                use $crate::isa::x86_64::predecode::forms;
                $(
                    if op.form == forms::$f {
                        let by_cc: [FastHandler; 16] = [
                            $f::run::<0>, $f::run::<1>, $f::run::<2>, $f::run::<3>,
                            $f::run::<4>, $f::run::<5>, $f::run::<6>, $f::run::<7>,
                            $f::run::<8>, $f::run::<9>, $f::run::<10>, $f::run::<11>,
                            $f::run::<12>, $f::run::<13>, $f::run::<14>, $f::run::<15>,
                        ];
                        return Some(Spec { exact: by_cc[op.cc as usize & 15], no_flags: None });
                    }
                )*
                None
            }
        }
        $h::pick as $crate::isa::x86_64::predecode::Specializer
    }};
}

/// Common form lists.
#[macro_export]
macro_rules! binary_forms {
    ($h:ident) => {{
        $crate::specializer!(flags $h; RR8, RR4, RR2, RR1, RI8, RI4, RI2, RI1, RM8, RM4, RM2, RM1, MR8, MR4, MR2, MR1,
            MI8, MI4, MI2, MI1)
    }};
}

#[macro_export]
macro_rules! unary_forms {
    ($h:ident) => {{
        $crate::specializer!(flags $h; R8, R4, R2, R1, M8, M4, M2, M1)
    }};
}

#[macro_export]
macro_rules! shift_forms {
    ($h:ident) => {{
        $crate::specializer!(flags $h; RI8B, RI4B, RI2B, RI1B, RC8, RC4, RC2, RC1, MI8B, MI4B, MI2B, MC8, MC4, MC2, MC1)
    }};
}

/// Wrap a handler generic over [`Args`] as a table [`Handler`] (the reference path).
#[macro_export]
macro_rules! reference {
    ($h:path) => {
        (|m, ins| $h(m, $crate::isa::x86_64::operands::Dyn(ins))) as $crate::isa::x86_64::Handler
    };
}

#[cfg(test)]
mod tests {
    use super::super::table::TABLE;
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    /// Pre-decode and specialise `code` as one block; returns, per instruction, whether its
    /// flag writes were found dead.
    fn dead_flags(code: &[u8]) -> Vec<bool> {
        let mut ops = Vec::new();
        let mut specs = Vec::new();
        for ins in Decoder::with_ip(64, code, 0x1000, DecoderOptions::NONE) {
            let mut op = predecode(&ins, TABLE.get(ins.mnemonic()));
            let spec = TABLE.specializer(ins.mnemonic()).and_then(|s| s(&op));
            if let Some(s) = spec {
                op.fast = s.exact;
            }
            ops.push(op);
            specs.push(spec);
        }
        elide_dead_flags(&mut ops, &specs);
        ops.iter().map(|op| op.lite as *const () != op.fast as *const ()).collect()
    }

    #[test]
    fn flags_overwritten_before_a_read_are_dead() {
        // add rax,3; xor rdx,rax; sub rcx,1; jne $
        assert_eq!(
            dead_flags(&[0x48, 0x83, 0xc0, 0x03, 0x48, 0x31, 0xc2, 0x48, 0x83, 0xe9, 0x01, 0x75, 0xfe]),
            [true, true, false, false]
        );
        // inc rax; add rbx,rax: add writes every flag inc wrote.
        assert_eq!(dead_flags(&[0x48, 0xff, 0xc0, 0x48, 0x01, 0xc3]), [true, false]);
        // add rbx,rax; inc rax; je $: CF of the add survives the inc and may be read later.
        assert_eq!(dead_flags(&[0x48, 0x01, 0xc3, 0x48, 0xff, 0xc0, 0x74, 0xfe]), [false, false, false]);
    }

    #[test]
    fn flags_are_live_across_reads_stores_and_faults() {
        // add rax,1; adc rbx,0: adc reads CF.
        assert_eq!(dead_flags(&[0x48, 0x83, 0xc0, 0x01, 0x48, 0x83, 0xd3, 0x00]), [false, false]);
        // add rax,1; mov [rbx],rax; cmp rax,rcx: the store may fault or hit code.
        assert_eq!(dead_flags(&[0x48, 0x83, 0xc0, 0x01, 0x48, 0x89, 0x03, 0x48, 0x39, 0xc8]), [false, false, false]);
        // add rax,1; cmp rax,[rbx]: the overwriting instruction itself may fault.
        assert_eq!(dead_flags(&[0x48, 0x83, 0xc0, 0x01, 0x48, 0x3b, 0x03]), [false, false]);
        // add [rbx],rax; cmp rax,rcx: a store to a code page would end the block after it.
        assert_eq!(dead_flags(&[0x48, 0x01, 0x03, 0x48, 0x39, 0xc8]), [false, false]);
        // cmp rax,[rbx]; test rax,rax: a memory read in the dead instruction itself is fine.
        assert_eq!(dead_flags(&[0x48, 0x3b, 0x03, 0x48, 0x85, 0xc0]), [true, false]);
        // add rax,1; setc cl; test rax,rax.
        assert_eq!(dead_flags(&[0x48, 0x83, 0xc0, 0x01, 0x0f, 0x92, 0xc1, 0x48, 0x85, 0xc0]), [false, false, false]);
    }
}
