//! File-descriptor I/O syscalls: open/close, read/write and their vector and positional
//! forms, lseek, dup, pipe, fcntl, ioctl, sync, truncate, sendfile… Guest fds are host fds
//! (deja reserves its own), so these pass through the `World` with every buffer the kernel
//! writes declared as an output. Path-based syscalls live in `fs_path.rs`.

use super::util::*;
use super::{err, SysErr, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::mem::flags;
use crate::world::HostCall;
use libc::*;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::Read, read);
    t.add(Sys::Write, write);
    t.add(Sys::Pread64, pread64);
    t.add(Sys::Pwrite64, pwrite64);
    t.add(Sys::Readv, readv);
    t.add(Sys::Writev, writev);
    t.add(Sys::Preadv, preadv);
    t.add(Sys::Pwritev, pwritev);
    t.add(Sys::Preadv2, preadv2);
    t.add(Sys::Pwritev2, pwritev2);
    t.add(Sys::Open, open);
    t.add(Sys::Openat, openat);
    t.add(Sys::Creat, creat);
    t.add(Sys::Close, close);
    t.add(Sys::CloseRange, close_range);
    t.add(Sys::Lseek, lseek);
    t.add(Sys::Dup, dup);
    t.add(Sys::Dup2, dup2);
    t.add(Sys::Dup3, dup3);
    t.add(Sys::Pipe, pipe);
    t.add(Sys::Pipe2, pipe2);
    t.add(Sys::Fcntl, fcntl);
    t.add(Sys::Ioctl, ioctl);
    t.add(Sys::Fsync, fsync);
    t.add(Sys::Fdatasync, fdatasync);
    t.add(Sys::Sync, sync);
    t.add(Sys::SyncFileRange, sync_file_range);
    t.add(Sys::Ftruncate, ftruncate);
    t.add(Sys::Fadvise64, fadvise64);
    t.add(Sys::Readahead, readahead);
    t.add(Sys::Fallocate, fallocate);
    t.add(Sys::Flock, flock);
    t.add(Sys::Sendfile, sendfile);
    t.add(Sys::CopyFileRange, copy_file_range);
}

/// EBADF for fds the guest may not use.
pub fn check_fd<A: Arch>(p: &Process<A>, fd: u64) -> Result<i32, SysErr> {
    let fd = fd as i32;
    if fd < 0 || p.reserved_fds.contains(&fd) {
        return Err(SysErr::Errno(EBADF));
    }
    Ok(fd)
}

/// The checked fd as a host syscall argument.
fn fd_arg<A: Arch>(p: &Process<A>, fd: u64) -> Result<u64, SysErr> {
    Ok(check_fd(p, fd)? as u64)
}

/// Syscalls whose first argument is an fd and whose other arguments are plain integers.
macro_rules! fd_pass {
    ($($name:ident => $nr:expr;)*) => {$(
        fn $name<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
            let fd = fd_arg(p, a[0])?;
            simple(p, $nr, [fd, a[1], a[2], a[3], a[4], a[5]])
        }
    )*};
}

fd_pass! {
    lseek => SYS_lseek;
    dup => SYS_dup;
    fsync => SYS_fsync;
    fdatasync => SYS_fdatasync;
    sync_file_range => SYS_sync_file_range;
    ftruncate => SYS_ftruncate;
    fadvise64 => SYS_fadvise64;
    readahead => SYS_readahead;
    fallocate => SYS_fallocate;
    flock => SYS_flock;
}

fn sync<A: Arch>(p: &mut Process<A>, _a: [u64; 6]) -> SysResult {
    simple(p, SYS_sync, [0; 6])
}

// ---- read / write ----

fn read<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let (buf, n) = gout_prefix(p, a[1], a[2].min(MAX_RW))?;
    let c = HostCall::new(SYS_read, [fd, hp(buf), n, 0, 0, 0]).out_raw_upto(buf, n as usize);
    call(p, &c)
}

fn write<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let (buf, n) = gin_prefix(p, a[1], a[2].min(MAX_RW))?;
    simple(p, SYS_write, [fd, hp(buf), n, 0, 0, 0])
}

fn pread64<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let (buf, n) = gout_prefix(p, a[1], a[2].min(MAX_RW))?;
    let c = HostCall::new(SYS_pread64, [fd, hp(buf), n, a[3], 0, 0]).out_raw_upto(buf, n as usize);
    call(p, &c)
}

fn pwrite64<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let (buf, n) = gin_prefix(p, a[1], a[2].min(MAX_RW))?;
    simple(p, SYS_pwrite64, [fd, hp(buf), n, a[3], 0, 0])
}

/// readv, preadv, preadv2 (`nr`, with `pos_l`, `pos_h`, `fl` as the kernel takes them).
///
/// The host call reads into one buffer (so its output is one declared range): directly into
/// guest memory when the guest gave one non-empty iovec, otherwise into host scratch space
/// that is then scattered over the guest's iovecs.
fn readv_common<A: Arch>(p: &mut Process<A>, nr: i64, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let segs: Vec<(u64, u64)> = read_iovecs(p, a[1], a[2])?.into_iter().filter(|s| s.1 > 0).collect();
    for &(base, len) in &segs {
        if accessible_prefix(p, base, len, flags::W) != len {
            return err(EFAULT);
        }
    }
    let total: u64 = segs.iter().map(|s| s.1).sum();
    if segs.len() <= 1 {
        let buf = match segs.first() {
            Some(&(base, len)) => gout(p, base, len)?,
            None => gout(p, 0, 0)?,
        };
        let iov = iovec { iov_base: buf as *mut c_void, iov_len: total as usize };
        let c = HostCall::new(nr, [fd, hp(&iov), 1, a[3], a[4], a[5]]).out_raw_upto(buf, total as usize);
        return call(p, &c);
    }
    let mut scratch = vec![0u8; total as usize];
    let iov = iovec { iov_base: scratch.as_mut_ptr() as *mut c_void, iov_len: scratch.len() };
    let c = HostCall::new(nr, [fd, hp(&iov), 1, a[3], a[4], a[5]]).out_raw_upto(scratch.as_mut_ptr(), scratch.len());
    let r = call(p, &c)?;
    let mut off = 0usize;
    for (base, len) in segs {
        if off >= r as usize {
            break;
        }
        let k = (len as usize).min(r as usize - off);
        put(p, base, &scratch[off..off + k])?;
        off += k;
    }
    Ok(r)
}

/// writev, pwritev, pwritev2: the guest's buffers are passed to the host as they are.
fn writev_common<A: Arch>(p: &mut Process<A>, nr: i64, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let mut iovs = Vec::new();
    for (base, len) in read_iovecs(p, a[1], a[2])? {
        if len > 0 {
            let ptr = gin(p, base, len)?;
            iovs.push(iovec { iov_base: ptr as *mut c_void, iov_len: len as usize });
        }
    }
    simple(p, nr, [fd, hp(iovs.as_ptr()), iovs.len() as u64, a[3], a[4], a[5]])
}

fn readv<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    readv_common(p, SYS_readv, [a[0], a[1], a[2], 0, 0, 0])
}

fn preadv<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    readv_common(p, SYS_preadv, [a[0], a[1], a[2], a[3], a[4], 0])
}

fn preadv2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    readv_common(p, SYS_preadv2, a)
}

fn writev<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    writev_common(p, SYS_writev, [a[0], a[1], a[2], 0, 0, 0])
}

fn pwritev<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    writev_common(p, SYS_pwritev, [a[0], a[1], a[2], a[3], a[4], 0])
}

fn pwritev2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    writev_common(p, SYS_pwritev2, a)
}

// ---- open / close ----

fn openat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, fl: u64, mode: u64) -> SysResult {
    let path = path_arg(p, path)?;
    let path = follow_path(p, path);
    let dfd = dirfd_arg(p, dirfd, Some(&path))?;
    let fl = A::ABI.open_flags_to_host(fl as u32 as u64);
    if let Some(text) = super::procfs::synthetic(p, &path) {
        if fl & O_ACCMODE as u64 != O_RDONLY as u64 {
            return err(EACCES);
        }
        return super::procfs::open_text(p, &text, fl & O_CLOEXEC as u64 != 0);
    }
    simple(p, SYS_openat, [dfd, hp(path.as_ptr()), fl, mode as u32 as u64, 0, 0])
}

fn open<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    openat_common(p, CWD, a[0], a[1], a[2])
}

fn openat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    openat_common(p, a[0], a[1], a[2], a[3])
}

fn creat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    openat_common(p, CWD, a[0], (O_CREAT | O_WRONLY | O_TRUNC) as u64, a[1])
}

fn close<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    simple(p, SYS_close, [fd, 0, 0, 0, 0, 0])
}

/// close_range(first, last, flags): the range is split around deja's reserved fds.
fn close_range<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (first, last, fl) = (a[0] as u32 as u64, a[1] as u32 as u64, a[2] as u32 as u64);
    if first > last {
        return err(EINVAL);
    }
    let mut reserved: Vec<u64> = p
        .reserved_fds
        .iter()
        .map(|&r| r as i64)
        .filter(|&r| r >= first as i64 && r <= last as i64)
        .map(|r| r as u64)
        .collect();
    reserved.sort_unstable();
    let mut lo = first;
    for r in reserved {
        if r > lo {
            simple(p, SYS_close_range, [lo, r - 1, fl, 0, 0, 0])?;
        }
        lo = r + 1;
    }
    if lo <= last {
        simple(p, SYS_close_range, [lo, last, fl, 0, 0, 0])?;
    }
    Ok(0)
}

// ---- dup / pipe ----

fn dup2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let old = fd_arg(p, a[0])?;
    let new = fd_arg(p, a[1])?;
    simple(p, SYS_dup2, [old, new, 0, 0, 0, 0])
}

fn dup3<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let old = fd_arg(p, a[0])?;
    let new = fd_arg(p, a[1])?;
    simple(p, SYS_dup3, [old, new, a[2] as u32 as u64, 0, 0, 0])
}

fn pipe2_common<A: Arch>(p: &mut Process<A>, fds: u64, fl: u64) -> SysResult {
    let buf = gout(p, fds, 8)?;
    let fl = A::ABI.open_flags_to_host(fl as u32 as u64);
    let c = HostCall::new(SYS_pipe2, [hp(buf), fl, 0, 0, 0, 0]).out_raw(buf, 8);
    call(p, &c)
}

fn pipe<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    pipe2_common(p, a[0], 0)
}

fn pipe2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    pipe2_common(p, a[0], a[1])
}

// ---- fcntl / ioctl ----

/// Size of `struct flock` on x86-64.
const FLOCK_SIZE: u64 = 32;

fn fcntl<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let cmd = a[1] as i32;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            // The kernel picks the lowest free fd ≥ arg; reserved fds are open, so never them.
            if (a[2] as i32) < 0 {
                return err(EINVAL);
            }
            simple(p, SYS_fcntl, [fd, cmd as u64, a[2] as u32 as u64, 0, 0, 0])
        }
        // Open-file flags: some bits differ between guest ABIs (`Abi::open_flags_to_host`).
        F_GETFL => {
            let r = simple(p, SYS_fcntl, [fd, cmd as u64, 0, 0, 0, 0])?;
            Ok(A::ABI.open_flags_from_host(r as u64) as i64)
        }
        F_SETFL => simple(p, SYS_fcntl, [fd, cmd as u64, A::ABI.open_flags_to_host(a[2] as u32 as u64), 0, 0, 0]),
        F_GETFD | F_GETPIPE_SZ | F_GET_SEALS | F_GETLEASE => simple(p, SYS_fcntl, [fd, cmd as u64, 0, 0, 0, 0]),
        F_SETFD | F_SETPIPE_SZ | F_ADD_SEALS | F_SETLEASE => {
            simple(p, SYS_fcntl, [fd, cmd as u64, a[2] as u32 as u64, 0, 0, 0])
        }
        F_GETLK | F_OFD_GETLK => {
            let buf = gout(p, a[2], FLOCK_SIZE)?;
            let c = HostCall::new(SYS_fcntl, [fd, cmd as u64, hp(buf), 0, 0, 0]).out_raw(buf, FLOCK_SIZE as usize);
            call(p, &c)
        }
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
            let buf = gin(p, a[2], FLOCK_SIZE)?;
            simple(p, SYS_fcntl, [fd, cmd as u64, hp(buf), 0, 0, 0])
        }
        _ => err(EINVAL),
    }
}

// ioctl requests whose argument layout is known (asm-generic/ioctls.h, x86-64).
const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540A;
const TCFLSH: u32 = 0x540B;
const TIOCGPGRP: u32 = 0x540F;
const TIOCSPGRP: u32 = 0x5410;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541B;
const FIONBIO: u32 = 0x5421;
const TIOCGSID: u32 = 0x5429;
const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;
/// Kernel `struct termios` (what TCGETS/TCSETS use): 4 flags words, c_line, 19 c_cc.
const TERMIOS_SIZE: u64 = 36;
const WINSIZE_SIZE: u64 = 8;

fn ioctl<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(p, a[0])?;
    let req = a[1] as u32;
    let out = |p: &mut Process<A>, size: u64| -> SysResult {
        let buf = gout(p, a[2], size)?;
        let c = HostCall::new(SYS_ioctl, [fd, req as u64, hp(buf), 0, 0, 0]).out_raw(buf, size as usize);
        call(p, &c)
    };
    let input = |p: &mut Process<A>, size: u64| -> SysResult {
        let buf = gin(p, a[2], size)?;
        simple(p, SYS_ioctl, [fd, req as u64, hp(buf), 0, 0, 0])
    };
    match req {
        TCGETS => out(p, TERMIOS_SIZE),
        TCSETS | TCSETSW | TCSETSF => input(p, TERMIOS_SIZE),
        TIOCGWINSZ => out(p, WINSIZE_SIZE),
        TIOCSWINSZ => input(p, WINSIZE_SIZE),
        FIONREAD | TIOCGPGRP | TIOCGSID => out(p, 4),
        TIOCSPGRP | FIONBIO => input(p, 4),
        TCSBRK | TCXONC | TCFLSH => simple(p, SYS_ioctl, [fd, req as u64, a[2] as u32 as u64, 0, 0, 0]),
        FIONCLEX | FIOCLEX => simple(p, SYS_ioctl, [fd, req as u64, 0, 0, 0, 0]),
        _ => err(ENOTTY),
    }
}

// ---- copies between fds ----

fn sendfile<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let out_fd = fd_arg(p, a[0])?;
    let in_fd = fd_arg(p, a[1])?;
    let off = gout_opt(p, a[2], 8)?;
    let c = HostCall::new(SYS_sendfile, [out_fd, in_fd, hp(off), a[3].min(MAX_RW), 0, 0]).out_raw(off, 8);
    call(p, &c)
}

fn copy_file_range<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd_in = fd_arg(p, a[0])?;
    let fd_out = fd_arg(p, a[2])?;
    let off_in = gout_opt(p, a[1], 8)?;
    let off_out = gout_opt(p, a[3], 8)?;
    let c = HostCall::new(SYS_copy_file_range, [fd_in, hp(off_in), fd_out, hp(off_out), a[4].min(MAX_RW), a[5]])
        .out_raw(off_in, 8)
        .out_raw(off_out, 8);
    call(p, &c)
}
