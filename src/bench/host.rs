//! What `deja bench` needs from the host: measured child processes (wall time and peak RSS
//! from `wait4`), the optional tools (gcc, qemu-user), and the C workloads built with gcc.

use super::workloads::{Size, Workload};
use crate::linux::loader::Isa;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished child process.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From just before spawning to just after reaping.
    pub wall: Duration,
    /// Peak resident set size (`ru_maxrss` from `wait4`), KiB.
    pub max_rss_kib: u64,
    /// Exit status, or 128+N for a death by signal N.
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Run `cmd` to its end with stdin from /dev/null and stdout/stderr captured, measuring its
/// wall time and the peak RSS of that process alone.
pub fn measure(cmd: &mut Command) -> Result<Measured, String> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let errs = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut stdout = Vec::new();
    let _ = out.read_to_end(&mut stdout);
    let mut status = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: reaping our own child (std never waits for it: we do not call child.wait()),
        // with valid pointers to locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waiting for {:?}: {e}", cmd.get_program()));
        }
    }
    let wall = t0.elapsed();
    let stderr = errs.join().unwrap_or_default();
    let status = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    Ok(Measured { wall, max_rss_kib: ru.ru_maxrss.max(0) as u64, status, stdout, stderr })
}

/// `name` on PATH, if it is there.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// The qemu-user binary that runs `isa` programs (Debian's qemu-user), if installed.
pub fn qemu_for(isa: Isa) -> Option<PathBuf> {
    let names: &[&str] = match isa {
        Isa::X86_64 => &["qemu-x86_64", "qemu-x86_64-static"],
        Isa::Aarch64 => &["qemu-aarch64", "qemu-aarch64-static"],
    };
    names.iter().find_map(|n| which(n))
}

/// Whether this host runs `isa` programs natively.
pub fn runs_natively(isa: Isa) -> bool {
    match isa {
        Isa::X86_64 => cfg!(target_arch = "x86_64"),
        Isa::Aarch64 => cfg!(target_arch = "aarch64"),
    }
}

/// The C workloads (benches/workloads/*.c, compiled into deja so it needs no source tree):
/// name, kind, source, the argument that makes it small (`--quick`).
pub const C_SOURCES: &[(&str, &str, &str, &str)] = &[
    ("c-intloop", "integer", include_str!("../../benches/workloads/intloop.c"), "1"),
    ("c-fpnbody", "float", include_str!("../../benches/workloads/fpnbody.c"), "1000"),
    ("c-strings", "memory", include_str!("../../benches/workloads/strings.c"), "5"),
    ("c-syscalls", "syscall", include_str!("../../benches/workloads/syscalls.c"), "1000"),
];

/// Build the C workloads for `isa` into `dir` with `gcc -static -O2` (the cross compiler for
/// another ISA). Returns the workloads and, when none could be built, why.
pub fn c_workloads(isa: Isa, size: Size, dir: &Path) -> (Vec<Workload>, Option<String>) {
    let gcc = match isa {
        Isa::X86_64 if cfg!(target_arch = "x86_64") => "gcc",
        Isa::X86_64 => "x86_64-linux-gnu-gcc",
        Isa::Aarch64 if cfg!(target_arch = "aarch64") => "gcc",
        Isa::Aarch64 => "aarch64-linux-gnu-gcc",
    };
    if which(gcc).is_none() {
        return (Vec::new(), Some(format!("{gcc} is not installed")));
    }
    let mut out = Vec::new();
    let mut why = None;
    for &(name, kind, src, quick_arg) in C_SOURCES {
        let c = dir.join(format!("{name}.c"));
        let bin = dir.join(format!("{name}-{}", isa_name(isa)));
        if let Err(e) = std::fs::write(&c, src) {
            why = Some(format!("{}: {e}", c.display()));
            continue;
        }
        let r = Command::new(gcc)
            .args(["-static", "-O2", "-o"])
            .arg(&bin)
            .arg(&c)
            .arg("-lm")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match r {
            Ok(o) if o.status.success() => match std::fs::read(&bin) {
                Ok(image) => out.push(Workload {
                    name: name.into(),
                    kind,
                    isa,
                    origin: "c",
                    image,
                    args: if size == Size::Quick { vec![quick_arg.into()] } else { Vec::new() },
                }),
                Err(e) => why = Some(format!("{}: {e}", bin.display())),
            },
            Ok(o) => {
                why = Some(format!("{gcc} -static failed: {}", String::from_utf8_lossy(&o.stderr).trim()));
            }
            Err(e) => why = Some(format!("cannot run {gcc}: {e}")),
        }
    }
    let why = if out.is_empty() { why } else { None };
    (out, why)
}

/// The name deja uses for an ISA on its command line and in reports.
pub fn isa_name(isa: Isa) -> &'static str {
    match isa {
        Isa::X86_64 => "x86_64",
        Isa::Aarch64 => "aarch64",
    }
}

/// The host CPU's model name (from /proc/cpuinfo).
pub fn cpu_model() -> String {
    let s = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// The host kernel release.
pub fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}
