/* Pipes, ioctl, poll/select, uname, clocks, randomness, identity, /proc/self/exe, prctl.
 * argv[1] = scratch directory. Output is identical natively and under deja: only
 * comparisons are printed for values that vary between runs. */
#include "mini.h"

static char buf[4096];

static void check(const char *what, long r) { kv(what, r); }
static void show_buf(const char *k, const char *b, long n) {
    out(k);
    out("=[");
    if (n > 0) S3(NR_write, 1, b, n);
    out("]\n");
}
static long ts_ge(struct kts *a, struct kts *b) {
    if (a->sec != b->sec) return a->sec > b->sec;
    return a->nsec >= b->nsec;
}

struct pollfd {
    int fd;
    short events, revents;
};

/* The fds the program holds, as /proc/self/fd lists them (sorted): deja must not add any. */
static void list_fds(void) {
    static char names[64][8];
    int count = 0;
    long fd = S3(NR_open, "/proc/self/fd", O_RDONLY | O_DIRECTORY, 0);
    for (;;) {
        long n = S3(NR_getdents64, fd, buf, sizeof buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            char *name = buf + off + 19;
            if (count < 64 && slen(name) < 8) scpy(names[count++], name);
            off += *(u16 *)(buf + off + 16);
        }
    }
    S1(NR_close, fd);
    out("fds:");
    for (int i = 0; i < count; i++) {
        /* numeric order: shorter first, then by bytes */
        int best = -1;
        for (int j = 0; j < count; j++) {
            if (!names[j][0]) continue;
            if (best < 0 || slen(names[j]) < slen(names[best]) ||
                (slen(names[j]) == slen(names[best]) && scmp(names[j], names[best]) < 0))
                best = j;
        }
        out(" ");
        out(names[best]);
        names[best][0] = 0;
    }
    out("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int p[2];
    list_fds();
    /* pipes and terminal ioctls */
    check("pipe", S1(NR_pipe, p));
    check("pipe_fds", p[1] == p[0] + 1);
    check("write_pipe", S3(NR_write, p[1], "ping", 4));
    int avail = -1;
    check("fionread", S3(NR_ioctl, p[0], 0x541B, &avail));
    kv("fionread_n", avail);
    static u8 tio[60];
    check("tcgets_pipe", S3(NR_ioctl, p[0], 0x5401, tio)); /* isatty(pipe) -> ENOTTY */
    u16 ws[4];
    check("tiocgwinsz_pipe", S3(NR_ioctl, p[0], 0x5413, ws));
    check("ioctl_unknown", S3(NR_ioctl, p[0], 0x12345678, 0));
    struct pollfd pf[2] = {{p[0], 1 /*POLLIN*/, 0}, {p[1], 4 /*POLLOUT*/, 0}};
    check("poll", S3(NR_poll, pf, 2, 1000));
    kv("poll_rev0", pf[0].revents);
    kv("poll_rev1", pf[1].revents);
    struct pollfd bad = {999, 1, 0};
    check("poll_nval", S3(NR_poll, &bad, 1, 0));
    kv("poll_nval_rev", bad.revents);
    struct kts zero = {0, 0};
    pf[0].revents = pf[1].revents = 0;
    check("ppoll", S5(NR_ppoll, pf, 1, &zero, 0, 8));
    kv("ppoll_rev0", pf[0].revents);
    u64 rset[16];
    mset(rset, 0, sizeof rset);
    rset[0] = bit(p[0]);
    struct kts tv = {1, 0};
    check("select", S5(NR_select, p[0] + 1, rset, 0, 0, &tv));
    check("select_bit", rset[0] == (bit(p[0])));
    rset[0] = bit(p[0]);
    check("pselect6", S6(NR_pselect6, p[0] + 1, rset, 0, 0, &zero, 0));
    {
        long n = S3(NR_read, p[0], buf, sizeof buf);
        show_buf("read_pipe", buf, n);
    }
    pf[0].revents = 0;
    check("poll_empty", S3(NR_poll, pf, 1, 0));
    check("close_w", S1(NR_close, p[1]));
    check("read_eof", S3(NR_read, p[0], buf, sizeof buf));
    S1(NR_close, p[0]);
    check("pipe2", S2(NR_pipe2, p, O_CLOEXEC | O_NONBLOCK));
    check("pipe2_cloexec", S2(NR_fcntl, p[0], 1));
    check("pipe2_nonblock", nz(S2(NR_fcntl, p[0], 3) & O_NONBLOCK));
    check("read_eagain", S3(NR_read, p[0], buf, 10));
    struct kiovec wv[2] = {{"ab", 2}, {"cd", 2}};
    check("writev_pipe", S3(NR_writev, p[1], wv, 2));
    char x1[1], x2[2], x3[8];
    struct kiovec rv[3] = {{x1, 1}, {x2, 2}, {x3, 8}};
    check("readv_pipe", S3(NR_readv, p[0], rv, 3));
    show_buf("rv_a", x1, 1);
    show_buf("rv_b", x2, 2);
    show_buf("rv_c", x3, 1);
    S1(NR_close, p[0]);
    S1(NR_close, p[1]);

    /* sendfile / copy_file_range */
    check("chdir", S1(NR_chdir, argv[1]));
    long f1 = S3(NR_open, "src", O_CREAT | O_RDWR | O_TRUNC, 0644);
    S3(NR_write, f1, "0123456789", 10);
    long f2 = S3(NR_open, "dst", O_CREAT | O_RDWR | O_TRUNC, 0644);
    long off = 2;
    check("sendfile", S4(NR_sendfile, f2, f1, &off, 5));
    kv("sendfile_off", off);
    long offin = 0, offout = 5;
    check("copy_file_range", S6(NR_copy_file_range, f1, &offin, f2, &offout, 3, 0));
    kv("cfr_offs", offin * 100 + offout);
    long n2 = S4(NR_pread64, f2, buf, 100, 0);
    show_buf("dst", buf, n2);
    check("fallocate", S4(NR_fallocate, f2, 0, 0, 4096));
    S1(NR_close, f1);
    S1(NR_close, f2);
    S1(NR_unlink, "src");
    S1(NR_unlink, "dst");

    /* uname */
    static char uts[390];
    check("uname", S1(NR_uname, uts));
    ks("sysname", uts);
    ks("machine", uts + 4 * 65);
    check("uname_efault", S1(NR_uname, 8));

    /* clocks */
    struct kts t1, t2, res;
    check("clock_gettime", S2(NR_clock_gettime, 1, &t1));
    S0(NR_sched_yield);
    check("clock_gettime2", S2(NR_clock_gettime, 1, &t2));
    check("monotonic", ts_ge(&t2, &t1));
    check("nsec_range", t1.nsec >= 0 && t1.nsec < 1000000000);
    check("clock_getres", S2(NR_clock_getres, 1, &res));
    check("res_positive", res.sec == 0 && res.nsec > 0);
    check("clock_getres_null", S2(NR_clock_getres, 0, 0));
    check("clock_bad", S2(NR_clock_gettime, 12345, &t1));
    struct kts rt;
    S2(NR_clock_gettime, 0, &rt);
    long tnow = S1(NR_time, 0);
    long tout = 0;
    check("time_matches", tnow - rt.sec < 5 && S1(NR_time, &tout) >= tnow && tout >= tnow);
    struct {
        long sec, usec;
    } tvv;
    check("gettimeofday", S2(NR_gettimeofday, &tvv, 0));
    check("gtod_sane", tvv.sec >= rt.sec && tvv.usec < 1000000);
    struct kts sl = {0, 2000000}; /* 2 ms */
    S2(NR_clock_gettime, 1, &t1);
    check("nanosleep", S2(NR_nanosleep, &sl, 0));
    S2(NR_clock_gettime, 1, &t2);
    long el = t2.nsec - t1.nsec; /* no multiplication: seconds differ by at most a few */
    if (t2.sec == t1.sec + 1) el += 1000000000;
    if (t2.sec > t1.sec + 1) el = 2000000000;
    check("slept_2ms", el >= 2000000);
    check("clock_nanosleep", S4(NR_clock_nanosleep, 1, 0, &sl, 0));
    struct kts badts = {0, 2000000000};
    check("nanosleep_einval", S2(NR_nanosleep, &badts, 0));

    /* randomness */
    static u8 rnd[64];
    check("getrandom", S3(NR_getrandom, rnd, 32, 0));
    check("getrandom_nonblock", S3(NR_getrandom, rnd, 64, 1));
    check("getrandom_zero", S3(NR_getrandom, rnd, 0, 0));
    check("getrandom_efault", S3(NR_getrandom, 8, 16, 0));
    {
        int allzero = 1;
        for (int i = 0; i < 32; i++)
            if (rnd[i]) allzero = 0;
        check("random_nonzero", !allzero);
    }

    /* identity: comparisons only */
    long pid = S0(NR_getpid);
    check("pid_is_tid", pid == S0(NR_gettid));
    check("ppid_pos", S0(NR_getppid) > 0);
    check("ppid_not_self", S0(NR_getppid) != pid);
    u32 r, e, s;
    check("getresuid", S3(NR_getresuid, &r, &e, &s));
    check("uid_match", r == (u32)S0(NR_getuid) && e == (u32)S0(NR_geteuid));
    check("getresgid", S3(NR_getresgid, &r, &e, &s));
    check("gid_match", r == (u32)S0(NR_getgid) && e == (u32)S0(NR_getegid));
    long ng = S2(NR_getgroups, 0, 0);
    check("getgroups_count", ge0(ng));
    static u32 groups[256];
    check("getgroups", S2(NR_getgroups, 256, groups) == ng);
    check("getpgid_self", S1(NR_getpgid, 0) == S0(NR_getpgrp));
    check("getpgid_pid", S1(NR_getpgid, pid) == S0(NR_getpgrp));
    check("getsid", S1(NR_getsid, 0) > 0);
    check("getpriority", S2(NR_getpriority, 0, 0) == S2(NR_getpriority, 0, pid));
    check("prio_max", S1(NR_sched_get_priority_max, 1));
    check("prio_min", S1(NR_sched_get_priority_min, 1));
    check("prio_other", S1(NR_sched_get_priority_max, 0));
    check("prio_bad", S1(NR_sched_get_priority_max, 77));
    static u8 si[112];
    check("sysinfo", S1(NR_sysinfo, si));
    static u8 ru[144];
    check("getrusage", S2(NR_getrusage, 0, ru));
    check("getrusage_bad", S2(NR_getrusage, 7, ru));
    static u8 tms[32];
    check("times", ge0(S1(NR_times, tms)));
    u64 rl[2];
    check("getrlimit_nofile", S2(NR_getrlimit, 7, rl));
    u64 rl2[2];
    check("prlimit_nofile", S4(NR_prlimit64, 0, 7, 0, rl2));
    check("nofile_same", rl[0] == rl2[0] && rl[1] == rl2[1]);
    check("getrlimit_bad", S2(NR_getrlimit, 99, rl));
    u64 newrl[2] = {rl[0], rl[1]};
    check("setrlimit_nofile", S4(NR_prlimit64, 0, 7, newrl, 0));
    u64 badrl[2] = {10, 5};
    check("setrlimit_inval", S4(NR_prlimit64, 0, 7, badrl, 0));
    check("cpu_set", S3(NR_getcpu, &r, &e, 0));

    /* names */
    check("set_name", S2(NR_prctl, 15, "deja-test-name-too-long"));
    mset(buf, 'x', 32);
    check("get_name", S2(NR_prctl, 16, buf));
    ks("name", buf);
    check("prctl_dumpable", S1(NR_prctl, 3));
    check("prctl_bad", S2(NR_prctl, 0x53564d41, 0));
    n2 = S3(NR_readlink, "/proc/self/exe", buf, sizeof buf);
    check("exe_len", n2 == (long)slen(argv[0]));
    check("exe_same", mcmp(buf, argv[0], slen(argv[0])) == 0);
    long efd = S3(NR_open, "/proc/self/exe", O_RDONLY, 0);
    check("open_exe", ge0(efd));
    n2 = S3(NR_read, efd, buf, 4);
    show_buf("exe_magic", buf + 1, 3);
    S1(NR_close, efd);
    struct kstat st1, st2;
    S2(NR_stat, "/proc/self/exe", &st1);
    S2(NR_stat, argv[0], &st2);
    check("stat_exe_same", st1.ino == st2.ino && st1.dev == st2.dev);
    check("access_exe", S2(NR_access, "/proc/self/exe", 1));

    /* futex, robust lists, membarrier */
    int fw = 5;
    check("futex_wait_eagain", S4(NR_futex, &fw, 128, 6, 0));
    struct kts ft = {0, 1000000};
    check("futex_wait_timeout", S4(NR_futex, &fw, 128, 5, &ft));
    check("futex_wake", S3(NR_futex, &fw, 129, 1));
    check("futex_unaligned", S3(NR_futex, (char *)&fw + 1, 129, 1));
    check("membarrier", ge0(S3(NR_membarrier, 0, 0, 0)));
    return 0;
}
