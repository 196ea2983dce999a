// glibc's string/memory routines (which use LDP/STP of Q registers, LD1/ST1, post-index
// addressing, unaligned accesses) and C11 atomics (built twice: LL/SC exclusives with
// -march=armv8-a, LSE atomics with -march=armv8.1-a), hashed and printed. Run under deja
// and qemu-aarch64 by tests/a64_loadstore.rs.
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char obuf[1 << 14];
static unsigned char a[4096], b[4096];
static uint64_t h = 1469598103934665603ull;

static void mix(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ull;
}

static void mixv(uint64_t v) { mix(&v, sizeof v); }

int main(void) {
    // No fstat on stdout: a fixed buffer.
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    for (int i = 0; i < 4096; i++) a[i] = (unsigned char)(i * 131 + (i >> 7));
    for (int n = 0; n < 300; n += 1 + n / 8) {
        for (int sa = 0; sa < 17; sa += 3) {
            for (int da = 0; da < 17; da += 5) {
                memset(b, 0x5a, 700);
                memcpy(b + da, a + sa, n);
                mix(b, 700);
                memmove(b + da + 3, b + da, n);
                mix(b, 700);
                memmove(b + da, b + da + 7, n);
                mix(b, 700);
                memset(b + sa, n, n);
                mix(b, 700);
                mixv(memcmp(a + sa, b + da, n) > 0);
            }
        }
    }
    char s[600];
    for (int n = 0; n < 520; n += 1 + n / 16) {
        for (int al = 0; al < 16; al += 5) {
            memset(s, 0, sizeof s);
            for (int i = 0; i < n; i++) s[al + i] = (char)('a' + (i * 7) % 26);
            mixv(strlen(s + al));
            char *p = strchr(s + al, 'q');
            mixv(p ? (uint64_t)(p - s) : 999);
            p = strrchr(s + al, 'e');
            mixv(p ? (uint64_t)(p - s) : 999);
            char t[600];
            strcpy(t, s + al);
            mixv(strcmp(t, s + al));
            mixv(strncmp(t, "abc", 3) + 10);
            mixv((uint64_t)(memchr(s + al, 'z', n + 1) != 0));
        }
    }
    printf("memory %016llx\n", (unsigned long long)h);

    _Atomic uint64_t x = 5;
    _Atomic uint32_t w = 7;
    _Atomic uint16_t hh = 9;
    _Atomic uint8_t by = 250;
    uint64_t acc = 0;
    for (int i = 0; i < 1000; i++) {
        acc += atomic_fetch_add(&x, (uint64_t)i * 0x9e3779b97f4a7c15ull);
        acc ^= atomic_fetch_or(&w, (uint32_t)i << (i % 32));
        acc += atomic_fetch_and(&w, ~((uint32_t)i << 3));
        acc ^= atomic_fetch_xor(&hh, (uint16_t)(i * 77));
        acc += atomic_fetch_sub(&by, 3);
        acc ^= atomic_exchange(&x, acc);
        uint64_t e = acc;
        acc += atomic_compare_exchange_strong(&x, &e, e + 1);
        uint32_t ew = 12345;
        acc += atomic_compare_exchange_weak(&w, &ew, (uint32_t)i) * 3;
        acc += __sync_fetch_and_add(&hh, 1);
        acc += __sync_val_compare_and_swap(&by, (uint8_t)i, (uint8_t)(i + 1));
    }
    printf("atomics %016llx %llx %x %x %x\n", (unsigned long long)acc, (unsigned long long)x, (unsigned)w,
           (unsigned)hh, (unsigned)by);
    return 0;
}
