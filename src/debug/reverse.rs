//! The replay as a timeline the debugger moves along, in both directions (design §4).
//!
//! A *moment* is the state at an icount once that instruction boundary is complete (its
//! checkpoint taken and its signals delivered): `Process::advance(n)` lands on moment `n`
//! exactly, from any earlier moment, because engines obey their budgets exactly. Going back
//! is restoring the latest snapshot at or before the target and advancing to it.
//!
//! - Breakpoints are addresses the run loop checks (the engine stops before executing an
//!   instruction at one); nothing is written into guest memory. Going forward, a breakpoint
//!   hits at the first later moment whose pc is one; going back, at the last earlier one.
//! - Watchpoints single-step (budget 1). A write watchpoint hits when an instruction changes
//!   the watched bytes (syscalls writing guest memory included); read and access watchpoints
//!   decode the instruction's memory operands (`DebugArch::mem_accesses`). Going forward the
//!   stop is after the instruction, as on x86 hardware; going back it is before it (the moment
//!   whose next instruction made the access), as gdb expects of reverse execution. For an ISA
//!   whose watchpoints gdb steps over itself (`DebugArch::WATCH_BEFORE`, AArch64) it is the
//!   other way round: forward the stop is before the accessing instruction (predicted from
//!   its operands, writes included), backward after it; gdb then steps over the instruction
//!   with the watchpoints removed and lands where x86 would.
//! - `reverse_continue` scans backwards interval by interval (snapshot to snapshot): restore
//!   the interval's snapshot, run it forward recording hits, and land on the last one. An
//!   interval in which no watched page was written (the snapshots' written-page lists say so)
//!   is skipped without running it when only write watchpoints are set.

use super::snapshot::Snapshots;
use super::{DebugArch, MemAccess};
use crate::linux::process::{Advance, RunError};
use crate::linux::Outcome;
use crate::mem::PAGE_SHIFT;
use crate::world::EndStatus;
use gdbstub::target::ext::breakpoints::WatchKind;

/// Why a movement along the timeline stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Reached the icount asked for (a step, a seek).
    Done,
    Breakpoint,
    Watch {
        kind: WatchKind,
        addr: u64,
    },
    /// The start of the log, going backwards.
    Begin,
    /// The end of the log (or of what can be replayed), going forwards.
    End,
    /// The guest was killed by this signal here (reported once; going on is `End`).
    Signal(i32),
    /// The debugger asked to stop (Ctrl-C).
    Interrupted,
}

/// A watched memory range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Exited,
    Killed,
    /// Diverged or failed: nothing further can be replayed.
    Stopped,
}

/// How many instructions to run between checks for a Ctrl-C from the debugger.
const SLICE: u64 = 1 << 22;
/// The same, when single-stepping for watchpoints.
const STEP_SLICE: u64 = 1 << 14;
/// Distance before a landing point of the nearest fine snapshot (then ×4, ×16, …).
const FINE_FIRST: u64 = 4096;

pub struct Timeline<A: DebugArch> {
    pub p: crate::linux::Process<A>,
    pub snaps: Snapshots<A>,
    /// Breakpoint addresses, sorted (duplicates allowed: gdb may insert one twice).
    pub bps: Vec<u64>,
    pub watches: Vec<Watch>,
    ended: Option<Ended>,
    /// The last icount that can be replayed (a recording the emulator stopped), or MAX.
    limit: u64,
    end_checked: bool,
    scratch: Vec<MemAccess>,
}

impl<A: DebugArch> Timeline<A> {
    /// A timeline over a replay prepared at its first instruction; `limit` is where the
    /// recording was stopped by the emulator, if it was.
    pub fn new(mut p: crate::linux::Process<A>, every: u64, budget: usize, limit: Option<u64>) -> Timeline<A> {
        p.opts.max_icount = None;
        let snaps = Snapshots::new(&mut p, every, budget);
        Timeline {
            p,
            snaps,
            bps: Vec::new(),
            watches: Vec::new(),
            ended: None,
            limit: limit.unwrap_or(u64::MAX),
            end_checked: false,
            scratch: Vec::new(),
        }
    }

    pub fn icount(&self) -> u64 {
        self.p.m.icount
    }

    pub fn pc(&self) -> u64 {
        A::pc(&self.p.m.cpu)
    }

    /// Has the process ended at the current icount?
    pub fn at_end(&self) -> bool {
        self.ended.is_some() || self.icount() >= self.limit
    }

    pub fn add_breakpoint(&mut self, addr: u64) {
        let i = self.bps.partition_point(|&a| a < addr);
        self.bps.insert(i, addr);
    }

    pub fn remove_breakpoint(&mut self, addr: u64) -> bool {
        match self.bps.binary_search(&addr) {
            Ok(i) => {
                self.bps.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    fn at_breakpoint(&self) -> bool {
        self.bps.binary_search(&self.pc()).is_ok()
    }

    fn restore(&mut self, k: u64) {
        self.snaps.restore(&mut self.p, k);
        self.ended = None;
    }

    /// Advance to `until` (capped at the limit), stopping at snapshot points to take or pass
    /// snapshots, and at breakpoints if `use_bps`.
    fn advance_snap(&mut self, until: u64, use_bps: bool) -> Advance {
        let until = until.min(self.limit);
        loop {
            let seg = until.min(self.snaps.next_point(self.p.m.icount));
            let stops: &[u64] = if use_bps { &self.bps } else { &[] };
            match self.p.advance(seg, stops) {
                Advance::Reached => {
                    self.snaps.at_moment(&mut self.p);
                    if self.p.m.icount >= until {
                        return Advance::Reached;
                    }
                    if use_bps && self.at_breakpoint() {
                        return Advance::Stop;
                    }
                }
                other => return other,
            }
        }
    }

    /// The process ended: remember how, and say so the way the debugger reports it.
    fn on_end(&mut self, r: Result<Outcome, RunError>) -> Stop {
        match r {
            Ok(out) => {
                let (status, stop, ended) = match out {
                    Outcome::Exited(c) => (EndStatus::Exited(c), Stop::End, Ended::Exited),
                    Outcome::Killed { signo, .. } => (EndStatus::Killed(signo), Stop::Signal(signo), Ended::Killed),
                };
                self.ended = Some(ended);
                if !self.end_checked {
                    self.end_checked = true;
                    let digest = self.p.digest();
                    self.p.world.end(self.p.m.icount, status, digest);
                    match self.p.world.divergence() {
                        Some(div) => eprintln!(
                            "deja: the replay's end does not match the log at icount {}: expected {}, got {}",
                            div.icount, div.expected, div.actual
                        ),
                        None => eprintln!(
                            "deja: replay reached the recorded end at icount {} (digest {digest:016x})",
                            self.p.m.icount
                        ),
                    }
                }
                stop
            }
            Err(RunError::Divergence { div, pc }) => {
                eprintln!(
                    "deja: replay diverged at icount {} pc={pc:#x}: expected {}, got {}",
                    div.icount, div.expected, div.actual
                );
                self.ended = Some(Ended::Stopped);
                Stop::End
            }
            Err(e) => {
                eprintln!("deja: replay stopped at icount {}: {e}", self.p.m.icount);
                self.ended = Some(Ended::Stopped);
                Stop::End
            }
        }
    }

    /// Current contents of each watched range (None where unreadable).
    fn watch_values(&self) -> Vec<Option<Vec<u8>>> {
        self.watches
            .iter()
            .map(|w| {
                let mut b = vec![0u8; w.len as usize];
                self.p.m.mem.peek(w.addr, &mut b).ok().map(|_| b)
            })
            .collect()
    }

    /// A read or access watchpoint (and a write watchpoint if `writes`) the instruction at the
    /// pc would trigger by its operands.
    fn operand_hit(&mut self, writes: bool) -> Option<(WatchKind, u64)> {
        if !writes && self.watches.iter().all(|w| w.kind == WatchKind::Write) {
            return None;
        }
        A::mem_accesses(&self.p.m.mem, &self.p.m.cpu, &mut self.scratch);
        for a in &self.scratch {
            for w in &self.watches {
                let overlaps = a.addr < w.addr.saturating_add(w.len) && w.addr < a.addr.saturating_add(a.len);
                let hit = match w.kind {
                    WatchKind::Read => a.read,
                    WatchKind::ReadWrite => a.read || a.write,
                    WatchKind::Write => writes && a.write,
                };
                if overlaps && hit {
                    return Some((w.kind, w.addr));
                }
            }
        }
        None
    }

    /// A write or access watchpoint whose bytes differ between `before` and now.
    fn value_hit(&self, before: &[Option<Vec<u8>>]) -> Option<(WatchKind, u64)> {
        let now = self.watch_values();
        self.watches
            .iter()
            .zip(before.iter().zip(&now))
            .find(|(w, (b, n))| w.kind != WatchKind::Read && b != n)
            .map(|(w, _)| (w.kind, w.addr))
    }

    /// Execute one instruction (one iteration of a REP string instruction) and report the
    /// watchpoint it triggered, if any; `Err` if the process ended instead.
    fn watched_step(&mut self) -> Result<Option<(WatchKind, u64)>, Stop> {
        let before = self.watch_values();
        let operand = self.operand_hit(false);
        let target = self.p.m.icount + 1;
        match self.advance_snap(target, false) {
            Advance::Ended(r) => return Err(self.on_end(r)),
            Advance::Reached if self.p.m.icount < target => return Err(Stop::End),
            _ => {}
        }
        Ok(self.value_hit(&before).or(operand))
    }

    /// `watched_step` as gdb expects it of this ISA when going forward: with
    /// `A::WATCH_BEFORE`, a hit stops before the accessing instruction: predicted from its
    /// operands without executing it, or, for a change only seen afterwards (a syscall
    /// writing the watched bytes), by going back one instruction.
    fn forward_watched_step(&mut self) -> Result<Option<(WatchKind, u64)>, Stop> {
        if !A::WATCH_BEFORE {
            return self.watched_step();
        }
        if let Some(hit) = self.operand_hit(true) {
            return Ok(Some(hit));
        }
        let m = self.p.m.icount;
        let hit = self.watched_step()?;
        if hit.is_some() {
            self.goto(m);
        }
        Ok(hit)
    }

    /// Run forward (gdb's continue) until a breakpoint or watchpoint hits, the end, or
    /// `poll` says the debugger wants the target back.
    pub fn forward(&mut self, poll: &mut dyn FnMut() -> bool) -> Stop {
        if self.at_end() {
            return Stop::End;
        }
        if !self.watches.is_empty() {
            let mut n = 0u64;
            loop {
                if n > 0 && self.at_breakpoint() {
                    return Stop::Breakpoint;
                }
                match self.forward_watched_step() {
                    Err(stop) => return stop,
                    Ok(Some((kind, addr))) => return Stop::Watch { kind, addr },
                    Ok(None) => {}
                }
                if self.at_end() {
                    return Stop::End;
                }
                n += 1;
                if n.is_multiple_of(STEP_SLICE) && poll() {
                    return Stop::Interrupted;
                }
            }
        }
        // Trailing snapshots every quarter interval: where this run stops, the first step
        // back re-executes at most that much.
        let trail = (self.snaps.every() / 4).clamp(1, SLICE);
        loop {
            let seg = self.p.m.icount.saturating_add(trail);
            match self.advance_snap(seg, true) {
                Advance::Stop => return Stop::Breakpoint,
                Advance::Ended(r) => return self.on_end(r),
                Advance::Reached => {
                    if self.at_end() {
                        return Stop::End;
                    }
                    if self.p.m.icount < seg {
                        return Stop::End;
                    }
                    self.snaps.take_trailing(&mut self.p);
                    if self.at_breakpoint() {
                        return Stop::Breakpoint;
                    }
                    if poll() {
                        return Stop::Interrupted;
                    }
                }
            }
        }
    }

    /// One instruction forward (gdb's stepi).
    pub fn step(&mut self) -> Stop {
        if self.at_end() {
            return Stop::End;
        }
        if self.watches.is_empty() {
            let target = self.p.m.icount + 1;
            return match self.advance_snap(target, false) {
                Advance::Ended(r) => self.on_end(r),
                _ if self.p.m.icount < target => Stop::End,
                _ => Stop::Done,
            };
        }
        match self.forward_watched_step() {
            Err(stop) => stop,
            Ok(Some((kind, addr))) => Stop::Watch { kind, addr },
            Ok(None) => Stop::Done,
        }
    }

    /// Go to moment `target`: from here if it is ahead and no snapshot is closer, else from
    /// the latest snapshot at or before it. `End` if the log ends before it.
    pub fn goto(&mut self, target: u64) -> Stop {
        let cur = self.p.m.icount;
        let s = self.snaps.at_or_before(target);
        if self.ended.is_some() || target < cur || s > cur {
            self.restore(s);
        }
        // Fine snapshots on the way, at exponentially growing distances before the target,
        // so the next steps back (gdb's reverse-next is many reverse-stepi) stay cheap.
        let from = self.p.m.icount;
        let mut fine = Vec::new();
        let mut d = FINE_FIRST;
        while d < self.snaps.every() && target.saturating_sub(d) > from {
            fine.push(target - d);
            d *= 4;
        }
        for &point in fine.iter().rev() {
            match self.advance_snap(point, false) {
                Advance::Ended(r) => return self.on_end(r),
                Advance::Reached if self.p.m.icount >= point => self.snaps.take_fine(&mut self.p),
                _ => break,
            }
        }
        loop {
            match self.advance_snap(target, false) {
                Advance::Ended(r) => return self.on_end(r),
                Advance::Reached if self.p.m.icount >= target => return Stop::Done,
                Advance::Reached => return Stop::End,
                Advance::Stop => {}
            }
        }
    }

    /// `goto` for a far target (`monitor seek`), calling `progress` with the icount now and
    /// then during a long forward stretch.
    pub fn seek(&mut self, target: u64, progress: &mut dyn FnMut(u64)) -> Stop {
        let cur = self.p.m.icount;
        let s = self.snaps.at_or_before(target);
        if self.ended.is_some() || target < cur || s > cur {
            self.restore(s);
        }
        let every = self.snaps.every();
        while target.saturating_sub(self.p.m.icount) > every {
            let seg = (self.p.m.icount + SLICE).min(target - every);
            match self.advance_snap(seg, false) {
                Advance::Ended(r) => return self.on_end(r),
                Advance::Reached if self.p.m.icount < seg => return Stop::End,
                _ => {}
            }
            progress(self.p.m.icount);
        }
        self.goto(target)
    }

    /// Run forward to moment `target` (ahead of the current one) as a forward continue does
    /// (scheduled and trailing snapshots), without breakpoints.
    pub fn forward_to(&mut self, target: u64) -> Stop {
        let trail = (self.snaps.every() / 4).max(1);
        loop {
            if self.at_end() {
                return Stop::End;
            }
            let seg = self.p.m.icount.saturating_add(trail).min(target);
            match self.advance_snap(seg, false) {
                Advance::Ended(r) => return self.on_end(r),
                Advance::Reached if self.p.m.icount >= target => return Stop::Done,
                Advance::Reached if self.p.m.icount >= seg => self.snaps.take_trailing(&mut self.p),
                _ => return Stop::End,
            }
        }
    }

    /// One instruction back (gdb's reverse-stepi). With `A::WATCH_BEFORE`, an instruction
    /// that triggers a watchpoint is not stepped back over: the hit is reported here, and gdb
    /// steps back over it with the watchpoints removed.
    pub fn reverse_step(&mut self) -> Stop {
        let cur = self.p.m.icount;
        if cur == 0 {
            self.goto(0);
            return Stop::Begin;
        }
        let before = self.watch_values();
        self.goto(cur - 1);
        if !self.watches.is_empty() {
            if let Some((kind, addr)) = self.value_hit(&before).or_else(|| self.operand_hit(false)) {
                if A::WATCH_BEFORE {
                    self.goto(cur);
                }
                return Stop::Watch { kind, addr };
            }
        }
        Stop::Done
    }

    /// Back to the last breakpoint or watchpoint hit before the current moment (gdb's
    /// reverse-continue), or to the start of the log.
    pub fn reverse_continue(&mut self, poll: &mut dyn FnMut() -> bool) -> Stop {
        if self.bps.is_empty() && self.watches.is_empty() {
            self.goto(0);
            return Stop::Begin;
        }
        let only_writes = self.bps.is_empty() && self.watches.iter().all(|w| w.kind == WatchKind::Write);
        let watched: Vec<u64> = self
            .watches
            .iter()
            .flat_map(|w| (w.addr >> PAGE_SHIFT)..=((w.addr + w.len.max(1) - 1) >> PAGE_SHIFT))
            .collect();
        let mut hi = self.p.m.icount;
        loop {
            if hi == 0 {
                self.goto(0);
                return Stop::Begin;
            }
            let s = self.snaps.at_or_before(hi - 1);
            let skip = only_writes
                && self
                    .snaps
                    .written_between(&self.p, s, hi)
                    .is_some_and(|set| !watched.iter().any(|p| set.contains(p)));
            if !skip {
                self.restore(s);
                if let Some((m, stop)) = self.scan(s, hi) {
                    // A watchpoint of an ISA gdb steps over itself stops after the accessing
                    // instruction (gdb steps back over it).
                    let after = A::WATCH_BEFORE && matches!(stop, Stop::Watch { .. });
                    self.goto(m + after as u64);
                    return stop;
                }
            }
            hi = s;
            if poll() {
                self.goto(s);
                return Stop::Interrupted;
            }
        }
    }

    /// From moment `s` (the process is there), run to `hi` and return the last hit at a
    /// moment in [s, hi): a breakpoint at that moment's pc, or a watchpoint triggered by the
    /// instruction that follows it.
    fn scan(&mut self, s: u64, hi: u64) -> Option<(u64, Stop)> {
        let mut last = None;
        if self.watches.is_empty() {
            if self.at_breakpoint() {
                last = Some((s, Stop::Breakpoint));
            }
            while self.p.m.icount < hi - 1 {
                match self.advance_snap(hi - 1, true) {
                    Advance::Stop => last = Some((self.p.m.icount, Stop::Breakpoint)),
                    Advance::Reached => {
                        if self.p.m.icount > s && self.at_breakpoint() {
                            last = Some((self.p.m.icount, Stop::Breakpoint));
                        }
                        break;
                    }
                    Advance::Ended(r) => {
                        self.on_end(r);
                        break;
                    }
                }
            }
            return last;
        }
        while self.p.m.icount < hi && !self.at_end() {
            let m = self.p.m.icount;
            let at_bp = self.at_breakpoint();
            match self.watched_step() {
                Err(_) => break,
                Ok(Some((kind, addr))) => last = Some((m, Stop::Watch { kind, addr })),
                Ok(None) if at_bp => last = Some((m, Stop::Breakpoint)),
                Ok(None) => {}
            }
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::arch_x86_64::X86_64;
    use crate::linux::process::Options;
    use crate::replay::session::{self, RecordOptions, ReplayOptions};
    use std::path::PathBuf;

    /// Record the embedded demo guest (a sieve, then clock, random bytes and rdtsc, so the log
    /// has events near its end); returns the log and the final icount.
    fn demo_log(dir: &std::path::Path) -> (PathBuf, u64) {
        let exe = dir.join("demo");
        std::fs::write(&exe, crate::demo::demo_elf().unwrap()).unwrap();
        let log = dir.join("demo.deja");
        let opts =
            RecordOptions { out: log.clone(), checkpoint_every: 100_000, embed_exe: true, run: Options::default() };
        let rec = session::record::<X86_64>(&exe, &[b"demo".to_vec()], &[], opts).unwrap();
        (log, rec.process.m.icount)
    }

    fn prepared(log: &std::path::Path) -> crate::linux::Process<X86_64> {
        let opts = ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
        session::prepare_replay::<X86_64>(log, opts).unwrap().process
    }

    /// Going anywhere in any order (restoring snapshots, with a budget small enough to thin
    /// them all the time) reaches the same state as a plain forward replay.
    #[test]
    fn goto_anywhere_equals_forward_replay() {
        let dir = std::env::temp_dir().join(format!("deja-reverse-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (log, total) = demo_log(&dir);
        let mut targets = vec![0, 1, 4999, 5000, 5001, total / 3, total / 2, total - 300, total - 50, total - 1];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            targets.push(x % total);
        }
        // The oracle: one forward replay through the sorted targets.
        let mut sorted = targets.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let mut fwd = prepared(&log);
        let mut want = std::collections::HashMap::new();
        for &t in &sorted {
            assert!(matches!(fwd.advance(t, &[]), Advance::Reached));
            want.insert(t, (fwd.digest(), fwd.m.cpu.rip));
        }
        // The timeline visits them out of order: back, forth, and back again; its budget is
        // small enough that it thins its snapshots all along.
        let mut tl = Timeline::new(prepared(&log), 5000, 6 << 20, None);
        assert_eq!(tl.goto(total), Stop::End);
        for &t in targets.iter().rev().chain(&targets) {
            assert_eq!(tl.goto(t), Stop::Done, "goto {t}");
            assert_eq!(tl.icount(), t);
            assert_eq!((tl.p.digest(), tl.pc()), want[&t], "state at icount {t}");
        }
        // reverse_step is goto(icount - 1).
        tl.goto(total / 2);
        assert_eq!(tl.reverse_step(), Stop::Done);
        assert_eq!(tl.icount(), total / 2 - 1);
        assert_eq!(tl.goto(0), Stop::Done);
        assert_eq!(tl.reverse_step(), Stop::Begin);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
