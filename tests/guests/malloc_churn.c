/* Allocator churn: many sizes (tiny to mmap-sized), realloc growth/shrink, frees in a
 * fixed-seed random order, calloc zeroing; contents verified and checksummed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024

static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static unsigned char *ptr[SLOTS];
static size_t len[SLOTS];
static unsigned char tag[SLOTS];

static size_t pick_size(void) {
    uint64_t r = rnd() % 1000;
    if (r < 600) return (size_t)(rnd() % 64);
    if (r < 900) return (size_t)(rnd() % 1024);
    if (r < 990) return (size_t)(rnd() % 65536);
    return (size_t)(128 * 1024 + rnd() % (192 * 1024)); /* mmap threshold territory */
}

/* Big blocks are touched sparsely (every STRIDE-th byte and the last one): enough to catch
 * lost or overlapping memory while keeping the run short under emulation. */
#define STRIDE 61
static size_t step(size_t n) { return n > 4096 ? STRIDE : 1; }

static int check(int i) {
    size_t n = len[i], s = step(n);
    for (size_t k = 0; k < n; k += s)
        if (ptr[i][k] != (unsigned char)(tag[i] + k)) return 0;
    if (n && ptr[i][n - 1] != (unsigned char)(tag[i] + n - 1)) return 0;
    return 1;
}

static void fill(int i) {
    size_t n = len[i], s = step(n);
    for (size_t k = 0; k < n; k += s) ptr[i][k] = (unsigned char)(tag[i] + k);
    if (n) ptr[i][n - 1] = (unsigned char)(tag[i] + n - 1);
}

int main(void) {
    uint64_t checksum = 0, bad = 0, allocs = 0, reallocs = 0, frees = 0;
    for (int round = 0; round < 12000; round++) {
        int i = (int)(rnd() % SLOTS);
        uint64_t op = rnd() % 10;
        if (!ptr[i]) {
            len[i] = pick_size();
            tag[i] = (unsigned char)rnd();
            if (op < 2) {
                ptr[i] = calloc(1, len[i] ? len[i] : 1);
                for (size_t k = 0; k < len[i]; k++)
                    if (ptr[i][k]) bad++;
            } else {
                ptr[i] = malloc(len[i] ? len[i] : 1);
            }
            if (!ptr[i]) {
                printf("allocation failed\n");
                return 1;
            }
            fill(i);
            allocs++;
        } else if (op < 4) {
            if (!check(i)) bad++;
            size_t nl = op < 2 ? len[i] / 2 : len[i] * 2 + (size_t)(rnd() % 100);
            unsigned char *np = realloc(ptr[i], nl ? nl : 1);
            if (!np) {
                printf("realloc failed\n");
                return 1;
            }
            ptr[i] = np;
            size_t keep = nl < len[i] ? nl : len[i];
            for (size_t k = 0; k < keep; k += step(len[i]))
                if (np[k] != (unsigned char)(tag[i] + k)) {
                    bad++;
                    break;
                }
            len[i] = nl;
            fill(i);
            reallocs++;
        } else {
            if (!check(i)) bad++;
            for (size_t k = 0; k < len[i]; k += step(len[i])) checksum = checksum * 31 + ptr[i][k];
            free(ptr[i]);
            ptr[i] = NULL;
            len[i] = 0;
            frees++;
        }
    }
    /* free the rest in a shuffled order */
    int order[SLOTS];
    for (int i = 0; i < SLOTS; i++) order[i] = i;
    for (int i = SLOTS - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < SLOTS; k++) {
        int i = order[k];
        if (ptr[i]) {
            if (!check(i)) bad++;
            checksum = checksum * 31 + len[i];
            free(ptr[i]);
            frees++;
        }
    }
    /* aligned allocations */
    for (int k = 0; k < 50; k++) {
        size_t al = (size_t)16 << (k % 8);
        void *p = NULL;
        if (posix_memalign(&p, al, 100 + (size_t)k * 37) != 0 || ((uintptr_t)p & (al - 1))) bad++;
        free(p);
        void *q = aligned_alloc(64, 640);
        if (!q || ((uintptr_t)q & 63)) bad++;
        free(q);
    }
    printf("allocs %llu reallocs %llu frees %llu bad %llu checksum %016llx\n", (unsigned long long)allocs,
           (unsigned long long)reallocs, (unsigned long long)frees, (unsigned long long)bad,
           (unsigned long long)checksum);
    return bad != 0;
}
