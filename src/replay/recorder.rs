//! Recording: a `World` that passes everything to the real host and logs what it returned.

use super::event::{EndKind, Event};
use super::log::LogWriter;
use crate::world::{Divergence, EndStatus, HostCall, World};

pub struct Recorder<W: World> {
    inner: W,
    log: LogWriter,
    every: u64,
    checkpoints: u64,
    /// The first write error; recording continues (the guest must not notice) and the error
    /// is reported at the end (`error_slot` lets the session see it once the recorder is
    /// inside the process).
    error: ErrorSlot,
    /// Set when an asynchronous signal ended the run (the guest had no handler).
    last_signal: Option<i32>,
    /// When the last chunk was pushed to the OS.
    last_flush: std::time::Instant,
}

/// The first error writing a log, shared between the recorder and its session.
#[derive(Clone, Default)]
pub struct ErrorSlot(std::rc::Rc<std::cell::RefCell<Option<std::io::Error>>>);

impl ErrorSlot {
    fn set(&self, e: std::io::Error) {
        self.0.borrow_mut().get_or_insert(e);
    }

    /// Take the error, if writing failed.
    pub fn take(&self) -> Option<std::io::Error> {
        self.0.borrow_mut().take()
    }
}

/// While the guest runs, the pending events are pushed to the OS at least this often (with an
/// `Icount` progress marker), so a deja killed outright loses little of its log.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl<W: World> Recorder<W> {
    pub fn new(inner: W, log: LogWriter, checkpoint_every: u64) -> Recorder<W> {
        Recorder {
            inner,
            log,
            every: checkpoint_every,
            checkpoints: 0,
            error: Default::default(),
            last_signal: None,
            last_flush: std::time::Instant::now(),
        }
    }

    fn put(&mut self, icount: u64, ev: Event) {
        if let Err(e) = self.log.event(icount, &ev) {
            self.error.set(e);
        }
    }

    /// Push the pending events to the OS as a chunk.
    fn flush(&mut self) {
        self.last_flush = std::time::Instant::now();
        if let Err(e) = self.log.flush_chunk() {
            self.error.set(e);
        }
    }

    /// Where the first write error will be, for the session to report.
    pub fn error_slot(&self) -> ErrorSlot {
        self.error.clone()
    }

    pub fn log(&self) -> &LogWriter {
        &self.log
    }
}

/// Digest of the data a write-like host call sends, so replay can check the guest wrote the
/// same bytes (without storing them).
pub fn input_digest(call: &HostCall) -> Option<u64> {
    let a = call.args;
    match call.nr {
        libc::SYS_write | libc::SYS_pwrite64 | libc::SYS_sendto => {
            // SAFETY: the platform passes a checked host pointer to `len` readable bytes.
            let data = unsafe { std::slice::from_raw_parts(a[1] as *const u8, a[2] as usize) };
            Some(xxhash_rust::xxh3::xxh3_64(data))
        }
        libc::SYS_writev | libc::SYS_pwritev => {
            let iov = a[1] as *const libc::iovec;
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for i in 0..a[2] as usize {
                // SAFETY: the platform passes a checked host iovec array of a[2] entries whose
                // buffers are checked host pointers.
                unsafe {
                    let v = *iov.add(i);
                    h.update(std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len));
                }
            }
            Some(h.digest())
        }
        _ => None,
    }
}

impl<W: World> World for Recorder<W> {
    fn syscall(&mut self, icount: u64, call: &HostCall) -> i64 {
        let input = input_digest(call);
        let ret = self.inner.syscall(icount, call);
        let outs = call
            .outs
            .iter()
            .map(|o| {
                let n = HostCall::produced(o, ret);
                // SAFETY: `o` describes a live buffer of o.len bytes (platform contract).
                unsafe { std::slice::from_raw_parts(o.ptr, n) }.to_vec()
            })
            .collect();
        self.put(icount, Event::HostCall { nr: call.nr as u64, ret, outs, input });
        ret
    }

    fn tsc(&mut self, icount: u64) -> u64 {
        let value = self.inner.tsc(icount);
        self.put(icount, Event::Tsc { value });
        value
    }

    fn counter_ns(&mut self, icount: u64) -> u64 {
        let value = self.inner.counter_ns(icount);
        self.put(icount, Event::Tsc { value });
        value
    }

    fn random(&mut self, icount: u64, buf: &mut [u8]) {
        self.inner.random(icount, buf);
        self.put(icount, Event::Random { bytes: buf.to_vec() });
    }

    fn pending_signal(&mut self, icount: u64) -> Option<i32> {
        // Called at every instruction boundary the run loop stops at: a good place to flush
        // now and then, with a marker of how far execution got.
        if self.last_flush.elapsed() >= FLUSH_INTERVAL {
            if let Err(e) = self.log.mark_progress(icount) {
                self.error.set(e);
            }
            self.flush();
        }
        let s = self.inner.pending_signal(icount)?;
        self.put(icount, Event::Signal { signo: s });
        self.last_signal = Some(s);
        Some(s)
    }

    fn syscall_entry(&mut self, icount: u64, nr: u64, args: &[u64; 6]) {
        self.put(icount, Event::Syscall { nr, args: *args });
    }

    fn exception(&mut self, icount: u64, signo: i32, code: i32, addr: u64) {
        self.put(icount, Event::Exception { signo, code, addr });
    }

    fn checkpoint(&mut self, icount: u64, digest: u64) {
        self.checkpoints += 1;
        let id = self.checkpoints;
        self.put(icount, Event::Checkpoint { id, digest });
        self.flush();
    }

    fn checkpoint_every(&self) -> Option<u64> {
        (self.every > 0).then_some(self.every)
    }

    fn end(&mut self, icount: u64, status: EndStatus, digest: u64) {
        let (kind, value) = match status {
            EndStatus::Exited(c) => (EndKind::Exited, c),
            EndStatus::Killed(s) => {
                if self.last_signal == Some(s) {
                    // An asynchronous signal (Ctrl-C, kill) ended the recording.
                    self.put(icount, Event::Shutdown { signo: s });
                }
                (EndKind::Killed, s)
            }
            EndStatus::Stopped => (EndKind::Stopped, 0),
        };
        self.put(icount, Event::End { kind, value, digest });
        if let Err(e) = self.log.finish() {
            self.error.set(e);
        }
    }

    fn divergence(&mut self) -> Option<Divergence> {
        None
    }
}
