/* Everything an AArch64 program can learn from outside its own execution, printed: clocks,
 * the virtual counter (mrs cntvct_el0, a recorded input), random bytes (getrandom and
 * AT_RANDOM), stdin (a checksum), and where an asynchronous SIGALRM from a timer
 * interrupted a busy loop.
 *
 *   rr_inputs MODE      MODE: alarm (setitimer ITIMER_REAL 2 ms, then a busy loop until the
 *                       handler has run), none
 *
 * Under `deja record` the lines differ from run to run; `deja replay` must reproduce the
 * recorded run's output byte for byte. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long counter;
static volatile unsigned long caught_at;
static volatile int caught;

static void on_alarm(int s) {
    (void)s;
    caught_at = counter;
    caught++;
}

static void hex(const char *what, const unsigned char *p, size_t n) {
    printf("%s:", what);
    for (size_t i = 0; i < n; i++) printf(" %02x", p[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "none";
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    printf("realtime: %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
    printf("monotonic: %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday: %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
    uint64_t c0, c1;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(c0));
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(c1));
    printf("cntvct: %llu +%llu\n", (unsigned long long)c0, (unsigned long long)(c1 - c0));
    unsigned char rnd[16];
    long got = getrandom(rnd, sizeof rnd, 0);
    printf("getrandom returned %ld\n", got);
    hex("getrandom", rnd, sizeof rnd);
    const unsigned char *ar = (const unsigned char *)getauxval(AT_RANDOM);
    if (ar) hex("at_random", ar, 16);
    unsigned char buf[4096];
    unsigned long long h = 0xcbf29ce484222325ULL, len = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3ULL;
        len += n;
    }
    printf("stdin: %llu bytes, fnv %016llx\n", len, h);
    fflush(stdout);

    if (strcmp(mode, "alarm") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = {{0, 0}, {0, 2000}};
        if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
            perror("setitimer");
            return 1;
        }
        while (!caught && counter < (1UL << 40)) counter++;
        printf("SIGALRM caught %d time(s) at counter %lu\n", caught, caught_at);
    }
    return 0;
}
