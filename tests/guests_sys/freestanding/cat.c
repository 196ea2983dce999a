/* stdin -> stdout (upper-cased), a line to stderr: fds 0-2 are the real stdio. */
#include "mini.h"

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    static char b[1000];
    long total = 0;
    for (;;) {
        long n = S3(NR_read, 0, b, sizeof b);
        if (n <= 0) break;
        for (long i = 0; i < n; i++)
            if (b[i] >= 'a' && b[i] <= 'z') b[i] = b[i] - 'a' + 'A';
        S3(NR_write, 1, b, n);
        total += n;
    }
    S3(NR_write, 2, "done\n", 5);
    kv("total", total);
    return 0;
}
