//! Syscall dispatch. Each family file registers its syscalls by ISA-neutral name (`Sys`);
//! dispatch maps the guest's number to a handler. Unimplemented syscalls are reported once by
//! name and return -ENOSYS (design §6).

pub mod fs;
pub mod mm;
pub mod proc;
pub mod signal;
pub mod time;
pub mod timer;

use super::errno::*;
use super::process::Process;
use super::sysno::Sys;
use crate::mem::MemFault;
use std::sync::LazyLock;

/// Why a syscall did not return a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysErr {
    /// Return -errno to the guest.
    Errno(i32),
    /// The handler already set all registers (rt_sigreturn): leave rax alone.
    NoResult,
    /// The process exits with this status.
    Exit(i32),
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

pub type SysFn = fn(&mut Process, [u64; 6]) -> SysResult;

pub struct SysTable {
    by_sys: ahash::AHashMap<Sys, SysFn>,
}

impl SysTable {
    pub fn add(&mut self, s: Sys, f: SysFn) {
        assert!(self.by_sys.insert(s, f).is_none(), "syscall {} registered twice", s.name());
    }

    pub fn get(&self, s: Sys) -> Option<SysFn> {
        self.by_sys.get(&s).copied()
    }
}

fn build() -> (SysTable, Vec<Option<SysFn>>) {
    let mut t = SysTable { by_sys: ahash::AHashMap::new() };
    fs::register(&mut t);
    mm::register(&mut t);
    proc::register(&mut t);
    signal::register(&mut t);
    time::register(&mut t);
    timer::register(&mut t);
    // Dense x86-64 number → handler array for dispatch.
    let mut x86 = vec![None; 512];
    for &s in Sys::ALL {
        if let Some(f) = t.get(s) {
            x86[s.x86_64() as usize] = Some(f);
        }
    }
    (t, x86)
}

static TABLE: LazyLock<(SysTable, Vec<Option<SysFn>>)> = LazyLock::new(build);

/// Is `s` implemented?
pub fn implemented(s: Sys) -> bool {
    TABLE.0.get(s).is_some()
}

/// Run syscall `nr` (x86-64 numbering) for the guest.
pub fn dispatch(p: &mut Process, nr: u64, args: [u64; 6]) -> SysResult {
    match TABLE.1.get(nr as usize).copied().flatten() {
        Some(f) => f(p, args),
        None => {
            if p.warned.insert(nr) {
                let name = Sys::from_x86_64(nr).map(|s| s.name().to_string()).unwrap_or_else(|| format!("#{nr}"));
                eprintln!(
                    "deja: unimplemented syscall {name} (nr {nr}) at pc={:#x} icount={}: returning -ENOSYS",
                    p.m.cpu.rip.wrapping_sub(2),
                    p.m.icount
                );
            }
            err(ENOSYS)
        }
    }
}
