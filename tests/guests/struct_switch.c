/* Struct copies of many sizes (by value through calls, arrays of structs, unions), and
 * dense/sparse switch statements that compile to jump tables and binary searches. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct s3 { char c[3]; };
struct s12 { int a, b, c; };
struct s24 { double x, y; long z; };
struct big { int v[37]; char tail[5]; };
struct mixed {
    char tag;
    short sh;
    int i;
    long l;
    float f;
    double d;
    struct s3 inner;
};
union u {
    uint64_t u64;
    double d;
    uint32_t u32[2];
    uint8_t b[8];
};

static struct big make_big(int seed) {
    struct big b;
    for (int i = 0; i < 37; i++) b.v[i] = seed * 31 + i;
    memcpy(b.tail, "tail", 5);
    return b;
}

__attribute__((noinline)) static struct s24 add24(struct s24 a, struct s24 b) {
    struct s24 r = {a.x + b.x, a.y * b.y, a.z - b.z};
    return r;
}

__attribute__((noinline)) static struct mixed bump(struct mixed m) {
    m.tag++;
    m.sh = (short)(m.sh * 3);
    m.i ^= 0x5a5a;
    m.l -= 7;
    m.f *= 1.5f;
    m.d /= 3.0;
    m.inner.c[1] = 'Z';
    return m;
}

/* Each case computes something different so the switch stays a jump table (a switch that
 * only returns constants becomes a table lookup instead). */
__attribute__((noinline)) static int dense(int x, int y) {
    switch (x) {
    case 0: return y + 11;
    case 1: return y * 22;
    case 2: return y ^ 35;
    case 3: return y - 47;
    case 4: return y << 3;
    case 5: return y >> 2;
    case 6: return y | 73;
    case 7: return y & 89;
    case 8: return -y;
    case 9: return ~y;
    case 10: return y * y;
    case 11: return y / 3;
    case 13: return y % 7;
    case 14: return y + x * y;
    case 15: return 153;
    default: return -1;
    }
}

__attribute__((noinline)) static const char *sparse(long x) {
    switch (x) {
    case -1000000: return "minus-million";
    case -7: return "minus-seven";
    case 0: return "zero";
    case 3: return "three";
    case 100: return "hundred";
    case 4096: return "page";
    case 65535: return "u16max";
    case 1L << 40: return "2^40";
    default: return "other";
    }
}

__attribute__((noinline)) static int fallthrough(int x) {
    int r = 0;
    switch (x & 7) {
    case 0: r += 1; /* fall through */
    case 1: r += 2; /* fall through */
    case 2: r += 4; break;
    case 3: r += 8; /* fall through */
    case 4: r += 16; break;
    default: r = -x;
    }
    return r;
}

int main(void) {
    struct s3 a3 = {{'x', 'y', 'z'}}, b3;
    b3 = a3;
    b3.c[0] = 'X';
    printf("s3 %.3s %.3s\n", a3.c, b3.c);
    struct s12 arr[10];
    for (int i = 0; i < 10; i++) arr[i] = (struct s12){i, i * i, -i};
    struct s12 copy[10];
    memcpy(copy, arr, sizeof arr);
    for (int i = 0; i < 5; i++) {
        struct s12 t = copy[i];
        copy[i] = copy[9 - i];
        copy[9 - i] = t;
    }
    for (int i = 0; i < 10; i++) printf("(%d,%d,%d)", copy[i].a, copy[i].b, copy[i].c);
    printf("\n");
    struct s24 p = {1.5, 2.0, 100}, q = {0.25, -3.0, 58};
    for (int i = 0; i < 5; i++) p = add24(p, q);
    printf("s24 %g %g %ld\n", p.x, p.y, p.z);
    struct big bg[4];
    for (int i = 0; i < 4; i++) bg[i] = make_big(i);
    struct big sum = bg[0];
    for (int i = 1; i < 4; i++)
        for (int k = 0; k < 37; k++) sum.v[k] += bg[i].v[k];
    printf("big %d %d %d %s sizeof %zu\n", sum.v[0], sum.v[18], sum.v[36], sum.tail, sizeof(struct big));
    struct mixed m = {'a', 1000, 0x1234, -5, 2.5f, 10.0, {{'p', 'q', 'r'}}};
    for (int i = 0; i < 4; i++) m = bump(m);
    printf("mixed %c %d %x %ld %g %.17g %.3s sizeof %zu\n", m.tag, m.sh, m.i, m.l, (double)m.f, m.d, m.inner.c,
           sizeof m);
    union u un;
    un.d = -1.0 / 3.0;
    printf("union %016llx %08x %08x %02x\n", (unsigned long long)un.u64, un.u32[0], un.u32[1], un.b[7]);

    long hist[20] = {0};
    uint32_t x = 7;
    long acc = 0;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        int r = dense((int)((x >> 16) % 18) - 1, (int)(x >> 20));
        hist[r < 0 ? 0 : r % 19 + 1]++;
        acc += r;
        acc += fallthrough((int)(x >> 8));
    }
    for (int i = 0; i < 20; i++) printf("%ld ", hist[i]);
    printf("\nfallthrough acc %ld\n", acc);
    long probes[] = {-1000000, -7, -6, 0, 3, 4, 100, 4096, 65535, 65536, 1L << 40, (1L << 40) + 1};
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) printf("%ld:%s ", probes[i], sparse(probes[i]));
    printf("\n");
    return 0;
}
