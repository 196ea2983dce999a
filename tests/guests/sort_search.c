/* qsort and bsearch on ints, doubles, and structs with multi-key comparators; a hand-written
 * merge sort as a cross-check; lsearch-style linear scans. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t st = 2463534242u;
static uint32_t rnd(void) {
    st ^= st << 13;
    st ^= st >> 17;
    st ^= st << 5;
    return st;
}

struct rec {
    int key;
    char name[12];
    double score;
    int seq;
};

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_dbl_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}
static int cmp_rec(const void *a, const void *b) {
    const struct rec *p = a, *q = b;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    int c = strcmp(p->name, q->name);
    if (c) return c;
    return (p->seq > q->seq) - (p->seq < q->seq);
}

static void merge_sort(int *a, int *tmp, int n) {
    if (n < 2) return;
    int m = n / 2;
    merge_sort(a, tmp, m);
    merge_sort(a + m, tmp, n - m);
    int i = 0, j = m, k = 0;
    while (i < m && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
    while (i < m) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, sizeof(int) * (size_t)n);
}

#define N 20000
static int a[N], b[N], tmp[N];
static double d[2000];
static struct rec recs[3000];

int main(void) {
    for (int i = 0; i < N; i++) a[i] = b[i] = (int)(rnd() % 100000) - 50000;
    qsort(a, N, sizeof a[0], cmp_int);
    merge_sort(b, tmp, N);
    printf("int sort equal: %d first %d last %d median %d\n", memcmp(a, b, sizeof a) == 0, a[0], a[N - 1], a[N / 2]);
    int found = 0, missing = 0;
    long possum = 0;
    for (int k = -50000; k < 50000; k += 37) {
        int *p = bsearch(&k, a, N, sizeof a[0], cmp_int);
        if (p) {
            found++;
            if (*p != k) printf("bsearch wrong\n");
            possum += (p - a) > 0 && p[-1] == k ? 0 : 1; /* count leftmost hits only (deterministic) */
        } else
            missing++;
    }
    printf("bsearch found %d missing %d\n", found, missing);
    (void)possum;
    /* already sorted, reverse sorted, all equal */
    for (int i = 0; i < N; i++) a[i] = N - i;
    qsort(a, N, sizeof a[0], cmp_int);
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= a[i] == i + 1;
    for (int i = 0; i < N; i++) a[i] = 7;
    qsort(a, N, sizeof a[0], cmp_int);
    printf("reverse ok %d equal ok %d\n", ok, a[0] == 7 && a[N - 1] == 7);

    for (int i = 0; i < 2000; i++) d[i] = (double)(int)(rnd() % 20001 - 10000) / 7.0;
    qsort(d, 2000, sizeof d[0], cmp_dbl_desc);
    printf("doubles: %.6f %.6f %.6f\n", d[0], d[1000], d[1999]);

    for (int i = 0; i < 3000; i++) {
        recs[i].key = (int)(rnd() % 50);
        int l = 1 + (int)(rnd() % 5);
        for (int j = 0; j < l; j++) recs[i].name[j] = (char)('a' + rnd() % 4);
        recs[i].name[l] = 0;
        recs[i].score = (double)(rnd() % 1000) / 10.0;
        recs[i].seq = i;
    }
    qsort(recs, 3000, sizeof recs[0], cmp_rec);
    unsigned long h = 0;
    for (int i = 0; i < 3000; i++) h = h * 1000003 + (unsigned long)recs[i].seq;
    printf("records hash %lx\n", h);
    for (int i = 0; i < 3000; i += 300)
        printf("%d %s %.1f %d\n", recs[i].key, recs[i].name, recs[i].score, recs[i].seq);
    struct rec key = {25, "", 0, 0};
    struct rec *lo = recs;
    for (int i = 0; i < 3000; i++)
        if (recs[i].key < key.key) lo = &recs[i + 1];
    printf("first key>=25 at %ld\n", (long)(lo - recs));
    return 0;
}
