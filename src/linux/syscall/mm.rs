//! Memory-management syscalls: brk mmap munmap mprotect mremap madvise msync mincore mlock.
//! Addresses are chosen by the emulator, deterministically (design §3, §6).

use super::{err, host_ret, SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::errno::*;
use crate::linux::layout::{MMAP_MIN, MMAP_TOP};
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::mem::{flags, PAGE_SIZE};
use crate::world::HostCall;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::Brk, brk);
    t.add(Sys::Mmap, mmap);
    t.add(Sys::Munmap, munmap);
    t.add(Sys::Mprotect, mprotect);
    t.add(Sys::Mremap, mremap);
    t.add(Sys::Madvise, madvise);
    t.add(Sys::Msync, ok0);
    t.add(Sys::Mlock, ok0);
    t.add(Sys::Munlock, ok0);
    t.add(Sys::Mlockall, ok0);
    t.add(Sys::Munlockall, ok0);
    t.add(Sys::Mincore, mincore);
}

fn ok0<A: Arch>(_p: &mut Process<A>, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

/// ENOMEM if mapping `extra` more bytes would exceed `--max-memory`.
fn within_limit<A: Arch>(p: &Process<A>, extra: u64) -> Result<(), super::SysErr> {
    match p.opts.max_memory {
        Some(max) if p.m.mem.mapped_bytes().saturating_add(extra) > max => Err(super::SysErr::Errno(ENOMEM)),
        _ => Ok(()),
    }
}

pub fn page_up(x: u64) -> u64 {
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// Guest page permissions for PROT_* bits. On x86 any accessible page is readable.
pub fn prot_flags(prot: u64) -> u8 {
    let mut f = 0;
    if prot & libc::PROT_READ as u64 != 0 {
        f |= flags::R;
    }
    if prot & libc::PROT_WRITE as u64 != 0 {
        f |= flags::W | flags::R;
    }
    if prot & libc::PROT_EXEC as u64 != 0 {
        f |= flags::X | flags::R;
    }
    f
}

fn brk<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let want = a[0];
    if want < p.brk_start {
        return Ok(p.brk as i64);
    }
    let (old_end, new_end) = (page_up(p.brk), page_up(want));
    if new_end > old_end {
        if !p.m.mem.is_free(old_end, new_end - old_end) {
            return Ok(p.brk as i64);
        }
        if within_limit(p, new_end - old_end).is_err() {
            return Ok(p.brk as i64);
        }
        p.m.mem.map(old_end, new_end - old_end, flags::R | flags::W);
    } else if new_end < old_end {
        p.m.mem.unmap(new_end, old_end - new_end);
    }
    p.brk = want;
    Ok(want as i64)
}

/// Find a free, page-aligned range of `len` bytes for a non-fixed mmap: top-down from the
/// lowest mapping made so far, then a full top-down search.
pub fn find_free<A: Arch>(p: &mut Process<A>, len: u64) -> Option<u64> {
    if let Some(cand) = p.mmap_next.checked_sub(len) {
        if cand >= MMAP_MIN && p.m.mem.is_free(cand, len) {
            return Some(cand);
        }
    }
    let mut top = MMAP_TOP;
    loop {
        let cand = top.checked_sub(len)?;
        if cand < MMAP_MIN {
            return None;
        }
        match p.m.mem.highest_mapped(cand, top) {
            None => return Some(cand),
            Some(pg) => top = pg,
        }
    }
}

fn mmap<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (addr, len, prot, fl, fd, off) = (a[0], a[1], a[2], a[3] as i32, a[4] as i32, a[5]);
    if len == 0 || off % PAGE_SIZE != 0 {
        return err(EINVAL);
    }
    let len = page_up(len);
    if len == 0 {
        return err(ENOMEM);
    }
    let anon = fl & libc::MAP_ANONYMOUS != 0;
    let fixed = fl & (libc::MAP_FIXED | libc::MAP_FIXED_NOREPLACE) != 0;
    if fl & libc::MAP_SHARED != 0 && !anon {
        // Shared file mappings would need write-back to the file; not supported yet.
        return err(ENODEV_OR_INVAL);
    }
    let start = if fixed {
        if addr % PAGE_SIZE != 0 {
            return err(EINVAL);
        }
        if addr.checked_add(len).is_none_or(|e| e > p.m.mem.size()) {
            return err(ENOMEM);
        }
        if fl & libc::MAP_FIXED_NOREPLACE != 0 && !p.m.mem.is_free(addr, len) {
            return err(EEXIST);
        }
        addr
    } else {
        // A hint is honoured when the range is free, like Linux.
        let hint = addr & !(PAGE_SIZE - 1);
        if hint >= MMAP_MIN && hint.checked_add(len).is_some_and(|e| e <= MMAP_TOP) && p.m.mem.is_free(hint, len) {
            hint
        } else {
            match find_free(p, len) {
                Some(s) => s,
                None => return err(ENOMEM),
            }
        }
    };
    let pf = prot_flags(prot);
    within_limit(p, len)?;
    if !anon {
        // Private file mapping: map writable, fill from the file, then apply protections.
        let fd = super::fs::check_fd(p, fd as u64)?;
        p.m.mem.map(start, len, flags::R | flags::W);
        let icount = p.m.icount;
        let buf = p.m.mem.slice_mut(start, len)?;
        let ptr = buf.as_mut_ptr();
        let call = HostCall::new(libc::SYS_pread64, [fd as u64, ptr as u64, len, off, 0, 0]).out_upto_ret(buf);
        let r = p.world.syscall(icount, &call);
        if r < 0 {
            p.m.mem.unmap(start, len);
            return host_ret(r);
        }
    } else {
        p.m.mem.map(start, len, pf);
    }
    p.m.mem.protect(start, len, pf);
    if !fixed && start < p.mmap_next {
        p.mmap_next = start;
    }
    Ok(start as i64)
}

/// Linux returns ENODEV for mappings it cannot provide.
const ENODEV_OR_INVAL: i32 = libc::ENODEV;

fn munmap<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (addr, len) = (a[0], page_up(a[1]));
    if addr % PAGE_SIZE != 0 || len == 0 || !p.m.mem.unmap(addr, len) {
        return err(EINVAL);
    }
    if addr == p.mmap_next {
        // Reuse the space of the lowest mapping when it goes away (LIFO patterns).
        p.mmap_next = match p.m.mem.highest_mapped(addr, MMAP_TOP) {
            Some(_) => addr + len,
            None => MMAP_TOP,
        };
    }
    Ok(0)
}

fn mprotect<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (addr, len) = (a[0], page_up(a[1]));
    if addr % PAGE_SIZE != 0 {
        return err(EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    if !p.m.mem.protect(addr, len, prot_flags(a[2])) {
        return err(ENOMEM);
    }
    Ok(0)
}

fn mremap<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (old, old_len, new_len, fl, new_addr) = (a[0], page_up(a[1]), page_up(a[2]), a[3] as i32, a[4]);
    if old % PAGE_SIZE != 0 || new_len == 0 {
        return err(EINVAL);
    }
    if !p.m.mem.is_mapped(old, old_len.max(PAGE_SIZE)) {
        return err(EFAULT);
    }
    let prot = p.m.mem.prot_of(old).unwrap_or(0);
    if new_len > old_len {
        within_limit(p, new_len - old_len)?;
    }
    if new_len <= old_len {
        if new_len < old_len {
            p.m.mem.unmap(old + new_len, old_len - new_len);
        }
        return Ok(old as i64);
    }
    // Grow in place when the pages after the mapping are free.
    if fl & libc::MREMAP_FIXED == 0 && p.m.mem.is_free(old + old_len, new_len - old_len) {
        p.m.mem.map(old + old_len, new_len - old_len, prot);
        return Ok(old as i64);
    }
    if fl & libc::MREMAP_MAYMOVE == 0 {
        return err(ENOMEM);
    }
    let dest = if fl & libc::MREMAP_FIXED != 0 {
        new_addr
    } else {
        match find_free(p, new_len) {
            Some(d) => d,
            None => return err(ENOMEM),
        }
    };
    let mut data = vec![0u8; old_len as usize];
    p.m.mem.peek(old, &mut data)?;
    p.m.mem.map(dest, new_len, flags::R | flags::W);
    p.m.mem.poke(dest, &data)?;
    p.m.mem.protect(dest, new_len, prot);
    p.m.mem.unmap(old, old_len);
    if dest < p.mmap_next {
        p.mmap_next = dest;
    }
    Ok(dest as i64)
}

fn madvise<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (addr, len, advice) = (a[0], page_up(a[1]), a[2] as i32);
    if addr % PAGE_SIZE != 0 {
        return err(EINVAL);
    }
    if advice == libc::MADV_DONTNEED && len > 0 {
        if !p.m.mem.is_mapped(addr, len) {
            return err(ENOMEM);
        }
        p.m.mem.zero_range(addr, len);
    }
    Ok(0)
}

fn mincore<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let (addr, len, vec) = (a[0], page_up(a[1]), a[2]);
    if addr % PAGE_SIZE != 0 {
        return err(EINVAL);
    }
    if !p.m.mem.is_mapped(addr, len.max(1)) {
        return err(ENOMEM);
    }
    let pages = (len / PAGE_SIZE) as usize;
    p.m.mem.write_bytes(vec, &vec![1u8; pages])?;
    Ok(0)
}
