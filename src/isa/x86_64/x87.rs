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
    let mut img = Image::from_state(&m.cpu.x87);
    let unimplemented = || Trap::Fault(super::sigill(ins, "unimplemented x87 form"));
    let flags = match mop {
        MemOp::Store(n) => {
            // An unmasked exception suppresses the store. Tell that apart from a stored value
            // that happens to equal the buffer's filling by trying a second filling if needed.
            let start = img.clone();
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
#[path = "x87_tests.rs"]
mod tests;
