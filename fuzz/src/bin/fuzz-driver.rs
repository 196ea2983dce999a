//! The stable fuzz driver: runs the harnesses of `deja_fuzz` on a stable toolchain, without
//! libFuzzer. It runs every seed of `corpus/<target>/`, then random mutations of them (bit
//! flips, interesting values, insertions, deletions, crossover; the log targets fix checksums
//! up themselves) for a time or a number of runs. Not coverage-guided: `cargo fuzz` is, when
//! it can be used (docs/security.md).
//!
//!   fuzz-driver <target|all> [--secs N] [--runs N] [--seed S]    fuzz
//!   fuzz-driver <target> FILE...                                  run these inputs once
//!   fuzz-driver list                                              the targets
//!   fuzz-driver fix-log IN OUT     a log input with the checksums and exe hash fixed up as
//!                                  the log targets do (for `deja replay OUT`)
//!
//! A panic, a fatal signal (SIGSEGV, SIGABRT, …) or an input running longer than --timeout
//! seconds (default 60) writes the input to `artifacts/<target>/{crash,timeout}-<hash>`,
//! prints its path and how to run it again, and exits with status 1.

use deja_fuzz::{Harness, Rng, TARGETS};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Largest input the mutator makes.
const MAX_LEN: usize = 1 << 20;

fn usage() -> ! {
    eprintln!(
        "usage: fuzz-driver <target|all> [--secs N] [--runs N] [--seed S] [--timeout SECS]\n       \
         fuzz-driver <target> FILE...\n       fuzz-driver list\n       fuzz-driver fix-log IN OUT"
    );
    std::process::exit(2)
}

struct Args {
    targets: Vec<(&'static str, Harness)>,
    files: Vec<PathBuf>,
    secs: Option<u64>,
    runs: Option<u64>,
    seed: u64,
    timeout: u64,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let name = it.next().unwrap_or_else(|| usage());
    if name == "fix-log" {
        // What the log targets do to their input before parsing: `deja replay` can then run
        // a saved reproducer.
        let (Some(i), Some(o)) = (it.next(), it.next()) else { usage() };
        let mut d = std::fs::read(&i).unwrap_or_else(|e| panic!("{i}: {e}"));
        deja_fuzz::logs::fix_exe_hash(&mut d);
        deja_fuzz::logs::fix_crcs(&mut d);
        std::fs::write(&o, d).unwrap_or_else(|e| panic!("{o}: {e}"));
        std::process::exit(0);
    }
    if name == "list" {
        for (t, _) in TARGETS {
            println!("{t}");
        }
        std::process::exit(0);
    }
    let targets: Vec<_> = TARGETS.iter().copied().filter(|(t, _)| name == "all" || *t == name).collect();
    if targets.is_empty() {
        eprintln!("fuzz-driver: no target `{name}` (see `fuzz-driver list`)");
        std::process::exit(2);
    }
    let mut a = Args { targets, files: Vec::new(), secs: None, runs: None, seed: 0x00de_1a00, timeout: 60 };
    let num = |v: Option<String>| v.and_then(|s| s.parse::<u64>().ok()).unwrap_or_else(|| usage());
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--secs" => a.secs = Some(num(it.next())),
            "--runs" => a.runs = Some(num(it.next())),
            "--seed" => a.seed = num(it.next()),
            "--timeout" => a.timeout = num(it.next()),
            s if s.starts_with('-') => usage(),
            f => a.files.push(f.into()),
        }
    }
    if !a.files.is_empty() && a.targets.len() != 1 {
        usage();
    }
    a
}

fn main() {
    let args = parse_args();
    install_crash_handlers();
    start_watchdog(args.timeout);
    if !args.files.is_empty() {
        let (name, f) = args.targets[0];
        for file in &args.files {
            let data = std::fs::read(file).unwrap_or_else(|e| {
                eprintln!("fuzz-driver: {}: {e}", file.display());
                std::process::exit(2)
            });
            run_one(name, f, &data);
            println!("{}: ok", file.display());
        }
        return;
    }
    let n = args.targets.len() as u64;
    for (i, &(name, f)) in args.targets.iter().enumerate() {
        let secs = args.secs.map(|s| Duration::from_secs(s) / n as u32);
        let runs = args.runs.map(|r| r / n);
        fuzz(name, f, secs, runs, args.seed.wrapping_add(i as u64));
    }
}

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name)
}

fn artifact_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts").join(name)
}

fn load_corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    let mut c: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if c.is_empty() {
        eprintln!("fuzz-driver: {name}: no seeds in {} (run fuzz/gen-corpus.sh); starting from nothing", dir.display());
        c.push(Vec::new());
    }
    c
}

fn fuzz(name: &'static str, f: Harness, secs: Option<Duration>, runs: Option<u64>, seed: u64) {
    let seeds = load_corpus(name);
    let start = Instant::now();
    for s in &seeds {
        run_one(name, f, s);
    }
    let mut rng = Rng::new(seed);
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut n = 0u64;
    let done = |n: u64| match (secs, runs) {
        (Some(s), _) if start.elapsed() >= s => true,
        (_, Some(r)) if n >= r => true,
        (None, None) => n >= 10_000,
        _ => false,
    };
    while !done(n) {
        let base = if pool.is_empty() || rng.below(2) == 0 {
            &seeds[rng.below(seeds.len() as u64) as usize]
        } else {
            &pool[rng.below(pool.len() as u64) as usize]
        };
        let mut d = base.clone();
        let hot = hot_range(name, &d);
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut d, &seeds, hot.clone());
        }
        run_one(name, f, &d);
        n += 1;
        // Mutants of mutants reach further; keep a few.
        if pool.len() < 64 {
            pool.push(d);
        } else if rng.below(4) == 0 {
            let i = rng.below(64) as usize;
            pool[i] = d;
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "{name}: {} seeds and {n} mutations in {t:.1}s ({:.0} runs/s), seed {seed}: no crash",
        seeds.len(),
        (n + seeds.len() as u64) as f64 / t.max(1e-9)
    );
}

/// Where mutations are aimed half of the time: the ELF headers, a log's events (not its
/// header chunk with the embedded executable).
fn hot_range(name: &str, d: &[u8]) -> std::ops::Range<usize> {
    match name {
        "elf_load" => 0..d.len().min(512),
        "log_parse" | "replay_log" => {
            let start = deja_fuzz::logs::frames(d).first().map_or(0, |&(f, len)| f + 8 + len);
            start.min(d.len())..d.len()
        }
        _ => 0..d.len(),
    }
}

const INTERESTING: [u64; 16] = [
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    1 << 32,
    i64::MAX as u64,
    1 << 63,
    u64::MAX,
];

fn mutate(rng: &mut Rng, d: &mut Vec<u8>, seeds: &[Vec<u8>], hot: std::ops::Range<usize>) {
    let pos = |rng: &mut Rng, len: usize| -> usize {
        if !hot.is_empty() && hot.end <= len && rng.below(2) == 0 {
            hot.start + rng.below((hot.end - hot.start) as u64) as usize
        } else {
            rng.below(len as u64 + 1) as usize
        }
    };
    if d.is_empty() {
        d.extend((0..1 + rng.below(64)).map(|_| rng.next() as u8));
        return;
    }
    let len = d.len();
    match rng.below(10) {
        0 => {
            let i = pos(rng, len - 1);
            d[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = pos(rng, len - 1);
            d[i] = rng.next() as u8;
        }
        2 => {
            let w = [1usize, 2, 4, 8][rng.below(4) as usize];
            let mut v = INTERESTING[rng.below(16) as usize];
            if rng.below(2) == 0 {
                v = v.wrapping_neg();
            }
            let i = pos(rng, len - 1);
            let n = w.min(len - i);
            d[i..i + n].copy_from_slice(&v.to_le_bytes()[..n]);
        }
        3 => {
            let i = pos(rng, len - 1);
            let delta = 1 + rng.below(16) as u8;
            d[i] = if rng.below(2) == 0 { d[i].wrapping_add(delta) } else { d[i].wrapping_sub(delta) };
        }
        4 if len < MAX_LEN => {
            let i = pos(rng, len);
            let k = 1 + rng.below(16) as usize;
            let bytes: Vec<u8> = (0..k).map(|_| rng.next() as u8).collect();
            d.splice(i..i, bytes);
        }
        5 => {
            let i = pos(rng, len - 1);
            let k = (1 + rng.below(16) as usize).min(len - i);
            d.drain(i..i + k);
        }
        6 if len < MAX_LEN => {
            let a = rng.below(len as u64) as usize;
            let k = (1 + rng.below(64) as usize).min(len - a);
            let piece = d[a..a + k].to_vec();
            let i = pos(rng, len);
            d.splice(i..i, piece);
        }
        7 => {
            // Crossover: overwrite with a piece of another seed at the same offset.
            let other = &seeds[rng.below(seeds.len() as u64) as usize];
            let i = pos(rng, len - 1);
            if i < other.len() {
                let k = (1 + rng.below(64) as usize).min(len - i).min(other.len() - i);
                d[i..i + k].copy_from_slice(&other[i..i + k]);
            }
        }
        8 => {
            let n = rng.below(len as u64) as usize;
            d.truncate(n);
        }
        _ => {
            let i = pos(rng, len - 1);
            let k = (1 + rng.below(8) as usize).min(len - i);
            let v = [0u8, 0xff, 0x80, 0x7f][rng.below(4) as usize];
            d[i..i + k].fill(v);
        }
    }
}

// ---- running one input, and reporting what goes wrong ----

/// The input being run (for the signal handlers and the watchdog).
static CUR_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static CUR_LEN: AtomicUsize = AtomicUsize::new(0);
/// NUL-terminated path the signal handlers write the current input to (leaked CString).
static CRASH_PATH: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
/// Milliseconds since `EPOCH` at which the current input started; 0 when idle.
static STARTED_MS: AtomicU64 = AtomicU64::new(0);
static TARGET: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static TARGET_LEN: AtomicUsize = AtomicUsize::new(0);
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

fn set_target(name: &'static str) {
    if TARGET_LEN.load(Ordering::Relaxed) == name.len()
        && std::ptr::eq(TARGET.load(Ordering::Relaxed), name.as_ptr() as *mut u8)
    {
        return;
    }
    TARGET.store(name.as_ptr() as *mut u8, Ordering::Relaxed);
    TARGET_LEN.store(name.len(), Ordering::Relaxed);
    let dir = artifact_dir(name);
    let _ = std::fs::create_dir_all(&dir);
    let p = CString::new(dir.join("crash-signal").into_os_string().into_encoded_bytes()).unwrap();
    let old = CRASH_PATH.swap(p.into_raw(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: `old` came from CString::into_raw above and nothing else holds it (handlers
        // only read CRASH_PATH while an input runs, and none runs now).
        drop(unsafe { CString::from_raw(old) });
    }
}

fn run_one(name: &'static str, f: Harness, data: &[u8]) {
    set_target(name);
    CUR_PTR.store(data.as_ptr() as *mut u8, Ordering::Release);
    CUR_LEN.store(data.len(), Ordering::Release);
    let t0 = now_ms();
    STARTED_MS.store(t0, Ordering::Release);
    let r = std::panic::catch_unwind(|| f(data));
    STARTED_MS.store(0, Ordering::Release);
    if r.is_err() {
        let path = save(name, "crash", data);
        report(name, "panicked", &path);
    }
    let ms = now_ms() - t0;
    if ms >= SLOW_MS {
        let path = save(name, "slow", data);
        eprintln!("fuzz-driver: {name}: slow input ({ms} ms), saved as {}", path.display());
    }
}

/// An input that takes this long is reported (and saved as `slow-<hash>`), not a failure.
const SLOW_MS: u64 = 2000;

fn save(name: &str, kind: &str, data: &[u8]) -> PathBuf {
    let dir = artifact_dir(name);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{kind}-{:016x}", xxhash_rust::xxh3::xxh3_64(data)));
    if let Err(e) = std::fs::write(&path, data) {
        eprintln!("fuzz-driver: cannot write {}: {e}", path.display());
    }
    path
}

fn report(name: &str, what: &str, path: &Path) -> ! {
    eprintln!(
        "\nfuzz-driver: {name}: the harness {what} on the input saved as\n  {}\nrun it again with\n  \
         cargo run --release --manifest-path fuzz/Cargo.toml --no-default-features --bin fuzz-driver -- {name} {}",
        path.display(),
        path.display()
    );
    std::process::exit(1)
}

/// A watchdog thread: an input that runs longer than `secs` is a hang.
fn start_watchdog(secs: u64) {
    now_ms();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        let started = STARTED_MS.load(Ordering::Acquire);
        if started != 0 && now_ms().saturating_sub(started) > secs * 1000 {
            let len = CUR_LEN.load(Ordering::Acquire);
            let ptr = CUR_PTR.load(Ordering::Acquire);
            // SAFETY: the main thread is still inside `run_one` with this input (it has not
            // finished it for `secs` seconds), which keeps the buffer alive and unchanged.
            let data = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
            // SAFETY: set_target stored a &'static str's pointer and length.
            let name = unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                    TARGET.load(Ordering::Acquire),
                    TARGET_LEN.load(Ordering::Acquire),
                ))
            };
            let path = save(name, "timeout", &data);
            report(name, &format!("ran longer than {secs}s"), &path);
        }
    });
}

const FATAL: [libc::c_int; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT];
static OLD_ACTIONS: [AtomicPtr<libc::sigaction>; 5] = [const { AtomicPtr::new(std::ptr::null_mut()) }; 5];

/// On a fatal signal, write the current input to `artifacts/<target>/crash-signal`, say so,
/// and let the previous handler (Rust's stack overflow report) or the default action go on.
fn install_crash_handlers() {
    for (i, &s) in FATAL.iter().enumerate() {
        // SAFETY: installing a handler that only uses async-signal-safe calls (open, write,
        // close, sigaction); the old action is leaked so the handler can restore it.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            let old = Box::into_raw(Box::new(std::mem::zeroed::<libc::sigaction>()));
            libc::sigaction(s, &sa, old);
            OLD_ACTIONS[i].store(old, Ordering::Release);
        }
    }
}

extern "C" fn on_fatal(sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let msg = b"\nfuzz-driver: fatal signal while running an input; it is saved as artifacts/<target>/crash-signal\n";
    // SAFETY: async-signal-safe calls on static data; the input buffer is alive while
    // STARTED_MS is set (the main thread is inside `run_one`).
    unsafe {
        libc::write(2, msg.as_ptr() as *const libc::c_void, msg.len());
        let path = CRASH_PATH.load(Ordering::Acquire);
        if STARTED_MS.load(Ordering::Acquire) != 0 && !path.is_null() {
            let fd = libc::open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644);
            if fd >= 0 {
                libc::write(
                    fd,
                    CUR_PTR.load(Ordering::Acquire) as *const libc::c_void,
                    CUR_LEN.load(Ordering::Acquire),
                );
                libc::close(fd);
            }
            libc::write(2, b"  ".as_ptr() as *const libc::c_void, 2);
            libc::write(2, path as *const libc::c_void, libc::strlen(path));
            libc::write(2, b"\n".as_ptr() as *const libc::c_void, 1);
        }
        if let Some(i) = FATAL.iter().position(|&s| s == sig) {
            let old = OLD_ACTIONS[i].load(Ordering::Acquire);
            if !old.is_null() {
                libc::sigaction(sig, old, std::ptr::null_mut());
            }
        }
    }
    // Returning re-runs the faulting instruction (or lets abort() go on) under the previous
    // disposition.
}
