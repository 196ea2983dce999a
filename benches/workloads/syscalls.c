/* Syscall-heavy workload: many small write()s to /dev/null and clock_gettime()s, through libc
 * as a real program makes them. Natively, glibc answers clock_gettime from the vDSO without
 * entering the kernel; deja provides no vDSO, so under deja each one is a syscall (recorded). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* argv[1]: iterations (default 200000; `deja bench --quick` passes 1000). */
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    char buf[64] = "deja syscall workload: 64 bytes to /dev/null per iteration....\n";
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0) return 1;
    long bytes = 0, monotonic = 0;
    struct timespec prev = {0, 0};
    for (long i = 0; i < n; i++) {
        bytes += write(fd, buf, sizeof buf);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        monotonic += ts.tv_sec > prev.tv_sec || (ts.tv_sec == prev.tv_sec && ts.tv_nsec >= prev.tv_nsec);
        prev = ts;
    }
    close(fd);
    printf("%ld bytes, %ld/%ld monotonic clock reads\n", bytes, monotonic, n);
    return 0;
}
