//! Syscall dispatch. Each family file registers its syscalls by ISA-neutral name (`Sys`);
//! dispatch maps the guest's number to a handler. Unimplemented syscalls are reported once by
//! name and return -ENOSYS (design §6).

pub mod fs;
pub mod fs_path;
pub mod ident;
pub mod mm;
pub mod poll;
pub mod proc;
pub mod procfs;
pub mod signal;
pub mod time;
pub mod timer;
pub mod util;

#[cfg(test)]
mod tests;

use super::errno::*;
use super::process::Process;
use super::sysno::Sys;
use crate::arch::Arch;
use crate::mem::MemFault;

/// Why a syscall did not return a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysErr {
    /// Return -errno to the guest.
    Errno(i32),
    /// The handler already set all registers (rt_sigreturn): leave rax alone.
    NoResult,
    /// The process exits with this status.
    Exit(i32),
    /// The guest would wait forever in this syscall (pause, rt_sigsuspend… with no signal
    /// that could ever arrive): the run ends with `RunError::Deadlock`.
    Blocked(&'static str),
}

impl From<MemFault> for SysErr {
    fn from(_: MemFault) -> SysErr {
        SysErr::Errno(EFAULT)
    }
}

pub type SysResult = Result<i64, SysErr>;

/// Convenience: an errno result.
pub fn err(e: i32) -> SysResult {
    Err(SysErr::Errno(e))
}

/// Turn a raw host result (negative errno on failure) into a `SysResult`.
pub fn host_ret(r: i64) -> SysResult {
    if r < 0 {
        Err(SysErr::Errno((-r) as i32))
    } else {
        Ok(r)
    }
}

pub type SysFn<A> = fn(&mut Process<A>, [u64; 6]) -> SysResult;

pub struct SysTable<A: Arch> {
    by_sys: ahash::AHashMap<Sys, SysFn<A>>,
}

impl<A: Arch> SysTable<A> {
    pub fn add(&mut self, s: Sys, f: SysFn<A>) {
        assert!(self.by_sys.insert(s, f).is_none(), "syscall {} registered twice", s.name());
    }

    pub fn get(&self, s: Sys) -> Option<SysFn<A>> {
        self.by_sys.get(&s).copied()
    }
}

/// Build an ISA's dense dispatch table (indexed by its syscall numbers) from the shared
/// families plus the ISA's own syscalls.
pub fn build_table<A: Arch>() -> Vec<Option<SysFn<A>>> {
    let mut t = SysTable { by_sys: ahash::AHashMap::new() };
    fs::register(&mut t);
    fs_path::register(&mut t);
    ident::register(&mut t);
    poll::register(&mut t);
    mm::register(&mut t);
    proc::register(&mut t);
    signal::register(&mut t);
    time::register(&mut t);
    timer::register(&mut t);
    A::register_arch_syscalls(&mut t);
    let mut dense = vec![None; 1024];
    for &s in Sys::ALL {
        if let (Some(f), Some(nr)) = (t.get(s), A::sys_nr(s)) {
            if (nr as usize) < dense.len() {
                dense[nr as usize] = Some(f);
            }
        }
    }
    dense
}

/// Is `s` implemented for this ISA?
pub fn implemented<A: Arch>(s: Sys) -> bool {
    A::sys_nr(s).is_some_and(|nr| A::sys_table().get(nr as usize).copied().flatten().is_some())
}

/// Run syscall `nr` (the guest ISA's numbering) for the guest.
pub fn dispatch<A: Arch>(p: &mut Process<A>, nr: u64, args: [u64; 6]) -> SysResult {
    match A::sys_table().get(nr as usize).copied().flatten() {
        Some(f) => f(p, args),
        None => {
            if p.warned.insert(nr) {
                let name = A::sys_from_nr(nr).map(|s| s.name().to_string()).unwrap_or_else(|| format!("#{nr}"));
                eprintln!(
                    "deja: unimplemented syscall {name} (nr {nr}) at pc={:#x} icount={}: returning -ENOSYS",
                    A::pc(&p.m.cpu).wrapping_sub(A::SYSCALL_LEN),
                    p.m.icount
                );
            }
            err(ENOSYS)
        }
    }
}
