/* Prints a line, reads the clock, then dies of SIGSEGV (no handler). */
#include <stdio.h>
#include <time.h>

int main(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    printf("about to crash at %lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
    fflush(stdout);
    *(volatile int *)16 = 1;
    return 0;
}
