/* Memory/string workload: copies, compares and searches through glibc's string functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char a[65536], b[65536];

/* argv[1]: rounds (default 200; `deja bench --quick` passes 5). */
int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    unsigned long sum = 0;
    for (int i = 0; i < (int)sizeof a; i++) a[i] = 'a' + (i * 7 + i / 13) % 26;
    a[sizeof a - 1] = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(b, a, sizeof a);
        b[(r * 997) % (sizeof b - 1)] = 'Z';
        sum += strlen(b) + (memcmp(a, b, sizeof a) != 0);
        char *p = strchr(b, 'Z');
        sum += p ? (unsigned long)(p - b) : 0;
        memmove(b + 1, b, 30000);
        sum += (unsigned long)(strstr(a + r, "zz") ? 1 : 0);
    }
    printf("%lu\n", sum);
    return 0;
}
