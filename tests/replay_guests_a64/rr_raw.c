/* rr_inputs without libc (raw syscalls, integer code only; built -nostdlib
 * -mgeneral-regs-only): clocks, the virtual counter (mrs cntvct_el0), getrandom, AT_RANDOM
 * (found in the auxiliary vector), a checksum of stdin, and (mode `alarm`) where a SIGALRM
 * from setitimer interrupted a busy loop.
 *
 *   rr_raw [none|alarm] */
typedef unsigned long u64;

#define SYS_read 63
#define SYS_write 64
#define SYS_exit_group 94
#define SYS_setitimer 103
#define SYS_clock_gettime 113
#define SYS_rt_sigaction 134
#define SYS_gettimeofday 169
#define SYS_getrandom 278

static long sys(long n, long a, long b, long c, long d) {
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
    sys(SYS_write, 1, (long)s, n, 0);
}

static void hex(u64 v) {
    char t[17];
    for (int i = 15; i >= 0; i--, v >>= 4) t[i] = "0123456789abcdef"[v & 15];
    t[16] = 0;
    out(t);
}

static void kv(const char *k, u64 v) {
    out(k);
    out(" ");
    hex(v);
    out("\n");
}

static volatile u64 counter, caught_at;
static volatile int caught;

static void on_alarm(int s) {
    (void)s;
    caught_at = counter;
    caught++;
}

void cmain(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    while (*envp) envp++;
    u64 *auxv = (u64 *)(envp + 1);
    const unsigned char *at_random = 0;
    for (; auxv[0]; auxv += 2)
        if (auxv[0] == 25) at_random = (const unsigned char *)auxv[1];
    const char *mode = argc > 1 ? argv[1] : "none";

    long ts[2];
    sys(SYS_clock_gettime, 0, (long)ts, 0, 0);
    kv("realtime:", ts[0] * 1000000000UL + ts[1]);
    sys(SYS_clock_gettime, 1, (long)ts, 0, 0);
    kv("monotonic:", ts[0] * 1000000000UL + ts[1]);
    long tv[2];
    sys(SYS_gettimeofday, (long)tv, 0, 0, 0);
    kv("gettimeofday:", tv[0] * 1000000UL + tv[1]);
    u64 c;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(c));
    kv("cntvct:", c);
    u64 rnd[2];
    kv("getrandom returned", sys(SYS_getrandom, (long)rnd, 16, 0, 0));
    kv("getrandom:", rnd[0] ^ rnd[1]);
    kv("at_random:", at_random ? ((const u64 *)at_random)[0] : 0);
    unsigned char buf[4096];
    u64 h = 0xcbf29ce484222325UL, len = 0;
    long n;
    while ((n = sys(SYS_read, 0, (long)buf, sizeof buf, 0)) > 0) {
        for (long i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3UL;
        len += n;
    }
    kv("stdin bytes", len);
    kv("stdin fnv", h);

    if (mode[0] == 'a') {
        /* sigaction with SA_RESTORER unset: returns through the vDSO trampoline. */
        u64 act[4] = {(u64)on_alarm, 0, 0, 0};
        sys(SYS_rt_sigaction, 14, (long)act, 0, 8);
        long it[4] = {0, 0, 0, 2000};
        if (sys(SYS_setitimer, 0, (long)it, 0, 0)) {
            out("setitimer failed\n");
            sys(SYS_exit_group, 1, 0, 0, 0);
        }
        while (!caught && counter < (1UL << 40)) counter++;
        kv("SIGALRM caught", caught);
        kv("at counter", caught_at);
    }
    sys(SYS_exit_group, 0, 0, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n mov x0, sp\n bl cmain\n");
