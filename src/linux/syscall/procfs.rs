//! Files under /proc/self that describe the process itself. The host's would describe deja
//! (its own mappings, its own host addresses), so deja makes them up from the guest's state
//! and serves them from a memfd. They are deterministic (made from emulator-chosen state), and
//! the memfd is created and filled through the `World` like any host call, so record and
//! replay see the same fd and the same bytes.

use super::util::*;
use super::SysResult;
use crate::arch::Arch;
use crate::linux::layout::{STACK_SIZE, STACK_TOP};
use crate::linux::process::Process;
use crate::mem::flags;
use crate::world::HostCall;
use std::fmt::Write;

/// The contents deja makes up for `path` (NUL-terminated, after /proc/<pid> became
/// /proc/self), or None for a file the host serves.
pub fn synthetic<A: Arch>(p: &Process<A>, path: &[u8]) -> Option<Vec<u8>> {
    match path.strip_suffix(b"\0").unwrap_or(path) {
        b"/proc/self/maps" | b"/proc/thread-self/maps" => Some(maps(p).into_bytes()),
        _ => None,
    }
}

/// The guest's mappings in the kernel's /proc/PID/maps format. Names: the executable for the
/// loaded image, [heap] for the program break, [stack] for the main stack.
fn maps<A: Arch>(p: &Process<A>) -> String {
    use std::os::unix::ffi::OsStrExt;
    let exe = String::from_utf8_lossy(p.exe.as_os_str().as_bytes()).into_owned();
    let (img_lo, img_hi) = p.image;
    let heap_end = p.brk.next_multiple_of(4096);
    // Ranges of one protection may run from the image into the heap: split them where the
    // kernel would have separate mappings.
    let mut cuts = [img_lo, img_hi, p.brk_start, heap_end, STACK_TOP - STACK_SIZE, STACK_TOP];
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    for (mut start, end, prot) in p.m.mem.mapped_ranges() {
        for c in cuts {
            if c > start && c < end {
                pieces.push((start, c, prot));
                start = c;
            }
        }
        pieces.push((start, end, prot));
    }
    let mut s = String::new();
    for (start, end, prot) in pieces {
        let name = if start >= img_lo && end <= img_hi {
            exe.as_str()
        } else if start >= p.brk_start && end <= heap_end && p.brk > p.brk_start {
            "[heap]"
        } else if start >= STACK_TOP - STACK_SIZE && end <= STACK_TOP {
            "[stack]"
        } else {
            ""
        };
        let perm = |bit: u8, c: char| if prot & bit != 0 { c } else { '-' };
        let line = format!(
            "{start:08x}-{end:08x} {}{}{}p 00000000 00:00 0",
            perm(flags::R, 'r'),
            perm(flags::W, 'w'),
            perm(flags::X, 'x')
        );
        if name.is_empty() {
            let _ = writeln!(s, "{line}");
        } else {
            // The kernel pads the pathname to column 73.
            let _ = writeln!(s, "{line:<72} {name}");
        }
    }
    s
}

/// An fd reading `text` from its start: a memfd created and filled through the world.
pub fn open_text<A: Arch>(p: &mut Process<A>, text: &[u8], cloexec: bool) -> SysResult {
    let name = b"deja-proc\0";
    let fd = simple(p, libc::SYS_memfd_create, [hp(name.as_ptr()), cloexec as u64, 0, 0, 0, 0])? as u64;
    let w = call(p, &HostCall::new(libc::SYS_pwrite64, [fd, hp(text.as_ptr()), text.len() as u64, 0, 0, 0]));
    if w != Ok(text.len() as i64) {
        let _ = simple(p, libc::SYS_close, [fd, 0, 0, 0, 0, 0]);
        return Err(super::SysErr::Errno(libc::ENOMEM));
    }
    Ok(fd as i64)
}
