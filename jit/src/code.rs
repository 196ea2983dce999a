//! The executable code cache: one host mapping of fixed size that is never writable and
//! executable at once (W^X). Code is assembled elsewhere (position-independent, see
//! [`crate::emit`]) and copied in by [`CodeCache::install`], which makes the touched pages
//! writable, copies, and makes them read+execute again. When the cache is full the engine
//! flushes it ([`CodeCache::flush`]) and translates again from scratch.
//!
//! The first bytes hold the entry and exit trampolines, which survive flushes.

use crate::emit::{self, Guest};
use crate::Ctx;
use std::io;

const PAGE: usize = 4096;

/// The entry trampoline's signature.
type EnterFn = unsafe extern "sysv64" fn(*mut u8, *mut Ctx, *const u8) -> u32;

/// Executable memory for translated blocks.
pub struct CodeCache {
    ptr: *mut u8,
    cap: usize,
    /// Bytes in use, trampolines included.
    used: usize,
    /// Bytes the trampolines take (kept across flushes).
    reserved: usize,
    /// The entry trampoline: `extern "sysv64" fn(state, ctx, entry) -> u32`.
    enter: EnterFn,
    exit: usize,
    /// Times the cache was flushed because it was full.
    pub flushes: u64,
}

// SAFETY: the cache owns its mapping exclusively; the raw pointer is never shared.
unsafe impl Send for CodeCache {}

impl CodeCache {
    /// A cache of `cap` bytes (rounded up to pages, at least two pages) for code
    /// translated for `guest`.
    pub fn new(cap: usize, guest: &Guest) -> io::Result<CodeCache> {
        let cap = cap.max(2 * PAGE).div_ceil(PAGE) * PAGE;
        // SAFETY: a fresh private anonymous mapping; nothing else is affected. It starts
        // read+execute only (never writable and executable at once).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                cap,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let (code, exit_off) = emit::trampolines(guest);
        let mut c = CodeCache { ptr: p as *mut u8, cap, used: 0, reserved: 0, enter: dummy_enter, exit: 0, flushes: 0 };
        let at = c.install(&code).ok_or_else(|| io::Error::other("code cache too small for the trampolines"))?;
        // SAFETY: `at` is the start of the trampoline code just installed, whose entry point
        // follows the SysV ABI with this signature (see `emit::trampolines`).
        c.enter = unsafe { std::mem::transmute::<*const u8, EnterFn>(at) };
        c.exit = at as usize + exit_off;
        c.reserved = c.used;
        Ok(c)
    }

    /// Host address of the exit trampoline (what `Ctx::exit` must hold).
    pub fn exit_addr(&self) -> usize {
        self.exit
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Bytes used by translated code (trampolines excluded).
    pub fn used(&self) -> usize {
        self.used - self.reserved
    }

    /// Copy position-independent code into the cache (16-byte aligned); returns its host
    /// address, or `None` when it does not fit (flush, then install again).
    pub fn install(&mut self, code: &[u8]) -> Option<*const u8> {
        let start = self.used.next_multiple_of(16);
        let end = start.checked_add(code.len())?;
        if end > self.cap || code.is_empty() {
            return None;
        }
        let (p0, p1) = (start / PAGE * PAGE, end.div_ceil(PAGE) * PAGE);
        // SAFETY: [p0, p1) lies inside our mapping. The pages go read+write (not executable)
        // for the copy and back to read+execute after it: W^X. No translated code runs
        // meanwhile (translation happens in the dispatcher, outside translated code).
        unsafe {
            let base = self.ptr.add(p0) as *mut libc::c_void;
            if libc::mprotect(base, p1 - p0, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                return None;
            }
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.ptr.add(start), code.len());
            if libc::mprotect(base, p1 - p0, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                panic!("mprotect of the JIT code cache failed: {}", io::Error::last_os_error());
            }
        }
        self.used = end;
        // SAFETY: start < cap.
        Some(unsafe { self.ptr.add(start) })
    }

    /// Forget every translated block (the trampolines stay) and give its pages back to the
    /// host. The caller must drop every reference to translated code first.
    pub fn flush(&mut self) {
        let from = self.reserved.div_ceil(PAGE) * PAGE;
        if self.used > from {
            // SAFETY: the range lies inside our mapping; discarded pages read as zeros
            // (never executed: nothing refers to them any more).
            unsafe { libc::madvise(self.ptr.add(from) as *mut libc::c_void, self.used - from, libc::MADV_DONTNEED) };
        }
        self.used = self.reserved;
        self.flushes += 1;
    }

    /// Run translated code at `entry` until it exits; returns the exit status.
    ///
    /// # Safety
    /// `entry` must be the entry of a block installed in this cache since the last flush,
    /// `state` the guest state the code was translated for, and `ctx` filled in for this run
    /// (see [`Ctx`]); every pointer translated code dereferences must be valid.
    #[inline]
    pub unsafe fn enter(&self, state: *mut u8, ctx: *mut Ctx, entry: *const u8) -> u32 {
        (self.enter)(state, ctx, entry)
    }
}

unsafe extern "sysv64" fn dummy_enter(_: *mut u8, _: *mut Ctx, _: *const u8) -> u32 {
    unreachable!("the entry trampoline is installed in CodeCache::new")
}

impl Drop for CodeCache {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; no code runs from it any more.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.cap) };
    }
}
