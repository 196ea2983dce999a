/* The seed guest of the log fuzz targets (fuzz/gen-corpus.sh records it): a tiny program
 * without libc, for x86-64 and AArch64, that observes one of each kind of outside input, so
 * its recording holds one of each kind of event: syscall results with output bytes (read,
 * clock_gettime, gettimeofday, getrandom), the time stamp counter (rdtsc / cntvct_el0),
 * checkpoints, and, by mode,
 *   guest alarm   an asynchronous SIGALRM (setitimer) caught by a handler in a busy loop;
 *   guest segv    a synchronous SIGSEGV that kills it (an exception event, end "killed");
 *   guest wait    rt_sigsuspend until that SIGALRM arrives (a host call the replay answers).
 * Built -static -nostdlib -O1 (see gen-corpus.sh); a few KB. */
typedef unsigned long u64;

#if defined(__x86_64__)
#define SYS_read 0
#define SYS_write 1
#define SYS_rt_sigaction 13
#define SYS_rt_sigsuspend 130
#define SYS_setitimer 38
#define SYS_exit_group 231
#define SYS_clock_gettime 228
#define SYS_gettimeofday 96
#define SYS_getrandom 318
static long sys(long n, long a, long b, long c, long d) {
    register long r10 __asm__("r10") = d;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
static u64 counter_now(void) {
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}
void restore_rt(void);
__asm__(".text\n.globl restore_rt\nrestore_rt:\n mov $15, %eax\n syscall\n"
        ".globl _start\n_start:\n xor %ebp, %ebp\n mov %rsp, %rdi\n and $-16, %rsp\n call cmain\n hlt\n");
#define SA_FLAGS 0x04000000UL /* SA_RESTORER */
#define RESTORER ((u64)restore_rt)
#elif defined(__aarch64__)
#define SYS_read 63
#define SYS_write 64
#define SYS_exit_group 94
#define SYS_setitimer 103
#define SYS_clock_gettime 113
#define SYS_rt_sigaction 134
#define SYS_rt_sigsuspend 133
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
static u64 counter_now(void) {
    u64 c;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(c));
    return c;
}
__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n mov x0, sp\n bl cmain\n brk #0\n");
#define SA_FLAGS 0UL /* returns through the vDSO trampoline */
#define RESTORER 0UL
#else
#error "x86-64 or AArch64 only"
#endif

static void out(const char *s, long n) { sys(SYS_write, 1, (long)s, n, 0); }

static void kv(char k, u64 v) {
    char t[20];
    t[0] = k;
    t[1] = ' ';
    for (int i = 17; i >= 2; i--, v >>= 4) t[i] = "0123456789abcdef"[v & 15];
    t[18] = '\n';
    out(t, 19);
}

static volatile u64 counter;
static volatile int caught;

static void on_alarm(int s) {
    (void)s;
    caught++;
}

void cmain(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    const char *mode = argc > 1 ? argv[1] : "";
    long ts[2], tv[2];
    sys(SYS_clock_gettime, 1, (long)ts, 0, 0);
    kv('m', ts[0] * 1000000000UL + ts[1]);
    sys(SYS_gettimeofday, (long)tv, 0, 0, 0);
    kv('g', tv[0] * 1000000UL + tv[1]);
    kv('c', counter_now());
    u64 rnd[2];
    sys(SYS_getrandom, (long)rnd, 16, 0, 0);
    kv('r', rnd[0] ^ rnd[1]);
    unsigned char buf[64];
    u64 h = 0xcbf29ce484222325UL;
    long n;
    while ((n = sys(SYS_read, 0, (long)buf, sizeof buf, 0)) > 0)
        for (long i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3UL;
    kv('i', h);
    if (mode[0] == 'a' || mode[0] == 'w') {
        u64 act[4] = {(u64)on_alarm, SA_FLAGS, RESTORER, 0};
        sys(SYS_rt_sigaction, 14, (long)act, 0, 8);
        long it[4] = {0, 0, 0, 1000};
        sys(SYS_setitimer, 0, (long)it, 0, 0);
        if (mode[0] == 'w') {
            u64 none = 0;
            while (!caught) sys(SYS_rt_sigsuspend, (long)&none, 8, 0, 0);
        }
        while (!caught && counter < (1UL << 32)) counter++;
        kv('a', caught);
    } else if (mode[0] == 's') {
        *(volatile long *)16 = 1;
    }
    sys(SYS_exit_group, 3, 0, 0, 0);
}
