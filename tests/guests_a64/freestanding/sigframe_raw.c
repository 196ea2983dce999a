/* The AArch64 signal frame without libc: raw syscalls and integer code only (built with
 * -nostdlib -ffreestanding -mgeneral-regs-only), so it needs only the integer, branch,
 * load/store and system instruction classes. Checked against qemu-aarch64: the siginfo and
 * ucontext layout, the saved registers and NZCV, the __reserved records (fpsimd_context with
 * the interrupted FP/SIMD registers, terminator), context edits taking effect at sigreturn,
 * handlers returning through the kernel's trampoline (no SA_RESTORER) or their own restorer,
 * SIGSEGV with fault_address, an alternate stack, nested signals and masks, and a corrupted
 * frame making rt_sigreturn raise SIGSEGV.
 *
 *   sigframe_raw [basic|segv|restorer|altstack|nested|badframe] */
typedef unsigned long u64;
typedef unsigned int u32;

#define SYS_write 64
#define SYS_exit_group 94
#define SYS_sigaltstack 132
#define SYS_rt_sigaction 134
#define SYS_rt_sigprocmask 135
#define SYS_getpid 172
#define SYS_gettid 178
#define SYS_tgkill 131
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SA_SIGINFO 4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define SA_NODEFER 0x40000000

static long sys6(long n, long a, long b, long c, long d) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory", "cc");
    return x0;
}

static void out(const char *s) {
    long n = 0;
    while (s[n]) n++;
    sys6(SYS_write, 1, (long)s, n, 0);
}

static void hex(u64 v) {
    char b[19];
    b[0] = '0';
    b[1] = 'x';
    int i = 0;
    char t[16];
    do {
        t[i++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    int k = 2;
    while (i) b[k++] = t[--i];
    b[k] = 0;
    out(b);
}

static void kv(const char *k, u64 v) {
    out(k);
    out(" ");
    hex(v);
    out("\n");
}

static int streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

struct ksigaction {
    void *handler;
    u64 flags;
    void *restorer;
    u64 mask;
};

/* Offsets in the frame (the kernel's struct rt_sigframe). */
#define UC_OFF 128
#define MC_OFF (UC_OFF + 176)
#define REGS(uc) ((u64 *)((char *)(uc) + 176 + 8))
#define SP(uc) (*(u64 *)((char *)(uc) + 176 + 256))
#define PC(uc) (*(u64 *)((char *)(uc) + 176 + 264))
#define PSTATE(uc) (*(u64 *)((char *)(uc) + 176 + 272))
#define FAULT(uc) (*(u64 *)((char *)(uc) + 176))
#define RESERVED(uc) ((unsigned char *)(uc) + 176 + 288)

static void sigaction_raw(int sig, void *h, u64 flags, void *restorer, u64 mask) {
    struct ksigaction k = {h, flags, restorer, mask};
    long r = sys6(SYS_rt_sigaction, sig, (long)&k, 0, 8);
    if (r) kv("rt_sigaction failed", -r);
}

static void tkill_self(int sig) {
    sys6(SYS_tgkill, sys6(SYS_getpid, 0, 0, 0, 0), sys6(SYS_gettid, 0, 0, 0, 0), sig, 0);
}

/* Walk __reserved: print the fpsimd record's size and v8, skip other records. */
static u32 *fpsimd_of(void *uc) {
    unsigned char *p = RESERVED(uc), *end = p + 4096;
    u32 *fp = 0;
    while (p + 8 <= end) {
        u32 magic = ((u32 *)p)[0], size = ((u32 *)p)[1];
        if (!magic) break;
        if (magic == 0x46508001) fp = (u32 *)p;
        if (size < 8 || size & 15) return 0;
        p += size;
    }
    return fp;
}

static volatile int hits;

static void show(const char *what, int sig, void *si, void *uc) {
    out(what);
    out(":\n");
    kv("  sig", sig);
    kv("  si_signo", *(int *)si);
    kv("  si_code", (u32) * ((int *)si + 2));
    kv("  uc - si", (u64)((char *)uc - (char *)si));
    kv("  uc & 15", (u64)uc & 15);
    kv("  uc_flags", *(u64 *)uc);
    kv("  uc_link", *(u64 *)((char *)uc + 8));
    kv("  saved sp & 15", SP(uc) & 15);
    u32 *fp = fpsimd_of(uc);
    kv("  fpsimd record size", fp ? fp[1] : 0);
}

static void on_usr1(int sig, void *si, void *uc) {
    show("usr1", sig, si, uc);
    u64 *r = REGS(uc);
    kv("  x19", r[19]);
    kv("  x20", r[20]);
    kv("  nzcv", PSTATE(uc) & 0xf0000000);
    u32 *fp = fpsimd_of(uc);
    if (fp) {
        u64 *v8 = (u64 *)((char *)fp + 16 + 8 * 16);
        kv("  v8.lo", v8[0]);
        kv("  v8.hi", v8[1]);
        u64 *v9 = v8 + 2;
        v9[0] = 0x5555666677778888UL;
        v9[1] = 0x1111222233334444UL;
    }
    r[20] = 0xfeedf00d;
    PSTATE(uc) = (PSTATE(uc) & ~0xf0000000UL) | 0x60000000;
    hits++;
}

static void basic(void) {
    sigaction_raw(SIGUSR1, (void *)on_usr1, SA_SIGINFO, 0, 0);
    u64 pid = sys6(SYS_getpid, 0, 0, 0, 0), tid = sys6(SYS_gettid, 0, 0, 0, 0);
    u64 x20, nzcv, v9lo, v9hi;
    register long x0 __asm__("x0") = pid;
    register long x1 __asm__("x1") = tid;
    register long x2 __asm__("x2") = SIGUSR1;
    register long x8 __asm__("x8") = SYS_tgkill;
    __asm__ volatile(
        "mov x19, #0x1234\n"
        "movk x19, #0xabcd, lsl #16\n"
        "mov x20, #0x20\n"
        ".inst 0x9e670268\n" /* fmov d8, x19 (zeroes bits 127:64) */
        "cmp x20, #0x30\n"
        "svc #0\n"
        "mov %[x20], x20\n"
        "mrs %[nzcv], nzcv\n"
        ".inst 0x9e660120\n" /* fmov x0, d9 */
        "mov %[lo], x0\n"
        ".inst 0x9eae0120\n" /* fmov x0, v9.d[1] */
        "mov %[hi], x0\n"
        : [x20] "=&r"(x20), [nzcv] "=&r"(nzcv), [lo] "=&r"(v9lo), [hi] "=&r"(v9hi), "+r"(x0)
        : "r"(x1), "r"(x2), "r"(x8)
        : "x19", "x20", "v8", "v9", "memory", "cc");
    kv("after: hits", hits);
    kv("after: x20", x20);
    kv("after: nzcv", nzcv);
    kv("after: v9.lo", v9lo);
    kv("after: v9.hi", v9hi);
}

static void on_segv(int sig, void *si, void *uc) {
    show("segv", sig, si, uc);
    kv("  si_addr", *(u64 *)((char *)si + 16));
    kv("  fault_address", FAULT(uc));
    kv("  insn", *(u32 *)PC(uc));
    PC(uc) += 4;
    REGS(uc)[0] = 42;
}

static void segv(void) {
    sigaction_raw(SIGSEGV, (void *)on_segv, SA_SIGINFO, 0, 0);
    for (u64 a = 0x10; a <= 0x30; a += 0x20) {
        register u64 x1 __asm__("x1") = a;
        register u64 x0 __asm__("x0") = 0;
        __asm__ volatile(".inst 0xf9400020" : "+r"(x0) : "r"(x1) : "memory"); /* ldr x0, [x1] */
        kv("resumed with x0", x0);
    }
}

extern void my_restorer(void);
__asm__(".text\n.globl my_restorer\nmy_restorer:\n mov x8, #139\n svc #0\n");
static volatile u64 seen_lr;

static void on_restorer(int sig) {
    u64 lr;
    __asm__ volatile("mov %0, x30" : "=r"(lr));
    (void)sig;
    seen_lr = lr;
    hits++;
}

static void restorer(void) {
    /* Read x30 first thing: compiled -O1 the handler keeps it in x30. */
    sigaction_raw(SIGUSR1, (void *)on_restorer, SA_RESTORER, (void *)my_restorer, 0);
    struct ksigaction old;
    sys6(SYS_rt_sigaction, SIGUSR1, 0, (long)&old, 8);
    kv("flags", old.flags);
    kv("restorer is mine", old.restorer == (void *)my_restorer);
    tkill_self(SIGUSR1);
    kv("hits", hits);
    kv("lr is the restorer", seen_lr == (u64)my_restorer);
}

static unsigned char altstack[32768] __attribute__((aligned(16)));

static void on_alt(int sig, void *si, void *uc) {
    show("alt", sig, si, uc);
    kv("  top - uc", (u64)(altstack + sizeof altstack - (unsigned char *)uc));
    kv("  uc_stack.ss_sp is the altstack", *(u64 *)((char *)uc + 16) == (u64)altstack);
    kv("  uc_stack.ss_flags", *(u32 *)((char *)uc + 24));
    kv("  uc_stack.ss_size", *(u64 *)((char *)uc + 32));
    u64 cur[3];
    sys6(SYS_sigaltstack, 0, (long)cur, 0, 0);
    kv("  sigaltstack flags now", (u32)cur[1]);
}

static void altstack_test(void) {
    u64 ss[3] = {(u64)altstack, 0, sizeof altstack};
    kv("sigaltstack", sys6(SYS_sigaltstack, (long)ss, 0, 0, 0));
    u64 small[3] = {(u64)altstack, 0, 1024};
    kv("sigaltstack 1024 bytes (-ENOMEM)", -sys6(SYS_sigaltstack, (long)small, 0, 0, 0));
    sigaction_raw(SIGUSR2, (void *)on_alt, SA_SIGINFO | SA_ONSTACK, 0, 0);
    tkill_self(SIGUSR2);
}

static void on_inner(int sig, void *si, void *uc) {
    u64 mask;
    sys6(SYS_rt_sigprocmask, 0, 0, (long)&mask, 8);
    kv("inner: mask", mask);
    show("inner", sig, si, uc);
}

static void on_outer(int sig, void *si, void *uc) {
    u64 mask;
    sys6(SYS_rt_sigprocmask, 0, 0, (long)&mask, 8);
    kv("outer: sig", sig);
    kv("outer: mask", mask);
    if (hits++) return;
    tkill_self(SIGUSR2);
    tkill_self(SIGUSR1); /* blocked: delivered after this handler returns */
    (void)si;
    (void)uc;
}

static void nested(void) {
    sigaction_raw(SIGUSR1, (void *)on_outer, SA_SIGINFO, 0, 1UL << (15 - 1) /* SIGTERM */);
    sigaction_raw(SIGUSR2, (void *)on_inner, SA_SIGINFO | SA_NODEFER, 0, 0);
    tkill_self(SIGUSR1);
    kv("outer ran", hits);
    u64 mask;
    sys6(SYS_rt_sigprocmask, 0, 0, (long)&mask, 8);
    kv("mask after", mask);
}

static void on_bad(int sig, void *si, void *uc) {
    u32 *fp = fpsimd_of(uc);
    (void)sig;
    (void)si;
    out("corrupting the fpsimd record\n");
    if (fp) fp[1] = 512;
}

static void badframe(void) {
    sigaction_raw(SIGUSR1, (void *)on_bad, SA_SIGINFO, 0, 0);
    tkill_self(SIGUSR1);
    out("survived a bad frame?\n");
}

void cmain(long argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (streq(mode, "basic")) basic();
    else if (streq(mode, "segv")) segv();
    else if (streq(mode, "restorer")) restorer();
    else if (streq(mode, "altstack")) altstack_test();
    else if (streq(mode, "nested")) nested();
    else if (streq(mode, "badframe")) badframe();
    else out("unknown mode\n");
    sys6(SYS_exit_group, 0, 0, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n ldr x0, [sp]\n add x1, sp, #8\n bl cmain\n");
