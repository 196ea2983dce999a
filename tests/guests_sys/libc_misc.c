/* More C-library paths over the syscall layer: stdio on files, mkstemp, tmpfile, realpath,
 * ftw-like walks, time formatting, limits, error reporting. argv[1] = scratch directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int count_entries(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (chdir(argv[1]) != 0) return 3;

    /* A bigger file through stdio buffering, read back with fread and fseek. */
    FILE *f = fopen("big.txt", "w");
    for (int i = 0; i < 5000; i++) fprintf(f, "%05d\n", i);
    fclose(f);
    struct stat st;
    stat("big.txt", &st);
    printf("big size %lld\n", (long long)st.st_size);
    f = fopen("big.txt", "r");
    fseek(f, 6 * 4321, SEEK_SET);
    char line[32];
    printf("line %s", fgets(line, sizeof line, f));
    long sum = 0;
    rewind(f);
    int v;
    while (fscanf(f, "%d", &v) == 1) sum += v;
    printf("sum %ld\n", sum);
    fclose(f);

    char tmpl[] = "tmpXXXXXX";
    int fd = mkstemp(tmpl);
    printf("mkstemp %d len %zu\n", fd >= 0, strlen(tmpl));
    write(fd, "data", 4);
    fsync(fd);
    close(fd);
    printf("unlink tmp %d\n", unlink(tmpl));
    FILE *t = tmpfile();
    printf("tmpfile %d\n", t != NULL);
    if (t) {
        fputs("tmp", t);
        rewind(t);
        printf("tmp read %c\n", fgetc(t));
        fclose(t);
    }

    mkdir("a", 0700);
    mkdir("a/b", 0700);
    symlink("a/b", "lnk");
    char rp[PATH_MAX];
    if (realpath("lnk/../b/.", rp)) {
        size_t dl = strlen(argv[1]);
        printf("realpath rel '%s'\n", strncmp(rp, argv[1], dl) == 0 ? rp + dl : rp);
    } else {
        printf("realpath failed %s\n", strerror(errno));
    }
    printf("entries %d %d\n", count_entries("."), count_entries("a"));
    rmdir("a/b");
    rmdir("a");
    unlink("lnk");
    unlink("big.txt");

    errno = 0;
    FILE *nf = fopen("/nonexistent/file", "r");
    printf("fopen missing %d %s\n", nf == NULL, strerror(errno));
    perror("perror says");

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("nofile cur>0 %d\n", rl.rlim_cur > 0);
    time_t zero = 0;
    struct tm tm;
    gmtime_r(&zero, &tm);
    char tb[64];
    strftime(tb, sizeof tb, "%Y-%m-%d %H:%M:%S", &tm);
    printf("epoch %s\n", tb);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t now = time(NULL);
    printf("time close %d\n", now - tv.tv_sec < 3 && tv.tv_sec - now < 3);
    printf("clock %d\n", clock() >= 0);
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("res %d\n", res.tv_sec == 0 && res.tv_nsec > 0);
    usleep(1000);
    printf("pagesize %ld\n", sysconf(_SC_PAGESIZE));
    printf("isatty stdin-null %d\n", isatty(-1));
    char host[256];
    struct utsname u;
    uname(&u);
    printf("hostname same %d\n", gethostname(host, sizeof host) == 0 && strcmp(host, u.nodename) == 0);
    fflush(stdout);
    return 0;
}
