//! The x86-64 signal frame, built and read back exactly as Linux does
//! (`arch/x86/kernel/signal.c`, `signal_64.c`, `fpu/signal.c`) on a CPU with FXSR but no
//! XSAVE (deja advertises no XSAVE in CPUID):
//!
//! ```text
//!   higher addresses   interrupted rsp
//!                      128-byte red zone (skipped)       or the top of the sigaltstack
//!   fpstate   (64-aligned)  512-byte FXSAVE image, sw_reserved bytes as the kernel writes them
//!                      padding
//!   frame + 312        struct siginfo (128 bytes; written only with SA_SIGINFO, as Linux)
//!   frame + 8          struct ucontext (304 bytes): uc_flags, uc_link, uc_stack,
//!                      uc_mcontext (struct sigcontext, 256 bytes), uc_sigmask (8 bytes)
//!   frame = rsp        pretcode = sa_restorer; frame + 8 is 16-byte aligned
//! ```
//!
//! The layout is checked against libc's `ucontext_t`, `siginfo_t` and `_libc_fpstate` in
//! the unit tests below.

use super::arch_x86_64::X86_64;
use super::process::Process;
use super::signal::{bit, sa, AltStack, PendingSignal, SIG_DFL, SS_AUTODISARM, UNBLOCKABLE};
use crate::arch::Arch;
use crate::engine::GuestFault;
use crate::isa::x86_64::state::{fl, reg, X86State, X87};
use crate::mem::{Access, MemFault};

// ---- struct rt_sigframe ----
pub const PRETCODE: u64 = 0;
pub const UC: u64 = 8;
pub const UC_FLAGS: u64 = UC;
pub const UC_LINK: u64 = UC + 8;
pub const UC_STACK: u64 = UC + 16;
pub const UC_MCONTEXT: u64 = UC + 40;
pub const UC_SIGMASK: u64 = UC + 296;
pub const UCONTEXT_SIZE: u64 = 304;
pub const INFO: u64 = UC + UCONTEXT_SIZE;
pub const SIGINFO_SIZE: u64 = 128;
/// sizeof(struct rt_sigframe).
pub const FRAME_SIZE: u64 = INFO + SIGINFO_SIZE;

// ---- struct sigcontext (offsets inside uc_mcontext) ----
/// The 16 GPR slots r8..r15 rdi rsi rbp rbx rdx rax rcx rsp, 8 bytes each from offset 0,
/// as deja register indices.
pub const SC_GPRS: [usize; 16] = [
    reg::R8,
    reg::R9,
    reg::R10,
    reg::R11,
    reg::R12,
    reg::R13,
    reg::R14,
    reg::R15,
    reg::RDI,
    reg::RSI,
    reg::RBP,
    reg::RBX,
    reg::RDX,
    reg::RAX,
    reg::RCX,
    reg::RSP,
];
pub const SC_RIP: usize = 128;
pub const SC_EFLAGS: usize = 136;
pub const SC_CS: usize = 144;
pub const SC_GS: usize = 146;
pub const SC_FS: usize = 148;
pub const SC_SS: usize = 150;
pub const SC_ERR: usize = 152;
pub const SC_TRAPNO: usize = 160;
pub const SC_OLDMASK: usize = 168;
pub const SC_CR2: usize = 176;
pub const SC_FPSTATE: usize = 184;
/// Bytes of sigcontext before `reserved1` (what rt_sigreturn reads).
pub const SC_USED: usize = 192;
pub const SIGCONTEXT_SIZE: usize = 256;

/// User code and stack segment selectors of a 64-bit Linux process.
pub const USER_CS: u16 = 0x33;
pub const USER_SS: u16 = 0x2b;

/// uc_flags as the kernel sets them without XSAVE: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS.
pub const UC_SIGCONTEXT_SS: u64 = 2;
pub const UC_STRICT_RESTORE_SS: u64 = 4;

// ---- struct fxregs_state (the FXSAVE image) ----
pub const FX_FCW: usize = 0;
pub const FX_FSW: usize = 2;
pub const FX_FTW: usize = 4;
pub const FX_FOP: usize = 6;
pub const FX_FIP: usize = 8;
pub const FX_FDP: usize = 16;
pub const FX_MXCSR: usize = 24;
pub const FX_MXCSR_MASK: usize = 28;
pub const FX_ST: usize = 32;
pub const FX_XMM: usize = 160;
/// `sw_reserved`: struct _fpx_sw_bytes.
pub const FX_SW: usize = 464;
pub const FXSAVE_SIZE: usize = 512;
/// `FP_XSTATE_MAGIC1`, written into sw_reserved by the kernel even without XSAVE.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// MXCSR bits deja implements (DAZ included); others are reserved and make fxrstor fault.
pub const MXCSR_MASK: u32 = 0xffff;
/// MXCSR and x87 control word a process (and every signal handler) starts with.
pub const MXCSR_DEFAULT: u32 = 0x1f80;

/// FLAGS bits rt_sigreturn takes from the frame (the kernel's FIX_EFLAGS; RF is not
/// modelled by deja).
pub const FIX_EFLAGS: u64 = fl::STATUS | fl::TF | fl::DF | fl::AC;

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
fn get16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}
fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or_default())
}
fn get64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or_default())
}

/// The FXSAVE image (64-bit form) of the guest's x87/SSE state, with the `sw_reserved`
/// bytes the kernel adds in a signal frame on a CPU without XSAVE. FOP, FIP and FDP are not
/// tracked by deja and read as 0.
pub fn fxsave(cpu: &X86State) -> [u8; FXSAVE_SIZE] {
    let mut b = [0u8; FXSAVE_SIZE];
    let x = &cpu.x87;
    put16(&mut b, FX_FCW, x.fcw);
    put16(&mut b, FX_FSW, (x.fsw & !0x3800) | ((x.top as u16 & 7) << 11));
    b[FX_FTW] = x.ftw;
    put32(&mut b, FX_MXCSR, cpu.mxcsr);
    put32(&mut b, FX_MXCSR_MASK, MXCSR_MASK);
    for i in 0..8 {
        // ST(i) is physical register (TOP + i) mod 8; 10 bytes, 6 reserved (zero).
        let r = &x.regs[(x.top as usize + i) & 7];
        b[FX_ST + 16 * i..FX_ST + 16 * i + 10].copy_from_slice(&r[..10]);
    }
    for (i, v) in cpu.xmm.iter().enumerate() {
        b[FX_XMM + 16 * i..FX_XMM + 16 * i + 16].copy_from_slice(&v.to_le_bytes());
    }
    // struct _fpx_sw_bytes: magic1, extended_size (user_size + FP_XSTATE_MAGIC2_SIZE),
    // xfeatures (x87 | SSE), xstate_size (user_size = sizeof(fxregs_state)).
    put32(&mut b, FX_SW, FP_XSTATE_MAGIC1);
    put32(&mut b, FX_SW + 4, FXSAVE_SIZE as u32 + 4);
    put64(&mut b, FX_SW + 8, 3);
    put32(&mut b, FX_SW + 16, FXSAVE_SIZE as u32);
    b
}

/// fxrstor's #GP for an image with reserved MXCSR bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedMxcsr;

/// Load an FXSAVE image into the guest's x87/SSE state, as fxrstor does. A reserved MXCSR
/// bit makes fxrstor raise #GP: an error, and nothing is changed.
pub fn fxrstor(cpu: &mut X86State, b: &[u8; FXSAVE_SIZE]) -> Result<(), ReservedMxcsr> {
    let mxcsr = get32(b, FX_MXCSR);
    if mxcsr & !MXCSR_MASK != 0 {
        return Err(ReservedMxcsr);
    }
    let fsw = get16(b, FX_FSW);
    let top = ((fsw >> 11) & 7) as u8;
    let mut x = X87 { fcw: get16(b, FX_FCW), fsw: fsw & !0x3800, top, ftw: b[FX_FTW], ..X87::default() };
    for i in 0..8 {
        let r = &mut x.regs[(top as usize + i) & 7];
        r[..10].copy_from_slice(&b[FX_ST + 16 * i..FX_ST + 16 * i + 10]);
    }
    cpu.x87 = x;
    cpu.mxcsr = mxcsr;
    for (i, v) in cpu.xmm.iter_mut().enumerate() {
        *v = u128::from_le_bytes(b[FX_XMM + 16 * i..FX_XMM + 16 * i + 16].try_into().unwrap_or_default());
    }
    Ok(())
}

/// The FPU state a signal handler starts with (the kernel's `fpu__clear_user_states`):
/// x87 and SSE registers in their init state.
pub fn reset_fpu(cpu: &mut X86State) {
    cpu.x87 = X87::default();
    cpu.mxcsr = MXCSR_DEFAULT;
    cpu.xmm = [0; 16];
}

/// The 128-byte siginfo: signo, errno 0, code, then the union whose first 8 bytes are
/// `union0` (si_addr, or si_pid | si_uid << 32); the rest is zero.
pub fn siginfo_bytes(signo: i32, code: i32, union0: u64) -> [u8; SIGINFO_SIZE as usize] {
    let mut b = [0u8; SIGINFO_SIZE as usize];
    put32(&mut b, 0, signo as u32);
    put32(&mut b, 8, code as u32);
    put64(&mut b, 16, union0);
    b
}

fn bad_frame(addr: u64) -> MemFault {
    MemFault { addr, access: Access::Write, mapped: false }
}

/// Where the frame and the fpstate go (`get_sigframe`): returns (frame, fpstate) or an
/// error when the frame would overflow the alternate stack (the kernel returns the bogus
/// address -1 so that the write faults).
pub fn frame_addrs(p: &Process<X86_64>, flags: u64) -> Result<(u64, u64), MemFault> {
    let regs_sp = p.m.cpu.gpr[reg::RSP];
    let nested_altstack = p.sig.on_sig_stack(regs_sp);
    let mut entering_altstack = false;
    // The red zone.
    let mut sp = regs_sp.wrapping_sub(128);
    if flags & sa::ONSTACK != 0 && p.sig.sas_ss_flags(sp) == 0 {
        sp = p.sig.altstack.sp.wrapping_add(p.sig.altstack.size);
        entering_altstack = true;
    }
    // fpu__alloc_mathframe: the FXSAVE image, 64-byte aligned.
    let fpstate = sp.wrapping_sub(FXSAVE_SIZE as u64) & !63;
    // round_down(sp - sizeof(frame), 16) - 8: frame + 8 is 16-aligned, as after a call.
    let frame = (fpstate.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);
    if (nested_altstack || entering_altstack) && !p.sig.within_altstack(frame) {
        return Err(bad_frame(frame));
    }
    Ok((frame, fpstate))
}

/// Push a signal frame for `signo` and redirect the guest to its handler, as Linux's
/// `handle_signal` does: the action is `p.sig.actions[signo]`; `f` gives the siginfo
/// (signo, si_code, and the first union word: si_addr, or si_pid | si_uid << 32). On
/// success the handler runs with rdi = signo, rsi = &info, rdx = &uc, rax = 0, DF and TF
/// clear, a fresh FPU state, and the mask `mask | sa_mask | signo` (without signo under
/// SA_NODEFER). SA_RESETHAND resets the action to SIG_DFL (before the frame is written, as
/// the kernel does). Err when the frame cannot be written: the caller forces SIGSEGV.
pub fn setup_frame(p: &mut Process<X86_64>, signo: i32, f: &GuestFault) -> Result<(), MemFault> {
    let act = p.sig.actions[signo as usize];
    if act.flags & sa::RESETHAND != 0 {
        p.sig.actions[signo as usize].handler = SIG_DFL;
    }
    // x86-64 frames need a user-space restorer: without one the kernel fails the setup.
    if act.flags & sa::RESTORER == 0 {
        return Err(bad_frame(0));
    }
    let (frame, fpstate) = frame_addrs(p, act.flags)?;
    let old_mask = p.sig.saved_mask.unwrap_or(p.sig.mask);
    let cpu = &p.m.cpu;

    // copy_fpstate_to_sigframe first, then the frame (the kernel's order).
    let fx = fxsave(cpu);
    p.m.mem.write_bytes(fpstate, &fx)?;

    let mut b = [0u8; FRAME_SIZE as usize];
    put64(&mut b, PRETCODE as usize, act.restorer);
    put64(&mut b, UC_FLAGS as usize, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
    put64(&mut b, UC_LINK as usize, 0);
    let st = p.sig.altstack;
    put64(&mut b, UC_STACK as usize, st.sp);
    put32(&mut b, UC_STACK as usize + 8, st.flags as u32);
    put64(&mut b, UC_STACK as usize + 16, st.size);
    let sc = UC_MCONTEXT as usize;
    for (i, &r) in SC_GPRS.iter().enumerate() {
        put64(&mut b, sc + 8 * i, cpu.gpr[r]);
    }
    put64(&mut b, sc + SC_RIP, cpu.rip);
    put64(&mut b, sc + SC_EFLAGS, crate::isa::x86_64::stack::visible_rflags(&p.m));
    put16(&mut b, sc + SC_CS, p.sig.cs);
    put16(&mut b, sc + SC_GS, 0);
    put16(&mut b, sc + SC_FS, 0);
    put16(&mut b, sc + SC_SS, p.sig.ss);
    put64(&mut b, sc + SC_ERR, p.sig.err);
    put64(&mut b, sc + SC_TRAPNO, p.sig.trapno);
    put64(&mut b, sc + SC_OLDMASK, old_mask);
    put64(&mut b, sc + SC_CR2, p.sig.cr2);
    put64(&mut b, sc + SC_FPSTATE, fpstate);
    put64(&mut b, UC_SIGMASK as usize, old_mask);
    // Without SA_SIGINFO the kernel leaves the siginfo area as it was.
    let len = if act.flags & sa::SIGINFO != 0 {
        b[INFO as usize..].copy_from_slice(&siginfo_bytes(signo, f.code, f.addr));
        FRAME_SIZE as usize
    } else {
        INFO as usize
    };
    p.m.mem.write_bytes(frame, &b[..len])?;

    // Registers for the handler.
    let cpu = &mut p.m.cpu;
    cpu.gpr[reg::RDI] = signo as u64;
    cpu.gpr[reg::RSI] = frame + INFO;
    cpu.gpr[reg::RDX] = frame + UC;
    cpu.gpr[reg::RAX] = 0;
    cpu.gpr[reg::RSP] = frame;
    cpu.rip = act.handler;
    cpu.rflags &= !(fl::DF | fl::TF);
    reset_fpu(cpu);

    // signal_delivered: block sa_mask (and the signal unless SA_NODEFER), drop the saved
    // sigsuspend mask, disarm an SS_AUTODISARM altstack.
    let mut blocked = p.sig.mask | act.mask;
    if act.flags & sa::NODEFER == 0 {
        blocked |= bit(signo);
    }
    p.sig.mask = blocked & !UNBLOCKABLE;
    p.sig.saved_mask = None;
    if p.sig.altstack.flags & SS_AUTODISARM != 0 {
        p.sig.altstack = AltStack { sp: 0, size: 0, flags: super::signal::SS_DISABLE };
    }
    Ok(())
}

/// rt_sigreturn: restore the state saved by `setup_frame` from the frame at rsp - 8, as
/// Linux does. The guest controls the frame: registers and rip take any value, FLAGS only
/// its FIX_EFLAGS bits, the mask never blocks SIGKILL/SIGSTOP. A frame that cannot be read,
/// a misaligned or unreadable fpstate, or reserved MXCSR bits are a bad frame: the kernel
/// forces SIGSEGV and returns 0 (registers restored so far stay restored).
/// Returns true when everything was restored, false for a bad frame (SIGSEGV queued; the
/// caller sets rax to 0, the syscall's return value).
pub fn restore_frame(p: &mut Process<X86_64>) -> bool {
    let frame = p.m.cpu.gpr[reg::RSP].wrapping_sub(8);
    let ok = restore(p, frame);
    if !ok {
        p.sig.force(PendingSignal::kernel(libc::SIGSEGV));
    }
    check_segments(p);
    ok
}

/// The return to user mode with the segment selectors rt_sigreturn loaded: anything but the
/// 64-bit user code and data segments makes IRET raise #GP with the selector as error code,
/// a SIGSEGV (SI_KERNEL) with all registers restored. (Linux would run a 32-bit code
/// segment, 0x23, in compatibility mode; deja runs 64-bit code only and faults instead.)
fn check_segments(p: &mut Process<X86_64>) {
    let bad = if p.sig.cs != USER_CS {
        p.sig.cs
    } else if p.sig.ss != USER_SS {
        p.sig.ss
    } else {
        return;
    };
    p.sig.trapno = 13;
    p.sig.err = (bad & !3) as u64;
    p.sig.force(PendingSignal::kernel(libc::SIGSEGV));
}

fn restore(p: &mut Process<X86_64>, frame: u64) -> bool {
    let mem = &p.m.mem;
    let (Ok(mask), Ok(uc_flags)) =
        (mem.read_u64(frame.wrapping_add(UC_SIGMASK)), mem.read_u64(frame.wrapping_add(UC_FLAGS)))
    else {
        return false;
    };
    p.sig.mask = mask & !UNBLOCKABLE;

    // restore_sigcontext.
    let mut sc = [0u8; SC_USED];
    if p.m.mem.read_bytes(frame.wrapping_add(UC_MCONTEXT), &mut sc).is_err() {
        return false;
    }
    let cpu = &mut p.m.cpu;
    for (i, &r) in SC_GPRS.iter().enumerate() {
        cpu.gpr[r] = get64(&sc, 8 * i);
    }
    cpu.rip = get64(&sc, SC_RIP);
    // cs/ss are forced to CPL 3. Without UC_STRICT_RESTORE_SS an invalid ss is replaced
    // by the user data segment (force_valid_ss). They are checked on the way back to user
    // mode (`check_segments`).
    p.sig.cs = get16(&sc, SC_CS) | 3;
    p.sig.ss = get16(&sc, SC_SS) | 3;
    if uc_flags & UC_STRICT_RESTORE_SS == 0 && p.sig.ss != USER_SS {
        p.sig.ss = USER_SS;
    }
    let cpu = &mut p.m.cpu;
    cpu.rflags = (cpu.rflags & !FIX_EFLAGS) | (get64(&sc, SC_EFLAGS) & FIX_EFLAGS) | fl::FIXED;

    // fpu__restore_sig: no fpstate means a fresh FPU; otherwise fxrstor from it, and any
    // failure leaves a fresh FPU and is a bad frame.
    let fp = get64(&sc, SC_FPSTATE);
    if fp != 0 {
        let mut fx = [0u8; FXSAVE_SIZE];
        // fxrstor needs 16-byte alignment (#GP otherwise).
        let ok = fp.is_multiple_of(16) && p.m.mem.read_bytes(fp, &mut fx).is_ok() && fxrstor(&mut p.m.cpu, &fx).is_ok();
        if !ok {
            reset_fpu(&mut p.m.cpu);
            return false;
        }
    } else {
        reset_fpu(&mut p.m.cpu);
    }

    // restore_altstack: only a fault reading uc_stack is an error; do_sigaltstack's own
    // errors (EPERM while on the stack, ENOMEM, EINVAL) are ignored.
    let mut st = [0u8; 24];
    if p.m.mem.read_bytes(frame.wrapping_add(UC_STACK), &mut st).is_err() {
        return false;
    }
    let ss = AltStack { sp: get64(&st, 0), flags: get32(&st, 8) as i32, size: get64(&st, 16) };
    let sp = p.m.cpu.gpr[reg::RSP];
    let _ = p.sig.set_altstack(ss, sp, X86_64::ABI.minsigstksz());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::signal::{si, SigAction, SS_DISABLE, SS_ONSTACK};
    use std::mem::offset_of;

    use crate::linux::process::testing::{stack_process, STACK, STACK_TOP};

    fn process() -> Process<X86_64> {
        stack_process()
    }

    fn handler(p: &mut Process<X86_64>, signo: i32, flags: u64, mask: u64) {
        p.sig.actions[signo as usize] =
            SigAction { handler: 0x40_1000, flags: flags | sa::RESTORER, restorer: 0x40_2000, mask };
    }

    #[test]
    fn layout_matches_libc() {
        assert_eq!(UC_FLAGS - UC, offset_of!(libc::ucontext_t, uc_flags) as u64);
        assert_eq!(UC_LINK - UC, offset_of!(libc::ucontext_t, uc_link) as u64);
        assert_eq!(UC_STACK - UC, offset_of!(libc::ucontext_t, uc_stack) as u64);
        assert_eq!(UC_MCONTEXT - UC, offset_of!(libc::ucontext_t, uc_mcontext) as u64);
        assert_eq!(UC_SIGMASK - UC, offset_of!(libc::ucontext_t, uc_sigmask) as u64);
        assert_eq!(offset_of!(libc::stack_t, ss_sp), 0);
        assert_eq!(offset_of!(libc::stack_t, ss_flags), 8);
        assert_eq!(offset_of!(libc::stack_t, ss_size), 16);
        assert_eq!(std::mem::size_of::<libc::stack_t>(), 24);
        // gregs[REG_*] are the sigcontext slots.
        assert_eq!(offset_of!(libc::mcontext_t, gregs), 0);
        let slot = |r: libc::c_int| 8 * r as usize;
        let regs = [
            libc::REG_R8,
            libc::REG_R9,
            libc::REG_R10,
            libc::REG_R11,
            libc::REG_R12,
            libc::REG_R13,
            libc::REG_R14,
            libc::REG_R15,
            libc::REG_RDI,
            libc::REG_RSI,
            libc::REG_RBP,
            libc::REG_RBX,
            libc::REG_RDX,
            libc::REG_RAX,
            libc::REG_RCX,
            libc::REG_RSP,
        ];
        for (i, r) in regs.into_iter().enumerate() {
            assert_eq!(slot(r), 8 * i);
        }
        assert_eq!(slot(libc::REG_RIP), SC_RIP);
        assert_eq!(slot(libc::REG_EFL), SC_EFLAGS);
        assert_eq!(slot(libc::REG_CSGSFS), SC_CS);
        assert_eq!(slot(libc::REG_ERR), SC_ERR);
        assert_eq!(slot(libc::REG_TRAPNO), SC_TRAPNO);
        assert_eq!(slot(libc::REG_OLDMASK), SC_OLDMASK);
        assert_eq!(slot(libc::REG_CR2), SC_CR2);
        assert_eq!(offset_of!(libc::mcontext_t, fpregs), SC_FPSTATE);
        assert_eq!(std::mem::size_of::<libc::mcontext_t>(), SIGCONTEXT_SIZE);
        // The FXSAVE image as glibc's struct _libc_fpstate sees it.
        assert_eq!(offset_of!(libc::_libc_fpstate, cwd), FX_FCW);
        assert_eq!(offset_of!(libc::_libc_fpstate, swd), FX_FSW);
        assert_eq!(offset_of!(libc::_libc_fpstate, ftw), FX_FTW);
        assert_eq!(offset_of!(libc::_libc_fpstate, fop), FX_FOP);
        assert_eq!(offset_of!(libc::_libc_fpstate, rip), FX_FIP);
        assert_eq!(offset_of!(libc::_libc_fpstate, rdp), FX_FDP);
        assert_eq!(offset_of!(libc::_libc_fpstate, mxcsr), FX_MXCSR);
        assert_eq!(offset_of!(libc::_libc_fpstate, mxcr_mask), FX_MXCSR_MASK);
        assert_eq!(offset_of!(libc::_libc_fpstate, _st), FX_ST);
        assert_eq!(offset_of!(libc::_libc_fpstate, _xmm), FX_XMM);
        assert_eq!(std::mem::size_of::<libc::_libc_fpstate>(), FXSAVE_SIZE);
        assert_eq!(std::mem::size_of::<libc::siginfo_t>(), SIGINFO_SIZE as usize);
    }

    #[test]
    fn siginfo_matches_libc() {
        let b = siginfo_bytes(libc::SIGSEGV, 2, 0xdead_beef_0000);
        // SAFETY: siginfo_t is plain data of exactly these 128 bytes.
        let si: libc::siginfo_t = unsafe { std::ptr::read_unaligned(b.as_ptr() as *const libc::siginfo_t) };
        assert_eq!((si.si_signo, si.si_errno, si.si_code), (libc::SIGSEGV, 0, 2));
        // SAFETY: reading union fields of a fully initialised siginfo.
        assert_eq!(unsafe { si.si_addr() } as u64, 0xdead_beef_0000);
        let k = PendingSignal::user(libc::SIGUSR1, si::TKILL, 1000, 77);
        let b = siginfo_bytes(k.signo, k.code, k.addr);
        // SAFETY: as above.
        let si: libc::siginfo_t = unsafe { std::ptr::read_unaligned(b.as_ptr() as *const libc::siginfo_t) };
        // SAFETY: as above.
        assert_eq!(unsafe { (si.si_pid(), si.si_uid()) }, (1000, 77));
        assert_eq!(si.si_code, -6);
    }

    #[test]
    fn fxsave_matches_host_layout() {
        // The host's own fxsave is the oracle for where MXCSR, XMM and the control word go.
        #[repr(C, align(16))]
        struct Area([u8; 512]);
        let mut area = Area([0; 512]);
        let x: u128 = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff;
        // SAFETY: fxsave64 writes exactly 512 bytes to a 16-byte aligned buffer we own;
        // xmm5 is declared clobbered.
        unsafe {
            core::arch::asm!("movdqu xmm5, [{x}]", "fxsave64 [{a}]", x = in(reg) &x, a = in(reg) area.0.as_mut_ptr(), out("xmm5") _);
        }
        let host = &area.0;
        let mut cpu = X86State::default();
        cpu.xmm[5] = x;
        cpu.mxcsr = get32(host, FX_MXCSR);
        cpu.x87.fcw = get16(host, FX_FCW);
        let ours = fxsave(&cpu);
        assert_eq!(ours[FX_XMM + 80..FX_XMM + 96], host[FX_XMM + 80..FX_XMM + 96]);
        assert_eq!(get32(&ours, FX_MXCSR), get32(host, FX_MXCSR));
        assert_eq!(get16(&ours, FX_FCW), get16(host, FX_FCW));
    }

    #[test]
    fn fxsave_fxrstor_round_trip_and_stack_order() {
        let mut cpu = X86State::default();
        cpu.x87.top = 6;
        cpu.x87.ftw = 0b1100_0000;
        cpu.x87.fsw = 0x0041;
        cpu.x87.regs[6][..10].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        cpu.x87.regs[7][..10].copy_from_slice(&[11; 10]);
        cpu.mxcsr = 0x9fc0;
        for (i, x) in cpu.xmm.iter_mut().enumerate() {
            *x = (i as u128 + 1) * 0x0101_0101_0101_0101_0101_0101_0101_0101;
        }
        let b = fxsave(&cpu);
        assert_eq!(get16(&b, FX_FSW), 0x0041 | (6 << 11));
        assert_eq!(&b[FX_ST..FX_ST + 10], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(&b[FX_ST + 16..FX_ST + 26], &[11; 10]);
        assert_eq!(get32(&b, FX_SW), FP_XSTATE_MAGIC1);
        let mut back = X86State::default();
        fxrstor(&mut back, &b).unwrap();
        assert_eq!(back.x87, cpu.x87);
        assert_eq!(back.xmm, cpu.xmm);
        assert_eq!(back.mxcsr, cpu.mxcsr);
        let mut bad = b;
        put32(&mut bad, FX_MXCSR, 0x1_1f80);
        assert!(fxrstor(&mut back, &bad).is_err());
    }

    #[test]
    fn frame_placement_and_contents() {
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, sa::SIGINFO, bit(libc::SIGUSR2));
        let sp = STACK_TOP - 0x1003;
        p.m.cpu.gpr = core::array::from_fn(|i| 0x1000 + i as u64);
        p.m.cpu.gpr[reg::RSP] = sp;
        p.m.cpu.rip = 0x40_0123;
        p.m.cpu.rflags |= fl::DF | fl::CF;
        p.m.cpu.xmm[3] = 0x1234;
        p.sig.mask = bit(libc::SIGHUP);
        let k = PendingSignal::user(libc::SIGUSR1, si::TKILL, 1000, 1000);
        setup_frame(&mut p, libc::SIGUSR1, &k.info()).unwrap();
        let frame = p.m.cpu.gpr[reg::RSP];
        let fp = (sp - 128 - 512) & !63;
        assert_eq!(frame, ((fp - FRAME_SIZE) & !15) - 8);
        assert_eq!((frame + 8) % 16, 0);
        assert_eq!(p.m.cpu.rip, 0x40_1000);
        assert_eq!(p.m.cpu.gpr[reg::RDI], libc::SIGUSR1 as u64);
        assert_eq!(p.m.cpu.gpr[reg::RSI], frame + INFO);
        assert_eq!(p.m.cpu.gpr[reg::RDX], frame + UC);
        assert_eq!(p.m.cpu.gpr[reg::RAX], 0);
        assert_eq!(p.m.cpu.rflags & fl::DF, 0);
        assert_eq!(p.m.cpu.xmm[3], 0, "handlers start with a fresh FPU");
        assert_eq!(p.sig.mask, bit(libc::SIGHUP) | bit(libc::SIGUSR1) | bit(libc::SIGUSR2));
        let m = &p.m.mem;
        assert_eq!(m.read_u64(frame).unwrap(), 0x40_2000);
        assert_eq!(m.read_u64(frame + UC_FLAGS).unwrap(), 6);
        assert_eq!(m.read_u64(frame + UC_SIGMASK).unwrap(), bit(libc::SIGHUP));
        let sc = frame + UC_MCONTEXT;
        assert_eq!(m.read_u64(sc + 8 * libc::REG_RIP as u64).unwrap(), 0x40_0123);
        assert_eq!(m.read_u64(sc + 8 * libc::REG_RSP as u64).unwrap(), sp);
        assert_eq!(m.read_u64(sc + 8 * libc::REG_RAX as u64).unwrap(), 0x1000);
        assert_eq!(m.read_u64(sc + 8 * libc::REG_R15 as u64).unwrap(), 0x100f);
        assert_eq!(m.read_u64(sc + 8 * libc::REG_EFL as u64).unwrap() & (fl::DF | fl::CF), fl::DF | fl::CF);
        assert_eq!(m.read_u64(sc + 8 * libc::REG_CSGSFS as u64).unwrap(), 0x2b << 48 | 0x33);
        assert_eq!(m.read_u64(sc + SC_FPSTATE as u64).unwrap(), fp);
        assert_eq!(m.read_u128(fp + FX_XMM as u64 + 48).unwrap(), 0x1234);
        assert_eq!(m.read_u32(frame + INFO).unwrap(), libc::SIGUSR1 as u32);
        assert_eq!(m.read_u32(frame + INFO + 8).unwrap() as i32, si::TKILL);
        assert_eq!(m.read_u64(frame + INFO + 16).unwrap(), 1000 | 1000 << 32);
    }

    #[test]
    fn sigreturn_restores_and_sanitises() {
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, 0, 0);
        p.m.cpu.gpr = core::array::from_fn(|i| 0x2000 + i as u64);
        p.m.cpu.gpr[reg::RSP] = STACK_TOP - 0x800;
        p.m.cpu.rip = 0x40_0777;
        p.m.cpu.xmm[7] = 77;
        p.m.cpu.mxcsr = 0x1fc0;
        p.m.cpu.x87.fcw = 0x27f;
        let before = p.m.cpu;
        setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).unwrap();
        let frame = p.m.cpu.gpr[reg::RSP];
        // Without SA_SIGINFO the siginfo area is left alone.
        assert_eq!(p.m.mem.read_u32(frame + INFO).unwrap(), 0);
        // The handler edits the context: rip, rax, flags (including IF and ID, which it may
        // not change), an xmm register in the fpstate, and the mask (with SIGKILL).
        let sc = frame + UC_MCONTEXT;
        let fp = p.m.mem.read_u64(sc + SC_FPSTATE as u64).unwrap();
        p.m.mem.write_u64(sc + SC_RIP as u64, 0x40_0800).unwrap();
        p.m.mem.write_u64(sc + 8 * libc::REG_RAX as u64, 42).unwrap();
        p.m.mem.write_u64(sc + SC_EFLAGS as u64, fl::CF | fl::ZF | fl::ID | 1 << 30).unwrap();
        p.m.mem.write_u128(fp + FX_XMM as u64 + 16 * 7, 0xabcdef).unwrap();
        p.m.mem.write_u64(frame + UC_SIGMASK, bit(libc::SIGKILL) | bit(libc::SIGUSR2)).unwrap();
        // The handler's `ret` pops pretcode into rip and calls rt_sigreturn.
        p.m.cpu.gpr[reg::RSP] = frame + 8;
        assert!(restore_frame(&mut p));
        let c = &p.m.cpu;
        assert_eq!(c.rip, 0x40_0800);
        assert_eq!(c.gpr[reg::RAX], 42);
        assert_eq!(c.gpr[reg::RSP], before.gpr[reg::RSP]);
        assert_eq!(c.gpr[reg::R11], before.gpr[reg::R11]);
        assert_eq!(c.rflags, fl::CF | fl::ZF | fl::IF | fl::FIXED);
        assert_eq!(c.xmm[7], 0xabcdef);
        assert_eq!(c.mxcsr, 0x1fc0);
        assert_eq!(c.x87.fcw, 0x27f);
        assert_eq!(p.sig.mask, bit(libc::SIGUSR2));
        assert!(p.sig.pending.is_empty());
    }

    #[test]
    fn sigreturn_bad_frames_force_sigsegv() {
        // Unreadable frame.
        let mut p = process();
        p.m.cpu.gpr[reg::RSP] = 0x1000;
        let before = p.m.cpu;
        assert!(!restore_frame(&mut p));
        assert_eq!(p.m.cpu, before);
        assert_eq!(p.sig.pending_mask(), bit(libc::SIGSEGV));

        // Reserved MXCSR bits, misaligned and wild fpstate pointers.
        for (fp_edit, mxcsr) in [(0u64, 0x1_0000u32), (8, 0x1f80), (0x7fff_0000_0000, 0x1f80)] {
            let mut p = process();
            handler(&mut p, libc::SIGUSR1, 0, 0);
            p.m.cpu.gpr[reg::RSP] = STACK_TOP - 0x800;
            p.m.cpu.xmm[1] = 5;
            setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).unwrap();
            let frame = p.m.cpu.gpr[reg::RSP];
            let sc = frame + UC_MCONTEXT;
            let fp = p.m.mem.read_u64(sc + SC_FPSTATE as u64).unwrap();
            p.m.mem.write_u32(fp + FX_MXCSR as u64, mxcsr).unwrap();
            let new_fp = if fp_edit == 8 {
                fp + 8
            } else if fp_edit != 0 {
                fp_edit
            } else {
                fp
            };
            p.m.mem.write_u64(sc + SC_FPSTATE as u64, new_fp).unwrap();
            p.m.cpu.gpr[reg::RSP] = frame + 8;
            assert!(!restore_frame(&mut p));
            assert_eq!(p.m.cpu.xmm[1], 0, "a failed FPU restore leaves a fresh FPU");
            assert_eq!(p.sig.pending_mask(), bit(libc::SIGSEGV));
        }
    }

    #[test]
    fn altstack_frames() {
        let mut p = process();
        handler(&mut p, libc::SIGSEGV, sa::SIGINFO | sa::ONSTACK, 0);
        let alt = STACK + 0x1000;
        p.sig.set_altstack(AltStack { sp: alt, size: 0x2000, flags: 0 }, 0, 2048).unwrap();
        p.m.cpu.gpr[reg::RSP] = STACK_TOP - 0x100;
        setup_frame(&mut p, libc::SIGSEGV, &GuestFault::new(libc::SIGSEGV, 1, 0)).unwrap();
        let frame = p.m.cpu.gpr[reg::RSP];
        let fp = (alt + 0x2000 - 512) & !63;
        assert_eq!(frame, ((fp - FRAME_SIZE) & !15) - 8);
        // uc_stack reports the stack as set (flags raw, 0), sigaltstack reports SS_ONSTACK.
        assert_eq!(p.m.mem.read_u64(frame + UC_STACK).unwrap(), alt);
        assert_eq!(p.m.mem.read_u32(frame + UC_STACK + 8).unwrap(), 0);
        assert_eq!(p.sig.sas_ss_flags(frame), SS_ONSTACK);
        // Nested signals on the altstack stack up until it would overflow.
        p.sig.mask = 0;
        let mut n = 0;
        while setup_frame(&mut p, libc::SIGSEGV, &GuestFault::new(libc::SIGSEGV, 1, 0)).is_ok() {
            assert!(p.m.cpu.gpr[reg::RSP] > alt);
            p.sig.mask = 0;
            n += 1;
        }
        assert_eq!(n, 6, "0x2000 bytes hold the first frame (968 bytes) and 6 nested ones (1088+ bytes each)");

        // SS_AUTODISARM: disarmed while the handler runs, re-armed by rt_sigreturn.
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, sa::ONSTACK, 0);
        p.sig.set_altstack(AltStack { sp: alt, size: 0x2000, flags: SS_AUTODISARM }, 0, 2048).unwrap();
        p.m.cpu.gpr[reg::RSP] = STACK_TOP - 0x100;
        setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).unwrap();
        assert_eq!(p.sig.altstack.flags, SS_DISABLE);
        p.m.cpu.gpr[reg::RSP] += 8;
        assert!(restore_frame(&mut p));
        assert_eq!(p.sig.altstack, AltStack { sp: alt, size: 0x2000, flags: SS_AUTODISARM });
    }

    #[test]
    fn no_restorer_or_bad_stack_fails() {
        let mut p = process();
        p.sig.actions[libc::SIGUSR1 as usize] = SigAction { handler: 0x40_1000, ..Default::default() };
        p.m.cpu.gpr[reg::RSP] = STACK_TOP - 0x100;
        assert!(setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).is_err());
        handler(&mut p, libc::SIGUSR1, sa::RESETHAND, 0);
        p.m.cpu.gpr[reg::RSP] = STACK + 0x100; // frame would go below the mapping
        let before = p.m.cpu;
        assert!(setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).is_err());
        assert_eq!(p.m.cpu, before);
        assert_eq!(p.sig.actions[libc::SIGUSR1 as usize].handler, SIG_DFL);
    }
}
