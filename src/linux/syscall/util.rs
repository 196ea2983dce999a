//! Helpers shared by the syscall families: checked guest buffers turned into host pointers
//! for `HostCall`s, path arguments, fd and pid arguments.
//!
//! A guest buffer the kernel writes is obtained with [`gout`] (checked writable, marked
//! dirty) and declared on the call with [`HostCallExt::out_raw`] /
//! [`HostCallExt::out_raw_upto`], so record/replay sees every byte the host produced.

use super::{host_ret, SysErr, SysResult};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::syscall::proc::GUEST_PID;
use crate::mem::{flags, PAGE_SIZE};
use crate::world::{HostCall, Out};

/// Longest path the kernel accepts, including the NUL.
pub const PATH_LEN_MAX: usize = 4096;
/// `dirfd` meaning "the current directory".
const AT_FDCWD: i32 = -100;
/// `AT_FDCWD` as a syscall argument.
pub const CWD: u64 = AT_FDCWD as i64 as u64;
pub const NOFOLLOW: u64 = 0x100;
/// Most bytes one read/write-like call moves (Linux MAX_RW_COUNT).
pub const MAX_RW: u64 = 0x7fff_f000;
/// Most iovecs one readv/writev takes (UIO_MAXIOV).
pub const IOV_MAX: u64 = 1024;

/// Declaring raw host pointers (into guest memory or host scratch) as call outputs.
pub trait HostCallExt {
    /// The kernel fills all `len` bytes at `ptr` when the call succeeds.
    fn out_raw(self, ptr: *mut u8, len: usize) -> Self;
    /// The kernel fills the first `ret` bytes at `ptr`.
    fn out_raw_upto(self, ptr: *mut u8, len: usize) -> Self;
}

impl HostCallExt for HostCall {
    fn out_raw(mut self, ptr: *mut u8, len: usize) -> HostCall {
        if !ptr.is_null() && len > 0 {
            self.outs.push(Out { ptr, len, upto_ret: false });
        }
        self
    }

    fn out_raw_upto(mut self, ptr: *mut u8, len: usize) -> HostCall {
        if !ptr.is_null() && len > 0 {
            self.outs.push(Out { ptr, len, upto_ret: true });
        }
        self
    }
}

/// Perform `c` on the host through the world; the raw result (negative errno on failure).
#[inline]
pub fn call_raw<A: Arch>(p: &mut Process<A>, c: &HostCall) -> i64 {
    p.world.syscall(p.m.icount, c)
}

/// Perform `c` on the host through the world.
#[inline]
pub fn call<A: Arch>(p: &mut Process<A>, c: &HostCall) -> SysResult {
    host_ret(call_raw(p, c))
}

/// A host call without outputs.
#[inline]
pub fn simple<A: Arch>(p: &mut Process<A>, nr: i64, args: [u64; 6]) -> SysResult {
    call(p, &HostCall::new(nr, args))
}

/// Host pointer to a writable guest buffer of `len` bytes (EFAULT if any byte is not
/// writable). The pages are marked written. A zero-length buffer is never touched by the
/// kernel and maps to the start of guest memory.
pub fn gout<A: Arch>(p: &mut Process<A>, addr: u64, len: u64) -> Result<*mut u8, SysErr> {
    if len == 0 {
        return Ok(p.m.mem.host_base());
    }
    Ok(p.m.mem.slice_mut(addr, len)?.as_mut_ptr())
}

/// Like [`gout`], but a NULL guest pointer stays NULL.
pub fn gout_opt<A: Arch>(p: &mut Process<A>, addr: u64, len: u64) -> Result<*mut u8, SysErr> {
    if addr == 0 {
        Ok(std::ptr::null_mut())
    } else {
        gout(p, addr, len)
    }
}

/// Host pointer to a readable guest buffer of `len` bytes (EFAULT if any byte is not
/// readable).
pub fn gin<A: Arch>(p: &Process<A>, addr: u64, len: u64) -> Result<*const u8, SysErr> {
    if len == 0 {
        return Ok(p.m.mem.host_base());
    }
    Ok(p.m.mem.slice(addr, len)?.as_ptr())
}

/// Like [`gin`], but a NULL guest pointer stays NULL.
pub fn gin_opt<A: Arch>(p: &Process<A>, addr: u64, len: u64) -> Result<*const u8, SysErr> {
    if addr == 0 {
        Ok(std::ptr::null())
    } else {
        gin(p, addr, len)
    }
}

/// Copy a host buffer into guest memory (results computed in host scratch space).
pub fn put<A: Arch>(p: &mut Process<A>, addr: u64, data: &[u8]) -> Result<(), SysErr> {
    p.m.mem.write_bytes(addr, data)?;
    Ok(())
}

/// Read `N` bytes of guest memory.
pub fn get<const N: usize, A: Arch>(p: &Process<A>, addr: u64) -> Result<[u8; N], SysErr> {
    let mut b = [0u8; N];
    p.m.mem.read_bytes(addr, &mut b)?;
    Ok(b)
}

/// How many bytes from `addr` (at most `len`) are accessible with `need` (flags::R or W).
/// Like the kernel, a transfer into a partly valid buffer moves the valid prefix.
pub fn accessible_prefix<A: Arch>(p: &Process<A>, addr: u64, len: u64, need: u8) -> u64 {
    let mut done = 0u64;
    while done < len {
        let a = match addr.checked_add(done) {
            Some(a) => a,
            None => break,
        };
        if p.m.mem.page_flags(a) & need != need {
            break;
        }
        done += PAGE_SIZE - (a & (PAGE_SIZE - 1));
    }
    done.min(len)
}

/// Host pointer and usable length of a guest buffer the kernel fills up to its result
/// (read, getdents, readlink…): the writable prefix of `[addr, addr+len)`; EFAULT if
/// `len > 0` and not even the first byte is writable.
pub fn gout_prefix<A: Arch>(p: &mut Process<A>, addr: u64, len: u64) -> Result<(*mut u8, u64), SysErr> {
    let n = accessible_prefix(p, addr, len, flags::W);
    if n == 0 && len > 0 {
        return Err(SysErr::Errno(EFAULT));
    }
    Ok((gout(p, addr, n)?, n))
}

/// Readable prefix of a guest buffer the kernel reads (write, pwrite…).
pub fn gin_prefix<A: Arch>(p: &Process<A>, addr: u64, len: u64) -> Result<(*const u8, u64), SysErr> {
    let n = accessible_prefix(p, addr, len, flags::R);
    if n == 0 && len > 0 {
        return Err(SysErr::Errno(EFAULT));
    }
    Ok((gin(p, addr, n)?, n))
}

/// A path argument as a NUL-terminated host string (EFAULT, ENAMETOOLONG). Paths naming
/// the guest's own pid under /proc are rewritten to /proc/self: the guest's pid is the
/// emulator's (`GUEST_PID`), not the host's.
pub fn path_arg<A: Arch>(p: &Process<A>, addr: u64) -> Result<Vec<u8>, SysErr> {
    let s = p.m.mem.read_cstr(addr, PATH_LEN_MAX)?;
    if s.len() >= PATH_LEN_MAX {
        return Err(SysErr::Errno(ENAMETOOLONG));
    }
    let mut s = rewrite_proc_pid(s);
    s.push(0);
    Ok(s)
}

/// A path argument that may be NULL (utimensat, statx with AT_EMPTY_PATH).
pub fn path_arg_opt<A: Arch>(p: &Process<A>, addr: u64) -> Result<Option<Vec<u8>>, SysErr> {
    if addr == 0 {
        Ok(None)
    } else {
        path_arg(p, addr).map(Some)
    }
}

/// A string argument that is not resolved as a path by the kernel (a symlink's target).
pub fn cstr_arg<A: Arch>(p: &Process<A>, addr: u64) -> Result<Vec<u8>, SysErr> {
    let mut s = p.m.mem.read_cstr(addr, PATH_LEN_MAX)?;
    if s.len() >= PATH_LEN_MAX {
        return Err(SysErr::Errno(ENAMETOOLONG));
    }
    s.push(0);
    Ok(s)
}

/// "/proc/<GUEST_PID>" and "/proc/<GUEST_PID>/…" → "/proc/self…".
fn rewrite_proc_pid(s: Vec<u8>) -> Vec<u8> {
    let prefix = format!("/proc/{GUEST_PID}");
    let pb = prefix.as_bytes();
    if s.starts_with(pb) && (s.len() == pb.len() || s[pb.len()] == b'/') {
        let mut out = b"/proc/self".to_vec();
        out.extend_from_slice(&s[pb.len()..]);
        out
    } else {
        s
    }
}

/// Does this (NUL-terminated) path name the running program's executable link?
pub fn is_proc_self_exe(path: &[u8]) -> bool {
    let path = path.strip_suffix(b"\0").unwrap_or(path);
    path == b"/proc/self/exe" || path == b"/proc/thread-self/exe"
}

/// The guest executable's host path, NUL-terminated (what /proc/self/exe names).
pub fn exe_path<A: Arch>(p: &Process<A>) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut v = p.exe.as_os_str().as_bytes().to_vec();
    v.push(0);
    v
}

/// A path opened or stat'ed through symlinks: /proc/self/exe is the guest's executable,
/// not deja.
pub fn follow_path<A: Arch>(p: &Process<A>, path: Vec<u8>) -> Vec<u8> {
    if is_proc_self_exe(&path) {
        exe_path(p)
    } else {
        path
    }
}

/// A dirfd argument of a *at syscall. Reserved fds are refused when the path is resolved
/// relative to the dirfd (relative or empty path); for absolute paths the kernel ignores it.
pub fn dirfd_arg<A: Arch>(p: &Process<A>, dirfd: u64, path: Option<&[u8]>) -> Result<u64, SysErr> {
    let fd = dirfd as i32;
    let relative = match path {
        Some(s) => s.first() != Some(&b'/'),
        None => true,
    };
    if fd != AT_FDCWD && relative && p.reserved_fds.contains(&fd) {
        return Err(SysErr::Errno(EBADF));
    }
    Ok(fd as i64 as u64)
}

/// A pid argument: the guest's own pid is "self" (0) for the host.
pub fn pid_arg(pid: u64) -> u64 {
    if pid as i32 as i64 == GUEST_PID {
        0
    } else {
        pid as i32 as i64 as u64
    }
}

/// Is `pid` (as the guest passed it) the guest itself (0 or its pid)?
pub fn is_self(pid: u64) -> bool {
    let pid = pid as i32 as i64;
    pid == 0 || pid == GUEST_PID
}

/// Host pointer as a syscall argument.
#[inline]
pub fn hp<T>(ptr: *const T) -> u64 {
    ptr as u64
}

/// The guest's iovec array: `(base, len)` pairs, validated like the kernel's
/// `import_iovec` (count ≤ IOV_MAX, no negative lengths, total capped at MAX_RW).
pub fn read_iovecs<A: Arch>(p: &Process<A>, addr: u64, count: u64) -> Result<Vec<(u64, u64)>, SysErr> {
    if count > IOV_MAX {
        return Err(SysErr::Errno(EINVAL));
    }
    let mut raw = vec![0u8; (count * 16) as usize];
    p.m.mem.read_bytes(addr, &mut raw)?;
    let mut out = Vec::with_capacity(count as usize);
    let mut total = 0u64;
    for c in raw.chunks_exact(16) {
        let base = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
        let len = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
        if (len as i64) < 0 {
            return Err(SysErr::Errno(EINVAL));
        }
        let len = len.min(MAX_RW - total);
        total += len;
        out.push((base, len));
    }
    Ok(out)
}
