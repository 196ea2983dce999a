/* File-system structures whose arm64 layout or flag values differ from x86-64 (deja runs
 * on an x86-64 host and converts): struct stat (asm-generic, 128 bytes), the open flags
 * O_DIRECTORY/O_NOFOLLOW/O_DIRECT/O_LARGEFILE, fcntl(F_GETFL), and a few that are the
 * same (statx, statfs, getdents64 through readdir). Only values that do not depend on the
 * run are printed.
 *
 *   fs_structs DIR      (DIR: an empty scratch directory) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void show_stat(const char *what, const struct stat *st) {
    printf("%s: mode %o nlink %lu uid-is-me %d gid-is-mine %d blksize>0 %d", what, st->st_mode,
           (unsigned long)st->st_nlink, st->st_uid == getuid(), st->st_gid == getgid(), st->st_blksize > 0);
    /* A directory's size and times depend on the file system and the run. */
    if (!S_ISDIR(st->st_mode))
        printf(" size %lld blocks %lld atime %lld.%09ld mtime %lld.%09ld", (long long)st->st_size,
               (long long)st->st_blocks, (long long)st->st_atim.tv_sec, st->st_atim.tv_nsec,
               (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) {
        printf("usage: fs_structs DIR\n");
        return 2;
    }
    printf("sizeof(struct stat) %zu\n", sizeof(struct stat));
    FILE *f = fopen("file.txt", "w");
    for (int i = 0; i < 1000; i++) fprintf(f, "line %d\n", i);
    fclose(f);
    mkdir("sub", 0750);
    mkdir("sub/inner", 0700);
    symlink("file.txt", "link");
    link("file.txt", "hard");
    struct timespec ts[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
    utimensat(AT_FDCWD, "file.txt", ts, 0);

    struct stat a, b, c, d;
    stat("file.txt", &a);
    show_stat("stat file", &a);
    lstat("link", &b);
    printf("lstat link: symlink %d size %lld\n", S_ISLNK(b.st_mode), (long long)b.st_size);
    stat("link", &c);
    printf("stat link: same inode as file %d same dev %d\n", c.st_ino == a.st_ino, c.st_dev == a.st_dev);
    stat("sub", &d);
    show_stat("stat sub", &d);
    int fd = open("file.txt", O_RDONLY);
    struct stat e;
    fstat(fd, &e);
    printf("fstat: same as stat %d\n", e.st_ino == a.st_ino && e.st_size == a.st_size && e.st_nlink == 2);
    int fl = fcntl(fd, F_GETFL);
    /* (O_LARGEFILE is left out: Linux sets it in F_GETFL for every 64-bit open, qemu-user
     * does not report it.) */
    printf("F_GETFL accmode %d append %d nonblock %d direct %d directory %d\n", fl & O_ACCMODE, !!(fl & O_APPEND),
           !!(fl & O_NONBLOCK), !!(fl & O_DIRECT), !!(fl & O_DIRECTORY));
    fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND);
    fl = fcntl(fd, F_GETFL);
    printf("F_SETFL: append %d nonblock %d\n", !!(fl & O_APPEND), !!(fl & O_NONBLOCK));
    struct stat g;
    printf("fstatat AT_EMPTY_PATH %d size %lld\n", fstatat(fd, "", &g, AT_EMPTY_PATH), (long long)g.st_size);
    printf("fstatat NOFOLLOW symlink %d\n", fstatat(AT_FDCWD, "link", &g, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(g.st_mode));
    close(fd);
    errno = 0;
    printf("stat missing %d errno %d\n", stat("missing", &g), errno);

    struct statx sx;
    printf("statx %d size %lld same %d\n", statx(AT_FDCWD, "file.txt", 0, STATX_BASIC_STATS, &sx),
           (long long)sx.stx_size, sx.stx_ino == a.st_ino && sx.stx_nlink == 2);
    struct statfs sf;
    printf("statfs %d bsize>0 %d\n", statfs(".", &sf), sf.f_bsize > 0);

    /* The flags that differ between x86-64 and arm64. */
    errno = 0;
    printf("O_DIRECTORY on a file: %d errno %d\n", open("file.txt", O_RDONLY | O_DIRECTORY), errno);
    int dfd = open("sub", O_RDONLY | O_DIRECTORY);
    printf("O_DIRECTORY on a dir ok %d, F_GETFL directory %d\n", dfd >= 0, !!(fcntl(dfd, F_GETFL) & O_DIRECTORY));
    struct stat ds;
    printf("fstat dir %d isdir %d\n", fstat(dfd, &ds), S_ISDIR(ds.st_mode));
    close(dfd);
    errno = 0;
    printf("O_NOFOLLOW on a symlink: %d errno %d\n", open("link", O_RDONLY | O_NOFOLLOW), errno);
    fd = open("file.txt", O_RDONLY | O_NOFOLLOW);
    printf("O_NOFOLLOW on a file ok %d\n", fd >= 0);
    close(fd);
    fd = open("tmpfile", O_RDWR | O_CREAT | O_TRUNC, 0600);
    printf("creat ok %d\n", fd >= 0);
    close(fd);
    fd = open(".", O_TMPFILE | O_RDWR, 0600);
    printf("O_TMPFILE ok-or-unsupported %d\n", fd >= 0 || errno == EOPNOTSUPP || errno == EISDIR);
    if (fd >= 0) close(fd);
    int p[2];
    printf("pipe2 O_DIRECT (packet mode) %d\n", pipe2(p, O_DIRECT));
    if (write(p[1], "ab", 2) == 2 && write(p[1], "cde", 3) == 3) {
        char r[16];
        ssize_t n = read(p[0], r, sizeof r);
        printf("packet pipe read %zd\n", n);
    }

    /* readdir (O_DIRECTORY, getdents64), sorted. */
    DIR *dir = opendir(".");
    char *names[64];
    int n = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir)) && n < 64) names[n++] = strdup(de->d_name);
    if (dir) closedir(dir);
    qsort(names, n, sizeof names[0], cmp);
    printf("readdir:");
    for (int i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n");
    return 0;
}
