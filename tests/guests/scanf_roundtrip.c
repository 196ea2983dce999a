/* sprintf/sscanf round trips: integers of every width and base, doubles via %.17g and %a
 * (must round-trip exactly), floats via %.9g, strings/char sets, %n, and field widths. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t st = 42;
static uint64_t rnd(void) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    return st;
}

int main(void) {
    char buf[256];
    int bad = 0;
    for (int i = 0; i < 3000; i++) {
        uint64_t r = rnd();
        int64_t s = (int64_t)r >> (i % 64);
        int32_t s32 = (int32_t)r;
        int16_t s16 = (int16_t)(r >> 16);
        uint8_t u8 = (uint8_t)(r >> 40);
        snprintf(buf, sizeof buf, "%" PRId64 " %" PRIx64 " %" PRIo64 " %d %hd %hhu %" PRIu64, s, r, r, s32, s16, u8, r);
        int64_t s2;
        uint64_t rx, ro, ru;
        int32_t s32b;
        int16_t s16b;
        uint8_t u8b;
        int n = sscanf(buf, "%" SCNd64 " %" SCNx64 " %" SCNo64 " %d %hd %hhu %" SCNu64, &s2, &rx, &ro, &s32b, &s16b,
                       &u8b, &ru);
        if (n != 7 || s2 != s || rx != r || ro != r || s32b != s32 || s16b != s16 || u8b != u8 || ru != r) bad++;

        double d;
        uint64_t bitsd = rnd();
        memcpy(&d, &bitsd, 8);
        if (d != d) continue; /* skip NaNs: payload formatting is libc-specific */
        double d2 = 0, d3 = 0;
        snprintf(buf, sizeof buf, "%.17g", d);
        sscanf(buf, "%lf", &d2);
        snprintf(buf, sizeof buf, "%a", d);
        sscanf(buf, "%la", &d3);
        if (memcmp(&d, &d2, 8) || memcmp(&d, &d3, 8)) {
            bad++;
            if (bad < 5) printf("double mismatch %a %a %a\n", d, d2, d3);
        }
        float f = (float)((double)(int64_t)r / 1e9), f2 = 0;
        snprintf(buf, sizeof buf, "%.9g", (double)f);
        sscanf(buf, "%f", &f2);
        if (f != f2) bad++;
        if (i % 300 == 0) printf("%s | %.17g %.9g\n", buf, d, (double)f);
    }
    printf("round trip mismatches: %d\n", bad);

    /* formatted parsing */
    const char *lines[] = {"name=alpha id=12 ratio=0.75", "name=beta id=-3 ratio=1e3",
                           "name=gamma_delta id=0x1f ratio=-inf", "garbage", "name= id=5"};
    for (int i = 0; i < 5; i++) {
        char name[32] = "";
        int id = -999, consumed = -1;
        double ratio = 0;
        int n = sscanf(lines[i], "name=%31[a-z_] id=%i ratio=%lf%n", name, &id, &ratio, &consumed);
        printf("'%s' -> n=%d name=%s id=%d ratio=%g consumed=%d\n", lines[i], n, name, id, ratio, consumed);
    }
    char a[8] = "", b[8] = "";
    int x = 0, y = 0;
    int n = sscanf("abcdefghij 12345", "%3s%4s %2d%d", a, b, &x, &y);
    printf("widths: n=%d a=%s b=%s x=%d y=%d\n", n, a, b, x, y);
    char c1, c2;
    n = sscanf("  Q  R", " %c %c", &c1, &c2);
    printf("chars: n=%d %c%c\n", n, c1, c2);
    n = sscanf("10:20:30", "%d:%*d:%d", &x, &y);
    printf("suppress: n=%d %d %d\n", n, x, y);
    unsigned long long big;
    n = sscanf("18446744073709551615", "%llu", &big);
    printf("max u64: n=%d %llu\n", n, big);
    n = sscanf("", "%d", &x);
    printf("empty: n=%d\n", n);
    int len = sprintf(buf, "%08.3f|%-8d|%+08d|%x|%X|%#.3o|%.0e|%5.1s|", -3.14159, 42, 42, 255u, 255u, 8u, 12345.678,
                      "xyz");
    printf("%s len %d\n", buf, len);
    return 0;
}
