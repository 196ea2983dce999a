//! Replay log events and their byte encoding (see docs/replay-format.md).
//!
//! Every event is a kind byte, the number of instructions retired since the previous event
//! (LEB128), then its fields. Integers are LEB128 (signed ones zigzag-free SLEB128), byte
//! arrays are a LEB128 length followed by the bytes, digests are 8 bytes little-endian.

/// Event kind bytes. Changing any of these changes the format version.
pub mod kind {
    pub const SYSCALL: u8 = 0x01;
    pub const HOSTCALL: u8 = 0x02;
    pub const TSC: u8 = 0x03;
    pub const RANDOM: u8 = 0x04;
    pub const SIGNAL: u8 = 0x05;
    pub const CHECKPOINT: u8 = 0x06;
    pub const EXCEPTION: u8 = 0x07;
    pub const SHUTDOWN: u8 = 0x08;
    pub const END: u8 = 0x09;
    pub const ICOUNT: u8 = 0x0a;
}

/// How the recorded run ended (END event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    Exited = 0,
    Killed = 1,
    Stopped = 2,
}

/// One event, with the absolute icount it is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The guest entered a syscall (guest numbering and raw arguments).
    Syscall { nr: u64, args: [u64; 6] },
    /// A host syscall made for the guest: its result and the bytes the kernel wrote into each
    /// declared output buffer; `input` is a digest of the data the guest passed (writes).
    HostCall { nr: u64, ret: i64, outs: Vec<Vec<u8>>, input: Option<u64> },
    /// A time stamp counter read.
    Tsc { value: u64 },
    /// Random bytes given to the guest (AT_RANDOM, rdrand).
    Random { bytes: Vec<u8> },
    /// An asynchronous signal delivered at this icount.
    Signal { signo: i32 },
    /// Periodic state digest.
    Checkpoint { id: u64, digest: u64 },
    /// A synchronous fault delivered to (or killing) the guest.
    Exception { signo: i32, code: i32, addr: u64 },
    /// deja was interrupted (Ctrl-C, SIGTERM) while recording.
    Shutdown { signo: i32 },
    /// The end of the run.
    End { kind: EndKind, value: i32, digest: u64 },
    /// Progress marker: no effect, records how far execution got.
    Icount,
}

impl Event {
    pub fn kind(&self) -> u8 {
        match self {
            Event::Syscall { .. } => kind::SYSCALL,
            Event::HostCall { .. } => kind::HOSTCALL,
            Event::Tsc { .. } => kind::TSC,
            Event::Random { .. } => kind::RANDOM,
            Event::Signal { .. } => kind::SIGNAL,
            Event::Checkpoint { .. } => kind::CHECKPOINT,
            Event::Exception { .. } => kind::EXCEPTION,
            Event::Shutdown { .. } => kind::SHUTDOWN,
            Event::End { .. } => kind::END,
            Event::Icount => kind::ICOUNT,
        }
    }

    pub fn kind_name(k: u8) -> &'static str {
        match k {
            kind::SYSCALL => "syscall",
            kind::HOSTCALL => "hostcall",
            kind::TSC => "tsc",
            kind::RANDOM => "random",
            kind::SIGNAL => "signal",
            kind::CHECKPOINT => "checkpoint",
            kind::EXCEPTION => "exception",
            kind::SHUTDOWN => "shutdown",
            kind::END => "end",
            kind::ICOUNT => "icount",
            _ => "unknown",
        }
    }

    /// Append the encoding of this event (at `delta` instructions after the previous one).
    pub fn encode(&self, delta: u64, out: &mut Vec<u8>) {
        out.push(self.kind());
        put_u(out, delta);
        match self {
            Event::Syscall { nr, args } => {
                put_u(out, *nr);
                for a in args {
                    put_u(out, *a);
                }
            }
            Event::HostCall { nr, ret, outs, input } => {
                put_u(out, *nr);
                put_i(out, *ret);
                put_u(out, outs.len() as u64);
                for o in outs {
                    put_bytes(out, o);
                }
                match input {
                    Some(d) => {
                        out.push(1);
                        out.extend_from_slice(&d.to_le_bytes());
                    }
                    None => out.push(0),
                }
            }
            Event::Tsc { value } => put_u(out, *value),
            Event::Random { bytes } => put_bytes(out, bytes),
            Event::Signal { signo } | Event::Shutdown { signo } => put_u(out, *signo as u64),
            Event::Checkpoint { id, digest } => {
                put_u(out, *id);
                out.extend_from_slice(&digest.to_le_bytes());
            }
            Event::Exception { signo, code, addr } => {
                put_u(out, *signo as u64);
                put_i(out, *code as i64);
                put_u(out, *addr);
            }
            Event::End { kind, value, digest } => {
                out.push(*kind as u8);
                put_i(out, *value as i64);
                out.extend_from_slice(&digest.to_le_bytes());
            }
            Event::Icount => {}
        }
    }
}

/// Why bytes could not be decoded as an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset of the problem within the chunk payload.
    pub offset: usize,
    pub why: String,
}

/// A cursor over an event payload.
pub struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

/// Largest array an event may carry (a single read/getdents result).
pub const MAX_ARRAY: u64 = 1 << 30;

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    fn err(&self, why: impl Into<String>) -> DecodeError {
        DecodeError { offset: self.pos, why: why.into() }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.err("unexpected end of chunk"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn u(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = (b & 0x7f) as u64;
            if shift == 63 && part > 1 {
                self.pos = start;
                return Err(self.err("integer overflows 64 bits"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        self.pos = start;
        Err(self.err("integer longer than 10 bytes"))
    }

    pub fn i(&mut self) -> Result<i64, DecodeError> {
        let z = self.u()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        let end = self
            .pos
            .checked_add(8)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("unexpected end of chunk"))?;
        let v = u64::from_le_bytes(self.buf[self.pos..end].try_into().unwrap());
        self.pos = end;
        Ok(v)
    }

    pub fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u()?;
        if n > MAX_ARRAY || n as usize > self.buf.len() - self.pos {
            return Err(self.err(format!("array length {n} exceeds the chunk")));
        }
        let v = self.buf[self.pos..self.pos + n as usize].to_vec();
        self.pos += n as usize;
        Ok(v)
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        let v = self.i()?;
        i32::try_from(v).map_err(|_| self.err(format!("value {v} out of range")))
    }

    /// Decode one event; returns it with its icount delta.
    pub fn event(&mut self) -> Result<(u64, Event), DecodeError> {
        let start = self.pos;
        let k = self.byte()?;
        let delta = self.u()?;
        let ev = match k {
            kind::SYSCALL => {
                let nr = self.u()?;
                let mut args = [0u64; 6];
                for a in args.iter_mut() {
                    *a = self.u()?;
                }
                Event::Syscall { nr, args }
            }
            kind::HOSTCALL => {
                let nr = self.u()?;
                let ret = self.i()?;
                let n = self.u()?;
                if n > 64 {
                    return Err(self.err(format!("{n} output buffers in one host call")));
                }
                let mut outs = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    outs.push(self.bytes()?);
                }
                let input = match self.byte()? {
                    0 => None,
                    1 => Some(self.u64_le()?),
                    b => return Err(self.err(format!("bad input-digest flag {b}"))),
                };
                Event::HostCall { nr, ret, outs, input }
            }
            kind::TSC => Event::Tsc { value: self.u()? },
            kind::RANDOM => Event::Random { bytes: self.bytes()? },
            kind::SIGNAL | kind::SHUTDOWN => {
                let s = self.u()?;
                if !(1..=64).contains(&s) {
                    return Err(self.err(format!("signal number {s} out of range")));
                }
                if k == kind::SIGNAL {
                    Event::Signal { signo: s as i32 }
                } else {
                    Event::Shutdown { signo: s as i32 }
                }
            }
            kind::CHECKPOINT => Event::Checkpoint { id: self.u()?, digest: self.u64_le()? },
            kind::EXCEPTION => {
                let signo = self.u()?;
                if !(1..=64).contains(&signo) {
                    return Err(self.err(format!("signal number {signo} out of range")));
                }
                Event::Exception { signo: signo as i32, code: self.i32()?, addr: self.u()? }
            }
            kind::END => {
                let kind = match self.byte()? {
                    0 => EndKind::Exited,
                    1 => EndKind::Killed,
                    2 => EndKind::Stopped,
                    b => return Err(self.err(format!("bad end kind {b}"))),
                };
                Event::End { kind, value: self.i32()?, digest: self.u64_le()? }
            }
            kind::ICOUNT => Event::Icount,
            _ => {
                self.pos = start;
                return Err(self.err(format!("unknown event kind {k:#04x}")));
            }
        };
        Ok((delta, ev))
    }
}

pub fn put_u(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Signed integers are zigzag-encoded LEB128.
pub fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u(out, b.len() as u64);
    out.extend_from_slice(b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let evs = vec![
            Event::Syscall { nr: 1, args: [1, 2, 3, u64::MAX, 0, 7] },
            Event::HostCall { nr: 0, ret: -2, outs: vec![vec![1, 2, 3], vec![]], input: Some(42) },
            Event::HostCall { nr: 0, ret: i64::MIN, outs: vec![], input: None },
            Event::Tsc { value: 1 << 63 },
            Event::Random { bytes: vec![9; 16] },
            Event::Signal { signo: 14 },
            Event::Checkpoint { id: 3, digest: 0xdead_beef },
            Event::Exception { signo: 11, code: -1, addr: 0 },
            Event::Shutdown { signo: 2 },
            Event::End { kind: EndKind::Killed, value: 6, digest: 5 },
            Event::Icount,
        ];
        let mut buf = Vec::new();
        for (i, e) in evs.iter().enumerate() {
            e.encode(i as u64 * 1000, &mut buf);
        }
        let mut c = Cursor::new(&buf);
        for (i, e) in evs.iter().enumerate() {
            assert_eq!(c.event().unwrap(), (i as u64 * 1000, e.clone()));
        }
        assert!(c.at_end());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut seed = 7u64;
        for len in 0..200 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let mut c = Cursor::new(&buf);
            while !c.at_end() {
                if c.event().is_err() {
                    break;
                }
            }
        }
    }
}
