//! Signals: dispositions, masks, pending set, and delivery of synchronous faults and raised
//! signals at instruction boundaries.

use super::process::{Outcome, Process};
use crate::engine::GuestFault;

/// A guest sigaction (kernel layout fields, x86-64 `struct kernel_sigaction`).
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

/// Per-process signal state.
#[derive(Debug, Clone)]
pub struct SignalState {
    /// Indexed by signal number (1..=64).
    pub actions: [SigAction; 65],
    /// Blocked signals (bit n-1 for signal n).
    pub mask: u64,
    /// Pending signals with their siginfo (raised by kill/tgkill or asynchronous).
    pub pending: Vec<PendingSignal>,
    /// sigaltstack: (ss_sp, ss_flags, ss_size).
    pub altstack: (u64, i32, u64),
}

/// A signal waiting for delivery.
#[derive(Debug, Clone)]
pub struct PendingSignal {
    pub signo: i32,
    pub code: i32,
    pub addr: u64,
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            actions: [SigAction::default(); 65],
            mask: 0,
            pending: Vec::new(),
            altstack: (0, libc::SS_DISABLE, 0),
        }
    }
}

impl SignalState {
    /// Queue a signal sent to the process (kill, tgkill, raise, asynchronous). SI_USER.
    pub fn raise(&mut self, signo: i32) {
        if !self.pending.iter().any(|p| p.signo == signo) {
            self.pending.push(PendingSignal { signo, code: 0, addr: 0 });
        }
    }
}

/// Default action of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Ignore,
    Stop,
    Continue,
}

pub fn default_action(signo: i32) -> DefaultAction {
    match signo {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        libc::SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// Deliver a synchronous fault: to the guest's handler if it has one and the signal is not
/// blocked, otherwise the process dies of it.
pub fn deliver_fault(p: &mut Process, f: GuestFault) -> Option<Outcome> {
    let act = p.sig.actions[f.signo as usize];
    let blocked = p.sig.mask & (1 << (f.signo - 1)) != 0;
    if act.handler != SIG_DFL && act.handler != SIG_IGN && !blocked {
        if super::signal_frame::setup_frame(p, f.signo, &f).is_ok() {
            return None;
        }
        // The frame could not be written (bad stack): Linux forces SIGSEGV with default action.
        let pc = p.m.cpu.rip;
        return Some(Outcome::Killed { signo: libc::SIGSEGV, pc, icount: p.m.icount, addr: None, detail: None });
    }
    // A fault that is ignored or blocked still kills: the kernel forces the default action.
    Some(Outcome::Killed {
        signo: f.signo,
        pc: p.m.cpu.rip,
        icount: p.m.icount,
        addr: matches!(f.signo, libc::SIGSEGV | libc::SIGBUS).then_some(f.addr),
        detail: f.detail,
    })
}

/// Deliver the first deliverable pending signal, if any.
pub fn deliver_pending(p: &mut Process) -> Option<Outcome> {
    let idx = p.sig.pending.iter().position(|s| p.sig.mask & (1 << (s.signo - 1)) == 0 || s.signo == libc::SIGKILL)?;
    let s = p.sig.pending.remove(idx);
    let act = p.sig.actions[s.signo as usize];
    if s.signo == libc::SIGKILL || s.signo == libc::SIGSTOP || act.handler == SIG_DFL {
        return match default_action(s.signo) {
            DefaultAction::Terminate => {
                Some(Outcome::Killed { signo: s.signo, pc: p.m.cpu.rip, icount: p.m.icount, addr: None, detail: None })
            }
            _ => None,
        };
    }
    if act.handler == SIG_IGN {
        return None;
    }
    let mut f = GuestFault::new(s.signo, s.code, s.addr);
    f.trapno = 0;
    match super::signal_frame::setup_frame(p, s.signo, &f) {
        Ok(()) => None,
        Err(_) => Some(Outcome::Killed {
            signo: libc::SIGSEGV,
            pc: p.m.cpu.rip,
            icount: p.m.icount,
            addr: None,
            detail: None,
        }),
    }
}
