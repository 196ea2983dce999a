//! The x87 FPU (SDM vol. 1 ch. 8, "Programming with the x87 FPU"), as far as glibc, musl and
//! gcc's `long double` code use it: loads/stores of every format, arithmetic, compares,
//! transcendentals, stack management, fcmov, and the control instructions
//! (fldcw/fnstcw/fnstsw/fnclex/fninit/fnstenv/fldenv/fnsave/frstor/fwait).
//!
//! Computation runs on the host's own x87 unit (`x87_host`), which makes every result,
//! condition code, exception flag and stack fault bit-exact (the transcendentals are
//! host-defined, see there). A few pure data moves that cannot raise anything when their
//! registers are in the expected state (fld/fstp of 80-bit values and registers, fxch) are
//! done here directly; anything unusual falls back to the host. The control instructions are
//! done here too, because the host would leak its own instruction and data pointers into the
//! environment images.
//!
//! State: `m.cpu.x87` (see `state::X87`): physical registers R0..R7, TOP, the status word
//! without TOP, the control word and the abridged (FXSAVE) tag byte. The last instruction and
//! data pointers and the last opcode (FIP/FDP/FOP) are not kept: fnstenv/fnsave store them as
//! zero, so nothing about the emulator's own addresses reaches the guest.
//!
//! Exceptions: an instruction whose exception is unmasked in the control word completes with
//! the hardware's unmasked response (computed by the host) and sets ES/B; the *next* waiting
//! x87 instruction (anything but fninit/fnclex/fnstsw/fnstcw/fnstenv/fnsave, including fwait)
//! then raises SIGFPE (trapno 16, si_code from the unmasked flags as Linux computes it) without
//! retiring, exactly like hardware's delayed #MF. The signal's pc is that waiting
//! instruction's; an `fstsw`-style instruction that iced decodes together with its 9B prefix
//! reports the address of the 9B byte, which is where hardware faults too.

use super::operands::{ea, set_reg};
use super::state::{fl, X87};
use super::table::Table;
use super::x87_host::{self, mem_op, sw, Image, MemOp};
use super::{Res, Trap, M};
use crate::engine::{sig, GuestFault};
use iced_x86::{Code, Instruction, Mnemonic as Mn, OpKind, Register};

/// Linux si_codes for SIGFPE from the FPU.
const FPE_FLTDIV: i32 = 3;
const FPE_FLTOVF: i32 = 4;
const FPE_FLTUND: i32 = 5;
const FPE_FLTRES: i32 = 6;
const FPE_FLTINV: i32 = 7;
/// x86 vector of the x87 floating-point error (#MF).
const TRAP_MF: u64 = 16;

/// The control word fninit loads.
pub const FCW_INIT: u16 = 0x037f;

/// The control word as loaded by fldcw/fldenv/frstor: the reserved bits 7 and 13-15 read as
/// 0 and bit 6 as 1 (measured on the host: fldcw 0xffff, fnstcw gives 0x1f7f).
#[inline]
pub fn fcw_loaded(v: u16) -> u16 {
    (v & 0x1f3f) | 0x0040
}

/// The mnemonics done by [`compute`].
pub const COMPUTE: &[Mn] = &[
    // loads and stores
    Mn::Fld,
    Mn::Fild,
    Mn::Fbld,
    Mn::Fst,
    Mn::Fstp,
    Mn::Fstpnce,
    Mn::Fist,
    Mn::Fistp,
    Mn::Fisttp,
    Mn::Fbstp,
    Mn::Fld1,
    Mn::Fldl2t,
    Mn::Fldl2e,
    Mn::Fldpi,
    Mn::Fldlg2,
    Mn::Fldln2,
    Mn::Fldz,
    // arithmetic
    Mn::Fadd,
    Mn::Faddp,
    Mn::Fiadd,
    Mn::Fsub,
    Mn::Fsubp,
    Mn::Fisub,
    Mn::Fsubr,
    Mn::Fsubrp,
    Mn::Fisubr,
    Mn::Fmul,
    Mn::Fmulp,
    Mn::Fimul,
    Mn::Fdiv,
    Mn::Fdivp,
    Mn::Fidiv,
    Mn::Fdivr,
    Mn::Fdivrp,
    Mn::Fidivr,
    Mn::Fchs,
    Mn::Fabs,
    Mn::Fsqrt,
    Mn::Frndint,
    Mn::Fscale,
    Mn::Fxtract,
    Mn::Fprem,
    Mn::Fprem1,
    Mn::F2xm1,
    Mn::Fyl2x,
    Mn::Fyl2xp1,
    Mn::Fptan,
    Mn::Fpatan,
    Mn::Fsin,
    Mn::Fcos,
    Mn::Fsincos,
    // compares
    Mn::Fcom,
    Mn::Fcomp,
    Mn::Fcompp,
    Mn::Fucom,
    Mn::Fucomp,
    Mn::Fucompp,
    Mn::Ficom,
    Mn::Ficomp,
    Mn::Fcomi,
    Mn::Fcomip,
    Mn::Fucomi,
    Mn::Fucomip,
    Mn::Ftst,
    Mn::Fxam,
    // stack and registers
    Mn::Fxch,
    Mn::Ffree,
    Mn::Ffreep,
    Mn::Fdecstp,
    Mn::Fincstp,
    Mn::Fnop,
    Mn::Fcmovb,
    Mn::Fcmove,
    Mn::Fcmovbe,
    Mn::Fcmovu,
    Mn::Fcmovnb,
    Mn::Fcmovne,
    Mn::Fcmovnbe,
    Mn::Fcmovnu,
];

pub fn register(t: &mut Table) {
    t.add(COMPUTE, compute);
    t.add(&[Mn::Wait], fwait);
    t.add(&[Mn::Fldcw], fldcw);
    t.add(&[Mn::Fnstcw, Mn::Fstcw], fstcw);
    t.add(&[Mn::Fnstsw, Mn::Fstsw], fstsw);
    t.add(&[Mn::Fnclex, Mn::Fclex], fclex);
    t.add(&[Mn::Fninit, Mn::Finit], finit);
    t.add(&[Mn::Fnstenv, Mn::Fstenv], fstenv);
    t.add(&[Mn::Fldenv], fldenv);
    t.add(&[Mn::Fnsave, Mn::Fsave], fsave);
    t.add(&[Mn::Frstor], frstor);
}

// ---- exceptions ----

/// Is an unmasked exception pending (what makes the next waiting instruction fault)?
#[inline]
pub fn pending(x: &X87) -> bool {
    x.fsw & !x.fcw & sw::EXC != 0
}

/// Recompute ES and B from the flags and masks, as hardware does when fldcw/fldenv/frstor
/// load new ones (an unmasked flag that is set becomes pending).
pub fn sync_es(x: &mut X87) {
    if pending(x) {
        x.fsw |= sw::ES | sw::B;
    } else {
        x.fsw &= !(sw::ES | sw::B);
    }
}

/// SIGFPE for the pending exception, si_code as Linux's `fpu__exception_code` computes it.
#[cold]
fn fpe(x: &X87, ins: &Instruction) -> Trap {
    let err = x.fsw & !x.fcw;
    let code = if err & 0x01 != 0 {
        FPE_FLTINV
    } else if err & 0x04 != 0 {
        FPE_FLTDIV
    } else if err & 0x08 != 0 {
        FPE_FLTOVF
    } else if err & 0x12 != 0 {
        FPE_FLTUND
    } else {
        FPE_FLTRES
    };
    let mut f = GuestFault::new(sig::SIGFPE, code, ins.ip());
    f.trapno = TRAP_MF;
    Trap::Fault(f)
}

/// What every waiting x87 instruction does first.
#[inline]
fn wait(m: &M, ins: &Instruction) -> Res {
    if pending(&m.cpu.x87) {
        return Err(fpe(&m.cpu.x87, ins));
    }
    Ok(())
}

/// The 9B-prefixed forms (fstsw, fstcw, fclex, finit, fstenv, fsave) wait first; the FN forms
/// do not.
#[inline]
fn waits(ins: &Instruction) -> bool {
    matches!(
        ins.code(),
        Code::Fstsw_AX
            | Code::Fstsw_m2byte
            | Code::Fstcw_m2byte
            | Code::Fclex
            | Code::Finit
            | Code::Fstenv_m14byte
            | Code::Fstenv_m28byte
            | Code::Fsave_m94byte
            | Code::Fsave_m108byte
    )
}

// ---- computation ----

/// The i of the ST(i) operand (0 when there is none, or it is ST(0)).
fn st_index(ins: &Instruction) -> u32 {
    (0..ins.op_count())
        .filter(|&k| ins.op_kind(k) == OpKind::Register)
        .map(|k| ins.op_register(k) as u32 - Register::ST0 as u32)
        .find(|&i| i != 0 && i < 8)
        .unwrap_or(0)
}

/// The guest's fcmov condition.
fn fcmov_cond(m: &M, code: Code) -> bool {
    let f = m.cpu.rflags;
    let (cf, zf, pf) = (f & fl::CF != 0, f & fl::ZF != 0, f & fl::PF != 0);
    match code {
        Code::Fcmovb_st0_sti => cf,
        Code::Fcmove_st0_sti => zf,
        Code::Fcmovbe_st0_sti => cf || zf,
        Code::Fcmovu_st0_sti => pf,
        Code::Fcmovnb_st0_sti => !cf,
        Code::Fcmovne_st0_sti => !zf,
        Code::Fcmovnbe_st0_sti => !cf && !zf,
        Code::Fcmovnu_st0_sti => !pf,
        _ => false,
    }
}

/// Does the instruction write ZF/PF/CF (and clear OF/SF/AF)?
fn sets_eflags(code: Code) -> bool {
    matches!(code, Code::Fcomi_st0_sti | Code::Fcomip_st0_sti | Code::Fucomi_st0_sti | Code::Fucomip_st0_sti)
}

/// Store results that are distinguishable from "nothing was stored".
const SENTINELS: [u8; 2] = [0xa5, 0x5a];

/// Every computational x87 instruction: a fast path for plain data moves, else the host.
fn compute(m: &mut M, ins: &Instruction) -> Res {
    wait(m, ins)?;
    let code = ins.code();
    let i = st_index(ins);
    if fast(m, ins, code, i)? {
        return Ok(());
    }
    let mop = mem_op(code);
    let addr = if ins.op_count() > 0 && ins.op_kind(0) == OpKind::Memory { ea(m, ins) } else { 0 };
    let mut buf = [0u8; 16];
    if let MemOp::Load(n) = mop {
        m.mem.read_bytes(addr, &mut buf[..n])?;
    }
    let cond = fcmov_cond(m, code);
    let start = Image::from_state(&m.cpu.x87);
    let mut img = start.clone();
    let unimplemented = || Trap::Fault(super::sigill(ins, "unimplemented x87 form"));
    let flags = match mop {
        MemOp::Store(n) => {
            // An unmasked exception suppresses the store. Tell that apart from a stored value
            // that happens to equal the buffer's filling by trying a second filling if needed.
            buf = [SENTINELS[0]; 16];
            let mut flags = x87_host::run(code, i, cond, &mut img, &mut buf).ok_or_else(unimplemented)?;
            let mut stored = buf[..n].iter().any(|&b| b != SENTINELS[0]);
            if !stored {
                buf = [SENTINELS[1]; 16];
                img = start;
                flags = x87_host::run(code, i, cond, &mut img, &mut buf).ok_or_else(unimplemented)?;
                stored = buf[..n].iter().any(|&b| b != SENTINELS[1]);
            }
            if stored {
                m.mem.write_bytes(addr, &buf[..n])?;
            }
            flags
        }
        _ => x87_host::run(code, i, cond, &mut img, &mut buf).ok_or_else(unimplemented)?,
    };
    img.to_state(&mut m.cpu.x87);
    if sets_eflags(code) {
        m.cpu.rflags = (m.cpu.rflags & !fl::STATUS) | (flags & fl::STATUS);
    }
    Ok(())
}

// ---- fast paths: pure data moves, done in software when no fault is possible ----

/// Physical register number of ST(i).
#[inline]
fn phys(x: &X87, i: u32) -> usize {
    (x.top as usize + i as usize) & 7
}

#[inline]
fn valid(x: &X87, r: usize) -> bool {
    x.ftw & (1 << r) != 0
}

/// Push `v` (80-bit); the caller checked the target register is empty. C1 = 0; C0, C2, C3
/// are left alone (what the host does for these "undefined" flags).
fn push(x: &mut X87, v: [u8; 10]) {
    let r = (x.top as usize + 7) & 7;
    x.top = r as u8;
    x.regs[r] = [0; 16];
    x.regs[r][..10].copy_from_slice(&v);
    x.ftw |= 1 << r;
    x.fsw &= !sw::C1;
}

fn pop(x: &mut X87) {
    let r = x.top as usize;
    x.ftw &= !(1 << r);
    x.top = ((r + 1) & 7) as u8;
}

fn reg(x: &X87, r: usize) -> [u8; 10] {
    let mut v = [0u8; 10];
    v.copy_from_slice(&x.regs[r][..10]);
    v
}

/// Try the software path; `Ok(true)` if it did the instruction.
fn fast(m: &mut M, ins: &Instruction, code: Code, i: u32) -> Result<bool, Trap> {
    let x = &m.cpu.x87;
    let st0 = phys(x, 0);
    let sti = phys(x, i);
    let below = (x.top as usize + 7) & 7;
    match code {
        Code::Fld_m80fp if !valid(x, below) => {
            let v: [u8; 10] = m.mem.read(ea(m, ins))?;
            push(&mut m.cpu.x87, v);
        }
        Code::Fld_sti if !valid(x, below) && valid(x, sti) => {
            let v = reg(x, sti);
            push(&mut m.cpu.x87, v);
        }
        Code::Fstp_m80fp if valid(x, st0) => {
            let v = reg(x, st0);
            m.mem.write(ea(m, ins), v)?;
            let x = &mut m.cpu.x87;
            pop(x);
            x.fsw &= !sw::C1;
        }
        Code::Fst_sti | Code::Fstp_sti if valid(x, st0) => {
            let x = &mut m.cpu.x87;
            x.regs[sti] = x.regs[st0];
            x.ftw |= 1 << sti;
            if code == Code::Fstp_sti {
                pop(x);
            }
            x.fsw &= !sw::C1;
        }
        Code::Fxch_st0_sti if valid(x, st0) && valid(x, sti) => {
            let x = &mut m.cpu.x87;
            x.regs.swap(st0, sti);
            x.fsw &= !sw::C1;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

// ---- control instructions ----

fn fwait(m: &mut M, ins: &Instruction) -> Res {
    wait(m, ins)
}

fn fldcw(m: &mut M, ins: &Instruction) -> Res {
    wait(m, ins)?;
    let v = m.mem.read_u16(ea(m, ins))?;
    let x = &mut m.cpu.x87;
    x.fcw = fcw_loaded(v);
    sync_es(x);
    Ok(())
}

fn fstcw(m: &mut M, ins: &Instruction) -> Res {
    if waits(ins) {
        wait(m, ins)?;
    }
    let v = m.cpu.x87.fcw;
    m.mem.write_u16(ea(m, ins), v)?;
    Ok(())
}

/// The full status word with TOP.
#[inline]
pub fn status_word(x: &X87) -> u16 {
    (x.fsw & !sw::TOP) | ((x.top as u16 & 7) << 11)
}

fn fstsw(m: &mut M, ins: &Instruction) -> Res {
    if waits(ins) {
        wait(m, ins)?;
    }
    let v = status_word(&m.cpu.x87);
    if ins.op_kind(0) == OpKind::Register {
        set_reg(m, Register::AX, v as u64);
    } else {
        m.mem.write_u16(ea(m, ins), v)?;
    }
    Ok(())
}

fn fclex(m: &mut M, ins: &Instruction) -> Res {
    if waits(ins) {
        wait(m, ins)?;
    }
    m.cpu.x87.fsw &= !(sw::EXC | sw::SF | sw::ES | sw::B);
    Ok(())
}

/// fninit: control word 0x037f, status 0 (TOP 0), all registers empty; contents stay.
pub fn init(x: &mut X87) {
    x.fcw = FCW_INIT;
    x.fsw = 0;
    x.top = 0;
    x.ftw = 0;
}

fn finit(m: &mut M, ins: &Instruction) -> Res {
    if waits(ins) {
        wait(m, ins)?;
    }
    init(&mut m.cpu.x87);
    Ok(())
}

/// The 2-bit tag of a non-empty register from its contents: 0 valid, 1 zero, 2 special
/// (NaN, infinity, denormal, pseudo-denormal, unnormal, unsupported).
fn tag_of(r: &[u8; 16]) -> u16 {
    let mant = u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]);
    let exp = u16::from_le_bytes([r[8], r[9]]) & 0x7fff;
    match exp {
        0x7fff => 2,
        0 if mant == 0 => 1,
        0 => 2,
        _ if mant >> 63 == 1 => 0,
        _ => 2,
    }
}

/// The full tag word (FNSTENV/FNSAVE), physical register i in bits 2i+1:2i.
pub fn full_tag_word(x: &X87) -> u16 {
    (0..8).fold(0u16, |t, r| t | (if valid(x, r) { tag_of(&x.regs[r]) } else { 3 }) << (2 * r))
}

/// The abridged tag byte from a full tag word: empty (11) or not.
pub fn abridged_tag(full: u16) -> u8 {
    (0..8).fold(0u8, |t, r| t | (((full >> (2 * r)) & 3 != 3) as u8) << r)
}

/// The environment image of fnstenv/fnsave: 28 bytes (14 with a 0x66 prefix). The
/// instruction/data pointers, selectors and opcode are stored as zero; the reserved upper
/// halves of the 28-byte form read 0xffff, as this host (AMD Zen) stores them.
fn env_image(x: &X87, long: bool) -> ([u8; 28], usize) {
    let mut e = [0u8; 28];
    let words = [x.fcw, status_word(x), full_tag_word(x)];
    if long {
        for (k, w) in words.iter().enumerate() {
            e[4 * k..4 * k + 2].copy_from_slice(&w.to_le_bytes());
            e[4 * k + 2..4 * k + 4].copy_from_slice(&[0xff, 0xff]);
        }
        e[26..28].copy_from_slice(&[0xff, 0xff]);
        (e, 28)
    } else {
        for (k, w) in words.iter().enumerate() {
            e[2 * k..2 * k + 2].copy_from_slice(&w.to_le_bytes());
        }
        (e, 14)
    }
}

/// Load an environment image (fldenv/frstor): control word, status word with TOP, tags.
fn load_env(x: &mut X87, e: &[u8], long: bool) {
    let word = |k: usize| {
        let o = if long { 4 * k } else { 2 * k };
        u16::from_le_bytes([e[o], e[o + 1]])
    };
    x.fcw = fcw_loaded(word(0));
    let fsw = word(1);
    x.top = ((fsw >> 11) & 7) as u8;
    x.fsw = fsw & !sw::TOP;
    x.ftw = abridged_tag(word(2));
    sync_es(x);
}

/// Is this env/save form the 32-bit (28-byte env) layout?
fn long_env(code: Code) -> bool {
    matches!(
        code,
        Code::Fnstenv_m28byte
            | Code::Fstenv_m28byte
            | Code::Fldenv_m28byte
            | Code::Fnsave_m108byte
            | Code::Fsave_m108byte
            | Code::Frstor_m108byte
    )
}

fn fstenv(m: &mut M, ins: &Instruction) -> Res {
    if waits(ins) {
        wait(m, ins)?;
    }
    let (e, n) = env_image(&m.cpu.x87, long_env(ins.code()));
    m.mem.write_bytes(ea(m, ins), &e[..n])?;
    // fnstenv then masks all exceptions.
    let x = &mut m.cpu.x87;
    x.fcw |= sw::EXC;
    sync_es(x);
    Ok(())
}

fn fldenv(m: &mut M, ins: &Instruction) -> Res {
    wait(m, ins)?;
    let long = long_env(ins.code());
    let mut e = [0u8; 28];
    let n = if long { 28 } else { 14 };
    m.mem.read_bytes(ea(m, ins), &mut e[..n])?;
    load_env(&mut m.cpu.x87, &e[..n], long);
    Ok(())
}

fn fsave(m: &mut M, ins: &Instruction) -> Res {
    if waits(ins) {
        wait(m, ins)?;
    }
    let long = long_env(ins.code());
    let x = &m.cpu.x87;
    let (e, n) = env_image(x, long);
    let mut img = [0u8; 108];
    img[..n].copy_from_slice(&e[..n]);
    for i in 0..8 {
        img[n + 10 * i..n + 10 * i + 10].copy_from_slice(&x.regs[phys(x, i as u32)][..10]);
    }
    m.mem.write_bytes(ea(m, ins), &img[..n + 80])?;
    init(&mut m.cpu.x87);
    Ok(())
}

fn frstor(m: &mut M, ins: &Instruction) -> Res {
    wait(m, ins)?;
    let long = long_env(ins.code());
    let n = if long { 28 } else { 14 };
    let mut img = [0u8; 108];
    m.mem.read_bytes(ea(m, ins), &mut img[..n + 80])?;
    let x = &mut m.cpu.x87;
    load_env(x, &img[..n], long);
    for i in 0..8 {
        let r = phys(x, i as u32);
        x.regs[r] = [0; 16];
        x.regs[r][..10].copy_from_slice(&img[n + 10 * i..n + 10 * i + 10]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Oracle: the host CPU running the very same instruction bytes (encoded by iced from the
    //! `Code`, independent of the handlers' own instruction table) from the same state, on an
    //! RWX trampoline page: fxrstor the state, popfq the flags, the instruction with its
    //! memory operand at [rsi], pushfq, fxsave.
    use super::*;
    use crate::engine::Machine;
    use crate::isa::x86_64::table::TABLE;
    use crate::mem::{flags, Memory};
    use iced_x86::{Decoder, DecoderOptions, Encoder, MemoryOperand};
    use std::sync::{LazyLock, Mutex};

    const DATA: u64 = 0x10000;
    const CODE: u64 = 0x1000;
    /// Guest address of the memory operand.
    const OPND: u64 = DATA + 0x100;
    const BUF: usize = 128;

    fn machine() -> M {
        let mut mem = Memory::new(1 << 24).expect("guest memory");
        assert!(mem.map(DATA, 0x1000, flags::R | flags::W));
        Machine { cpu: Default::default(), mem, icount: 0, limit: u64::MAX }
    }

    fn decode(bytes: &[u8]) -> Instruction {
        let ins = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE).decode();
        assert!(!ins.is_invalid(), "invalid bytes {bytes:02x?}");
        ins
    }

    /// Run every instruction in `bytes` (iced decodes `9B 66 D9 /6` as fwait + fnstenv).
    fn exec(m: &mut M, bytes: &[u8]) -> Res {
        let mut d = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE);
        while d.can_decode() {
            let ins = d.decode();
            assert!(!ins.is_invalid(), "invalid bytes {bytes:02x?}");
            m.cpu.rip = ins.next_ip();
            TABLE.get(ins.mnemonic())(m, &ins)?;
        }
        Ok(())
    }

    /// What the native trampoline exchanges besides the image and the operand buffer.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default)]
    struct Ctx {
        rflags: u64,
        rax: u64,
    }

    const SLOT: usize = 15;

    struct Tramp {
        code: *mut u8,
        slot: usize,
    }
    // SAFETY: the page is only used under the mutex.
    unsafe impl Send for Tramp {}

    static TRAMP: LazyLock<Mutex<Tramp>> = LazyLock::new(|| {
        use iced_x86::code_asm::*;
        let asm = |f: &dyn Fn(&mut CodeAssembler) -> Result<(), iced_x86::IcedError>| {
            let mut a = CodeAssembler::new(64).unwrap();
            f(&mut a).unwrap();
            a.assemble(0).unwrap()
        };
        // extern "sysv64" fn(img: rdi, buf: rsi, ctx: rdx)
        let pro = asm(&|a| {
            a.fnstcw(word_ptr(rdi + 508))?;
            a.stmxcsr(dword_ptr(rdi + 24))?;
            a.fxrstor64(ptr(rdi))?;
            a.mov(rax, qword_ptr(rdx + 8))?;
            a.push(qword_ptr(rdx))?;
            a.popfq()
        });
        let epi = asm(&|a| {
            a.pushfq()?;
            a.pop(qword_ptr(rdx))?;
            a.mov(qword_ptr(rdx + 8), rax)?;
            a.fxsave64(ptr(rdi))?;
            a.fninit()?;
            a.fldcw(word_ptr(rdi + 508))?;
            a.ret()
        });
        // SAFETY: a fresh anonymous mapping that we own.
        unsafe {
            let code = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert!(code != libc::MAP_FAILED);
            let code = code as *mut u8;
            let mut bytes = pro.clone();
            let slot = bytes.len();
            bytes.extend_from_slice(&[0x90; SLOT]);
            bytes.extend_from_slice(&epi);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), code, bytes.len());
            Mutex::new(Tramp { code, slot })
        }
    });

    /// Run one x87 instruction natively. It must only touch rax, the flags, the x87 unit and
    /// [rsi..rsi+BUF), and no unmasked exception may be pending in `img`.
    fn native(bytes: &[u8], img: &mut Image, buf: &mut [u8; BUF], ctx: &mut Ctx) {
        assert!(bytes.len() <= SLOT);
        let t = TRAMP.lock().unwrap_or_else(|e| e.into_inner());
        ctx.rflags = (ctx.rflags & fl::STATUS) | fl::FIXED;
        // SAFETY: the trampoline loads/saves the x87 state from/to `img` (512 bytes, aligned),
        // runs the instruction (whose memory operand is [rsi] = `buf`) and restores the x87
        // unit; rax and the flags are caller-saved.
        unsafe {
            let slot = t.code.add(t.slot);
            std::ptr::write_bytes(slot, 0x90, SLOT);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), slot, bytes.len());
            let f: extern "sysv64" fn(*mut u8, *mut u8, *mut Ctx) = std::mem::transmute(t.code);
            f(img.0.as_mut_ptr(), buf.as_mut_ptr(), ctx);
        }
    }

    /// Small deterministic PRNG (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick<T: Copy>(&mut self, v: &[T]) -> T {
            v[self.below(v.len() as u64) as usize]
        }
    }

    fn f80(sign: bool, exp: u16, mant: u64) -> [u8; 10] {
        let mut v = [0u8; 10];
        v[..8].copy_from_slice(&mant.to_le_bytes());
        v[8..].copy_from_slice(&((sign as u16) << 15 | exp).to_le_bytes());
        v
    }

    /// An interesting 80-bit value.
    fn rand_f80(r: &mut Rng) -> [u8; 10] {
        let s = r.below(2) == 1;
        const J: u64 = 1 << 63;
        match r.below(24) {
            0 => f80(s, 0, 0),
            1 => f80(s, 0x3fff, J),
            2 => f80(s, 0x7fff, J),                                                 // inf
            3 => f80(s, 0x7fff, J | 1 << 62 | r.below(1 << 20)),                    // QNaN
            4 => f80(s, 0x7fff, J | (1 + r.below(1 << 40))),                        // SNaN
            5 => f80(true, 0x7fff, J | 1 << 62),                                    // indefinite
            6 => f80(s, 0x7fff, r.next() >> 1),                                     // pseudo-NaN/inf
            7 => f80(s, 0, r.next() >> (1 + r.below(63))),                          // denormal
            8 => f80(s, 0, J | r.next()),                                           // pseudo-denormal
            9 => f80(s, 1 + r.below(0x7ffe) as u16, r.next() >> 1),                 // unnormal
            10 => f80(s, 0x7ffe, u64::MAX),                                         // max
            11 => f80(s, 1, J),                                                     // min normal
            12 => f80(s, 0x3fff + r.below(64) as u16, J | r.next() >> r.below(64)), // int-ish
            13 => f80(s, 0x3fff + 62, J | r.next() >> 2),                           // near 2^63
            14 => f80(s, 0x3ffe + r.below(18) as u16, J | (r.below(4) << 60)),      // halves
            15 => f80(s, 0x3fff - 1022 + r.below(3) as u16 - 1, J | r.next()),      // f64 edge
            16 => f80(s, 0x3fff + 1023, u64::MAX - r.below(4096)),                  // f64 overflow edge
            17 => f80(s, 0x3fff - 126 - r.below(30) as u16, J | r.next()),          // f32 denormals
            18 => f80(s, r.below(0x7fff) as u16, J | r.next()),                     // anything
            _ => f80(s, 0x3fff - 8 + r.below(16) as u16, J | r.next()),             // ordinary
        }
    }

    /// A random guest x87 state with no unmasked exception pending.
    fn rand_state(r: &mut Rng) -> X87 {
        let mut x = X87::default();
        for reg in x.regs.iter_mut() {
            reg[..10].copy_from_slice(&rand_f80(r));
        }
        x.top = r.below(8) as u8;
        x.ftw = match r.below(4) {
            0 => 0,
            1 => 0xff,
            _ => r.next() as u8,
        };
        let masks = if r.below(4) == 0 { r.next() as u16 & 0x3f } else { 0x3f };
        let rc = r.below(4) as u16;
        let pc = r.pick(&[3u16, 3, 2, 0, 1]);
        x.fcw = 0x40 | masks | pc << 8 | rc << 10 | ((r.below(8) == 0) as u16 * 0x1000);
        let flags = r.next() as u16 & masks;
        x.fsw = flags | (r.next() as u16 & (sw::C0 | sw::C1 | sw::C2 | sw::C3)) | ((r.below(4) == 0) as u16 * sw::SF);
        x
    }

    /// Random bytes for a memory operand of `n` bytes.
    fn rand_mem(r: &mut Rng, code: Code, n: usize, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            *b = r.next() as u8;
        }
        let z = r.next();
        let fp = format!("{code:?}").ends_with("fp");
        match n {
            2 => buf[..2].copy_from_slice(&r.pick(&[0i16, 1, -1, i16::MAX, i16::MIN, z as i16]).to_le_bytes()),
            4 if fp => buf[..4].copy_from_slice(
                &r.pick(&[
                    0u32,
                    0x8000_0000,
                    0x3f80_0000,
                    0x7f80_0000,
                    0xff80_0000,
                    0x7fc0_0000,
                    0x7f80_0001,
                    1,
                    0x007f_ffff,
                    0x7f7f_ffff,
                    z as u32,
                ])
                .to_le_bytes(),
            ),
            4 => buf[..4].copy_from_slice(&r.pick(&[0i32, 1, -1, i32::MAX, i32::MIN, z as i32]).to_le_bytes()),
            8 if fp => buf[..8].copy_from_slice(
                &r.pick(&[
                    0u64,
                    1 << 63,
                    0x3ff0_0000_0000_0000,
                    0x7ff0_0000_0000_0000,
                    0x7ff8_0000_0000_0000,
                    0x7ff0_0000_0000_0001,
                    1,
                    0x000f_ffff_ffff_ffff,
                    0x7fef_ffff_ffff_ffff,
                    z,
                    z >> 1,
                ])
                .to_le_bytes(),
            ),
            8 => buf[..8].copy_from_slice(&r.pick(&[0i64, 1, -1, i64::MAX, i64::MIN, z as i64]).to_le_bytes()),
            10 if code == Code::Fbld_m80bcd => {
                for b in buf[..9].iter_mut() {
                    *b = (r.below(10) << 4 | r.below(10)) as u8;
                }
                buf[9] = r.pick(&[0u8, 0x80, z as u8]);
                if r.below(8) == 0 {
                    buf[r.below(9) as usize] = 0xfa; // invalid digit
                }
            }
            10 => buf[..10].copy_from_slice(&rand_f80(r)),
            _ => {}
        }
    }

    /// The operands of `code`, from its name (`Fadd_st0_sti`, `Fld_m80fp`, `Fnstsw_AX`).
    enum Opnd {
        St0,
        Sti,
        Mem,
        Ax,
    }
    fn operands(code: Code) -> Vec<Opnd> {
        format!("{code:?}")
            .split('_')
            .skip(1)
            .filter_map(|t| match t {
                "st0" => Some(Opnd::St0),
                "sti" => Some(Opnd::Sti),
                "AX" => Some(Opnd::Ax),
                _ if t.starts_with('m') && t[1..].starts_with(|c: char| c.is_ascii_digit()) => Some(Opnd::Mem),
                _ => None,
            })
            .collect()
    }

    /// Encode `code` with ST(i) for an ST(i) operand and [rsi] for a memory operand.
    fn encode(code: Code, i: u32) -> Vec<u8> {
        let mem = MemoryOperand::with_base(Register::RSI);
        let reg = |o: &Opnd| match o {
            Opnd::St0 => Register::ST0,
            Opnd::Sti => Register::try_from(Register::ST0 as usize + i as usize).unwrap(),
            Opnd::Ax => Register::AX,
            Opnd::Mem => unreachable!(),
        };
        let ops = operands(code);
        let ins = match &ops[..] {
            [] => Instruction::with(code),
            [Opnd::Mem] => Instruction::with1(code, mem).unwrap(),
            [a] => Instruction::with1(code, reg(a)).unwrap(),
            [a, b] => Instruction::with2(code, reg(a), reg(b)).unwrap(),
            _ => panic!("{code:?}"),
        };
        let mut e = Encoder::new(64);
        e.encode(&ins, CODE).unwrap();
        e.take_buffer()
    }

    /// The x87 part of an image as compared: FCW, FSW, FTW, and ST0..ST7 (10 bytes each).
    fn x87_part(img: &Image) -> Vec<u8> {
        let mut v = img.0[0..5].to_vec();
        for i in 0..8 {
            v.extend_from_slice(&img.0[32 + 16 * i..42 + 16 * i]);
        }
        v
    }

    /// Run `bytes` on the host and in the emulator from `x`/`rflags`/`mem` and compare the
    /// x87 state, the status flags, rax and the operand buffer.
    fn compare(m: &mut M, bytes: &[u8], x: &X87, rflags: u64, mem: &[u8; BUF]) -> Result<(), String> {
        compare_ignoring(m, bytes, x, rflags, mem, 0..0)
    }

    /// `compare`, but the operand bytes in `ignore` may differ (FIP/FDP/FOP in env images).
    fn compare_ignoring(
        m: &mut M,
        bytes: &[u8],
        x: &X87,
        rflags: u64,
        mem: &[u8; BUF],
        ignore: std::ops::Range<usize>,
    ) -> Result<(), String> {
        let mut img = Image::from_state(x);
        let mut nbuf = *mem;
        let mut ctx = Ctx { rflags, rax: 0x1234_5678_9abc_def0 };
        native(bytes, &mut img, &mut nbuf, &mut ctx);

        m.cpu.x87 = *x;
        m.cpu.rflags = (rflags & fl::STATUS) | fl::FIXED;
        m.cpu.gpr = [0; 16];
        m.cpu.gpr[0] = 0x1234_5678_9abc_def0;
        m.cpu.gpr[6] = OPND;
        m.mem.write_bytes(OPND, mem).unwrap();
        if let Err(t) = exec(m, bytes) {
            return Err(format!("trapped {t:?}"));
        }
        let mut ebuf = [0u8; BUF];
        m.mem.read_bytes(OPND, &mut ebuf).unwrap();
        ebuf[ignore.clone()].fill(0);
        nbuf[ignore].fill(0);
        let eimg = Image::from_state(&m.cpu.x87);
        let mut diff = String::new();
        // Image::from_state clears a non-pending ES; compare the raw status word instead.
        let mut e = x87_part(&eimg);
        e[2..4].copy_from_slice(&status_word(&m.cpu.x87).to_le_bytes());
        let n = x87_part(&img);
        if e != n {
            diff += &format!("\n  x87 emu  {e:02x?}\n  x87 host {n:02x?}");
        }
        if m.cpu.rflags & fl::STATUS != ctx.rflags & fl::STATUS {
            diff += &format!("\n  flags emu {:#x} host {:#x}", m.cpu.rflags, ctx.rflags);
        }
        if m.cpu.gpr[0] != ctx.rax {
            diff += &format!("\n  rax emu {:#x} host {:#x}", m.cpu.gpr[0], ctx.rax);
        }
        if ebuf != nbuf {
            diff += &format!("\n  mem emu {:02x?}\n  mem host {:02x?}", &ebuf[..32], &nbuf[..32]);
        }
        if diff.is_empty() {
            Ok(())
        } else {
            Err(format!("`{}` {bytes:02x?} from {x:x?} flags {rflags:#x}{diff}", super::super::disasm(&decode(bytes))))
        }
    }

    /// Every code the compute handler owns, each with random states, ST(i) and operands.
    #[test]
    fn compute_matches_host() {
        let mut m = machine();
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let mut codes = 0;
        let mut fails = Vec::new();
        for code in Code::values() {
            if !COMPUTE.contains(&code.mnemonic()) {
                continue;
            }
            codes += 1;
            let regs = operands(code).iter().any(|o| matches!(o, Opnd::Sti));
            for i in 0..if regs { 8 } else { 1 } {
                let bytes = encode(code, i);
                for _ in 0..150 {
                    let x = rand_state(&mut r);
                    let mut mem = [0u8; BUF];
                    let n = match mem_op(code) {
                        MemOp::Load(n) | MemOp::Store(n) => n,
                        MemOp::None => 0,
                    };
                    rand_mem(&mut r, code, n, &mut mem);
                    if let Err(e) = compare(&mut m, &bytes, &x, r.next(), &mem) {
                        fails.push(e);
                    }
                }
            }
        }
        assert!(codes > 120, "only {codes} codes");
        assert!(fails.is_empty(), "{} failures, first:\n{}", fails.len(), fails[..fails.len().min(5)].join("\n"));
    }

    /// Encode a control instruction with [rsi] or AX.
    fn control_codes() -> Vec<Code> {
        Code::values()
            .filter(|c| {
                let mn = c.mnemonic();
                TABLE.is_implemented(mn) && !COMPUTE.contains(&mn) && format!("{mn:?}").starts_with('F')
            })
            .collect()
    }

    /// A random environment image (28 or 14 bytes) followed by 8 random registers.
    fn rand_env(r: &mut Rng, long: bool, mem: &mut [u8; BUF]) {
        for b in mem.iter_mut() {
            *b = r.next() as u8;
        }
        let fcw = match r.below(3) {
            0 => r.next() as u16,
            1 => 0x037f,
            _ => 0x0340 | (r.next() as u16 & 0x0f3f),
        };
        let fsw = if r.below(2) == 0 { r.next() as u16 } else { r.next() as u16 & !(sw::ES | sw::B) };
        let z = r.next() as u16;
        let ftw = r.pick(&[0u16, 0xffff, z]);
        let (step, n) = if long { (4, 28) } else { (2, 14) };
        for (k, w) in [fcw, fsw, ftw].iter().enumerate() {
            mem[step * k..step * k + 2].copy_from_slice(&w.to_le_bytes());
        }
        for i in 0..8 {
            mem[n + 10 * i..n + 10 * i + 10].copy_from_slice(&rand_f80(r));
        }
    }

    /// fnstcw/fnstsw/fnclex/fninit/fldcw/fnstenv/fldenv/fnsave/frstor and their waiting
    /// forms, from random states and operands, against the host; the instruction/data
    /// pointers and the opcode in environment images are ignored (we store zero).
    #[test]
    fn control_matches_host() {
        let mut m = machine();
        let mut r = Rng(77);
        let codes = control_codes();
        assert!(codes.len() >= 20, "{codes:?}");
        for &code in &codes {
            let bytes = encode(code, 0);
            let long = long_env(code);
            let ignore = if long { 12..26 } else { 6..14 };
            for _ in 0..300 {
                let x = rand_state(&mut r);
                let mut mem = [0u8; BUF];
                rand_env(&mut r, long, &mut mem);
                if code == Code::Fldcw_m2byte && r.below(2) == 0 {
                    mem[..2].copy_from_slice(&(0x0340 | (r.next() as u16 & 0x0f3f)).to_le_bytes());
                }
                compare_ignoring(&mut m, &bytes, &x, r.next(), &mem, ignore.clone()).unwrap();
            }
        }
    }

    fn run(m: &mut M, asm: impl Fn(&mut iced_x86::code_asm::CodeAssembler) -> Result<(), iced_x86::IcedError>) -> Res {
        let mut a = iced_x86::code_asm::CodeAssembler::new(64).unwrap();
        asm(&mut a).unwrap();
        let bytes = a.assemble(CODE).unwrap();
        let mut d = Decoder::with_ip(64, &bytes, CODE, DecoderOptions::NONE);
        while d.can_decode() {
            let ins = d.decode();
            m.cpu.rip = ins.next_ip();
            TABLE.get(ins.mnemonic())(m, &ins)?;
        }
        Ok(())
    }

    fn fpe_code(r: Res) -> (i32, u64, u64) {
        match r {
            Err(Trap::Fault(f)) if f.signo == sig::SIGFPE => (f.code, f.addr, f.trapno),
            other => panic!("expected SIGFPE, got {other:?}"),
        }
    }

    /// An unmasked exception completes its instruction (with the unmasked response) and
    /// faults at the next waiting one, which does not retire; FN-forms run regardless.
    #[test]
    fn unmasked_exception_is_delayed() {
        use iced_x86::code_asm::*;
        let mut m = machine();
        m.cpu.gpr[6] = OPND;
        m.mem.write_u16(OPND, 0x037f & !0x04).unwrap(); // unmask ZE
        run(&mut m, |a| {
            a.fldcw(word_ptr(rsi))?;
            a.fld1()?;
            a.fldz()?;
            a.fdivp(st1, st0)
        })
        .unwrap();
        let x = m.cpu.x87;
        // Unmasked #Z: the destination is left alone, the pop still happens, ES/B are set.
        assert_eq!(x.fsw & (sw::EXC | sw::ES | sw::B), 0x04 | sw::ES | sw::B);
        // No pop either (measured on the host).
        assert_eq!(x.top, 6);
        assert_eq!(&x.regs[7][..10], &f80(false, 0x3fff, 1 << 63));
        // The next waiting instruction faults at its own address and changes nothing.
        let before = m.cpu;
        let (code, addr, trapno) = fpe_code(run(&mut m, |a| a.fld1()));
        assert_eq!((code, addr, trapno), (FPE_FLTDIV, CODE, 16));
        assert_eq!((m.cpu.x87, m.cpu.gpr), (before.x87, before.gpr));
        fpe_code(run(&mut m, |a| a.wait()));
        fpe_code(run(&mut m, |a| a.fstsw(ax)));
        fpe_code(run(&mut m, |a| a.fldcw(word_ptr(rsi))));
        // Non-waiting instructions run; fnclex clears it.
        run(&mut m, |a| {
            a.fnstsw(ax)?;
            a.fnstcw(word_ptr(rsi + 2))
        })
        .unwrap();
        assert_eq!(m.cpu.gpr[0] as u16, 0xb084);
        run(&mut m, |a| {
            a.fnclex()?;
            a.wait()?;
            a.fld1()
        })
        .unwrap();
        // Masking it in the control word also ends the pending state.
        m.cpu.x87.fsw |= 0x08;
        m.cpu.x87.fcw &= !0x08;
        assert_eq!(fpe_code(run(&mut m, |a| a.wait())).0, FPE_FLTOVF);
        m.mem.write_u16(OPND, 0x037f).unwrap();
        // fldcw waits first, so the pending overflow faults before the new mask is loaded...
        fpe_code(run(&mut m, |a| a.fldcw(word_ptr(rsi))));
        // ...while fnstenv stores and then masks everything.
        run(&mut m, |a| a.fnstenv(ptr(rsi))).unwrap();
        assert!(!pending(&m.cpu.x87));
        run(&mut m, |a| a.wait()).unwrap();
    }

    /// si_code priority as in Linux: invalid, zero-divide, overflow, underflow/denormal,
    /// precision.
    #[test]
    fn sigfpe_codes() {
        let mut m = machine();
        for (flags, want) in [
            (0x3f, FPE_FLTINV),
            (0x3e, FPE_FLTDIV),
            (0x38, FPE_FLTOVF),
            (0x30, FPE_FLTUND),
            (0x02, FPE_FLTUND),
            (0x20, FPE_FLTRES),
        ] {
            m.cpu.x87.fcw = 0x0340;
            m.cpu.x87.fsw = flags | sw::ES | sw::B;
            assert_eq!(fpe_code(run(&mut m, |a| a.wait())).0, want);
        }
    }

    /// A faulting memory access leaves the x87 state alone; an unmasked exception on a store
    /// leaves memory alone.
    #[test]
    fn faults_do_not_modify_state() {
        use iced_x86::code_asm::*;
        let mut m = machine();
        m.cpu.gpr[6] = OPND;
        run(&mut m, |a| {
            a.fldpi()?;
            a.fld1()
        })
        .unwrap();
        let before = m.cpu;
        for unmapped in [0x20000u64, DATA + 0x1000 - 4] {
            m.cpu.gpr[3] = unmapped;
            for r in [
                run(&mut m, |a| a.fstp(tword_ptr(rbx))),
                run(&mut m, |a| a.fstp(qword_ptr(rbx))),
                run(&mut m, |a| a.fistp(qword_ptr(rbx))),
                run(&mut m, |a| a.fld(tword_ptr(rbx))),
                run(&mut m, |a| a.fadd(qword_ptr(rbx))),
                run(&mut m, |a| a.fnstenv(ptr(rbx))),
                run(&mut m, |a| a.fnsave(ptr(rbx))),
            ] {
                assert!(matches!(r, Err(Trap::Fault(f)) if f.signo == sig::SIGSEGV));
                m.cpu.gpr[3] = before.gpr[3];
                assert_eq!(m.cpu.x87, before.x87);
            }
        }
        // Unmasked invalid on fistp (out of range): no store, ES pending, the pop happens
        // (as on hardware: the unmasked response of a store only suppresses the write).
        m.mem.write_u16(OPND, 0x037e).unwrap();
        m.mem.write_u64(OPND + 8, 0x1111).unwrap();
        m.mem.write(OPND + 16, f80(false, 0x3fff + 70, 1 << 63)).unwrap();
        run(&mut m, |a| {
            a.fldcw(word_ptr(rsi))?;
            a.fld(tword_ptr(rsi + 16))
        })
        .unwrap();
        run(&mut m, |a| a.fistp(word_ptr(rsi + 8))).unwrap();
        assert_eq!(m.mem.read_u64(OPND + 8).unwrap(), 0x1111);
        assert!(pending(&m.cpu.x87));
    }

    /// A glibc-style sequence (long double expl-like code) through the decoder, then every
    /// register compared with the same code run natively.
    #[test]
    fn sequence_matches_host() {
        use iced_x86::code_asm::*;
        let prog = |a: &mut CodeAssembler| -> Result<(), iced_x86::IcedError> {
            a.fninit()?;
            a.fld(tword_ptr(rsi))?; // x
            a.fldl2e()?;
            a.fmul_2(st0, st1)?; // x*log2e
            a.fld(st0)?;
            a.frndint()?;
            a.fsub_2(st1, st0)?;
            a.fxch(st0, st1)?;
            a.f2xm1()?;
            a.fld1()?;
            a.faddp(st1, st0)?;
            a.fscale()?;
            a.fstp(st1)?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rsi + 16))?;
            a.fist(dword_ptr(rsi + 32))?;
            a.fld(qword_ptr(rsi + 40))?;
            a.fucomip(st0, st1)?;
            a.fcmovnbe(st0, st1)?;
            a.fld(dword_ptr(rsi + 48))?;
            a.fpatan()?;
            a.fsqrt()?;
            a.fnstsw(ax)?;
            a.fstp(qword_ptr(rsi + 56))?;
            a.fnstcw(word_ptr(rsi + 64))?;
            a.fnstenv(ptr(rsi + 72))?;
            a.fldenv(ptr(rsi + 72))
        };
        let mut a = CodeAssembler::new(64).unwrap();
        prog(&mut a).unwrap();
        let bytes = a.assemble(CODE).unwrap();
        let mut mem = [0u8; BUF];
        mem[..10].copy_from_slice(&f80(false, 0x4000, 0xb8aa_3b29_5c17_f0bc));
        mem[40..48].copy_from_slice(&2.5f64.to_bits().to_le_bytes());
        mem[48..52].copy_from_slice(&0.75f32.to_bits().to_le_bytes());
        // Natively, one instruction at a time through the trampoline, and in the emulator.
        let mut img = Image::from_state(&X87::default());
        let mut nbuf = mem;
        let mut ctx = Ctx::default();
        let mut m = machine();
        m.cpu.gpr[6] = OPND;
        m.mem.write_bytes(OPND, &mem).unwrap();
        let mut d = Decoder::with_ip(64, &bytes, CODE, DecoderOptions::NONE);
        while d.can_decode() {
            let ins = d.decode();
            let off = (ins.ip() - CODE) as usize;
            native(&bytes[off..off + ins.len()], &mut img, &mut nbuf, &mut ctx);
            m.cpu.rip = ins.next_ip();
            TABLE.get(ins.mnemonic())(&mut m, &ins).unwrap();
        }
        let mut ebuf = [0u8; BUF];
        m.mem.read_bytes(OPND, &mut ebuf).unwrap();
        for b in [&mut ebuf, &mut nbuf] {
            b[72 + 12..72 + 26].fill(0);
        }
        assert_eq!(ebuf, nbuf);
        assert_eq!(m.cpu.gpr[0] as u16, ctx.rax as u16);
        assert_eq!(m.cpu.rflags & fl::STATUS, ctx.rflags & fl::STATUS);
        let mut e = x87_part(&Image::from_state(&m.cpu.x87));
        e[2..4].copy_from_slice(&status_word(&m.cpu.x87).to_le_bytes());
        assert_eq!(e, x87_part(&img));
    }
}
