/* Reverse-execution benchmark workload: xorshift writes scattered over a 4 MiB array (so
 * snapshots have real deltas to store) and a running hash; ~2.5M instructions per round at -O0. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
static uint32_t buf[1 << 20]; /* 4 MiB */
int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 100;
    uint64_t s = 88172645463325252ull, h = 0;
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < 1 << 16; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            buf[s & ((1 << 20) - 1)] += (uint32_t)s;
            h = h * 31 + buf[i * 16];
        }
    }
    printf("%llu\n", (unsigned long long)h);
    return 0;
}
