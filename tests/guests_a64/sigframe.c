/* The AArch64 signal frame as a handler sees it (arch/arm64/kernel/signal.c), checked
 * against qemu-aarch64: the siginfo and ucontext addresses, the registers and NZCV saved in
 * uc_mcontext, the __reserved records (an fpsimd_context with the interrupted FP/SIMD state,
 * an optional esr_context, the terminator), edits a handler makes to the context taking
 * effect at sigreturn, and the handler's own registers at entry.
 *
 *   sigframe            basic frame, context edits, FP/SIMD state, SIGSEGV with fault_address
 *   sigframe altstack   SA_ONSTACK frames on a sigaltstack, uc_stack
 *   sigframe restorer   raw rt_sigaction with SA_RESTORER: x30 at handler entry is the restorer
 *   sigframe nested     a signal raised inside a handler: frames stack, masks
 *   sigframe badframe   a handler corrupts its fpsimd record: rt_sigreturn raises SIGSEGV
 *
 * Only what Linux and qemu-user agree on is printed (not the esr record, which qemu does
 * not write, nor the return address of handlers without SA_RESTORER, which is each one's
 * own trampoline). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/sigcontext.h>

#define FPSIMD_MAGIC_ 0x46508001

static volatile int hits;

/* The fpsimd_context in uc_mcontext.__reserved, skipping the other records (esr_context;
 * qemu's default cpu also writes SVE, TPIDR2 and ZA records); NULL if the records are
 * malformed. */
static struct fpsimd_context *find_fpsimd(ucontext_t *uc, int *terminated) {
    unsigned char *p = (unsigned char *)uc->uc_mcontext.__reserved;
    unsigned char *end = p + sizeof uc->uc_mcontext.__reserved;
    struct fpsimd_context *fp = NULL;
    *terminated = 0;
    while (p + 8 <= end) {
        struct _aarch64_ctx *h = (struct _aarch64_ctx *)p;
        if (h->magic == 0) {
            *terminated = h->size == 0;
            break;
        }
        if (h->magic == FPSIMD_MAGIC_) fp = (struct fpsimd_context *)p;
        if (h->size < 8 || h->size % 16) return NULL;
        p += h->size;
    }
    return fp;
}

static void show_frame(const char *what, int sig, siginfo_t *si, ucontext_t *uc) {
    int term;
    struct fpsimd_context *fp = find_fpsimd(uc, &term);
    printf("%s: sig %d code %d uc-si %ld uc&15 %ld reserved&15 %ld fpsimd %s size %u terminated %d\n", what, sig,
           si->si_code, (long)((char *)uc - (char *)si), (long)((uintptr_t)uc & 15),
           (long)((uintptr_t)uc->uc_mcontext.__reserved & 15), fp ? "yes" : "no", fp ? fp->head.size : 0, term);
    printf("%s: uc_flags %lu uc_link %p mcontext.sp&15 %ld\n", what, uc->uc_flags, (void *)uc->uc_link,
           (long)(uc->uc_mcontext.sp & 15));
}

/* ---- basic: context edits ---- */

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    int term;
    show_frame("usr1", sig, si, uc);
    /* The interrupted registers (set by the asm below before the svc of kill). */
    printf("usr1: x19 %lx x20 %lx x21 %lx nzcv %lx\n", (unsigned long)uc->uc_mcontext.regs[19],
           (unsigned long)uc->uc_mcontext.regs[20], (unsigned long)uc->uc_mcontext.regs[21],
           (unsigned long)(uc->uc_mcontext.pstate & 0xf0000000));
    struct fpsimd_context *fp = find_fpsimd(uc, &term);
    if (fp) {
        printf("usr1: v8 %016llx%016llx fpcr %x\n", (unsigned long long)(fp->vregs[8] >> 64),
               (unsigned long long)fp->vregs[8], fp->fpcr);
        /* The handler's own v8 is the interrupted one (arm64 does not reset FP state). */
        uint64_t lo;
        __asm__ volatile("fmov %0, d8" : "=r"(lo));
        printf("usr1: handler d8 %016llx\n", (unsigned long long)lo);
        fp->vregs[9] = ((__uint128_t)0x1111222233334444ULL << 64) | 0x5555666677778888ULL;
        fp->fpcr = 0x00c00000; /* round toward zero */
    }
    uc->uc_mcontext.regs[20] = 0xfeedf00d;
    uc->uc_mcontext.pstate = (uc->uc_mcontext.pstate & ~0xf0000000UL) | 0x60000000; /* Z C */
    hits++;
}

static void basic(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    uint64_t x20_after, v9lo, v9hi, fpcr, nzcv;
    long pid = getpid(), tid = gettid();
    register long x0 __asm__("x0") = pid;
    register long x1 __asm__("x1") = tid;
    register long x2 __asm__("x2") = SIGUSR1;
    register long x8 __asm__("x8") = SYS_tgkill;
    __asm__ volatile(
        "mov x19, #0x1234\n"
        "movk x19, #0xabcd, lsl #16\n"
        "mov x20, #0x20\n"
        "mov x21, #-1\n"
        "fmov d8, x19\n"
        "mov v8.d[1], x21\n"
        "cmp x20, #0x30\n" /* N set, C clear */
        "svc #0\n"
        "mov %[x20], x20\n"
        "mrs %[nzcv], nzcv\n"
        "mov %[v9lo], v9.d[0]\n"
        "mov %[v9hi], v9.d[1]\n"
        "mrs %[fpcr], fpcr\n"
        : [x20] "=r"(x20_after), [nzcv] "=r"(nzcv), [v9lo] "=r"(v9lo), [v9hi] "=r"(v9hi), [fpcr] "=r"(fpcr),
          "+r"(x0)
        : "r"(x1), "r"(x2), "r"(x8)
        : "x19", "x20", "x21", "v8", "v9", "memory", "cc");
    printf("after: hits %d kill returned %ld x20 %lx nzcv %lx v9 %016lx%016lx fpcr %lx\n", hits, x0,
           (unsigned long)x20_after, (unsigned long)nzcv, (unsigned long)v9hi, (unsigned long)v9lo,
           (unsigned long)fpcr);
    /* Back to the default rounding mode. */
    __asm__ volatile("msr fpcr, xzr");
}

/* ---- SIGSEGV: fault_address, resuming after the faulting instruction ---- */

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    show_frame("segv", sig, si, uc);
    printf("segv: si_addr %p fault_address %llx pc-insn %s\n", si->si_addr,
           (unsigned long long)uc->uc_mcontext.fault_address,
           *(uint32_t *)uc->uc_mcontext.pc == 0xf9400020 ? "ldr x0, [x1]" : "other");
    uc->uc_mcontext.pc += 4;
    uc->uc_mcontext.regs[0] = 42;
}

static void segv(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    for (uintptr_t addr = 0; addr <= 0x40; addr += 0x20) {
        register uintptr_t x1 __asm__("x1") = addr;
        register long x0 __asm__("x0") = 0;
        __asm__ volatile(".inst 0xf9400020" /* ldr x0, [x1] */ : "+r"(x0) : "r"(x1) : "memory");
        printf("segv: load from %#lx resumed with x0 = %ld\n", (unsigned long)addr, x0);
    }
}

/* ---- altstack ---- */

static char altstack[64 * 1024] __attribute__((aligned(16)));

static void on_alt(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    char here;
    int on = &here >= altstack && &here < altstack + sizeof altstack;
    int frame_on = (char *)uc >= altstack && (char *)uc < altstack + sizeof altstack;
    stack_t cur;
    sigaltstack(NULL, &cur);
    show_frame("alt", sig, si, uc);
    printf("alt: handler on altstack %d frame on altstack %d uc_stack sp-off %ld size %zu flags %#x now %#x\n", on,
           frame_on, (long)((char *)uc->uc_stack.ss_sp - altstack), uc->uc_stack.ss_size,
           (unsigned)uc->uc_stack.ss_flags, (unsigned)cur.ss_flags);
    printf("alt: distance from the top %ld\n", (long)(altstack + sizeof altstack - (char *)uc));
}

static void alt(void) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    /* Below every MINSIGSTKSZ (Linux arm64: 5120, qemu: 2048). */
    stack_t small = {.ss_sp = altstack, .ss_size = 1024, .ss_flags = 0};
    int r = sigaltstack(&small, NULL);
    printf("sigaltstack 1024 bytes: %d\n", r);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alt;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    /* (SS_AUTODISARM is left out: qemu-user refuses it with EINVAL, unlike Linux.) */
    raise(SIGUSR2);
    stack_t after;
    sigaltstack(NULL, &after);
    printf("after: flags %#x size %zu\n", (unsigned)after.ss_flags, after.ss_size);
}

/* ---- SA_RESTORER ---- */

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

extern void my_restorer(void);
__asm__(".text\n.globl my_restorer\nmy_restorer:\n mov x8, #139\n svc #0\n");

static volatile void *seen_lr;

static void on_restorer(int sig) {
    (void)sig;
    seen_lr = __builtin_return_address(0);
    hits++;
}

static void restorer(void) {
    struct ksigaction k = {.handler = (void *)on_restorer, .flags = 0x04000000 /* SA_RESTORER */,
                           .restorer = (void *)my_restorer, .mask = 0};
    long r = syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8);
    struct ksigaction old;
    syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8);
    printf("rt_sigaction %ld flags %#lx restorer is mine %d\n", r, old.flags, old.restorer == (void *)my_restorer);
    raise(SIGUSR1);
    printf("handler ran %d lr is the restorer %d\n", hits, seen_lr == (void *)my_restorer);
}

/* ---- nested ---- */

static void on_inner(int sig, siginfo_t *si, void *ctx) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("inner: sig %d blocked usr1 %d usr2 %d term %d\n", sig, sigismember(&cur, SIGUSR1),
           sigismember(&cur, SIGUSR2), sigismember(&cur, SIGTERM));
    show_frame("inner", sig, si, ctx);
}

static void on_outer(int sig, siginfo_t *si, void *ctx) {
    char here;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("outer: sig %d blocked usr1 %d usr2 %d term %d\n", sig, sigismember(&cur, SIGUSR1),
           sigismember(&cur, SIGUSR2), sigismember(&cur, SIGTERM));
    if (hits++) return;
    raise(SIGUSR2);
    /* SIGUSR1 is blocked here: pending until the outer handler returns. */
    raise(SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    printf("outer: pending usr1 %d, frame above the handler's locals %d\n", sigismember(&pend, SIGUSR1),
           (char *)ctx > &here);
}

static void nested(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_outer;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_sigaction = on_inner;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    hits = 0;
    raise(SIGUSR1);
    printf("nested: outer ran %d times\n", hits);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("SA_RESETHAND: usr2 handler is SIG_DFL %d\n", now.sa_handler == SIG_DFL);
}

/* ---- bad frame ---- */

static void on_bad(int sig, siginfo_t *si, void *ctx) {
    int term;
    struct fpsimd_context *fp = find_fpsimd(ctx, &term);
    (void)sig;
    (void)si;
    printf("bad: corrupting the fpsimd record\n");
    fflush(stdout);
    if (fp) fp->head.size = 512;
}

static void badframe(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bad;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("survived a bad frame?\n");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "basic";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "basic")) {
        basic();
        segv();
    } else if (!strcmp(mode, "altstack")) {
        alt();
    } else if (!strcmp(mode, "restorer")) {
        restorer();
    } else if (!strcmp(mode, "nested")) {
        nested();
    } else if (!strcmp(mode, "badframe")) {
        badframe();
    } else {
        printf("unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
