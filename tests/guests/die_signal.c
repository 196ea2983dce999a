/* Death by signal, chosen by argv[1]: abort() (SIGABRT), a NULL write (SIGSEGV),
 * raise(SIGTERM), an integer divide by zero (SIGFPE), ud2 (SIGILL). Output is flushed
 * before dying so stdout is comparable. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "none";
    printf("about to die: %s\n", mode);
    fflush(stdout);
    if (!strcmp(mode, "abort")) abort();
    if (!strcmp(mode, "null")) {
        volatile int *volatile p = NULL;
        *p = 42;
    }
    if (!strcmp(mode, "term")) raise(SIGTERM);
    if (!strcmp(mode, "fpe")) {
        volatile int zero = 0, one = 1;
        volatile int x = one / zero;
        (void)x;
    }
    if (!strcmp(mode, "ill")) __builtin_trap();
    printf("still alive\n");
    return 0;
}
