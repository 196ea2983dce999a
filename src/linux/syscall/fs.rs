//! File and I/O syscalls. Guest fds are host fds (deja moves its own out of the way and
//! reserves them), so these pass through the `World` with guest buffers as declared outputs.

use super::{err, host_ret, SysResult, SysTable};
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::world::HostCall;

pub fn register(t: &mut SysTable) {
    t.add(Sys::Write, write);
    t.add(Sys::Read, read);
}

/// EBADF for fds the guest may not use.
pub fn check_fd(p: &Process, fd: u64) -> Result<i32, super::SysErr> {
    let fd = fd as i32;
    if fd < 0 || p.reserved_fds.contains(&fd) {
        return Err(super::SysErr::Errno(EBADF));
    }
    Ok(fd)
}

fn write(p: &mut Process, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])?;
    let len = a[2].min(i32::MAX as u64);
    let buf = p.m.mem.slice(a[1], len)?.as_ptr();
    let call = HostCall::new(libc::SYS_write, [fd as u64, buf as u64, len, 0, 0, 0]);
    host_ret(p.world.syscall(p.m.icount, &call))
}

fn read(p: &mut Process, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])?;
    let len = a[2].min(i32::MAX as u64);
    let icount = p.m.icount;
    let buf = p.m.mem.slice_mut(a[1], len)?;
    let ptr = buf.as_mut_ptr();
    let call = HostCall::new(libc::SYS_read, [fd as u64, ptr as u64, len, 0, 0, 0]).out_upto_ret(buf);
    let _ = err;
    host_ret(p.world.syscall(icount, &call))
}
