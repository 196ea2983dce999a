//! Timers: alarm, setitimer, getitimer and the POSIX per-process timers (timer_create,
//! timer_settime, timer_gettime, timer_getoverrun, timer_delete).
//!
//! A timer is an outside effect: each call is passed to the host through the `World` (so it
//! is recorded, and on replay answered from the log without touching the host), with every
//! buffer the kernel writes declared as an output. The host timer then signals the deja
//! process itself; deja catches the signal (`world::catch_host_signals`) and delivers it to
//! the guest as an asynchronous signal at an instruction boundary, which the recorder logs at
//! its exact icount. A guest without a handler dies of SIGALRM/SIGVTALRM/SIGPROF as natively.
//!
//! Structures are copied between guest memory and host scratch buffers (the kernel reads and
//! writes them in the kernel's order: inputs first, so a bad input pointer is EFAULT with no
//! effect; outputs after the effect, so a bad output pointer is EFAULT after it, as in Linux).
//!
//! Limitations: ITIMER_VIRTUAL and ITIMER_PROF (and CPU-time clocks of timer_create) measure
//! deja's own CPU time, not the guest's; a timer signal reaches the guest with the siginfo of
//! an asynchronous signal (SI_USER), not SI_TIMER with the timer's `sigev_value`; and
//! `timer_create` accepts only SIGEV_SIGNAL and SIGEV_NONE (SIGEV_THREAD_ID would name a host
//! thread), with a signal deja can catch for the guest.

use super::{err, host_ret, SysErr, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::world::HostCall;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::Alarm, alarm);
    t.add(Sys::Setitimer, setitimer);
    t.add(Sys::Getitimer, getitimer);
    t.add(Sys::TimerCreate, timer_create);
    t.add(Sys::TimerSettime, timer_settime);
    t.add(Sys::TimerGettime, timer_gettime);
    t.add(Sys::TimerGetoverrun, timer_getoverrun);
    t.add(Sys::TimerDelete, timer_delete);
}

/// `struct itimerval` (two `struct timeval`) and `struct itimerspec` (two `struct timespec`)
/// on x86-64.
const ITIMER_LEN: usize = 32;
/// `sizeof(struct sigevent)` on x86-64 (the kernel copies all of it).
const SIGEVENT_LEN: usize = 64;
/// `sigev_notify` values.
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;

/// Read an optional input structure from guest memory (NULL stays NULL).
fn input<A: Arch, const N: usize>(p: &Process<A>, addr: u64) -> Result<Option<[u8; N]>, SysErr> {
    if addr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; N];
    p.m.mem.read_bytes(addr, &mut b)?;
    Ok(Some(b))
}

/// Host pointer of an optional buffer, for a syscall argument.
fn ptr<const N: usize>(b: &mut Option<[u8; N]>) -> u64 {
    b.as_mut().map_or(0, |b| b.as_mut_ptr() as u64)
}

/// Perform `nr` on the host with `args`, `out` (if present) declared as a whole-structure
/// output; on success copy it to guest address `out_addr`. Returns the host result.
fn call_with_out<A: Arch, const N: usize>(
    p: &mut Process<A>,
    nr: i64,
    args: [u64; 6],
    out: &mut Option<[u8; N]>,
    out_addr: u64,
) -> SysResult {
    let mut call = HostCall::new(nr, args);
    if let Some(b) = out.as_mut() {
        call = call.out(b);
    }
    let r = host_ret(p.world.syscall(p.m.icount, &call))?;
    if let Some(b) = out {
        p.m.mem.write_bytes(out_addr, b)?;
    }
    Ok(r)
}

/// alarm(seconds): the previous alarm's remaining seconds.
fn alarm<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    host_ret(p.world.syscall(p.m.icount, &HostCall::new(libc::SYS_alarm, [a[0] as u32 as u64, 0, 0, 0, 0, 0])))
}

/// setitimer(which, new_value, old_value).
fn setitimer<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let mut new = input::<A, ITIMER_LEN>(p, a[1])?;
    let mut old = (a[2] != 0).then_some([0u8; ITIMER_LEN]);
    let args = [a[0] as i32 as i64 as u64, ptr(&mut new), ptr(&mut old), 0, 0, 0];
    call_with_out(p, libc::SYS_setitimer, args, &mut old, a[2])
}

/// getitimer(which, curr_value).
fn getitimer<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let mut cur = (a[1] != 0).then_some([0u8; ITIMER_LEN]);
    let args = [a[0] as i32 as i64 as u64, ptr(&mut cur), 0, 0, 0, 0];
    call_with_out(p, libc::SYS_getitimer, args, &mut cur, a[1])
}

/// Signals a timer may not send: deja does not catch these for its guest (they are its own
/// crash signals, or cannot be caught at all).
const UNFORWARDABLE: [i32; 9] = [
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGABRT,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGKILL,
    libc::SIGSEGV,
    libc::SIGSTOP,
    libc::SIGSYS,
];

/// timer_create(clockid, sevp, timerid).
fn timer_create<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let mut sev = input::<A, SIGEVENT_LEN>(p, a[1])?;
    if let Some(s) = &sev {
        let signo = i32::from_le_bytes([s[8], s[9], s[10], s[11]]);
        let notify = i32::from_le_bytes([s[12], s[13], s[14], s[15]]);
        match notify {
            SIGEV_NONE => {}
            // The kernel checks the range; deja must also be able to catch it on the host.
            SIGEV_SIGNAL if (1..=64).contains(&signo) && !UNFORWARDABLE.contains(&signo) => {
                crate::world::catch_host_signal(signo)
            }
            SIGEV_SIGNAL => return err(EINVAL),
            // SIGEV_THREAD_ID names a host thread; SIGEV_THREAD is a libc notion.
            _ => return err(EINVAL),
        }
    }
    // The default (NULL sevp) is SIGEV_SIGNAL with SIGALRM, which deja forwards.
    let mut id = (a[2] != 0).then_some([0u8; 4]);
    let args = [a[0] as i32 as i64 as u64, ptr(&mut sev), ptr(&mut id), 0, 0, 0];
    call_with_out(p, libc::SYS_timer_create, args, &mut id, a[2])
}

/// timer_settime(timerid, flags, new_value, old_value).
fn timer_settime<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let mut new = input::<A, ITIMER_LEN>(p, a[2])?;
    let mut old = (a[3] != 0).then_some([0u8; ITIMER_LEN]);
    let args = [a[0] as i32 as i64 as u64, a[1] as i32 as i64 as u64, ptr(&mut new), ptr(&mut old), 0, 0];
    call_with_out(p, libc::SYS_timer_settime, args, &mut old, a[3])
}

/// timer_gettime(timerid, curr_value).
fn timer_gettime<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let mut cur = (a[1] != 0).then_some([0u8; ITIMER_LEN]);
    let args = [a[0] as i32 as i64 as u64, ptr(&mut cur), 0, 0, 0, 0];
    call_with_out(p, libc::SYS_timer_gettime, args, &mut cur, a[1])
}

fn timer_getoverrun<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let c = HostCall::new(libc::SYS_timer_getoverrun, [a[0] as i32 as i64 as u64, 0, 0, 0, 0, 0]);
    host_ret(p.world.syscall(p.m.icount, &c))
}

fn timer_delete<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let c = HostCall::new(libc::SYS_timer_delete, [a[0] as i32 as i64 as u64, 0, 0, 0, 0, 0]);
    host_ret(p.world.syscall(p.m.icount, &c))
}

#[cfg(test)]
mod tests {
    use super::super::dispatch;
    use crate::linux::arch_x86_64::X86_64;
    use crate::linux::process::{Options, Process};
    use crate::linux::sysno::Sys;
    use crate::mem::{flags, Memory};
    use crate::world::{HostCall, World};
    use std::cell::RefCell;
    use std::path::PathBuf;
    use std::rc::Rc;

    /// (nr, args, declared output lengths, first 64 bytes of the input pointed to by args[1]
    /// or args[2] as asked).
    type Seen = Rc<RefCell<Vec<(i64, [u64; 6], Vec<usize>)>>>;

    /// Answers every host call with `ret`, filling each declared output with `fill` (what a
    /// replay does).
    struct Fake {
        seen: Seen,
        ret: i64,
        fill: u8,
    }

    impl World for Fake {
        fn syscall(&mut self, _icount: u64, call: &HostCall) -> i64 {
            self.seen.borrow_mut().push((call.nr, call.args, call.outs.iter().map(|o| o.len).collect()));
            for o in &call.outs {
                // SAFETY: the platform declared a live buffer of o.len bytes.
                unsafe { std::ptr::write_bytes(o.ptr, self.fill, HostCall::produced(o, self.ret)) };
            }
            self.ret
        }
        fn tsc(&mut self, _icount: u64) -> u64 {
            0
        }
        fn random(&mut self, _icount: u64, _buf: &mut [u8]) {}
        fn pending_signal(&mut self, _icount: u64) -> Option<i32> {
            None
        }
    }

    const BUF: u64 = 0x10000;
    const RO: u64 = 0x30000;

    fn process(ret: i64, fill: u8) -> (Process<X86_64>, Seen) {
        let seen: Seen = Default::default();
        let mut mem = Memory::new(1 << 24).unwrap();
        mem.map(BUF, 0x10000, flags::R | flags::W);
        mem.map(RO, 0x1000, flags::R);
        let world = Fake { seen: seen.clone(), ret, fill };
        (Process::new(mem, Box::new(world), PathBuf::from("/g"), Options::default()), seen)
    }

    fn sys(p: &mut Process<X86_64>, s: Sys, a: [u64; 6]) -> i64 {
        match dispatch(p, s.x86_64(), a) {
            Ok(v) => v,
            Err(super::SysErr::Errno(e)) => -(e as i64),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn alarm_passes_through() {
        let (mut p, seen) = process(7, 0);
        assert_eq!(sys(&mut p, Sys::Alarm, [3, 0, 0, 0, 0, 0]), 7);
        let s = seen.borrow();
        assert_eq!((s[0].0, s[0].1[0], s[0].2.len()), (libc::SYS_alarm, 3, 0));
    }

    #[test]
    fn setitimer_copies_new_in_and_old_out() {
        let (mut p, seen) = process(0, 0xab);
        p.m.mem.write_bytes(BUF, &[5u8; 32]).unwrap();
        assert_eq!(sys(&mut p, Sys::Setitimer, [0, BUF, BUF + 0x100, 0, 0, 0]), 0);
        {
            let s = seen.borrow();
            assert_eq!(s[0].0, libc::SYS_setitimer);
            assert_eq!(s[0].2, vec![32]);
            assert_ne!(s[0].1[1], BUF, "a host pointer, not the guest address");
        }
        let mut old = [0u8; 32];
        p.m.mem.read_bytes(BUF + 0x100, &mut old).unwrap();
        assert_eq!(old, [0xab; 32]);
        // No old value asked: no output declared, NULL passed.
        assert_eq!(sys(&mut p, Sys::Setitimer, [0, BUF, 0, 0, 0, 0]), 0);
        let s = seen.borrow();
        assert_eq!((s[1].1[2], s[1].2.len()), (0, 0));
    }

    #[test]
    fn bad_pointers() {
        let (mut p, seen) = process(0, 1);
        // Unreadable new value: EFAULT before anything reaches the host.
        assert_eq!(sys(&mut p, Sys::Setitimer, [0, 0x9000_0000, 0, 0, 0, 0]), -libc::EFAULT as i64);
        assert_eq!(sys(&mut p, Sys::TimerSettime, [1, 0, 0x9000_0000, 0, 0, 0]), -libc::EFAULT as i64);
        assert!(seen.borrow().is_empty());
        // Unwritable old value: the timer is set (the host call happens), then EFAULT.
        assert_eq!(sys(&mut p, Sys::Getitimer, [0, RO, 0, 0, 0, 0]), -libc::EFAULT as i64);
        assert_eq!(seen.borrow().len(), 1);
    }

    #[test]
    fn timer_create_checks_the_notification() {
        let (mut p, seen) = process(0, 0x11);
        let mut sev = [0u8; 64];
        sev[8..12].copy_from_slice(&libc::SIGALRM.to_le_bytes());
        sev[12..16].copy_from_slice(&0i32.to_le_bytes());
        p.m.mem.write_bytes(BUF, &sev).unwrap();
        assert_eq!(sys(&mut p, Sys::TimerCreate, [libc::CLOCK_MONOTONIC as u64, BUF, BUF + 0x100, 0, 0, 0]), 0);
        assert_eq!(p.m.mem.read_u32(BUF + 0x100).unwrap(), 0x1111_1111);
        assert_eq!(seen.borrow()[0].2, vec![4]);
        // SIGEV_THREAD_ID (4) and SIGEV_THREAD (2) are refused, as is SIGSEGV.
        for (notify, signo) in [(4i32, libc::SIGALRM), (2, libc::SIGALRM), (0, libc::SIGSEGV), (0, 0), (0, 65)] {
            sev[8..12].copy_from_slice(&signo.to_le_bytes());
            sev[12..16].copy_from_slice(&notify.to_le_bytes());
            p.m.mem.write_bytes(BUF, &sev).unwrap();
            assert_eq!(sys(&mut p, Sys::TimerCreate, [0, BUF, BUF + 0x100, 0, 0, 0]), -libc::EINVAL as i64);
        }
        // SIGEV_NONE and a NULL sigevent reach the host.
        sev[12..16].copy_from_slice(&1i32.to_le_bytes());
        p.m.mem.write_bytes(BUF, &sev).unwrap();
        assert_eq!(sys(&mut p, Sys::TimerCreate, [0, BUF, BUF + 0x100, 0, 0, 0]), 0);
        assert_eq!(sys(&mut p, Sys::TimerCreate, [0, 0, BUF + 0x100, 0, 0, 0]), 0);
        assert_eq!(seen.borrow().len(), 3);
        assert_eq!(seen.borrow()[2].1[1], 0);
    }

    #[test]
    fn failed_call_writes_nothing() {
        let (mut p, _) = process(-(libc::EINVAL as i64), 0x55);
        p.m.mem.write_bytes(BUF + 0x100, &[0u8; 32]).unwrap();
        assert_eq!(sys(&mut p, Sys::TimerGettime, [3, BUF + 0x100, 0, 0, 0, 0]), -libc::EINVAL as i64);
        assert_eq!(p.m.mem.read_u64(BUF + 0x100).unwrap(), 0);
        assert_eq!(sys(&mut p, Sys::TimerGetoverrun, [3, 0, 0, 0, 0, 0]), -libc::EINVAL as i64);
        assert_eq!(sys(&mut p, Sys::TimerDelete, [3, 0, 0, 0, 0, 0]), -libc::EINVAL as i64);
    }
}
