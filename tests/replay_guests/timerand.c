/* Everything a program can learn from outside its own execution, printed: clocks, the time
 * stamp counter, random bytes (getrandom and AT_RANDOM), stdin and a file (checksums), and
 * where an asynchronous SIGALRM interrupted a busy loop.
 *
 *   timerand FILE MODE      MODE: itimer (setitimer ITIMER_REAL 2 ms), posix (timer_create +
 *                           timer_settime 2 ms), alarm0 (alarm(1) then alarm(0): no signal),
 *                           pause (a periodic 3 ms ITIMER_REAL, waited for with pause()
 *                           three times), nohandler (SIGALRM from setitimer without a
 *                           handler: the process dies of it), none
 *
 * Under `deja record` every line differs from run to run; `deja replay` must reproduce the
 * recorded run's output byte for byte. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static volatile unsigned long counter;
static volatile unsigned long caught_at;
static volatile int caught;

static void on_alarm(int s) {
    (void)s;
    caught_at = counter;
    caught++;
}

static unsigned long long fnv(const unsigned char *p, size_t n, unsigned long long h) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void hex(const char *what, const unsigned char *p, size_t n) {
    printf("%s:", what);
    for (size_t i = 0; i < n; i++) printf(" %02x", p[i]);
    printf("\n");
}

static void checksum_fd(const char *what, FILE *f) {
    unsigned char buf[4096];
    unsigned long long h = 0xcbf29ce484222325ULL, len = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        h = fnv(buf, n, h);
        len += n;
    }
    printf("%s: %llu bytes, fnv %016llx\n", what, len, h);
}

int main(int argc, char **argv) {
    const char *file = argc > 1 ? argv[1] : "/nonexistent";
    const char *mode = argc > 2 ? argv[2] : "itimer";
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    printf("realtime: %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
    printf("monotonic: %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday: %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
    printf("time: %lld\n", (long long)time(NULL));
    printf("rdtsc: %llu\n", (unsigned long long)__rdtsc());
    unsigned char rnd[16];
    long got = getrandom(rnd, sizeof rnd, 0);
    printf("getrandom returned %ld\n", got);
    hex("getrandom", rnd, sizeof rnd);
    const unsigned char *ar = (const unsigned char *)getauxval(AT_RANDOM);
    if (ar) hex("at_random", ar, 16);
    checksum_fd("stdin", stdin);
    FILE *f = fopen(file, "rb");
    if (f) {
        checksum_fd("file", f);
        fclose(f);
    } else {
        printf("file: cannot open\n");
    }
    fflush(stdout);

    if (strcmp(mode, "none") == 0) return 0;
    if (strcmp(mode, "nohandler") == 0) {
        struct itimerval it = {{0, 0}, {0, 2000}};
        setitimer(ITIMER_REAL, &it, NULL);
        while (counter < (1UL << 28)) counter++;
        printf("still alive?\n");
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    if (strcmp(mode, "itimer") == 0) {
        struct itimerval it = {{0, 0}, {0, 2000}}, old;
        if (setitimer(ITIMER_REAL, &it, &old) != 0) perror("setitimer");
        printf("old itimer: %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);
    } else if (strcmp(mode, "posix") == 0) {
        timer_t t;
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = SIGALRM;
        if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0) perror("timer_create");
        struct itimerspec its = {{0, 0}, {0, 2000000}};
        if (timer_settime(t, 0, &its, NULL) != 0) perror("timer_settime");
    } else if (strcmp(mode, "pause") == 0) {
        struct itimerval it = {{0, 3000}, {0, 3000}};
        setitimer(ITIMER_REAL, &it, NULL);
        for (int i = 1; i <= 3; i++) {
            int r = pause();
            printf("pause %d returned %d, handler ran %d time(s)\n", i, r, caught >= i ? i : caught);
        }
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        return 0;
    } else if (strcmp(mode, "alarm0") == 0) {
        alarm(100);
        printf("alarm left: %u\n", alarm(0));
        return 0;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    while (!caught && counter < (1UL << 40)) counter++;
    printf("SIGALRM caught %d time(s), loop counter %lu at the signal, %lu at the end\n", caught, caught_at,
           counter);
    struct itimerval now;
    getitimer(ITIMER_REAL, &now);
    printf("itimer after: %ld.%06ld\n", (long)now.it_value.tv_sec, (long)now.it_value.tv_usec);
    return 0;
}
