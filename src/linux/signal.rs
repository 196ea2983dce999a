//! Signals: dispositions, masks, the pending set, and delivery of synchronous faults and
//! raised signals at instruction boundaries, following Linux's `kernel/signal.c`
//! (`send_signal`, `force_sig_info_to_task`, `get_signal`, `signal_delivered`).
//!
//! deja runs one guest thread and has no asynchronous signal sources yet (the replay work
//! adds them through `World::pending_signal`), so signals become pending only through the
//! guest's own kill/tkill/tgkill, through faults, and through the kernel-forced SIGSEGV of a
//! failed frame setup or sigreturn. They are delivered when the run loop calls
//! [`deliver_pending`], right after the syscall or fault that produced them, exactly where
//! Linux delivers them (on the way back to user mode).

use super::process::{Outcome, Process};
use crate::arch::Arch;
use crate::engine::GuestFault;

/// A guest sigaction (x86-64 `struct kernel_sigaction`: handler, flags, restorer, mask; 32
/// bytes in that order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigAction {
    /// SIG_DFL (0), SIG_IGN (1) or the handler address.
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `sa_flags` bits (x86-64 values).
pub mod sa {
    pub const NOCLDSTOP: u64 = 1;
    pub const NOCLDWAIT: u64 = 2;
    pub const SIGINFO: u64 = 4;
    pub const EXPOSE_TAGBITS: u64 = 0x800;
    pub const RESTORER: u64 = 0x0400_0000;
    pub const ONSTACK: u64 = 0x0800_0000;
    pub const RESTART: u64 = 0x1000_0000;
    pub const NODEFER: u64 = 0x4000_0000;
    pub const RESETHAND: u64 = 0x8000_0000;
    /// The flags the kernel keeps (`UAPI_SA_FLAGS`); others are silently cleared so user
    /// space can probe for support.
    pub const UAPI: u64 =
        NOCLDSTOP | NOCLDWAIT | SIGINFO | ONSTACK | RESTART | NODEFER | RESETHAND | EXPOSE_TAGBITS | RESTORER;
}

/// `si_code` values for signals sent by processes.
pub mod si {
    /// kill().
    pub const USER: i32 = 0;
    /// Sent by the kernel.
    pub const KERNEL: i32 = 0x80;
    /// tkill()/tgkill().
    pub const TKILL: i32 = -6;
}

/// sigaltstack flags.
pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const SS_AUTODISARM: i32 = 1 << 31;

/// The highest signal number (`_NSIG`).
pub const NSIG: i32 = 64;

/// Mask bit of signal `signo` (1..=64).
#[inline]
pub fn bit(signo: i32) -> u64 {
    1u64 << (signo - 1)
}

/// SIGKILL and SIGSTOP can be neither blocked, caught nor ignored.
pub const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// Signals the kernel dequeues before any other (`SYNCHRONOUS_MASK`).
const SYNCHRONOUS: u64 = (1 << (libc::SIGSEGV - 1))
    | (1 << (libc::SIGBUS - 1))
    | (1 << (libc::SIGILL - 1))
    | (1 << (libc::SIGTRAP - 1))
    | (1 << (libc::SIGFPE - 1))
    | (1 << (libc::SIGSYS - 1));

/// The first real-time signal as the kernel counts (`SIGRTMIN`): from here on signals queue
/// one entry per send instead of coalescing.
const SIGRTMIN: i32 = 32;

/// The alternate signal stack, as the kernel stores it (`sas_ss_sp/size/flags`). `flags` is
/// what the guest last set (the kernel reports it raw in `uc_stack`), initially 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub size: u64,
    pub flags: i32,
}

/// Per-process signal state (one thread).
#[derive(Debug, Clone)]
pub struct SignalState {
    /// Indexed by signal number (1..=64); index 0 unused.
    pub actions: [SigAction; 65],
    /// Blocked signals (bit n-1 for signal n). Never contains SIGKILL or SIGSTOP.
    pub mask: u64,
    /// Pending signals in the order they were sent.
    pub pending: Vec<PendingSignal>,
    pub altstack: AltStack,
    /// The mask to restore after rt_sigsuspend (the kernel's `saved_sigmask` with
    /// TIF_RESTORE_SIGMASK): the next signal frame saves it instead of `mask`.
    pub saved_mask: Option<u64>,
    /// The kernel's `thread.cr2`, `thread.trap_nr` and `thread.error_code`: set by faults
    /// and copied into every signal frame, so a frame for a kill()ed signal shows the values
    /// of the last fault, as on Linux.
    pub cr2: u64,
    pub trapno: u64,
    pub err: u64,
    /// arm64's `thread.fault_address` and `thread.fault_code` (the ESR of the last fault):
    /// set by faults, cleared by the kernel's `arm64_notify_die` (undefined instructions, a
    /// bad sigreturn…), copied into every signal frame (an esr_context record is added while
    /// `fault_code` is non-zero), as on Linux.
    pub fault_address: u64,
    pub fault_code: u64,
    /// The user code and stack segment selectors. Always 0x33/0x2b while the guest runs;
    /// rt_sigreturn may load others from a forged frame, which makes the return to user
    /// mode fault (SIGSEGV) with the bad selector saved in the next frame, as on Linux.
    pub cs: u16,
    pub ss: u16,
}

/// A signal waiting for delivery, with its siginfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignal {
    pub signo: i32,
    pub code: i32,
    /// The first 8 bytes of siginfo's union (offset 16): `si_addr` for faults,
    /// `si_pid | si_uid << 32` for kill/tkill/tgkill.
    pub addr: u64,
    /// A synchronous fault (the kill report names the address for SIGSEGV/SIGBUS).
    pub fault: bool,
    /// Diagnostic for the kill report (unimplemented instruction, …).
    pub detail: Option<String>,
}

impl PendingSignal {
    /// A signal sent by a process (`kill`: SI_USER, `tkill`/`tgkill`: SI_TKILL).
    pub fn user(signo: i32, code: i32, pid: i32, uid: u32) -> PendingSignal {
        PendingSignal { signo, code, addr: pid as u32 as u64 | (uid as u64) << 32, fault: false, detail: None }
    }

    /// A signal sent by the kernel (SI_KERNEL, no sender).
    pub fn kernel(signo: i32) -> PendingSignal {
        PendingSignal { signo, code: si::KERNEL, addr: 0, fault: false, detail: None }
    }

    /// The siginfo as a `GuestFault` (signo, code, union word), the form `setup_frame` takes.
    pub fn info(&self) -> GuestFault {
        GuestFault::new(self.signo, self.code, self.addr)
    }
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            actions: [SigAction::default(); 65],
            mask: 0,
            pending: Vec::new(),
            altstack: AltStack::default(),
            saved_mask: None,
            cr2: 0,
            trapno: 0,
            err: 0,
            fault_address: 0,
            fault_code: 0,
            cs: super::signal_frame::USER_CS,
            ss: super::signal_frame::USER_SS,
        }
    }
}

impl SignalState {
    /// Queue a signal sent to the process from outside (an asynchronous signal): SI_USER
    /// with no sender information.
    pub fn raise(&mut self, signo: i32) {
        self.send(PendingSignal::user(signo, si::USER, 0, 0));
    }

    /// Would `signo` be discarded rather than delivered under its current disposition?
    /// (`sig_handler_ignored`: SIG_IGN, or SIG_DFL with default action ignore.)
    pub fn handler_ignored(&self, signo: i32) -> bool {
        let h = self.actions[signo as usize].handler;
        signo != libc::SIGKILL
            && signo != libc::SIGSTOP
            && (h == SIG_IGN || (h == SIG_DFL && default_action(signo) == DefaultAction::Ignore))
    }

    /// Send a signal (the kernel's `send_signal`): an unblocked ignored signal is dropped,
    /// a standard signal already pending is not queued twice, real-time signals queue.
    pub fn send(&mut self, s: PendingSignal) {
        if !(1..=NSIG).contains(&s.signo) {
            return;
        }
        if self.mask & bit(s.signo) == 0 && self.handler_ignored(s.signo) {
            return;
        }
        if s.signo < SIGRTMIN && self.pending.iter().any(|p| p.signo == s.signo) {
            return;
        }
        self.pending.push(s);
    }

    /// Force a signal the thread cannot refuse (`force_sig_info_to_task`): if it is blocked
    /// or ignored, its handler is reset to SIG_DFL and it is unblocked. Used for faults and
    /// the kernel's own SIGSEGV.
    pub fn force(&mut self, s: PendingSignal) {
        let signo = s.signo;
        let blocked = self.mask & bit(signo) != 0;
        let a = &mut self.actions[signo as usize];
        if blocked || a.handler == SIG_IGN {
            a.handler = SIG_DFL;
            self.mask &= !bit(signo);
        }
        self.send(s);
    }

    /// Signals pending (whether blocked or not), as a mask.
    pub fn pending_mask(&self) -> u64 {
        self.pending.iter().fold(0, |m, p| m | bit(p.signo))
    }

    /// Take the next pending signal among `allowed` (a mask), the kernel's order:
    /// synchronous signals first, then the lowest number; one signal's entries in FIFO order.
    pub fn dequeue(&mut self, allowed: u64) -> Option<PendingSignal> {
        let set = self.pending_mask() & allowed;
        if set == 0 {
            return None;
        }
        let pick = if set & SYNCHRONOUS != 0 { set & SYNCHRONOUS } else { set };
        let signo = pick.trailing_zeros() as i32 + 1;
        let idx = self.pending.iter().position(|p| p.signo == signo)?;
        Some(self.pending.remove(idx))
    }

    /// Is a signal pending that delivery under the current mask would not simply discard
    /// (it runs a handler or ends the process)? Pending signals that would be discarded are
    /// dropped on the way, as delivery would.
    pub fn has_deliverable(&mut self) -> bool {
        let allowed = !self.mask;
        let mut i = 0;
        while i < self.pending.len() {
            let s = self.pending[i].signo;
            if allowed & bit(s) != 0 {
                let h = self.actions[s as usize].handler;
                let discarded = self.handler_ignored(s)
                    || (h == SIG_DFL && matches!(default_action(s), DefaultAction::Stop | DefaultAction::Continue));
                if !discarded {
                    return true;
                }
                self.pending.remove(i);
            } else {
                i += 1;
            }
        }
        false
    }

    /// `__on_sig_stack`: is `sp` inside the alternate stack (ss_sp, ss_sp + ss_size]?
    pub fn within_altstack(&self, sp: u64) -> bool {
        sp > self.altstack.sp && sp.wrapping_sub(self.altstack.sp) <= self.altstack.size
    }

    /// `on_sig_stack`: as `within_altstack`, but never with SS_AUTODISARM.
    pub fn on_sig_stack(&self, sp: u64) -> bool {
        self.altstack.flags & SS_AUTODISARM == 0 && self.within_altstack(sp)
    }

    /// `sas_ss_flags`: SS_DISABLE when no alternate stack is set, SS_ONSTACK when `sp` is on
    /// it, else 0.
    pub fn sas_ss_flags(&self, sp: u64) -> i32 {
        if self.altstack.size == 0 {
            SS_DISABLE
        } else if self.on_sig_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// The kernel's `do_sigaltstack` for a new setting `ss` with the stack pointer `sp`;
    /// `min_size` is the ISA's MINSIGSTKSZ (`Abi::minsigstksz`). Errors are errnos.
    pub fn set_altstack(&mut self, ss: AltStack, sp: u64, min_size: u64) -> Result<(), i32> {
        if self.on_sig_stack(sp) {
            return Err(libc::EPERM);
        }
        let mode = ss.flags & !SS_AUTODISARM;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(libc::EINVAL);
        }
        if self.altstack == ss {
            return Ok(());
        }
        let (sp, size) = if mode == SS_DISABLE {
            (0, 0)
        } else {
            if ss.size < min_size {
                return Err(libc::ENOMEM);
            }
            (ss.sp, ss.size)
        };
        self.altstack = AltStack { sp, size, flags: ss.flags };
        Ok(())
    }
}

/// Default action of a signal (the kernel's SIG_KERNEL_*_MASK sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process.
    Terminate,
    /// Terminate with a core dump (deja writes no core file; the exit is the same).
    Core,
    Ignore,
    /// Stop the process. deja has no job control: nothing could continue a stopped guest,
    /// so stop signals are treated as ignored.
    Stop,
    /// Continue a stopped process: nothing to do, like ignore.
    Continue,
}

pub fn default_action(signo: i32) -> DefaultAction {
    match signo {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        libc::SIGCONT => DefaultAction::Continue,
        libc::SIGQUIT
        | libc::SIGILL
        | libc::SIGTRAP
        | libc::SIGABRT
        | libc::SIGFPE
        | libc::SIGSEGV
        | libc::SIGBUS
        | libc::SIGSYS
        | libc::SIGXCPU
        | libc::SIGXFSZ => DefaultAction::Core,
        _ => DefaultAction::Terminate,
    }
}

/// A synchronous fault: record it in the thread's trap state (`Arch::note_fault`), force it (a blocked or
/// ignored fault kills: its handler is reset to SIG_DFL), and deliver it.
pub fn deliver_fault<A: Arch>(p: &mut Process<A>, f: GuestFault) -> Option<Outcome> {
    A::note_fault(&mut p.sig, &f);
    p.sig.force(PendingSignal { signo: f.signo, code: f.code, addr: f.addr, fault: true, detail: f.detail });
    deliver_pending(p)
}

/// Deliver every deliverable pending signal at this instruction boundary (the kernel's
/// exit-to-user loop: each handler's frame is pushed on top of the previous one, so the
/// last signal delivered runs first). Returns the outcome if one of them ends the process.
pub fn deliver_pending<A: Arch>(p: &mut Process<A>) -> Option<Outcome> {
    while let Some(s) = p.sig.dequeue(!p.sig.mask) {
        let act = p.sig.actions[s.signo as usize];
        if act.handler == SIG_IGN && !matches!(s.signo, libc::SIGKILL | libc::SIGSTOP) {
            continue;
        }
        if act.handler == SIG_DFL || matches!(s.signo, libc::SIGKILL | libc::SIGSTOP) {
            match default_action(s.signo) {
                DefaultAction::Terminate | DefaultAction::Core => return Some(killed(p, s)),
                DefaultAction::Ignore | DefaultAction::Stop | DefaultAction::Continue => continue,
            }
        }
        if A::setup_frame(p, s.signo, &s.info()).is_err() {
            // The kernel's force_sigsegv: a SIGSEGV whose own frame cannot be written is
            // fatal; any other signal turns into a forced SIGSEGV (which may be handled).
            if s.signo == libc::SIGSEGV {
                return Some(killed(p, PendingSignal::kernel(libc::SIGSEGV)));
            }
            p.sig.force(PendingSignal::kernel(libc::SIGSEGV));
        }
    }
    // No handler took the mask saved by rt_sigsuspend: restore it now.
    if let Some(m) = p.sig.saved_mask.take() {
        p.sig.mask = m;
    }
    None
}

fn killed<A: Arch>(p: &Process<A>, s: PendingSignal) -> Outcome {
    let addr = (s.fault && matches!(s.signo, libc::SIGSEGV | libc::SIGBUS)).then_some(s.addr);
    Outcome::Killed { signo: s.signo, pc: A::pc(&p.m.cpu), icount: p.m.icount, addr, detail: s.detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dequeue_order_synchronous_first_then_lowest() {
        let mut s = SignalState::default();
        s.send(PendingSignal::user(libc::SIGUSR2, si::USER, 1, 2));
        s.send(PendingSignal::user(libc::SIGUSR1, si::USER, 1, 2));
        s.send(PendingSignal::kernel(libc::SIGSEGV));
        s.send(PendingSignal::user(libc::SIGUSR1, si::USER, 3, 4)); // coalesced
        assert_eq!(s.pending.len(), 3);
        assert_eq!(s.dequeue(!0).unwrap().signo, libc::SIGSEGV);
        assert_eq!(s.dequeue(!0).unwrap().signo, libc::SIGUSR1);
        assert_eq!(s.dequeue(!bit(libc::SIGUSR2)), None);
        assert_eq!(s.dequeue(!0).unwrap().signo, libc::SIGUSR2);
    }

    #[test]
    fn realtime_signals_queue() {
        let mut s = SignalState::default();
        s.send(PendingSignal::user(40, si::USER, 1, 0));
        s.send(PendingSignal::user(40, si::USER, 2, 0));
        assert_eq!(s.dequeue(!0).unwrap().addr, 1);
        assert_eq!(s.dequeue(!0).unwrap().addr, 2);
    }

    #[test]
    fn ignored_unblocked_signals_are_dropped_at_send() {
        let mut s = SignalState::default();
        s.send(PendingSignal::kernel(libc::SIGCHLD));
        assert!(s.pending.is_empty());
        s.mask = bit(libc::SIGCHLD);
        s.send(PendingSignal::kernel(libc::SIGCHLD));
        assert_eq!(s.pending_mask(), bit(libc::SIGCHLD));
        s.mask = 0;
        assert!(!s.has_deliverable());
        assert!(s.pending.is_empty());
    }

    #[test]
    fn forced_fault_resets_blocked_or_ignored_handler() {
        let mut s = SignalState::default();
        s.actions[libc::SIGSEGV as usize].handler = 0x1234;
        s.mask = bit(libc::SIGSEGV) | bit(libc::SIGUSR1);
        s.force(PendingSignal::kernel(libc::SIGSEGV));
        assert_eq!(s.actions[libc::SIGSEGV as usize].handler, SIG_DFL);
        assert_eq!(s.mask, bit(libc::SIGUSR1));
        s.actions[libc::SIGFPE as usize].handler = SIG_IGN;
        s.force(PendingSignal::kernel(libc::SIGFPE));
        assert_eq!(s.actions[libc::SIGFPE as usize].handler, SIG_DFL);
        assert_eq!(s.pending.len(), 2);
    }

    #[test]
    fn altstack_rules() {
        let mut s = SignalState::default();
        assert_eq!(s.sas_ss_flags(0x1000), SS_DISABLE);
        assert_eq!(s.set_altstack(AltStack { sp: 0x10000, size: 100, flags: 0 }, 0, 2048), Err(libc::ENOMEM));
        assert_eq!(s.set_altstack(AltStack { sp: 0x10000, size: 0x4000, flags: 5 }, 0, 2048), Err(libc::EINVAL));
        s.set_altstack(AltStack { sp: 0x10000, size: 0x4000, flags: 0 }, 0x8000, 2048).unwrap();
        assert_eq!(s.sas_ss_flags(0x8000), 0);
        assert_eq!(s.sas_ss_flags(0x14000), SS_ONSTACK);
        assert_eq!(s.sas_ss_flags(0x10000), 0, "the lowest byte is not on the stack (sp > ss_sp)");
        assert_eq!(s.set_altstack(AltStack::default(), 0x12000, 2048), Err(libc::EPERM));
        s.set_altstack(AltStack { sp: 0, size: 0, flags: SS_DISABLE }, 0x8000, 2048).unwrap();
        assert_eq!(s.altstack, AltStack { sp: 0, size: 0, flags: SS_DISABLE });
        s.set_altstack(AltStack { sp: 0x10000, size: 0x4000, flags: SS_AUTODISARM }, 0, 2048).unwrap();
        assert!(!s.on_sig_stack(0x12000));
        assert!(s.within_altstack(0x12000));
    }
}
