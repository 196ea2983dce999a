/* A small guest for log fuzzing: reads stdin, the clock and random bytes, prints a little,
 * exits 3. */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    unsigned char buf[256];
    unsigned long long h = 1469598103934665603ULL;
    long n, total = 0;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ULL;
        total += n;
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    unsigned char r[8];
    getrandom(r, sizeof r, 0);
    printf("%ld %016llx %lld %02x%02x\n", total, h, (long long)t.tv_nsec, r[0], r[7]);
    return 3;
}
