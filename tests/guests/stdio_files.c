/* stdio on real files inside the directory given as argv[1]: fopen modes, fprintf/fgets,
 * fseek/ftell/rewind, fread/fwrite of binary data, ungetc, append, rename, remove, and
 * error paths (errno names only, no paths printed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char path_a[4096], path_b[4096], path_c[4096];

static const char *errname(int e) {
    switch (e) {
    case 0: return "0";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    default: return "other";
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: stdio_files DIR\n");
        return 2;
    }
    snprintf(path_a, sizeof path_a, "%s/a.txt", argv[1]);
    snprintf(path_b, sizeof path_b, "%s/b.bin", argv[1]);
    snprintf(path_c, sizeof path_c, "%s/c.txt", argv[1]);

    FILE *f = fopen(path_a, "w");
    if (!f) {
        printf("fopen w failed: %s\n", errname(errno));
        return 1;
    }
    for (int i = 0; i < 500; i++) fprintf(f, "line %d: %s %08x %.3f\n", i, i % 3 ? "odd" : "even", i * 2654435761u, i / 7.0);
    fputs("no newline at end", f);
    printf("ftell after write %ld\n", ftell(f));
    if (fclose(f) != 0) printf("fclose failed\n");

    f = fopen(path_a, "r");
    char line[256];
    int n = 0;
    unsigned long h = 5381;
    while (fgets(line, sizeof line, f)) {
        n++;
        for (char *p = line; *p; p++) h = h * 33 + (unsigned char)*p;
        if (n == 1 || n == 250 || n == 501) printf("line %d = '%s'\n", n, strtok(line, "\n"));
    }
    printf("lines %d hash %lx eof %d err %d\n", n, h, feof(f) != 0, ferror(f) != 0);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    printf("size %ld\n", size);
    fseek(f, -17, SEEK_END);
    printf("tail '%s'\n", fgets(line, sizeof line, f));
    fseek(f, 100, SEEK_SET);
    int c = fgetc(f);
    ungetc('#', f);
    int c2 = fgetc(f);
    long pos = ftell(f);
    printf("at 100: '%c' then ungetc -> '%c' pos %ld\n", c, c2, pos);
    rewind(f);
    int a, b;
    char w[16];
    int got = fscanf(f, "line %d: %15s %x", &a, w, &b);
    printf("fscanf %d: %d %s %x\n", got, a, w, b);
    fclose(f);

    /* binary */
    f = fopen(path_b, "wb+");
    unsigned char blk[3000];
    for (unsigned i = 0; i < sizeof blk; i++) blk[i] = (unsigned char)(i * 7 + (i >> 8));
    for (int k = 0; k < 20; k++) {
        blk[0] = (unsigned char)k;
        if (fwrite(blk, 1, sizeof blk, f) != sizeof blk) printf("short write\n");
    }
    fflush(f);
    printf("bin size %ld\n", ftell(f));
    fseek(f, 3000 * 7, SEEK_SET);
    unsigned char rb[3000];
    size_t r = fread(rb, 1, sizeof rb, f);
    printf("fread %zu first %d eq %d\n", r, rb[0], memcmp(rb + 1, blk + 1, sizeof rb - 1) == 0);
    fseek(f, 10, SEEK_CUR);
    fwrite("PATCH", 1, 5, f);
    fseek(f, 3000 * 8 + 10, SEEK_SET);
    char pb[6] = {0};
    r = fread(pb, 1, 5, f);
    printf("patched %zu '%s'\n", r, pb);
    fseek(f, -5, SEEK_END);
    r = fread(rb, 1, 100, f);
    printf("short read %zu eof %d\n", r, feof(f) != 0);
    clearerr(f);
    fclose(f);

    /* append mode and rename */
    f = fopen(path_c, "w");
    fprintf(f, "first\n");
    fclose(f);
    f = fopen(path_c, "a");
    fprintf(f, "second\n");
    fclose(f);
    f = fopen(path_c, "r+");
    fseek(f, 0, SEEK_SET);
    fputs("FIRST", f);
    fclose(f);
    if (rename(path_c, path_a) != 0) printf("rename failed %s\n", errname(errno));
    f = fopen(path_a, "r");
    while (fgets(line, sizeof line, f)) printf("c: %s", line);
    fclose(f);
    errno = 0;
    f = fopen(path_c, "r");
    printf("old name: %s %s\n", f ? "exists" : "gone", errname(errno));

    /* setvbuf and a large formatted write */
    f = fopen(path_c, "w");
    static char vb[64];
    setvbuf(f, vb, _IOFBF, sizeof vb);
    for (int i = 0; i < 2000; i++) fprintf(f, "%d,", i * i);
    fclose(f);
    f = fopen(path_c, "r");
    long sum = 0;
    int v;
    while (fscanf(f, "%d,", &v) == 1) sum += v;
    fclose(f);
    printf("sum %ld\n", sum);

    /* removal and error paths */
    int ra = remove(path_a), rb_ = remove(path_b), rc = remove(path_c);
    printf("remove a %d b %d c %d\n", ra, rb_, rc);
    errno = 0;
    int rr = remove(path_a);
    printf("remove again %d %s\n", rr, errname(errno));
    errno = 0;
    f = fopen(argv[1], "w");
    printf("open dir for write: %s %s\n", f ? "ok?" : "fail", errname(errno));
    errno = 0;
    char nested[4200];
    snprintf(nested, sizeof nested, "%s/nope/x", argv[1]);
    f = fopen(nested, "r");
    printf("missing: %s %s\n", f ? "ok?" : "fail", errname(errno));
    fprintf(stderr, "stderr works\n");
    return 0;
}
