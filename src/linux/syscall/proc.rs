//! Process-level syscalls: exit, identity, arch_prctl, set_tid_address, limits, uname…

use super::{err, SysErr, SysResult, SysTable};
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;

pub fn register(t: &mut SysTable) {
    t.add(Sys::Exit, exit);
    t.add(Sys::ExitGroup, exit);
    t.add(Sys::ArchPrctl, arch_prctl);
    t.add(Sys::SetTidAddress, set_tid_address);
}

fn exit(_p: &mut Process, a: [u64; 6]) -> SysResult {
    Err(SysErr::Exit(a[0] as i32))
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

fn arch_prctl(p: &mut Process, a: [u64; 6]) -> SysResult {
    match a[0] {
        ARCH_SET_FS => p.m.cpu.fs_base = a[1],
        ARCH_SET_GS => p.m.cpu.gs_base = a[1],
        ARCH_GET_FS => p.m.mem.write_u64(a[1], p.m.cpu.fs_base)?,
        ARCH_GET_GS => p.m.mem.write_u64(a[1], p.m.cpu.gs_base)?,
        _ => return err(EINVAL),
    }
    Ok(0)
}

/// The guest's pid and tid: fixed, so runs are deterministic (design §3).
pub const GUEST_PID: i64 = 1000;

fn set_tid_address(p: &mut Process, a: [u64; 6]) -> SysResult {
    p.clear_child_tid = a[0];
    Ok(GUEST_PID)
}

/// The guest's uid/gid: the real ones would make runs differ between users; deja reports
/// the invoking user's ids through the World only where a syscall asks (getuid & co).
pub const GUEST_UID: u64 = 1000;
pub const GUEST_GID: u64 = 1000;
