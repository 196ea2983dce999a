//! The AArch64 signal frame, built and read back as Linux does (`arch/arm64/kernel/signal.c`:
//! `get_sigframe`, `setup_sigframe`, `setup_return`, `rt_sigreturn`, `parse_user_sigframe`)
//! on a CPU with FP/SIMD and none of the optional register files (no SVE, SME, TPIDR2, FPMR,
//! POE: deja advertises none of them):
//!
//! ```text
//!   higher addresses   interrupted sp, or the top of the sigaltstack (no red zone on arm64)
//!   next_frame         struct frame_record { fp = x29, lr = x30 } (16-byte aligned);
//!                      the handler's x29 points here, so unwinders walk through the frame
//!   frame + 4688       = next_frame
//!   frame + 592        uc_mcontext.__reserved[4096]: fpsimd_context (528 bytes),
//!                      esr_context (16 bytes, only while the thread's fault_code is set),
//!                      the null terminator record (16 bytes), then unused space
//!   frame + 304        uc_mcontext = struct sigcontext { fault_address, regs[31], sp, pc,
//!                      pstate, __reserved } (16-byte aligned)
//!   frame + 168        padding of uc_sigmask to glibc's 128-byte sigset_t
//!   frame + 128        struct ucontext: uc_flags (0), uc_link (0), uc_stack, uc_sigmask
//!   frame = sp         struct siginfo (128 bytes; written only with SA_SIGINFO, as Linux)
//! ```
//!
//! The kernel writes only the fields, never the padding (stale stack bytes stay), and so does
//! deja. The layout is checked in the unit tests against the offsets of the kernel's uapi
//! headers (`asm/sigcontext.h`, `asm/ucontext.h`).
//!
//! Return path: the handler returns to x30. Linux sets it to `sa_restorer` with SA_RESTORER,
//! else to the vDSO's `__kernel_rt_sigreturn`; glibc relies on the latter (it passes no
//! restorer on arm64). deja has no vDSO, so `Aarch64::init_process` maps a one-page
//! trampoline at [`SIGTRAMP_PAGE`] holding the same code (`nop; mov x8, #139; svc #0`), and
//! handlers without SA_RESTORER return there, as qemu-user does with its own trampoline page.

use super::arch_aarch64::Aarch64;
use super::process::Process;
use super::signal::{bit, sa, AltStack, PendingSignal, SIG_DFL, SS_AUTODISARM, UNBLOCKABLE};
use super::signal_frame::siginfo_bytes;
use super::syscall::{SysErr, SysResult};
use crate::arch::Arch;
use crate::engine::GuestFault;
use crate::isa::aarch64::state::nzcv;
use crate::mem::{flags, Access, MemFault, Memory, PAGE_SIZE};

// ---- struct rt_sigframe { siginfo info; ucontext uc; } ----
pub const INFO: u64 = 0;
pub const SIGINFO_SIZE: u64 = 128;
pub const UC: u64 = 128;
pub const UC_FLAGS: u64 = UC;
pub const UC_LINK: u64 = UC + 8;
pub const UC_STACK: u64 = UC + 16;
pub const UC_SIGMASK: u64 = UC + 40;
/// uc_mcontext, after the sigset padded to 128 bytes and aligned to 16.
pub const UC_MCONTEXT: u64 = UC + 176;
pub const UCONTEXT_SIZE: u64 = 4560;
/// sizeof(struct rt_sigframe).
pub const FRAME_SIZE: u64 = UC + UCONTEXT_SIZE;

// ---- struct sigcontext (absolute offsets in the frame) ----
pub const SC_FAULT_ADDRESS: u64 = UC_MCONTEXT;
pub const SC_REGS: u64 = UC_MCONTEXT + 8;
pub const SC_SP: u64 = UC_MCONTEXT + 256;
pub const SC_PC: u64 = UC_MCONTEXT + 264;
pub const SC_PSTATE: u64 = UC_MCONTEXT + 272;
/// Bytes from fault_address to the end of pstate: what the kernel writes and reads as one.
pub const SC_GENERAL: usize = 280;
/// `__reserved[4096]`, 16-byte aligned: the records.
pub const SC_RESERVED: u64 = UC_MCONTEXT + 288;
pub const RESERVED_SIZE: u64 = 4096;
pub const SIGCONTEXT_SIZE: u64 = 4384;

// ---- records in __reserved ----
pub const FPSIMD_MAGIC: u32 = 0x4650_8001;
/// struct fpsimd_context { head; u32 fpsr; u32 fpcr; __uint128_t vregs[32]; }.
pub const FPSIMD_SIZE: u64 = 528;
pub const FPSIMD_FPSR: u64 = 8;
pub const FPSIMD_FPCR: u64 = 12;
pub const FPSIMD_VREGS: u64 = 16;
pub const ESR_MAGIC: u32 = 0x4553_5201;
/// struct esr_context { head; u64 esr; }.
pub const ESR_SIZE: u64 = 16;
pub const EXTRA_MAGIC: u32 = 0x4558_5401;
/// struct extra_context { head; u64 datap; u32 size; u32 __reserved[3]; }.
pub const EXTRA_SIZE: u64 = 32;
/// A null record, rounded up to 16 bytes.
pub const TERMINATOR_SIZE: u64 = 16;
/// struct frame_record { u64 fp, lr; }.
pub const FRAME_RECORD_SIZE: u64 = 16;
/// The kernel's sanity limit on a frame with extra space (`SIGFRAME_MAXSZ`).
pub const SIGFRAME_MAXSZ: u64 = 256 << 10;

/// Where the signal return trampoline page is mapped: the page just above the area
/// `mmap` hands out top-down (the gap below the stack), so guest allocations never meet it.
pub const SIGTRAMP_PAGE: u64 = super::layout::MMAP_TOP;
/// The trampoline handlers return to without SA_RESTORER (`__kernel_rt_sigreturn`).
pub const SIGTRAMP: u64 = SIGTRAMP_PAGE + 4;
/// The vDSO's sigreturn code: a nop (the kernel's "placeholder for unwinder", so a return
/// address minus one still lands in the trampoline's CFI), `mov x8, #139` (rt_sigreturn),
/// `svc #0`.
pub const SIGTRAMP_CODE: [u32; 3] = [0xd503_201f, 0xd280_1168, 0xd400_0001];

/// PSTATE bits a valid EL0 AArch64 pstate may not have set (`valid_native_regs`): M[4]
/// (AArch32) and the D, A, I, F masks; M[3:0] must be 0 (EL0t).
const PSTATE_MODE_MASK: u64 = 0x1f;
const PSTATE_DAIF: u64 = 0x3c0;
/// SPSR_EL1's RES0 bits for AArch64 (`SPSR_EL1_AARCH64_RES0_BITS`), cleared before the check.
const PSTATE_RES0: u64 = (0xffff_ffffu64 << 32) | (1 << 27) | (1 << 26) | (1 << 20) | (0x7f << 13) | (1 << 5);

/// FPCR and FPSR bits deja holds (the same masks as `msr`): FPCR AHP DN FZ RMode and FZ16;
/// FPSR N Z C V QC and the cumulative exception flags. Others read as zero, as on hardware.
const FPCR_MASK: u64 = 0x07c0_0000 | (1 << 19);
const FPSR_MASK: u64 = 0xf800_009f;

/// The kernel's esr for a user fault (`set_thread_esr` keeps it unsanitised for user
/// addresses): a data abort from EL0 (EC 0x24) or an instruction abort from EL0 (EC 0x20),
/// IL set, WnR for writes, ISV clear. The fault status code names a level-3 translation
/// fault for unmapped memory and a level-3 permission fault for mapped memory: real
/// hardware reports the page-table level where the walk stopped, which depends on the
/// host's page tables; deja always reports level 3 (a fixed, deterministic choice).
pub fn esr_for_mem_fault(f: &GuestFault) -> u64 {
    const IL: u64 = 1 << 25;
    const WNR: u64 = 1 << 6;
    // GuestFault::from_mem's x86 page-fault error code: bit 0 present, bit 1 write, bit 4 fetch.
    let (present, write, fetch) = (f.err & 1 != 0, f.err & 2 != 0, f.err & 16 != 0);
    let fsc = if present { 0x0f } else { 0x07 };
    if fetch {
        (0x20 << 26) | IL | fsc
    } else {
        (0x24 << 26) | IL | if write { WNR } else { 0 } | fsc
    }
}

/// ESR of an alignment fault from EL0 (data abort, fault status 0x21). Whether it was a
/// write is not known here: WnR is reported clear.
pub const ESR_ALIGNMENT: u64 = (0x24 << 26) | (1 << 25) | 0x21;

/// `Aarch64::note_fault`: what a fault leaves in the thread's `fault_address` and
/// `fault_code` (the next signal frames report them).
pub fn note_fault(sig: &mut super::signal::SignalState, f: &GuestFault) {
    const BUS_ADRALN: i32 = 1;
    match f.signo {
        // do_page_fault / do_bad_area → __do_user_fault → set_thread_esr.
        libc::SIGSEGV if f.trapno == 14 => {
            sig.fault_address = f.addr;
            sig.fault_code = esr_for_mem_fault(f);
        }
        libc::SIGBUS if f.code == BUS_ADRALN => {
            sig.fault_address = f.addr;
            sig.fault_code = ESR_ALIGNMENT;
        }
        // brk: send_user_sigtrap leaves the fault state alone.
        libc::SIGTRAP => {}
        // Undefined instructions and the other traps go through arm64_notify_die(…, err 0).
        _ => {
            sig.fault_address = 0;
            sig.fault_code = 0;
        }
    }
}

/// Map the signal return trampoline (the part of the vDSO deja provides).
pub fn map_sigtramp(mem: &mut Memory) {
    if mem.map(SIGTRAMP_PAGE, PAGE_SIZE, flags::R | flags::X) {
        let code: Vec<u8> = SIGTRAMP_CODE.iter().flat_map(|w| w.to_le_bytes()).collect();
        let _ = mem.poke(SIGTRAMP_PAGE, &code);
    }
}

fn bad_frame(addr: u64) -> MemFault {
    MemFault { addr, access: Access::Write, mapped: false }
}

/// Is every byte of [addr, addr + len) writable by the guest?
fn writable(mem: &Memory, addr: u64, len: u64) -> bool {
    let Some(end) = addr.checked_add(len) else { return false };
    let mut a = addr & !(PAGE_SIZE - 1);
    while a < end {
        if mem.page_flags(a) & flags::W == 0 {
            return false;
        }
        a += PAGE_SIZE;
    }
    true
}

/// Offsets (in the frame) of the records `setup_sigframe_layout` allocates: the fpsimd
/// record, the esr record (if the thread's fault_code is set), the terminator.
pub fn record_layout(with_esr: bool) -> (u64, Option<u64>, u64) {
    let fpsimd = SC_RESERVED;
    let esr = with_esr.then_some(fpsimd + FPSIMD_SIZE);
    let end = fpsimd + FPSIMD_SIZE + if with_esr { ESR_SIZE } else { 0 };
    (fpsimd, esr, end)
}

/// Where the frame record and the frame go (`get_sigframe`): (next_frame, frame). Unlike
/// x86-64, arm64 does not check that a frame fits on the alternate stack.
pub fn frame_addrs(p: &Process<Aarch64>, flags: u64) -> (u64, u64) {
    let regs_sp = p.m.cpu.sp;
    // sigsp(): the top of the alternate stack when asked for and not already on it.
    let sp_top = if flags & sa::ONSTACK != 0 && p.sig.sas_ss_flags(regs_sp) == 0 {
        p.sig.altstack.sp.wrapping_add(p.sig.altstack.size)
    } else {
        regs_sp
    };
    let next_frame = sp_top.wrapping_sub(FRAME_RECORD_SIZE) & !15;
    // sigframe_size(): the records fit in __reserved, so the frame is sizeof(rt_sigframe).
    let frame = (next_frame & !15).wrapping_sub(FRAME_SIZE);
    (next_frame, frame)
}

/// Push a signal frame for `signo` and redirect the guest to its handler, as Linux's
/// `setup_rt_frame`/`setup_return` and `signal_delivered` do. The handler runs with x0 =
/// signo, (with SA_SIGINFO) x1 = &info and x2 = &uc, sp = frame, x29 = the frame record,
/// x30 = the restorer or the trampoline, pc = handler; every other register, NZCV and the
/// FP/SIMD state are left as they were (arm64 gives handlers no fresh FP state). The mask
/// becomes `mask | sa_mask | signo` (signo left out under SA_NODEFER); SA_RESETHAND resets
/// the action first. Err when the frame cannot be written: the caller forces SIGSEGV.
pub fn setup_frame(p: &mut Process<Aarch64>, signo: i32, f: &GuestFault) -> Result<(), MemFault> {
    let act = p.sig.actions[signo as usize];
    if act.flags & sa::RESETHAND != 0 {
        p.sig.actions[signo as usize].handler = SIG_DFL;
    }
    let (next_frame, frame) = frame_addrs(p, act.flags);
    // The kernel checks the range, then a write that faults fails the setup; deja checks
    // the pages first so a failed setup writes nothing.
    if frame > next_frame || !writable(&p.m.mem, frame, next_frame + FRAME_RECORD_SIZE - frame) {
        return Err(bad_frame(frame));
    }
    let old_mask = p.sig.saved_mask.unwrap_or(p.sig.mask);
    let (fault_address, fault_code) = (p.sig.fault_address, p.sig.fault_code);
    let st = p.sig.altstack;
    let c = p.m.cpu;
    let mem = &mut p.m.mem;

    // uc_flags, uc_link, __save_altstack (each field: the stack_t padding is not written).
    mem.write_u64(frame + UC_FLAGS, 0)?;
    mem.write_u64(frame + UC_LINK, 0)?;
    mem.write_u64(frame + UC_STACK, st.sp)?;
    mem.write_u32(frame + UC_STACK + 8, st.flags as u32)?;
    mem.write_u64(frame + UC_STACK + 16, st.size)?;

    // setup_sigframe: the frame record, the general registers, fault_address, the mask.
    mem.write_u64(next_frame, c.x[29])?;
    mem.write_u64(next_frame + 8, c.x[30])?;
    let mut g = [0u8; SC_GENERAL];
    g[..8].copy_from_slice(&fault_address.to_le_bytes());
    for (i, x) in c.x.iter().enumerate() {
        g[8 + 8 * i..16 + 8 * i].copy_from_slice(&x.to_le_bytes());
    }
    g[256..264].copy_from_slice(&c.sp.to_le_bytes());
    g[264..272].copy_from_slice(&c.pc.to_le_bytes());
    // pstate: NZCV; EL0t with DAIF clear is all zeros.
    g[272..280].copy_from_slice(&(c.nzcv & nzcv::MASK).to_le_bytes());
    mem.write_bytes(frame + SC_FAULT_ADDRESS, &g)?;
    mem.write_u64(frame + UC_SIGMASK, old_mask)?;

    // The records: fpsimd, esr while the thread has a fault code, the terminator.
    let (fp_off, esr_off, end_off) = record_layout(fault_code != 0);
    let mut fp = [0u8; FPSIMD_SIZE as usize];
    fp[0..4].copy_from_slice(&FPSIMD_MAGIC.to_le_bytes());
    fp[4..8].copy_from_slice(&(FPSIMD_SIZE as u32).to_le_bytes());
    fp[8..12].copy_from_slice(&(c.fpsr as u32).to_le_bytes());
    fp[12..16].copy_from_slice(&(c.fpcr as u32).to_le_bytes());
    for (i, v) in c.v.iter().enumerate() {
        fp[16 + 16 * i..32 + 16 * i].copy_from_slice(&v.to_le_bytes());
    }
    mem.write_bytes(frame + fp_off, &fp)?;
    if let Some(e) = esr_off {
        mem.write_u32(frame + e, ESR_MAGIC)?;
        mem.write_u32(frame + e + 4, ESR_SIZE as u32)?;
        mem.write_u64(frame + e + 8, fault_code)?;
    }
    mem.write_u64(frame + end_off, 0)?;

    // setup_return, then the siginfo with SA_SIGINFO (the kernel's order).
    let cpu = &mut p.m.cpu;
    cpu.x[0] = signo as u64;
    cpu.sp = frame;
    cpu.x[29] = next_frame;
    cpu.pc = act.handler;
    cpu.x[30] = if act.flags & sa::RESTORER != 0 { act.restorer } else { SIGTRAMP };
    // Exception return clears the exclusive monitor.
    cpu.excl_size = 0;
    if act.flags & sa::SIGINFO != 0 {
        p.m.mem.write_bytes(frame + INFO, &siginfo_bytes(signo, f.code, f.addr))?;
        p.m.cpu.x[1] = frame + INFO;
        p.m.cpu.x[2] = frame + UC;
    }

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

/// rt_sigreturn: everything comes from the frame at sp, x0 included (`Err(NoResult)`: the
/// run loop writes no result). A bad frame makes the kernel send SIGSEGV (si_addr = sp)
/// and return 0, with what was restored before the check staying restored.
pub fn sigreturn(p: &mut Process<Aarch64>) -> SysResult {
    p.m.cpu.excl_size = 0;
    if restore(p) {
        Err(SysErr::NoResult)
    } else {
        // arm64_notify_segfault: SEGV_ACCERR if some mapping lies at or above sp
        // (find_vma), else SEGV_MAPERR; arm64_notify_die clears the fault state.
        let sp = p.m.cpu.sp;
        let code = if p.m.mem.highest_mapped(sp & !(PAGE_SIZE - 1), p.m.mem.size()).is_some() { 2 } else { 1 };
        p.sig.fault_address = 0;
        p.sig.fault_code = 0;
        p.sig.force(PendingSignal { signo: libc::SIGSEGV, code, addr: sp, fault: true, detail: None });
        Ok(0)
    }
}

fn restore(p: &mut Process<Aarch64>) -> bool {
    let frame = p.m.cpu.sp;
    // "we stacked the signal on a 128-bit boundary".
    if frame & 15 != 0 || frame.checked_add(FRAME_SIZE).is_none_or(|e| e > p.m.mem.size()) {
        return false;
    }
    // restore_sigframe: the mask, then the general registers.
    let Ok(mask) = p.m.mem.read_u64(frame + UC_SIGMASK) else { return false };
    p.sig.mask = mask & !UNBLOCKABLE;
    let mut g = [0u8; SC_GENERAL];
    if p.m.mem.read_bytes(frame + SC_FAULT_ADDRESS, &mut g).is_err() {
        return false;
    }
    let w = |i: usize| u64::from_le_bytes(g[i..i + 8].try_into().unwrap_or_default());
    let cpu = &mut p.m.cpu;
    for i in 0..31 {
        cpu.x[i] = w(8 + 8 * i);
    }
    cpu.sp = w(256);
    cpu.pc = w(264);
    // valid_user_regs: a pstate for EL0t AArch64 with DAIF clear; deja keeps NZCV (the only
    // PSTATE bits it models). Anything else is a bad frame, with NZCV still restored.
    let pstate = w(272) & !PSTATE_RES0;
    cpu.nzcv = pstate & nzcv::MASK;
    if pstate & (PSTATE_MODE_MASK | PSTATE_DAIF) != 0 {
        return false;
    }
    // parse_user_sigframe, then the FP/SIMD state from the one fpsimd record.
    let Some(fpsimd) = parse_records(&p.m.mem, frame) else { return false };
    let mut fp = [0u8; FPSIMD_SIZE as usize];
    if p.m.mem.read_bytes(fpsimd, &mut fp).is_err() {
        return false;
    }
    let cpu = &mut p.m.cpu;
    cpu.fpsr = u32::from_le_bytes(fp[8..12].try_into().unwrap_or_default()) as u64 & FPSR_MASK;
    cpu.fpcr = u32::from_le_bytes(fp[12..16].try_into().unwrap_or_default()) as u64 & FPCR_MASK;
    for (i, v) in cpu.v.iter_mut().enumerate() {
        *v = u128::from_le_bytes(fp[16 + 16 * i..32 + 16 * i].try_into().unwrap_or_default());
    }
    // restore_altstack: only a fault reading uc_stack is an error; do_sigaltstack's own
    // errors are ignored.
    let mut st = [0u8; 24];
    if p.m.mem.read_bytes(frame + UC_STACK, &mut st).is_err() {
        return false;
    }
    let ss = AltStack {
        sp: u64::from_le_bytes(st[0..8].try_into().unwrap_or_default()),
        flags: i32::from_le_bytes(st[8..12].try_into().unwrap_or_default()),
        size: u64::from_le_bytes(st[16..24].try_into().unwrap_or_default()),
    };
    let sp = p.m.cpu.sp;
    let _ = p.sig.set_altstack(ss, sp, Aarch64::ABI.minsigstksz());
    true
}

/// `parse_user_sigframe` for a CPU with only FP/SIMD: walk the records of `__reserved`
/// (and of an extra_context's space), returning the address of the one fpsimd record of
/// the right size. esr records are ignored; an unknown record, a duplicate, a misaligned
/// or overlong one, or a missing fpsimd record make the frame invalid (None).
fn parse_records(mem: &Memory, frame: u64) -> Option<u64> {
    let mut base = frame + SC_RESERVED;
    let mut limit = RESERVED_SIZE;
    let mut offset = 0u64;
    let mut have_extra = false;
    let mut fpsimd: Option<(u64, u32)> = None;
    loop {
        if limit - offset < 8 || !offset.is_multiple_of(16) {
            return None;
        }
        let head = base + offset;
        let magic = mem.read_u32(head).ok()?;
        let size = mem.read_u32(head + 4).ok()? as u64;
        if limit - offset < size {
            return None;
        }
        match magic {
            0 => {
                if size != 0 {
                    return None;
                }
                break;
            }
            FPSIMD_MAGIC => {
                if fpsimd.is_some() {
                    return None;
                }
                fpsimd = Some((head, size as u32));
            }
            ESR_MAGIC => {}
            EXTRA_MAGIC => {
                if have_extra || size < EXTRA_SIZE {
                    return None;
                }
                let datap = mem.read_u64(head + 8).ok()?;
                let extra_size = mem.read_u32(head + 16).ok()? as u64;
                // The terminator that must follow in __reserved.
                if limit - offset - size < TERMINATOR_SIZE {
                    return None;
                }
                let end = head + size;
                if mem.read_u32(end).ok()? != 0 || mem.read_u32(end + 4).ok()? != 0 {
                    return None;
                }
                have_extra = true;
                let userp = end + TERMINATOR_SIZE;
                if !datap.is_multiple_of(16) || !extra_size.is_multiple_of(16) || datap != userp {
                    return None;
                }
                if extra_size > (frame + SIGFRAME_MAXSZ).saturating_sub(userp) {
                    return None;
                }
                base = datap;
                offset = 0;
                limit = extra_size;
                continue;
            }
            // SVE, ZA, TPIDR2, FPMR, POE…: not supported by this CPU.
            _ => return None,
        }
        if size < 8 || limit - offset < size {
            return None;
        }
        offset += size;
    }
    // restore_fpsimd_context: the record must be exactly a fpsimd_context.
    match fpsimd {
        Some((addr, size)) if size as u64 == FPSIMD_SIZE => Some(addr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::signal::{si, SigAction, SignalState, SS_DISABLE, SS_ONSTACK};

    use crate::linux::process::testing::{stack_process, STACK, STACK_TOP};

    fn process() -> Process<Aarch64> {
        stack_process()
    }

    fn handler(p: &mut Process<Aarch64>, signo: i32, flags: u64, mask: u64) {
        p.sig.actions[signo as usize] = SigAction { handler: 0x40_1000, flags, restorer: 0, mask };
    }

    /// The offsets of the kernel's uapi structures (aarch64-linux-gnu asm/sigcontext.h,
    /// asm/ucontext.h, asm-generic siginfo/signal; also printed with offsetof by a program
    /// built with aarch64-linux-gnu-gcc and run under qemu-aarch64):
    /// struct ucontext { unsigned long uc_flags; struct ucontext *uc_link; stack_t uc_stack;
    /// sigset_t uc_sigmask; __u8 __unused[128 - 8]; struct sigcontext uc_mcontext; } with
    /// uc_mcontext 16-aligned: 0, 8, 16, 40, 176; size 4560.
    /// struct sigcontext { __u64 fault_address; __u64 regs[31]; __u64 sp, pc, pstate;
    /// __u8 __reserved[4096] aligned 16; }: 0, 8, 256, 264, 272, 288; size 4384.
    /// struct fpsimd_context { struct _aarch64_ctx head; __u32 fpsr, fpcr;
    /// __uint128_t vregs[32]; }: 0, 8, 12, 16; size 528. struct esr_context: size 16.
    #[test]
    fn layout_matches_kernel_headers() {
        assert_eq!(SIGINFO_SIZE, 128);
        assert_eq!(UC, SIGINFO_SIZE, "struct rt_sigframe {{ struct siginfo info; struct ucontext uc; }}");
        assert_eq!((UC_FLAGS - UC, UC_LINK - UC, UC_STACK - UC, UC_SIGMASK - UC), (0, 8, 16, 40));
        // sizeof(stack_t) = 24, the sigset padded to 1024 bits, then 16-byte alignment.
        assert_eq!(UC_SIGMASK - UC_STACK, 24);
        assert_eq!(UC_MCONTEXT - UC, (40 + 128u64).next_multiple_of(16));
        assert_eq!(UCONTEXT_SIZE, (UC_MCONTEXT - UC) + SIGCONTEXT_SIZE);
        assert_eq!(
            (SC_FAULT_ADDRESS, SC_REGS, SC_SP, SC_PC, SC_PSTATE, SC_RESERVED).map_rel(UC_MCONTEXT),
            (0, 8, 256, 264, 272, 288)
        );
        assert_eq!(SIGCONTEXT_SIZE, 288 + RESERVED_SIZE);
        assert_eq!(SC_RESERVED % 16, 0);
        assert_eq!(FRAME_SIZE, 4688);
        assert_eq!((FPSIMD_FPSR, FPSIMD_FPCR, FPSIMD_VREGS, FPSIMD_SIZE), (8, 12, 16, 16 + 32 * 16));
        assert_eq!(ESR_SIZE, 16);
        assert_eq!((FPSIMD_MAGIC, ESR_MAGIC, EXTRA_MAGIC), (0x46508001, 0x45535201, 0x45585401));
        assert_eq!(SC_GENERAL as u64, SC_RESERVED - 8 - SC_FAULT_ADDRESS);
        // The records fit in __reserved, leaving the kernel's reserve for an extra_context.
        let (_, _, end) = record_layout(true);
        assert!(end + TERMINATOR_SIZE <= SC_RESERVED + RESERVED_SIZE - EXTRA_SIZE);
        // si_signo 0, si_errno 4, si_code 8, si_addr / si_pid 16, si_uid 20 (the kernel's
        // static_asserts in signal.c) are what siginfo_bytes writes.
        let b = siginfo_bytes(11, 2, 0x1234_5678_9abc);
        assert_eq!(&b[0..4], &11u32.to_le_bytes());
        assert_eq!(&b[8..12], &2u32.to_le_bytes());
        assert_eq!(&b[16..24], &0x1234_5678_9abcu64.to_le_bytes());
    }

    trait MapRel {
        fn map_rel(self, base: u64) -> (u64, u64, u64, u64, u64, u64);
    }
    impl MapRel for (u64, u64, u64, u64, u64, u64) {
        fn map_rel(self, b: u64) -> (u64, u64, u64, u64, u64, u64) {
            (self.0 - b, self.1 - b, self.2 - b, self.3 - b, self.4 - b, self.5 - b)
        }
    }

    #[test]
    fn frame_placement_registers_and_contents() {
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, sa::SIGINFO, bit(libc::SIGUSR2));
        let sp = STACK_TOP - 0x1000;
        p.m.cpu.x = core::array::from_fn(|i| 0x1000 + i as u64);
        p.m.cpu.sp = sp;
        p.m.cpu.pc = 0x40_0124;
        p.m.cpu.nzcv = nzcv::N | nzcv::C;
        p.m.cpu.v[3] = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        p.m.cpu.fpcr = 0x0040_0000;
        p.m.cpu.fpsr = 0x10;
        p.m.cpu.excl_size = 8;
        p.sig.mask = bit(libc::SIGHUP);
        let k = PendingSignal::user(libc::SIGUSR1, si::TKILL, 1000, 1000);
        setup_frame(&mut p, libc::SIGUSR1, &k.info()).unwrap();
        let c = p.m.cpu;
        let next_frame = sp - 16;
        let frame = next_frame - FRAME_SIZE;
        assert_eq!(c.sp, frame);
        assert_eq!(frame % 16, 0);
        assert_eq!(c.pc, 0x40_1000);
        assert_eq!(c.x[0], libc::SIGUSR1 as u64);
        assert_eq!(c.x[1], frame + INFO);
        assert_eq!(c.x[2], frame + UC);
        assert_eq!(c.x[29], next_frame);
        assert_eq!(c.x[30], SIGTRAMP, "no SA_RESTORER: the vDSO trampoline");
        assert_eq!(c.x[3], 0x1003, "other registers are left alone");
        assert_eq!(c.nzcv, nzcv::N | nzcv::C, "NZCV is left alone");
        assert_eq!(c.v[3], 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210, "FP/SIMD state is left alone");
        assert_eq!(c.excl_size, 0, "the exclusive monitor is cleared");
        assert_eq!(p.sig.mask, bit(libc::SIGHUP) | bit(libc::SIGUSR1) | bit(libc::SIGUSR2));
        let m = &p.m.mem;
        assert_eq!(m.read_u64(next_frame).unwrap(), 0x1000 + 29);
        assert_eq!(m.read_u64(next_frame + 8).unwrap(), 0x1000 + 30);
        assert_eq!(m.read_u64(frame + UC_FLAGS).unwrap(), 0);
        assert_eq!(m.read_u64(frame + UC_LINK).unwrap(), 0);
        assert_eq!(m.read_u32(frame + UC_STACK + 8).unwrap(), 0);
        assert_eq!(m.read_u64(frame + UC_SIGMASK).unwrap(), bit(libc::SIGHUP));
        for i in 0..31 {
            assert_eq!(m.read_u64(frame + SC_REGS + 8 * i).unwrap(), 0x1000 + i);
        }
        assert_eq!(m.read_u64(frame + SC_SP).unwrap(), sp);
        assert_eq!(m.read_u64(frame + SC_PC).unwrap(), 0x40_0124);
        assert_eq!(m.read_u64(frame + SC_PSTATE).unwrap(), nzcv::N | nzcv::C);
        assert_eq!(m.read_u64(frame + SC_FAULT_ADDRESS).unwrap(), 0);
        let fp = frame + SC_RESERVED;
        assert_eq!(m.read_u32(fp).unwrap(), FPSIMD_MAGIC);
        assert_eq!(m.read_u32(fp + 4).unwrap(), 528);
        assert_eq!(m.read_u32(fp + FPSIMD_FPSR).unwrap(), 0x10);
        assert_eq!(m.read_u32(fp + FPSIMD_FPCR).unwrap(), 0x0040_0000);
        assert_eq!(m.read_u128(fp + FPSIMD_VREGS + 3 * 16).unwrap(), 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        // No fault yet: no esr record, the terminator follows the fpsimd record.
        assert_eq!(m.read_u64(fp + FPSIMD_SIZE).unwrap(), 0);
        assert_eq!(m.read_u32(frame + INFO).unwrap(), libc::SIGUSR1 as u32);
        assert_eq!(m.read_u32(frame + INFO + 8).unwrap() as i32, si::TKILL);
        assert_eq!(m.read_u64(frame + INFO + 16).unwrap(), 1000 | 1000 << 32);
    }

    #[test]
    fn without_siginfo_x1_x2_and_info_are_left_alone_and_padding_is_not_written() {
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, sa::RESTORER, 0);
        p.sig.actions[libc::SIGUSR1 as usize].restorer = 0x40_2000;
        p.m.cpu.sp = STACK_TOP - 0x100;
        p.m.cpu.x[1] = 11;
        p.m.cpu.x[2] = 22;
        // Stale stack contents where the frame goes.
        let frame = STACK_TOP - 0x100 - 16 - FRAME_SIZE;
        p.m.mem.write_bytes(frame, &vec![0xa5; (FRAME_SIZE + 16) as usize]).unwrap();
        setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).unwrap();
        assert_eq!(p.m.cpu.sp, frame);
        assert_eq!((p.m.cpu.x[1], p.m.cpu.x[2]), (11, 22));
        assert_eq!(p.m.cpu.x[30], 0x40_2000, "SA_RESTORER");
        let m = &p.m.mem;
        assert_eq!(m.read_u32(frame + INFO).unwrap(), 0xa5a5_a5a5, "no siginfo without SA_SIGINFO");
        assert_eq!(m.read_u32(frame + UC_STACK + 12).unwrap(), 0xa5a5_a5a5, "stack_t padding");
        assert_eq!(m.read_u64(frame + UC_SIGMASK + 8).unwrap(), 0xa5a5_a5a5_a5a5_a5a5, "sigset padding");
        assert_eq!(m.read_u64(frame + SC_RESERVED + FPSIMD_SIZE).unwrap(), 0, "terminator magic and size");
        assert_eq!(m.read_u64(frame + SC_RESERVED + FPSIMD_SIZE + 8).unwrap(), 0xa5a5_a5a5_a5a5_a5a5);
    }

    #[test]
    fn faults_add_an_esr_record_and_fault_address() {
        let mut p = process();
        handler(&mut p, libc::SIGSEGV, sa::SIGINFO, 0);
        p.m.cpu.sp = STACK_TOP - 0x100;
        let f = GuestFault::from_mem(MemFault { addr: 0x10, access: Access::Write, mapped: false });
        note_fault(&mut p.sig, &f);
        assert_eq!(p.sig.fault_code, 0x9200_0047, "DABT_LOW, IL, WnR, level-3 translation fault");
        setup_frame(&mut p, libc::SIGSEGV, &f).unwrap();
        let frame = p.m.cpu.sp;
        let m = &p.m.mem;
        assert_eq!(m.read_u64(frame + SC_FAULT_ADDRESS).unwrap(), 0x10);
        let esr = frame + SC_RESERVED + FPSIMD_SIZE;
        assert_eq!(m.read_u32(esr).unwrap(), ESR_MAGIC);
        assert_eq!(m.read_u32(esr + 4).unwrap(), 16);
        assert_eq!(m.read_u64(esr + 8).unwrap(), 0x9200_0047);
        assert_eq!(m.read_u64(esr + 16).unwrap(), 0, "terminator after the esr record");
        assert_eq!(m.read_u64(frame + INFO + 16).unwrap(), 0x10, "si_addr");

        // Reads of mapped memory, instruction fetches, alignment; SIGILL clears the state;
        // SIGTRAP (brk) keeps it.
        let mut s = SignalState::default();
        note_fault(&mut s, &GuestFault::from_mem(MemFault { addr: 8, access: Access::Read, mapped: true }));
        assert_eq!((s.fault_address, s.fault_code), (8, 0x9200_000f));
        note_fault(&mut s, &GuestFault::from_mem(MemFault { addr: 0x4000, access: Access::Exec, mapped: false }));
        assert_eq!((s.fault_address, s.fault_code), (0x4000, 0x8200_0007));
        note_fault(&mut s, &GuestFault::new(libc::SIGBUS, 1, 0x1001));
        assert_eq!((s.fault_address, s.fault_code), (0x1001, 0x9200_0021));
        note_fault(&mut s, &GuestFault::new(libc::SIGTRAP, 1, 0x40_0000));
        assert_eq!((s.fault_address, s.fault_code), (0x1001, 0x9200_0021));
        note_fault(&mut s, &GuestFault::new(libc::SIGILL, crate::engine::sig::ILL_ILLOPC, 0x40_0000));
        assert_eq!((s.fault_address, s.fault_code), (0, 0));
    }

    /// A frame as the handler sees it, then rt_sigreturn from sp = frame.
    fn delivered(p: &mut Process<Aarch64>) -> u64 {
        handler(p, libc::SIGUSR1, 0, 0);
        p.m.cpu.x = core::array::from_fn(|i| 0x2000 + i as u64);
        p.m.cpu.sp = STACK_TOP - 0x800;
        p.m.cpu.pc = 0x40_0777;
        p.m.cpu.nzcv = nzcv::Z;
        p.m.cpu.v[7] = 77;
        p.m.cpu.fpcr = 0x0200_0000;
        setup_frame(p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).unwrap();
        p.m.cpu.sp
    }

    #[test]
    fn sigreturn_restores_everything() {
        let mut p = process();
        let frame = delivered(&mut p);
        // The handler clobbers registers and edits the context.
        p.m.cpu.x = [0; 31];
        p.m.cpu.v = [0; 32];
        p.m.cpu.fpcr = 0;
        p.m.cpu.nzcv = 0;
        p.m.mem.write_u64(frame + SC_PC, 0x40_0800).unwrap();
        p.m.mem.write_u64(frame + SC_REGS, 42).unwrap();
        p.m.mem.write_u64(frame + SC_PSTATE, nzcv::C | nzcv::V | (1 << 40)).unwrap();
        p.m.mem.write_u128(frame + SC_RESERVED + FPSIMD_VREGS + 16 * 7, 0xabcdef).unwrap();
        p.m.mem.write_u32(frame + SC_RESERVED + FPSIMD_FPCR, 0xffff_ffff).unwrap();
        p.m.mem.write_u64(frame + UC_SIGMASK, bit(libc::SIGKILL) | bit(libc::SIGUSR2)).unwrap();
        // The trampoline's svc.
        p.m.cpu.sp = frame;
        assert_eq!(sigreturn(&mut p), Err(SysErr::NoResult));
        let c = &p.m.cpu;
        assert_eq!(c.pc, 0x40_0800);
        assert_eq!(c.x[0], 42);
        assert_eq!(c.x[1], 0x2001);
        assert_eq!(c.x[30], 0x2000 + 30);
        assert_eq!(c.sp, STACK_TOP - 0x800);
        assert_eq!(c.nzcv, nzcv::C | nzcv::V, "RES0 bits are dropped");
        assert_eq!(c.v[7], 0xabcdef);
        assert_eq!(c.fpcr, FPCR_MASK, "only the FPCR bits deja holds");
        assert_eq!(p.sig.mask, bit(libc::SIGUSR2));
        assert!(p.sig.pending.is_empty());
    }

    #[test]
    fn sigreturn_bad_frames_force_sigsegv() {
        type Edit = fn(&mut Process<Aarch64>, u64);
        // (what, edit, whether the registers are restored before the check fails).
        let cases: [(&str, Edit, bool); 9] = [
            ("misaligned sp", |p, f| p.m.cpu.sp = f + 8, false),
            ("unmapped frame", |p, _| p.m.cpu.sp = 0x1000, false),
            ("EL1 pstate", |p, f| p.m.mem.write_u64(f + SC_PSTATE, 0x5).unwrap(), true),
            ("DAIF in pstate", |p, f| p.m.mem.write_u64(f + SC_PSTATE, 0x80).unwrap(), true),
            ("no fpsimd record", |p, f| p.m.mem.write_u64(f + SC_RESERVED, 0).unwrap(), true),
            ("short fpsimd record", |p, f| p.m.mem.write_u32(f + SC_RESERVED + 4, 512).unwrap(), true),
            ("unknown record", |p, f| p.m.mem.write_u32(f + SC_RESERVED + FPSIMD_SIZE, 0x5356_4501).unwrap(), true),
            ("terminator with a size", |p, f| p.m.mem.write_u32(f + SC_RESERVED + FPSIMD_SIZE + 4, 16).unwrap(), true),
            (
                "duplicate fpsimd",
                |p, f| {
                    let mut rec = [0u8; FPSIMD_SIZE as usize];
                    p.m.mem.read_bytes(f + SC_RESERVED, &mut rec).unwrap();
                    p.m.mem.write_bytes(f + SC_RESERVED + FPSIMD_SIZE, &rec).unwrap();
                    p.m.mem.write_u64(f + SC_RESERVED + 2 * FPSIMD_SIZE, 0).unwrap();
                },
                true,
            ),
        ];
        for (what, edit, restored) in cases {
            let mut p = process();
            let frame = delivered(&mut p);
            p.m.cpu.sp = frame;
            edit(&mut p, frame);
            // si_addr is the kernel's regs->sp at the failure: the restored sp once the
            // registers have been read back.
            let sp = if restored { STACK_TOP - 0x800 } else { p.m.cpu.sp };
            assert_eq!(sigreturn(&mut p), Ok(0), "{what}: x0 = 0");
            assert_eq!(p.m.cpu.sp, sp, "{what}");
            assert_eq!(p.sig.pending_mask(), bit(libc::SIGSEGV), "{what}");
            assert_eq!(p.sig.pending[0].addr, sp, "{what}: si_addr is sp");
            assert_eq!(p.sig.pending[0].code, 2, "{what}: SEGV_ACCERR (a mapping lies above)");
        }
        // An esr record in the frame is accepted (and ignored).
        let mut p = process();
        let f = GuestFault::from_mem(MemFault { addr: 0x10, access: Access::Read, mapped: false });
        note_fault(&mut p.sig, &f);
        let frame = delivered(&mut p);
        assert_eq!(p.m.mem.read_u32(frame + SC_RESERVED + FPSIMD_SIZE).unwrap(), ESR_MAGIC);
        assert_eq!(sigreturn(&mut p), Err(SysErr::NoResult));
    }

    #[test]
    fn sigreturn_follows_an_extra_context() {
        let mut p = process();
        let frame = delivered(&mut p);
        // Move the fpsimd record into extra space after the frame: __reserved holds an
        // extra_context and the terminator, the extra space the record and its terminator.
        let mut rec = [0u8; FPSIMD_SIZE as usize];
        p.m.mem.read_bytes(frame + SC_RESERVED, &mut rec).unwrap();
        let r = frame + SC_RESERVED;
        let datap = r + EXTRA_SIZE + TERMINATOR_SIZE;
        p.m.mem.write_u32(r, EXTRA_MAGIC).unwrap();
        p.m.mem.write_u32(r + 4, EXTRA_SIZE as u32).unwrap();
        p.m.mem.write_u64(r + 8, datap).unwrap();
        p.m.mem.write_u32(r + 16, (FPSIMD_SIZE + TERMINATOR_SIZE) as u32).unwrap();
        p.m.mem.write_u64(r + EXTRA_SIZE, 0).unwrap();
        p.m.mem.write_bytes(datap, &rec).unwrap();
        p.m.mem.write_u128(datap + FPSIMD_VREGS, 5).unwrap();
        p.m.mem.write_u64(datap + FPSIMD_SIZE, 0).unwrap();
        p.m.cpu.sp = frame;
        assert_eq!(sigreturn(&mut p), Err(SysErr::NoResult));
        assert_eq!(p.m.cpu.v[0], 5);
        // datap elsewhere is invalid.
        let mut p = process();
        let frame = delivered(&mut p);
        let r = frame + SC_RESERVED;
        p.m.mem.write_u32(r, EXTRA_MAGIC).unwrap();
        p.m.mem.write_u32(r + 4, EXTRA_SIZE as u32).unwrap();
        p.m.mem.write_u64(r + 8, r + 0x100).unwrap();
        p.m.mem.write_u64(r + EXTRA_SIZE, 0).unwrap();
        p.m.cpu.sp = frame;
        assert_eq!(sigreturn(&mut p), Ok(0));
    }

    #[test]
    fn altstack_frames() {
        let mut p = process();
        handler(&mut p, libc::SIGSEGV, sa::SIGINFO | sa::ONSTACK, 0);
        let alt = STACK + 0x1000;
        p.sig.set_altstack(AltStack { sp: alt, size: 0x4000, flags: 0 }, 0, 5120).unwrap();
        p.m.cpu.sp = STACK_TOP - 0x100;
        setup_frame(&mut p, libc::SIGSEGV, &GuestFault::new(libc::SIGSEGV, 1, 0)).unwrap();
        let frame = p.m.cpu.sp;
        assert_eq!(frame, alt + 0x4000 - 16 - FRAME_SIZE);
        assert_eq!(p.m.mem.read_u64(frame + UC_STACK).unwrap(), alt);
        assert_eq!(p.m.mem.read_u64(frame + UC_STACK + 16).unwrap(), 0x4000);
        assert_eq!(p.sig.sas_ss_flags(frame), SS_ONSTACK);
        // A nested signal on the altstack goes below the current frame; arm64 does not
        // check for overflow, so the fourth frame lands below the 16 KiB altstack (the
        // memory there is mapped in this test).
        p.sig.mask = 0;
        setup_frame(&mut p, libc::SIGSEGV, &GuestFault::new(libc::SIGSEGV, 1, 0)).unwrap();
        assert_eq!(p.m.cpu.sp, frame - 16 - FRAME_SIZE);
        for _ in 0..2 {
            p.sig.mask = 0;
            setup_frame(&mut p, libc::SIGSEGV, &GuestFault::new(libc::SIGSEGV, 1, 0)).unwrap();
        }
        assert!(p.m.cpu.sp < alt);

        // SS_AUTODISARM: disarmed while the handler runs, re-armed by rt_sigreturn.
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, sa::ONSTACK, 0);
        p.sig.set_altstack(AltStack { sp: alt, size: 0x4000, flags: SS_AUTODISARM }, 0, 5120).unwrap();
        p.m.cpu.sp = STACK_TOP - 0x100;
        setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).unwrap();
        assert_eq!(p.sig.altstack.flags, SS_DISABLE);
        assert_eq!(sigreturn(&mut p), Err(SysErr::NoResult));
        assert_eq!(p.sig.altstack, AltStack { sp: alt, size: 0x4000, flags: SS_AUTODISARM });
        assert_eq!(p.m.cpu.sp, STACK_TOP - 0x100);
    }

    #[test]
    fn unwritable_stack_fails_without_writing() {
        let mut p = process();
        handler(&mut p, libc::SIGUSR1, sa::RESETHAND, 0);
        p.m.cpu.sp = STACK + 0x100; // the frame would go below the mapping
        let before = p.m.cpu;
        assert!(setup_frame(&mut p, libc::SIGUSR1, &GuestFault::new(libc::SIGUSR1, 0, 0)).is_err());
        assert_eq!(p.m.cpu, before);
        assert_eq!(p.sig.actions[libc::SIGUSR1 as usize].handler, SIG_DFL);
        assert_eq!(p.m.mem.read_u64(STACK).unwrap(), 0);
    }

    #[test]
    fn trampoline_page() {
        let mut mem = Memory::new(crate::linux::layout::WINDOW).unwrap();
        map_sigtramp(&mut mem);
        let mut w = [0u8; 12];
        assert_eq!(mem.fetch(SIGTRAMP_PAGE, &mut w), 12);
        assert_eq!(u32::from_le_bytes(w[4..8].try_into().unwrap()), 0xd280_1168);
        assert_eq!(mem.page_flags(SIGTRAMP) & (flags::X | flags::W), flags::X);
        let dis = |word: u32| deja_decoders::aarch64::decode_word(word).map(|i| i.to_string()).unwrap_or_default();
        assert_eq!(dis(SIGTRAMP_CODE[0]), "nop");
        assert_eq!(dis(SIGTRAMP_CODE[1]), "mov x8, #0x8b");
        assert_eq!(dis(SIGTRAMP_CODE[2]), "svc #0x0");
    }
}
