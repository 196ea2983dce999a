/* File and process syscalls through the C library (glibc or musl). argv[1] = scratch
 * directory. Prints only values that are the same natively and under deja. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        printf("opendir %s: %s\n", path, strerror(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%s:", path);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char buf[4096];
    printf("chdir %d\n", chdir(argv[1]));
    printf("getcwd %d\n", getcwd(buf, sizeof buf) && strcmp(buf, argv[1]) == 0);

    FILE *f = fopen("f.txt", "w+");
    fprintf(f, "line %d\nline %s\n", 1, "two");
    fflush(f);
    rewind(f);
    while (fgets(buf, sizeof buf, f)) printf("got: %s", buf);
    fclose(f);

    ssize_t n;
    int fd = open("g.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    printf("write %zd\n", write(fd, "abcdefghij", 10));
    printf("lseek %ld\n", (long)lseek(fd, 2, SEEK_SET));
    n = read(fd, buf, 3);
    printf("read %zd '%.3s'\n", n, buf);
    n = pread(fd, buf, 2, 8);
    printf("pread %zd '%.2s'\n", n, buf);
    printf("pwrite %zd\n", pwrite(fd, "XY", 2, 0));
    struct iovec wv[2] = {{"12", 2}, {"345", 3}};
    lseek(fd, 0, SEEK_END);
    printf("writev %zd\n", writev(fd, wv, 2));
    char a[4], b[20];
    struct iovec rv[2] = {{a, 4}, {b, 20}};
    lseek(fd, 0, SEEK_SET);
    n = readv(fd, rv, 2);
    printf("readv %zd '%.4s' '%.*s'\n", n, a, (int)(n - 4), b);
    struct stat st, st2;
    fstat(fd, &st);
    stat("g.bin", &st2);
    printf("fstat size %ld mode %o same %d\n", (long)st.st_size, st.st_mode & 0777, st.st_ino == st2.st_ino);
    int d = dup(fd);
    printf("dup>fd %d\n", d > fd);
    printf("cloexec %d\n", fcntl(fcntl(fd, F_DUPFD_CLOEXEC, 0), F_GETFD));
    printf("getfl %d\n", fcntl(fd, F_GETFL) & O_ACCMODE);
    close(d);
    close(fd);

    printf("mkdir %d\n", mkdir("sub", 0755));
    int rc = mkdir("sub", 0755);
    printf("mkdir again %d %s\n", rc, strerror(errno));
    close(open("sub/one", O_CREAT | O_WRONLY, 0600));
    close(open("sub/two", O_CREAT | O_WRONLY, 0600));
    printf("symlink %d\n", symlink("one", "sub/ln"));
    ssize_t l = readlink("sub/ln", buf, sizeof buf);
    printf("readlink %zd '%.*s'\n", l, (int)l, buf);
    list("sub");
    printf("rename %d\n", rename("sub/two", "sub/three"));
    printf("access %d %d\n", access("sub/three", R_OK), access("sub/two", F_OK));
    list("sub");
    rc = rmdir("sub");
    printf("rmdir nonempty %d %s\n", rc, strerror(errno));
    unlink("sub/one");
    unlink("sub/three");
    unlink("sub/ln");
    printf("rmdir %d\n", rmdir("sub"));
    unlink("f.txt");
    unlink("g.bin");
    list(".");

    int p[2];
    printf("pipe %d\n", pipe(p));
    rc = isatty(p[0]);
    printf("isatty pipe %d errno %s\n", rc, strerror(errno));
    write(p[1], "hello", 5);
    struct pollfd pf = {p[0], POLLIN, 0};
    rc = poll(&pf, 1, 1000);
    printf("poll %d %d\n", rc, pf.revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {1, 0};
    rc = select(p[0] + 1, &rs, 0, 0, &tv);
    printf("select %d %d\n", rc, FD_ISSET(p[0], &rs));
    n = read(p[0], buf, sizeof buf);
    printf("read pipe %zd '%.5s'\n", n, buf);
    close(p[0]);
    close(p[1]);

    struct utsname u;
    uname(&u);
    printf("sysname %s machine %s\n", u.sysname, u.machine);
    struct timespec t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct timespec sl = {0, 1000000};
    nanosleep(&sl, 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("monotonic %d\n", t2.tv_sec > t1.tv_sec || (t2.tv_sec == t1.tv_sec && t2.tv_nsec > t1.tv_nsec));
    unsigned char r[48];
    printf("getrandom %zd\n", getrandom(r, sizeof r, 0));
    printf("pid==tid %d\n", getpid() == gettid());
    printf("exe %d\n", (l = readlink("/proc/self/exe", buf, sizeof buf)) > 0 && (size_t)l == strlen(argv[0]) &&
                           memcmp(buf, argv[0], l) == 0);
    fprintf(stderr, "to stderr\n");
    return 7;
}
