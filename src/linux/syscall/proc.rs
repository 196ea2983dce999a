//! Process-level syscalls: exit, arch_prctl, set_tid_address, robust lists, futex, and the
//! per-process state the emulator keeps for identity and info syscalls (`ProcInfo`, used by
//! `ident.rs`).
//!
//! The guest is one thread of one process whose pid and tid are fixed by the emulator
//! (`GUEST_PID`), so futexes never have another waiter or waker.
//!
//! Process and thread creation are not supported yet, and fail cleanly, the way a kernel
//! without them would answer, chosen so that libc callers take their error paths:
//! - `fork`, `vfork`, and `clone` without `CLONE_THREAD` (glibc's fork, vfork on arm64,
//!   posix_spawn, system, popen): ENOSYS. Not EAGAIN: shells retry a fork that fails with
//!   EAGAIN (bash waits and retries several times), while ENOSYS is final.
//! - `clone` with `CLONE_THREAD` (pthread_create): EAGAIN, the error POSIX gives
//!   pthread_create for "cannot create another thread", which glibc passes on and musl
//!   reports for any clone failure.
//! - `clone3`: ENOSYS, always, silently, as on kernels before 5.3: glibc (2.34+) tries clone3
//!   first and falls back to clone only on ENOSYS, so clone gives the answers above.
//!
//! The first fork-family call of a run prints one line on deja's stderr (like an
//! unimplemented syscall). Nothing here reaches the host, so records replay exactly.

use super::util::*;
use super::{err, SysErr, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::world::HostCall;
use std::path::Path;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::Exit, exit);
    t.add(Sys::ExitGroup, exit);
    t.add(Sys::SetTidAddress, set_tid_address);
    t.add(Sys::SetRobustList, set_robust_list);
    t.add(Sys::GetRobustList, get_robust_list);
    t.add(Sys::Futex, futex);
    // Restartable sequences only matter with threads; ENOSYS is a documented answer that
    // glibc handles silently, so it is not reported as unimplemented.
    t.add(Sys::Rseq, |_, _| Err(SysErr::Errno(libc::ENOSYS)));
    t.add(Sys::Fork, fork);
    t.add(Sys::Vfork, vfork);
    t.add(Sys::Clone, clone);
    t.add(Sys::Clone3, |_, _| Err(SysErr::Errno(libc::ENOSYS)));
}

/// The guest's pid and tid: fixed, so runs are deterministic (design §3).
pub const GUEST_PID: i64 = 1000;

/// The guest's uid/gid in the auxiliary vector. getuid & co. report the invoking user's ids
/// through the World (they are outside facts).
pub const GUEST_UID: u64 = 1000;
pub const GUEST_GID: u64 = 1000;

/// Number of rlimit resources (RLIM_NLIMITS).
pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

/// Per-process state kept by the emulator for identity/info syscalls.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    /// The thread name (prctl PR_SET_NAME/PR_GET_NAME, /proc/self/comm): NUL-padded.
    pub comm: [u8; 16],
    /// set_robust_list: (head, len).
    pub robust_list: (u64, u64),
    /// Resource limits the emulator answers for (`[cur, max]`); `None` = ask the host.
    pub rlimits: [Option<[u64; 2]>; RLIM_NLIMITS],
    /// personality(2) persona.
    pub personality: u32,
    /// prctl PR_SET_PDEATHSIG.
    pub pdeathsig: i32,
    /// prctl PR_SET_DUMPABLE.
    pub dumpable: u32,
    /// prctl PR_SET_NO_NEW_PRIVS.
    pub no_new_privs: bool,
    /// A futex wait that can never be woken was reported.
    pub warned_futex: bool,
}

impl ProcInfo {
    /// The initial state for a process running `exe`: its name is the file name (15 bytes
    /// at most, like the kernel's comm); its stack limit is the stack the emulator maps.
    pub fn new(exe: &Path) -> ProcInfo {
        use std::os::unix::ffi::OsStrExt;
        let mut comm = [0u8; 16];
        let name = exe.file_name().map(|n| n.as_bytes()).unwrap_or(b"");
        let n = name.len().min(15);
        comm[..n].copy_from_slice(&name[..n]);
        let mut rlimits = [None; RLIM_NLIMITS];
        let stack = crate::linux::layout::STACK_SIZE;
        rlimits[libc::RLIMIT_STACK as usize] = Some([stack, stack]);
        ProcInfo {
            comm,
            robust_list: (0, 0),
            rlimits,
            personality: 0,
            pdeathsig: 0,
            dumpable: 1,
            no_new_privs: false,
            warned_futex: false,
        }
    }
}

const CLONE_VM: u64 = 0x100;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_THREAD: u64 = 0x1_0000;

/// Say once per run (per syscall, and for clone per process/thread) why creating a process
/// (ENOSYS) or a thread (EAGAIN) fails.
fn note_unsupported<A: Arch>(p: &mut Process<A>, s: Sys, thread: bool) {
    let (what, errno) = if thread { ("creating a thread", "EAGAIN") } else { ("creating a process", "ENOSYS") };
    if A::sys_nr(s).is_some_and(|nr| p.warned.insert(nr | u64::from(thread) << 32)) {
        eprintln!(
            "deja: {} at pc={:#x} icount={}: {what} is not supported yet; returning -{errno}",
            s.name(),
            A::pc(&p.m.cpu).wrapping_sub(A::SYSCALL_LEN),
            p.m.icount
        );
    }
}

fn fork<A: Arch>(p: &mut Process<A>, _a: [u64; 6]) -> SysResult {
    note_unsupported(p, Sys::Fork, false);
    err(ENOSYS)
}

fn vfork<A: Arch>(p: &mut Process<A>, _a: [u64; 6]) -> SysResult {
    note_unsupported(p, Sys::Vfork, false);
    err(ENOSYS)
}

/// clone(flags, stack, parent_tid, child_tid/tls, tls/child_tid): the kernel's flag checks,
/// then EAGAIN for a thread and ENOSYS for a process (see the module doc).
fn clone<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let flags = a[0];
    if (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0)
        || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0)
    {
        return err(EINVAL);
    }
    let thread = flags & CLONE_THREAD != 0;
    note_unsupported(p, Sys::Clone, thread);
    err(if thread { EAGAIN } else { ENOSYS })
}

fn exit<A: Arch>(_p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    Err(SysErr::Exit(a[0] as i32))
}

fn set_tid_address<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    p.clear_child_tid = a[0];
    Ok(GUEST_PID)
}

/// `struct robust_list_head` on x86-64.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

fn set_robust_list<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    if a[1] != ROBUST_LIST_HEAD_SIZE {
        return err(EINVAL);
    }
    p.info.robust_list = (a[0], a[1]);
    Ok(0)
}

fn get_robust_list<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    if !is_self(a[0]) {
        return err(ESRCH);
    }
    let (head, len) = p.info.robust_list;
    p.m.mem.write_u64(a[1], head)?;
    p.m.mem.write_u64(a[2], len)?;
    Ok(0)
}

// ---- futex ----

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;

/// futex(uaddr, op, val, timeout/val2, uaddr2, val3) for a single-threaded guest: nobody
/// else waits or wakes, so wakes wake no one, and a wait whose value matches can only end
/// by its timeout or a signal.
fn futex<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (uaddr, op, val, utime, uaddr2, val3) = (a[0], a[1] as u32, a[2] as u32, a[3], a[4], a[5] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if op & FUTEX_CLOCK_REALTIME != 0
        && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2)
    {
        return err(ENOSYS);
    }
    if !uaddr.is_multiple_of(4) {
        return err(EINVAL);
    }
    let tid = GUEST_PID as u32;
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return err(EINVAL);
            }
            if p.m.mem.read_u32(uaddr)? != val {
                return err(EAGAIN);
            }
            futex_block(p, cmd, op, utime)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if cmd == FUTEX_WAKE_BITSET && val3 == 0 {
                return err(EINVAL);
            }
            Ok(0)
        }
        FUTEX_REQUEUE => Ok(0),
        FUTEX_CMP_REQUEUE => {
            if p.m.mem.read_u32(uaddr)? != val3 {
                return err(EAGAIN);
            }
            Ok(0)
        }
        FUTEX_WAKE_OP => {
            if !uaddr2.is_multiple_of(4) {
                return err(EINVAL);
            }
            futex_wake_op(p, uaddr2, val3)?;
            Ok(0)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
            let v = p.m.mem.read_u32(uaddr)?;
            let owner = v & FUTEX_TID_MASK;
            if owner == 0 {
                p.m.mem.write_u32(uaddr, tid | (v & FUTEX_OWNER_DIED))?;
                Ok(0)
            } else if owner == tid {
                err(if cmd == FUTEX_TRYLOCK_PI { EAGAIN } else { libc::EDEADLK })
            } else if cmd == FUTEX_TRYLOCK_PI {
                err(EAGAIN)
            } else {
                // The owner is no thread of ours: the kernel finds no such task.
                err(ESRCH)
            }
        }
        FUTEX_UNLOCK_PI => {
            let v = p.m.mem.read_u32(uaddr)?;
            if v & FUTEX_TID_MASK != tid {
                return err(EPERM);
            }
            p.m.mem.write_u32(uaddr, 0)?;
            Ok(0)
        }
        _ => err(ENOSYS),
    }
}

/// A futex wait nothing can end but its timeout or a signal: sleep on the host through the
/// world (ETIMEDOUT when the time is up, EINTR if a signal interrupts). Without a timeout
/// this is a deadlock, exactly as natively: wait for a signal.
fn futex_block<A: Arch>(p: &mut Process<A>, cmd: u32, op: u32, utime: u64) -> SysResult {
    if utime == 0 {
        if !p.info.warned_futex {
            p.info.warned_futex = true;
            eprintln!(
                "deja: futex wait at pc={:#x} icount={} can never be woken (single-threaded guest); waiting for a signal",
                A::pc(&p.m.cpu).wrapping_sub(A::SYSCALL_LEN),
                p.m.icount
            );
        }
        let r = call_raw(p, &HostCall::new(libc::SYS_pause, [0; 6]));
        return super::host_ret(r);
    }
    let ts = get::<16, _>(p, utime)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or_default());
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or_default());
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return err(EINVAL);
    }
    // FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC); FUTEX_WAIT_BITSET's is absolute
    // on CLOCK_MONOTONIC, or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME.
    let (clock, flags) = if cmd == FUTEX_WAIT {
        (libc::CLOCK_MONOTONIC, 0)
    } else if op & FUTEX_CLOCK_REALTIME != 0 {
        (libc::CLOCK_REALTIME, libc::TIMER_ABSTIME)
    } else {
        (libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME)
    };
    let c = HostCall::new(libc::SYS_clock_nanosleep, [clock as u64, flags as u64, hp(ts.as_ptr()), 0, 0, 0]);
    match call_raw(p, &c) {
        r if r == -(EINTR as i64) => err(EINTR),
        r if r < 0 => super::host_ret(r),
        _ => err(libc::ETIMEDOUT),
    }
}

/// FUTEX_WAKE_OP's atomic operation on `*uaddr2` (there is nobody to wake either way).
fn futex_wake_op<A: Arch>(p: &mut Process<A>, uaddr2: u64, enc: u32) -> Result<(), SysErr> {
    let op = (enc >> 28) & 7;
    let cmp = (enc >> 24) & 15;
    let sext12 = |x: u32| ((x << 20) as i32 >> 20) as u32;
    let mut oparg = sext12((enc >> 12) & 0xfff);
    if enc & (8 << 28) != 0 {
        oparg = 1u32 << (oparg & 31);
    }
    if cmp > 5 {
        return Err(SysErr::Errno(ENOSYS));
    }
    let old = p.m.mem.read_u32(uaddr2)?;
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(SysErr::Errno(ENOSYS)),
    };
    p.m.mem.write_u32(uaddr2, new)?;
    Ok(())
}
