/* Exit statuses chosen by argv[1]: return from main, exit(), _exit(), atexit handlers,
 * values above 255 (truncated to 8 bits), and output buffered at exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void bye1(void) { printf("atexit 1\n"); }
static void bye2(void) { printf("atexit 2\n"); }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "none";
    atexit(bye1);
    atexit(bye2);
    printf("mode %s\n", mode); /* stays buffered when stdout is a pipe */
    if (!strcmp(mode, "ret0")) return 0;
    if (!strcmp(mode, "ret7")) return 7;
    if (!strcmp(mode, "exit42")) exit(42);
    if (!strcmp(mode, "exit255")) exit(255);
    if (!strcmp(mode, "exit256")) exit(256);
    if (!strcmp(mode, "exit300")) exit(300);
    if (!strcmp(mode, "exitneg")) exit(-1);
    if (!strcmp(mode, "_exit3")) {
        fflush(stdout);
        printf("lost: _exit does not flush stdio\n");
        _exit(3);
    }
    if (!strcmp(mode, "failure")) exit(EXIT_FAILURE);
    fprintf(stderr, "unknown mode\n");
    return 99;
}
