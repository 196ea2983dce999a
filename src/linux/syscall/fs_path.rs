//! Path and metadata syscalls: stat family, statx, statfs, getdents, access, readlink,
//! getcwd/chdir, directory and link manipulation, permissions, ownership, times.
//! Everything passes through the `World`; results the kernel writes (stat buffers, directory
//! entries, link targets, the cwd) are declared outputs.

use super::fs::check_fd;
use super::util::*;
use super::{err, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::abi::HOST_STAT_SIZE;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::world::HostCall;
use libc::*;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::Stat, stat);
    t.add(Sys::Lstat, lstat);
    t.add(Sys::Fstat, fstat);
    t.add(Sys::Newfstatat, newfstatat);
    t.add(Sys::Statx, statx);
    t.add(Sys::Statfs, statfs);
    t.add(Sys::Fstatfs, fstatfs);
    t.add(Sys::Getdents, getdents);
    t.add(Sys::Getdents64, getdents64);
    t.add(Sys::Access, access);
    t.add(Sys::Faccessat, faccessat);
    t.add(Sys::Faccessat2, faccessat2);
    t.add(Sys::Readlink, readlink);
    t.add(Sys::Readlinkat, readlinkat);
    t.add(Sys::Getcwd, getcwd);
    t.add(Sys::Chdir, chdir);
    t.add(Sys::Fchdir, fchdir);
    t.add(Sys::Unlink, unlink);
    t.add(Sys::Unlinkat, unlinkat);
    t.add(Sys::Rmdir, rmdir);
    t.add(Sys::Mkdir, mkdir);
    t.add(Sys::Mkdirat, mkdirat);
    t.add(Sys::Mknod, mknod);
    t.add(Sys::Mknodat, mknodat);
    t.add(Sys::Rename, rename);
    t.add(Sys::Renameat, renameat);
    t.add(Sys::Renameat2, renameat2);
    t.add(Sys::Link, link);
    t.add(Sys::Linkat, linkat);
    t.add(Sys::Symlink, symlink);
    t.add(Sys::Symlinkat, symlinkat);
    t.add(Sys::Chmod, chmod);
    t.add(Sys::Fchmod, fchmod);
    t.add(Sys::Fchmodat, fchmodat);
    t.add(Sys::Fchmodat2, fchmodat2);
    t.add(Sys::Chown, chown);
    t.add(Sys::Lchown, lchown);
    t.add(Sys::Fchown, fchown);
    t.add(Sys::Fchownat, fchownat);
    t.add(Sys::Umask, umask);
    t.add(Sys::Truncate, truncate);
    t.add(Sys::Utimensat, utimensat);
    t.add(Sys::Utimes, utimes);
    t.add(Sys::Futimesat, futimesat);
    t.add(Sys::Utime, utime);
}

/// `struct stat` on the host (x86-64); `Abi::stat_size` is the guest's.
const STAT_SIZE: u64 = HOST_STAT_SIZE as u64;
/// `struct statx`.
const STATX_SIZE: u64 = 256;
/// `struct statfs` on x86-64.
const STATFS_SIZE: u64 = 120;

/// A path resolved relative to `dirfd`: (host dirfd argument, NUL-terminated path).
fn at_path<A: Arch>(p: &Process<A>, dirfd: u64, path: u64) -> Result<(u64, Vec<u8>), super::SysErr> {
    let path = path_arg(p, path)?;
    let dfd = dirfd_arg(p, dirfd, Some(&path))?;
    Ok((dfd, path))
}

// ---- stat family ----

/// newfstatat(dirfd, path, buf, flags): the one host call behind stat, lstat and
/// newfstatat. /proc/self/exe is followed to the guest's executable.
fn fstatat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, buf: u64, fl: u64) -> SysResult {
    let path = path_arg_opt(p, path)?;
    let path = match path {
        Some(s) if fl & NOFOLLOW == 0 => Some(follow_path(p, s)),
        other => other,
    };
    let dfd = dirfd_arg(p, dirfd, path.as_deref())?;
    let pp = path.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    stat_call(p, buf, |out| HostCall::new(SYS_newfstatat, [dfd, hp(pp), hp(out), fl as u32 as u64, 0, 0]))
}

/// A host call that fills a `struct stat` for the guest buffer `buf`. With the host's layout
/// the kernel writes guest memory directly; otherwise it writes host scratch space (recorded
/// and replayed as such) and `Abi::stat_from_host` converts.
fn stat_call<A: Arch>(p: &mut Process<A>, buf: u64, mk: impl FnOnce(*mut u8) -> HostCall) -> SysResult {
    if A::ABI.host_stat() {
        let out = gout(p, buf, STAT_SIZE)?;
        return call(p, &mk(out).out_raw(out, STAT_SIZE as usize));
    }
    gout(p, buf, A::ABI.stat_size())?;
    let mut host = [0u8; HOST_STAT_SIZE];
    let c = mk(host.as_mut_ptr()).out_raw(host.as_mut_ptr(), HOST_STAT_SIZE);
    let r = call(p, &c)?;
    let st = A::ABI.stat_from_host(&host).map_err(super::SysErr::Errno)?;
    put(p, buf, &st)?;
    Ok(r)
}

fn stat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fstatat_common(p, CWD, a[0], a[1], 0)
}

fn lstat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fstatat_common(p, CWD, a[0], a[1], NOFOLLOW)
}

fn newfstatat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fstatat_common(p, a[0], a[1], a[2], a[3])
}

fn fstat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])? as u64;
    stat_call(p, a[1], |out| HostCall::new(SYS_fstat, [fd, hp(out), 0, 0, 0, 0]))
}

fn statx<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fl = a[2];
    let path = path_arg_opt(p, a[1])?;
    let path = match path {
        Some(s) if fl & NOFOLLOW == 0 => Some(follow_path(p, s)),
        other => other,
    };
    let dfd = dirfd_arg(p, a[0], path.as_deref())?;
    let pp = path.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    let out = gout(p, a[4], STATX_SIZE)?;
    let c = HostCall::new(SYS_statx, [dfd, hp(pp), fl as u32 as u64, a[3] as u32 as u64, hp(out), 0])
        .out_raw(out, STATX_SIZE as usize);
    call(p, &c)
}

fn statfs<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let path = path_arg(p, a[0])?;
    let out = gout(p, a[1], STATFS_SIZE)?;
    let c = HostCall::new(SYS_statfs, [hp(path.as_ptr()), hp(out), 0, 0, 0, 0]).out_raw(out, STATFS_SIZE as usize);
    call(p, &c)
}

fn fstatfs<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])? as u64;
    let out = gout(p, a[1], STATFS_SIZE)?;
    let c = HostCall::new(SYS_fstatfs, [fd, hp(out), 0, 0, 0, 0]).out_raw(out, STATFS_SIZE as usize);
    call(p, &c)
}

// ---- directories ----

fn getdents_common<A: Arch>(p: &mut Process<A>, nr: i64, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])? as u64;
    let (buf, n) = gout_prefix(p, a[1], (a[2] as u32 as u64).min(MAX_RW))?;
    let c = HostCall::new(nr, [fd, hp(buf), n, 0, 0, 0]).out_raw_upto(buf, n as usize);
    call(p, &c)
}

fn getdents<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    getdents_common(p, SYS_getdents, a)
}

fn getdents64<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    getdents_common(p, SYS_getdents64, a)
}

fn getcwd<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    // The kernel never returns more than a page (ENAMETOOLONG beyond).
    let (buf, n) = gout_prefix(p, a[0], a[1].min(PATH_LEN_MAX as u64))?;
    let c = HostCall::new(SYS_getcwd, [hp(buf), n, 0, 0, 0, 0]).out_raw_upto(buf, n as usize);
    call(p, &c)
}

fn chdir<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let path = path_arg(p, a[0])?;
    simple(p, SYS_chdir, [hp(path.as_ptr()), 0, 0, 0, 0, 0])
}

fn fchdir<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])? as u64;
    simple(p, SYS_fchdir, [fd, 0, 0, 0, 0, 0])
}

// ---- access / readlink ----

fn faccessat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, mode: u64, fl: u64) -> SysResult {
    let path = path_arg(p, path)?;
    let path = if fl & NOFOLLOW == 0 { follow_path(p, path) } else { path };
    let dfd = dirfd_arg(p, dirfd, Some(&path))?;
    if fl == 0 {
        simple(p, SYS_faccessat, [dfd, hp(path.as_ptr()), mode as u32 as u64, 0, 0, 0])
    } else {
        simple(p, SYS_faccessat2, [dfd, hp(path.as_ptr()), mode as u32 as u64, fl as u32 as u64, 0, 0])
    }
}

fn access<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    faccessat_common(p, CWD, a[0], a[1], 0)
}

fn faccessat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    faccessat_common(p, a[0], a[1], a[2], 0)
}

fn faccessat2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    faccessat_common(p, a[0], a[1], a[2], a[3])
}

/// readlinkat(dirfd, path, buf, size). /proc/self/exe names the guest's executable: the
/// emulator decides that answer (it is the program deja was asked to run), so it does not
/// go through the world.
fn readlinkat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, buf: u64, size: u64) -> SysResult {
    let (dfd, path) = at_path(p, dirfd, path)?;
    if (size as i32) <= 0 {
        return err(EINVAL);
    }
    let size = (size as u32 as u64).min(1 << 16);
    if is_proc_self_exe(&path) {
        let exe = exe_path(p);
        let target = &exe[..exe.len() - 1];
        let n = target.len().min(size as usize);
        put(p, buf, &target[..n])?;
        return Ok(n as i64);
    }
    let (out, n) = gout_prefix(p, buf, size)?;
    let c = HostCall::new(SYS_readlinkat, [dfd, hp(path.as_ptr()), hp(out), n, 0, 0]).out_raw_upto(out, n as usize);
    call(p, &c)
}

fn readlink<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    readlinkat_common(p, CWD, a[0], a[1], a[2])
}

fn readlinkat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    readlinkat_common(p, a[0], a[1], a[2], a[3])
}

// ---- creating and removing names ----

fn unlinkat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, fl: u64) -> SysResult {
    let (dfd, path) = at_path(p, dirfd, path)?;
    simple(p, SYS_unlinkat, [dfd, hp(path.as_ptr()), fl as u32 as u64, 0, 0, 0])
}

fn unlink<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    unlinkat_common(p, CWD, a[0], 0)
}

fn unlinkat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    unlinkat_common(p, a[0], a[1], a[2])
}

fn rmdir<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    unlinkat_common(p, CWD, a[0], AT_REMOVEDIR as u64)
}

fn mkdirat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let (dfd, path) = at_path(p, dirfd, path)?;
    simple(p, SYS_mkdirat, [dfd, hp(path.as_ptr()), mode as u32 as u64, 0, 0, 0])
}

fn mkdir<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    mkdirat_common(p, CWD, a[0], a[1])
}

fn mkdirat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    mkdirat_common(p, a[0], a[1], a[2])
}

fn mknodat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, mode: u64, dev: u64) -> SysResult {
    let (dfd, path) = at_path(p, dirfd, path)?;
    simple(p, SYS_mknodat, [dfd, hp(path.as_ptr()), mode as u32 as u64, dev as u32 as u64, 0, 0])
}

fn mknod<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    mknodat_common(p, CWD, a[0], a[1], a[2])
}

fn mknodat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    mknodat_common(p, a[0], a[1], a[2], a[3])
}

fn renameat2_common<A: Arch>(p: &mut Process<A>, od: u64, op: u64, nd: u64, np: u64, fl: u64) -> SysResult {
    let (od, op) = at_path(p, od, op)?;
    let (nd, np) = at_path(p, nd, np)?;
    simple(p, SYS_renameat2, [od, hp(op.as_ptr()), nd, hp(np.as_ptr()), fl as u32 as u64, 0])
}

fn rename<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    renameat2_common(p, CWD, a[0], CWD, a[1], 0)
}

fn renameat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    renameat2_common(p, a[0], a[1], a[2], a[3], 0)
}

fn renameat2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    renameat2_common(p, a[0], a[1], a[2], a[3], a[4])
}

fn linkat_common<A: Arch>(p: &mut Process<A>, od: u64, op: u64, nd: u64, np: u64, fl: u64) -> SysResult {
    let (od, op) = at_path(p, od, op)?;
    let (nd, np) = at_path(p, nd, np)?;
    simple(p, SYS_linkat, [od, hp(op.as_ptr()), nd, hp(np.as_ptr()), fl as u32 as u64, 0])
}

fn link<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    linkat_common(p, CWD, a[0], CWD, a[1], 0)
}

fn linkat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    linkat_common(p, a[0], a[1], a[2], a[3], a[4])
}

fn symlinkat_common<A: Arch>(p: &mut Process<A>, target: u64, nd: u64, np: u64) -> SysResult {
    let target = cstr_arg(p, target)?;
    let (nd, np) = at_path(p, nd, np)?;
    simple(p, SYS_symlinkat, [hp(target.as_ptr()), nd, hp(np.as_ptr()), 0, 0, 0])
}

fn symlink<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    symlinkat_common(p, a[0], CWD, a[1])
}

fn symlinkat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    symlinkat_common(p, a[0], a[1], a[2])
}

// ---- permissions, ownership, size ----

fn fchmodat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, mode: u64, fl: u64) -> SysResult {
    let (dfd, path) = at_path(p, dirfd, path)?;
    if fl == 0 {
        simple(p, SYS_fchmodat, [dfd, hp(path.as_ptr()), mode as u32 as u64, 0, 0, 0])
    } else {
        simple(p, SYS_fchmodat2, [dfd, hp(path.as_ptr()), mode as u32 as u64, fl as u32 as u64, 0, 0])
    }
}

fn chmod<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fchmodat_common(p, CWD, a[0], a[1], 0)
}

fn fchmodat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fchmodat_common(p, a[0], a[1], a[2], 0)
}

fn fchmodat2<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fchmodat_common(p, a[0], a[1], a[2], a[3])
}

fn fchmod<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])? as u64;
    simple(p, SYS_fchmod, [fd, a[1] as u32 as u64, 0, 0, 0, 0])
}

fn fchownat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, uid: u64, gid: u64, fl: u64) -> SysResult {
    let path = path_arg(p, path)?;
    let dfd = dirfd_arg(p, dirfd, Some(&path))?;
    simple(p, SYS_fchownat, [dfd, hp(path.as_ptr()), uid as u32 as u64, gid as u32 as u64, fl as u32 as u64, 0])
}

fn chown<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fchownat_common(p, CWD, a[0], a[1], a[2], 0)
}

fn lchown<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fchownat_common(p, CWD, a[0], a[1], a[2], NOFOLLOW)
}

fn fchownat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    fchownat_common(p, a[0], a[1], a[2], a[3], a[4])
}

fn fchown<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let fd = check_fd(p, a[0])? as u64;
    simple(p, SYS_fchown, [fd, a[1] as u32 as u64, a[2] as u32 as u64, 0, 0, 0])
}

fn umask<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    simple(p, SYS_umask, [a[0] as u32 as u64 & 0o777, 0, 0, 0, 0, 0])
}

fn truncate<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let path = path_arg(p, a[0])?;
    simple(p, SYS_truncate, [hp(path.as_ptr()), a[1], 0, 0, 0, 0])
}

// ---- times ----

/// utimensat(dirfd, path or NULL (then dirfd itself), times[2] or NULL (now), flags).
fn utimensat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let path = path_arg_opt(p, a[1])?;
    let dfd = match &path {
        Some(s) => dirfd_arg(p, a[0], Some(s))?,
        None => check_fd(p, a[0])? as u64,
    };
    let pp = path.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    let times = gin_opt(p, a[2], 32)?;
    simple(p, SYS_utimensat, [dfd, hp(pp), hp(times), a[3] as u32 as u64, 0, 0])
}

/// futimesat(dirfd, path, timeval[2] or NULL).
fn futimesat_common<A: Arch>(p: &mut Process<A>, dirfd: u64, path: u64, tv: u64) -> SysResult {
    let (dfd, path) = at_path(p, dirfd, path)?;
    let tv = gin_opt(p, tv, 32)?;
    simple(p, SYS_futimesat, [dfd, hp(path.as_ptr()), hp(tv), 0, 0, 0])
}

fn utimes<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    futimesat_common(p, CWD, a[0], a[1])
}

fn futimesat<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    futimesat_common(p, a[0], a[1], a[2])
}

fn utime<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let path = path_arg(p, a[0])?;
    let buf = gin_opt(p, a[1], 16)?;
    simple(p, SYS_utime, [hp(path.as_ptr()), hp(buf), 0, 0, 0, 0])
}
