//! Time-travel debugging: `deja replay FILE --gdb ADDR` serves a replay to gdb over the GDB
//! remote protocol (the `gdbstub` crate), with reverse execution.
//!
//! - `reverse.rs`: the replay as a timeline (moments, breakpoints and watchpoints checked by
//!   the run loop, reverse-stepi and reverse-continue).
//! - `snapshot.rs`: snapshots every N instructions from dirty-page deltas, with a budget.
//! - `target.rs`: the gdbstub `Target` (registers, memory, resume actions, monitor commands)
//!   and the event loop, generic over the guest ISA.
//! - `x86_64.rs`, `aarch64.rs`: each ISA's register file and target description, and
//!   instruction memory operands for watchpoints (`DebugArch`).
//!
//! The user guide is docs/debugging.md.

pub mod aarch64;
pub mod reverse;
pub mod snapshot;
pub mod target;
pub mod x86_64;

use crate::arch::Arch;
use crate::mem::Memory;
use crate::replay::session::{self, ReplayOptions, SessionError};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// What the debugger needs from a guest ISA beyond `Arch`.
pub trait DebugArch: Arch {
    /// gdbstub's description of the register file (with its target description XML).
    type Gdb: gdbstub::arch::Arch<Usize = u64>;
    /// The gdb to suggest for connecting (`gdb`, or `gdb-multiarch` for a foreign ISA).
    const GDB: &'static str;
    /// Does gdb expect watchpoints to be reported *before* the accessing instruction
    /// executes (gdb's `have_nonsteppable_watchpoint`, AArch64)? gdb then steps over the
    /// instruction itself with the watchpoints removed: forward it single-steps, in reverse
    /// it reverse-steps. So a hit is reported going forward at the moment before the
    /// accessing instruction, and going backward at the moment after it. When false (x86),
    /// forward stops after the instruction and backward before it, and gdb steps nothing.
    const WATCH_BEFORE: bool = false;

    /// The register file as gdb sees it.
    fn gdb_regs(c: &Self::Cpu) -> <Self::Gdb as gdbstub::arch::Arch>::Registers;
    /// One register in gdb's encoding into `buf`; returns how many bytes.
    fn gdb_reg(c: &Self::Cpu, id: <Self::Gdb as gdbstub::arch::Arch>::RegId, buf: &mut [u8]) -> usize;
    /// The memory the instruction at the pc reads and writes (for read/access watchpoints).
    fn mem_accesses(mem: &Memory, c: &Self::Cpu, out: &mut Vec<MemAccess>);
}

/// One memory access of an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemAccess {
    pub addr: u64,
    pub len: u64,
    pub read: bool,
    pub write: bool,
}

pub struct DebugOptions {
    /// Address to listen on, e.g. 127.0.0.1:1234 (port 0: any free port, printed).
    pub listen: String,
    /// Instructions between snapshots.
    pub snapshot_every: u64,
    /// Memory budget for snapshots, bytes.
    pub snapshot_budget: usize,
    pub replay: ReplayOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum DebugError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
    #[error("gdb connection failed: {0}")]
    Connection(String),
    #[error("{0}")]
    Target(String),
}

/// A path gdb can load the program's symbols from: the recorded executable if it is still
/// there unchanged, else the image from the log written to a temporary file.
fn program_for_gdb(recorded: &Path, image: &[u8]) -> PathBuf {
    if std::fs::read(recorded).is_ok_and(|b| b == image) {
        return recorded.to_path_buf();
    }
    let hash = crate::replay::log::exe_hash(image);
    let path = std::env::temp_dir().join(format!("deja-gdb-{hash:016x}"));
    if std::fs::write(&path, image).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
    }
    path
}

/// Serve the replay of `log` to gdb: stop before the first instruction, print how to
/// connect, and run the session until gdb detaches or kills it.
pub fn serve<A: DebugArch>(log: &Path, opts: DebugOptions) -> Result<(), DebugError> {
    let prep = session::prepare_replay::<A>(log, opts.replay)?;
    let limit = match prep.recorded_end {
        Some((crate::replay::event::EndKind::Stopped, _, at)) => Some(at),
        _ => None,
    };
    let program = program_for_gdb(&prep.exe_path, &prep.image);
    // A static-PIE executable is loaded at PIE_BASE; gdb learns it from qOffsets.
    let is_pie = prep.image.get(16..18) == Some(&(object::elf::ET_DYN).to_le_bytes()[..]);
    let bias = if is_pie { crate::linux::layout::PIE_BASE } else { 0 };
    let listener = TcpListener::bind(&opts.listen).map_err(|e| DebugError::Listen(opts.listen.clone(), e))?;
    let addr = listener.local_addr().map_err(|e| DebugError::Listen(opts.listen.clone(), e))?;
    let tl = reverse::Timeline::new(prep.process, opts.snapshot_every, opts.snapshot_budget, limit);
    let mut target = target::DebugTarget::new(tl, prep.events, bias);
    eprintln!("deja: replay of {} stopped before its first instruction; waiting for gdb on {addr}", log.display());
    let shown = crate::report::untrusted(std::os::unix::ffi::OsStrExt::as_bytes(program.as_os_str()));
    eprintln!("deja: connect with: {} {shown} -ex 'target remote {addr}'", A::GDB);
    let _ = std::io::stderr().flush();
    let (stream, peer) = listener.accept().map_err(|e| DebugError::Connection(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    eprintln!("deja: gdb connected from {peer}");
    target::run_session(&mut target, stream)
}
