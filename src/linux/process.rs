//! A guest process: machine, engine, platform state and the run loop that turns engine exits
//! into syscalls, signals and the process's end.

use super::signal::SignalState;
use super::syscall::{self, SysErr};
use crate::arch::Arch;
use crate::engine::{EnvRequest, Exit, GuestFault, Machine};
use crate::mem::Memory;
use crate::world::{EndStatus, World};
use std::collections::HashSet;
use std::path::PathBuf;

/// How a guest process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// exit/exit_group with this status (low 8 bits are what a parent sees).
    Exited(i32),
    /// Killed by a signal (default action terminate/core) at this pc and icount.
    Killed { signo: i32, pc: u64, icount: u64, addr: Option<u64>, detail: Option<String> },
}

impl Outcome {
    /// Exit status deja itself exits with: the guest's status, or 128+signal.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(c) => c & 0xff,
            Outcome::Killed { signo, .. } => 128 + signo,
        }
    }
}

/// Options that shape a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Stop the guest after this many instructions (`--max-icount`).
    pub max_icount: Option<u64>,
    /// Print each retired instruction.
    pub trace: bool,
    /// Most guest memory (bytes mapped) the guest may have (`--max-memory`); beyond it,
    /// mmap/brk/mremap fail with ENOMEM as they would under RLIMIT_AS.
    pub max_memory: Option<u64>,
    /// The engine that executes guest code (`--engine`).
    pub engine: crate::engine::EngineKind,
}

/// An emulator error that ends the run (not a guest fault).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("instruction limit of {0} reached")]
    IcountLimit(u64),
    /// The emulator itself failed (a bug); the message says where.
    #[error("{0}")]
    Internal(String),
    /// Replay no longer matches its log. `pc` is the instruction being executed.
    #[error("replay diverged at icount {}: expected {}, got {}", .div.icount, .div.expected, .div.actual)]
    Divergence { div: crate::world::Divergence, pc: u64 },
    /// The guest waits in a syscall for a signal that nothing can send: deja has no
    /// asynchronous signal sources yet, so only an already pending signal could end the wait.
    #[error("guest blocked forever in {0}: no signal is pending and nothing can send one")]
    Deadlock(&'static str),
}

/// Why `Process::advance` returned.
#[derive(Debug)]
pub enum Advance {
    /// The icount asked for was reached (after the boundary's checkpoint and signals).
    Reached,
    /// At an instruction boundary (other than the one `advance` started at) the pc is one of
    /// the stop addresses: the instruction there has not executed.
    Stop,
    /// The process ended (or the run stopped with an error).
    Ended(Result<Outcome, RunError>),
}

/// Everything of a process a snapshot must keep besides memory and the world's position:
/// registers, the instruction count, and the platform's own state.
#[derive(Clone)]
pub struct ProcState<A: Arch> {
    pub cpu: A::Cpu,
    pub icount: u64,
    pub brk_start: u64,
    pub brk: u64,
    pub mmap_next: u64,
    pub sig: SignalState,
    pub clear_child_tid: u64,
    pub info: super::syscall::proc::ProcInfo,
}

pub struct Process<A: Arch> {
    pub m: Machine<A::Cpu>,
    pub engine: A::Engine,
    pub world: Box<dyn World>,
    /// Host path of the executable (for /proc/self/exe and AT_EXECFN).
    pub exe: PathBuf,
    /// Program break: start (end of the loaded image) and current value.
    pub brk_start: u64,
    pub brk: u64,
    /// Guest address range of the loaded executable image (for /proc/self/maps).
    pub image: (u64, u64),
    /// Next address to try for top-down mmap placement.
    pub mmap_next: u64,
    pub sig: SignalState,
    /// clear_child_tid from set_tid_address.
    pub clear_child_tid: u64,
    /// Host fds the guest must not touch (deja's own: logs, etc.).
    pub reserved_fds: Vec<i32>,
    /// Unimplemented syscalls already reported once.
    pub warned: HashSet<u64>,
    pub opts: Options,
    /// Peak of mapped guest memory, bytes.
    pub peak_mapped: u64,
    /// Checkpoint state digests.
    pub digester: crate::replay::digest::Digester,
    /// Address of the instruction the platform is completing (for divergence reports).
    cur_pc: u64,
    /// Identity/info state the emulator keeps (thread name, rlimits, robust list…).
    pub info: super::syscall::proc::ProcInfo,
}

impl<A: Arch> Process<A> {
    pub fn new(mem: Memory, world: Box<dyn World>, exe: PathBuf, opts: Options) -> Process<A> {
        let engine = A::new_engine(opts.engine, opts.trace);
        let info = super::syscall::proc::ProcInfo::new(&exe);
        Process {
            m: Machine { cpu: A::Cpu::default(), mem, icount: 0, limit: 0 },
            engine,
            world,
            exe,
            brk_start: 0,
            brk: 0,
            image: (0, 0),
            mmap_next: super::layout::MMAP_TOP,
            sig: SignalState::default(),
            clear_child_tid: 0,
            reserved_fds: Vec::new(),
            warned: HashSet::new(),
            opts,
            peak_mapped: 0,
            digester: Default::default(),
            cur_pc: 0,
            info,
        }
    }

    /// Run until the guest exits or is killed, then tell the world how it ended.
    pub fn run(&mut self) -> Result<Outcome, RunError> {
        let r = self.run_loop();
        self.finish(r)
    }

    /// Tell the world how the run ended (`r`), and check that a replay agrees.
    pub fn finish(&mut self, r: Result<Outcome, RunError>) -> Result<Outcome, RunError> {
        if matches!(r, Err(RunError::Divergence { .. })) {
            return r;
        }
        let status = match &r {
            Ok(Outcome::Exited(c)) => EndStatus::Exited(*c),
            Ok(Outcome::Killed { signo, .. }) => EndStatus::Killed(*signo),
            Err(_) => EndStatus::Stopped,
        };
        let digest = self.digest();
        self.world.end(self.m.icount, status, digest);
        if let Some(div) = self.world.divergence() {
            return Err(RunError::Divergence { div, pc: A::pc(&self.m.cpu) });
        }
        r
    }

    /// Digest of the architectural state (registers and memory), as checkpoints record it.
    pub fn digest(&mut self) -> u64 {
        self.digester.digest(&A::state_bytes(&self.m.cpu), &mut self.m.mem)
    }

    fn check_divergence(&mut self) -> Result<(), RunError> {
        match self.world.divergence() {
            Some(div) => Err(RunError::Divergence { div, pc: self.cur_pc }),
            None => Ok(()),
        }
    }

    fn run_loop(&mut self) -> Result<Outcome, RunError> {
        loop {
            let until = match self.opts.max_icount {
                Some(max) if self.m.icount >= max => return Err(RunError::IcountLimit(max)),
                Some(max) => max,
                None => u64::MAX,
            };
            if let Advance::Ended(r) = self.advance(until, &[]) {
                return r;
            }
        }
    }

    /// Run until icount `until` is reached, the pc reaches one of `stops` (sorted; the
    /// debugger's breakpoints) at a later instruction boundary, or the process ends. Each
    /// boundary is complete when this returns: its checkpoint taken and its signals
    /// delivered, so the state at an icount is one well-defined thing (the debugger's
    /// "moment"). Does not tell the world how the run ended (`run` does).
    pub fn advance(&mut self, until: u64, stops: &[u64]) -> Advance {
        match self.advance_inner(until, stops) {
            Ok(a) => a,
            Err(e) => Advance::Ended(Err(e)),
        }
    }

    fn advance_inner(&mut self, until: u64, stops: &[u64]) -> Result<Advance, RunError> {
        // Asynchronous signals (timers, Ctrl-C) are taken between engine runs: this bounds
        // their latency (~1.5 ms of guest time at 170 MIPS; 1 << 22 made a 2 ms timer arrive
        // 25 ms late) at no measurable cost.
        const CHUNK: u64 = 1 << 18;
        let every = self.world.checkpoint_every().filter(|&e| e > 0);
        let mut first = true;
        loop {
            if self.m.icount >= until {
                return Ok(Advance::Reached);
            }
            let at_stop = !stops.is_empty() && stops.binary_search(&A::pc(&self.m.cpu)).is_ok();
            if at_stop && !first {
                return Ok(Advance::Stop);
            }
            let mut budget = CHUNK.min(until - self.m.icount);
            let next_cp = every.map(|e| (self.m.icount / e + 1) * e);
            if let Some(cp) = next_cp {
                budget = budget.min(cp - self.m.icount);
            }
            if let Some(stop) = self.world.next_stop() {
                if stop > self.m.icount {
                    budget = budget.min(stop - self.m.icount);
                }
            }
            let exit = if at_stop {
                // Starting on a stop address: execute that instruction first.
                A::run(&mut self.engine, &mut self.m, 1)
            } else if stops.is_empty() {
                A::run(&mut self.engine, &mut self.m, budget)
            } else {
                A::run_stops(&mut self.engine, &mut self.m, budget, stops)
            };
            first = false;
            self.cur_pc = A::pc(&self.m.cpu);
            self.peak_mapped = self.peak_mapped.max(self.m.mem.mapped_bytes());
            let step = match exit {
                Exit::Budget => None,
                Exit::Syscall => self.syscall()?,
                Exit::Env(req) => {
                    self.complete_env(req);
                    None
                }
                Exit::Fault(f) => self.fault(f),
            };
            self.check_divergence()?;
            if let Some(out) = step {
                return Ok(Advance::Ended(Ok(out)));
            }
            if next_cp.is_some_and(|cp| self.m.icount >= cp) {
                let d = self.digest();
                self.world.checkpoint(self.m.icount, d);
                self.check_divergence()?;
            }
            let out = self.deliver_pending();
            self.check_divergence()?;
            if let Some(out) = out {
                return Ok(Advance::Ended(Ok(out)));
            }
        }
    }

    /// Registers, icount and platform state, for a snapshot.
    pub fn save_state(&self) -> ProcState<A> {
        ProcState {
            cpu: self.m.cpu.clone(),
            icount: self.m.icount,
            brk_start: self.brk_start,
            brk: self.brk,
            mmap_next: self.mmap_next,
            sig: self.sig.clone(),
            clear_child_tid: self.clear_child_tid,
            info: self.info.clone(),
        }
    }

    /// Put back what `save_state` took (memory and the world's position are restored by
    /// the caller).
    pub fn restore_state(&mut self, s: &ProcState<A>) {
        self.m.cpu = s.cpu.clone();
        self.m.icount = s.icount;
        self.m.limit = s.icount;
        self.brk_start = s.brk_start;
        self.brk = s.brk;
        self.mmap_next = s.mmap_next;
        self.sig = s.sig.clone();
        self.clear_child_tid = s.clear_child_tid;
        self.info = s.info.clone();
        self.cur_pc = A::pc(&self.m.cpu);
    }

    /// Perform the syscall the guest just executed; it retires when the result is in its
    /// result register.
    fn syscall(&mut self) -> Result<Option<Outcome>, RunError> {
        let (nr, args) = A::syscall_args(&self.m.cpu);
        self.cur_pc = A::pc(&self.m.cpu).wrapping_sub(A::SYSCALL_LEN);
        self.world.syscall_entry(self.m.icount, nr, &args);
        A::enter_syscall(&mut self.m.cpu);
        let r = syscall::dispatch(self, nr, args);
        if r == Err(SysErr::Errno(libc::EINTR)) && self.restart_after_signal() {
            // Like the kernel's -ERESTARTSYS: the handler runs first, then the syscall is
            // executed again (it has not retired).
            A::restart_syscall(&mut self.m.cpu, nr, &args);
            return Ok(None);
        }
        match r {
            Ok(v) => A::set_syscall_result(&mut self.m.cpu, v as u64),
            Err(SysErr::Errno(e)) => A::set_syscall_result(&mut self.m.cpu, -(e as i64) as u64),
            Err(SysErr::NoResult) => {}
            Err(SysErr::Exit(code)) => {
                self.m.icount += 1;
                return Ok(Some(Outcome::Exited(code)));
            }
            Err(SysErr::Blocked(name)) => {
                // The syscall never completes: it does not retire, and pc names it.
                A::restart_syscall(&mut self.m.cpu, nr, &args);
                return Err(RunError::Deadlock(name));
            }
        }
        self.m.icount += 1;
        Ok(None)
    }

    /// Complete an instruction that asked for an outside value; it retires.
    fn complete_env(&mut self, req: EnvRequest) {
        A::complete_env(&mut self.m.cpu, req, &mut *self.world, self.m.icount);
        self.m.icount += 1;
    }

    /// A host syscall was interrupted by a signal: take the signal now, and say whether the
    /// syscall must be restarted. Natively a signal interrupts a syscall only if it runs a
    /// handler (which may ask for a restart with SA_RESTART) or kills the process; a blocked
    /// or ignored signal (SIGWINCH by default, SIG_IGN) leaves the syscall running, so the
    /// guest must not see the EINTR deja got.
    fn restart_after_signal(&mut self) -> bool {
        use super::signal::{default_action, DefaultAction, SIG_DFL, SIG_IGN};
        let Some(s) = self.world.pending_signal(self.m.icount) else { return false };
        self.sig.raise(s);
        let act = self.sig.actions[s as usize];
        let blocked = self.sig.mask & (1u64 << (s - 1)) != 0;
        let ignored = act.handler == SIG_IGN
            || (act.handler == SIG_DFL
                && matches!(default_action(s), DefaultAction::Ignore | DefaultAction::Stop | DefaultAction::Continue));
        let handler_restarts = act.handler > SIG_IGN && act.flags & libc::SA_RESTART as u64 != 0;
        blocked || ignored || handler_restarts
    }

    /// A synchronous fault: deliver it to the guest's handler or end the process.
    fn fault(&mut self, f: GuestFault) -> Option<Outcome> {
        self.world.exception(self.m.icount, f.signo, f.code, f.addr);
        super::signal::deliver_fault(self, f)
    }

    /// Deliver pending (raised or asynchronous) signals at this instruction boundary.
    fn deliver_pending(&mut self) -> Option<Outcome> {
        if let Some(s) = self.world.pending_signal(self.m.icount) {
            self.sig.raise(s);
        }
        super::signal::deliver_pending(self)
    }
}

/// Test scaffolding shared by the platform's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Options, Process};
    use crate::arch::Arch;
    use crate::mem::{flags, Memory};
    use crate::world::{HostCall, World};

    /// A world with nothing outside: every host call fails with ENOSYS, no time, no signals.
    pub struct NoWorld;

    impl World for NoWorld {
        fn syscall(&mut self, _: u64, _: &HostCall) -> i64 {
            -(libc::ENOSYS as i64)
        }
        fn tsc(&mut self, _: u64) -> u64 {
            0
        }
        fn random(&mut self, _: u64, _: &mut [u8]) {}
        fn pending_signal(&mut self, _: u64) -> Option<i32> {
            None
        }
    }

    /// A 1 MiB read-write stack at `STACK..STACK_TOP` in a 16 MiB address space.
    pub const STACK: u64 = 0x10_0000;
    pub const STACK_TOP: u64 = STACK + 0x10_0000;

    /// A process with nothing loaded but the stack, in a `NoWorld`.
    pub fn stack_process<A: Arch>() -> Process<A> {
        let mut mem = Memory::new(1 << 24).unwrap();
        assert!(mem.map(STACK, STACK_TOP - STACK, flags::R | flags::W));
        Process::new(mem, Box::new(NoWorld), "test".into(), Options::default())
    }
}
