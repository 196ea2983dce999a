//! The replay log file: magic, version, a header chunk, then event chunks. Every chunk is
//! framed as `u32 length, u32 crc32(payload), payload` (little-endian), so truncation and
//! corruption are detected and named by chunk and file offset. Byte-level spec:
//! docs/replay-format.md.

use super::event::{put_bytes, put_u, Cursor, Event};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// File magic.
pub const MAGIC: &[u8; 8] = b"DEJALOG\0";
/// Format version: bump on every change to the header, the framing or any event encoding.
pub const VERSION: u32 = 1;
/// An event chunk is written out once its payload reaches this size.
pub const CHUNK_TARGET: usize = 64 << 10;
/// Largest chunk a reader accepts (one event may be large, e.g. a big read()).
pub const MAX_CHUNK: u32 = 1 << 30;

/// Guest ISA codes in the header.
pub const ISA_X86_64: u8 = 1;
pub const ISA_AARCH64: u8 = 2;

/// Header flag: the executable image is embedded in the header.
pub const FLAG_EXE_EMBEDDED: u32 = 1;

/// Everything a replay needs to start the same program in the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub isa: u8,
    pub flags: u32,
    pub checkpoint_every: u64,
    /// xxh3-64 of the executable image and its length.
    pub exe_hash: u64,
    pub exe_len: u64,
    pub exe_path: Vec<u8>,
    pub exe_image: Option<Vec<u8>>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    /// The deja that recorded it (informational).
    pub recorder: String,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.push(self.isa);
        b.extend_from_slice(&self.flags.to_le_bytes());
        put_u(&mut b, self.checkpoint_every);
        b.extend_from_slice(&self.exe_hash.to_le_bytes());
        put_u(&mut b, self.exe_len);
        put_bytes(&mut b, &self.exe_path);
        put_bytes(&mut b, self.exe_image.as_deref().unwrap_or(&[]));
        put_u(&mut b, self.argv.len() as u64);
        for a in &self.argv {
            put_bytes(&mut b, a);
        }
        put_u(&mut b, self.envp.len() as u64);
        for e in &self.envp {
            put_bytes(&mut b, e);
        }
        put_bytes(&mut b, self.recorder.as_bytes());
        b
    }

    fn decode(buf: &[u8]) -> Result<Header, String> {
        let mut c = Cursor::new(buf);
        let e = |d: super::event::DecodeError| format!("header offset {}: {}", d.offset, d.why);
        let isa = c.byte().map_err(e)?;
        let mut fl = [0u8; 4];
        for b in fl.iter_mut() {
            *b = c.byte().map_err(e)?;
        }
        let flags = u32::from_le_bytes(fl);
        let checkpoint_every = c.u().map_err(e)?;
        let exe_hash = c.u64_le().map_err(e)?;
        let exe_len = c.u().map_err(e)?;
        let exe_path = c.bytes().map_err(e)?;
        let image = c.bytes().map_err(e)?;
        let exe_image = (flags & FLAG_EXE_EMBEDDED != 0).then_some(image);
        let list = |c: &mut Cursor| -> Result<Vec<Vec<u8>>, String> {
            let n = c.u().map_err(e)?;
            if n > 1 << 20 {
                return Err(format!("{n} strings in the header"));
            }
            (0..n).map(|_| c.bytes().map_err(e)).collect()
        };
        let argv = list(&mut c)?;
        let envp = list(&mut c)?;
        let recorder = String::from_utf8_lossy(&c.bytes().map_err(e)?).into_owned();
        Ok(Header { isa, flags, checkpoint_every, exe_hash, exe_len, exe_path, exe_image, argv, envp, recorder })
    }
}

/// Hash of an executable image as stored in the header.
pub fn exe_hash(image: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(image)
}

/// Why a log cannot be read. Each renders as one line naming the problem.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: is a directory, not a deja log")]
    Directory(String),
    #[error("{0}: empty file, not a deja log")]
    Empty(String),
    #[error("{0}: not a deja log (bad magic)")]
    BadMagic(String),
    #[error("{path}: log format version {found}, this deja reads version {VERSION}")]
    Version { path: String, found: u32 },
    #[error("{path}: truncated in chunk {chunk} at byte {offset}: {why}")]
    Truncated { path: String, chunk: u64, offset: u64, why: String },
    #[error("{path}: corrupt chunk {chunk} at byte {offset}: {why}")]
    Corrupt { path: String, chunk: u64, offset: u64, why: String },
}

/// Writes a log: header first, then events in icount order, in checksummed chunks.
pub struct LogWriter {
    out: BufWriter<File>,
    buf: Vec<u8>,
    last_icount: u64,
    events: u64,
    bytes: u64,
}

impl LogWriter {
    pub fn create(path: &Path, header: &Header) -> std::io::Result<LogWriter> {
        let f = File::create(path)?;
        let mut w = LogWriter {
            out: BufWriter::with_capacity(256 << 10, f),
            buf: Vec::new(),
            last_icount: 0,
            events: 0,
            bytes: 0,
        };
        w.out.write_all(MAGIC)?;
        w.out.write_all(&VERSION.to_le_bytes())?;
        w.bytes = 12;
        w.write_chunk(&header.encode())?;
        w.out.flush()?;
        Ok(w)
    }

    fn write_chunk(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.out.write_all(&(payload.len() as u32).to_le_bytes())?;
        self.out.write_all(&crc32fast::hash(payload).to_le_bytes())?;
        self.out.write_all(payload)?;
        self.bytes += 8 + payload.len() as u64;
        Ok(())
    }

    /// Append an event at `icount` (never earlier than the previous one).
    pub fn event(&mut self, icount: u64, ev: &Event) -> std::io::Result<()> {
        let delta = icount.saturating_sub(self.last_icount);
        self.last_icount = self.last_icount.max(icount);
        ev.encode(delta, &mut self.buf);
        self.events += 1;
        if self.buf.len() >= CHUNK_TARGET {
            self.flush_chunk()?;
        }
        Ok(())
    }

    /// Record that execution has reached `icount` (an `Icount` progress marker), unless an
    /// event already says so.
    pub fn mark_progress(&mut self, icount: u64) -> std::io::Result<()> {
        if icount > self.last_icount {
            self.event(icount, &Event::Icount)?;
        }
        Ok(())
    }

    /// Write the pending events as a chunk and push it to the OS, so it survives a crash.
    pub fn flush_chunk(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let payload = std::mem::take(&mut self.buf);
            self.write_chunk(&payload)?;
            self.buf = payload;
            self.buf.clear();
        }
        self.out.flush()
    }

    /// Flush everything and sync the file.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.flush_chunk()?;
        self.out.get_ref().sync_data()
    }

    pub fn events_written(&self) -> u64 {
        self.events
    }

    pub fn bytes_written(&self) -> u64 {
        self.bytes + self.buf.len() as u64
    }
}

/// A positioned event read from a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positioned {
    pub icount: u64,
    pub event: Event,
    pub chunk: u64,
    /// File offset of the event's first byte.
    pub offset: u64,
}

/// A whole log, read and verified up front (every chunk's crc and every event's encoding).
/// The events stay encoded in memory (a few bytes each) and are decoded again on demand by
/// [`Log::events`], so a long recording does not need many times its size in memory.
pub struct Log {
    pub path: String,
    pub header: Header,
    pub file_size: u64,
    /// Number of events.
    pub event_count: u64,
    /// The last event, if any (the `end` event of a complete recording).
    pub last: Option<Positioned>,
    body: Arc<Body>,
}

/// The verified event chunks of a log.
struct Body {
    data: Vec<u8>,
    chunks: Vec<ChunkRef>,
}

/// Where an event chunk's payload is in the file.
struct ChunkRef {
    index: u64,
    start: usize,
    len: usize,
}

/// The events of a log in order, decoded as they are taken. Owns (a share of) the log's
/// bytes, so it may outlive the `Log`.
#[derive(Clone)]
pub struct Events {
    body: Arc<Body>,
    chunk: usize,
    pos: usize,
    icount: u64,
}

impl Iterator for Events {
    type Item = Positioned;

    fn next(&mut self) -> Option<Positioned> {
        loop {
            let c = self.body.chunks.get(self.chunk)?;
            if self.pos >= c.len {
                self.chunk += 1;
                self.pos = 0;
                continue;
            }
            let mut cur = Cursor::new(&self.body.data[c.start..c.start + c.len]);
            cur.pos = self.pos;
            // Everything was decoded once by `Log::parse`: an error cannot happen here, and
            // would only end the iteration.
            let (delta, event) = cur.event().ok()?;
            let offset = (c.start + self.pos) as u64;
            self.pos = cur.pos;
            self.icount = self.icount.checked_add(delta)?;
            return Some(Positioned { icount: self.icount, event, chunk: c.index, offset });
        }
    }
}

impl Log {
    pub fn open(path: &Path) -> Result<Log, LogError> {
        let name = path.display().to_string();
        if path.is_dir() {
            return Err(LogError::Directory(name));
        }
        let data = std::fs::read(path).map_err(|e| LogError::Io(name.clone(), e))?;
        Log::from_vec(&name, data)
    }

    pub fn parse(name: &str, data: &[u8]) -> Result<Log, LogError> {
        Log::from_vec(name, data.to_vec())
    }

    /// Verify the bytes of a log (named `name` in errors) and keep them.
    pub fn from_vec(name: &str, data: Vec<u8>) -> Result<Log, LogError> {
        if data.is_empty() {
            return Err(LogError::Empty(name.into()));
        }
        if data.len() < 8 || &data[..8] != MAGIC {
            return Err(LogError::BadMagic(name.into()));
        }
        if data.len() < 12 {
            return Err(LogError::Truncated {
                path: name.into(),
                chunk: 0,
                offset: data.len() as u64,
                why: "no version".into(),
            });
        }
        let found = u32::from_le_bytes(data[8..12].try_into().unwrap());
        if found != VERSION {
            return Err(LogError::Version { path: name.into(), found });
        }
        let mut pos = 12usize;
        let mut chunk = 0u64;
        let mut header = None;
        let mut chunks = Vec::new();
        let mut last: Option<Positioned> = None;
        let mut event_count = 0u64;
        let mut icount = 0u64;
        while pos < data.len() {
            let trunc = |why: &str, at: usize| LogError::Truncated {
                path: name.into(),
                chunk,
                offset: at as u64,
                why: why.into(),
            };
            if data.len() - pos < 8 {
                return Err(trunc("incomplete chunk frame", pos));
            }
            let len = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap());
            let crc = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap());
            if len > MAX_CHUNK {
                return Err(LogError::Corrupt {
                    path: name.into(),
                    chunk,
                    offset: pos as u64,
                    why: format!("chunk length {len} is absurd"),
                });
            }
            let start = pos + 8;
            let Some(payload) = data.get(start..start + len as usize) else {
                return Err(trunc(&format!("chunk of {len} bytes has only {} left", data.len() - start), pos));
            };
            if crc32fast::hash(payload) != crc {
                return Err(LogError::Corrupt {
                    path: name.into(),
                    chunk,
                    offset: pos as u64,
                    why: "checksum mismatch".into(),
                });
            }
            if chunk == 0 {
                header = Some(Header::decode(payload).map_err(|why| LogError::Corrupt {
                    path: name.into(),
                    chunk,
                    offset: start as u64,
                    why,
                })?);
            } else {
                let mut c = Cursor::new(payload);
                while !c.at_end() {
                    let at = c.pos;
                    let (delta, ev) = c.event().map_err(|d| LogError::Corrupt {
                        path: name.into(),
                        chunk,
                        offset: (start + d.offset) as u64,
                        why: d.why,
                    })?;
                    if matches!(last, Some(Positioned { event: Event::End { .. }, .. })) {
                        return Err(LogError::Corrupt {
                            path: name.into(),
                            chunk,
                            offset: (start + at) as u64,
                            why: "event after the end of the recording".into(),
                        });
                    }
                    icount = icount.checked_add(delta).ok_or_else(|| LogError::Corrupt {
                        path: name.into(),
                        chunk,
                        offset: (start + at) as u64,
                        why: "icount overflows".into(),
                    })?;
                    event_count += 1;
                    last = Some(Positioned { icount, event: ev, chunk, offset: (start + at) as u64 });
                }
                chunks.push(ChunkRef { index: chunk, start, len: len as usize });
            }
            pos = start + len as usize;
            chunk += 1;
        }
        let header = header.ok_or_else(|| LogError::Truncated {
            path: name.into(),
            chunk: 0,
            offset: 12,
            why: "no header".into(),
        })?;
        let file_size = data.len() as u64;
        Ok(Log { path: name.into(), header, file_size, event_count, last, body: Arc::new(Body { data, chunks }) })
    }

    /// The events, in order.
    pub fn events(&self) -> Events {
        Events { body: self.body.clone(), chunk: 0, pos: 0, icount: 0 }
    }

    /// Does the log end with an END event (a complete recording)?
    pub fn is_complete(&self) -> bool {
        matches!(self.last, Some(Positioned { event: Event::End { .. }, .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            isa: ISA_X86_64,
            flags: FLAG_EXE_EMBEDDED,
            checkpoint_every: 1000,
            exe_hash: 7,
            exe_len: 3,
            exe_path: b"/bin/x".to_vec(),
            exe_image: Some(vec![1, 2, 3]),
            argv: vec![b"x".to_vec(), b"-y".to_vec()],
            envp: vec![b"A=B".to_vec()],
            recorder: "deja test".into(),
        }
    }

    fn sample() -> Vec<u8> {
        // A name per call: tests run in parallel threads of one process.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("deja-logtest-{}-{n}", std::process::id()));
        let mut w = LogWriter::create(&dir, &header()).unwrap();
        for i in 0..5000u64 {
            w.event(i * 10, &Event::Tsc { value: i }).unwrap();
        }
        w.event(60_000, &Event::End { kind: super::super::event::EndKind::Exited, value: 0, digest: 9 }).unwrap();
        w.finish().unwrap();
        let d = std::fs::read(&dir).unwrap();
        let _ = std::fs::remove_file(&dir);
        d
    }

    #[test]
    fn round_trip() {
        let d = sample();
        let log = Log::parse("t", &d).unwrap();
        assert_eq!(log.header, header());
        assert_eq!(log.event_count, 5001);
        let evs: Vec<Positioned> = log.events().collect();
        assert_eq!(evs.len(), 5001);
        assert_eq!(evs[4999].icount, 49_990);
        assert_eq!(evs[4999].event, Event::Tsc { value: 4999 });
        assert_eq!(log.last.as_ref(), evs.last());
        assert!(evs.windows(2).all(|w| w[0].offset < w[1].offset && w[0].icount <= w[1].icount));
        assert!(log.is_complete());
    }

    #[test]
    fn every_truncation_and_flip_is_named() {
        let d = sample();
        for cut in (0..d.len()).step_by(97) {
            match Log::parse("t", &d[..cut]) {
                Ok(log) => assert!(!log.is_complete() || cut == d.len()),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        for i in (12..d.len()).step_by(131) {
            let mut x = d.clone();
            x[i] ^= 0x40;
            let e = Log::parse("t", &x).err().expect("flipped byte detected");
            let s = e.to_string();
            assert!(s.contains("chunk"), "{s}");
        }
    }

    #[test]
    fn nothing_after_the_end() {
        let mut d = sample();
        // Append a chunk holding one more event.
        let mut payload = Vec::new();
        Event::Tsc { value: 1 }.encode(0, &mut payload);
        let at = d.len() as u64;
        d.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        d.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        d.extend_from_slice(&payload);
        match Log::parse("t", &d) {
            Err(LogError::Corrupt { offset, why, .. }) => {
                assert_eq!(offset, at + 8);
                assert!(why.contains("after the end"), "{why}");
            }
            r => panic!("{:?}", r.map(|l| l.event_count)),
        }
    }

    #[test]
    fn version_and_magic() {
        let mut d = sample();
        d[8] = 99;
        assert!(matches!(Log::parse("t", &d), Err(LogError::Version { found: 99, .. })));
        assert!(matches!(Log::parse("t", b"ELF\x7f...."), Err(LogError::BadMagic(_))));
        assert!(matches!(Log::parse("t", b""), Err(LogError::Empty(_))));
    }
}
