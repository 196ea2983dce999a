//! Snapshots (design §4): the full machine state at an icount — registers, memory, platform
//! state (signals, brk, mmap cursor…) and the replayer's position in the log — taken every N
//! instructions during a replay, so any icount is at most N instructions of re-execution
//! away.
//!
//! Memory is stored as page *versions*, not as a copy per snapshot. The memory's second dirty
//! bit (`Memory::take_snapshot_delta`, independent of the digests' bit) lists the pages
//! changed since the previous snapshot; taking a snapshot stores a copy of each of those
//! whose contents differ from the page's latest version. Invariant: every version is the
//! page's true contents at its label (an icount), and for every snapshot `s` and page `p`,
//! the contents of `p` at `s` are `p`'s latest version labelled `<= s` (no version: not
//! mapped). Each snapshot also keeps the list of pages written since the previous snapshot.
//!
//! Restoring snapshot `k` from the current state (which equals snapshot `base` plus the
//! pages the memory lists as changed since) rewrites only the pages that may differ: those
//! listed since `base`, and those written by any snapshot interval between `base` and `k`.
//!
//! Memory is bounded by a budget: when over it, every other scheduled snapshot is dropped
//! (never the first one or the current base) and the interval doubles, which halves the
//! density evenly over the whole log; versions no remaining snapshot needs are freed, and a
//! dropped snapshot's written-page list is merged into the next one's. Besides the schedule,
//! "fine" snapshots are left just before where the debugger lands (at most `MAX_FINE`), so
//! going back from there again is cheap.

use crate::arch::Arch;
use crate::linux::process::{ProcState, Process};
use crate::mem::PAGE_SIZE;
use crate::world::LogPosition;
use ahash::{AHashMap, AHashSet};
use std::collections::BTreeMap;

/// Default instructions between snapshots: re-executing this many takes about 20-50 ms
/// with the interpreter on this project's 2-core machine (about 100 guest MIPS), so
/// reverse-stepi anywhere in a long log stays well under 100 ms.
pub const DEFAULT_EVERY: u64 = 2_000_000;
/// Default memory budget for snapshots, bytes.
pub const DEFAULT_BUDGET: usize = 1 << 30;

/// One stored page contents: protection and bytes (None: all zero, stored without a copy),
/// or not mapped.
type PageData = Option<(u8, Option<Box<[u8]>>)>;

static ZERO_PAGE: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];

struct Version {
    at: u64,
    data: PageData,
}

struct Snap<A: Arch> {
    state: ProcState<A>,
    log: Option<LogPosition>,
    /// Page numbers written since the previous snapshot (sorted); a superset is fine.
    written: Vec<u64>,
    /// Taken near where the debugger landed (not on the every-N schedule).
    fine: bool,
}

/// What `monitor snapshots` shows of one snapshot.
pub struct SnapInfo {
    pub icount: u64,
    pub pages_written: usize,
    pub fine: bool,
}

/// Fine snapshots kept at most (the oldest taken goes first).
const MAX_FINE: usize = 48;
/// Trailing snapshots (left behind a forward run) kept at most.
const MAX_TRAIL: usize = 3;

/// Bookkeeping bytes per stored page version.
const VERSION_OVERHEAD: usize = 48;

pub struct Snapshots<A: Arch> {
    every: u64,
    budget: usize,
    snaps: BTreeMap<u64, Snap<A>>,
    pages: AHashMap<u64, Vec<Version>>,
    /// The latest snapshot at or before the process's icount: the memory's pending change
    /// list counts from it.
    base: u64,
    bytes: usize,
    versions: usize,
    /// Warned that the budget cannot be met.
    warned: bool,
    /// Fine snapshots, oldest first.
    fine: std::collections::VecDeque<u64>,
    /// Trailing snapshots, oldest first.
    trail: std::collections::VecDeque<u64>,
}

/// The page's contents as `Memory::page_state` shows them.
fn view(d: &PageData) -> Option<(u8, &[u8])> {
    d.as_ref().map(|(p, b)| (*p, b.as_deref().unwrap_or(&ZERO_PAGE[..])))
}

/// Bytes a stored version costs (approximately).
fn cost(d: &PageData) -> usize {
    match d {
        Some((_, Some(_))) => PAGE_SIZE as usize + VERSION_OVERHEAD,
        _ => VERSION_OVERHEAD,
    }
}

impl<A: Arch> Snapshots<A> {
    /// Start with a snapshot of `p` (at its current icount, normally 0) holding every page.
    pub fn new(p: &mut Process<A>, every: u64, budget: usize) -> Snapshots<A> {
        let mut s = Snapshots {
            every: every.max(1),
            budget,
            snaps: BTreeMap::new(),
            pages: AHashMap::new(),
            base: p.m.icount,
            bytes: 0,
            versions: 0,
            warned: false,
            fine: Default::default(),
            trail: Default::default(),
        };
        s.take(p, false);
        s
    }

    pub fn every(&self) -> u64 {
        self.every
    }

    pub fn len(&self) -> usize {
        self.snaps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }

    /// Bytes of memory the snapshots hold (approximately).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Stored page versions.
    pub fn versions(&self) -> usize {
        self.versions
    }

    pub fn list(&self) -> Vec<SnapInfo> {
        self.snaps
            .iter()
            .map(|(&icount, s)| SnapInfo { icount, pages_written: s.written.len(), fine: s.fine })
            .collect()
    }

    /// The latest scheduled (not fine) snapshot at or before `icount`.
    fn prev_scheduled(&self, icount: u64) -> u64 {
        self.snaps.range(..=icount).rev().find(|(_, s)| !s.fine).map_or(0, |(&k, _)| k)
    }

    /// The next icount after `icount` at which the forward run must stop for a snapshot: an
    /// existing one (to pass it) or `every` after the previous scheduled one (to take it).
    pub fn next_point(&self, icount: u64) -> u64 {
        let prev = self.prev_scheduled(icount);
        let next_existing = self.snaps.range(icount + 1..).next().map_or(u64::MAX, |(&k, _)| k);
        next_existing.min(prev.saturating_add(self.every)).max(icount + 1)
    }

    /// The latest snapshot at or before `icount`.
    pub fn at_or_before(&self, icount: u64) -> u64 {
        self.snaps.range(..=icount).next_back().map_or(0, |(&k, _)| k)
    }

    /// Called at every moment the forward run stops at `next_point`: take a snapshot there,
    /// or pass the existing one.
    pub fn at_moment(&mut self, p: &mut Process<A>) {
        let ic = p.m.icount;
        if self.snaps.contains_key(&ic) {
            // Deterministic replay: the state equals the snapshot's; start a new delta.
            p.m.mem.take_snapshot_delta();
            self.base = ic;
        } else if ic >= self.prev_scheduled(ic).saturating_add(self.every) {
            self.take(p, false);
        }
    }

    /// Take a fine snapshot here (the debugger is working nearby: going back from here will
    /// be cheap), unless there is one already. Only the newest `MAX_FINE` are kept.
    pub fn take_fine(&mut self, p: &mut Process<A>) {
        let ic = p.m.icount;
        if self.snaps.contains_key(&ic) {
            self.at_moment(p);
            return;
        }
        self.take(p, true);
        self.fine.push_back(ic);
        while self.fine.len() > MAX_FINE {
            let Some(old) = self.fine.pop_front() else { break };
            if old == self.base {
                self.fine.push_back(old);
                continue;
            }
            self.drop_snapshot(old);
        }
    }

    /// Take a trailing snapshot: a forward run (gdb's continue) leaves them behind it as it
    /// goes, keeping only the last few, so the first step back after it stops is short.
    pub fn take_trailing(&mut self, p: &mut Process<A>) {
        let ic = p.m.icount;
        if self.snaps.contains_key(&ic) {
            self.at_moment(p);
            return;
        }
        self.take(p, true);
        self.trail.push_back(ic);
        while self.trail.len() > MAX_TRAIL {
            let Some(old) = self.trail.pop_front() else { break };
            if old != self.base {
                self.drop_snapshot(old);
            }
        }
    }

    /// The latest version of page `page` labelled `<= at`.
    fn version_at(&self, page: u64, at: u64) -> Option<&Version> {
        let v = self.pages.get(&page)?;
        let i = v.partition_point(|x| x.at <= at);
        i.checked_sub(1).map(|i| &v[i])
    }

    /// Snapshot the process at its current icount.
    fn take(&mut self, p: &mut Process<A>, fine: bool) {
        let at = p.m.icount;
        let mut written = p.m.mem.take_snapshot_delta();
        written.sort_unstable();
        written.dedup();
        for &page in &written {
            let cur = p.m.mem.page_state(page);
            let same = self.version_at(page, at).map_or(cur.is_none(), |v| view(&v.data) == cur);
            if same {
                continue;
            }
            let data = cur.map(|(prot, b)| {
                let copy = (b.iter().any(|&x| x != 0)).then(|| b.to_vec().into_boxed_slice());
                (prot, copy)
            });
            let c = cost(&data);
            let list = self.pages.entry(page).or_default();
            let i = list.partition_point(|x| x.at <= at);
            if i > 0 && list[i - 1].at == at {
                self.bytes = self.bytes + c - cost(&list[i - 1].data);
                list[i - 1].data = data;
            } else {
                list.insert(i, Version { at, data });
                self.versions += 1;
                self.bytes += c;
            }
        }
        self.bytes += written.len() * 8 + std::mem::size_of::<Snap<A>>();
        let snap = Snap { state: p.save_state(), log: p.world.log_position(), written, fine };
        self.snaps.insert(at, snap);
        self.base = at;
        if self.bytes > self.budget {
            self.thin();
        }
    }

    /// Drop every other snapshot (except the first, the base and the newest) until under
    /// budget or nothing is left to drop.
    fn thin(&mut self) {
        while self.bytes > self.budget {
            // Every other scheduled snapshot goes (never the first or the current base), and
            // the schedule's interval doubles so forward runs do not fill the gaps again.
            let scheduled: Vec<u64> = self.snaps.iter().filter(|(_, s)| !s.fine).map(|(&k, _)| k).collect();
            let drop: Vec<u64> = scheduled.iter().copied().skip(1).step_by(2).filter(|&k| k != self.base).collect();
            if drop.is_empty() {
                if !self.warned {
                    self.warned = true;
                    eprintln!(
                        "deja: snapshots need {} MiB, over their budget of {} MiB; keeping them anyway",
                        self.bytes >> 20,
                        self.budget >> 20
                    );
                }
                return;
            }
            for k in drop {
                self.drop_snapshot(k);
            }
            self.every = self.every.saturating_mul(2);
        }
    }

    fn drop_snapshot(&mut self, k: u64) {
        let Some(snap) = self.snaps.remove(&k) else { return };
        if snap.fine {
            self.fine.retain(|&f| f != k);
            self.trail.retain(|&f| f != k);
        }
        self.bytes -= snap.written.len() * 8 + std::mem::size_of::<Snap<A>>();
        let next = self.snaps.range(k + 1..).next().map(|(&n, _)| n);
        let prev = self.snaps.range(..k).next_back().map_or(0, |(&n, _)| n);
        for &page in &snap.written {
            let Some(list) = self.pages.get_mut(&page) else { continue };
            // The versions of the interval (prev, k]: only the last one can still be needed,
            // by the next snapshot, if the page's next version comes after it.
            let lo = list.partition_point(|v| v.at <= prev);
            let hi = list.partition_point(|v| v.at <= k);
            if lo >= hi {
                continue;
            }
            let next_label = list.get(hi).map_or(u64::MAX, |v| v.at);
            let keep_last = next.is_some_and(|n| n < next_label);
            let end = if keep_last { hi - 1 } else { hi };
            let removed = end.saturating_sub(lo);
            for v in list.drain(lo..end) {
                self.bytes -= cost(&v.data);
            }
            self.versions -= removed;
            if list.is_empty() {
                self.pages.remove(&page);
            }
        }
        // The next snapshot now counts its written pages from the one before `k`.
        if let Some(n) = next {
            let nx = self.snaps.get_mut(&n).expect("next snapshot");
            let before = nx.written.len();
            let mut merged: Vec<u64> = nx.written.iter().chain(&snap.written).copied().collect();
            merged.sort_unstable();
            merged.dedup();
            self.bytes += (merged.len() - before) * 8;
            nx.written = merged;
        }
    }

    /// Pages written in the interval (lo, hi], if known: `hi` must be a snapshot or the
    /// process's current icount (then the memory's pending list counts too).
    pub fn written_between(&self, p: &Process<A>, lo: u64, hi: u64) -> Option<AHashSet<u64>> {
        if !self.snaps.contains_key(&lo) {
            return None;
        }
        let mut set = AHashSet::new();
        let top = if hi == p.m.icount && self.base >= lo {
            set.extend(p.m.mem.snapshot_pending().iter().copied());
            self.base
        } else if self.snaps.contains_key(&hi) {
            hi
        } else {
            return None;
        };
        for w in self.written_lists(lo, top) {
            set.extend(w.iter().copied());
        }
        Some(set)
    }

    /// The written-page lists of the snapshots in (lo, hi].
    fn written_lists(&self, lo: u64, hi: u64) -> impl Iterator<Item = &Vec<u64>> {
        let range = if lo < hi { self.snaps.range(lo + 1..=hi) } else { self.snaps.range(0..0) };
        range.map(|(_, s)| &s.written)
    }

    /// Put the process (memory, registers, platform state, log position) back to the
    /// snapshot at `k`, which must exist.
    pub fn restore(&mut self, p: &mut Process<A>, k: u64) {
        let mut pages = p.m.mem.take_snapshot_delta();
        let (lo, hi) = (self.base.min(k), self.base.max(k));
        for w in self.written_lists(lo, hi) {
            pages.extend_from_slice(w);
        }
        pages.sort_unstable();
        pages.dedup();
        for page in pages {
            let target = self.version_at(page, k).and_then(|v| view(&v.data));
            p.m.mem.restore_page(page, target);
        }
        // The memory now equals the snapshot: its pending list starts from here.
        p.m.mem.take_snapshot_delta();
        let snap = &self.snaps[&k];
        p.restore_state(&snap.state);
        if let Some(pos) = &snap.log {
            p.world.seek_log(pos);
        }
        self.base = k;
    }

    /// Compare the process's memory with what snapshot `k` (which it must be at) stores, for
    /// tests: the page numbers that differ.
    pub fn verify(&self, p: &Process<A>, k: u64) -> Vec<u64> {
        let mut bad = Vec::new();
        for (&page, _) in self.pages.iter() {
            let want = self.version_at(page, k).and_then(|v| view(&v.data));
            if p.m.mem.page_state(page) != want {
                bad.push(page);
            }
        }
        bad.sort_unstable();
        bad
    }
}
