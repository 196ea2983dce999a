//! The one interface every non-deterministic input passes through (design §3): host
//! syscalls made on the guest's behalf, time stamp counters, random bytes and asynchronous
//! signals. `RealWorld` talks to the host; recording wraps it and logs what it returned,
//! replay answers from the log instead. Nothing else in deja may consult the outside.

mod vtimer;

use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};

/// A buffer the kernel writes during a host call: either inside guest memory (already
/// checked writable and marked dirty by the platform) or a host scratch buffer.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub ptr: *mut u8,
    pub len: usize,
    /// The kernel fills only the first `ret` bytes (read, getdents, readlink…) rather than the
    /// whole buffer (stat, clock_gettime…).
    pub upto_ret: bool,
}

/// A syscall performed on the host for the guest. Pointer arguments are host pointers (into
/// guest memory or host scratch space); `outs` lists every buffer the kernel may write, so
/// recording can capture and replay can reproduce exactly those bytes.
#[derive(Debug, Clone)]
pub struct HostCall {
    /// Host (x86-64) syscall number.
    pub nr: i64,
    pub args: [u64; 6],
    pub outs: SmallVec<[Out; 2]>,
}

impl HostCall {
    pub fn new(nr: i64, args: [u64; 6]) -> HostCall {
        HostCall { nr, args, outs: SmallVec::new() }
    }

    /// Declare an output buffer the kernel fills completely when the call succeeds.
    pub fn out(mut self, buf: &mut [u8]) -> HostCall {
        self.outs.push(Out { ptr: buf.as_mut_ptr(), len: buf.len(), upto_ret: false });
        self
    }

    /// Declare an output buffer of which the kernel fills the first `ret` bytes.
    pub fn out_upto_ret(mut self, buf: &mut [u8]) -> HostCall {
        self.outs.push(Out { ptr: buf.as_mut_ptr(), len: buf.len(), upto_ret: true });
        self
    }

    /// How many bytes of `o` the call produced, given its return value.
    pub fn produced(o: &Out, ret: i64) -> usize {
        if ret < 0 {
            0
        } else if o.upto_ret {
            (ret as usize).min(o.len)
        } else {
            o.len
        }
    }
}

/// Everything the guest can learn from outside its own deterministic execution.
pub trait World {
    /// Perform a host syscall. Returns the raw result (negative errno on failure).
    fn syscall(&mut self, icount: u64, call: &HostCall) -> i64;
    /// Time stamp counter value for rdtsc/rdtscp.
    fn tsc(&mut self, icount: u64) -> u64;
    /// A counter that ticks once per nanosecond (CLOCK_MONOTONIC's nanoseconds in a real
    /// run): the AArch64 virtual counter CNTVCT_EL0, whose advertised frequency CNTFRQ_EL0 is
    /// 1 GHz. An outside input like `tsc`, recorded and replayed as the same `tsc` event. The
    /// default (`tsc`) serves worlds that never run AArch64 guests for real (tests).
    fn counter_ns(&mut self, icount: u64) -> u64 {
        self.tsc(icount)
    }
    /// Random bytes (AT_RANDOM, rdrand).
    fn random(&mut self, icount: u64, buf: &mut [u8]);
    /// An asynchronous signal to deliver now, if one is pending.
    fn pending_signal(&mut self, icount: u64) -> Option<i32>;

    // ---- hooks for recording and replay; a plain run ignores them ----

    /// The guest entered syscall `nr` (guest numbering) with `args`.
    fn syscall_entry(&mut self, _icount: u64, _nr: u64, _args: &[u64; 6]) {}
    /// A synchronous fault is being delivered (or kills the guest).
    fn exception(&mut self, _icount: u64, _signo: i32, _code: i32, _addr: u64) {}
    /// Periodic checkpoint: the architectural state digest at `icount`.
    fn checkpoint(&mut self, _icount: u64, _digest: u64) {}
    /// Checkpoint interval in instructions, if this world wants checkpoints.
    fn checkpoint_every(&self) -> Option<u64> {
        None
    }
    /// The run ended (`status`: how, see `EndStatus`), with the final digest.
    fn end(&mut self, _icount: u64, _status: EndStatus, _digest: u64) {}
    /// The icount at which the run loop must stop next so an event lands exactly (replay).
    fn next_stop(&self) -> Option<u64> {
        None
    }
    /// Set once replay has diverged from the log; the run stops at the next boundary.
    fn divergence(&mut self) -> Option<Divergence> {
        None
    }
    /// Where a replaying world is in its log (None for worlds without a log), so a snapshot
    /// can take it and `seek_log` can come back to it (reverse execution).
    fn log_position(&self) -> Option<LogPosition> {
        None
    }
    /// Continue from a position `log_position` returned; false if this world cannot.
    fn seek_log(&mut self, _pos: &LogPosition) -> bool {
        false
    }
}

/// A replaying world's position in its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// Index of the next event to consume.
    pub event: usize,
    /// The last checkpoint that agreed (for divergence reports).
    pub last_good: Option<(u64, u64)>,
}

/// How a run ended, as recorded in the log's end event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndStatus {
    /// The guest exited with this status.
    Exited(i32),
    /// The guest was killed by this signal.
    Killed(i32),
    /// The emulator stopped the run (instruction limit, error, divergence).
    Stopped,
}

/// A replay that no longer matches its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    pub icount: u64,
    /// What the log says should have happened here.
    pub expected: String,
    /// What the execution did instead.
    pub actual: String,
    /// The last checkpoint that agreed: (id, icount).
    pub last_good: Option<(u64, u64)>,
}

/// The real host.
#[derive(Default)]
pub struct RealWorld;

impl World for RealWorld {
    fn syscall(&mut self, _icount: u64, call: &HostCall) -> i64 {
        if call.nr == libc::SYS_pause {
            return wait_for_host_signal();
        }
        let a = call.args;
        // SAFETY: the platform built `call` with pointer arguments that point into checked
        // guest memory or live host buffers of the declared sizes.
        let r = unsafe { libc::syscall(call.nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
        if r == -1 {
            -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as i64)
        } else {
            r
        }
    }

    fn tsc(&mut self, _icount: u64) -> u64 {
        // SAFETY: rdtsc has no memory effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    fn counter_ns(&mut self, _icount: u64) -> u64 {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec into our local.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
    }

    fn random(&mut self, _icount: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            // SAFETY: writing into our own buffer.
            let r = unsafe { libc::getrandom(buf[done..].as_mut_ptr() as *mut libc::c_void, buf.len() - done, 0) };
            if r <= 0 {
                break;
            }
            done += r as usize;
        }
    }

    fn pending_signal(&mut self, _icount: u64) -> Option<i32> {
        let v = HOST_PENDING.load(Ordering::Acquire);
        if v == 0 {
            return None;
        }
        let bit = v.trailing_zeros();
        HOST_PENDING.fetch_and(!(1u64 << bit), Ordering::AcqRel);
        Some(bit as i32 + 1)
    }
}

/// pause() on the guest's behalf (waiting for a forwarded signal), without the lost wake-up of
/// a plain pause(): a signal caught after the caller last looked at `HOST_PENDING` but before
/// the host pause() began would leave deja asleep. Signals are blocked while `HOST_PENDING`
/// is checked, and sigsuspend() unblocks them and waits in one step. Returns -EINTR.
fn wait_for_host_signal() -> i64 {
    // SAFETY: signal-mask calls on deja's own (only) thread, with local sigset_t values; the
    // synchronous fault signals stay unblocked.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        for s in [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP, libc::SIGABRT, libc::SIGSYS] {
            libc::sigdelset(&mut all, s);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        if HOST_PENDING.load(Ordering::Acquire) == 0 {
            libc::sigsuspend(&old);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
    -(libc::EINTR as i64)
}

/// Signals sent to deja that are forwarded to the guest as asynchronous signals (bit n-1 for
/// signal n), set by the host handler and taken by `RealWorld::pending_signal`.
static HOST_PENDING: AtomicU64 = AtomicU64::new(0);

/// Signals deja forwards to its guest. Their default actions are the guest's business: a
/// guest without a handler dies of them, as it would natively.
pub const FORWARDED_SIGNALS: [i32; 11] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGWINCH,
    libc::SIGVTALRM,
    libc::SIGPROF,
];

extern "C" fn on_host_signal(sig: libc::c_int) {
    if (1..=64).contains(&sig) {
        HOST_PENDING.fetch_or(1u64 << (sig - 1), Ordering::AcqRel);
    }
}

/// Catch the forwarded signals so they reach the guest at an instruction boundary (and, when
/// recording, are logged) instead of killing deja. Without SA_RESTART, so a blocking host
/// syscall returns EINTR and the guest's handler decides (see `Process::syscall`).
pub fn catch_host_signals() {
    for s in FORWARDED_SIGNALS {
        catch_host_signal(s);
    }
}

/// Catch one more signal for the guest (a guest timer may ask the host to send deja any
/// catchable signal, e.g. a real-time one).
pub fn catch_host_signal(s: i32) {
    // SAFETY: installing an async-signal-safe handler (one atomic OR).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_host_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(s, &sa, std::ptr::null_mut());
    }
}

/// A `World` that swallows the guest's writes to stdout and stderr (benchmarks, quiet runs)
/// and passes everything else to the inner world.
pub struct Quiet<W: World>(pub W);

impl<W: World> World for Quiet<W> {
    fn syscall(&mut self, icount: u64, call: &HostCall) -> i64 {
        let fd = call.args[0];
        if (fd == 1 || fd == 2) && call.nr == libc::SYS_write {
            return call.args[2] as i64;
        }
        if (fd == 1 || fd == 2) && call.nr == libc::SYS_writev {
            // Sum the iovec lengths (host pointers prepared by the platform).
            let iov = call.args[1] as *const libc::iovec;
            let n = call.args[2] as usize;
            // SAFETY: the platform passes a checked iovec array of n entries.
            let total: usize = (0..n).map(|i| unsafe { (*iov.add(i)).iov_len }).sum();
            return total as i64;
        }
        self.0.syscall(icount, call)
    }
    fn tsc(&mut self, icount: u64) -> u64 {
        self.0.tsc(icount)
    }
    fn counter_ns(&mut self, icount: u64) -> u64 {
        self.0.counter_ns(icount)
    }
    fn random(&mut self, icount: u64, buf: &mut [u8]) {
        self.0.random(icount, buf)
    }
    fn pending_signal(&mut self, icount: u64) -> Option<i32> {
        self.0.pending_signal(icount)
    }
    fn syscall_entry(&mut self, icount: u64, nr: u64, args: &[u64; 6]) {
        self.0.syscall_entry(icount, nr, args)
    }
    fn exception(&mut self, icount: u64, signo: i32, code: i32, addr: u64) {
        self.0.exception(icount, signo, code, addr)
    }
    fn checkpoint(&mut self, icount: u64, digest: u64) {
        self.0.checkpoint(icount, digest)
    }
    fn checkpoint_every(&self) -> Option<u64> {
        self.0.checkpoint_every()
    }
    fn end(&mut self, icount: u64, status: EndStatus, digest: u64) {
        self.0.end(icount, status, digest)
    }
    fn next_stop(&self) -> Option<u64> {
        self.0.next_stop()
    }
    fn divergence(&mut self) -> Option<Divergence> {
        self.0.divergence()
    }
    fn log_position(&self) -> Option<LogPosition> {
        self.0.log_position()
    }
    fn seek_log(&mut self, pos: &LogPosition) -> bool {
        self.0.seek_log(pos)
    }
}

/// A deterministic world without a log (`deja run --clock=virtual`): guest time is derived
/// from the instruction count (ns = icount << shift, QEMU's `-icount shift`), random bytes
/// come from a seeded generator, sleeps return at once, timers run on virtual time (their
/// signals are delivered at the exact icount of expiry; `pause()` with a timer armed skips
/// virtual time ahead to its expiry). Everything else (files, stdio) is the real host, as in a
/// plain run.
pub struct Virtual<W: World> {
    pub inner: W,
    pub shift: u32,
    state: u64,
    timers: vtimer::Timers,
    /// Virtual time skipped by `pause()` waiting for a timer (ns).
    warp: u64,
}

/// The virtual clock's epoch for CLOCK_REALTIME: 2024-01-01T00:00:00Z.
pub const VIRTUAL_EPOCH_SECS: u64 = 1_704_067_200;

impl<W: World> Virtual<W> {
    pub fn new(inner: W, shift: u32, seed: u64) -> Virtual<W> {
        Virtual { inner, shift, state: seed ^ 0x9e37_79b9_7f4a_7c15, timers: Default::default(), warp: 0 }
    }

    fn ns(&self, icount: u64) -> u64 {
        icount.checked_shl(self.shift).unwrap_or(u64::MAX).saturating_add(self.warp)
    }

    fn next(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

/// Write `data` into the first declared output buffer of `call`, if it is large enough.
fn put_out(call: &HostCall, data: &[u8]) -> bool {
    match call.outs.first() {
        Some(o) if o.len >= data.len() => {
            // SAFETY: the platform declared a live buffer of o.len bytes.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), o.ptr, data.len()) };
            true
        }
        _ => false,
    }
}

impl<W: World> World for Virtual<W> {
    fn syscall(&mut self, icount: u64, call: &HostCall) -> i64 {
        let ns = self.ns(icount);
        let realtime = ns + VIRTUAL_EPOCH_SECS * 1_000_000_000;
        let ts = |t: u64| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&(t / 1_000_000_000).to_le_bytes());
            b[8..].copy_from_slice(&(t % 1_000_000_000).to_le_bytes());
            b
        };
        if let Some(r) = self.timers.syscall(ns, VIRTUAL_EPOCH_SECS * 1_000_000_000, call) {
            return r;
        }
        match call.nr {
            // Waiting for a signal with a timer armed: skip ahead to its expiry.
            libc::SYS_pause if self.timers.next_expiry().is_some() => {
                let e = self.timers.next_expiry().unwrap_or(ns);
                self.warp = self.warp.saturating_add(e.saturating_sub(ns));
                -(libc::EINTR as i64)
            }
            libc::SYS_clock_gettime => {
                let t = if call.args[0] as i32 == libc::CLOCK_REALTIME
                    || call.args[0] as i32 == libc::CLOCK_REALTIME_COARSE
                {
                    realtime
                } else {
                    ns
                };
                if put_out(call, &ts(t)) {
                    0
                } else {
                    -(libc::EFAULT as i64)
                }
            }
            libc::SYS_gettimeofday => {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&(realtime / 1_000_000_000).to_le_bytes());
                b[8..].copy_from_slice(&((realtime % 1_000_000_000) / 1000).to_le_bytes());
                put_out(call, &b);
                0
            }
            libc::SYS_time => {
                let s = realtime / 1_000_000_000;
                put_out(call, &s.to_le_bytes());
                s as i64
            }
            libc::SYS_getrandom => {
                let n = (call.args[1] as usize).min(call.outs.first().map_or(0, |o| o.len));
                let mut b = vec![0u8; n];
                self.fill(&mut b);
                put_out(call, &b);
                n as i64
            }
            libc::SYS_nanosleep | libc::SYS_clock_nanosleep => 0,
            _ => self.inner.syscall(icount, call),
        }
    }

    fn tsc(&mut self, icount: u64) -> u64 {
        self.ns(icount)
    }

    fn counter_ns(&mut self, icount: u64) -> u64 {
        self.ns(icount)
    }

    fn random(&mut self, _icount: u64, buf: &mut [u8]) {
        self.fill(buf)
    }

    fn pending_signal(&mut self, icount: u64) -> Option<i32> {
        self.inner.pending_signal(icount).or_else(|| {
            let now = self.ns(icount);
            self.timers.expired(now)
        })
    }

    /// Stop at the first instruction count whose virtual time reaches the next timer expiry.
    fn next_stop(&self) -> Option<u64> {
        let e = self.timers.next_expiry()?.saturating_sub(self.warp);
        let unit = 1u64.checked_shl(self.shift).unwrap_or(u64::MAX);
        let at = e / unit + u64::from(e % unit != 0);
        Some(self.inner.next_stop().map_or(at, |s| s.min(at)))
    }
}
