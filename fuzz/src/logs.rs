//! `log_parse` and `replay_log`: the replay log reader, and replay of logs that parse.
//!
//! Byte-level mutations almost always break a chunk's crc32 or the embedded executable's hash,
//! and stop at the first check. So besides the raw bytes, the harnesses also try the bytes
//! with every complete chunk's crc recomputed (and, for replay, the header's executable hash
//! set to the embedded image's): mutations then reach the event decoder and the replayer.

use deja::arch::Arch;
use deja::engine::EngineKind;
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::arch_x86_64::X86_64;
use deja::linux::process::Options;
use deja::replay::event::{Cursor, EndKind, Event};
use deja::replay::log::{self, Log};
use deja::replay::replayer::{describe, Replayer};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Instructions a replay may run. The seed logs' runs are shorter (the longest, an alarm in a
/// busy loop, retires about 10^5); a mutated log may make the guest loop for ever.
pub const REPLAY_BUDGET: u64 = 2_000_000;
/// Guest memory a replayed guest may map.
const MAX_MEMORY: u64 = 256 << 20;

/// Offset of the first chunk frame (after the magic and the version).
const FIRST_FRAME: usize = 12;

/// The chunk frames of `data`: (frame offset, payload length), up to the first incomplete one.
pub fn frames(data: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut pos = FIRST_FRAME;
    while let Some(len) = data.get(pos..pos + 4) {
        let len = u32::from_le_bytes(len.try_into().unwrap()) as usize;
        if data.len() - pos - 4 < 4 + len {
            break;
        }
        v.push((pos, len));
        pos += 8 + len;
    }
    v
}

/// Recompute the crc32 of every complete chunk.
pub fn fix_crcs(data: &mut [u8]) {
    for (f, len) in frames(data) {
        let crc = crc32fast::hash(&data[f + 8..f + 8 + len]);
        data[f + 4..f + 8].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Set the header's executable hash to the hash of the executable it embeds (when the header
/// decodes that far). Call before `fix_crcs`.
pub fn fix_exe_hash(data: &mut [u8]) {
    let Some(&(f, len)) = frames(data).first() else { return };
    let payload = &data[f + 8..f + 8 + len];
    // isa, flags (4 bytes), checkpoint interval, exe hash (8 bytes), exe length, path, image.
    let mut c = Cursor::new(payload);
    let mut walk = || -> Result<(usize, usize, usize), deja::replay::event::DecodeError> {
        for _ in 0..5 {
            c.byte()?;
        }
        c.u()?;
        let hash_at = c.pos;
        c.u64_le()?;
        c.u()?;
        c.bytes()?;
        let n = c.bytes()?.len();
        Ok((hash_at, c.pos - n, c.pos))
    };
    if let Ok((h, img_start, img_end)) = walk() {
        let hash = log::exe_hash(&payload[img_start..img_end]);
        data[f + 8 + h..f + 8 + h + 8].copy_from_slice(&hash.to_le_bytes());
    }
}

/// `Log::parse` on the bytes as given and with their checksums fixed up. Oracle: no panic; a
/// refusal is one line; every event of a log that parses decodes again from its own encoding.
pub fn log_parse(data: &[u8]) {
    parse_checked(data);
    let mut d = data.to_vec();
    fix_crcs(&mut d);
    if d != data {
        parse_checked(&d);
    }
}

fn parse_checked(data: &[u8]) {
    let log = match Log::parse("fuzz", data) {
        Ok(l) => l,
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.chars().any(char::is_control), "log error is not one plain line: {msg:?}");
            return;
        }
    };
    let mut count = 0u64;
    let mut prev = 0u64;
    let mut buf = Vec::new();
    for p in log.events() {
        assert!(p.icount >= prev, "icounts go backwards: {} after {prev}", p.icount);
        let delta = p.icount - prev;
        prev = p.icount;
        count += 1;
        let _ = describe(&p.event);
        let _ = Event::kind_name(p.event.kind());
        // Round trip: what the writer would write for this event reads back the same.
        buf.clear();
        p.event.encode(delta, &mut buf);
        let mut c = Cursor::new(&buf);
        let back = c.event();
        assert_eq!(back, Ok((delta, p.event.clone())), "event does not round-trip: {:?}", p.event);
        assert!(c.at_end(), "encoding of {:?} has trailing bytes", p.event);
    }
    assert_eq!(count, log.event_count, "Log::event_count disagrees with the events");
    assert_eq!(log.is_complete(), matches!(log.last.as_ref().map(|p| &p.event), Some(Event::End { .. })));
    let _ = Replayer::new(&log, true).recorded_end();
}

/// Replay a log (checksums and executable hash fixed up first) to its verdict: the recorded
/// end, a divergence, a deadlock or the instruction bound. Oracle: no panic, no hang; nothing
/// reaches the host (the replaying world performs no syscall and the output is not re-emitted;
/// the executable must be embedded in the log: a fuzzed log never names a host file to read).
pub fn replay_log(data: &[u8]) {
    let mut d = data.to_vec();
    fix_exe_hash(&mut d);
    fix_crcs(&mut d);
    let Ok(log) = Log::from_vec("fuzz", d) else { return };
    match log.header.isa {
        log::ISA_X86_64 => replay::<X86_64>(&log),
        log::ISA_AARCH64 => replay::<Aarch64>(&log),
        _ => {}
    }
}

/// What `deja::replay::session::prepare_replay` and `replay` do, from memory, on every engine
/// (their verdicts, icounts and final digests must agree).
fn replay<A: Arch>(log: &Log) {
    let h = &log.header;
    let Some(image) = &h.exe_image else { return };
    if log::exe_hash(image) != h.exe_hash {
        return;
    }
    let mut first: Option<(String, u64, u64)> = None;
    for &engine in EngineKind::ALL {
        let replayer = Replayer::new(log, true);
        let mut max = REPLAY_BUDGET;
        if let Some((EndKind::Stopped, _, at)) = replayer.recorded_end() {
            max = max.min(at);
        }
        let opts = Options { max_icount: Some(max), max_memory: Some(MAX_MEMORY), engine, ..Options::default() };
        let exe = Path::new(OsStr::from_bytes(&h.exe_path));
        let Ok(mut p) = deja::linux::start_image::<A>("fuzz", image, exe, &h.argv, &h.envp, Box::new(replayer), opts)
        else {
            return;
        };
        let r = p.run();
        assert!(p.m.icount <= max, "replay ran past its instruction bound: {} > {max}", p.m.icount);
        let end = (format!("{r:?}"), p.m.icount, p.digest());
        match &first {
            None => first = Some(end),
            Some(want) => assert_eq!(&end, want, "{engine:?} replays differently from {:?}", EngineKind::ALL[0]),
        }
    }
}
