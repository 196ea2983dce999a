//! Unit tests of the syscall layer against a fake `World`: what reaches the host (and what
//! must not), which buffers are declared as outputs, and that the guest sees exactly the
//! bytes the world produced (as replay will provide them).

use super::dispatch;
use crate::arch::Arch;
use crate::linux::arch_aarch64::Aarch64;
use crate::linux::arch_x86_64::X86_64;
use crate::linux::process::{Options, Process};
use crate::linux::sysno::Sys;
use crate::mem::{flags, Memory};
use crate::world::{HostCall, World};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// One host call as the fake world saw it.
#[derive(Debug, Clone)]
struct Seen {
    nr: i64,
    args: [u64; 6],
    /// (len, upto_ret) of each declared output.
    outs: Vec<(usize, bool)>,
    /// Bytes of the first pointer argument's pollfd array / fd set, when asked for.
    arg0: Vec<u8>,
}

/// Answers every call with `ret` and fills each declared output with `fill` (as much as
/// the call produced), like a replay would.
struct Fake {
    seen: Rc<RefCell<Vec<Seen>>>,
    ret: i64,
    fill: u8,
    /// Copy this many bytes from the host pointer in args[0] into `Seen::arg0`.
    peek0: usize,
}

impl World for Fake {
    fn syscall(&mut self, _icount: u64, call: &HostCall) -> i64 {
        let mut arg0 = vec![0u8; self.peek0];
        if self.peek0 > 0 {
            // SAFETY: tests set peek0 only for calls whose first argument is a host buffer
            // of at least that size.
            unsafe { std::ptr::copy_nonoverlapping(call.args[0] as *const u8, arg0.as_mut_ptr(), self.peek0) };
        }
        self.seen.borrow_mut().push(Seen {
            nr: call.nr,
            args: call.args,
            outs: call.outs.iter().map(|o| (o.len, o.upto_ret)).collect(),
            arg0,
        });
        for o in &call.outs {
            let n = HostCall::produced(o, self.ret);
            // SAFETY: the platform declared o.ptr..o.ptr+o.len as a live writable buffer.
            unsafe { std::ptr::write_bytes(o.ptr, self.fill, n) };
        }
        self.ret
    }
    fn tsc(&mut self, _icount: u64) -> u64 {
        0
    }
    fn random(&mut self, _icount: u64, buf: &mut [u8]) {
        buf.fill(self.fill);
    }
    fn pending_signal(&mut self, _icount: u64) -> Option<i32> {
        None
    }
}

const BUF: u64 = 0x10000;

fn process(ret: i64, fill: u8) -> (Process<X86_64>, Rc<RefCell<Vec<Seen>>>) {
    process_peek(ret, fill, 0)
}

fn process_peek(ret: i64, fill: u8, peek0: usize) -> (Process<X86_64>, Rc<RefCell<Vec<Seen>>>) {
    process_for(ret, fill, peek0)
}

fn process_a64(ret: i64, fill: u8) -> (Process<Aarch64>, Rc<RefCell<Vec<Seen>>>) {
    process_for(ret, fill, 0)
}

fn process_for<A: Arch>(ret: i64, fill: u8, peek0: usize) -> (Process<A>, Rc<RefCell<Vec<Seen>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut mem = Memory::new(1 << 24).unwrap();
    mem.map(BUF, 0x10000, flags::R | flags::W);
    mem.map(0x30000, 0x1000, flags::R);
    let world = Fake { seen: seen.clone(), ret, fill, peek0 };
    let p = Process::new(mem, Box::new(world), PathBuf::from("/opt/guest/prog"), Options::default());
    (p, seen)
}

fn sys<A: Arch>(p: &mut Process<A>, s: Sys, args: [u64; 6]) -> i64 {
    match dispatch(p, A::sys_nr(s).expect("syscall exists on this ISA"), args) {
        Ok(v) => v,
        Err(super::SysErr::Errno(e)) => -(e as i64),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

fn cstr<A: Arch>(p: &mut Process<A>, addr: u64, s: &str) {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    p.m.mem.write_bytes(addr, &b).unwrap();
}

#[test]
fn read_output_is_exactly_what_the_world_produced() {
    let (mut p, seen) = process(5, b'A');
    let r = sys(&mut p, Sys::Read, [0, BUF, 100, 0, 0, 0]);
    assert_eq!(r, 5);
    let mut b = [0u8; 6];
    p.m.mem.read_bytes(BUF, &mut b).unwrap();
    assert_eq!(&b, b"AAAAA\0");
    let s = &seen.borrow()[0];
    assert_eq!(s.nr, libc::SYS_read);
    assert_eq!(s.outs, vec![(100, true)]);
}

#[test]
fn read_into_partly_mapped_buffer_reads_the_prefix() {
    let (mut p, seen) = process(0, 0);
    // BUF..BUF+0x10000 is writable, the page after it is not mapped.
    assert_eq!(sys(&mut p, Sys::Read, [0, BUF + 0xff00, 0x1000, 0, 0, 0]), 0);
    assert_eq!(seen.borrow()[0].args[2], 0x100);
    // Nothing writable at all: EFAULT, and the host is not asked.
    assert_eq!(sys(&mut p, Sys::Read, [0, 0x30000, 16, 0, 0, 0]), -libc::EFAULT as i64);
    assert_eq!(sys(&mut p, Sys::Read, [0, 8, 16, 0, 0, 0]), -libc::EFAULT as i64);
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn struct_outputs_are_declared() {
    let (mut p, seen) = process(0, 0x5a);
    assert_eq!(sys(&mut p, Sys::ClockGettime, [1, BUF, 0, 0, 0, 0]), 0);
    assert_eq!(p.m.mem.read_u64(BUF).unwrap(), 0x5a5a_5a5a_5a5a_5a5a);
    assert_eq!(p.m.mem.read_u64(BUF + 8).unwrap(), 0x5a5a_5a5a_5a5a_5a5a);
    assert_eq!(p.m.mem.read_u8(BUF + 16).unwrap(), 0);
    assert_eq!(sys(&mut p, Sys::Fstat, [3, BUF + 0x100, 0, 0, 0, 0]), 0);
    cstr(&mut p, BUF + 0x1000, "/x");
    assert_eq!(sys(&mut p, Sys::Statx, [libc::AT_FDCWD as u64, BUF + 0x1000, 0, 0x7ff, BUF + 0x200, 0]), 0);
    assert_eq!(sys(&mut p, Sys::Gettimeofday, [BUF + 0x400, 0, 0, 0, 0, 0]), 0);
    let s = seen.borrow();
    assert_eq!(s[0].outs, vec![(16, false)]);
    assert_eq!(s[1].outs, vec![(144, false)]);
    assert_eq!(s[2].outs, vec![(256, false)]);
    assert_eq!(s[3].outs, vec![(16, false)], "a NULL timezone is not an output");
    assert_eq!(s[3].args[1], 0);
}

#[test]
fn readv_scatters_a_single_host_read() {
    let (mut p, seen) = process(5, b'B');
    // iovecs: (BUF+0x100, 3), (BUF+0x200, 0), (BUF+0x300, 10)
    for (i, (base, len)) in [(BUF + 0x100, 3u64), (BUF + 0x200, 0), (BUF + 0x300, 10)].iter().enumerate() {
        p.m.mem.write_u64(BUF + 16 * i as u64, *base).unwrap();
        p.m.mem.write_u64(BUF + 16 * i as u64 + 8, *len).unwrap();
    }
    assert_eq!(sys(&mut p, Sys::Readv, [0, BUF, 3, 0, 0, 0]), 5);
    let mut a = [0u8; 4];
    p.m.mem.read_bytes(BUF + 0x100, &mut a).unwrap();
    assert_eq!(&a, b"BBB\0");
    let mut b = [0u8; 3];
    p.m.mem.read_bytes(BUF + 0x300, &mut b).unwrap();
    assert_eq!(&b, b"BB\0");
    assert_eq!(seen.borrow()[0].outs, vec![(13, true)]);
    assert_eq!(sys(&mut p, Sys::Readv, [0, BUF, 5000, 0, 0, 0]), -libc::EINVAL as i64);
}

#[test]
fn reserved_fds_are_refused_without_asking_the_host() {
    let (mut p, seen) = process(0, 0);
    p.reserved_fds = vec![7];
    let ebadf = -libc::EBADF as i64;
    assert_eq!(sys(&mut p, Sys::Close, [7, 0, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Dup2, [1, 7, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Dup3, [1, 7, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Dup, [7, 0, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Read, [7, BUF, 1, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Write, [7, BUF, 1, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Fcntl, [7, libc::F_GETFD as u64, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Fstat, [7, BUF, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Ioctl, [7, 0x5401, BUF, 0, 0, 0]), ebadf);
    cstr(&mut p, BUF + 0x1000, "rel");
    assert_eq!(sys(&mut p, Sys::Openat, [7, BUF + 0x1000, 0, 0, 0, 0]), ebadf);
    assert_eq!(sys(&mut p, Sys::Close, [-1i64 as u64, 0, 0, 0, 0, 0]), ebadf);
    assert!(seen.borrow().is_empty());
    // An absolute path ignores the dirfd.
    cstr(&mut p, BUF + 0x1000, "/abs");
    assert_eq!(sys(&mut p, Sys::Openat, [7, BUF + 0x1000, 0, 0, 0, 0]), 0);
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn close_range_skips_reserved_fds() {
    let (mut p, seen) = process(0, 0);
    p.reserved_fds = vec![7, 3];
    assert_eq!(sys(&mut p, Sys::CloseRange, [0, 10, 0, 0, 0, 0]), 0);
    let ranges: Vec<(u64, u64)> = seen.borrow().iter().map(|s| (s.args[0], s.args[1])).collect();
    assert_eq!(ranges, vec![(0, 2), (4, 6), (8, 10)]);
    seen.borrow_mut().clear();
    assert_eq!(sys(&mut p, Sys::CloseRange, [7, 7, 0, 0, 0, 0]), 0);
    assert!(seen.borrow().is_empty());
    assert_eq!(sys(&mut p, Sys::CloseRange, [5, 4, 0, 0, 0, 0]), -libc::EINVAL as i64);
}

#[test]
fn poll_reports_reserved_fds_as_closed() {
    let (mut p, seen) = process_peek(1, 0, 16);
    p.reserved_fds = vec![9];
    // pollfd { fd 0, POLLIN }, { fd 9, POLLIN }
    p.m.mem.write_u32(BUF, 0).unwrap();
    p.m.mem.write_u16(BUF + 4, libc::POLLIN as u16).unwrap();
    p.m.mem.write_u32(BUF + 8, 9).unwrap();
    p.m.mem.write_u16(BUF + 12, libc::POLLIN as u16).unwrap();
    assert_eq!(sys(&mut p, Sys::Poll, [BUF, 2, -1i64 as u64, 0, 0, 0]), 2);
    let s = &seen.borrow()[0];
    assert_eq!(i32::from_le_bytes(s.arg0[8..12].try_into().unwrap()), -1, "hidden from the host");
    assert_eq!(s.args[2], 0, "does not block");
    assert_eq!(p.m.mem.read_u32(BUF + 8).unwrap(), 9);
    assert_eq!(p.m.mem.read_u16(BUF + 14).unwrap(), libc::POLLNVAL as u16);
}

#[test]
fn select_refuses_reserved_fds() {
    let (mut p, seen) = process(1, 0);
    p.reserved_fds = vec![9];
    p.m.mem.write_u64(BUF, 1 << 9).unwrap();
    assert_eq!(sys(&mut p, Sys::Select, [10, BUF, 0, 0, 0, 0]), -libc::EBADF as i64);
    p.m.mem.write_u64(BUF, 1 << 3).unwrap();
    assert_eq!(sys(&mut p, Sys::Select, [10, BUF, 0, 0, 0, 0]), 1);
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].outs, vec![(8, false)]);
}

#[test]
fn emulator_decided_answers_do_not_reach_the_host() {
    let (mut p, seen) = process(0, 0);
    assert_eq!(sys(&mut p, Sys::Getpid, [0; 6]), 1000);
    assert_eq!(sys(&mut p, Sys::Gettid, [0; 6]), 1000);
    assert_eq!(sys(&mut p, Sys::SchedGetaffinity, [0, 128, BUF, 0, 0, 0]), 8);
    assert_eq!(p.m.mem.read_u64(BUF).unwrap(), 1);
    assert_eq!(sys(&mut p, Sys::Getrlimit, [libc::RLIMIT_STACK as u64, BUF, 0, 0, 0, 0]), 0);
    assert_eq!(p.m.mem.read_u64(BUF).unwrap(), 8 << 20);
    cstr(&mut p, BUF + 0x100, "/proc/self/exe");
    assert_eq!(sys(&mut p, Sys::Readlink, [BUF + 0x100, BUF + 0x200, 64, 0, 0, 0]), 15);
    let mut b = [0u8; 15];
    p.m.mem.read_bytes(BUF + 0x200, &mut b).unwrap();
    assert_eq!(&b, b"/opt/guest/prog");
    assert_eq!(sys(&mut p, Sys::Prctl, [libc::PR_GET_NAME as u64, BUF + 0x300, 0, 0, 0, 0]), 0);
    assert_eq!(p.m.mem.read_cstr(BUF + 0x300, 16).unwrap(), b"prog");
    assert_eq!(sys(&mut p, Sys::SchedYield, [0; 6]), 0);
    assert_eq!(sys(&mut p, Sys::Getcpu, [BUF, BUF + 4, 0, 0, 0, 0]), 0);
    assert!(seen.borrow().is_empty());
}

#[test]
fn uname_machine_is_the_guest_architecture() {
    let (mut p, _) = process(0, b'Z');
    assert_eq!(sys(&mut p, Sys::Uname, [BUF, 0, 0, 0, 0, 0]), 0);
    assert_eq!(p.m.mem.read_cstr(BUF + 260, 65).unwrap(), b"x86_64");
    assert_eq!(p.m.mem.read_u8(BUF).unwrap(), b'Z');
}

#[test]
fn aarch64_uname_machine() {
    let (mut p, _) = process_a64(0, b'Z');
    assert_eq!(sys(&mut p, Sys::Uname, [BUF, 0, 0, 0, 0, 0]), 0);
    assert_eq!(p.m.mem.read_cstr(BUF + 260, 65).unwrap(), b"aarch64");
}

#[test]
fn aarch64_stat_is_converted_from_host_scratch() {
    // The host fills its own 144-byte struct stat in scratch space (declared, so recorded
    // and replayed); the guest gets the 128-byte asm-generic layout and nothing beyond it.
    let (mut p, seen) = process_a64(0, 0);
    p.m.mem.write_bytes(BUF, &[0xee; 160]).unwrap();
    assert_eq!(sys(&mut p, Sys::Fstat, [1, BUF, 0, 0, 0, 0]), 0);
    let s = seen.borrow()[0].clone();
    assert_eq!(s.nr, libc::SYS_fstat);
    assert_eq!(s.outs, vec![(144, false)]);
    assert!(s.args[1] < p.m.mem.host_base() as u64 || s.args[1] >= p.m.mem.host_base() as u64 + (1 << 24));
    let mut b = [0u8; 160];
    p.m.mem.read_bytes(BUF, &mut b).unwrap();
    assert_eq!(&b[..128], &[0; 128]);
    assert_eq!(&b[128..], &[0xee; 32]);
    cstr(&mut p, BUF + 0x1000, "/");
    assert_eq!(sys(&mut p, Sys::Newfstatat, [libc::AT_FDCWD as u64, BUF + 0x1000, BUF, 0, 0, 0]), 0);
    assert_eq!(seen.borrow()[1].nr, libc::SYS_newfstatat);
    // A link count that does not fit arm64's 32-bit st_nlink: EOVERFLOW, as the kernel.
    let (mut p, _) = process_a64(0, 1);
    assert_eq!(sys(&mut p, Sys::Fstat, [1, BUF, 0, 0, 0, 0]), -libc::EOVERFLOW as i64);
    // A bad buffer is EFAULT before the host is asked.
    let (mut p, seen) = process_a64(0, 0);
    assert_eq!(sys(&mut p, Sys::Fstat, [1, 0x30000, 0, 0, 0, 0]), -libc::EFAULT as i64);
    assert!(seen.borrow().is_empty());
    // x86-64 keeps the direct path: the kernel writes guest memory.
    let (mut p, seen) = process(0, 7);
    assert_eq!(sys(&mut p, Sys::Fstat, [1, BUF, 0, 0, 0, 0]), 0);
    assert_eq!(seen.borrow()[0].args[1], p.m.mem.host_base() as u64 + BUF);
    assert_eq!(p.m.mem.read_u8(BUF + 143).unwrap(), 7);
}

#[test]
fn aarch64_open_flags_are_translated() {
    let (mut p, seen) = process_a64(3, 0);
    cstr(&mut p, BUF, "/tmp");
    // arm64 O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC.
    assert_eq!(sys(&mut p, Sys::Openat, [libc::AT_FDCWD as u64, BUF, 0o40000 | 0o100000 | 0o2000000, 0, 0, 0]), 3);
    assert_eq!(seen.borrow()[0].args[2], (libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64);
    // F_GETFL: the host's O_LARGEFILE (0o100000) is arm64's 0o400000.
    let (mut p, seen) = process_a64(0o100002, 0);
    assert_eq!(sys(&mut p, Sys::Fcntl, [3, libc::F_GETFL as u64, 0, 0, 0, 0]), 0o400002);
    assert_eq!(sys(&mut p, Sys::Fcntl, [3, libc::F_SETFL as u64, 0o200000 | 0o4000, 0, 0, 0]), 0o100002);
    assert_eq!(seen.borrow()[1].args[2], (libc::O_DIRECT | libc::O_NONBLOCK) as u64);
    // pipe2(O_DIRECT): a packet-mode pipe.
    assert_eq!(sys(&mut p, Sys::Pipe2, [BUF, 0o200000, 0, 0, 0, 0]), 0o100002);
    assert_eq!(seen.borrow()[2].args[1], libc::O_DIRECT as u64);
    // x86-64 passes them through.
    let (mut p, seen) = process(3, 0);
    cstr(&mut p, BUF, "/tmp");
    assert_eq!(sys(&mut p, Sys::Openat, [libc::AT_FDCWD as u64, BUF, 0o40000, 0, 0, 0]), 3);
    assert_eq!(seen.borrow()[0].args[2], 0o40000);
}

#[test]
fn aarch64_sigaltstack_minimum_is_5120() {
    let (mut p, _) = process_a64(0, 0);
    p.m.mem.write_u64(BUF, 0x20000).unwrap();
    p.m.mem.write_u64(BUF + 8, 0).unwrap();
    p.m.mem.write_u64(BUF + 16, 4096).unwrap();
    assert_eq!(sys(&mut p, Sys::Sigaltstack, [BUF, 0, 0, 0, 0, 0]), -libc::ENOMEM as i64);
    p.m.mem.write_u64(BUF + 16, 5120).unwrap();
    assert_eq!(sys(&mut p, Sys::Sigaltstack, [BUF, 0, 0, 0, 0, 0]), 0);
    let (mut p, _) = process(0, 0);
    p.m.mem.write_u64(BUF, 0x20000).unwrap();
    p.m.mem.write_u64(BUF + 16, 4096).unwrap();
    assert_eq!(sys(&mut p, Sys::Sigaltstack, [BUF, 0, 0, 0, 0, 0]), 0);
}

#[test]
fn aarch64_bad_arguments_never_panic() {
    let (mut p, _) = process_a64(0, 0);
    let vals = [0u64, 1, 8, BUF, 0x30000, 0xffff_ffff, u64::MAX, 1 << 40, i64::MIN as u64];
    for &s in Sys::ALL {
        if !super::implemented::<Aarch64>(s) || matches!(s, Sys::Exit | Sys::ExitGroup) {
            continue;
        }
        for &v in &vals {
            let _ = dispatch(&mut p, Aarch64::sys_nr(s).unwrap(), [v, v, v, v, v, v]);
        }
    }
}

#[test]
fn proc_guest_pid_paths_name_self() {
    let (mut p, _) = process(0, 0);
    cstr(&mut p, BUF, "/proc/1000/exe");
    assert_eq!(sys(&mut p, Sys::Readlink, [BUF, BUF + 0x200, 4, 0, 0, 0]), 4);
    assert_eq!(p.m.mem.read_u32(BUF + 0x200).unwrap(), u32::from_le_bytes(*b"/opt"));
    assert_eq!(super::util::path_arg(&p, BUF).unwrap(), b"/proc/self/exe\0");
    cstr(&mut p, BUF, "/proc/10000/maps");
    assert_eq!(super::util::path_arg(&p, BUF).unwrap(), b"/proc/10000/maps\0");
}

#[test]
fn bad_arguments_never_panic() {
    let (mut p, _) = process(0, 0);
    let vals = [0u64, 1, 8, BUF, 0x30000, 0xffff_ffff, u64::MAX, 1 << 40, i64::MIN as u64];
    for &s in Sys::ALL {
        if !super::implemented::<X86_64>(s) || matches!(s, Sys::Exit | Sys::ExitGroup) {
            continue;
        }
        for &v in &vals {
            let _ = dispatch(&mut p, s.x86_64(), [v, v, v, v, v, v]);
        }
    }
}

#[test]
fn futex_single_thread() {
    let (mut p, seen) = process(-(libc::EINTR as i64), 0);
    p.m.mem.write_u32(BUF, 5).unwrap();
    assert_eq!(sys(&mut p, Sys::Futex, [BUF, 128, 6, 0, 0, 0]), -libc::EAGAIN as i64);
    assert_eq!(sys(&mut p, Sys::Futex, [BUF, 129, 1, 0, 0, 0]), 0);
    assert_eq!(sys(&mut p, Sys::Futex, [BUF + 1, 129, 1, 0, 0, 0]), -libc::EINVAL as i64);
    assert!(seen.borrow().is_empty());
    // A matching wait with a timeout sleeps on the host; here the sleep is interrupted.
    p.m.mem.write_u64(BUF + 8, 0).unwrap();
    p.m.mem.write_u64(BUF + 16, 1000).unwrap();
    assert_eq!(sys(&mut p, Sys::Futex, [BUF, 128, 5, BUF + 8, 0, 0]), -libc::EINTR as i64);
    assert_eq!(seen.borrow()[0].nr, libc::SYS_clock_nanosleep);
}
