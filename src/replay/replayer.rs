//! Replay: a `World` that answers every question from the log and touches nothing outside.
//! Each answer is checked against what the execution asks (kind, icount, syscall number and
//! arguments, buffer sizes, digests); the first mismatch becomes a `Divergence` and the run
//! stops.

use super::event::{EndKind, Event};
use super::log::{Events, Log, Positioned};
use super::recorder::input_digest;
use crate::world::{Divergence, EndStatus, HostCall, LogPosition, World};
use std::io::Write;

pub struct Replayer {
    /// The events not yet taken, decoded as needed.
    events: Events,
    /// The next event that is not a progress marker (decoded ahead, so `next_stop` can look
    /// at it without taking it).
    next: Option<Positioned>,
    /// The recorded end: kind, value, final icount.
    end: Option<(EndKind, i32, u64)>,
    /// For a log cut short (no end event): the icount of its last event, as far as the
    /// recording is known to have got. Replay stops there.
    cut_at: Option<u64>,
    every: u64,
    /// Do not re-emit the guest's stdout/stderr output.
    pub quiet: bool,
    /// The replay was asked to stop at this icount (`--to-icount`): stopping there is not a
    /// divergence.
    pub stop_at: Option<u64>,
    div: Option<Divergence>,
    last_good: Option<(u64, u64)>,
    /// Reported once taken, then kept so later calls stay inert.
    diverged: bool,
    /// Number of events taken so far (the log position the debugger saves and restores).
    pos: usize,
    /// Events before this position have had their output re-emitted already: after a seek
    /// back (reverse execution), output is not printed a second time.
    emitted: usize,
    /// Guest fds that refer to the recording's stdout (1) or stderr (2), followed through
    /// dup/dup2/dup3/fcntl(F_DUPFD)/close, so that output re-emits to the stream the guest
    /// wrote to, and a file the guest redirected fd 1 to is not echoed to the terminal.
    streams: Vec<(u64, u8)>,
    /// Cursor copies every `MARK_EVERY` events, so a seek decodes at most that many.
    marks: Vec<(usize, Events, Option<Positioned>)>,
    /// The log's guest ISA (header `isa`): how its syscalls are named in reports.
    isa: u8,
}

/// Distance between saved cursor copies for seeking.
const MARK_EVERY: usize = 256;

/// Describe an event of an x86-64 log (see [`describe_for`]).
pub fn describe(ev: &Event) -> String {
    describe_for(ev, super::log::ISA_X86_64)
}

/// Describe an event of a log whose guest ISA is `isa` (the header's `isa`), for `deja dump`
/// and divergence reports: guest syscalls are named in that ISA's numbering, host calls in
/// the host's (x86-64), a counter read as the instruction that made it.
pub fn describe_for(ev: &Event, isa: u8) -> String {
    match ev {
        Event::Syscall { nr, args } => format!("syscall {} {:x?}", guest_syscall_name(*nr, isa), args),
        Event::HostCall { nr, ret, outs, .. } => {
            format!(
                "host call {} returning {ret} with {} output bytes",
                host_syscall_name(*nr),
                outs.iter().map(|o| o.len()).sum::<usize>()
            )
        }
        Event::Tsc { value } => format!("{} = {value}", counter_name(isa)),
        Event::Random { bytes } => format!("{} random bytes", bytes.len()),
        Event::Signal { signo } => format!("asynchronous {}", crate::report::signal_name(*signo)),
        Event::Checkpoint { id, digest } => format!("checkpoint {id} with digest {digest:016x}"),
        Event::Exception { signo, code, addr } => {
            format!("{} (code {code}, addr {addr:#x})", crate::report::signal_name(*signo))
        }
        Event::Shutdown { signo } => format!("shutdown by {}", crate::report::signal_name(*signo)),
        Event::End { kind, value, digest } => format!("end: {kind:?} {value}, digest {digest:016x}"),
        Event::Icount => "icount marker".into(),
    }
}

/// The name of guest syscall `nr` in the numbering of `isa` (x86-64's table, or arm64's
/// asm-generic one), or `#nr` when it has none.
pub fn guest_syscall_name(nr: u64, isa: u8) -> String {
    use crate::linux::sysno::Sys;
    let s = match isa {
        super::log::ISA_AARCH64 => Sys::from_aarch64(nr),
        _ => Sys::from_x86_64(nr),
    };
    s.map(|s| s.name().to_string()).unwrap_or_else(|| format!("#{nr}"))
}

/// Host calls are syscalls of the host deja runs on, x86-64, whatever the guest ISA.
fn host_syscall_name(nr: u64) -> String {
    guest_syscall_name(nr, super::log::ISA_X86_64)
}

/// What a `tsc` event is a read of.
fn counter_name(isa: u8) -> &'static str {
    match isa {
        super::log::ISA_AARCH64 => "cntvct_el0",
        _ => "rdtsc",
    }
}

impl Replayer {
    pub fn new(log: &Log, quiet: bool) -> Replayer {
        let end = match log.last {
            Some(Positioned { icount, event: Event::End { kind, value, .. }, .. }) => Some((kind, value, icount)),
            _ => None,
        };
        let cut_at = if end.is_some() { None } else { Some(log.last.as_ref().map_or(0, |p| p.icount)) };
        let mut r = Replayer {
            events: log.events(),
            next: None,
            end,
            cut_at,
            every: log.header.checkpoint_every,
            quiet,
            stop_at: None,
            div: None,
            last_good: None,
            diverged: false,
            pos: 0,
            emitted: 0,
            streams: vec![(1, 1), (2, 2)],
            marks: Vec::new(),
            isa: log.header.isa,
        };
        r.marks.push((0, r.events.clone(), None));
        r.advance();
        r
    }

    /// Take the next event: decode up to the following one that is not a progress marker.
    fn advance(&mut self) {
        self.next = self.events.by_ref().find(|p| p.event != Event::Icount);
        self.pos += 1;
        if self.pos.is_multiple_of(MARK_EVERY) && self.marks.last().is_some_and(|m| m.0 < self.pos) {
            self.marks.push((self.pos, self.events.clone(), self.next.clone()));
        }
    }

    /// The next event (never a progress marker).
    fn peek(&self) -> Option<&Positioned> {
        self.next.as_ref()
    }

    fn diverge(&mut self, icount: u64, expected: String, actual: String) {
        if self.div.is_none() && !self.diverged {
            self.div = Some(Divergence { icount, expected, actual, last_good: self.last_good });
        }
    }

    /// Take the next event, which must be of kind `kind` at `icount`; otherwise diverge.
    fn expect(&mut self, icount: u64, kind: u8, actual: impl FnOnce() -> String) -> Option<Event> {
        if self.div.is_some() || self.diverged {
            return None;
        }
        match self.next.take() {
            Some(p) if p.icount == icount && p.event.kind() == kind => {
                self.advance();
                Some(p.event)
            }
            Some(p) => {
                let exp = format!("{} at icount {}", describe_for(&p.event, self.isa), p.icount);
                self.next = Some(p);
                self.diverge(icount, exp, format!("{} at icount {icount}", actual()));
                None
            }
            None => {
                self.diverge(icount, "the end of the log (the recording stops here)".into(), actual());
                None
            }
        }
    }

    /// Re-emit what a recorded write to stdout/stderr wrote: the first `ret` bytes of the data
    /// (a failed write wrote nothing, a short one only its prefix; the guest writes the rest
    /// again).
    fn reemit(&self, call: &HostCall, ret: i64) {
        if self.quiet || ret <= 0 {
            return;
        }
        let Some(stream) = self.stream_of(call.args[0]) else {
            return;
        };
        let mut left = ret as usize;
        let mut out: Box<dyn Write> =
            if stream == 1 { Box::new(std::io::stdout()) } else { Box::new(std::io::stderr()) };
        match call.nr {
            libc::SYS_write => {
                let n = left.min(call.args[2] as usize);
                // SAFETY: checked host pointer to a[2] >= n bytes (platform contract).
                let d = unsafe { std::slice::from_raw_parts(call.args[1] as *const u8, n) };
                let _ = out.write_all(d);
            }
            libc::SYS_writev => {
                let iov = call.args[1] as *const libc::iovec;
                for i in 0..call.args[2] as usize {
                    if left == 0 {
                        break;
                    }
                    // SAFETY: checked iovec array and buffers (platform contract); at most
                    // iov_len bytes of each are read.
                    let d = unsafe {
                        let v = *iov.add(i);
                        std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len.min(left))
                    };
                    left -= d.len();
                    let _ = out.write_all(d);
                }
            }
            _ => {}
        }
        let _ = out.flush();
    }
}

impl Replayer {
    /// The recording's stream (1 stdout, 2 stderr) that guest fd `fd` refers to.
    fn stream_of(&self, fd: u64) -> Option<u8> {
        self.streams.iter().find(|&&(f, _)| f == fd).map(|&(_, s)| s)
    }

    /// Follow what a successful host call did to the fds that refer to stdout/stderr.
    fn track_streams(&mut self, call: &HostCall, ret: i64) {
        if ret < 0 {
            return;
        }
        let a = call.args;
        let (from, to) = match call.nr {
            libc::SYS_close => (None, Some(a[0])),
            libc::SYS_dup => (Some(a[0]), Some(ret as u64)),
            libc::SYS_dup2 | libc::SYS_dup3 if a[0] != a[1] => (Some(a[0]), Some(a[1])),
            libc::SYS_fcntl if matches!(a[1] as i32, libc::F_DUPFD | libc::F_DUPFD_CLOEXEC) => {
                (Some(a[0]), Some(ret as u64))
            }
            // Any other call that returns a new fd (open, socket, pipe…) takes a free number,
            // which by then refers to nothing we track.
            _ => return,
        };
        let stream = from.and_then(|f| self.stream_of(f));
        if let Some(to) = to {
            self.streams.retain(|&(f, _)| f != to);
            if let Some(s) = stream {
                self.streams.push((to, s));
            }
        }
    }
}

impl World for Replayer {
    fn syscall(&mut self, icount: u64, call: &HostCall) -> i64 {
        let what = || format!("host call {}", host_syscall_name(call.nr as u64));
        let Some(Event::HostCall { nr, ret, outs, input }) = self.expect(icount, super::event::kind::HOSTCALL, what)
        else {
            return -(libc::EIO as i64);
        };
        if nr != call.nr as u64 {
            self.diverge(
                icount,
                format!("host call {}", host_syscall_name(nr)),
                format!("host call {}", host_syscall_name(call.nr as u64)),
            );
            return -(libc::EIO as i64);
        }
        if outs.len() != call.outs.len() {
            self.diverge(
                icount,
                format!("{} output buffers", outs.len()),
                format!("{} output buffers", call.outs.len()),
            );
            return -(libc::EIO as i64);
        }
        for (o, data) in call.outs.iter().zip(&outs) {
            let bad_len = data.len() > o.len || (o.upto_ret && ret >= 0 && ret as usize > o.len);
            if bad_len || data.len() != HostCall::produced(o, ret) {
                self.diverge(
                    icount,
                    format!("{} bytes written by {} (result {ret})", data.len(), host_syscall_name(nr)),
                    format!("a buffer of {} bytes", o.len),
                );
                return -(libc::EIO as i64);
            }
        }
        let got = input_digest(call);
        if input != got {
            let show = |d: Option<u64>| d.map_or("no data".into(), |d| format!("data with digest {d:016x}"));
            self.diverge(icount, format!("{} of {}", host_syscall_name(nr), show(input)), show(got));
            return -(libc::EIO as i64);
        }
        for (o, data) in call.outs.iter().zip(&outs) {
            // SAFETY: data.len() <= o.len, checked above; o is a live buffer (platform contract).
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), o.ptr, data.len()) };
        }
        if self.pos > self.emitted {
            self.reemit(call, ret);
            // Events up to `emitted` were tracked already (a seek back replays them again).
            self.track_streams(call, ret);
            self.emitted = self.pos;
        }
        ret
    }

    fn tsc(&mut self, icount: u64) -> u64 {
        let what = counter_name(self.isa);
        match self.expect(icount, super::event::kind::TSC, || what.into()) {
            Some(Event::Tsc { value }) => value,
            _ => 0,
        }
    }

    fn counter_ns(&mut self, icount: u64) -> u64 {
        match self.expect(icount, super::event::kind::TSC, || "counter read (cntvct_el0)".into()) {
            Some(Event::Tsc { value }) => value,
            _ => 0,
        }
    }

    fn random(&mut self, icount: u64, buf: &mut [u8]) {
        let n = buf.len();
        if let Some(Event::Random { bytes }) =
            self.expect(icount, super::event::kind::RANDOM, || format!("{n} random bytes"))
        {
            if bytes.len() == n {
                buf.copy_from_slice(&bytes);
            } else {
                self.diverge(icount, format!("{} random bytes", bytes.len()), format!("{n} random bytes"));
            }
        }
    }

    fn pending_signal(&mut self, icount: u64) -> Option<i32> {
        if self.div.is_some() || self.diverged {
            return None;
        }
        match self.peek() {
            // Every event of a log cut short is used up, and execution reached its last one.
            None if self.cut_at.is_some_and(|c| icount >= c) => {
                self.diverge(
                    icount,
                    "the end of the log (the recording stops here)".into(),
                    "execution going on".into(),
                );
                None
            }
            Some(Positioned { icount: at, event: Event::Signal { signo }, .. }) if *at == icount => {
                let s = *signo;
                self.advance();
                Some(s)
            }
            Some(Positioned { icount: at, event: Event::Signal { signo }, .. }) if *at < icount => {
                let (at, s) = (*at, *signo);
                self.diverge(
                    icount,
                    format!("asynchronous {} at icount {at}", crate::report::signal_name(s)),
                    "execution went past it".into(),
                );
                None
            }
            _ => None,
        }
    }

    fn syscall_entry(&mut self, icount: u64, nr: u64, args: &[u64; 6]) {
        let isa = self.isa;
        let actual = || format!("syscall {} {:x?}", guest_syscall_name(nr, isa), args);
        if let Some(Event::Syscall { nr: want, args: wargs }) = self.expect(icount, super::event::kind::SYSCALL, actual)
        {
            if want != nr || wargs != *args {
                self.diverge(
                    icount,
                    format!("syscall {} {:x?}", guest_syscall_name(want, isa), wargs),
                    format!("syscall {} {:x?}", guest_syscall_name(nr, isa), args),
                );
            }
        }
    }

    fn exception(&mut self, icount: u64, signo: i32, code: i32, addr: u64) {
        let actual = || format!("{} (code {code}, addr {addr:#x})", crate::report::signal_name(signo));
        let got = Event::Exception { signo, code, addr };
        if let Some(ev) = self.expect(icount, super::event::kind::EXCEPTION, actual) {
            if ev != got {
                self.diverge(icount, describe_for(&ev, self.isa), describe_for(&got, self.isa));
            }
        }
    }

    fn checkpoint(&mut self, icount: u64, digest: u64) {
        let actual = || format!("checkpoint with digest {digest:016x}");
        if let Some(Event::Checkpoint { id, digest: want }) =
            self.expect(icount, super::event::kind::CHECKPOINT, actual)
        {
            if want == digest {
                self.last_good = Some((id, icount));
            } else {
                self.diverge(
                    icount,
                    format!("checkpoint {id} with digest {want:016x}"),
                    format!("digest {digest:016x}"),
                );
            }
        }
    }

    fn checkpoint_every(&self) -> Option<u64> {
        (self.every > 0).then_some(self.every)
    }

    fn end(&mut self, icount: u64, status: EndStatus, digest: u64) {
        if status == EndStatus::Stopped && self.stop_at == Some(icount) {
            let recording_ends_here = matches!(
                self.peek(),
                Some(Positioned { icount: at, event: Event::End { .. } | Event::Shutdown { .. }, .. }) if *at == icount
            );
            if !recording_ends_here {
                // Stopped early, as asked: the rest of the log is simply not used.
                return;
            }
        }
        if matches!(self.peek(), Some(Positioned { event: Event::Shutdown { .. }, .. })) {
            self.advance();
        }
        let (kind, value) = match status {
            EndStatus::Exited(c) => (EndKind::Exited, c),
            EndStatus::Killed(s) => (EndKind::Killed, s),
            EndStatus::Stopped => (EndKind::Stopped, 0),
        };
        let got = Event::End { kind, value, digest };
        let isa = self.isa;
        if let Some(ev) = self.expect(icount, super::event::kind::END, || describe_for(&got, isa)) {
            if ev != got {
                self.diverge(icount, describe_for(&ev, self.isa), describe_for(&got, self.isa));
            }
        }
    }

    fn next_stop(&self) -> Option<u64> {
        match self.peek() {
            Some(Positioned { icount, event: Event::Signal { .. }, .. }) => Some(*icount),
            Some(_) => None,
            None => self.cut_at,
        }
    }

    fn log_position(&self) -> Option<LogPosition> {
        Some(LogPosition { event: self.pos, last_good: self.last_good })
    }

    /// Back (or forward) to a position taken earlier; a divergence seen since is forgotten,
    /// since the execution that caused it is being replaced.
    fn seek_log(&mut self, pos: &LogPosition) -> bool {
        let Some(m) = self.marks.iter().rev().find(|m| m.0 <= pos.event).cloned() else { return false };
        if m.0 == 0 {
            self.events = m.1;
            self.pos = 0;
            self.advance();
        } else {
            self.pos = m.0;
            self.events = m.1;
            self.next = m.2;
        }
        while self.pos < pos.event {
            if self.next.is_none() {
                return false;
            }
            self.advance();
        }
        self.last_good = pos.last_good;
        self.div = None;
        self.diverged = false;
        true
    }

    fn divergence(&mut self) -> Option<Divergence> {
        let d = self.div.take();
        if d.is_some() {
            self.diverged = true;
        }
        d
    }
}

impl Replayer {
    /// The recorded end, if the log has one: (kind, value, final icount).
    pub fn recorded_end(&self) -> Option<(EndKind, i32, u64)> {
        self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::log::{ISA_AARCH64, ISA_X86_64};

    /// Guest syscalls are named in the log's ISA's numbering (arm64 write is 64, exit_group
    /// 94; x86-64's are 1 and 231), host calls always in the host's (x86-64).
    #[test]
    fn events_are_described_in_the_logs_isa() {
        let sys = |nr| Event::Syscall { nr, args: [0; 6] };
        assert!(describe_for(&sys(64), ISA_AARCH64).starts_with("syscall write "));
        assert!(describe_for(&sys(94), ISA_AARCH64).starts_with("syscall exit_group "));
        assert!(describe_for(&sys(1), ISA_X86_64).starts_with("syscall write "));
        assert!(describe_for(&sys(231), ISA_X86_64).starts_with("syscall exit_group "));
        assert_eq!(describe(&sys(231)), describe_for(&sys(231), ISA_X86_64));
        assert!(describe_for(&sys(100_000), ISA_AARCH64).starts_with("syscall #100000 "));
        let host = Event::HostCall { nr: 1, ret: 3, outs: vec![], input: None };
        assert!(describe_for(&host, ISA_AARCH64).starts_with("host call write "));
        assert_eq!(describe_for(&Event::Tsc { value: 7 }, ISA_AARCH64), "cntvct_el0 = 7");
        assert_eq!(describe_for(&Event::Tsc { value: 7 }, ISA_X86_64), "rdtsc = 7");
        assert_eq!(guest_syscall_name(63, ISA_AARCH64), "read");
    }
}
