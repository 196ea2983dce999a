/* Bit manipulation: __builtin_popcount/clz/ctz/ffs/parity/bswap at every width, rotates,
 * bit reversal, compiled for baseline x86-64 (bsr/bsf/bswap and libgcc popcount, no
 * POPCNT/LZCNT/TZCNT). Results over a fixed pseudo-random sequence plus edge values. */
#include <stdint.h>
#include <stdio.h>
#include <inttypes.h>

static uint64_t st = 0x0123456789abcdefull;
static uint64_t rnd(void) {
    st += 0x9e3779b97f4a7c15ull;
    uint64_t z = st;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rev32(uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}

static void show(uint64_t x) {
    uint32_t lo = (uint32_t)x;
    uint16_t w = (uint16_t)x;
    printf("%016" PRIx64 ": pc %d/%d clz %d/%d ctz %d/%d ffs %d/%d par %d/%d bsw %016" PRIx64 "/%08x/%04x rev %08x "
           "clrsb %d\n",
           x, __builtin_popcountll(x), __builtin_popcount(lo), x ? __builtin_clzll(x) : -1,
           lo ? __builtin_clz(lo) : -1, x ? __builtin_ctzll(x) : -1, lo ? __builtin_ctz(lo) : -1, __builtin_ffsll((long long)x),
           __builtin_ffs((int)lo), __builtin_parityll(x), __builtin_parity(lo), __builtin_bswap64(x),
           __builtin_bswap32(lo), __builtin_bswap16(w), rev32(lo), __builtin_clrsbll((long long)x));
}

static volatile uint64_t edges[] = {0, 1, 2, 3, 0x80, 0xff, 0x8000, 0xffff, 0x80000000u, 0xffffffffu,
                                    0x100000000ull, 0x8000000000000000ull, 0xffffffffffffffffull,
                                    0x7fffffffffffffffull, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull};

int main(void) {
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++) show(edges[i]);
    for (int i = 0; i < 40; i++) {
        uint64_t x = rnd() >> (i % 64);
        show(x);
    }
    uint64_t acc = 0;
    for (int i = 0; i < 300000; i++) {
        uint64_t x = rnd();
        acc += (uint64_t)__builtin_popcountll(x) * 3 + (uint64_t)__builtin_clzll(x | 1) + (uint64_t)__builtin_ctzll(x | (1ull << 63));
        acc ^= __builtin_bswap64(acc) >> (x & 7);
        acc = (acc << 13) | (acc >> 51);
        uint32_t y = (uint32_t)(x >> 17);
        acc += (y >> (x & 31)) | (y << ((32 - (x & 31)) & 31));
        acc += (uint64_t)(int64_t)(int32_t)y >> 5; /* sign extension */
        acc -= (uint64_t)((x & 0xff) == 0x80) << 40;
    }
    printf("acc %016" PRIx64 "\n", acc);
    /* bit fields and masks */
    struct {
        unsigned a : 3;
        signed b : 5;
        unsigned c : 12;
        unsigned long long d : 40;
    } bf = {0, 0, 0, 0};
    uint64_t h = 0;
    for (int i = 0; i < 1000; i++) {
        bf.a += (unsigned)i;
        bf.b -= i;
        bf.c ^= (unsigned)(i * 37);
        bf.d += (unsigned long long)i * 0x123456789ull;
        h = h * 31 + bf.a + (uint64_t)(int64_t)bf.b + bf.c + bf.d;
    }
    printf("bitfields %u %d %u %llu h %016" PRIx64 "\n", bf.a, bf.b, bf.c, (unsigned long long)bf.d, h);
    return 0;
}
