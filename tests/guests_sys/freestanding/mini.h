/* A tiny freestanding runtime for syscall tests: no libc, only instructions the base
 * interpreter implements (no SSE, no string instructions, no mul/div/shift by design:
 * numbers are printed by repeated subtraction). Build with:
 *   gcc -static -nostdlib -ffreestanding -fno-builtin -O1 -fno-tree-vectorize
 *       -fno-tree-loop-distribute-patterns -mgeneral-regs-only -fno-stack-protector
 *       -fcf-protection=none -no-pie
 */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define S0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define S1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define S4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define S5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define S6(n, a, b, c, d, e, f) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* x86-64 syscall numbers */
enum {
    NR_read = 0, NR_write = 1, NR_open = 2, NR_close = 3, NR_stat = 4, NR_fstat = 5, NR_lstat = 6,
    NR_poll = 7, NR_lseek = 8, NR_ioctl = 16, NR_pread64 = 17, NR_pwrite64 = 18, NR_readv = 19,
    NR_writev = 20, NR_access = 21, NR_pipe = 22, NR_select = 23, NR_sched_yield = 24, NR_dup = 32,
    NR_dup2 = 33, NR_nanosleep = 35, NR_getpid = 39, NR_sendfile = 40, NR_exit = 60, NR_uname = 63,
    NR_fcntl = 72, NR_flock = 73, NR_fsync = 74, NR_fdatasync = 75, NR_truncate = 76,
    NR_ftruncate = 77, NR_getdents = 78, NR_getcwd = 79, NR_chdir = 80, NR_fchdir = 81,
    NR_rename = 82, NR_mkdir = 83, NR_rmdir = 84, NR_creat = 85, NR_link = 86, NR_unlink = 87,
    NR_symlink = 88, NR_readlink = 89, NR_chmod = 90, NR_fchmod = 91, NR_umask = 95,
    NR_gettimeofday = 96, NR_getrlimit = 97, NR_getrusage = 98, NR_sysinfo = 99, NR_times = 100,
    NR_getuid = 102, NR_getgid = 104, NR_geteuid = 107, NR_getegid = 108, NR_getppid = 110,
    NR_getpgrp = 111, NR_getgroups = 115, NR_getresuid = 118, NR_getresgid = 120, NR_getpgid = 121,
    NR_getsid = 124, NR_statfs = 137, NR_fstatfs = 138, NR_getpriority = 140,
    NR_sched_get_priority_max = 146, NR_sched_get_priority_min = 147, NR_personality = 135, NR_prctl = 157,
    NR_gettid = 186, NR_time = 201, NR_futex = 202, NR_sched_setaffinity = 203,
    NR_sched_getaffinity = 204, NR_getdents64 = 217, NR_fadvise64 = 221, NR_clock_gettime = 228,
    NR_clock_getres = 229, NR_clock_nanosleep = 230, NR_exit_group = 231, NR_openat = 257,
    NR_mkdirat = 258, NR_newfstatat = 262, NR_unlinkat = 263, NR_renameat = 264, NR_linkat = 265,
    NR_symlinkat = 266, NR_readlinkat = 267, NR_fchmodat = 268, NR_faccessat = 269,
    NR_pselect6 = 270, NR_ppoll = 271, NR_set_robust_list = 273, NR_get_robust_list = 274,
    NR_utimensat = 280, NR_fallocate = 285, NR_dup3 = 292, NR_pipe2 = 293, NR_preadv = 295,
    NR_pwritev = 296, NR_prlimit64 = 302, NR_getcpu = 309, NR_renameat2 = 316, NR_getrandom = 318,
    NR_membarrier = 324, NR_copy_file_range = 326, NR_statx = 332, NR_close_range = 436,
    NR_faccessat2 = 439,
};

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_EMPTY_PATH 0x1000

struct kstat {
    u64 dev, ino, nlink;
    u32 mode, uid, gid, pad0;
    u64 rdev;
    i64 size, blksize, blocks;
    u64 atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
    i64 unused[3];
};
struct kiovec {
    void *base;
    u64 len;
};
struct kts {
    i64 sec, nsec;
};

/* Truth values computed with branches: gcc turns `x >= 0` and single-bit tests into shifts,
 * which the base interpreter need not implement. */
static __attribute__((noinline)) long ge0(long x) {
    if (x >= 0) {
        __asm__ volatile("");
        return 1;
    }
    return 0;
}
static __attribute__((noinline)) long nz(long x) {
    if (x != 0) {
        __asm__ volatile("");
        return 1;
    }
    return 0;
}

/* 1 << n without a shift instruction */
static __attribute__((noinline)) u64 bit(int n) {
    u64 v = 1;
    while (n-- > 0) {
        __asm__ volatile("");
        v += v;
    }
    return v;
}

static void *mset(void *d, int c, u64 n) {
    volatile u8 *p = d;
    for (u64 i = 0; i < n; i++) p[i] = (u8)c;
    return d;
}
static u64 slen(const char *s) {
    u64 n = 0;
    while (s[n]) n++;
    return n;
}
static int scmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (u8)*a - (u8)*b;
}
static int mcmp(const void *a, const void *b, u64 n) {
    const u8 *x = a, *y = b;
    for (u64 i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
static void scpy(char *d, const char *s) {
    while ((*d++ = *s++)) {
    }
}

static void out(const char *s) { S3(NR_write, 1, s, slen(s)); }
static void outn(long v) {
    static const long pw[] = {1000000000000000000L, 100000000000000000L, 10000000000000000L,
                              1000000000000000L, 100000000000000L, 10000000000000L, 1000000000000L,
                              100000000000L, 10000000000L, 1000000000L, 100000000L, 10000000L,
                              1000000L, 100000L, 10000L, 1000L, 100L, 10L, 1L};
    char b[24];
    int n = 0, started = 0;
    unsigned long u;
    if (v < 0) {
        b[n++] = '-';
        u = 0UL - (unsigned long)v;
    } else {
        u = (unsigned long)v;
    }
    for (int i = 0; i < 19; i++) {
        char d = '0';
        while (u >= (unsigned long)pw[i]) {
            u -= (unsigned long)pw[i];
            d++;
        }
        if (d != '0' || started || i == 18) {
            b[n++] = d;
            started = 1;
        }
    }
    S3(NR_write, 1, b, n);
}
/* "label=value\n" */
static void kv(const char *k, long v) {
    out(k);
    out("=");
    outn(v);
    out("\n");
}
static void ks(const char *k, const char *v) {
    out(k);
    out("=");
    out(v);
    out("\n");
}

int main(int argc, char **argv);

__attribute__((used)) static void start_c(long *sp) {
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    S1(NR_exit_group, main(argc, argv));
}
__asm__(".globl _start\n_start:\n xor %ebp,%ebp\n mov %rsp,%rdi\n and $-16,%rsp\n call start_c\n hlt\n");
