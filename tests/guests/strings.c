/* String and memory functions: lengths and alignments chosen to hit every tail case of
 * vectorised libc implementations; overlapping memmove; snprintf truncation; qsort of strings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static uint32_t seed = 12345;
static uint32_t rnd(void) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) & 0xffffff;
}

static int sign(int x) { return (x > 0) - (x < 0); }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char buf[4096 + 128];
static char buf2[4096 + 128];

int main(void) {
    unsigned long h = 0;
    printf("== strlen at all alignments\n");
    for (int align = 0; align < 64; align++) {
        for (int len = 0; len < 300; len += (len < 70 ? 1 : 37)) {
            memset(buf, 'a', sizeof buf);
            buf[align + len] = 0;
            size_t l = strlen(buf + align);
            if (l != (size_t)len) printf("strlen mismatch align %d len %d got %zu\n", align, len, l);
            h = h * 31 + l;
            /* strnlen / memchr / strchr / strrchr */
            buf[align + len / 2] = 'x';
            char *c = strchr(buf + align, 'x');
            char *r = strrchr(buf + align, 'a');
            void *m = memchr(buf + align, 'x', (size_t)len + 1);
            h = h * 31 + (c ? (unsigned long)(c - buf) : 7777);
            h = h * 31 + (r ? (unsigned long)(r - buf) : 7777);
            h = h * 31 + (m ? (unsigned long)((char *)m - buf) : 7777);
            h = h * 31 + strnlen(buf + align, (size_t)len / 3);
            h = h * 31 + (unsigned long)(strchr(buf + align, 0) - buf);
        }
    }
    printf("hash %lx\n", h);

    printf("== strcmp/memcmp/strncmp at alignments\n");
    h = 0;
    for (int a1 = 0; a1 < 33; a1 += 3) {
        for (int a2 = 0; a2 < 33; a2 += 5) {
            for (int len = 0; len < 200; len += 13) {
                for (int i = 0; i < len; i++) buf[a1 + i] = buf2[a2 + i] = (char)('A' + (i * 7) % 26);
                buf[a1 + len] = buf2[a2 + len] = 0;
                int diffpos = len ? (int)(rnd() % (unsigned)len) : 0;
                int r0 = sign(strcmp(buf + a1, buf2 + a2));
                if (len) buf2[a2 + diffpos] = (char)(buf2[a2 + diffpos] + ((rnd() & 1) ? 1 : -1));
                if (len && (rnd() & 3) == 0) buf2[a2 + diffpos] = (char)0xe9; /* high bit: signedness */
                int r1 = sign(strcmp(buf + a1, buf2 + a2));
                int r2 = sign(memcmp(buf + a1, buf2 + a2, (size_t)len));
                int r3 = sign(strncmp(buf + a1, buf2 + a2, (size_t)diffpos));
                int r4 = sign(strcasecmp(buf + a1, buf2 + a2));
                h = h * 131 + (unsigned long)(r0 + 1) * 81 + (unsigned long)(r1 + 1) * 27 +
                    (unsigned long)(r2 + 1) * 9 + (unsigned long)(r3 + 1) * 3 + (unsigned long)(r4 + 1);
            }
        }
    }
    printf("hash %lx\n", h);

    printf("== strstr\n");
    const char *hay = "the quick brown fox jumps over the lazy dog; aaaaaaaaaaaaaaaab abababababc";
    const char *needles[] = {"fox", "the", "dog;", "", "aaaab", "ababc", "abababababababc", "zzz", "lazy dog; a", "b"};
    for (unsigned i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        const char *p = strstr(hay, needles[i]);
        printf("strstr('%s') = %ld\n", needles[i], p ? (long)(p - hay) : -1L);
    }
    printf("strspn %zu strcspn %zu strpbrk %s\n", strspn(hay, "the qu"), strcspn(hay, "xyz"), strpbrk(hay, "zj"));

    printf("== memmove overlap\n");
    for (int n = 0; n < 300; n += 7) {
        for (int d = -40; d <= 40; d += 9) {
            for (int i = 0; i < 1024; i++) buf[i] = (char)i;
            memmove(buf + 400 + d, buf + 400, (size_t)n);
            unsigned long s = 0;
            for (int i = 0; i < 1024; i++) s = s * 33 + (unsigned char)buf[i];
            h ^= s + (unsigned long)n * 1000 + (unsigned long)(d + 50);
        }
    }
    printf("memmove hash %lx\n", h);
    for (int i = 0; i < 64; i++) buf[i] = (char)('a' + i % 26);
    memmove(buf + 1, buf, 20);
    memmove(buf + 30, buf + 32, 20);
    buf[60] = 0;
    printf("%s\n", buf);

    printf("== memcpy/memset sizes\n");
    h = 0;
    for (int n = 0; n < 2100; n += (n < 130 ? 1 : 61)) {
        for (int i = 0; i < n + 64; i++) buf2[i] = (char)(i * 3);
        memset(buf, 0x55, (size_t)n + 64);
        memcpy(buf + (n & 15), buf2 + (n & 7), (size_t)n);
        memset(buf2 + (n & 31), n & 0xff, (size_t)n / 2);
        for (int i = 0; i < n + 64; i++) h = h * 7 + (unsigned char)buf[i] + (unsigned char)buf2[i];
    }
    printf("hash %lx\n", h);

    printf("== strncpy/strcat/strdup/strtok\n");
    char small[16];
    memset(small, 'Z', sizeof small);
    strncpy(small, "hello", sizeof small);
    for (unsigned i = 0; i < sizeof small; i++) printf("%02x", (unsigned char)small[i]);
    printf("\n");
    memset(small, 'Z', sizeof small);
    strncpy(small, "abcdefghijklmnopqrstuvwxyz", 8);
    for (unsigned i = 0; i < sizeof small; i++) printf("%02x", (unsigned char)small[i]);
    printf("\n");
    char cat[64] = "foo";
    strcat(cat, "bar");
    strncat(cat, "bazquux", 3);
    char *dup = strdup(cat);
    printf("%s %s %zu\n", cat, dup, strlen(dup));
    free(dup);
    char toks[] = "a,b,,c;d e,,;f";
    for (char *t = strtok(toks, ",; "); t; t = strtok(NULL, ",; ")) printf("[%s]", t);
    printf("\n");

    printf("== snprintf\n");
    char sb[12];
    int r = snprintf(sb, sizeof sb, "%s-%d-%x-%05.1f", "abcdef", -42, 0xbeef, 3.14159);
    printf("r=%d '%s'\n", r, sb);
    r = snprintf(NULL, 0, "%lld %llu %hhd %hd %c %%", -1LL, ~0ULL, (signed char)200, (short)70000, 'q');
    printf("r=%d\n", r);
    char big[256];
    snprintf(big, sizeof big, "[%10s][%-10s][%.3s][%*d][%-*d][%+d][% d][%#o][%#x][%p]", "right", "left", "truncate",
             6, 42, 6, 42, 5, 5, 8, 255, (void *)0);
    printf("%s\n", big);

    printf("== qsort strings\n");
    char *words[200];
    for (int i = 0; i < 200; i++) {
        char w[16];
        int len = 1 + (int)(rnd() % 10);
        for (int j = 0; j < len; j++) w[j] = (char)('a' + rnd() % 6);
        w[len] = 0;
        words[i] = strdup(w);
    }
    qsort(words, 200, sizeof words[0], cmp_str);
    for (int i = 0; i < 200; i++) printf("%s%c", words[i], i % 10 == 9 ? '\n' : ' ');
    for (int i = 0; i < 200; i++) free(words[i]);
    return 0;
}
