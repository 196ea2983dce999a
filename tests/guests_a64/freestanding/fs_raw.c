/* File-system syscalls whose arm64 ABI differs from x86-64, without libc (raw syscalls,
 * integer code only): struct stat from fstat/newfstatat (asm-generic layout, 128 bytes),
 * openat with arm64's O_DIRECTORY/O_NOFOLLOW values, fcntl F_GETFL/F_SETFL, pipe2(O_DIRECT),
 * getdents64, uname. Checked against qemu-aarch64; only run-independent values are printed.
 *
 *   fs_raw DIR          (DIR: an empty scratch directory) */
typedef unsigned long u64;
typedef unsigned int u32;

#define AT_FDCWD -100
#define SYS_getdents64 61
#define SYS_openat 56
#define SYS_close 57
#define SYS_pipe2 59
#define SYS_read 63
#define SYS_write 64
#define SYS_fcntl 25
#define SYS_mkdirat 34
#define SYS_symlinkat 36
#define SYS_linkat 37
#define SYS_chdir 49
#define SYS_newfstatat 79
#define SYS_fstat 80
#define SYS_utimensat 88
#define SYS_exit_group 94
#define SYS_uname 160
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DIRECTORY 040000
#define O_NOFOLLOW 0100000
#define O_DIRECT 0200000
#define O_CLOEXEC 02000000

static long sys(long n, long a, long b, long c, long d, long e) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory", "cc");
    return x0;
}

static void out(const char *s) {
    long n = 0;
    while (s[n]) n++;
    sys(SYS_write, 1, (long)s, n, 0, 0);
}

static void num(long v) {
    char b[24], t[24];
    int i = 0, k = 0;
    u64 u = v < 0 ? -(u64)v : (u64)v;
    do {
        t[i++] = '0' + u % 10;
        u /= 10;
    } while (u);
    if (v < 0) b[k++] = '-';
    while (i) b[k++] = t[--i];
    b[k] = 0;
    out(b);
}

static void kv(const char *k, long v) {
    out(k);
    out(" ");
    num(v);
    out("\n");
}

/* asm-generic struct stat (arm64). */
struct kstat {
    u64 dev, ino;
    u32 mode, nlink, uid, gid;
    u64 rdev, pad1;
    long size;
    int blksize, pad2;
    long blocks;
    long atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec;
    u32 unused4, unused5;
};

static void show(const char *what, struct kstat *st, int dir) {
    out(what);
    out(":\n");
    kv("  mode", st->mode);
    kv("  nlink", st->nlink);
    kv("  blksize>0", st->blksize > 0);
    kv("  pads", st->pad1 | st->pad2 | st->unused4 | st->unused5);
    if (!dir) {
        kv("  size", st->size);
        kv("  atime", st->atime);
        kv("  atime_nsec", st->atime_nsec);
        kv("  mtime", st->mtime);
        kv("  mtime_nsec", st->mtime_nsec);
    }
}

void cmain(long argc, char **argv) {
    if (argc < 2 || sys(SYS_chdir, (long)argv[1], 0, 0, 0, 0)) {
        out("usage: fs_raw DIR\n");
        sys(SYS_exit_group, 2, 0, 0, 0, 0);
    }
    int fd = sys(SYS_openat, AT_FDCWD, (long)"file.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644, 0);
    for (int i = 0; i < 100; i++) sys(SYS_write, fd, (long)"0123456789abcdef\n", 17, 0, 0);
    sys(SYS_close, fd, 0, 0, 0, 0);
    sys(SYS_mkdirat, AT_FDCWD, (long)"sub", 0750, 0, 0);
    sys(SYS_symlinkat, (long)"file.txt", AT_FDCWD, (long)"link", 0, 0);
    sys(SYS_linkat, AT_FDCWD, (long)"file.txt", AT_FDCWD, (long)"hard", 0);
    long ts[4] = {1000000000, 123456789, 1234567890, 987654321};
    sys(SYS_utimensat, AT_FDCWD, (long)"file.txt", (long)ts, 0, 0);

    /* Guard bytes after the 128-byte struct must stay untouched. */
    struct {
        struct kstat st;
        u64 guard[4];
    } b;
    b.guard[0] = b.guard[1] = b.guard[2] = b.guard[3] = 0x5a5a5a5a5a5a5a5aUL;
    kv("newfstatat", sys(SYS_newfstatat, AT_FDCWD, (long)"file.txt", (long)&b.st, 0, 0));
    show("file.txt", &b.st, 0);
    kv("guard intact", b.guard[0] == 0x5a5a5a5a5a5a5a5aUL && b.guard[3] == 0x5a5a5a5a5a5a5a5aUL);
    struct kstat l, s2;
    kv("newfstatat nofollow", sys(SYS_newfstatat, AT_FDCWD, (long)"link", (long)&l, 0x100, 0));
    kv("  link is a symlink", (l.mode & 0170000) == 0120000);
    kv("  link size", l.size);
    sys(SYS_newfstatat, AT_FDCWD, (long)"sub", (long)&s2, 0, 0);
    show("sub", &s2, 1);
    kv("newfstatat missing", sys(SYS_newfstatat, AT_FDCWD, (long)"missing", (long)&l, 0, 0));

    fd = sys(SYS_openat, AT_FDCWD, (long)"file.txt", 0, 0, 0);
    struct kstat f;
    kv("fstat", sys(SYS_fstat, fd, (long)&f, 0, 0, 0));
    kv("  same inode", f.ino == b.st.ino && f.dev == b.st.dev);
    long fl = sys(SYS_fcntl, fd, 3 /* F_GETFL */, 0, 0, 0);
    kv("F_GETFL accmode", fl & 3);
    kv("F_GETFL nonblock|append|direct|directory", fl & (O_NONBLOCK | O_APPEND | O_DIRECT | O_DIRECTORY));
    sys(SYS_fcntl, fd, 4 /* F_SETFL */, O_NONBLOCK | O_APPEND, 0, 0);
    fl = sys(SYS_fcntl, fd, 3, 0, 0, 0);
    kv("after F_SETFL nonblock|append", fl & (O_NONBLOCK | O_APPEND));
    sys(SYS_close, fd, 0, 0, 0, 0);

    kv("O_DIRECTORY on a file", sys(SYS_openat, AT_FDCWD, (long)"file.txt", O_DIRECTORY, 0, 0));
    fd = sys(SYS_openat, AT_FDCWD, (long)"sub", O_DIRECTORY | O_CLOEXEC, 0, 0);
    kv("O_DIRECTORY on a dir ok", fd >= 0);
    kv("  F_GETFL has O_DIRECTORY", !!(sys(SYS_fcntl, fd, 3, 0, 0, 0) & O_DIRECTORY));
    sys(SYS_close, fd, 0, 0, 0, 0);
    kv("O_NOFOLLOW on a symlink", sys(SYS_openat, AT_FDCWD, (long)"link", O_NOFOLLOW, 0, 0));
    fd = sys(SYS_openat, AT_FDCWD, (long)"file.txt", O_NOFOLLOW, 0, 0);
    kv("O_NOFOLLOW on a file ok", fd >= 0);
    sys(SYS_close, fd, 0, 0, 0, 0);

    int p[2];
    kv("pipe2 O_DIRECT", sys(SYS_pipe2, (long)p, O_DIRECT, 0, 0, 0));
    sys(SYS_write, p[1], (long)"ab", 2, 0, 0);
    sys(SYS_write, p[1], (long)"cde", 3, 0, 0);
    char rb[16];
    kv("packet read", sys(SYS_read, p[0], (long)rb, sizeof rb, 0, 0));

    /* getdents64: count entries and sum of name lengths (order is the file system's). */
    fd = sys(SYS_openat, AT_FDCWD, (long)".", O_DIRECTORY, 0, 0);
    char dents[4096];
    long n = sys(SYS_getdents64, fd, (long)dents, sizeof dents, 0, 0);
    int count = 0, names = 0;
    for (long off = 0; off < n;) {
        unsigned short reclen = *(unsigned short *)(dents + off + 16);
        char *name = dents + off + 19;
        while (*name++) names++;
        count++;
        off += reclen;
    }
    kv("getdents64 entries", count);
    kv("getdents64 name bytes", names);

    char uts[6 * 65];
    sys(SYS_uname, (long)uts, 0, 0, 0, 0);
    out("uname machine ");
    out(uts + 4 * 65);
    out("\n");
    sys(SYS_exit_group, 0, 0, 0, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n ldr x0, [sp]\n add x1, sp, #8\n bl cmain\n");
