/* A busy guest taking asynchronous signals sent from outside (the test sends them to deja).
 *
 *   spin_sig handler N   install a SIGUSR1 handler, print "ready", then N times: spin until
 *                        the handler has run once more, and print what it observed (the loop
 *                        counter it interrupted); exit 0.
 *   spin_sig forever     no handler: print "ready" and spin until killed.
 *   spin_sig read        SIGUSR1 handler with SA_RESTART, SIGUSR2 ignored, SIGWINCH left at
 *                        its default (ignore); print "ready", then read stdin to its end in
 *                        a blocking read() loop, printing each result: signals that arrive
 *                        meanwhile must not make read() fail with EINTR. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

static volatile unsigned long counter;
static volatile unsigned long seen[64];
static volatile unsigned long long tsc[64];
static volatile int handled;

static void on_usr1(int s) {
    (void)s;
    if (handled < 64) {
        seen[handled] = counter;
        tsc[handled] = __rdtsc();
    }
    handled++;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "forever";
    if (strcmp(mode, "forever") == 0) {
        printf("ready\n");
        fflush(stdout);
        for (;;) counter++;
    }
    if (strcmp(mode, "read") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR1, &sa, NULL);
        signal(SIGUSR2, SIG_IGN);
        printf("ready\n");
        fflush(stdout);
        char buf[256];
        for (;;) {
            long n = read(0, buf, sizeof buf);
            if (n < 0) {
                printf("read failed: %s\n", strerror(errno));
                return 1;
            }
            if (n == 0) break;
            printf("read %ld bytes: %.*s\n", n, (int)n, buf);
            fflush(stdout);
        }
        printf("end of input, SIGUSR1 handler ran %d time(s)\n", handled);
        return 0;
    }
    int n = argc > 2 ? atoi(argv[2]) : 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    for (int k = 0; k < n && k < 64; k++) {
        while (handled <= k) counter++;
        printf("signal %d: handler saw counter %lu (tsc %llu), main loop at %lu\n", k, seen[k], tsc[k], counter);
        fflush(stdout);
    }
    printf("done: %d signals\n", handled);
    return 0;
}
