/* Integer arithmetic: widths, signedness, division by negatives, 128-bit mul/div,
 * overflow builtins, shifts. Deterministic output only. */
#include <stdint.h>
#include <stdio.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static void print_u128(const char *label, unsigned __int128 v) {
    char buf[64];
    int i = 63;
    buf[i] = 0;
    if (v == 0) buf[--i] = '0';
    while (v) {
        buf[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    }
    printf("%s=%s\n", label, &buf[i]);
}

static void print_i128(const char *label, __int128 v) {
    if (v < 0) {
        char l[64];
        snprintf(l, sizeof l, "%s(neg)", label);
        print_u128(l, (unsigned __int128)0 - (unsigned __int128)v);
    } else {
        print_u128(label, (unsigned __int128)v);
    }
}

/* Prevent constant folding so the CPU really does the work. */
static volatile int64_t vs[] = {0, 1, -1, 7, -7, 3, -3, INT64_MAX, INT64_MIN, 1000000007, -999999937, 255, -256};
static volatile int32_t v32[] = {0, 1, -1, 7, -7, 3, -3, INT32_MAX, INT32_MIN, 65537, -65536, 100, -100};

int main(void) {
    int n = (int)(sizeof vs / sizeof vs[0]);
    printf("== 64-bit signed div/mod\n");
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            int64_t a = vs[i], b = vs[j];
            if (b == 0 || (a == INT64_MIN && b == -1)) continue;
            printf("%" PRId64 " / %" PRId64 " = %" PRId64 " r %" PRId64 "\n", a, b, a / b, a % b);
        }
    }
    printf("== 32-bit signed div/mod\n");
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            int32_t a = v32[i], b = v32[j];
            if (b == 0 || (a == INT32_MIN && b == -1)) continue;
            printf("%d / %d = %d r %d ; u %u / %u = %u\n", a, b, a / b, a % b, (uint32_t)a, (uint32_t)b,
                   (uint32_t)a / (uint32_t)b);
        }
    }
    printf("== 8/16-bit\n");
    for (int i = 0; i < n; i++) {
        int8_t a8 = (int8_t)vs[i];
        int16_t a16 = (int16_t)(vs[i] * 3);
        uint8_t u8 = (uint8_t)vs[i];
        uint16_t u16 = (uint16_t)(vs[i] * 5);
        printf("%d %d %u %u | %d %d\n", a8, a16, u8, u16, (int8_t)(a8 * 3), (int16_t)(a16 * a16));
    }

    printf("== 128-bit\n");
    unsigned __int128 acc = 1;
    for (int i = 0; i < 40; i++) {
        uint64_t a = rng(), b = rng();
        unsigned __int128 p = (unsigned __int128)a * b;
        __int128 sp = (__int128)(int64_t)a * (int64_t)b;
        uint64_t d = (b >> (i % 60)) | 1;
        unsigned __int128 q = p / d;
        unsigned __int128 r = p % d;
        printf("%016" PRIx64 " * %016" PRIx64 " = %016" PRIx64 "%016" PRIx64 " s=%016" PRIx64 "%016" PRIx64
               " q=%016" PRIx64 "%016" PRIx64 " r=%" PRIu64 "\n",
               a, b, (uint64_t)(p >> 64), (uint64_t)p, (uint64_t)((unsigned __int128)sp >> 64), (uint64_t)sp,
               (uint64_t)(q >> 64), (uint64_t)q, (uint64_t)r);
        if (q * d + r != p) printf("128-bit divide identity FAILED\n");
        acc = acc * (p | 1) + r;
    }
    print_u128("acc", acc);
    print_u128("2^127", (unsigned __int128)1 << 127);
    __int128 big = -(((__int128)1 << 100) + 12345);
    print_i128("big", big);
    print_i128("big/-7", big / -7);
    print_i128("big%-7", big % -7);
    print_i128("big/1000003", big / 1000003);
    print_i128("big>>33", big >> 33);
    print_u128("u>>33", (unsigned __int128)big >> 33);

    printf("== overflow builtins\n");
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            int64_t a = vs[i], b = vs[j], r1, r2, r3;
            int o1 = __builtin_add_overflow(a, b, &r1);
            int o2 = __builtin_sub_overflow(a, b, &r2);
            int o3 = __builtin_mul_overflow(a, b, &r3);
            int32_t r4;
            int o4 = __builtin_mul_overflow((int32_t)a, (int32_t)b, &r4);
            uint64_t r5;
            int o5 = __builtin_add_overflow((uint64_t)a, (uint64_t)b, &r5);
            printf("%d%d%d%d%d %" PRId64 " %" PRId64 " %" PRId64 " %d %" PRIu64 "\n", o1, o2, o3, o4, o5, r1, r2, r3, r4,
                   r5);
        }
    }

    printf("== shifts and rotates\n");
    for (int s = 0; s < 64; s += 7) {
        volatile uint64_t x = 0x8123456789ABCDEFull;
        volatile int64_t y = (int64_t)0x8123456789ABCDEFull;
        uint64_t rot = (x << s) | (x >> ((64 - s) & 63));
        printf("%2d %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 "\n", s, x << s, x >> s, (uint64_t)(y >> s),
               rot);
    }

    printf("== mixed arithmetic checksum\n");
    uint64_t h = 0;
    int64_t sacc = 1;
    for (int i = 1; i < 200000; i++) {
        uint64_t x = rng();
        int64_t sx = (int64_t)x;
        int64_t div = (int64_t)(i % 97) - 48;
        if (div == 0) div = 1;
        sacc = (int64_t)((uint64_t)sacc + (uint64_t)(sx / div + sx % div));
        h = (h ^ x) * 0x100000001B3ull;
        h += (uint32_t)x / (uint32_t)(i | 1);
        h ^= (uint64_t)((int32_t)x >> (i & 31));
    }
    printf("h=%016" PRIx64 " sacc=%" PRId64 "\n", h, sacc);
    printf("abs/min: %lld %lld %ld\n", llabs(-5LL), (long long)(LLONG_MIN + 1) / -1, labs(-123456789L));
    return 0;
}
