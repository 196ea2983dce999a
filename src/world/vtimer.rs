//! Timers on the virtual clock (`deja run --clock=virtual`): alarm, setitimer/getitimer and
//! the POSIX timers are kept by deja against virtual time instead of being armed on the host,
//! so their signals arrive at instruction counts that depend only on the guest's execution.
//!
//! The platform's timer syscalls (`linux/syscall/timer.rs`) hand the world host pointers to
//! the guest's structures copied into deja's memory (`itimerval`, `itimerspec`, `sigevent`,
//! already checked and read) and declare every output; this module answers those calls.
//! All three interval timers count virtual time (the guest is always running), as do the CPU
//! clocks. Times are in virtual nanoseconds since the virtual boot.

use super::HostCall;

const NS: u64 = 1_000_000_000;
const TIMER_ABSTIME: u64 = 1;
const SIGEV_NONE: i32 = 1;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Timer {
    /// Signal sent at expiry (0: SIGEV_NONE).
    signo: i32,
    /// The clock of a POSIX timer (CLOCK_REALTIME timers take absolute times in wall time).
    clock: i32,
    /// Virtual ns of the next expiry; `None`: disarmed.
    expiry: Option<u64>,
    interval: u64,
    /// Expirations missed before the last one was delivered.
    overrun: u64,
}

impl Timer {
    /// Time until the next expiry (what getitimer/timer_gettime report).
    fn remaining(&self, now: u64) -> u64 {
        match self.expiry {
            None => 0,
            Some(e) if e > now => e - now,
            Some(e) if self.interval > 0 => self.interval - (now - e) % self.interval,
            Some(_) => 0,
        }
    }

    /// (interval, value) for an old-value/current-value output. An armed timer never shows
    /// 0 (Linux reports at least 1 µs/1 ns).
    fn setting(&self, now: u64, min: u64) -> (u64, u64) {
        let r = self.remaining(now);
        (self.interval, if self.expiry.is_some() && r < min { min } else { r })
    }

    /// Arm relative to `now` (value 0 disarms).
    fn arm(&mut self, now: u64, value: u64, interval: u64) {
        self.expiry = (value > 0).then(|| now.saturating_add(value));
        self.interval = interval;
        self.overrun = 0;
    }
}

/// The timers of one virtual-clock run.
#[derive(Debug, Default)]
pub struct Timers {
    /// ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF.
    itimers: [Timer; 3],
    /// POSIX timers by id (never reused, like Linux's per-process counter).
    posix: Vec<Option<Timer>>,
}

/// Read the `N`-byte structure a timer syscall passed by host pointer (NULL: none).
fn input<const N: usize>(ptr: u64) -> Option<[u8; N]> {
    // SAFETY: the timer syscalls pass host pointers to live structures of this size in deja's
    // own memory (or NULL), see linux/syscall/timer.rs.
    (ptr != 0).then(|| unsafe { std::ptr::read_unaligned(ptr as *const [u8; N]) })
}

fn word(b: &[u8], i: usize) -> i64 {
    i64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap_or_default())
}

/// A `timeval` (`unit` = 1000 ns per µs) or `timespec` (`unit` = 1) in ns; None if invalid.
fn duration(sec: i64, frac: i64, unit: u64) -> Option<u64> {
    if sec < 0 || frac < 0 || frac as u64 >= NS / unit {
        return None;
    }
    (sec as u64).checked_mul(NS)?.checked_add(frac as u64 * unit)
}

/// `struct itimerval`/`itimerspec` bytes: interval, then value.
fn encode(interval: u64, value: u64, unit: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, v) in [interval / NS, interval % NS / unit, value / NS, value % NS / unit].into_iter().enumerate() {
        b[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
    }
    b
}

/// Write an output structure into the call's first declared output, if any.
fn output(call: &HostCall, data: &[u8]) {
    super::put_out(call, data);
}

const EINVAL: i64 = -(libc::EINVAL as i64);
const ITIMER_SIGNALS: [i32; 3] = [libc::SIGALRM, libc::SIGVTALRM, libc::SIGPROF];

impl Timers {
    /// Answer a timer syscall at virtual time `now` (`realtime_offset`: CLOCK_REALTIME minus
    /// the virtual clock). None if `call` is not a timer call.
    pub fn syscall(&mut self, now: u64, realtime_offset: u64, call: &HostCall) -> Option<i64> {
        let a = call.args;
        let r = match call.nr {
            libc::SYS_alarm => {
                let old = self.itimers[0].remaining(now);
                self.itimers[0].arm(now, a[0] as u32 as u64 * NS, 0);
                // Linux rounds to the nearest second, and never reports 0 for a pending alarm.
                let (s, f) = (old / NS, old % NS);
                (s + u64::from((s == 0 && f > 0) || f >= NS / 2)) as i64
            }
            libc::SYS_setitimer | libc::SYS_getitimer => {
                let which = a[0] as i32;
                if !(0..3).contains(&which) {
                    return Some(EINVAL);
                }
                let t = &mut self.itimers[which as usize];
                let (interval, value) = t.setting(now, 1000);
                let new = if call.nr == libc::SYS_setitimer {
                    match input::<32>(a[1]) {
                        Some(b) => {
                            let iv = duration(word(&b, 0), word(&b, 1), 1000);
                            let v = duration(word(&b, 2), word(&b, 3), 1000);
                            match (iv, v) {
                                (Some(iv), Some(v)) => Some((iv, v)),
                                _ => return Some(EINVAL),
                            }
                        }
                        None => Some((0, 0)),
                    }
                } else {
                    None
                };
                if let Some((iv, v)) = new {
                    t.arm(now, v, iv);
                    t.signo = ITIMER_SIGNALS[which as usize];
                }
                output(call, &encode(interval, value, 1000));
                0
            }
            libc::SYS_timer_create => {
                let clock = a[0] as i32;
                if !matches!(clock, 0..=3 | 7 | 11) {
                    return Some(EINVAL);
                }
                let signo = match input::<64>(a[1]) {
                    None => libc::SIGALRM,
                    Some(s) if i32::from_le_bytes([s[12], s[13], s[14], s[15]]) == SIGEV_NONE => 0,
                    Some(s) => i32::from_le_bytes([s[8], s[9], s[10], s[11]]),
                };
                let id = self.posix.len();
                if id > i32::MAX as usize {
                    return Some(-(libc::EAGAIN as i64));
                }
                self.posix.push(Some(Timer { signo, clock, ..Timer::default() }));
                output(call, &(id as i32).to_le_bytes());
                0
            }
            libc::SYS_timer_settime | libc::SYS_timer_gettime => {
                let Some(Some(t)) = usize::try_from(a[0] as i32).ok().and_then(|i| self.posix.get_mut(i)) else {
                    return Some(EINVAL);
                };
                let (interval, value) = t.setting(now, 1);
                if call.nr == libc::SYS_timer_settime {
                    let Some(b) = input::<32>(a[2]) else { return Some(EINVAL) };
                    let (Some(iv), Some(v)) =
                        (duration(word(&b, 0), word(&b, 1), 1), duration(word(&b, 2), word(&b, 3), 1))
                    else {
                        return Some(EINVAL);
                    };
                    if a[1] & TIMER_ABSTIME != 0 && v > 0 {
                        // An absolute time on the timer's clock; one already past fires at once.
                        let base = if t.clock == libc::CLOCK_REALTIME { realtime_offset } else { 0 };
                        t.arm(now, v.saturating_sub(base).saturating_sub(now).max(1), iv);
                    } else {
                        t.arm(now, v, iv);
                    }
                }
                output(call, &encode(interval, value, 1));
                0
            }
            libc::SYS_timer_getoverrun => match usize::try_from(a[0] as i32).ok().and_then(|i| self.posix.get(i)) {
                Some(Some(t)) => t.overrun.min(i32::MAX as u64) as i64,
                _ => EINVAL,
            },
            libc::SYS_timer_delete => match usize::try_from(a[0] as i32).ok().and_then(|i| self.posix.get_mut(i)) {
                Some(slot @ Some(_)) => {
                    *slot = None;
                    0
                }
                _ => EINVAL,
            },
            _ => return None,
        };
        Some(r)
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Timer> {
        self.itimers.iter_mut().chain(self.posix.iter_mut().flatten())
    }

    /// The earliest expiry of an armed timer that sends a signal.
    pub fn next_expiry(&self) -> Option<u64> {
        self.itimers.iter().chain(self.posix.iter().flatten()).filter(|t| t.signo != 0).filter_map(|t| t.expiry).min()
    }

    /// The signal of the earliest timer expired at `now`, if any (re-armed if periodic, with
    /// the expirations it missed counted as overruns).
    pub fn expired(&mut self, now: u64) -> Option<i32> {
        loop {
            let t = self.all().filter(|t| t.expiry.is_some_and(|e| e <= now)).min_by_key(|t| t.expiry)?;
            let e = t.expiry.unwrap_or(now);
            match (now - e).checked_div(t.interval) {
                Some(missed) => {
                    t.overrun = missed;
                    t.expiry = Some(e.saturating_add((missed + 1).saturating_mul(t.interval)));
                }
                None => t.expiry = None,
            }
            if t.signo != 0 {
                return Some(t.signo);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(nr: i64, args: [u64; 6], out: Option<&mut [u8]>) -> HostCall {
        let c = HostCall::new(nr, args);
        match out {
            Some(b) => c.out(b),
            None => c,
        }
    }

    fn itv(interval_us: u64, value_us: u64) -> [u8; 32] {
        encode(interval_us * 1000, value_us * 1000, 1000)
    }

    #[test]
    fn setitimer_fires_and_rearms() {
        let mut t = Timers::default();
        let new = itv(3000, 2000);
        let mut old = [0xffu8; 32];
        let c = call(libc::SYS_setitimer, [0, new.as_ptr() as u64, old.as_mut_ptr() as u64, 0, 0, 0], Some(&mut old));
        assert_eq!(t.syscall(1_000, 0, &c), Some(0));
        assert_eq!(old, [0u8; 32]);
        assert_eq!(t.next_expiry(), Some(2_001_000));
        assert_eq!(t.expired(2_000_999), None);
        assert_eq!(t.expired(2_001_000), Some(libc::SIGALRM));
        assert_eq!(t.next_expiry(), Some(5_001_000));
        // Late by two periods: one signal, two overruns.
        assert_eq!(t.expired(12_000_000), Some(libc::SIGALRM));
        assert_eq!(t.expired(12_000_000), None);
        assert_eq!(t.next_expiry(), Some(14_001_000));
        let mut cur = [0u8; 32];
        let c = call(libc::SYS_getitimer, [0, 0, 0, 0, 0, 0], Some(&mut cur));
        assert_eq!(t.syscall(13_001_000, 0, &c), Some(0));
        assert_eq!(cur, itv(3000, 1000));
        // Invalid: usec out of range, bad which.
        let bad = encode(0, 0, 1000).map(|_| 0xff);
        let c = call(libc::SYS_setitimer, [0, bad.as_ptr() as u64, 0, 0, 0, 0], None);
        assert_eq!(t.syscall(0, 0, &c), Some(EINVAL));
        let c = call(libc::SYS_getitimer, [3, 0, 0, 0, 0, 0], None);
        assert_eq!(t.syscall(0, 0, &c), Some(EINVAL));
    }

    #[test]
    fn alarm_rounds_like_linux() {
        let mut t = Timers::default();
        let c = |s| call(libc::SYS_alarm, [s, 0, 0, 0, 0, 0], None);
        assert_eq!(t.syscall(0, 0, &c(10)), Some(0));
        assert_eq!(t.syscall(NS / 2 - 1, 0, &c(5)), Some(10)); // 9.5 s left: rounds to 10
        assert_eq!(t.syscall(5 * NS + NS / 2 - 2, 0, &c(0)), Some(1)); // a nanosecond left: never 0
        assert_eq!(t.next_expiry(), None);
    }

    #[test]
    fn posix_timers() {
        let mut t = Timers::default();
        let mut id = [0u8; 4];
        let c = call(libc::SYS_timer_create, [1, 0, 0, 0, 0, 0], Some(&mut id));
        assert_eq!(t.syscall(0, 0, &c), Some(0));
        assert_eq!(i32::from_le_bytes(id), 0);
        let mut sev = [0u8; 64];
        sev[8..12].copy_from_slice(&libc::SIGUSR2.to_le_bytes());
        let c = call(libc::SYS_timer_create, [0, sev.as_ptr() as u64, 0, 0, 0, 0], Some(&mut id));
        assert_eq!(t.syscall(0, 0, &c), Some(0));
        assert_eq!(i32::from_le_bytes(id), 1);
        // Timer 1 (CLOCK_REALTIME) at absolute wall time offset + 5 ms.
        let off = 1_000 * NS;
        let spec = encode(0, off + 5_000_000, 1);
        let c = call(libc::SYS_timer_settime, [1, TIMER_ABSTIME, spec.as_ptr() as u64, 0, 0, 0], None);
        assert_eq!(t.syscall(1_000_000, off, &c), Some(0));
        // Timer 0 relative 2 ms.
        let spec = encode(0, 2_000_000, 1);
        let c = call(libc::SYS_timer_settime, [0, 0, spec.as_ptr() as u64, 0, 0, 0], None);
        assert_eq!(t.syscall(1_000_000, off, &c), Some(0));
        assert_eq!(t.next_expiry(), Some(3_000_000));
        assert_eq!(t.expired(10_000_000), Some(libc::SIGALRM));
        assert_eq!(t.expired(10_000_000), Some(libc::SIGUSR2));
        assert_eq!(t.expired(10_000_000), None);
        let c = call(libc::SYS_timer_delete, [0, 0, 0, 0, 0, 0], None);
        assert_eq!(t.syscall(0, 0, &c), Some(0));
        assert_eq!(t.syscall(0, 0, &c), Some(EINVAL));
        let c = call(libc::SYS_timer_getoverrun, [7, 0, 0, 0, 0, 0], None);
        assert_eq!(t.syscall(0, 0, &c), Some(EINVAL));
        let c = call(libc::SYS_timer_settime, [1, 0, 0, 0, 0, 0], None);
        assert_eq!(t.syscall(0, 0, &c), Some(EINVAL));
    }
}
