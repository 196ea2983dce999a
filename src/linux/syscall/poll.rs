//! Waiting for fds: poll, ppoll, select, pselect6.
//!
//! The guest's fd arrays and sets are copied into host scratch space, checked against
//! deja's reserved fds, handed to the host through the `World` (the scratch copies are the
//! declared outputs), and copied back. Signal masks passed to ppoll/pselect6 are guest
//! masks: the host's mask is irrelevant to emulated signals, so the host call gets none.

use super::fs::check_fd;
use super::util::*;
use super::{err, SysErr, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::world::HostCall;
use libc::*;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::Poll, poll);
    t.add(Sys::Ppoll, ppoll);
    t.add(Sys::Select, select);
    t.add(Sys::Pselect6, pselect6);
}

/// Most pollfds / select bits one call takes (the kernel's limit is RLIMIT_NOFILE).
const NFDS_MAX: u64 = 1 << 20;
const POLLFD_SIZE: u64 = 8;

/// Copy back a timeout the kernel updated; like Linux, a read-only timeout is left alone
/// (fs/select.c: the update must not turn a completed call into a fault).
fn put_timeout<A: Arch>(p: &mut Process<A>, addr: u64, t: &[u8; 16]) {
    if addr != 0 {
        let _ = put(p, addr, t);
    }
}

/// poll/ppoll on a scratch copy of the guest's pollfd array. `tmo` is the timeout in ms
/// (poll) or the address of the guest's timespec, 0 for none (ppoll).
fn poll_common<A: Arch>(p: &mut Process<A>, fds: u64, nfds: u64, tmo: Option<u64>, ppoll: bool) -> SysResult {
    if nfds > NFDS_MAX {
        return err(EINVAL);
    }
    let len = nfds * POLLFD_SIZE;
    gout(p, fds, len)?; // the kernel writes revents back: the array must be writable
    let mut raw = vec![0u8; len as usize];
    p.m.mem.read_bytes(fds, &mut raw)?;
    // Reserved fds are deja's: for the guest they are closed (POLLNVAL). Hide them from the
    // host by making them negative (ignored), and do not block if there are any.
    let mut hidden = Vec::new();
    for (i, c) in raw.chunks_exact_mut(POLLFD_SIZE as usize).enumerate() {
        let fd = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        if fd >= 0 && check_fd(p, fd as u64).is_err() {
            hidden.push((i, fd));
            c[..4].copy_from_slice(&(-1i32).to_le_bytes());
        }
    }
    let r = if ppoll {
        let mut ts = [0u8; 16];
        let tmo_addr = tmo.unwrap_or(0);
        if tmo_addr != 0 {
            ts = get::<16, _>(p, tmo_addr)?;
        }
        if !hidden.is_empty() {
            ts = [0; 16];
        }
        let tsp = if tmo_addr != 0 || !hidden.is_empty() { ts.as_mut_ptr() } else { std::ptr::null_mut() };
        let c = HostCall::new(SYS_ppoll, [hp(raw.as_ptr()), nfds, hp(tsp), 0, 8, 0])
            .out_raw(raw.as_mut_ptr(), raw.len())
            .out_raw(tsp, 16);
        let r = call(p, &c)?;
        if hidden.is_empty() {
            put_timeout(p, tmo_addr, &ts);
        }
        r
    } else {
        let ms = if hidden.is_empty() { tmo.unwrap_or(0) as i32 } else { 0 };
        let c = HostCall::new(SYS_poll, [hp(raw.as_ptr()), nfds, ms as i64 as u64, 0, 0, 0])
            .out_raw(raw.as_mut_ptr(), raw.len());
        call(p, &c)?
    };
    for &(i, fd) in &hidden {
        let c = &mut raw[i * POLLFD_SIZE as usize..(i + 1) * POLLFD_SIZE as usize];
        c[..4].copy_from_slice(&fd.to_le_bytes());
        c[6..8].copy_from_slice(&(POLLNVAL as u16).to_le_bytes());
    }
    put(p, fds, &raw)?;
    Ok(r + hidden.len() as i64)
}

fn poll<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    poll_common(p, a[0], a[1] as u32 as u64, Some(a[2]), false)
}

/// Check a guest sigset argument of ppoll/pselect6 (size must be 8).
fn check_sigset(mask: u64, size: u64) -> Result<(), SysErr> {
    if mask != 0 && size != 8 {
        return Err(SysErr::Errno(EINVAL));
    }
    Ok(())
}

fn ppoll<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    check_sigset(a[3], a[4])?;
    poll_common(p, a[0], a[1] as u32 as u64, Some(a[2]), true)
}

/// select/pselect6 on scratch copies of the guest's fd sets. `tmo` is the guest's timeval
/// (select) or timespec (pselect6); both are 16 bytes and updated by the kernel.
fn select_common<A: Arch>(p: &mut Process<A>, nfds: u64, sets: [u64; 3], tmo: u64, pselect: bool) -> SysResult {
    let nfds = nfds as i32;
    if nfds < 0 {
        return err(EINVAL);
    }
    let nfds = (nfds as u64).min(NFDS_MAX);
    let bytes = nfds.div_ceil(64) * 8;
    let mut scratch: [Vec<u8>; 3] = Default::default();
    for (i, &addr) in sets.iter().enumerate() {
        if addr != 0 {
            gout(p, addr, bytes)?; // written back on success
            let mut v = vec![0u8; bytes as usize];
            p.m.mem.read_bytes(addr, &mut v)?;
            for &r in &p.reserved_fds {
                if r >= 0 && (r as u64) < nfds && v[r as usize / 8] & (1 << (r % 8)) != 0 {
                    return err(EBADF);
                }
            }
            scratch[i] = v;
        }
    }
    let mut ts = [0u8; 16];
    if tmo != 0 {
        ts = get::<16, _>(p, tmo)?;
    }
    let tsp = if tmo != 0 { ts.as_mut_ptr() } else { std::ptr::null_mut() };
    let ptrs: Vec<*mut u8> = scratch
        .iter_mut()
        .zip(sets.iter())
        .map(|(v, &addr)| if addr != 0 { v.as_mut_ptr() } else { std::ptr::null_mut() })
        .collect();
    let nr = if pselect { SYS_pselect6 } else { SYS_select };
    let mut c = HostCall::new(nr, [nfds, hp(ptrs[0]), hp(ptrs[1]), hp(ptrs[2]), hp(tsp), 0]);
    for &ptr in &ptrs {
        c = c.out_raw(ptr, bytes as usize);
    }
    let c = c.out_raw(tsp, 16);
    let r = call(p, &c)?;
    for (v, &addr) in scratch.iter().zip(sets.iter()) {
        if addr != 0 {
            put(p, addr, v)?;
        }
    }
    put_timeout(p, tmo, &ts);
    Ok(r)
}

fn select<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    select_common(p, a[0], [a[1], a[2], a[3]], a[4], false)
}

fn pselect6<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    if a[5] != 0 {
        let d = get::<16, _>(p, a[5])?;
        let ss = u64::from_le_bytes(d[..8].try_into().unwrap_or_default());
        let len = u64::from_le_bytes(d[8..].try_into().unwrap_or_default());
        check_sigset(ss, len)?;
    }
    select_common(p, a[0], [a[1], a[2], a[3]], a[4], true)
}
