//! A large anonymous host mapping, reserved without committing memory.

use std::io;

/// Anonymous read-write host memory of a fixed size. Pages cost nothing until touched.
pub struct Region {
    ptr: *mut u8,
    len: usize,
}

impl Region {
    pub fn reserve(len: usize) -> io::Result<Region> {
        let len = len.max(1);
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Region { ptr: p as *mut u8, len })
    }

    #[inline]
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Give `[off, off+len)` back to the host and make it read as zeros.
    pub fn discard(&mut self, off: usize, len: usize) {
        assert!(off.checked_add(len).is_some_and(|e| e <= self.len));
        // SAFETY: the range is inside our own mapping.
        unsafe { libc::madvise(self.ptr.add(off) as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what reserve mapped.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}
