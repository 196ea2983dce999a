//! The guest ABI's data layouts and flag values where they differ from the host's.
//!
//! deja runs on an x86-64 host: syscalls made on the guest's behalf use the host kernel's
//! structures and flag bits. Most of the Linux user ABI is the same on x86-64 and arm64 (both
//! 64-bit, little-endian, mostly asm-generic), so those structures go straight between the
//! host kernel and guest memory. This module names the exceptions, per guest ABI:
//!
//! | what | x86-64 | arm64 |
//! | --- | --- | --- |
//! | `struct stat` (fstat, newfstatat) | 144 bytes, `st_nlink` is 64-bit and third | asm-generic, 128 bytes, `st_nlink` 32-bit after `st_mode` |
//! | `O_DIRECTORY O_NOFOLLOW O_DIRECT O_LARGEFILE` | `0200000 0400000 040000 0100000` | `040000 0100000 0200000 0400000` |
//! | `MINSIGSTKSZ` (sigaltstack's minimum) | 2048 | 5120 |
//! | signal frame | `signal_frame.rs` | `signal_frame_a64.rs` |
//!
//! Checked to be the same (so passed through unchanged): `statfs`, `statx`, `rlimit`,
//! `rusage`, `sysinfo`, `utsname` (but see `uname`'s machine), `timespec`/`timeval`,
//! `linux_dirent64`, `iovec`, kernel `termios` and the tty ioctl numbers, `flock`,
//! `kernel_sigaction` (handler, flags, restorer, mask; arm64 has SA_RESTORER), `sigset_t`
//! (8 bytes), `stack_t`, `siginfo_t`, `pollfd`, `fd_set`, signal numbers, `sa_flags`, errno
//! values, `mmap`/`mprotect` flags, `AT_*` flags, `F_*` fcntl commands. `epoll_event` is packed
//! (12 bytes) only on x86-64, but deja implements no epoll syscall yet; the old `getdents`,
//! `stat`, `lstat`, `open`… do not exist on arm64 (the syscall numbering leaves them out).

/// Which guest ABI a syscall handler serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    X86_64,
    Arm64,
}

/// Size of the host's (x86-64) `struct stat`.
pub const HOST_STAT_SIZE: usize = 144;

/// Open flags whose values differ between x86-64 and arm64 (arch/arm64/include/uapi/asm/fcntl.h).
mod oflag {
    pub const X86_DIRECT: u64 = 0o40000;
    pub const X86_LARGEFILE: u64 = 0o100000;
    pub const X86_DIRECTORY: u64 = 0o200000;
    pub const X86_NOFOLLOW: u64 = 0o400000;
    pub const ARM64_DIRECTORY: u64 = 0o40000;
    pub const ARM64_NOFOLLOW: u64 = 0o100000;
    pub const ARM64_DIRECT: u64 = 0o200000;
    pub const ARM64_LARGEFILE: u64 = 0o400000;
    /// (arm64 bit, x86-64 bit) pairs.
    pub const PAIRS: [(u64, u64); 4] = [
        (ARM64_DIRECTORY, X86_DIRECTORY),
        (ARM64_NOFOLLOW, X86_NOFOLLOW),
        (ARM64_DIRECT, X86_DIRECT),
        (ARM64_LARGEFILE, X86_LARGEFILE),
    ];
    pub const ALL: u64 = 0o740000;
}

// asm-generic `struct stat` (arm64) field offsets.
mod gstat {
    pub const DEV: usize = 0;
    pub const INO: usize = 8;
    pub const MODE: usize = 16;
    pub const NLINK: usize = 20;
    pub const UID: usize = 24;
    pub const GID: usize = 28;
    pub const RDEV: usize = 32;
    pub const SIZE: usize = 48;
    pub const BLKSIZE: usize = 56;
    pub const BLOCKS: usize = 64;
    /// st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec.
    pub const TIMES: usize = 72;
    pub const LEN: usize = 128;
}

// x86-64 `struct stat` field offsets.
mod xstat {
    pub const DEV: usize = 0;
    pub const INO: usize = 8;
    pub const NLINK: usize = 16;
    pub const MODE: usize = 24;
    pub const UID: usize = 28;
    pub const GID: usize = 32;
    pub const RDEV: usize = 40;
    pub const SIZE: usize = 48;
    pub const BLKSIZE: usize = 56;
    pub const BLOCKS: usize = 64;
    pub const TIMES: usize = 72;
}

fn get64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or_default())
}

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or_default())
}

impl Abi {
    /// Does the guest's `struct stat` have the host's layout (the kernel may write it
    /// straight into guest memory)?
    pub fn host_stat(self) -> bool {
        self == Abi::X86_64
    }

    /// Size of the guest's `struct stat`.
    pub fn stat_size(self) -> u64 {
        match self {
            Abi::X86_64 => HOST_STAT_SIZE as u64,
            Abi::Arm64 => gstat::LEN as u64,
        }
    }

    /// The guest's `struct stat` from the host's. Like the kernel's `cp_new_stat`, a value
    /// that does not fit the guest's field is EOVERFLOW (st_nlink is 32-bit on arm64); the
    /// padding fields are zero, as the kernel leaves them.
    pub fn stat_from_host(self, h: &[u8; HOST_STAT_SIZE]) -> Result<Vec<u8>, i32> {
        match self {
            Abi::X86_64 => Ok(h.to_vec()),
            Abi::Arm64 => {
                let mut g = vec![0u8; gstat::LEN];
                let nlink = get64(h, xstat::NLINK);
                if nlink > u32::MAX as u64 {
                    return Err(libc::EOVERFLOW);
                }
                let mut put = |off: usize, v: &[u8]| g[off..off + v.len()].copy_from_slice(v);
                put(gstat::DEV, &h[xstat::DEV..xstat::DEV + 8]);
                put(gstat::INO, &h[xstat::INO..xstat::INO + 8]);
                put(gstat::MODE, &h[xstat::MODE..xstat::MODE + 4]);
                put(gstat::NLINK, &(nlink as u32).to_le_bytes());
                put(gstat::UID, &h[xstat::UID..xstat::UID + 4]);
                put(gstat::GID, &h[xstat::GID..xstat::GID + 4]);
                put(gstat::RDEV, &h[xstat::RDEV..xstat::RDEV + 8]);
                put(gstat::SIZE, &h[xstat::SIZE..xstat::SIZE + 8]);
                // st_blksize is an int on arm64 (a long on x86-64): the kernel's value always fits.
                put(gstat::BLKSIZE, &get32(h, xstat::BLKSIZE).to_le_bytes());
                put(gstat::BLOCKS, &h[xstat::BLOCKS..xstat::BLOCKS + 8]);
                put(gstat::TIMES, &h[xstat::TIMES..xstat::TIMES + 48]);
                Ok(g)
            }
        }
    }

    /// open(2)/fcntl(F_SETFL)/pipe2 flags from the guest's values to the host's.
    pub fn open_flags_to_host(self, f: u64) -> u64 {
        match self {
            Abi::X86_64 => f,
            Abi::Arm64 => {
                oflag::PAIRS.iter().fold(f & !oflag::ALL, |acc, &(a, x)| acc | if f & a != 0 { x } else { 0 })
            }
        }
    }

    /// fcntl(F_GETFL) flags from the host's values to the guest's.
    pub fn open_flags_from_host(self, f: u64) -> u64 {
        match self {
            Abi::X86_64 => f,
            Abi::Arm64 => {
                oflag::PAIRS.iter().fold(f & !oflag::ALL, |acc, &(a, x)| acc | if f & x != 0 { a } else { 0 })
            }
        }
    }

    /// `MINSIGSTKSZ`: the smallest alternate signal stack sigaltstack accepts (the uapi
    /// constant the kernel checks against).
    pub fn minsigstksz(self) -> u64 {
        match self {
            Abi::X86_64 => 2048,
            Abi::Arm64 => 5120,
        }
    }

    /// AT_MINSIGSTKSZ: the stack one signal frame needs, as the kernel reports it. arm64
    /// (`minsigstksz_setup`): the rt_sigframe (4688 bytes with only the fpsimd and esr records
    /// deja writes, the frame being at least the full 4 KiB `__reserved`) + the 16-byte
    /// frame record + 16 bytes of alignment padding.
    pub fn at_minsigstksz(self) -> u64 {
        match self {
            Abi::X86_64 => 2048,
            Abi::Arm64 => 4688 + 16 + 16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_stat_offsets_match_libc() {
        use std::mem::offset_of;
        assert_eq!(std::mem::size_of::<libc::stat>(), HOST_STAT_SIZE);
        assert_eq!(offset_of!(libc::stat, st_dev), xstat::DEV);
        assert_eq!(offset_of!(libc::stat, st_ino), xstat::INO);
        assert_eq!(offset_of!(libc::stat, st_nlink), xstat::NLINK);
        assert_eq!(offset_of!(libc::stat, st_mode), xstat::MODE);
        assert_eq!(offset_of!(libc::stat, st_uid), xstat::UID);
        assert_eq!(offset_of!(libc::stat, st_gid), xstat::GID);
        assert_eq!(offset_of!(libc::stat, st_rdev), xstat::RDEV);
        assert_eq!(offset_of!(libc::stat, st_size), xstat::SIZE);
        assert_eq!(offset_of!(libc::stat, st_blksize), xstat::BLKSIZE);
        assert_eq!(offset_of!(libc::stat, st_blocks), xstat::BLOCKS);
        assert_eq!(offset_of!(libc::stat, st_atime), xstat::TIMES);
        assert_eq!(offset_of!(libc::stat, st_ctime_nsec), xstat::TIMES + 40);
    }

    /// asm-generic `struct stat` as arm64's glibc sees it (aarch64-linux-gnu
    /// bits/struct_stat.h, checked with offsetof under qemu-aarch64): dev 0, ino 8, mode 16,
    /// nlink 20, uid 24, gid 28, rdev 32, size 48, blksize 56, blocks 64, atim 72, mtim 88,
    /// ctim 104, size 128.
    #[test]
    fn arm64_stat_conversion() {
        // SAFETY: libc::stat is plain data; an all-zero value is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_dev = 0x0102_0304_0506_0708;
        st.st_ino = 0x1112_1314_1516_1718;
        st.st_nlink = 3;
        st.st_mode = 0o100644;
        st.st_uid = 1000;
        st.st_gid = 1001;
        st.st_rdev = 0x2122;
        st.st_size = 123_456_789;
        st.st_blksize = 4096;
        st.st_blocks = 242;
        st.st_atime = 1_000_000_000;
        st.st_atime_nsec = 1;
        st.st_mtime = 1_000_000_001;
        st.st_mtime_nsec = 2;
        st.st_ctime = 1_000_000_002;
        st.st_ctime_nsec = 3;
        let mut h = [0u8; HOST_STAT_SIZE];
        // SAFETY: copying the 144 bytes of a plain-data struct.
        unsafe { std::ptr::copy_nonoverlapping(&st as *const libc::stat as *const u8, h.as_mut_ptr(), HOST_STAT_SIZE) };
        let g = Abi::Arm64.stat_from_host(&h).unwrap();
        assert_eq!(g.len(), 128);
        assert_eq!(get64(&g, 0), 0x0102_0304_0506_0708);
        assert_eq!(get64(&g, 8), 0x1112_1314_1516_1718);
        assert_eq!(get32(&g, 16), 0o100644);
        assert_eq!(get32(&g, 20), 3);
        assert_eq!(get32(&g, 24), 1000);
        assert_eq!(get32(&g, 28), 1001);
        assert_eq!(get64(&g, 32), 0x2122);
        assert_eq!(get64(&g, 40), 0, "__pad1");
        assert_eq!(get64(&g, 48), 123_456_789);
        assert_eq!(get32(&g, 56), 4096);
        assert_eq!(get32(&g, 60), 0, "__pad2");
        assert_eq!(get64(&g, 64), 242);
        for (i, v) in [1_000_000_000u64, 1, 1_000_000_001, 2, 1_000_000_002, 3].into_iter().enumerate() {
            assert_eq!(get64(&g, 72 + 8 * i), v);
        }
        assert_eq!(&g[120..], &[0; 8]);
        // A link count beyond 32 bits does not fit.
        h[16..24].copy_from_slice(&(1u64 << 32).to_le_bytes());
        assert_eq!(Abi::Arm64.stat_from_host(&h), Err(libc::EOVERFLOW));
        assert_eq!(Abi::X86_64.stat_from_host(&h).unwrap(), h.to_vec());
    }

    #[test]
    fn open_flags() {
        // The x86-64 values are the host's own.
        assert_eq!(oflag::X86_DIRECTORY, libc::O_DIRECTORY as u64);
        assert_eq!(oflag::X86_NOFOLLOW, libc::O_NOFOLLOW as u64);
        assert_eq!(oflag::X86_DIRECT, libc::O_DIRECT as u64);
        assert_eq!(oflag::X86_LARGEFILE, 0o100000);
        let a = Abi::Arm64;
        let common = (libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_APPEND) as u64;
        assert_eq!(a.open_flags_to_host(common), common);
        // glibc's opendir: O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY (arm64 040000).
        assert_eq!(a.open_flags_to_host(common | 0o40000), common | libc::O_DIRECTORY as u64);
        assert_eq!(a.open_flags_to_host(0o100000), libc::O_NOFOLLOW as u64);
        assert_eq!(a.open_flags_to_host(0o200000), libc::O_DIRECT as u64);
        assert_eq!(a.open_flags_to_host(0o400000), 0o100000);
        // O_TMPFILE is __O_TMPFILE | O_DIRECTORY on both.
        assert_eq!(a.open_flags_to_host(0o20040000), libc::O_TMPFILE as u64);
        // F_GETFL of a file the host kernel opened with O_LARGEFILE forced.
        assert_eq!(a.open_flags_from_host(0o100002), 0o400002);
        for f in [0u64, 0o40000, 0o100000, 0o200000, 0o400000, 0o740000, 0o20040000 | 0o2000000] {
            assert_eq!(a.open_flags_from_host(a.open_flags_to_host(f)), f);
            assert_eq!(Abi::X86_64.open_flags_to_host(f), f);
        }
    }
}
