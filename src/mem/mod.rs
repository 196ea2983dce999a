//! The guest address space: one linear host region (guest address = base + offset), with a
//! per-page flags byte that enforces guest permissions in software, tracks dirty pages for
//! checkpoints/snapshots and flags pages holding decoded/translated code so a write to them
//! invalidates it (design §6). One byte per page serves all three, so the fast path of a
//! load or store is a bounds check, one byte load and one test.
//!
//! The host region is mapped read-write once and never `mprotect`ed: guest permissions live
//! only in the flags, so the host can never fault on a guest access and a guest address can
//! never reach host memory outside the region.

mod region;

pub use region::Region;

/// Guest page size.
pub const PAGE_SIZE: u64 = 4096;
pub const PAGE_SHIFT: u32 = 12;

/// Page flag bits.
pub mod flags {
    /// Guest may read.
    pub const R: u8 = 1 << 0;
    /// Guest may write.
    pub const W: u8 = 1 << 1;
    /// Guest may execute.
    pub const X: u8 = 1 << 2;
    /// Page is mapped at all (a mapped page may still be PROT_NONE).
    pub const MAPPED: u8 = 1 << 3;
    /// Decoded or translated code was formed from this page.
    pub const CODE: u8 = 1 << 4;
    /// Written since dirty bits were last cleared.
    pub const DIRTY: u8 = 1 << 5;
    /// Fast-path write allowed: W set, CODE clear, DIRTY and SNAP already set. Any other
    /// state takes the slow path, which does the bookkeeping and then may set this bit.
    pub const FASTW: u8 = 1 << 6;
    /// Changed (written, mapped, unmapped or re-protected) since the last
    /// `take_snapshot_delta`: the second dirty bit, for the debugger's snapshots, so that
    /// snapshots and checkpoint digests each see every write although each clears its own bit.
    pub const SNAP: u8 = 1 << 7;
    pub const PROT_MASK: u8 = R | W | X;
}

/// The kind of access that faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Exec,
}

/// A guest memory fault: becomes a guest SIGSEGV with `si_addr = addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemFault {
    pub addr: u64,
    pub access: Access,
    /// True when the page is mapped but the access is not permitted (SEGV_ACCERR), false when
    /// nothing is mapped there (SEGV_MAPERR).
    pub mapped: bool,
}

/// The guest's memory.
pub struct Memory {
    region: Region,
    /// One flags byte per guest page; `pages.len() == size / PAGE_SIZE`.
    pages: Region,
    npages: u64,
    /// Guest pages holding code that were written since the engine last looked
    /// (`take_code_writes`). Non-empty means decode caches/translations must drop them.
    code_writes: Vec<u64>,
    /// Number of pages currently mapped, for peak-memory reporting and `--max-memory`.
    mapped_pages: u64,
    /// Pages whose DIRTY bit was set since the last `clear_dirty` (each listed once), so
    /// digests cost what was written, not the size of the address space.
    dirty_list: Vec<u64>,
    /// Pages whose SNAP bit was set since the last `take_snapshot_delta` (each listed once):
    /// the same for snapshots.
    snap_list: Vec<u64>,
}

// SAFETY: Memory owns its regions exclusively; raw pointers inside are not shared.
unsafe impl Send for Memory {}

impl Memory {
    /// Reserve a guest address space of `size` bytes (rounded to pages).
    pub fn new(size: u64) -> std::io::Result<Memory> {
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let npages = size / PAGE_SIZE;
        let region = Region::reserve(size as usize)?;
        let pages = Region::reserve(npages as usize)?;
        Ok(Memory {
            region,
            pages,
            npages,
            code_writes: Vec::new(),
            mapped_pages: 0,
            dirty_list: Vec::new(),
            snap_list: Vec::new(),
        })
    }

    /// Size of the guest address window in bytes: every guest address is below this.
    #[inline]
    pub fn size(&self) -> u64 {
        self.npages * PAGE_SIZE
    }

    /// Host address of guest address 0 (for the JIT's inline accesses).
    #[inline]
    pub fn host_base(&self) -> *mut u8 {
        self.region.ptr()
    }

    /// Host address of the page-flags table (for the JIT's inline checks).
    #[inline]
    pub fn flags_base(&self) -> *mut u8 {
        self.pages.ptr()
    }

    #[inline]
    fn flags_of(&self, page: u64) -> u8 {
        debug_assert!(page < self.npages);
        // SAFETY: page < npages and the flags region holds npages bytes.
        unsafe { *self.pages.ptr().add(page as usize) }
    }

    /// Set the flags of `page` to `f` (which includes DIRTY) plus SNAP, listing the page as
    /// dirty (for digests) and changed (for snapshots) where it was not already.
    #[inline]
    fn set_flags_dirty(&mut self, page: u64, f: u8) {
        debug_assert!(f & flags::DIRTY != 0);
        let old = self.flags_of(page);
        if old & flags::DIRTY == 0 {
            self.dirty_list.push(page);
        }
        if old & flags::SNAP == 0 {
            self.snap_list.push(page);
        }
        *self.flags_mut(page) = f | flags::SNAP;
    }

    /// List `page` as changed for snapshots (a change digests do not see: protection).
    #[inline]
    fn note_snap(&mut self, page: u64) {
        let f = self.flags_mut(page);
        if *f & flags::SNAP == 0 {
            *f |= flags::SNAP;
            self.snap_list.push(page);
        }
    }

    #[inline]
    fn flags_mut(&mut self, page: u64) -> &mut u8 {
        debug_assert!(page < self.npages);
        // SAFETY: as in flags_of; &mut self gives exclusive access.
        unsafe { &mut *self.pages.ptr().add(page as usize) }
    }

    /// Flags of the page holding `addr` (0 when outside the window).
    pub fn page_flags(&self, addr: u64) -> u8 {
        let page = addr >> PAGE_SHIFT;
        if page < self.npages {
            self.flags_of(page)
        } else {
            0
        }
    }

    pub fn mapped_bytes(&self) -> u64 {
        self.mapped_pages * PAGE_SIZE
    }

    // ---- mapping management (used by the platform: loader, mmap, brk, mprotect) ----

    fn check_range(&self, addr: u64, len: u64) -> bool {
        addr.is_multiple_of(PAGE_SIZE)
            && len.is_multiple_of(PAGE_SIZE)
            && addr.checked_add(len).is_some_and(|e| e <= self.size())
    }

    /// Map `[addr, addr+len)` with `prot` (flags::R|W|X), zero-filled. Page aligned; returns
    /// false if the range is outside the window.
    pub fn map(&mut self, addr: u64, len: u64, prot: u8) -> bool {
        if !self.check_range(addr, len) {
            return false;
        }
        self.unmap(addr, len);
        for p in addr / PAGE_SIZE..(addr + len) / PAGE_SIZE {
            self.set_flags_dirty(p, flags::MAPPED | (prot & flags::PROT_MASK) | flags::DIRTY);
            self.mapped_pages += 1;
        }
        true
    }

    /// Unmap (and zero) a page-aligned range. Unmapped pages inside it are ignored.
    pub fn unmap(&mut self, addr: u64, len: u64) -> bool {
        if !self.check_range(addr, len) {
            return false;
        }
        let mut touched = false;
        for p in addr / PAGE_SIZE..(addr + len) / PAGE_SIZE {
            let f = self.flags_of(p);
            if f & flags::MAPPED != 0 {
                if f & flags::CODE != 0 {
                    self.code_writes.push(p * PAGE_SIZE);
                }
                self.set_flags_dirty(p, flags::DIRTY);
                self.mapped_pages -= 1;
                touched = true;
            }
        }
        if touched {
            self.region.discard(addr as usize, len as usize);
        }
        true
    }

    /// Change the protection of mapped pages; returns false if any page is unmapped (ENOMEM).
    pub fn protect(&mut self, addr: u64, len: u64, prot: u8) -> bool {
        if !self.check_range(addr, len) {
            return false;
        }
        let (first, last) = (addr / PAGE_SIZE, (addr + len) / PAGE_SIZE);
        if (first..last).any(|p| self.flags_of(p) & flags::MAPPED == 0) {
            return false;
        }
        for p in first..last {
            let f = self.flags_mut(p);
            let new = (*f & !(flags::PROT_MASK | flags::FASTW)) | (prot & flags::PROT_MASK);
            let changed = (*f ^ new) & flags::PROT_MASK != 0;
            *f = new;
            if changed {
                self.note_snap(p);
            }
        }
        true
    }

    /// Is every page of `[addr, addr+len)` unmapped (and inside the window)?
    pub fn is_free(&self, addr: u64, len: u64) -> bool {
        self.check_range(addr, len)
            && (addr / PAGE_SIZE..(addr + len) / PAGE_SIZE).all(|p| self.flags_of(p) & flags::MAPPED == 0)
    }

    /// Is every page of the range mapped?
    pub fn is_mapped(&self, addr: u64, len: u64) -> bool {
        let start = addr & !(PAGE_SIZE - 1);
        let Some(end) = addr.checked_add(len) else { return false };
        let end = end.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        end <= self.size() && (start / PAGE_SIZE..end / PAGE_SIZE).all(|p| self.flags_of(p) & flags::MAPPED != 0)
    }

    // ---- code tracking (decode cache / JIT invalidation) ----

    /// Mark the page holding `addr` as holding decoded code.
    pub fn mark_code(&mut self, addr: u64) {
        let page = addr >> PAGE_SHIFT;
        if page < self.npages {
            let f = self.flags_mut(page);
            *f = (*f | flags::CODE) & !flags::FASTW;
        }
    }

    /// Pages (guest addresses) holding code that were written or unmapped since the last call.
    #[inline]
    pub fn has_code_writes(&self) -> bool {
        !self.code_writes.is_empty()
    }

    pub fn take_code_writes(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.code_writes)
    }

    // ---- dirty tracking (checkpoint digests, snapshots) ----

    /// Guest addresses of pages written, mapped or unmapped since the last `clear_dirty`, in
    /// ascending order.
    pub fn dirty_pages(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.dirty_list.iter().map(|p| p * PAGE_SIZE).collect();
        v.sort_unstable();
        v
    }

    pub fn clear_dirty(&mut self) {
        for i in 0..self.dirty_list.len() {
            let p = self.dirty_list[i];
            *self.flags_mut(p) &= !(flags::DIRTY | flags::FASTW);
        }
        self.dirty_list.clear();
    }

    // ---- snapshot deltas (the debugger's snapshots; independent of `clear_dirty`) ----

    /// Page numbers (guest address >> PAGE_SHIFT) changed since the last
    /// `take_snapshot_delta`: written, mapped, unmapped, re-protected or restored. Unsorted.
    pub fn snapshot_pending(&self) -> &[u64] {
        &self.snap_list
    }

    /// Take the pages changed since the previous call (page numbers, unsorted) and start a new
    /// delta. Independent of `clear_dirty`: a page written once is reported by both.
    pub fn take_snapshot_delta(&mut self) -> Vec<u64> {
        for i in 0..self.snap_list.len() {
            let p = self.snap_list[i];
            *self.flags_mut(p) &= !(flags::SNAP | flags::FASTW);
        }
        std::mem::take(&mut self.snap_list)
    }

    /// What a snapshot records of page number `page`: its protection and contents, or None
    /// when it is not mapped.
    pub fn page_state(&self, page: u64) -> Option<(u8, &[u8])> {
        if page >= self.npages || self.flags_of(page) & flags::MAPPED == 0 {
            return None;
        }
        let f = self.flags_of(page);
        if f & flags::MAPPED == 0 {
            return None;
        }
        // SAFETY: the page is inside the window (page_flags returned MAPPED).
        let bytes = unsafe { std::slice::from_raw_parts(self.host(page << PAGE_SHIFT), PAGE_SIZE as usize) };
        Some((f & flags::PROT_MASK, bytes))
    }

    /// Put page number `page` back into a state `page_state` returned (a snapshot restore):
    /// mapped with `prot` and these contents, or unmapped (and zeroed). Like any change it is
    /// listed dirty (digests rehash it) and changed (snapshots), and code decoded from it is
    /// invalidated. Does nothing when the page is already in that state; returns whether it
    /// changed anything.
    pub fn restore_page(&mut self, page: u64, state: Option<(u8, &[u8])>) -> bool {
        if page >= self.npages {
            return false;
        }
        if self.page_state(page) == state {
            return false;
        }
        let f = self.flags_of(page);
        if f & flags::CODE != 0 {
            self.code_writes.push(page << PAGE_SHIFT);
        }
        let host = self.host(page << PAGE_SHIFT);
        match state {
            Some((prot, bytes)) => {
                assert_eq!(bytes.len(), PAGE_SIZE as usize, "restore_page needs a whole page");
                if f & flags::MAPPED == 0 {
                    self.mapped_pages += 1;
                }
                // SAFETY: the page is inside the window; `bytes` is a distinct host buffer.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), host, PAGE_SIZE as usize) };
                self.set_flags_dirty(page, flags::MAPPED | (prot & flags::PROT_MASK) | flags::DIRTY);
            }
            None => {
                if f & flags::MAPPED != 0 {
                    self.mapped_pages -= 1;
                }
                // SAFETY: the page is inside the window. Zeroed, as a fresh mapping must read.
                unsafe { std::ptr::write_bytes(host, 0, PAGE_SIZE as usize) };
                self.set_flags_dirty(page, flags::DIRTY);
            }
        }
        true
    }

    // ---- guest accesses ----

    #[cold]
    fn fault(&self, addr: u64, access: Access) -> MemFault {
        let page = addr >> PAGE_SHIFT;
        let mapped = page < self.npages && self.flags_of(page) & flags::MAPPED != 0;
        MemFault { addr, access, mapped }
    }

    /// Check that `[addr, addr+len)` allows `need` on every page; returns the first bad byte.
    fn check_slow(&self, addr: u64, len: u64, need: u8, access: Access) -> Result<(), MemFault> {
        if len == 0 {
            return Ok(());
        }
        let Some(last) = addr.checked_add(len - 1) else {
            return Err(self.fault(addr, access));
        };
        let mut page = addr >> PAGE_SHIFT;
        while page <= last >> PAGE_SHIFT {
            if page >= self.npages || self.flags_of(page) & need != need {
                let bad = (page << PAGE_SHIFT).max(addr);
                return Err(self.fault(bad, access));
            }
            page += 1;
        }
        Ok(())
    }

    /// Bookkeeping for a permitted write to `[addr, addr+len)`: dirty bits, code invalidation,
    /// and re-arming the fast path.
    #[cold]
    fn note_write(&mut self, addr: u64, len: u64) {
        let last = addr + len.max(1) - 1;
        for page in addr >> PAGE_SHIFT..=last >> PAGE_SHIFT {
            let f = *self.flags_mut(page);
            if f & flags::CODE != 0 {
                self.code_writes.push(page << PAGE_SHIFT);
            }
            self.set_flags_dirty(page, (f & !flags::CODE) | flags::DIRTY | flags::FASTW);
        }
    }

    /// Host pointer for a checked guest range.
    #[inline]
    fn host(&self, addr: u64) -> *mut u8 {
        // SAFETY: callers have checked addr..addr+len lies inside the window.
        unsafe { self.region.ptr().add(addr as usize) }
    }

    #[inline]
    fn check_read(&self, addr: u64, len: u64) -> Result<(), MemFault> {
        let page = addr >> PAGE_SHIFT;
        if page < self.npages && (addr & (PAGE_SIZE - 1)) <= PAGE_SIZE - len && self.flags_of(page) & flags::R != 0 {
            return Ok(());
        }
        self.check_slow(addr, len, flags::R, Access::Read)
    }

    #[inline]
    fn check_write(&mut self, addr: u64, len: u64) -> Result<(), MemFault> {
        let page = addr >> PAGE_SHIFT;
        if page < self.npages && (addr & (PAGE_SIZE - 1)) <= PAGE_SIZE - len && self.flags_of(page) & flags::FASTW != 0
        {
            return Ok(());
        }
        self.check_slow(addr, len, flags::W, Access::Write)?;
        self.note_write(addr, len);
        Ok(())
    }

    /// Read `N` bytes as a little-endian value; N ≤ 16.
    #[inline]
    pub fn read<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemFault> {
        self.check_read(addr, N as u64)?;
        // SAFETY: checked above: the N bytes are inside the window.
        Ok(unsafe { std::ptr::read_unaligned(self.host(addr) as *const [u8; N]) })
    }

    #[inline]
    pub fn write<const N: usize>(&mut self, addr: u64, v: [u8; N]) -> Result<(), MemFault> {
        self.check_write(addr, N as u64)?;
        // SAFETY: checked above.
        unsafe { std::ptr::write_unaligned(self.host(addr) as *mut [u8; N], v) };
        Ok(())
    }

    #[inline]
    pub fn read_u8(&self, addr: u64) -> Result<u8, MemFault> {
        Ok(self.read::<1>(addr)?[0])
    }
    #[inline]
    pub fn read_u16(&self, addr: u64) -> Result<u16, MemFault> {
        Ok(u16::from_le_bytes(self.read(addr)?))
    }
    #[inline]
    pub fn read_u32(&self, addr: u64) -> Result<u32, MemFault> {
        Ok(u32::from_le_bytes(self.read(addr)?))
    }
    #[inline]
    pub fn read_u64(&self, addr: u64) -> Result<u64, MemFault> {
        Ok(u64::from_le_bytes(self.read(addr)?))
    }
    #[inline]
    pub fn read_u128(&self, addr: u64) -> Result<u128, MemFault> {
        Ok(u128::from_le_bytes(self.read(addr)?))
    }
    #[inline]
    pub fn write_u8(&mut self, addr: u64, v: u8) -> Result<(), MemFault> {
        self.write(addr, [v])
    }
    #[inline]
    pub fn write_u16(&mut self, addr: u64, v: u16) -> Result<(), MemFault> {
        self.write(addr, v.to_le_bytes())
    }
    #[inline]
    pub fn write_u32(&mut self, addr: u64, v: u32) -> Result<(), MemFault> {
        self.write(addr, v.to_le_bytes())
    }
    #[inline]
    pub fn write_u64(&mut self, addr: u64, v: u64) -> Result<(), MemFault> {
        self.write(addr, v.to_le_bytes())
    }
    #[inline]
    pub fn write_u128(&mut self, addr: u64, v: u128) -> Result<(), MemFault> {
        self.write(addr, v.to_le_bytes())
    }

    /// Read a value of `size` bytes (1, 2, 4 or 8), zero-extended.
    #[inline]
    pub fn read_sized(&self, addr: u64, size: u32) -> Result<u64, MemFault> {
        Ok(match size {
            1 => self.read_u8(addr)? as u64,
            2 => self.read_u16(addr)? as u64,
            4 => self.read_u32(addr)? as u64,
            _ => self.read_u64(addr)?,
        })
    }

    /// Write the low `size` bytes (1, 2, 4 or 8) of `v`.
    #[inline]
    pub fn write_sized(&mut self, addr: u64, size: u32, v: u64) -> Result<(), MemFault> {
        match size {
            1 => self.write_u8(addr, v as u8),
            2 => self.write_u16(addr, v as u16),
            4 => self.write_u32(addr, v as u32),
            _ => self.write_u64(addr, v),
        }
    }

    /// Copy guest bytes out; faults at the first inaccessible byte.
    pub fn read_bytes(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        self.check_slow(addr, buf.len() as u64, flags::R, Access::Read)?;
        // SAFETY: checked range; buf is a distinct host buffer.
        unsafe { std::ptr::copy_nonoverlapping(self.host(addr), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copy bytes into guest memory; on a fault nothing is written.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), MemFault> {
        self.check_slow(addr, data.len() as u64, flags::W, Access::Write)?;
        if !data.is_empty() {
            self.note_write(addr, data.len() as u64);
        }
        // SAFETY: checked range.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.host(addr), data.len()) };
        Ok(())
    }

    /// Read a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, MemFault> {
        let mut out = Vec::new();
        let mut a = addr;
        while out.len() < max {
            let b = self.read_u8(a)?;
            if b == 0 {
                return Ok(out);
            }
            out.push(b);
            a += 1;
        }
        Ok(out)
    }

    /// Fetch up to `buf.len()` executable bytes at `addr` for the decoder; returns how many
    /// were fetchable (stops at the first non-executable page).
    pub fn fetch(&self, addr: u64, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let a = addr.wrapping_add(n as u64);
            let page = a >> PAGE_SHIFT;
            if page >= self.npages || self.flags_of(page) & flags::X == 0 {
                break;
            }
            let room = (PAGE_SIZE - (a & (PAGE_SIZE - 1))) as usize;
            let k = room.min(buf.len() - n);
            // SAFETY: the page is inside the window.
            unsafe { std::ptr::copy_nonoverlapping(self.host(a), buf[n..].as_mut_ptr(), k) };
            n += k;
        }
        n
    }

    /// A host slice over a checked, readable guest range (for host syscalls that read guest
    /// buffers, e.g. write(2)).
    pub fn slice(&self, addr: u64, len: u64) -> Result<&[u8], MemFault> {
        self.check_slow(addr, len, flags::R, Access::Read)?;
        // SAFETY: checked range; the borrow of self keeps it alive and unmodified.
        Ok(unsafe { std::slice::from_raw_parts(self.host(addr), len as usize) })
    }

    /// A mutable host slice over a checked, writable guest range; marks it written.
    pub fn slice_mut(&mut self, addr: u64, len: u64) -> Result<&mut [u8], MemFault> {
        self.check_slow(addr, len, flags::W, Access::Write)?;
        if len > 0 {
            self.note_write(addr, len);
        }
        // SAFETY: checked range; &mut self gives exclusive access.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.host(addr), len as usize) })
    }

    /// Raw host view of a page regardless of permissions (digests, snapshots, debugger).
    pub fn page_bytes(&self, page_addr: u64) -> Option<&[u8]> {
        let page = page_addr >> PAGE_SHIFT;
        if page >= self.npages || self.flags_of(page) & flags::MAPPED == 0 {
            return None;
        }
        // SAFETY: page inside the window.
        Some(unsafe { std::slice::from_raw_parts(self.host(page << PAGE_SHIFT), PAGE_SIZE as usize) })
    }

    /// Write ignoring guest permissions (loader, debugger). The pages must be mapped.
    pub fn poke(&mut self, addr: u64, data: &[u8]) -> Result<(), MemFault> {
        self.check_slow(addr, data.len() as u64, flags::MAPPED, Access::Write)?;
        if !data.is_empty() {
            self.note_write(addr, data.len() as u64);
            // note_write re-arms FASTW; only keep it where the guest may write.
            let last = addr + data.len() as u64 - 1;
            for page in addr >> PAGE_SHIFT..=last >> PAGE_SHIFT {
                let f = self.flags_mut(page);
                if *f & flags::W == 0 {
                    *f &= !flags::FASTW;
                }
            }
        }
        // SAFETY: checked range.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.host(addr), data.len()) };
        Ok(())
    }

    /// Read ignoring guest permissions (debugger, signal delivery diagnostics).
    pub fn peek(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        self.check_slow(addr, buf.len() as u64, flags::MAPPED, Access::Read)?;
        // SAFETY: checked range.
        unsafe { std::ptr::copy_nonoverlapping(self.host(addr), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
}

impl Memory {
    /// Zero the mapped pages of a page-aligned range, keeping mappings and permissions
    /// (madvise(MADV_DONTNEED) on private anonymous memory).
    pub fn zero_range(&mut self, addr: u64, len: u64) -> bool {
        if !self.check_range(addr, len) {
            return false;
        }
        for p in addr / PAGE_SIZE..(addr + len) / PAGE_SIZE {
            let f = self.flags_of(p);
            if f & flags::MAPPED != 0 {
                if f & flags::CODE != 0 {
                    self.code_writes.push(p * PAGE_SIZE);
                }
                self.set_flags_dirty(p, (f & !(flags::CODE | flags::FASTW)) | flags::DIRTY);
            }
        }
        self.region.discard(addr as usize, len as usize);
        true
    }

    /// Protection bits (flags::R|W|X) of the page holding `addr`, or None if unmapped.
    pub fn prot_of(&self, addr: u64) -> Option<u8> {
        let f = self.page_flags(addr);
        (f & flags::MAPPED != 0).then_some(f & flags::PROT_MASK)
    }

    /// Every mapped range as `(start, end, prot)`, ascending, neighbouring pages with the same
    /// protection merged (what /proc/self/maps lists). Skips unmapped space eight pages at a
    /// time, so a scan of the whole window costs milliseconds.
    pub fn mapped_ranges(&self) -> Vec<(u64, u64, u8)> {
        let mut out: Vec<(u64, u64, u8)> = Vec::new();
        let mut page = 0;
        while page < self.npages {
            if page % 8 == 0 && page + 8 <= self.npages {
                // SAFETY: page + 8 <= npages, inside the flags region.
                let word = unsafe { (self.pages.ptr().add(page as usize) as *const u64).read_unaligned() };
                if word & u64::from_ne_bytes([flags::MAPPED; 8]) == 0 {
                    page += 8;
                    continue;
                }
            }
            let f = self.flags_of(page);
            if f & flags::MAPPED != 0 {
                let (start, prot) = (page * PAGE_SIZE, f & flags::PROT_MASK);
                match out.last_mut() {
                    Some(last) if last.1 == start && last.2 == prot => last.1 += PAGE_SIZE,
                    _ => out.push((start, start + PAGE_SIZE, prot)),
                }
            }
            page += 1;
        }
        out
    }

    /// The highest mapped page inside `[lo, hi)` (page aligned), if any.
    pub fn highest_mapped(&self, lo: u64, hi: u64) -> Option<u64> {
        let hi = hi.min(self.size());
        let mut p = hi / PAGE_SIZE;
        while p > lo / PAGE_SIZE {
            p -= 1;
            if self.flags_of(p) & flags::MAPPED != 0 {
                return Some(p * PAGE_SIZE);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_enforced() {
        let mut m = Memory::new(1 << 24).unwrap();
        assert!(m.map(0x1000, 0x2000, flags::R));
        assert_eq!(m.read_u64(0x1000).unwrap(), 0);
        assert!(m.write_u64(0x1000, 1).is_err());
        assert!(m.read_u8(0x3000).is_err());
        assert!(m.protect(0x1000, 0x1000, flags::R | flags::W));
        m.write_u64(0x1ffc, 0x1122334455667788).unwrap_err(); // crosses into read-only page
        m.write_u32(0x1ffc, 0xdeadbeef).unwrap();
        assert_eq!(m.read_u32(0x1ffc).unwrap(), 0xdeadbeef);
        assert!(m.read_u8(1 << 24).is_err());
        assert!(m.read_u64(u64::MAX - 3).is_err());
    }

    #[test]
    fn cross_page_fault_names_first_bad_byte() {
        let mut m = Memory::new(1 << 24).unwrap();
        m.map(0x1000, 0x1000, flags::R | flags::W);
        let f = m.read_u64(0x1ffc).unwrap_err();
        assert_eq!(f.addr, 0x2000);
        assert!(!f.mapped);
    }

    #[test]
    fn code_write_is_reported() {
        let mut m = Memory::new(1 << 24).unwrap();
        m.map(0x1000, 0x1000, flags::R | flags::W | flags::X);
        m.write_u8(0x1000, 1).unwrap();
        m.mark_code(0x1000);
        assert!(!m.has_code_writes());
        m.write_u8(0x1004, 2).unwrap();
        assert_eq!(m.take_code_writes(), vec![0x1000]);
        m.write_u8(0x1005, 2).unwrap();
        assert!(!m.has_code_writes());
    }

    #[test]
    fn dirty_tracking() {
        let mut m = Memory::new(1 << 24).unwrap();
        m.map(0x1000, 0x3000, flags::R | flags::W);
        m.clear_dirty();
        m.write_u8(0x2001, 1).unwrap();
        assert_eq!(m.dirty_pages(), vec![0x2000]);
        m.clear_dirty();
        m.write_u8(0x2002, 1).unwrap();
        assert_eq!(m.dirty_pages(), vec![0x2000]);
    }

    #[test]
    fn snapshot_delta_and_digest_dirty_coexist() {
        let mut m = Memory::new(1 << 24).unwrap();
        m.map(0x1000, 0x3000, flags::R | flags::W);
        let mut d = m.take_snapshot_delta();
        d.sort_unstable();
        assert_eq!(d, vec![1, 2, 3]);
        m.clear_dirty();
        m.write_u8(0x2001, 1).unwrap();
        // The digest consumer clears its bit; the snapshot consumer still sees the write.
        assert_eq!(m.dirty_pages(), vec![0x2000]);
        m.clear_dirty();
        m.write_u8(0x2002, 1).unwrap(); // dirty again for the digest
        assert_eq!(m.dirty_pages(), vec![0x2000]);
        assert_eq!(m.take_snapshot_delta(), vec![2]);
        // After a snapshot delta, a write to a page still dirty for digests is seen again.
        m.write_u8(0x2003, 1).unwrap();
        assert_eq!(m.snapshot_pending(), &[2]);
        assert_eq!(m.dirty_pages(), vec![0x2000]);
        // And both lists see later writes exactly once.
        m.write_u8(0x2004, 1).unwrap();
        assert_eq!(m.snapshot_pending(), &[2]);
        // Protection changes are snapshot changes, not digest changes.
        m.clear_dirty();
        m.take_snapshot_delta();
        assert!(m.protect(0x3000, 0x1000, flags::R));
        assert_eq!(m.snapshot_pending(), &[3]);
        assert!(m.dirty_pages().is_empty());
    }

    #[test]
    fn restore_page_round_trip() {
        let mut m = Memory::new(1 << 24).unwrap();
        m.map(0x1000, 0x2000, flags::R | flags::W);
        m.write_u64(0x1008, 7).unwrap();
        let saved: Vec<u8> = m.page_state(1).unwrap().1.to_vec();
        m.write_u64(0x1008, 9).unwrap();
        m.unmap(0x2000, 0x1000);
        m.clear_dirty();
        m.take_snapshot_delta();
        assert!(m.restore_page(1, Some((flags::R | flags::W, &saved))));
        assert!(m.restore_page(2, Some((flags::R, &[0u8; 4096]))));
        assert!(!m.restore_page(1, Some((flags::R | flags::W, &saved))));
        assert_eq!(m.read_u64(0x1008).unwrap(), 7);
        assert!(m.write_u8(0x2000, 1).is_err());
        assert_eq!(m.mapped_bytes(), 0x2000);
        assert_eq!(m.dirty_pages(), vec![0x1000, 0x2000]);
        assert!(m.restore_page(2, None));
        assert_eq!(m.mapped_bytes(), 0x1000);
        assert!(m.read_u8(0x2000).is_err());
        // Writes after a restore take the slow path again and are listed.
        m.take_snapshot_delta();
        m.write_u8(0x1000, 1).unwrap();
        assert_eq!(m.snapshot_pending(), &[1]);
    }
}
