/* A busy guest taking asynchronous signals sent from outside (the test sends them to deja).
 *
 *   spin_sig handler N   install a SIGUSR1 handler, print "ready", then N times: spin until
 *                        the handler has run once more, and print what it observed (the loop
 *                        counter it interrupted); exit 0.
 *   spin_sig forever     no handler: print "ready" and spin until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
