/* CPU-bound integer workload: xorshift + FNV-style hashing and a small sort. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* argv[1]: rounds (default 10; `deja bench --quick` passes 1). */
int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    uint64_t s = 88172645463325252ull, h = 1469598103934665603ull;
    static uint32_t v[20000];
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < 20000; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            v[i] = (uint32_t)s;
            h = (h ^ (s & 0xff)) * 1099511628211ull;
        }
        qsort(v, 20000, sizeof v[0], cmp);
        h ^= v[round * 17];
    }
    printf("%llu\n", (unsigned long long)h);
    return 0;
}
