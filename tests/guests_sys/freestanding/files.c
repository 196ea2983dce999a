/* File syscalls in a scratch directory (argv[1]); prints results, never inode numbers or times. */
#include "mini.h"

static void check(const char *what, long r) { kv(what, r); }

static char buf[8192];

static void show_buf(const char *k, const char *b, long n) {
    out(k);
    out("=[");
    if (n > 0) S3(NR_write, 1, b, n);
    out("]\n");
}

/* names in a directory via getdents64, sorted */
static void list_dir(const char *path, int use64) {
    static char pool[2048];
    char *names[32];
    long used = 0;
    int count = 0;
    long fd = S3(NR_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
    check("opendir", ge0(fd));
    for (;;) {
        long n = use64 ? S3(NR_getdents64, fd, buf, sizeof buf) : S3(NR_getdents, fd, buf, sizeof buf);
        if (n <= 0) {
            check("getdents_end", n);
            break;
        }
        long off = 0;
        while (off < n) {
            char *rec = buf + off;
            u16 reclen = *(u16 *)(rec + 16);
            char *name = use64 ? rec + 19 : rec + 18;
            if (count < 32 && used + (long)slen(name) < 2000) {
                names[count++] = pool + used;
                scpy(pool + used, name);
                used += slen(name) + 1;
            }
            off += reclen;
        }
    }
    S1(NR_close, fd);
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && scmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    out(use64 ? "dir64:" : "dir:");
    for (int i = 0; i < count; i++) {
        out(" ");
        out(names[i]);
    }
    out("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *dir = argv[1];
    struct kstat st, st2;
    check("chdir", S1(NR_chdir, dir));
    long n = S2(NR_getcwd, buf, sizeof buf);
    check("getcwd_len_ok", n == (long)slen(dir) + 1);
    check("getcwd_same", scmp(buf, dir) == 0);
    check("getcwd_small", S2(NR_getcwd, buf, 2));
    S1(NR_umask, 022);
    check("umask", S1(NR_umask, 022));

    /* open / write / lseek / read / pread / pwrite */
    long fd = S3(NR_open, "a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    check("open", fd >= 3);
    check("write", S3(NR_write, fd, "hello world\n", 12));
    check("lseek_set", S3(NR_lseek, fd, 0, 0));
    n = S3(NR_read, fd, buf, 5);
    show_buf("read", buf, n);
    n = S4(NR_pread64, fd, buf, 5, 6);
    show_buf("pread", buf, n);
    check("pos_after_pread", S3(NR_lseek, fd, 0, 1));
    check("pwrite", S4(NR_pwrite64, fd, "W", 1, 6));
    check("lseek_end", S3(NR_lseek, fd, 0, 2));
    struct kiovec wv[3] = {{"abc", 3}, {(void *)0x10, 0}, {"def\n", 4}};
    check("writev", S3(NR_writev, fd, wv, 3));
    check("lseek0", S3(NR_lseek, fd, 0, 0));
    char b1[3], b2[4], b3[100];
    struct kiovec rv[3] = {{b1, 3}, {b2, 4}, {b3, 100}};
    n = S3(NR_readv, fd, rv, 3);
    check("readv", n);
    show_buf("rv1", b1, 3);
    show_buf("rv2", b2, 4);
    show_buf("rv3", b3, n - 7);
    struct kiovec rv1[1] = {{b3, 100}};
    n = S5(NR_preadv, fd, rv1, 1, 12, 0);
    show_buf("preadv", b3, n);
    struct kiovec pw[2] = {{"X", 1}, {"Y", 1}};
    check("pwritev", S5(NR_pwritev, fd, pw, 2, 0, 0));
    n = S4(NR_pread64, fd, buf, 100, 0);
    show_buf("after_pwritev", buf, n);
    check("readv_badcount", S3(NR_readv, fd, rv, 5000));
    S3(NR_lseek, fd, 0, 0);
    check("read_efault", S3(NR_read, fd, (void *)8, 10));
    check("read_ebadf", S3(NR_read, 999, buf, 10));

    /* stat family */
    check("fstat", S2(NR_fstat, fd, &st));
    kv("fstat_size", st.size);
    kv("fstat_mode", st.mode);
    check("stat", S2(NR_stat, "a.txt", &st2));
    check("stat_same_ino", st.ino == st2.ino && st.dev == st2.dev && st2.size == st.size);
    check("newfstatat", S4(NR_newfstatat, AT_FDCWD, "a.txt", &st2, 0));
    check("newfstatat_empty", S4(NR_newfstatat, fd, "", &st2, AT_EMPTY_PATH));
    check("newfstatat_same", st.ino == st2.ino);
    check("stat_enoent", S2(NR_stat, "nope", &st2));
    check("stat_efault", S2(NR_stat, "a.txt", (void *)16));
    static u8 sx[256];
    check("statx", S5(NR_statx, AT_FDCWD, "a.txt", 0, 0x7ff, sx));
    kv("statx_size", *(u64 *)(sx + 40));
    kv("statx_mode", *(u16 *)(sx + 28));
    static u8 sfs[120];
    check("statfs", S2(NR_statfs, ".", sfs));
    check("fstatfs", S2(NR_fstatfs, fd, sfs));

    /* dup / fcntl */
    long d = S1(NR_dup, fd);
    check("dup", d > fd);
    check("lseek_dup", S3(NR_lseek, d, 3, 0));
    check("pos_shared", S3(NR_lseek, fd, 0, 1));
    check("dup2", S2(NR_dup2, fd, 40));
    check("getfd40", S2(NR_fcntl, 40, 1));
    check("dup3", S3(NR_dup3, fd, 41, O_CLOEXEC));
    check("getfd41", S2(NR_fcntl, 41, 1));
    check("dup3_same", S3(NR_dup3, fd, fd, 0));
    check("dup2_same", S2(NR_dup2, fd, fd));
    check("dup2_bad", S2(NR_dup2, 999, 42));
    check("getfl_acc", S2(NR_fcntl, fd, 3) & 3);
    check("setfl", S3(NR_fcntl, fd, 4, O_APPEND | O_NONBLOCK));
    check("getfl_append", nz(S2(NR_fcntl, fd, 3) & O_APPEND));
    check("dupfd_cloexec", S3(NR_fcntl, fd, 1030, 50));
    check("getfd50", S2(NR_fcntl, 50, 1));
    check("setfd", S3(NR_fcntl, 50, 2, 0));
    check("getfd50b", S2(NR_fcntl, 50, 1));
    struct {
        short type, whence;
        long start, len;
        int pid;
    } lk = {1 /*F_WRLCK*/, 0, 0, 0, 0};
    check("setlk", S3(NR_fcntl, fd, 6, &lk));
    lk.type = 0; /* F_RDLCK */
    check("getlk", S3(NR_fcntl, fd, 5, &lk));
    kv("getlk_type", lk.type); /* F_UNLCK: our own lock does not conflict */
    check("fcntl_bad", S3(NR_fcntl, fd, 9999, 0));
    check("flock", S2(NR_flock, fd, 2));
    check("flock_un", S2(NR_flock, fd, 8));
    check("fsync", S1(NR_fsync, fd));
    check("fdatasync", S1(NR_fdatasync, fd));
    check("fadvise", S4(NR_fadvise64, fd, 0, 0, 0));
    check("ftruncate", S2(NR_ftruncate, fd, 4));
    S2(NR_fstat, fd, &st);
    kv("size_after_ftruncate", st.size);
    check("fchmod", S2(NR_fchmod, fd, 0600));
    S2(NR_stat, "a.txt", &st);
    kv("mode_after_fchmod", st.mode & 0777);
    check("close_dup", S1(NR_close, d));
    check("close40", S1(NR_close, 40));
    check("close41", S1(NR_close, 41));
    check("close50", S1(NR_close, 50));
    check("close_again", S1(NR_close, 50));
    check("close_fd", S1(NR_close, fd));

    /* creat / truncate / chmod / access */
    fd = S2(NR_creat, "b.txt", 0600);
    check("creat", fd >= 3);
    check("write_b", S3(NR_write, fd, "0123456789", 10));
    S1(NR_close, fd);
    check("truncate", S2(NR_truncate, "b.txt", 3));
    S2(NR_stat, "b.txt", &st);
    kv("size_after_truncate", st.size);
    check("chmod", S2(NR_chmod, "b.txt", 0640));
    S2(NR_stat, "b.txt", &st);
    kv("mode_after_chmod", st.mode & 0777);
    check("fchmodat", S4(NR_fchmodat, AT_FDCWD, "b.txt", 0600, 0));
    check("access_ok", S2(NR_access, "b.txt", 4));
    check("access_x", S2(NR_access, "b.txt", 1));
    check("access_enoent", S2(NR_access, "nope", 0));
    check("faccessat", S4(NR_faccessat, AT_FDCWD, "b.txt", 6, 0));
    check("faccessat2", S4(NR_faccessat2, AT_FDCWD, "b.txt", 6, AT_SYMLINK_NOFOLLOW));
    struct kts times[2] = {{1000000, 0}, {2000000, 500}};
    check("utimensat", S4(NR_utimensat, AT_FDCWD, "b.txt", times, 0));
    S2(NR_stat, "b.txt", &st);
    kv("mtime", st.mtime);
    kv("atime", st.atime);

    /* directories, links, renames */
    check("mkdir", S2(NR_mkdir, "d", 0755));
    check("mkdir_exists", S2(NR_mkdir, "d", 0755));
    check("mkdirat", S3(NR_mkdirat, AT_FDCWD, "d/sub", 0700));
    fd = S3(NR_open, "d/x", O_CREAT | O_WRONLY, 0644);
    S1(NR_close, fd);
    long dfd = S3(NR_open, "d", O_RDONLY | O_DIRECTORY, 0);
    check("open_dir", dfd >= 3);
    fd = S4(NR_openat, dfd, "y", O_CREAT | O_WRONLY | O_EXCL, 0644);
    check("openat_rel", fd >= 3);
    S1(NR_close, fd);
    check("openat_excl", S4(NR_openat, dfd, "y", O_CREAT | O_WRONLY | O_EXCL, 0644));
    check("symlink", S2(NR_symlink, "../a.txt", "d/link"));
    check("symlinkat", S3(NR_symlinkat, "x", dfd, "link2"));
    n = S3(NR_readlink, "d/link", buf, sizeof buf);
    show_buf("readlink", buf, n);
    n = S4(NR_readlinkat, dfd, "link2", buf, sizeof buf);
    show_buf("readlinkat", buf, n);
    n = S3(NR_readlink, "d/link", buf, 3);
    show_buf("readlink_trunc", buf, n);
    check("readlink_notlink", S3(NR_readlink, "a.txt", buf, sizeof buf));
    check("lstat", S2(NR_lstat, "d/link", &st));
    kv("lstat_is_link", (st.mode & 0170000) == 0120000);
    check("stat_follow", S2(NR_stat, "d/link", &st));
    kv("stat_is_reg", (st.mode & 0170000) == 0100000);
    check("link", S2(NR_link, "b.txt", "d/hard"));
    S2(NR_stat, "b.txt", &st);
    kv("nlink", st.nlink);
    check("linkat", S5(NR_linkat, AT_FDCWD, "b.txt", dfd, "hard2", 0));
    list_dir("d", 1);
    list_dir("d", 0);
    check("rename", S2(NR_rename, "d/x", "d/z"));
    check("access_z", S2(NR_access, "d/z", 0));
    check("access_x_gone", S2(NR_access, "d/x", 0));
    check("renameat", S4(NR_renameat, dfd, "z", dfd, "w"));
    check("renameat2_noreplace", S5(NR_renameat2, dfd, "w", dfd, "y", 1));
    check("renameat2", S5(NR_renameat2, dfd, "w", dfd, "v", 0));
    list_dir("d", 1);
    check("rmdir_notempty", S1(NR_rmdir, "d"));
    check("unlink_v", S1(NR_unlink, "d/v"));
    check("unlink_y", S1(NR_unlink, "d/y"));
    check("unlinkat", S3(NR_unlinkat, dfd, "link", 0));
    check("unlinkat2", S3(NR_unlinkat, dfd, "link2", 0));
    check("unlinkat_hard", S3(NR_unlinkat, dfd, "hard", 0));
    check("unlinkat_hard2", S3(NR_unlinkat, dfd, "hard2", 0));
    check("unlinkat_dir", S3(NR_unlinkat, dfd, "sub", AT_REMOVEDIR));
    check("fchdir", S1(NR_fchdir, dfd));
    n = S2(NR_getcwd, buf, sizeof buf);
    check("cwd_is_d", n > 2 && buf[n - 2] == 'd' && buf[n - 3] == '/');
    check("chdir_up", S1(NR_chdir, ".."));
    S1(NR_close, dfd);
    check("rmdir", S1(NR_rmdir, "d"));
    check("rmdir_enoent", S1(NR_rmdir, "d"));
    check("unlink_enoent", S1(NR_unlink, "d/none"));
    check("unlink_a", S1(NR_unlink, "a.txt"));
    check("unlink_b", S1(NR_unlink, "b.txt"));
    list_dir(".", 1);
    check("open_root", ge0(S3(NR_open, "/", 0, 0)));
    {
        static char longp[5000];
        mset(longp, 'a', 4999);
        check("enametoolong", S3(NR_open, longp, 0, 0));
    }
    check("open_efault", S3(NR_open, (void *)24, 0, 0));
    return 0;
}
