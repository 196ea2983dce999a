//! Signal delivery end to end: C programs built at test time, run natively and under deja,
//! compared on stdout, stderr (minus deja's own "deja: " lines) and exit status (a native
//! death by signal N is deja's exit status 128+N, with deja's one-line report on stderr).
//!
//! Two tiers:
//! - freestanding programs (`-nostdlib`, raw syscalls, a tiny runtime below) that need only
//!   the basic integer instructions, so they exercise the signal machinery today;
//! - libc programs (glibc, and musl when `musl-gcc` is installed) using sigaction, printf,
//!   sigsetjmp/siglongjmp, raise and abort; they need the whole ISA (SSE, string
//!   instructions…) and are `#[ignore = "needs full ISA"]` until that lands.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn work_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("signals");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn have(cc: &str) -> bool {
    Command::new(cc).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Compile `src` with `cc` into a static executable; None when `cc` is not installed.
fn compile(name: &str, src: &str, cc: &str, flags: &[&str]) -> Option<PathBuf> {
    if !have(cc) {
        eprintln!("{cc} not installed: skipping {name}");
        return None;
    }
    let dir = work_dir();
    let tag = Path::new(cc).file_name().unwrap().to_string_lossy().into_owned();
    let c = dir.join(format!("{name}-{tag}.c"));
    let exe = dir.join(format!("{name}-{tag}"));
    std::fs::write(&c, src).unwrap();
    let out = Command::new(cc).args(flags).arg("-o").arg(&exe).arg(&c).output().unwrap();
    assert!(out.status.success(), "{cc} failed for {name}:\n{}", String::from_utf8_lossy(&out.stderr));
    Some(exe)
}

fn native(exe: &Path) -> Output {
    let mut cmd = Command::new(exe);
    // SAFETY: only async-signal-safe setrlimit calls between fork and exec. An 8 MiB stack
    // like deja's guest stack (the overflow tests depend on it) and no core files.
    unsafe {
        cmd.pre_exec(|| {
            let stack = libc::rlimit { rlim_cur: 8 << 20, rlim_max: libc::RLIM_INFINITY };
            libc::setrlimit(libc::RLIMIT_STACK, &stack);
            let core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &core);
            Ok(())
        });
    }
    output_within(cmd)
}

fn deja(exe: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deja"));
    cmd.arg("run").arg("--").arg(exe);
    output_within(cmd)
}

/// Run to completion, killing the child if it runs for more than a minute (a test program
/// that loops must fail, not hang the suite).
fn output_within(mut cmd: Command) -> Output {
    use std::process::Stdio;
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if rx.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
            // SAFETY: kill(2) on the child we spawned and still own (not yet reaped).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    watchdog.join().unwrap();
    out
}

/// Run `exe` natively and under deja and require the same behaviour.
fn compare(exe: &Path) {
    let n = native(exe);
    let d = deja(exe);
    let (n_out, d_out) = (String::from_utf8_lossy(&n.stdout), String::from_utf8_lossy(&d.stdout));
    let d_err_all = String::from_utf8_lossy(&d.stderr);
    let n_err = String::from_utf8_lossy(&n.stderr);
    let d_err: String = d_err_all.lines().filter(|l| !l.starts_with("deja: ")).map(|l| format!("{l}\n")).collect();
    let ctx = format!(
        "{}\n--- native stdout ---\n{n_out}--- deja stdout ---\n{d_out}--- deja stderr ---\n{d_err_all}",
        exe.display()
    );
    assert!(!d_err_all.contains("unimplemented instruction"), "deja lacks an instruction: {ctx}");
    assert_eq!(n_out, d_out, "stdout differs: {ctx}");
    assert_eq!(n_err.trim_end(), d_err.trim_end(), "stderr differs: {ctx}");
    let want = match (n.status.code(), n.status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => {
            let name = deja::report::signal_name(s);
            let line = format!("deja: guest killed by {name} at pc=");
            assert!(d_err_all.lines().any(|l| l.starts_with(&line)), "no kill report ({line}…): {ctx}");
            128 + s
        }
        _ => unreachable!(),
    };
    assert_eq!(d.status.code(), Some(want), "exit status differs (native {:?}): {ctx}", n.status);
}

// ---------------------------------------------------------------------------------------
// Freestanding tier.

/// A minimal runtime: _start, raw syscalls, output without shifts or division (a byte to
/// hex table), sigaction with a restorer. glibc's headers give the structure layouts.
fn runtime() -> String {
    let hex: String = (0..256).map(|i| format!("{i:02x}")).collect();
    r#"
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
typedef unsigned long u64;
#define NOINLINE __attribute__((noinline))
#define BIT(n) (1UL << ((n) - 1))
#define KSA_RESTORER 0x04000000UL

static long sys(long n, long a, long b, long c, long d) {
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
static const char HEX[] = "HEXTABLE";
static void put(const char *s, long n) { sys(SYS_write, 1, (long)s, n, 0); }
static void pr(const char *s) { long n = 0; while (s[n]) n++; put(s, n); }
static void hex(u64 v) {
    char b[16]; const unsigned char *p = (const unsigned char *)&v;
    for (int i = 0; i < 8; i++) { b[14 - 2 * i] = HEX[2 * p[i]]; b[15 - 2 * i] = HEX[2 * p[i] + 1]; }
    int k = 0; while (k < 15 && b[k] == '0') k++;
    put(b + k, 16 - k);
}
static void kv(const char *k, u64 v) { pr(" "); pr(k); pr("="); hex(v); }
static void nl(void) { pr("\n"); }
static void exit_group(long c) { sys(SYS_exit_group, c, 0, 0, 0); }
/* The tid from set_tid_address (registered here before getpid/gettid); pid = tid for the
   main thread. */
static long gettid_(void) { return sys(SYS_set_tid_address, 0, 0, 0, 0); }
static long getpid_(void) { return gettid_(); }
static long raise_(int sig) { return sys(SYS_tgkill, getpid_(), gettid_(), sig, 0); }
static u64 getmask(void) { u64 m = 0; sys(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&m, 8); return m; }
static long setmask(int how, u64 m) { return sys(SYS_rt_sigprocmask, how, (long)&m, 0, 8); }

__asm__(".text\n.globl restore_rt\nrestore_rt:\n mov $15, %eax\n syscall\n hlt\n");
extern void restore_rt(void);
struct ksa { void *handler; u64 flags; void *restorer; u64 mask; };
static long sigact(int sig, void *h, u64 flags, u64 mask) {
    struct ksa a = { h, flags | KSA_RESTORER, (void *)restore_rt, mask };
    return sys(SYS_rt_sigaction, sig, (long)&a, 0, 8);
}
static struct ksa getact(int sig) {
    struct ksa a = { 0, 0, 0, 0 };
    sys(SYS_rt_sigaction, sig, 0, (long)&a, 8);
    return a;
}

int cmain(void);
__asm__(".text\n.globl _start\n_start:\n xor %ebp, %ebp\n and $-16, %rsp\n call cmain\n mov %eax, %edi\n mov $231, %eax\n syscall\n hlt\n");
"#
    .replace("HEXTABLE", &hex)
}

const FREESTANDING_FLAGS: &[&str] = &[
    "-static",
    "-nostdlib",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-stack-protector",
    "-fno-pie",
    "-no-pie",
    "-O1",
    "-fno-tree-vectorize",
    "-fno-tree-loop-distribute-patterns",
    "-fcf-protection=none",
];

fn freestanding(name: &str, body: &str) {
    let src = format!("{}\n{body}", runtime());
    if let Some(exe) = compile(name, &src, "gcc", FREESTANDING_FLAGS) {
        compare(&exe);
    }
}

/// tgkill/kill/tkill to self with an SA_SIGINFO handler: the handler runs before the
/// syscall's caller continues, with sa_mask and the signal blocked, the siginfo of the
/// sender, and the frame aligned as Linux aligns it. Argument checks of the signal syscalls.
#[test]
fn raise_with_handler_and_syscall_checks() {
    freestanding(
        "raise",
        r#"
static void h(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    pr("handler"); kv("sig", sig); kv("code", (u64)(long)si->si_code);
    kv("pid_ok", si->si_pid == getpid_()); kv("mask", getmask());
    kv("saved", *(u64 *)&uc->uc_sigmask); kv("link", (u64)uc->uc_link);
    kv("ss_flags", uc->uc_stack.ss_flags); kv("uc_align", (u64)uc & 15);
    kv("info_off", (u64)((char *)si - (char *)uc));
    kv("fp_align", (u64)uc->uc_mcontext.fpregs & 63);
    kv("mxcsr", uc->uc_mcontext.fpregs->mxcsr); kv("cwd", uc->uc_mcontext.fpregs->cwd);
    nl();
}
int cmain(void) {
    kv("sigact", sigact(SIGUSR1, h, SA_SIGINFO, BIT(SIGUSR2))); nl();
    struct ksa a = getact(SIGUSR1);
    kv("h_ok", a.handler == (void *)h); kv("flags", a.flags); kv("r_ok", a.restorer == (void *)restore_rt);
    kv("mask", a.mask); nl();
    setmask(SIG_SETMASK, BIT(SIGHUP));
    pr("before tgkill\n");
    kv("tgkill", raise_(SIGUSR1)); nl();
    kv("kill", sys(SYS_kill, getpid_(), SIGUSR1, 0, 0)); nl();
    kv("tkill", sys(SYS_tkill, gettid_(), SIGUSR1, 0, 0)); nl();
    kv("mask_after", getmask()); nl();
    kv("sig0", raise_(0));
    kv("sig65", -raise_(65));
    kv("neg", -sys(SYS_kill, getpid_(), -1, 0, 0));
    kv("tgkill0", -sys(SYS_tgkill, 0, gettid_(), SIGUSR1, 0));
    kv("tkill0", -sys(SYS_tkill, 0, SIGUSR1, 0, 0)); nl();
    struct ksa k = { (void *)h, KSA_RESTORER, (void *)restore_rt, 0 };
    kv("act_kill", -sys(SYS_rt_sigaction, SIGKILL, (long)&k, 0, 8));
    kv("act_stop", -sys(SYS_rt_sigaction, SIGSTOP, (long)&k, 0, 8));
    kv("query_kill", sys(SYS_rt_sigaction, SIGKILL, 0, (long)&k, 8));
    kv("act_size", -sys(SYS_rt_sigaction, SIGUSR1, (long)&k, 0, 4));
    kv("act_0", -sys(SYS_rt_sigaction, 0, 0, 0, 8));
    kv("act_65", -sys(SYS_rt_sigaction, 65, 0, 0, 8));
    kv("act_fault", -sys(SYS_rt_sigaction, SIGUSR1, 16, 0, 8));
    kv("mask_how", -sys(SYS_rt_sigprocmask, 7, (long)&k.mask, 0, 8));
    kv("mask_size", -sys(SYS_rt_sigprocmask, SIG_BLOCK, (long)&k.mask, 0, 16));
    u64 all = ~0UL; setmask(SIG_SETMASK, all); kv("fullmask", getmask()); setmask(SIG_SETMASK, 0);
    nl();
    /* Unknown flag bits are dropped, known ones kept. */
    sigact(SIGUSR2, h, 0x400 | SA_ONSTACK | SA_RESTART, 0);
    kv("flags2", getact(SIGUSR2).flags); nl();
    return 0;
}
"#,
    );
}

/// Faults with a handler that inspects the ucontext (rip, trapno, err, cr2 — stale for
/// non-page faults as on Linux) and resumes by editing REG_RIP and REG_RAX: a read of an
/// unmapped address, a write to a read-only page, ud2, int3 and hlt (#GP).
#[test]
fn faults_inspect_and_edit_ucontext() {
    freestanding(
        "faults",
        r#"
extern char f_read[], a_read[], f_write[], a_write[], f_ud[], a_ud[], a_bp[], f_hlt[], a_hlt[];
static u64 base, last_cr2;
static void h(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    greg_t *g = uc->uc_mcontext.gregs;
    u64 rip = g[REG_RIP], addr = (u64)si->si_addr;
    pr("sig"); kv("n", sig); kv("code", (u64)(long)si->si_code);
    if (sig == SIGSEGV && si->si_code != 0x80) {
        kv("addr_off", addr - base); kv("cr2_ok", (u64)g[REG_CR2] == addr); last_cr2 = addr;
    } else {
        kv("addr", addr); kv("cr2_stale", (u64)g[REG_CR2] == last_cr2);
    }
    kv("trapno", g[REG_TRAPNO]); kv("err", g[REG_ERR]);
    kv("mask", *(u64 *)&uc->uc_sigmask);
    if (rip == (u64)f_read) { pr(" read"); g[REG_RIP] = (u64)a_read; }
    else if (rip == (u64)f_write) { pr(" write"); g[REG_RIP] = (u64)a_write; }
    else if (rip == (u64)f_ud) { pr(" ud2"); g[REG_RIP] = (u64)a_ud; }
    else if (rip == (u64)a_bp) { pr(" int3"); }
    else if (rip == (u64)f_hlt) { pr(" hlt"); g[REG_RIP] = (u64)a_hlt; }
    else { pr(" unexpected rip\n"); exit_group(3); }
    g[REG_RAX] = 0x1234;
    nl();
}
int cmain(void) {
    for (int s = SIGILL; s <= SIGSEGV; s++) sigact(s, h, SA_SIGINFO, 0);
    base = 0xdead000;
    u64 r;
    __asm__ volatile("f_read: mov (%1), %0\n a_read:" : "=a"(r) : "r"(base + 0x18) : "memory");
    kv("after read rax", r); nl();
    long m = sys(SYS_mmap, 0, 0x2000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    base = (u64)m;
    /* Touch the page first: the error code's present bit then matches deja's (which does
       not model demand paging: a mapped page is always present). */
    r = *(volatile u64 *)(base + 0x1000);
    __asm__ volatile("f_write: movq $1, 8(%1)\n a_write:" : "=a"(r) : "r"(base + 0x1000) : "memory");
    kv("after write rax", r); nl();
    __asm__ volatile("f_ud: ud2\n a_ud:" : "=a"(r) : : "memory");
    kv("after ud2 rax", r); nl();
    __asm__ volatile("int3\n a_bp:" : "=a"(r) : : "memory");
    kv("after int3 rax", r); nl();
    __asm__ volatile("f_hlt: hlt\n a_hlt:" : "=a"(r) : : "memory");
    kv("after hlt rax", r); nl();
    kv("mask", getmask()); nl();
    return 0;
}
"#,
    );
}

/// A blocked signal stays pending (rt_sigpending shows it) and is delivered as soon as
/// rt_sigprocmask unblocks it, before that syscall's caller continues. rt_sigsuspend with
/// a pending signal returns EINTR after the handler ran under the temporary mask and
/// restores the original mask; rt_sigtimedwait takes a pending signal with its siginfo.
#[test]
fn blocked_pending_sigsuspend_sigtimedwait() {
    freestanding(
        "pending",
        r#"
static void h(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    pr("handler"); kv("sig", sig); kv("mask", getmask()); kv("saved", *(u64 *)&uc->uc_sigmask); nl();
}
int cmain(void) {
    sigact(SIGUSR1, h, SA_SIGINFO, 0);
    sigact(SIGUSR2, h, SA_SIGINFO, 0);
    setmask(SIG_BLOCK, BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGCHLD));
    raise_(SIGUSR2); raise_(SIGUSR1); raise_(SIGUSR1); raise_(SIGCHLD);
    pr("sent\n");
    u64 p = 0; kv("pending", sys(SYS_rt_sigpending, (long)&p, 8, 0, 0)); kv("set", p);
    kv("pending_big", -sys(SYS_rt_sigpending, (long)&p, 9, 0, 0)); nl();
    /* Both are delivered here: USR1 first (lower number), USR2's frame on top of it. */
    setmask(SIG_UNBLOCK, BIT(SIGUSR1) | BIT(SIGUSR2));
    pr("unblocked\n");
    /* SIGCHLD is still pending; ignoring it discards it. */
    sigact(SIGCHLD, (void *)SIG_IGN, 0, 0);
    p = 0; sys(SYS_rt_sigpending, (long)&p, 8, 0, 0); kv("pending_after_ign", p); nl();

    setmask(SIG_SETMASK, BIT(SIGUSR1));
    raise_(SIGUSR1);
    u64 tmp = BIT(SIGHUP);
    kv("sigsuspend", -sys(SYS_rt_sigsuspend, (long)&tmp, 8, 0, 0)); kv("mask", getmask()); nl();
    kv("sigsuspend_size", -sys(SYS_rt_sigsuspend, (long)&tmp, 4, 0, 0)); nl();

    setmask(SIG_SETMASK, BIT(SIGUSR2));
    raise_(SIGUSR2);
    u64 set = BIT(SIGUSR2); siginfo_t info;
    long r = sys(SYS_rt_sigtimedwait, (long)&set, (long)&info, 0, 8);
    kv("sigtimedwait", r); kv("code", (u64)(long)info.si_code); kv("pid_ok", info.si_pid == getpid_()); nl();
    struct { long s, ns; } zero = { 0, 0 }, bad = { 0, 1000000000 };
    kv("again", -sys(SYS_rt_sigtimedwait, (long)&set, 0, (long)&zero, 8));
    kv("inval", -sys(SYS_rt_sigtimedwait, (long)&set, 0, (long)&bad, 8)); nl();
    return 0;
}
"#,
    );
}

/// SA_NODEFER lets a handler be re-entered by its own signal; without it the nested raise
/// waits until the handler returns. SA_RESETHAND runs the handler once, then the default
/// action kills the process.
#[test]
fn nodefer_nesting_and_resethand() {
    freestanding(
        "nodefer",
        r#"
static int depth;
static void h(int sig) {
    int d = depth++;
    pr("enter"); kv("d", d); kv("mask", getmask()); nl();
    if (d == 0 || d == 1) raise_(sig);
    pr("exit"); kv("d", d); nl();
}
static void once(int sig) { pr("once"); kv("sig", sig); kv("mask", getmask()); nl(); }
int cmain(void) {
    sigact(SIGUSR1, h, SA_NODEFER, 0);
    raise_(SIGUSR1);
    pr("--\n");
    depth = 0;
    sigact(SIGUSR1, h, 0, 0);
    raise_(SIGUSR1);
    pr("--\n");
    sigact(SIGUSR2, once, SA_RESETHAND, 0);
    raise_(SIGUSR2);
    struct ksa a = getact(SIGUSR2);
    kv("handler_now", (u64)a.handler); kv("flags", a.flags); nl();
    raise_(SIGUSR2);
    pr("not reached\n");
    return 0;
}
"#,
    );
}

/// Stack overflow by deep recursion, caught on the alternate signal stack; sigaltstack's
/// checks and its reports (SS_DISABLE, SS_ONSTACK, uc_stack).
#[test]
fn sigaltstack_catches_stack_overflow() {
    freestanding(
        "altstack",
        r#"
static char alt[65536] __attribute__((aligned(16)));
static void h(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    char here;
    stack_t cur;
    sys(SYS_sigaltstack, 0, (long)&cur, 0, 0);
    pr("overflow"); kv("sig", sig); kv("code", si->si_code);
    kv("on_alt", (u64)&here > (u64)alt && (u64)&here < (u64)alt + sizeof alt);
    kv("cur_flags", cur.ss_flags); kv("uc_flags", uc->uc_stack.ss_flags);
    kv("uc_sp_ok", uc->uc_stack.ss_sp == alt); kv("uc_size", uc->uc_stack.ss_size);
    stack_t other = { alt, 0, sizeof alt };
    kv("change_on_alt", -sys(SYS_sigaltstack, (long)&other, 0, 0, 0));
    nl();
    exit_group(0);
}
static NOINLINE long rec(long n) {
    volatile char buf[1000];
    buf[0] = (char)n;
    return rec(n + 1) + buf[0];
}
int cmain(void) {
    stack_t q;
    sys(SYS_sigaltstack, 0, (long)&q, 0, 0);
    kv("initial_flags", q.ss_flags); kv("size", q.ss_size); nl();
    stack_t s = { alt, 0, 1000 };
    kv("small", -sys(SYS_sigaltstack, (long)&s, 0, 0, 0));
    s.ss_flags = 4; s.ss_size = sizeof alt;
    kv("badflags", -sys(SYS_sigaltstack, (long)&s, 0, 0, 0));
    s.ss_flags = 0;
    kv("set", sys(SYS_sigaltstack, (long)&s, (long)&q, 0, 0)); kv("old_flags", q.ss_flags); nl();
    sys(SYS_sigaltstack, 0, (long)&q, 0, 0);
    kv("now_flags", q.ss_flags); kv("sp_ok", q.ss_sp == alt); kv("size", q.ss_size); nl();
    sigact(SIGSEGV, h, SA_SIGINFO | SA_ONSTACK, 0);
    return (int)rec(0);
}
"#,
    );
}

/// Without an alternate stack, a SIGSEGV handler cannot get a frame on an overflowed stack:
/// the process dies of SIGSEGV.
#[test]
fn stack_overflow_without_altstack_kills() {
    freestanding(
        "overflow_noalt",
        r#"
static void h(int sig) { pr("handler must not run\n"); }
static NOINLINE long rec(long n) {
    volatile char buf[1000];
    buf[0] = (char)n;
    return rec(n + 1) + buf[0];
}
int cmain(void) {
    sigact(SIGSEGV, h, 0, 0);
    pr("recursing\n");
    return (int)rec(0);
}
"#,
    );
}

/// A fault with no handler kills: exit 139 and the one-line report.
#[test]
fn segv_without_handler_kills() {
    freestanding(
        "segv",
        r#"
int cmain(void) {
    pr("about to fault\n");
    *(volatile long *)0xdead0 = 1;
    pr("not reached\n");
    return 0;
}
"#,
    );
}

/// A blocked or ignored fault still kills (the kernel forces the default action).
#[test]
fn blocked_or_ignored_fault_kills() {
    freestanding(
        "segv_blocked",
        r#"
static void h(int sig) { pr("handler must not run\n"); }
int cmain(void) {
    sigact(SIGSEGV, h, 0, 0);
    setmask(SIG_BLOCK, BIT(SIGSEGV));
    *(volatile long *)0xdead0 = 1;
    return 0;
}
"#,
    );
    freestanding(
        "ill_ignored",
        r#"
int cmain(void) {
    sigact(SIGILL, (void *)SIG_IGN, 0, 0);
    __asm__ volatile("ud2");
    return 0;
}
"#,
    );
}

/// abort()'s protocol by hand: a SIGABRT handler that returns, then SIG_DFL and a second
/// raise kill with SIGABRT (exit 134). Also: default-ignored signals do nothing.
#[test]
fn abort_protocol_kills_with_sigabrt() {
    freestanding(
        "abort_raw",
        r#"
static void h(int sig) { pr("abrt handler\n"); }
int cmain(void) {
    raise_(SIGCHLD); raise_(SIGURG); raise_(SIGWINCH);
    pr("ignored ok\n");
    sigact(SIGABRT, h, 0, 0);
    raise_(SIGABRT);
    sigact(SIGABRT, (void *)SIG_DFL, 0, ~0UL);
    raise_(SIGABRT);
    pr("not reached\n");
    return 0;
}
"#,
    );
}

/// A signal with no SA_RESTORER cannot get an x86-64 frame: Linux forces SIGSEGV.
#[test]
fn handler_without_restorer_gets_sigsegv() {
    freestanding(
        "norestorer",
        r#"
static void h(int sig) { pr("handler must not run\n"); }
int cmain(void) {
    struct ksa a = { (void *)h, 0, 0, 0 };
    sys(SYS_rt_sigaction, SIGUSR1, (long)&a, 0, 8);
    raise_(SIGUSR1);
    pr("not reached\n");
    return 0;
}
"#,
    );
}

/// Forged frames handed to rt_sigreturn: registers come back as written and rflags are
/// sanitised; a bad code segment faults on the way back to user mode (SIGSEGV with the
/// registers restored); reserved MXCSR bits in the fpstate are a bad frame (SIGSEGV,
/// SI_KERNEL, registers restored, rax = 0).
#[test]
fn forged_sigreturn_frames() {
    freestanding(
        "forged",
        r#"
extern char resume[], resume2[], resume3[];
static u64 frame[64] __attribute__((aligned(16)));
static unsigned char fx[512] __attribute__((aligned(64)));
static void segv(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    greg_t *g = uc->uc_mcontext.gregs;
    pr("segv"); kv("code", (u64)(long)si->si_code); kv("addr", (u64)si->si_addr);
    kv("trapno", g[REG_TRAPNO]); kv("err", g[REG_ERR]);
    kv("rip2", g[REG_RIP] == (u64)resume2); kv("rip3", g[REG_RIP] == (u64)resume3);
    kv("rbx", g[REG_RBX]); kv("rax", g[REG_RAX]); kv("csgsfs", g[REG_CSGSFS]); nl();
    g[REG_CSGSFS] = 0x33 | (0x2bUL << 48);
}
/* Save the callee-saved registers and rsp into the forged gregs, then rt_sigreturn. */
#define SIGRETURN_WITH(g, label) \
    __asm__ volatile( \
        "mov %%rbp, 80(%1)\n mov %%r12, 32(%1)\n mov %%r13, 40(%1)\n mov %%r14, 48(%1)\n" \
        "mov %%r15, 56(%1)\n mov %%rsp, 120(%1)\n mov %2, %%rsp\n mov $15, %%eax\n syscall\n" \
        label ": pushfq\n pop %0\n" \
        : "=r"(fl) : "r"(g), "r"(&frame[1]) \
        : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory")
int cmain(void) {
    sigact(SIGSEGV, segv, SA_SIGINFO, 0);
    /* frame[0] = pretcode; ucontext at frame+8: uc_mcontext at +40 (gregs), sigmask at +296. */
    u64 *g = (u64 *)((char *)frame + 8 + 40);
    u64 fl;
    g[REG_RIP] = (u64)resume;
    g[REG_RBX] = 0x5555;
    g[REG_CSGSFS] = 0x33 | (0x2bUL << 48);
    g[REG_EFL] = ~((1UL << 8) | (1UL << 10) | (1UL << 18)); /* all but TF, DF, AC */
    SIGRETURN_WITH(g, "resume");
    kv("flags", fl & 0x40fd5); nl();
    /* A data segment as code segment: the return to user mode faults. */
    g[REG_CSGSFS] = 0x2b | (0x2bUL << 48);
    g[REG_RIP] = (u64)resume2;
    g[REG_RBX] = 0x6666;
    g[REG_RAX] = 55;
    SIGRETURN_WITH(g, "resume2");
    pr("resumed 2\n");
    /* Reserved MXCSR bits in the fpstate: a bad frame. */
    g[REG_CSGSFS] = 0x33 | (0x2bUL << 48);
    *(unsigned *)(fx + 24) = 0x10000;
    g[REG_CSGSFS + 5] = (u64)fx; /* the fpstate pointer */
    g[REG_EFL] = 0x202;
    g[REG_RIP] = (u64)resume3;
    g[REG_RAX] = 77;
    SIGRETURN_WITH(g, "resume3");
    pr("resumed 3\n");
    return 0;
}
"#,
    );
}

/// Integer division by zero caught by a SIGFPE handler that skips the instruction.
#[test]

fn sigfpe_integer_division() {
    freestanding(
        "fpe",
        r#"
extern char f_div[], a_div[];
static void h(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    pr("fpe"); kv("sig", sig); kv("code", si->si_code); kv("addr_ok", si->si_addr == f_div);
    kv("trapno", uc->uc_mcontext.gregs[REG_TRAPNO]); nl();
    uc->uc_mcontext.gregs[REG_RIP] = (u64)a_div;
}
int cmain(void) {
    sigact(SIGFPE, h, SA_SIGINFO, 0);
    u64 q;
    __asm__ volatile("xor %%edx, %%edx\n mov $7, %%eax\n f_div: div %1\n a_div:" : "=a"(q) : "r"(0UL) : "rdx");
    pr("after div\n");
    return 0;
}
"#,
    );
}

/// pause() blocks until a signal arrives from outside, as natively: a SIGTERM sent to deja
/// reaches the guest (which has no handler) and kills it.
#[test]
fn pause_waits_for_a_signal_from_outside() {
    use std::io::Read;
    let src = format!(
        "{}\n{}",
        runtime(),
        r#"
int cmain(void) {
    pr("pausing\n");
    sys(SYS_pause, 0, 0, 0, 0);
    pr("not reached\n");
    return 0;
}
"#
    );
    let Some(exe) = compile("pause", &src, "gcc", FREESTANDING_FLAGS) else { return };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_deja"))
        .arg("run")
        .arg("--")
        .arg(&exe)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 8];
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pausing\n");
    std::thread::sleep(std::time::Duration::from_millis(100));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(err.contains("deja: guest killed by SIGTERM"), "{err}");
}

// ---------------------------------------------------------------------------------------
// libc tier.

const LIBC_FLAGS: &[&str] = &["-static", "-O1", "-fno-tree-vectorize", "-fno-builtin"];

fn with_libcs(name: &str, src: &str) {
    for cc in ["gcc", "musl-gcc"] {
        if let Some(exe) = compile(name, src, cc, LIBC_FLAGS) {
            compare(&exe);
        }
    }
}

/// SIGSEGV recovered with sigsetjmp/siglongjmp, si_addr relative to a known mapping and
/// si_code for both an unmapped and a protected page; SIGFPE from an integer division.
#[test]

fn libc_segv_and_fpe_recovery() {
    with_libcs(
        "libc_segv",
        r#"
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
static sigjmp_buf env;
static volatile char *base;
static void h(int sig, siginfo_t *si, void *uc) {
    printf("sig=%d code=%d off=%ld\n", sig, si->si_code, sig == SIGSEGV ? (long)((char *)si->si_addr - (char *)base) : 0L);
    siglongjmp(env, sig);
}
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGFPE, &sa, 0);
    base = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect((char *)base + 4096, 4096, PROT_NONE);
    munmap((char *)base + 8192, 4096);
    if (sigsetjmp(env, 1) == 0) base[4096 + 24] = 1;
    if (sigsetjmp(env, 1) == 0) printf("%d\n", base[8192 + 5]);
    volatile int z = 0, x = 7;
    if (sigsetjmp(env, 1) == 0) printf("%d\n", x / z);
    sigset_t cur;
    sigprocmask(SIG_BLOCK, 0, &cur);
    printf("segv blocked after longjmp: %d\n", sigismember(&cur, SIGSEGV));
    return 0;
}
"#,
    );
}

/// raise() runs the handler before it returns, with sa_mask applied; SA_RESETHAND;
/// sigprocmask blocking then unblocking; abort() kills with SIGABRT.
#[test]

fn libc_raise_mask_and_abort() {
    with_libcs(
        "libc_raise",
        r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile int ran;
static void h(int sig) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, 0, &cur);
    printf("handler %d usr1=%d usr2=%d\n", sig, sigismember(&cur, SIGUSR1), sigismember(&cur, SIGUSR2));
    ran++;
}
static void abrt(int sig) { printf("abort handler\n"); fflush(stdout); }
static void info(int sig, siginfo_t *si, void *uc) {
    printf("info %d tkill=%d pid=%d uid=%d\n", sig, si->si_code == SI_TKILL, si->si_pid == getpid(), si->si_uid == getuid());
}
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGHUP, &sa, 0);
    raise(SIGHUP);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("after raise ran=%d\n", ran);
    sigset_t b;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    sigprocmask(SIG_BLOCK, &b, 0);
    raise(SIGUSR1);
    printf("blocked ran=%d\n", ran);
    sigprocmask(SIG_UNBLOCK, &b, 0);
    printf("unblocked ran=%d\n", ran);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &sa, 0);
    raise(SIGUSR2);
    struct sigaction old;
    sigaction(SIGUSR2, 0, &old);
    printf("reset to default: %d\n", old.sa_handler == SIG_DFL);
    signal(SIGABRT, abrt);
    fflush(stdout);
    abort();
}
"#,
    );
}

/// A handler edits the interrupted context: REG_RIP to skip a faulting instruction and an
/// xmm register in the fpstate, which the interrupted code sees after sigreturn.
#[test]

fn libc_ucontext_rip_and_xmm() {
    with_libcs(
        "libc_ucontext",
        r#"
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
static void h(int sig, siginfo_t *si, void *p) {
    ucontext_t *uc = p;
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* ud2 */
    uc->uc_mcontext.fpregs->_xmm[0].element[0] = 42;
    uc->uc_mcontext.fpregs->_xmm[0].element[1] = 0;
    printf("handler: sig=%d code=%d\n", sig, si->si_code);
}
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, 0);
    unsigned long out;
    __asm__ volatile("mov $5, %%eax\n movq %%rax, %%xmm0\n ud2\n movq %%xmm0, %0" : "=r"(out) : : "rax", "xmm0");
    printf("xmm0 after return: %lu\n", out);
    return 0;
}
"#,
    );
}

/// Stack overflow caught on a sigaltstack, with printf in the handler.
#[test]

fn libc_sigaltstack_overflow() {
    with_libcs(
        "libc_altstack",
        r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char alt[1 << 16];
static void h(int sig, siginfo_t *si, void *uc) {
    char here;
    stack_t cur;
    sigaltstack(0, &cur);
    printf("caught %d on altstack=%d flags=%d\n", sig, &here > alt && &here < alt + sizeof alt, cur.ss_flags);
    fflush(stdout);
    _exit(0);
}
static long rec(long n) { volatile char buf[1000]; buf[0] = n; return rec(n + 1) + buf[0]; }
int main(void) {
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
    sigaltstack(&ss, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, 0);
    return (int)rec(0);
}
"#,
    );
}

/// A program killed by SIGSEGV with no handler, through libc.
#[test]

fn libc_segv_without_handler() {
    with_libcs(
        "libc_segv_dfl",
        r#"
#include <stdio.h>
int main(void) {
    printf("about to fault\n");
    fflush(stdout);
    *(volatile int *)16 = 1;
    return 0;
}
"#,
    );
}
