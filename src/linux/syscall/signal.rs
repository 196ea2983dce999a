//! Signal syscalls: rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending sigaltstack
//! kill tkill tgkill pause rt_sigsuspend rt_sigtimedwait, following Linux's
//! `kernel/signal.c` (argument checks in the kernel's order, so errnos match).
//!
//! The guest is alone in its world: kill and friends reach only the guest itself (pid and
//! tid `GUEST_PID`, its process group, `0`); any other pid is ESRCH, so a guest can never
//! signal a host process. Nothing can send the guest a signal from outside yet (timers and
//! asynchronous signals come with the replay work), so a wait that no pending signal ends
//! would block forever: it ends the run with `RunError::Deadlock` instead.

use super::{err, SysErr, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::signal::{bit, sa, si, AltStack, PendingSignal, SigAction, NSIG, SS_AUTODISARM, UNBLOCKABLE};
use crate::linux::signal_frame::siginfo_bytes;
use crate::linux::syscall::proc::GUEST_PID;
use crate::linux::sysno::Sys;
use crate::world::HostCall;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::RtSigaction, rt_sigaction);
    t.add(Sys::RtSigprocmask, rt_sigprocmask);
    t.add(Sys::RtSigreturn, rt_sigreturn);
    t.add(Sys::RtSigpending, rt_sigpending);
    t.add(Sys::Sigaltstack, sigaltstack);
    t.add(Sys::Kill, kill);
    t.add(Sys::Tkill, tkill);
    t.add(Sys::Tgkill, tgkill);
    t.add(Sys::Pause, pause);
    t.add(Sys::RtSigsuspend, rt_sigsuspend);
    t.add(Sys::RtSigtimedwait, rt_sigtimedwait);
}

/// sizeof(sigset_t) in the kernel ABI.
const SIGSET_SIZE: u64 = 8;
const SIG_BLOCK: i32 = 0;
const SIG_UNBLOCK: i32 = 1;
const SIG_SETMASK: i32 = 2;

fn valid_signal(sig: i32) -> bool {
    (0..=NSIG).contains(&sig)
}

fn read_sigaction<A: Arch>(p: &Process<A>, addr: u64) -> Result<SigAction, SysErr> {
    let mut b = [0u8; 32];
    p.m.mem.read_bytes(addr, &mut b)?;
    let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap_or_default());
    Ok(SigAction { handler: w(0), flags: w(1), restorer: w(2), mask: w(3) })
}

/// rt_sigaction(sig, act, oact, sigsetsize).
fn rt_sigaction<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (sig, act, oact) = (a[0] as i32, a[1], a[2]);
    if a[3] != SIGSET_SIZE {
        return err(EINVAL);
    }
    let new = if act != 0 { Some(read_sigaction(p, act)?) } else { None };
    if !(1..=NSIG).contains(&sig) || (new.is_some() && UNBLOCKABLE & bit(sig) != 0) {
        return err(EINVAL);
    }
    let mut old = p.sig.actions[sig as usize];
    old.flags &= sa::UAPI;
    if let Some(mut n) = new {
        n.flags &= sa::UAPI;
        n.mask &= !UNBLOCKABLE;
        p.sig.actions[sig as usize] = n;
        // POSIX: making a pending signal ignored discards it, blocked or not.
        if p.sig.handler_ignored(sig) {
            p.sig.pending.retain(|s| s.signo != sig);
        }
    }
    if oact != 0 {
        let mut b = [0u8; 32];
        for (i, v) in [old.handler, old.flags, old.restorer, old.mask].into_iter().enumerate() {
            b[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
        }
        p.m.mem.write_bytes(oact, &b)?;
    }
    Ok(0)
}

/// rt_sigprocmask(how, set, oset, sigsetsize). SIGKILL and SIGSTOP are never blocked.
/// Signals it unblocks are delivered right after it returns.
fn rt_sigprocmask<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (how, set, oset) = (a[0] as i32, a[1], a[2]);
    if a[3] != SIGSET_SIZE {
        return err(EINVAL);
    }
    let old = p.sig.mask;
    if set != 0 {
        let n = p.m.mem.read_u64(set)? & !UNBLOCKABLE;
        p.sig.mask = match how {
            SIG_BLOCK => old | n,
            SIG_UNBLOCK => old & !n,
            SIG_SETMASK => n,
            _ => return err(EINVAL),
        };
    }
    if oset != 0 {
        p.m.mem.write_u64(oset, old)?;
    }
    Ok(0)
}

/// rt_sigreturn: everything comes from the frame, rax included, so the run loop must not
/// write a result. A bad frame forces SIGSEGV and returns 0, as Linux does.
fn rt_sigreturn<A: Arch>(p: &mut Process<A>, _a: [u64; 6]) -> SysResult {
    A::sigreturn(p)
}

/// rt_sigpending(set, sigsetsize): the pending signals that are blocked.
fn rt_sigpending<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return err(EINVAL);
    }
    let set = p.sig.pending_mask() & p.sig.mask;
    p.m.mem.write_bytes(a[0], &set.to_le_bytes()[..a[1] as usize])?;
    Ok(0)
}

/// sigaltstack(ss, old_ss).
fn sigaltstack<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (uss, uoss) = (a[0], a[1]);
    let sp = A::sp(&p.m.cpu);
    let new = if uss != 0 {
        let mut b = [0u8; 24];
        p.m.mem.read_bytes(uss, &mut b)?;
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap_or_default());
        Some(AltStack { sp: w(0), flags: w(1) as u32 as i32, size: w(2) })
    } else {
        None
    };
    let cur = p.sig.altstack;
    let old_flags = p.sig.sas_ss_flags(sp) | (cur.flags & SS_AUTODISARM);
    if let Some(ss) = new {
        p.sig.set_altstack(ss, sp, A::ABI.minsigstksz()).map_err(SysErr::Errno)?;
    }
    if uoss != 0 {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&cur.sp.to_le_bytes());
        b[8..12].copy_from_slice(&old_flags.to_le_bytes());
        b[16..24].copy_from_slice(&cur.size.to_le_bytes());
        p.m.mem.write_bytes(uoss, &b)?;
    }
    Ok(0)
}

/// Send `sig` (already checked to address the guest) from the guest to itself. si_uid is
/// the sender's real uid: what getuid answers, so it comes from the host through the world.
fn send_self<A: Arch>(p: &mut Process<A>, sig: i32, code: i32) -> SysResult {
    if !valid_signal(sig) {
        return err(EINVAL);
    }
    if sig != 0 {
        let uid = p.world.syscall(p.m.icount, &HostCall::new(libc::SYS_getuid, [0; 6]));
        p.sig.send(PendingSignal::user(sig, code, GUEST_PID as i32, uid as u32));
    }
    Ok(0)
}

/// kill(pid, sig). The guest is pid GUEST_PID, alone in its process group (pid 0 or
/// -GUEST_PID). pid -1 means every process except the caller and init: none in the guest's
/// world, so ESRCH, as Linux answers when there is nobody to signal.
fn kill<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1] as i32);
    let me = GUEST_PID as i32;
    if pid == me || pid == 0 || pid == -me {
        send_self(p, sig, si::USER)
    } else {
        err(ESRCH)
    }
}

/// tkill(tid, sig).
fn tkill<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (tid, sig) = (a[0] as i32, a[1] as i32);
    if tid <= 0 {
        return err(EINVAL);
    }
    if tid != GUEST_PID as i32 {
        return err(ESRCH);
    }
    send_self(p, sig, si::TKILL)
}

/// tgkill(tgid, tid, sig).
fn tgkill<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (tgid, tid, sig) = (a[0] as i32, a[1] as i32, a[2] as i32);
    if tgid <= 0 || tid <= 0 {
        return err(EINVAL);
    }
    if tid != GUEST_PID as i32 || tgid != GUEST_PID as i32 {
        return err(ESRCH);
    }
    send_self(p, sig, si::TKILL)
}

/// pause(): returns EINTR once a signal handler has run. Only an already pending signal
/// can end it (see the module doc); otherwise the run ends as a deadlock.
fn pause<A: Arch>(p: &mut Process<A>, _a: [u64; 6]) -> SysResult {
    wait_for_signal(p);
    err(EINTR)
}

/// Block until a signal deliverable under the current mask is pending: asynchronous signals
/// reach deja on the host and come in through the world (so waiting is recorded and replay
/// does not wait at all).
fn wait_for_signal<A: Arch>(p: &mut Process<A>) {
    while !p.sig.has_deliverable() {
        if let Some(s) = p.world.pending_signal(p.m.icount) {
            p.sig.raise(s);
            continue;
        }
        // Returns with EINTR once a forwarded host signal has been caught. Any other answer
        // means the world cannot wait (a replay that diverged answers EIO to everything): stop
        // waiting, as if interrupted, so the run loop reports the divergence instead of
        // spinning here for ever (found by the replay_log fuzz target).
        let call = crate::world::HostCall::new(libc::SYS_pause, [0; 6]);
        if p.world.syscall(p.m.icount, &call) != -(EINTR as i64) {
            break;
        }
    }
}

/// rt_sigsuspend(mask, sigsetsize): wait under `mask`; the handler's frame saves the
/// original mask, which rt_sigreturn restores.
fn rt_sigsuspend<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return err(EINVAL);
    }
    let mask = p.m.mem.read_u64(a[0])? & !UNBLOCKABLE;
    let old = p.sig.mask;
    p.sig.mask = mask;
    wait_for_signal(p);
    p.sig.saved_mask = Some(old);
    err(EINTR)
}

/// rt_sigtimedwait(set, info, timeout, sigsetsize): take a pending signal of `set`.
/// With nothing pending: EAGAIN after the timeout (slept on the host through the world),
/// or a deadlock without a timeout.
fn rt_sigtimedwait<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (uthese, uinfo, uts) = (a[0], a[1], a[2]);
    if a[3] != SIGSET_SIZE {
        return err(EINVAL);
    }
    let these = p.m.mem.read_u64(uthese)? & !UNBLOCKABLE;
    let ts = if uts != 0 {
        let (sec, nsec) = (p.m.mem.read_u64(uts)? as i64, p.m.mem.read_u64(uts.wrapping_add(8))? as i64);
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return err(EINVAL);
        }
        Some((sec, nsec))
    } else {
        None
    };
    if let Some(s) = p.sig.dequeue(these) {
        if uinfo != 0 {
            p.m.mem.write_bytes(uinfo, &siginfo_bytes(s.signo, s.code, s.addr))?;
        }
        return Ok(s.signo as i64);
    }
    match ts {
        None => Err(SysErr::Blocked("rt_sigtimedwait")),
        Some((0, 0)) => err(EAGAIN),
        Some((sec, nsec)) => {
            let t = libc::timespec { tv_sec: sec, tv_nsec: nsec };
            let call = HostCall::new(libc::SYS_nanosleep, [&t as *const libc::timespec as u64, 0, 0, 0, 0, 0]);
            let _ = p.world.syscall(p.m.icount, &call);
            err(EAGAIN)
        }
    }
}
