//! Record and replay sessions: what `deja record` and `deja replay` do, as library calls.

use super::event::{EndKind, Event};
use super::log::{self, Header, Log, LogError, LogWriter, Positioned};
use super::recorder::Recorder;
use super::replayer::Replayer;
use crate::arch::Arch;
use crate::linux::process::{Options, RunError};
use crate::linux::{Outcome, Process, StartError};
use crate::world::{EndStatus, RealWorld};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default checkpoint interval (instructions).
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 10_000_000;

/// Why a session could not run.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("{0}: cannot create the log: {1}")]
    Create(String, std::io::Error),
    #[error("{path}: the executable differs from the recorded one (hash {found:016x}, recorded {want:016x}); pass --exe with the original")]
    ExeChanged { path: String, found: u64, want: u64 },
    #[error("{0}: cannot read the recorded executable: {1} (the log does not embed it; pass --exe)")]
    ExeMissing(String, std::io::Error),
    #[error("{0}: this log is of another guest ISA ({1}) than this replay session")]
    WrongIsa(String, &'static str),
    #[error("{log}: the log is of an {log_isa} guest, but its executable {exe} is {exe_isa}")]
    IsaMismatch { log: String, log_isa: &'static str, exe: String, exe_isa: &'static str },
    #[error("{0}: unknown guest ISA code {1} in the header")]
    UnknownIsa(String, u8),
}

pub struct RecordOptions {
    pub out: PathBuf,
    pub checkpoint_every: u64,
    pub embed_exe: bool,
    pub run: Options,
}

/// Results of a recording.
pub struct Recorded<A: Arch> {
    pub process: Process<A>,
    pub result: Result<Outcome, RunError>,
    /// Writing the log failed (disk full, file size limit): it ends early.
    pub log_error: Option<std::io::Error>,
}

fn header_for<A: Arch>(
    exe: &Path,
    image: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    every: u64,
    embed: bool,
) -> Header {
    use std::os::unix::ffi::OsStrExt;
    let abs = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    Header {
        isa: A::LOG_ISA,
        flags: if embed { log::FLAG_EXE_EMBEDDED } else { 0 },
        checkpoint_every: every,
        exe_hash: log::exe_hash(image),
        exe_len: image.len() as u64,
        exe_path: abs.as_os_str().as_bytes().to_vec(),
        exe_image: embed.then(|| image.to_vec()),
        argv: argv.to_vec(),
        envp: envp.to_vec(),
        recorder: format!("deja {}", env!("CARGO_PKG_VERSION")),
    }
}

/// Run `exe` for real and record everything it observes into `opts.out`.
pub fn record<A: Arch>(
    exe: &Path,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    opts: RecordOptions,
) -> Result<Recorded<A>, SessionError> {
    let name = exe.display().to_string();
    let image =
        std::fs::read(exe).map_err(|e| StartError::Load(crate::linux::loader::LoadError::Io(name.clone(), e)))?;
    // Refuse bad executables before creating the log.
    crate::linux::loader::elf_isa(&name, &image).map_err(StartError::Load)?;
    let header = header_for::<A>(exe, &image, argv, envp, opts.checkpoint_every, opts.embed_exe);
    let writer =
        LogWriter::create(&opts.out, &header).map_err(|e| SessionError::Create(opts.out.display().to_string(), e))?;
    crate::world::catch_host_signals();
    // A log that reaches the file size limit must fail with EFBIG (reported at the end), not
    // kill deja with SIGXFSZ.
    // SAFETY: setting a signal disposition to SIG_IGN.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let world = Recorder::new(RealWorld, writer, opts.checkpoint_every);
    let errors = world.error_slot();
    let abs = PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&header.exe_path));
    let mut p = crate::linux::start_image(&name, &image, &abs, argv, envp, Box::new(world), opts.run)?;
    let result = run_guarded(&mut p);
    Ok(Recorded { process: p, result, log_error: errors.take() })
}

/// Run the process; an emulator panic still ends the log with a proper end event.
fn run_guarded<A: Arch>(p: &mut Process<A>) -> Result<Outcome, RunError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.run())) {
        Ok(r) => r,
        Err(_) => {
            let ic = p.m.icount;
            p.world.end(ic, EndStatus::Stopped, 0);
            Err(RunError::Internal(format!("internal error at pc={:#x} icount={ic}", A::pc(&p.m.cpu))))
        }
    }
}

/// Run to icount `n` (`Err(IcountLimit(n))` once there), or to the end if that comes first.
fn run_partial<A: Arch>(p: &mut Process<A>, n: u64) -> Result<Outcome, RunError> {
    use crate::linux::process::Advance;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.advance(n, &[]))) {
        Ok(Advance::Ended(r)) => p.finish(r),
        Ok(_) => Err(RunError::IcountLimit(n)),
        Err(_) => Err(RunError::Internal(format!("internal error at pc={:#x} icount={}", A::pc(&p.m.cpu), p.m.icount))),
    }
}

pub struct ReplayOptions {
    pub quiet: bool,
    /// Stop at this icount (before the recorded end).
    pub to_icount: Option<u64>,
    /// Use this executable instead of the embedded or recorded one (must hash the same).
    pub exe: Option<PathBuf>,
    pub run: Options,
}

pub struct Replayed<A: Arch> {
    pub process: Process<A>,
    pub result: Result<Outcome, RunError>,
    /// The recorded end: kind, value, final icount (None for a log cut short).
    pub recorded_end: Option<(EndKind, i32, u64)>,
}

/// A replay ready to run: the process at its first instruction, with a replaying world.
pub struct PreparedReplay<A: Arch> {
    pub process: Process<A>,
    /// The recorded end: kind, value, final icount (None for a log cut short).
    pub recorded_end: Option<(EndKind, i32, u64)>,
    /// The log's events (shared with the replaying world).
    pub events: Arc<Vec<Positioned>>,
    /// The executable as recorded (path) and its image.
    pub exe_path: PathBuf,
    pub image: Vec<u8>,
}

/// Open a log and prepare its replay without running it (the debugger runs it step by step;
/// `opts.to_icount` is for the caller to apply).
pub fn prepare_replay<A: Arch>(path: &Path, opts: ReplayOptions) -> Result<PreparedReplay<A>, SessionError> {
    let log = Log::open(path)?;
    let name = log.path.clone();
    match log.header.isa {
        isa if isa == A::LOG_ISA => {}
        log::ISA_AARCH64 => return Err(SessionError::WrongIsa(name, "AArch64")),
        log::ISA_X86_64 => return Err(SessionError::WrongIsa(name, "x86-64")),
        other => return Err(SessionError::UnknownIsa(name, other)),
    }
    let h = &log.header;
    let recorded_exe = PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&h.exe_path));
    // The log is untrusted: its path is shown escaped in every message.
    let recorded_shown = crate::report::untrusted(&h.exe_path);
    let image = match (&opts.exe, &h.exe_image) {
        (Some(p), _) => std::fs::read(p).map_err(|e| SessionError::ExeMissing(p.display().to_string(), e))?,
        (None, Some(img)) => img.clone(),
        (None, None) => {
            std::fs::read(&recorded_exe).map_err(|e| SessionError::ExeMissing(recorded_shown.clone(), e))?
        }
    };
    let found = log::exe_hash(&image);
    if found != h.exe_hash {
        let path = opts.exe.as_ref().map_or(recorded_shown.clone(), |p| p.display().to_string());
        return Err(SessionError::ExeChanged { path, found, want: h.exe_hash });
    }
    // The header's ISA and the executable's must agree (a corrupt or forged header).
    let exe_shown = opts.exe.as_ref().map_or(recorded_shown.clone(), |p| p.display().to_string());
    let exe_isa = crate::linux::loader::elf_isa(&exe_shown, &image).map_err(StartError::Load)?;
    if exe_isa.machine() != A::ELF_MACHINE {
        let isa_name = |i: crate::linux::loader::Isa| match i {
            crate::linux::loader::Isa::X86_64 => "x86-64",
            crate::linux::loader::Isa::Aarch64 => "AArch64",
        };
        let log_isa = if A::LOG_ISA == log::ISA_AARCH64 { "AArch64" } else { "x86-64" };
        return Err(SessionError::IsaMismatch { log: name, log_isa, exe: exe_shown, exe_isa: isa_name(exe_isa) });
    }
    let mut replayer = Replayer::new(&log, opts.quiet);
    replayer.stop_at = opts.to_icount;
    // The debugger lists events around the current icount (`monitor events`).
    let events: Arc<Vec<Positioned>> = Arc::new(log.events().collect());
    let recorded_end = replayer.recorded_end();
    let mut run = opts.run;
    // A recording the emulator stopped ends at its recorded icount; replay stops there too.
    if let Some((EndKind::Stopped, _, at)) = recorded_end {
        run.max_icount = Some(at);
    }
    let exe_name = recorded_shown;
    let process =
        crate::linux::start_image(&exe_name, &image, &recorded_exe, &h.argv, &h.envp, Box::new(replayer), run)?;
    Ok(PreparedReplay { process, recorded_end, events, exe_path: recorded_exe, image })
}

/// Replay a log: re-execute the guest with every outside input taken from the log.
pub fn replay<A: Arch>(path: &Path, opts: ReplayOptions) -> Result<Replayed<A>, SessionError> {
    let stop_at = opts.to_icount;
    let PreparedReplay { process: mut p, recorded_end, .. } = prepare_replay(path, opts)?;
    let result = match stop_at {
        // Stopping before the recorded end: the rest of the log is simply not replayed
        // (telling the world the run ended here would be a divergence).
        Some(n) if recorded_end.is_none_or(|(_, _, at)| n < at) => run_partial(&mut p, n),
        _ => run_guarded(&mut p),
    };
    Ok(Replayed { process: p, result, recorded_end })
}

/// `deja info`: a summary of a log.
pub fn info(path: &Path) -> Result<String, SessionError> {
    let log = Log::open(path)?;
    let h = &log.header;
    let mut counts = std::collections::BTreeMap::<&str, u64>::new();
    let mut syscalls = std::collections::BTreeMap::<String, u64>::new();
    for e in log.events() {
        *counts.entry(Event::kind_name(e.event.kind())).or_default() += 1;
        if let Event::Syscall { nr, .. } = e.event {
            *syscalls.entry(super::replayer::guest_syscall_name(nr, h.isa)).or_default() += 1;
        }
    }
    let mut s = String::new();
    use std::fmt::Write;
    let isa = match h.isa {
        log::ISA_X86_64 => "x86-64",
        log::ISA_AARCH64 => "aarch64",
        _ => "unknown",
    };
    let _ = writeln!(s, "log:          {} ({} bytes, format version {})", log.path, log.file_size, log::VERSION);
    let _ = writeln!(s, "recorded by:  {}", crate::report::untrusted(h.recorder.as_bytes()));
    let _ = writeln!(s, "isa:          {isa}");
    let _ = writeln!(
        s,
        "program:      {} ({} bytes, xxh3 {:016x}{})",
        crate::report::untrusted(&h.exe_path),
        h.exe_len,
        h.exe_hash,
        if h.exe_image.is_some() { ", embedded" } else { "" }
    );
    let argv: Vec<String> = h.argv.iter().map(|a| format!("{:?}", String::from_utf8_lossy(a))).collect();
    let _ = writeln!(s, "argv:         [{}]", argv.join(", "));
    let _ = writeln!(s, "environment:  {} variables", h.envp.len());
    let _ = writeln!(s, "checkpoints:  every {} instructions", h.checkpoint_every);
    match log.last.as_ref().filter(|e| matches!(e.event, Event::End { .. })) {
        Some(e) => {
            if let Event::End { kind, value, digest } = e.event {
                let how = match kind {
                    EndKind::Exited => format!("exit {value}"),
                    EndKind::Killed => format!("killed by {}", crate::report::signal_name(value)),
                    EndKind::Stopped => "stopped by the emulator".into(),
                };
                let _ = writeln!(s, "end:          {how} at icount {}, digest {digest:016x}", e.icount);
            }
        }
        None => {
            let last = log.last.as_ref().map_or(0, |e| e.icount);
            let _ = writeln!(s, "end:          none: the recording was cut short (last event at icount {last})");
        }
    }
    let _ = writeln!(s, "events:       {}", log.event_count);
    for (k, n) in counts {
        let _ = writeln!(s, "  {k:<12}{n}");
    }
    // Guest syscalls by name (in the log's ISA's numbering), most frequent first.
    if !syscalls.is_empty() {
        let mut by_count: Vec<(String, u64)> = syscalls.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let list: Vec<String> = by_count.iter().map(|(name, n)| format!("{name} {n}")).collect();
        let _ = writeln!(s, "syscalls:     {}", list.join(", "));
    }
    Ok(s)
}

/// `deja dump`: events one per line, optionally limited to an icount range.
pub fn dump(path: &Path, from: Option<u64>, to: Option<u64>, out: &mut dyn std::io::Write) -> Result<(), SessionError> {
    let log = Log::open(path)?;
    // Icounts never decrease: stop at the first event past `to`.
    for e in
        log.events().take_while(|e| to.is_none_or(|t| e.icount <= t)).filter(|e| from.is_none_or(|f| e.icount >= f))
    {
        if writeln!(
            out,
            "{:>14} {:<11} {}",
            e.icount,
            Event::kind_name(e.event.kind()),
            super::replayer::describe_for(&e.event, log.header.isa)
        )
        .is_err()
        {
            break;
        }
    }
    Ok(())
}
