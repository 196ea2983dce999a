//! The gdbstub `Target` over a replay timeline (generic over the guest ISA), its monitor
//! commands, and the blocking event loop that runs resume actions and notices Ctrl-C.
//!
//! Writes from gdb (memory or registers) are refused: the rest of the log was recorded from
//! the unmodified execution, so a changed value would make every later event a divergence
//! (docs/debugging.md).

use super::reverse::{Stop, Timeline, Watch};
use super::{DebugArch, DebugError};
use crate::replay::log::Positioned;
use gdbstub::common::Signal;
use gdbstub::conn::{Connection, ConnectionExt};
use gdbstub::stub::run_blocking::{self, BlockingEventLoop};
use gdbstub::stub::{DisconnectReason, GdbStub, SingleThreadStopReason};
use gdbstub::target::ext::base::reverse_exec::{ReplayLogPosition, ReverseCont, ReverseStep};
use gdbstub::target::ext::base::single_register_access::SingleRegisterAccess;
use gdbstub::target::ext::base::singlethread::{SingleThreadBase, SingleThreadResume, SingleThreadSingleStep};
use gdbstub::target::ext::breakpoints::{Breakpoints, HwBreakpoint, HwWatchpoint, SwBreakpoint, WatchKind};
use gdbstub::target::ext::monitor_cmd::{outputln, ConsoleOutput, MonitorCmd};
use gdbstub::target::ext::section_offsets::{Offsets, SectionOffsets};
use gdbstub::target::{ext, Target, TargetError, TargetResult};
use std::net::TcpStream;
use std::sync::Arc;

/// What gdb last asked the target to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Continue,
    Step,
    ReverseStep,
    ReverseContinue,
}

pub struct DebugTarget<A: DebugArch> {
    pub tl: Timeline<A>,
    action: Option<Action>,
    /// The log's events without its progress markers: the replayer's position counts the
    /// events it has taken (plus one for the one it looks ahead at), markers not included.
    events: Vec<Positioned>,
    /// Load bias of the executable (static-PIE), reported as section offsets.
    bias: u64,
}

impl<A: DebugArch> DebugTarget<A> {
    pub fn new(tl: Timeline<A>, events: Arc<Vec<Positioned>>, bias: u64) -> DebugTarget<A> {
        let events = events.iter().filter(|p| p.event != crate::replay::event::Event::Icount).cloned().collect();
        DebugTarget { tl, action: None, events, bias }
    }

    /// Carry out the pending action; None if `poll` interrupted it (the debugger sent
    /// something, normally Ctrl-C; the action stays pending so it can resume).
    fn execute(&mut self, poll: &mut dyn FnMut() -> bool) -> Option<SingleThreadStopReason<u64>> {
        let stop = match self.action? {
            Action::Continue => self.tl.forward(poll),
            Action::Step => self.tl.step(),
            Action::ReverseStep => self.tl.reverse_step(),
            Action::ReverseContinue => self.tl.reverse_continue(poll),
        };
        if stop == Stop::Interrupted {
            return None;
        }
        self.action = None;
        Some(stop_reason(stop))
    }

    /// `monitor events [N]`: the log events around the replayer's position.
    fn events_around(&self, n: usize, out: &mut ConsoleOutput<'_>) {
        // The replayer's position is one past the next event (it has decoded it ahead).
        let pos = self.tl.p.world.log_position().map_or(0, |p| p.event.saturating_sub(1));
        let from = pos.saturating_sub(n);
        let to = (pos + n).min(self.events.len());
        outputln!(
            out,
            "icount {}; events {from}..{to} of {} (> marks the next one to replay):",
            self.tl.icount(),
            self.events.len()
        );
        for (i, e) in self.events[from..to].iter().enumerate() {
            let mark = if from + i == pos { ">" } else { " " };
            outputln!(
                out,
                "{mark} #{:<6} {:>14} {:<11} {}",
                from + i,
                e.icount,
                crate::replay::event::Event::kind_name(e.event.kind()),
                crate::replay::replayer::describe_for(&e.event, A::LOG_ISA)
            );
        }
        if pos >= self.events.len() {
            outputln!(out, "> (end of log)");
        }
    }
}

fn stop_reason(stop: Stop) -> SingleThreadStopReason<u64> {
    match stop {
        Stop::Done | Stop::Interrupted => SingleThreadStopReason::DoneStep,
        Stop::Breakpoint => SingleThreadStopReason::SwBreak(()),
        Stop::Watch { kind, addr } => SingleThreadStopReason::Watch { tid: (), kind, addr },
        Stop::Begin => SingleThreadStopReason::ReplayLog { tid: None, pos: ReplayLogPosition::Begin },
        Stop::End => SingleThreadStopReason::ReplayLog { tid: None, pos: ReplayLogPosition::End },
        Stop::Signal(s) => SingleThreadStopReason::Signal(Signal(s as u8)),
    }
}

impl<A: DebugArch> Target for DebugTarget<A> {
    type Arch = A::Gdb;
    type Error = String;

    #[inline(always)]
    fn base_ops(&mut self) -> ext::base::BaseOps<'_, Self::Arch, Self::Error> {
        ext::base::BaseOps::SingleThread(self)
    }

    #[inline(always)]
    fn support_breakpoints(&mut self) -> Option<ext::breakpoints::BreakpointsOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_monitor_cmd(&mut self) -> Option<ext::monitor_cmd::MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_section_offsets(&mut self) -> Option<ext::section_offsets::SectionOffsetsOps<'_, Self>> {
        Some(self)
    }
}

impl<A: DebugArch> SingleThreadBase for DebugTarget<A> {
    fn read_registers(&mut self, regs: &mut <A::Gdb as gdbstub::arch::Arch>::Registers) -> TargetResult<(), Self> {
        *regs = A::gdb_regs(&self.tl.p.m.cpu);
        Ok(())
    }

    /// Refused: see the module comment.
    fn write_registers(&mut self, _regs: &<A::Gdb as gdbstub::arch::Arch>::Registers) -> TargetResult<(), Self> {
        Err(TargetError::NonFatal)
    }

    #[inline(always)]
    fn support_single_register_access(
        &mut self,
    ) -> Option<ext::base::single_register_access::SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        // Page by page, up to the first unmapped one; guest permissions do not matter.
        let mem = &self.tl.p.m.mem;
        let mut done = 0;
        while done < data.len() {
            let a = start.wrapping_add(done as u64);
            let room = (crate::mem::PAGE_SIZE - (a & (crate::mem::PAGE_SIZE - 1))) as usize;
            let k = room.min(data.len() - done);
            if mem.peek(a, &mut data[done..done + k]).is_err() {
                break;
            }
            done += k;
        }
        if done == 0 && !data.is_empty() {
            return Err(TargetError::NonFatal);
        }
        Ok(done)
    }

    /// Refused: see the module comment.
    fn write_addrs(&mut self, _start: u64, _data: &[u8]) -> TargetResult<(), Self> {
        Err(TargetError::NonFatal)
    }

    #[inline(always)]
    fn support_resume(&mut self) -> Option<ext::base::singlethread::SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl<A: DebugArch> SingleRegisterAccess<()> for DebugTarget<A> {
    fn read_register(
        &mut self,
        _tid: (),
        reg_id: <A::Gdb as gdbstub::arch::Arch>::RegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        Ok(A::gdb_reg(&self.tl.p.m.cpu, reg_id, buf))
    }

    fn write_register(
        &mut self,
        _tid: (),
        _reg_id: <A::Gdb as gdbstub::arch::Arch>::RegId,
        _val: &[u8],
    ) -> TargetResult<(), Self> {
        Err(TargetError::NonFatal)
    }
}

impl<A: DebugArch> SingleThreadResume for DebugTarget<A> {
    /// A signal gdb asks to continue with is ignored: the replay delivers exactly the
    /// signals the recording saw.
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), String> {
        self.action = Some(Action::Continue);
        Ok(())
    }

    #[inline(always)]
    fn support_single_step(&mut self) -> Option<ext::base::singlethread::SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_reverse_step(&mut self) -> Option<ext::base::reverse_exec::ReverseStepOps<'_, (), Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_reverse_cont(&mut self) -> Option<ext::base::reverse_exec::ReverseContOps<'_, (), Self>> {
        Some(self)
    }
}

impl<A: DebugArch> SingleThreadSingleStep for DebugTarget<A> {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), String> {
        self.action = Some(Action::Step);
        Ok(())
    }
}

impl<A: DebugArch> ReverseStep<()> for DebugTarget<A> {
    fn reverse_step(&mut self, _tid: ()) -> Result<(), String> {
        self.action = Some(Action::ReverseStep);
        Ok(())
    }
}

impl<A: DebugArch> ReverseCont<()> for DebugTarget<A> {
    fn reverse_cont(&mut self) -> Result<(), String> {
        self.action = Some(Action::ReverseContinue);
        Ok(())
    }
}

impl<A: DebugArch> Breakpoints for DebugTarget<A> {
    #[inline(always)]
    fn support_sw_breakpoint(&mut self) -> Option<ext::breakpoints::SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_hw_breakpoint(&mut self) -> Option<ext::breakpoints::HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_hw_watchpoint(&mut self) -> Option<ext::breakpoints::HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

/// Breakpoints are addresses the run loop checks; nothing is written into guest memory.
impl<A: DebugArch> SwBreakpoint for DebugTarget<A> {
    fn add_sw_breakpoint(
        &mut self,
        addr: u64,
        _kind: <A::Gdb as gdbstub::arch::Arch>::BreakpointKind,
    ) -> TargetResult<bool, Self> {
        self.tl.add_breakpoint(addr);
        Ok(true)
    }

    fn remove_sw_breakpoint(
        &mut self,
        addr: u64,
        _kind: <A::Gdb as gdbstub::arch::Arch>::BreakpointKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.tl.remove_breakpoint(addr))
    }
}

/// Hardware breakpoints (`hbreak`) are the same thing.
impl<A: DebugArch> HwBreakpoint for DebugTarget<A> {
    fn add_hw_breakpoint(
        &mut self,
        addr: u64,
        _kind: <A::Gdb as gdbstub::arch::Arch>::BreakpointKind,
    ) -> TargetResult<bool, Self> {
        self.tl.add_breakpoint(addr);
        Ok(true)
    }

    fn remove_hw_breakpoint(
        &mut self,
        addr: u64,
        _kind: <A::Gdb as gdbstub::arch::Arch>::BreakpointKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.tl.remove_breakpoint(addr))
    }
}

impl<A: DebugArch> HwWatchpoint for DebugTarget<A> {
    fn add_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        if len == 0 || len > 1 << 20 {
            return Ok(false);
        }
        self.tl.watches.push(Watch { addr, len, kind });
        Ok(true)
    }

    fn remove_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        let w = Watch { addr, len, kind };
        match self.tl.watches.iter().position(|x| *x == w) {
            Some(i) => {
                self.tl.watches.remove(i);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl<A: DebugArch> SectionOffsets for DebugTarget<A> {
    fn get_section_offsets(&mut self) -> Result<Offsets<u64>, String> {
        Ok(Offsets::Sections { text: self.bias, data: self.bias, bss: None })
    }
}

const MONITOR_HELP: &str = "deja monitor commands:
  monitor icount         the current instruction count
  monitor seek N         go to instruction count N (then `flushregs` so gdb rereads the state)
  monitor snapshots      list the snapshots reverse execution restores from
  monitor events [N]     the N (default 5) log events before and after the current position
  monitor digest         the state digest here (as `deja replay --to-icount N` prints it)
  monitor help           this text";

impl<A: DebugArch> MonitorCmd for DebugTarget<A> {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), String> {
        let cmd = String::from_utf8_lossy(cmd);
        let mut words = cmd.split_whitespace();
        match (words.next(), words.next()) {
            (Some("icount"), None) => outputln!(out, "{}", self.tl.icount()),
            (Some("seek"), Some(n)) => match parse_count(n) {
                Some(n) => {
                    // Progress lines keep gdb from timing out on a long seek.
                    let mut last = std::time::Instant::now();
                    let stop = self.tl.seek(n, &mut |ic| {
                        if last.elapsed().as_millis() >= 500 {
                            last = std::time::Instant::now();
                            outputln!(out, "seeking: at icount {ic}");
                            out.flush();
                        }
                    });
                    let where_ = format!("icount {}, pc {:#x}", self.tl.icount(), self.tl.pc());
                    match stop {
                        Stop::Done => outputln!(out, "at {where_}"),
                        _ => outputln!(out, "the log ends before icount {n}: at {where_}"),
                    }
                    outputln!(out, "(gdb still shows the old state: `maintenance flush register-cache` rereads it)");
                }
                None => outputln!(out, "usage: monitor seek N (an instruction count)"),
            },
            (Some("snapshots"), None) => {
                let s = &self.tl.snaps;
                outputln!(
                    out,
                    "{} snapshots every {} instructions, {} page versions, {} KiB",
                    s.len(),
                    s.every(),
                    s.versions(),
                    s.bytes() >> 10
                );
                for i in s.list() {
                    let fine = if i.fine { " (fine: taken near where you went)" } else { "" };
                    outputln!(
                        out,
                        "  icount {:>14}  {} pages written since the previous{fine}",
                        i.icount,
                        i.pages_written
                    );
                }
            }
            (Some("digest"), None) => {
                let d = self.tl.p.digest();
                outputln!(out, "icount {} digest {d:016x}", self.tl.icount());
            }
            (Some("events"), n) => {
                let n = n.and_then(|n| n.parse().ok()).unwrap_or(5);
                self.events_around(n, &mut out);
            }
            (Some("help"), None) | (None, _) => outputln!(out, "{MONITOR_HELP}"),
            _ => outputln!(out, "unknown monitor command `{cmd}`\n{MONITOR_HELP}"),
        }
        Ok(())
    }
}

/// A count as decimal, 0x hex, with optional `_` or `,` separators.
fn parse_count(s: &str) -> Option<u64> {
    let s: String = s.chars().filter(|&c| c != '_' && c != ',').collect();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The event loop: run the pending action, checking the connection for Ctrl-C.
pub enum EventLoop<A: DebugArch> {
    _Never(std::convert::Infallible, std::marker::PhantomData<A>),
}

impl<A: DebugArch> BlockingEventLoop for EventLoop<A> {
    type Target = DebugTarget<A>;
    type Connection = TcpStream;
    type StopReason = SingleThreadStopReason<u64>;

    #[allow(clippy::type_complexity)]
    fn wait_for_stop_reason(
        target: &mut DebugTarget<A>,
        conn: &mut TcpStream,
    ) -> Result<
        run_blocking::Event<SingleThreadStopReason<u64>>,
        run_blocking::WaitForStopReasonError<String, <TcpStream as Connection>::Error>,
    > {
        let stopped = {
            let mut poll = || conn.peek().map(|b| b.is_some()).unwrap_or(true);
            target.execute(&mut poll)
        };
        match stopped {
            Some(reason) => Ok(run_blocking::Event::TargetStopped(reason)),
            None => {
                let byte = ConnectionExt::read(conn).map_err(run_blocking::WaitForStopReasonError::Connection)?;
                Ok(run_blocking::Event::IncomingData(byte))
            }
        }
    }

    /// The target only runs inside `wait_for_stop_reason`, so it is already stopped.
    fn on_interrupt(target: &mut DebugTarget<A>) -> Result<Option<SingleThreadStopReason<u64>>, String> {
        target.action = None;
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}

/// Serve one gdb connection until it detaches or kills the session.
pub fn run_session<A: DebugArch>(target: &mut DebugTarget<A>, stream: TcpStream) -> Result<(), DebugError> {
    let gdb = GdbStub::new(stream);
    match gdb.run_blocking::<EventLoop<A>>(target) {
        Ok(reason) => {
            let how = match reason {
                DisconnectReason::Disconnect => "gdb detached",
                DisconnectReason::Kill => "gdb killed the session",
                DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_) => "the guest ended",
            };
            eprintln!("deja: {how} at icount {}", target.tl.icount());
            Ok(())
        }
        Err(e) => Err(DebugError::Connection(e.to_string())),
    }
}
