//! `deja check`: replay one log with two engines in lockstep and find the first instruction
//! whose effects differ (design §2: "for every machine state S and every budget B, the
//! interpreter and the JIT leave the same registers, flags, memory, icount and `Exit`").
//!
//! Two replaying processes of the same log (each with its own engine, quiet) are advanced to
//! the same icounts, `every` instructions apart; at each such boundary the full state digests
//! (registers, flags, vectors and memory: `Process::digest`) and how each run got there (still
//! running, exited, killed, or its replay diverged from the log) are compared. Each replay
//! also checks the log's own checkpoints, so an engine that goes wrong is caught by the log
//! too; that is one more way for the two sides to differ.
//!
//! At the first boundary that differs, the interval since the last agreeing one is bisected
//! (`bisect`): both sides go back to its start (snapshots: `debug::snapshot`, the debugger's
//! machinery) and run forward again with budgets until the interval is cut down to the
//! instruction to blame. That instruction is the report: its icount (instructions retired
//! before it, as `--trace` and divergence reports count), pc and disassembly, how each side
//! ended the run, the registers that differ with both values (and the flag bits by name),
//! and the memory bytes that differ. An engine may run whole blocks only (a JIT enters a
//! block when the budget covers it), so the bisection never assumes that a state is the
//! same however it was reached: the run that shows the difference may have to go on to the
//! end of the instruction's block (`Difference::run_to`).
//!
//! "First" is as seen at the compared points: a difference undone before the next boundary
//! (a wrong flag overwritten by the next compare) in an interval whose ends agree is not
//! seen; inside the first interval that differs every run length is tried. The instruction
//! found is always a real witness: from one and the same state, one run of the two engines
//! left different states.
//!
//! The two sides are `Side`s: a process and how it advances. A test wraps one to inject a
//! divergence (e.g. flip a flag after the Nth instruction) without a second engine.

pub mod regs;

pub use regs::{CheckArch, MemDiff, MemDiffs, Reg, RegDiff};

use crate::arch::Arch;
use crate::debug::snapshot::Snapshots;
use crate::engine::EngineKind;
use crate::linux::process::{Advance, Options, RunError};
use crate::linux::{Outcome, Process};
use crate::mem::PAGE_SHIFT;
use crate::replay::event::EndKind;
use crate::replay::session::{self, ReplayOptions, SessionError};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

/// Default instructions between compared boundaries.
pub const DEFAULT_EVERY: u64 = 4096;
/// Points compared per bisection round: each round divides the interval by this.
const FANOUT: u64 = 16;
/// Intervals at most this long are searched for the shortest run that differs by trying
/// every length (about LINEAR_MAX² / 2 instructions re-executed, ~50 ms).
const LINEAR_MAX: u64 = 4096;
/// A snapshot is kept at an agreeing boundary at least this often (instructions), so a
/// bisection re-executes at most about this many to get back to where it starts (~30 ms
/// with the interpreter). Only the last few are kept (`Snapshots::take_trailing`).
const SNAP_EVERY: u64 = 1 << 22;
/// During bisection, agreeing points at least this far apart get a snapshot.
const SNAP_MIN_GAP: u64 = 4096;

/// One side of a check: a process and how it advances to an icount. `Process` is the
/// ordinary side; a test can wrap one to make it go wrong on purpose.
pub trait Side<A: Arch> {
    fn process(&self) -> &Process<A>;
    fn process_mut(&mut self) -> &mut Process<A>;
    /// Run to icount `until` (`Process::advance`, no breakpoints).
    fn advance(&mut self, until: u64) -> Advance {
        self.process_mut().advance(until, &[])
    }
}

impl<A: Arch> Side<A> for Process<A> {
    fn process(&self) -> &Process<A> {
        self
    }
    fn process_mut(&mut self) -> &mut Process<A> {
        self
    }
}

/// How a replay ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The guest exited with this status.
    Exited(i32),
    /// The guest was killed by a signal.
    Killed { signo: i32, pc: u64, addr: Option<u64>, detail: Option<String> },
    /// The recording was stopped by the emulator here (an instruction limit, an error), so
    /// the replay stops here too.
    Stopped,
    /// The replay no longer matches the log.
    Diverged { icount: u64, pc: u64, expected: String, actual: String },
    /// The emulator failed (an error, or a panic in the engine).
    Error(String),
}

/// Where a side got to when asked to run to an icount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// At the icount asked for, with this state digest.
    At { icount: u64, digest: u64 },
    /// The run ended at `icount`, with this state digest.
    Ended { icount: u64, digest: u64, end: End },
}

impl Landing {
    pub fn icount(&self) -> u64 {
        match self {
            Landing::At { icount, .. } | Landing::Ended { icount, .. } => *icount,
        }
    }
    pub fn digest(&self) -> u64 {
        match self {
            Landing::At { digest, .. } | Landing::Ended { digest, .. } => *digest,
        }
    }
    pub fn ended(&self) -> bool {
        matches!(self, Landing::Ended { .. })
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Exited(c) => write!(f, "exited with status {c}"),
            End::Killed { signo, pc, addr, detail } => {
                write!(f, "was killed by {} at pc={pc:#x}", crate::report::signal_name(*signo))?;
                if let Some(a) = addr {
                    write!(f, " addr={a:#x}")?;
                }
                if let Some(d) = detail {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
            End::Stopped => write!(f, "stopped where the recording was stopped"),
            End::Diverged { icount, pc, expected, actual } => write!(
                f,
                "diverged from the log at icount {icount} pc={pc:#x}: the log expected {expected}, the replay did {actual}"
            ),
            End::Error(e) => write!(f, "stopped with an error: {e}"),
        }
    }
}

impl fmt::Display for Landing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Landing::At { icount, digest } => write!(f, "at icount {icount}, digest {digest:016x}"),
            Landing::Ended { icount, digest, end } => write!(f, "{end} (icount {icount}, digest {digest:016x})"),
        }
    }
}

/// The first instruction after which the two sides' states differ.
#[derive(Debug, Clone)]
pub struct Difference {
    /// Instructions retired before it (its icount, as `--trace` shows it); with
    /// `before_first`, 0 and the states differ before any instruction ran.
    pub icount: u64,
    pub before_first: bool,
    pub pc: u64,
    pub disasm: String,
    /// Where each side got to after it (normally at icount + 1; or how its run ended).
    pub after: [Landing; 2],
    pub regs: Vec<RegDiff>,
    pub mem: MemDiffs,
    /// The icount both sides were run to, in one run from `icount`, when they differed:
    /// `icount + 1` for engines exact under every budget; the end of its block for an engine
    /// that runs whole blocks only (the instruction's effect showed only then).
    pub run_to: u64,
    /// The compared boundaries around it: the last that agreed and the first that differed.
    pub window: (u64, u64),
}

/// What a check found.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The two sides agreed at every compared boundary and ended the same way.
    Agree(Landing),
    Differ(Box<Difference>),
}

/// The result of a check.
#[derive(Debug, Clone)]
pub struct Report {
    /// The two sides' names (engine names; `#1`/`#2` appended when equal).
    pub names: [String; 2],
    pub every: u64,
    /// Boundaries compared in lockstep (bisection points not counted).
    pub compared: u64,
    /// Points compared while bisecting.
    pub bisect_points: u64,
    /// Instructions each side executed in all (re-execution while bisecting included).
    pub executed: [u64; 2],
    pub verdict: Verdict,
}

/// Exit status when the two sides disagree.
pub const EXIT_DISAGREE: u8 = 1;
/// Both sides agree, but both replays diverged from the log (the same way).
pub const EXIT_LOG_DIVERGED: u8 = 124;
/// Both sides agree, but both stopped with the same emulator error.
pub const EXIT_STOPPED: u8 = 125;

impl Report {
    /// The engines agree and both replays reached the recorded end.
    pub fn ok(&self) -> bool {
        self.exit_code() == 0
    }

    /// deja's exit status for this report: 0 agree, 1 disagree, 124 both replays diverged
    /// from the log, 125 both stopped with an emulator error.
    pub fn exit_code(&self) -> u8 {
        match &self.verdict {
            Verdict::Differ(_) => EXIT_DISAGREE,
            Verdict::Agree(Landing::Ended { end: End::Diverged { .. }, .. }) => EXIT_LOG_DIVERGED,
            Verdict::Agree(Landing::Ended { end: End::Error(_), .. }) => EXIT_STOPPED,
            Verdict::Agree(_) => 0,
        }
    }

    pub fn difference(&self) -> Option<&Difference> {
        match &self.verdict {
            Verdict::Differ(d) => Some(d),
            Verdict::Agree(_) => None,
        }
    }
}

/// Why a check could not be done.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The two sides do not start at the same icount.
    #[error("the two sides start at different icounts ({0} and {1})")]
    NotAligned(u64, u64),
    /// Re-executing from a snapshot gave another result than the first time: an engine (or
    /// the platform) is not deterministic.
    #[error("not deterministic: {0}")]
    NonDeterministic(String),
}

/// How the check runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Instructions between compared boundaries (at least 1).
    pub every: u64,
    /// The last icount that can be replayed (a recording the emulator stopped).
    pub limit: Option<u64>,
}

struct Lane<'a, A: Arch> {
    side: &'a mut dyn Side<A>,
    snaps: Snapshots<A>,
    /// The run ended (at its current icount) and must be restored before going on.
    ended: bool,
    limit: u64,
    /// Pages (numbers) written since the previous landing, taken before its digest.
    written: Vec<u64>,
    executed: u64,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}

fn diverged(div: crate::world::Divergence, pc: u64) -> End {
    End::Diverged { icount: div.icount, pc, expected: div.expected, actual: div.actual }
}

impl<'a, A: Arch> Lane<'a, A> {
    fn new(side: &'a mut dyn Side<A>, limit: u64) -> Lane<'a, A> {
        let snaps = Snapshots::new(side.process_mut(), u64::MAX, crate::debug::snapshot::DEFAULT_BUDGET);
        Lane { side, snaps, ended: false, limit, written: Vec::new(), executed: 0 }
    }

    fn icount(&self) -> u64 {
        self.side.process().m.icount
    }

    /// Run forward to `t` (capped at the limit) and say where the run got.
    fn land(&mut self, t: u64) -> Landing {
        debug_assert!(!self.ended);
        let t = t.min(self.limit);
        let before = self.icount();
        let side = &mut *self.side;
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| side.advance(t)));
        let p = self.side.process_mut();
        self.executed += p.m.icount.saturating_sub(before);
        self.written = p.m.mem.dirty_pages().into_iter().map(|a| a >> PAGE_SHIFT).collect();
        let end = match r {
            Ok(Advance::Reached) if t < self.limit => {
                return Landing::At { icount: p.m.icount, digest: p.digest() };
            }
            // Where the recording was stopped: its end event must match too.
            Ok(Advance::Reached) => match p.finish(Err(RunError::IcountLimit(t))) {
                Err(RunError::Divergence { div, pc }) => diverged(div, pc),
                _ => End::Stopped,
            },
            Ok(Advance::Stop) => End::Error("stopped at a breakpoint, but none is set".into()),
            Ok(Advance::Ended(Ok(out))) => match p.finish(Ok(out)) {
                Ok(Outcome::Exited(c)) => End::Exited(c),
                Ok(Outcome::Killed { signo, pc, addr, detail, .. }) => End::Killed { signo, pc, addr, detail },
                Err(RunError::Divergence { div, pc }) => diverged(div, pc),
                Err(e) => End::Error(e.to_string()),
            },
            Ok(Advance::Ended(Err(RunError::Divergence { div, pc }))) => diverged(div, pc),
            Ok(Advance::Ended(Err(e))) => End::Error(e.to_string()),
            Err(payload) => End::Error(format!("the engine panicked: {}", panic_message(&*payload))),
        };
        self.ended = true;
        Landing::Ended { icount: p.m.icount, digest: p.digest(), end }
    }

    /// Go to `t` from wherever the lane is: back to the latest snapshot at or before it if
    /// needed, then forward.
    fn goto(&mut self, t: u64) -> Landing {
        if self.ended || self.icount() > t {
            let k = self.snaps.at_or_before(t);
            self.snaps.restore(self.side.process_mut(), k);
            self.ended = false;
        }
        self.land(t)
    }

    /// Keep a snapshot here: a trailing one (only the last few are kept) while going
    /// forward in lockstep, a fine one while bisecting.
    fn snapshot(&mut self, trailing: bool) {
        if !self.ended && self.snaps.at_or_before(self.icount()) != self.icount() {
            if trailing {
                self.snaps.take_trailing(self.side.process_mut());
            } else {
                self.snaps.take_fine(self.side.process_mut());
            }
        }
    }
}

struct Pair<'a, A: Arch> {
    lanes: [Lane<'a, A>; 2],
}

impl<A: Arch> Pair<'_, A> {
    fn land(&mut self, t: u64) -> [Landing; 2] {
        [self.lanes[0].land(t), self.lanes[1].land(t)]
    }
    fn goto(&mut self, t: u64) -> [Landing; 2] {
        [self.lanes[0].goto(t), self.lanes[1].goto(t)]
    }
    fn snapshot(&mut self, trailing: bool) {
        self.lanes[0].snapshot(trailing);
        self.lanes[1].snapshot(trailing);
    }
    /// The pc of side a and the instruction there.
    fn instruction(&self) -> (u64, String) {
        let p = self.lanes[0].side.process();
        let pc = A::pc(&p.m.cpu);
        (pc, A::disasm_at(&p.m.mem, pc))
    }
    /// The latest snapshot both lanes have at or before `t`.
    fn snapshot_at_or_before(&self, t: u64) -> u64 {
        self.lanes[0].snaps.at_or_before(t).min(self.lanes[1].snaps.at_or_before(t))
    }
}

/// Check two sides against each other from their current (equal) icount to the end.
pub fn check_sides<A: CheckArch>(
    a: &mut dyn Side<A>,
    b: &mut dyn Side<A>,
    names: [String; 2],
    s: &Settings,
) -> Result<Report, CheckError> {
    let (ia, ib) = (a.process().m.icount, b.process().m.icount);
    if ia != ib {
        return Err(CheckError::NotAligned(ia, ib));
    }
    let every = s.every.max(1);
    let limit = s.limit.unwrap_or(u64::MAX);
    let mut pair = Pair { lanes: [Lane::new(a, limit), Lane::new(b, limit)] };
    let mut report =
        Report { names, every, compared: 0, bisect_points: 0, executed: [0, 0], verdict: Verdict::Agree(dummy()) };
    let start = pair.goto(ia);
    report.compared += 1;
    let verdict = if start[0] != start[1] {
        let ins = pair.instruction();
        Verdict::Differ(Box::new(difference::<A>(&pair, ia, true, ins, start, ia, (ia, ia))))
    } else if start[0].ended() {
        Verdict::Agree(start[0].clone())
    } else {
        let mut cur = ia;
        let mut last_snap = ia;
        loop {
            let t = cur.saturating_add(every);
            let l = pair.land(t);
            report.compared += 1;
            if l[0] != l[1] {
                break Verdict::Differ(Box::new(bisect::<A>(&mut pair, cur, t, &mut report)?));
            }
            if l[0].ended() {
                break Verdict::Agree(l[0].clone());
            }
            cur = l[0].icount();
            if cur - last_snap >= SNAP_EVERY {
                pair.snapshot(true);
                last_snap = cur;
            }
        }
    };
    report.executed = [pair.lanes[0].executed, pair.lanes[1].executed];
    report.verdict = verdict;
    Ok(report)
}

fn dummy() -> Landing {
    Landing::At { icount: 0, digest: 0 }
}

/// Narrow (lo, hi] down to the instruction to blame. Invariant throughout: both sides agree
/// at `lo`, and one run (one `advance`) from `lo` to `hi` makes them differ.
///
/// An engine may behave differently for different budgets and still be right (a JIT enters
/// a block only when the budget covers it and leaves the rest to the interpreter), so the
/// way a state is reached matters; every step keeps a run that is known to differ:
///
/// 1. While the interval is longer than `LINEAR_MAX`, run from `lo` to `hi` in `FANOUT`
///    steps: the first step that differs starts at an agreeing state and is the new interval.
///    (If no step differs, the difference needed the longer run: go on to 2.)
/// 2. The shortest run from `lo` that differs: runs from `lo` to every `t` in turn (a binary
///    search if the interval is still long: then a shorter one may be missed).
/// 3. The last start that still differs: the largest `i` such that the sides agree at `i`
///    (one run from `lo`) and one run from `i` to `hi` differs, while from `i + 1` it
///    agrees. The instruction at `i` is the one to blame. For an engine exact under every
///    budget, `hi = i + 1`; a JIT's block may make `hi` its end.
fn bisect<A: CheckArch>(
    pair: &mut Pair<A>,
    mut lo: u64,
    mut hi: u64,
    r: &mut Report,
) -> Result<Difference, CheckError> {
    let window = (lo, hi);
    // 1. Chained steps.
    while hi - lo > LINEAR_MAX {
        back_to(pair, lo, hi)?;
        let g = (hi - lo).div_ceil(FANOUT);
        let mut p = lo;
        let found = loop {
            let t = (p + g).min(hi);
            let l = pair.land(t);
            r.bisect_points += 1;
            if l[0] != l[1] {
                break Some((p, t));
            }
            if t == hi || l[0].ended() {
                break None;
            }
            p = t;
            if g >= SNAP_MIN_GAP {
                pair.snapshot(false);
            }
        };
        match found {
            Some(w) => (lo, hi) = w,
            None => break,
        }
    }
    loop {
        // 2. The shortest run from `lo` that differs; known: the run to `hi` does. Runs of
        // every length in turn (the sides may differ after a run to t and agree after a
        // longer one: a wrong flag overwritten later), or a binary search when too long.
        if hi - lo <= LINEAR_MAX {
            let mut t = lo + 1;
            loop {
                back_to(pair, lo, hi)?;
                let l = pair.land(t);
                r.bisect_points += 1;
                if l[0] != l[1] {
                    break;
                }
                if t == hi {
                    return Err(CheckError::NonDeterministic(format!(
                        "one run from icount {lo} to {hi} made the sides differ, and agrees when run again"
                    )));
                }
                t += 1;
            }
            hi = t;
        } else {
            let (mut ok, mut bad) = (lo, hi);
            while bad - ok > 1 {
                let mid = ok + (bad - ok) / 2;
                back_to(pair, lo, hi)?;
                let l = pair.land(mid);
                r.bisect_points += 1;
                if l[0] != l[1] {
                    bad = mid;
                } else {
                    ok = mid;
                }
            }
            hi = bad;
        }
        // 3. The last start that differs: try `hi - 1` first (an engine exact under every
        // budget), then binary search.
        let (mut good_start, mut agree_start) = (lo, hi);
        let mut shorter = None;
        let mut first = true;
        while agree_start - good_start > 1 {
            let mid = if first { agree_start - 1 } else { good_start + (agree_start - good_start) / 2 };
            first = false;
            back_to(pair, lo, hi)?;
            let at = pair.land(mid);
            r.bisect_points += 1;
            if at[0] != at[1] {
                // An even shorter run from `lo` differs: start again with it.
                shorter = Some(mid);
                break;
            }
            if mid - pair.snapshot_at_or_before(mid) >= SNAP_MIN_GAP {
                pair.snapshot(false);
            }
            let after = pair.land(hi);
            r.bisect_points += 1;
            if after[0] != after[1] {
                good_start = mid;
            } else {
                agree_start = mid;
            }
        }
        if let Some(s) = shorter {
            hi = s;
            continue;
        }
        // Both sides to `good_start` (one run from `lo`), then one run to `hi`.
        let i = good_start;
        back_to(pair, lo, hi)?;
        let at = pair.land(i);
        if at[0] != at[1] {
            hi = i;
            continue;
        }
        let (pc, disasm) = pair.instruction();
        let after = pair.land(hi);
        r.bisect_points += 2;
        if after[0] == after[1] {
            return Err(CheckError::NonDeterministic(format!(
                "one run from icount {i} to {hi} made the sides differ, and agrees when run again"
            )));
        }
        return Ok(difference::<A>(pair, i, false, (pc, disasm), after, hi, window));
    }
}

/// Bring both sides back to `lo`, where they agreed, and keep a snapshot there.
fn back_to<A: Arch>(pair: &mut Pair<A>, lo: u64, hi: u64) -> Result<(), CheckError> {
    let at = pair.goto(lo);
    if at[0] != at[1] || at[0].ended() {
        return Err(CheckError::NonDeterministic(format!(
            "both sides agreed at icount {lo} and no longer do after going back there: {} and {}",
            at[0], at[1]
        )));
    }
    if lo - pair.snapshot_at_or_before(lo) >= SNAP_MIN_GAP.min(hi - lo) {
        pair.snapshot(false);
    }
    Ok(())
}

/// Describe how the two sides differ now, after the instruction at `icount`, at `pc`.
fn difference<A: CheckArch>(
    pair: &Pair<A>,
    icount: u64,
    before_first: bool,
    (pc, disasm): (u64, String),
    after: [Landing; 2],
    run_to: u64,
    window: (u64, u64),
) -> Difference {
    let (pa, pb) = (pair.lanes[0].side.process(), pair.lanes[1].side.process());
    let mut pages = pair.lanes[0].written.clone();
    pages.extend_from_slice(&pair.lanes[1].written);
    Difference {
        icount,
        before_first,
        pc,
        disasm,
        after,
        regs: regs::reg_diffs::<A>(&pa.m.cpu, &pb.m.cpu),
        mem: regs::mem_diffs(&pa.m.mem, &pb.m.mem, &pages),
        run_to,
        window,
    }
}

/// What `deja check FILE` needs.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The two engines to compare (may be the same engine twice: a determinism check).
    pub engines: [EngineKind; 2],
    /// Instructions between compared boundaries.
    pub every: u64,
    /// The executable, when the log does not embed it and it moved.
    pub exe: Option<PathBuf>,
}

/// The names of the two sides in reports: the engines' names, told apart when equal.
pub fn side_names(engines: [EngineKind; 2]) -> [String; 2] {
    let [a, b] = engines.map(|e| e.name().to_string());
    if a == b {
        [format!("{a}#1"), format!("{b}#2")]
    } else {
        [a, b]
    }
}

/// Replay the log at `log` with both engines and compare them.
pub fn check_log<A: CheckArch>(log: &Path, opts: &CheckOptions) -> Result<Report, CheckError> {
    let prepare = |engine: EngineKind| {
        let run = Options { engine, ..Options::default() };
        session::prepare_replay::<A>(log, ReplayOptions { quiet: true, to_icount: None, exe: opts.exe.clone(), run })
    };
    let mut a = prepare(opts.engines[0])?;
    let mut b = prepare(opts.engines[1])?;
    // The second replay would repeat the first one's one-time warnings word for word
    // (unimplemented syscalls, a futex wait nothing can wake).
    b.process.warned.extend(0..A::sys_table().len() as u64);
    b.process.info.warned_futex = true;
    let limit = match a.recorded_end {
        Some((EndKind::Stopped, _, at)) => Some(at),
        _ => None,
    };
    let settings = Settings { every: opts.every, limit };
    check_sides::<A>(&mut a.process, &mut b.process, side_names(opts.engines), &settings)
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = &self.names;
        match &self.verdict {
            Verdict::Agree(end) => {
                let how = match end {
                    Landing::Ended { end, .. } => end.to_string(),
                    Landing::At { .. } => "stopped".into(),
                };
                let verdict = match self.exit_code() {
                    0 => "check ok",
                    EXIT_LOG_DIVERGED => "check: the engines agree, but the log does not replay",
                    _ => "check: the engines agree, but the replay failed",
                };
                writeln!(
                    f,
                    "{verdict}: {a} and {b} agree over {} instructions ({} states compared, every {} instructions)",
                    end.icount(),
                    self.compared,
                    self.every
                )?;
                writeln!(f, "  both {how}, final digest {:016x}", end.digest())
            }
            Verdict::Differ(d) => {
                writeln!(f, "check FAILED: {a} and {b} disagree")?;
                if d.before_first {
                    writeln!(f, "  the initial states differ (before the first instruction, pc={:#x})", d.pc)?;
                } else {
                    writeln!(
                        f,
                        "  first instruction whose effects differ: icount {} pc={:#x}: {}",
                        d.icount, d.pc, d.disasm
                    )?;
                    let (i, to) = (d.icount, d.run_to);
                    if to == i + 1 {
                        writeln!(f, "  (states agree at icount {i} and differ at {to};")?;
                    } else {
                        // A block-granular engine: the instruction's effect shows only when
                        // the run goes on to the end of its block.
                        writeln!(
                            f,
                            "  (states agree at icount {i}; one run from icount {i} to {to} makes them differ, one \
                             from {} to {to} does not;",
                            i + 1
                        )?;
                    }
                    writeln!(f, "   found between compared states {} and {})", d.window.0, d.window.1)?;
                }
                let w = a.len().max(b.len());
                for (name, l) in [a, b].iter().zip(&d.after) {
                    writeln!(f, "  {name:<w$}  {l}")?;
                }
                if d.regs.is_empty() {
                    writeln!(f, "  registers: equal")?;
                } else {
                    writeln!(f, "  registers that differ ({a} | {b}):")?;
                    for r in &d.regs {
                        write!(f, "    {:<9} {} | {}", r.name, r.hex(r.a), r.hex(r.b))?;
                        if !r.bits.is_empty() {
                            let bits: Vec<String> =
                                r.bits.iter().map(|(n, x, y)| format!("{n} {} | {}", *x as u8, *y as u8)).collect();
                            write!(f, "   ({})", bits.join(", "))?;
                        }
                        writeln!(f)?;
                    }
                }
                let m = &d.mem;
                if m.total_bytes == 0 && m.prot.is_empty() {
                    writeln!(f, "  memory: equal")?;
                } else {
                    writeln!(f, "  memory that differs ({} bytes; {a} | {b}):", m.total_bytes)?;
                    for r in &m.ranges {
                        let show = |v: &Option<Vec<u8>>| v.as_deref().map_or("(not mapped)".into(), hex_bytes);
                        writeln!(f, "    {:#014x}  {} | {}", r.addr, show(&r.a), show(&r.b))?;
                    }
                    if m.ranges.len() == regs::MAX_RANGES {
                        writeln!(f, "    … (only the first {} ranges are shown)", regs::MAX_RANGES)?;
                    }
                    for (addr, x, y) in &m.prot {
                        let p = |v: &Option<u8>| v.map_or("unmapped".to_string(), prot_str);
                        writeln!(f, "    page {addr:#x} protection {} | {}", p(x), p(y))?;
                    }
                }
                if d.regs.is_empty() && d.mem.total_bytes == 0 && !d.after[0].ended() && !d.after[1].ended() {
                    writeln!(f, "  (the digests differ, but no register or written byte does: a digest bug)")?;
                }
                Ok(())
            }
        }
    }
}

fn prot_str(p: u8) -> String {
    use crate::mem::flags;
    let c = |bit, ch| if p & bit != 0 { ch } else { '-' };
    [c(flags::R, 'r'), c(flags::W, 'w'), c(flags::X, 'x')].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::x86_64::state::fl;
    use crate::isa::x86_64::X86State;
    use crate::linux::arch_x86_64::X86_64;
    use crate::replay::session::RecordOptions;
    use std::sync::OnceLock;

    /// A side that goes wrong on purpose: after the instruction that ends at icount `at`
    /// (every time execution passes there), `break_it` changes its state.
    struct Broken<A: Arch> {
        p: Process<A>,
        at: u64,
        break_it: fn(&mut Process<A>),
    }

    impl<A: Arch> Side<A> for Broken<A> {
        fn process(&self) -> &Process<A> {
            &self.p
        }
        fn process_mut(&mut self) -> &mut Process<A> {
            &mut self.p
        }
        fn advance(&mut self, until: u64) -> Advance {
            if self.p.m.icount < self.at && self.at <= until {
                match self.p.advance(self.at, &[]) {
                    Advance::Reached => (self.break_it)(&mut self.p),
                    other => return other,
                }
            }
            self.p.advance(until, &[])
        }
    }

    /// The demo guest, recorded once (its prime sieve is printed on stdout).
    fn demo_log() -> &'static Path {
        static LOG: OnceLock<PathBuf> = OnceLock::new();
        LOG.get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("deja-check-test-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let exe = dir.join("demo");
            std::fs::write(&exe, crate::demo::demo_elf().unwrap()).unwrap();
            let out = dir.join("demo.deja");
            let opts =
                RecordOptions { out: out.clone(), checkpoint_every: 50_000, embed_exe: true, run: Options::default() };
            let rec = session::record::<X86_64>(&exe, &[b"demo".to_vec()], &[], opts).unwrap();
            assert_eq!(rec.result.unwrap(), Outcome::Exited(0));
            out
        })
    }

    fn replay() -> Process<X86_64> {
        let opts = ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
        session::prepare_replay::<X86_64>(demo_log(), opts).unwrap().process
    }

    fn settings(every: u64) -> Settings {
        Settings { every, limit: None }
    }

    fn names() -> [String; 2] {
        ["good".to_string(), "broken".to_string()]
    }

    /// The pc and disassembly of the instruction at icount `n` (retired before it: n).
    fn instruction_at(n: u64) -> (u64, String) {
        let mut p = replay();
        assert!(matches!(p.advance(n, &[]), Advance::Reached));
        let pc = p.m.cpu.rip;
        (pc, X86_64::disasm_at(&p.m.mem, pc))
    }

    #[test]
    fn the_same_engine_agrees_with_itself() {
        let (mut a, mut b) = (replay(), replay());
        let r = check_sides::<X86_64>(&mut a, &mut b, side_names([EngineKind::Interp; 2]), &settings(10_000)).unwrap();
        assert!(r.ok(), "{r}");
        let Verdict::Agree(Landing::Ended { end: End::Exited(0), icount, .. }) = r.verdict else { panic!("{r}") };
        assert!(icount > 100_000, "the demo runs a while: {icount}");
        assert_eq!(r.compared, icount.div_ceil(10_000) + 1);
        assert_eq!(r.executed, [icount, icount]);
    }

    /// A flag flipped after instruction N-1 (at icount N): the report names that instruction,
    /// its pc, and rflags with CF on both sides. The flag is overwritten a few instructions
    /// later, so this is seen only where a compared state falls inside those few: comparing
    /// after every instruction, or at a boundary that is icount N itself.
    #[test]
    fn a_flipped_flag_is_found_exactly() {
        for (every, n) in [(1, 123_457), (10_000, 130_000), (1 << 20, 3 << 20)] {
            let mut a = replay();
            let mut b = Broken { p: replay(), at: n, break_it: |p| p.m.cpu.rflags ^= fl::CF };
            let r = check_sides::<X86_64>(&mut a, &mut b, names(), &settings(every)).unwrap();
            assert_eq!(r.exit_code(), EXIT_DISAGREE, "every {every} n {n}: {r}");
            let d = r.difference().unwrap_or_else(|| panic!("{r}"));
            let (pc, disasm) = instruction_at(n - 1);
            assert_eq!((d.icount, d.pc, &d.disasm), (n - 1, pc, &disasm), "{r}");
            assert_eq!(d.regs.len(), 1, "{r}");
            let rf = &d.regs[0];
            assert_eq!((rf.name, rf.a ^ rf.b), ("rflags", fl::CF as u128), "{r}");
            let cf = rf.a & 1 != 0;
            assert_eq!(rf.bits, vec![("CF", cf, !cf)]);
            assert_eq!(d.mem, MemDiffs::default());
            assert!(matches!(d.after[0], Landing::At { icount, .. } if icount == n));
            let text = r.to_string();
            assert!(text.contains(&format!("icount {} pc={pc:#x}: {disasm}", n - 1)), "{text}");
            assert!(text.contains("rflags"), "{text}");
        }
    }

    /// A byte of memory changed: the report names the address and both values.
    #[test]
    fn a_changed_byte_is_found_exactly() {
        let n = 150_003;
        let mut a = replay();
        let mut b = Broken {
            p: replay(),
            at: n,
            break_it: |p| {
                let sp = p.m.cpu.gpr[crate::isa::x86_64::state::reg::RSP];
                let v = p.m.mem.read_u8(sp - 64).unwrap();
                p.m.mem.write_u8(sp - 64, v ^ 0x5a).unwrap();
            },
        };
        let r = check_sides::<X86_64>(&mut a, &mut b, names(), &settings(DEFAULT_EVERY)).unwrap();
        let d = r.difference().unwrap_or_else(|| panic!("{r}"));
        assert_eq!(d.icount, n - 1, "{r}");
        assert!(d.regs.is_empty(), "{r}");
        assert_eq!(d.mem.total_bytes, 1, "{r}");
        let m = &d.mem.ranges[0];
        assert_eq!(m.a.as_ref().unwrap()[0] ^ m.b.as_ref().unwrap()[0], 0x5a, "{r}");
    }

    /// An engine that goes wrong only some time after the states last compared equal, on
    /// an instruction run many times: the first time is found, not a later one.
    #[test]
    fn the_first_difference_in_a_window_is_found() {
        let mut a = replay();
        let mut b = Broken { p: replay(), at: 20_000, break_it: |p| p.m.cpu.gpr[15] = p.m.cpu.gpr[15].wrapping_add(1) };
        let r = check_sides::<X86_64>(&mut a, &mut b, names(), &settings(1 << 30)).unwrap();
        let d = r.difference().unwrap_or_else(|| panic!("{r}"));
        assert_eq!(d.icount, 19_999);
        assert_eq!(d.regs.iter().map(|r| r.name).collect::<Vec<_>>(), vec!["r15"]);
        // 5 rounds of 16 chained steps narrow 27.7M instructions to 423, tried one by one.
        assert!(r.bisect_points < 600, "{} points", r.bisect_points);
    }

    /// A side that panics on the instruction at icount `at`.
    struct Panics {
        p: Process<X86_64>,
        at: u64,
    }

    impl Side<X86_64> for Panics {
        fn process(&self) -> &Process<X86_64> {
            &self.p
        }
        fn process_mut(&mut self) -> &mut Process<X86_64> {
            &mut self.p
        }
        fn advance(&mut self, until: u64) -> Advance {
            if self.p.m.icount <= self.at && self.at < until {
                match self.p.advance(self.at, &[]) {
                    Advance::Reached => panic!("boom at {}", self.at),
                    other => return other,
                }
            }
            self.p.advance(until, &[])
        }
    }

    /// An engine that panics is a difference like any other: the report names the
    /// instruction and how that side ended it, and going back over the panic works.
    #[test]
    fn a_panicking_engine_is_a_difference() {
        let mut a = replay();
        let mut b = Panics { p: replay(), at: 77_777 };
        let r = check_sides::<X86_64>(&mut a, &mut b, names(), &settings(DEFAULT_EVERY)).unwrap();
        let d = r.difference().unwrap_or_else(|| panic!("{r}"));
        assert_eq!((d.icount, d.pc), (77_777, instruction_at(77_777).0), "{r}");
        assert!(matches!(d.after[0], Landing::At { icount: 77_778, .. }), "{r}");
        let Landing::Ended { icount: 77_777, end: End::Error(e), .. } = &d.after[1] else { panic!("{r}") };
        assert!(e.contains("panicked: boom at 77777"), "{e}");
        assert!(r.to_string().contains("broken  stopped with an error: the engine panicked: boom at 77777"), "{r}");
    }

    /// A side that behaves like a JIT with a bug in one instruction of a block: the
    /// instruction at icount `c` goes wrong only when the run that executes it goes on to
    /// the end of its block, `end`, and the state is wrong from there on (`break_it` at
    /// `end`); a run cut shorter (by its budget) is right, as a JIT that leaves what a
    /// budget does not cover to the interpreter.
    struct BlockBroken {
        p: Process<X86_64>,
        c: u64,
        end: u64,
        /// What goes wrong.
        break_it: fn(&mut X86State),
    }

    impl Side<X86_64> for BlockBroken {
        fn process(&self) -> &Process<X86_64> {
            &self.p
        }
        fn process_mut(&mut self) -> &mut Process<X86_64> {
            &mut self.p
        }
        fn advance(&mut self, until: u64) -> Advance {
            if self.p.m.icount <= self.c && until >= self.end {
                match self.p.advance(self.end, &[]) {
                    Advance::Reached => (self.break_it)(&mut self.p.m.cpu),
                    other => return other,
                }
            }
            self.p.advance(until, &[])
        }
    }

    /// The bisection does not assume that a state is the same however it was reached: with
    /// a block-granular bug it still names the instruction, and the run that shows it ends
    /// at the block's end.
    #[test]
    fn a_bug_seen_only_in_whole_blocks_is_found() {
        for every in [DEFAULT_EVERY, 100_000, 1 << 30] {
            let (c, end) = (50_001, 50_006);
            let mut a = replay();
            let mut b = BlockBroken { p: replay(), c, end, break_it: |c| c.gpr[15] ^= 0x100 };
            let r = check_sides::<X86_64>(&mut a, &mut b, names(), &settings(every)).unwrap();
            let d = r.difference().unwrap_or_else(|| panic!("every {every}: {r}"));
            assert_eq!((d.icount, d.pc), (c, instruction_at(c).0), "every {every}: {r}");
            assert_eq!(d.after[0].icount(), end, "{r}");
            assert_eq!(d.regs.iter().map(|r| r.name).collect::<Vec<_>>(), vec!["r15"], "{r}");
            assert!(r.to_string().contains(&format!("one run from icount {c} to {end}")), "{r}");
        }
    }

    /// Two sides wrong twice in one compared interval: first a flag that is overwritten a few
    /// instructions later (invisible at the boundary), then a register that stays wrong.
    /// The report names the first, even though only the second shows at the boundary.
    #[test]
    fn an_earlier_short_lived_difference_is_found_first() {
        struct Twice {
            first: BlockBroken,
            second: u64,
        }
        impl Side<X86_64> for Twice {
            fn process(&self) -> &Process<X86_64> {
                &self.first.p
            }
            fn process_mut(&mut self) -> &mut Process<X86_64> {
                &mut self.first.p
            }
            fn advance(&mut self, until: u64) -> Advance {
                let p = &mut self.first.p;
                if p.m.icount < self.second && self.second <= until {
                    match self.first.advance(self.second) {
                        Advance::Reached => self.first.p.m.cpu.gpr[15] ^= 1,
                        other => return other,
                    }
                }
                self.first.advance(until)
            }
        }
        let (c, end, second) = (1_000_000, 1_000_003, 1_003_000);
        let mut a = replay();
        let mut b = Twice { first: BlockBroken { p: replay(), c, end, break_it: |c| c.rflags ^= fl::CF }, second };
        let r = check_sides::<X86_64>(&mut a, &mut b, names(), &settings(DEFAULT_EVERY)).unwrap();
        let d = r.difference().unwrap_or_else(|| panic!("{r}"));
        assert_eq!((d.icount, d.run_to), (c, end), "{r}");
        assert_eq!(d.regs.iter().map(|r| r.name).collect::<Vec<_>>(), vec!["rflags"], "{r}");
        assert!(d.window.0 < c && d.window.1 >= second, "the boundaries saw only the second: {r}");
    }
}
