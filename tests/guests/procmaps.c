/* /proc/self/maps must describe the program's own address space (not the emulator's):
 * code, data, stack and heap each fall in a listed mapping with the right permissions and
 * name, and pthread_getattr_np (which glibc answers from /proc/self/maps for the main
 * thread) finds the stack. Prints facts that hold natively, not addresses. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int initialised = 42;

/* The mapping holding `addr`: permissions and name ("" when anonymous). */
static int lookup(const void *addr, char perms[8], char name[512]) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[1024];
    int found = 0;
    unsigned long a = (unsigned long)addr, prev_end = 0;
    int sorted = 1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int n = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &n) < 3) {
            printf("unparsable line: %s", line);
            continue;
        }
        if (lo >= hi || lo < prev_end) sorted = 0;
        prev_end = hi;
        if (lo <= a && a < hi && !found) {
            found = 1;
            char *s = line + n;
            s[strcspn(s, "\n")] = 0;
            snprintf(name, 512, "%s", s);
            break;
        }
    }
    fclose(f);
    if (!sorted) printf("mappings not sorted or overlapping\n");
    return found ? 0 : -1;
}

static void show(const char *what, const void *addr, const char *exe) {
    char perms[8] = "", name[512] = "";
    if (lookup(addr, perms, name) != 0) {
        printf("%s: not in any mapping\n", what);
        return;
    }
    const char *base = strrchr(name, '/');
    const char *kind = name[0] == 0 ? "anonymous"
                       : name[0] == '[' ? name
                       : base && strcmp(base + 1, exe) == 0 ? "the executable"
                       : "another file";
    /* The private/shared letter and r/w/x: what the program may rely on. */
    printf("%s: %.3s, %s\n", what, perms, kind);
}

int main(int argc, char **argv) {
    (void)argc;
    const char *exe = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int local = 1;
    show("code", (void *)main, exe);
    show("initialised data", &initialised, exe);
    show("stack", &local, exe);
    char *small = malloc(64);
    show("big malloc", memset(malloc(1 << 22), 1, 1 << 22), exe);
    printf("small malloc: %s\n", small ? "ok" : "failed");

    pthread_attr_t at;
    void *stack;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &at) != 0 || pthread_attr_getstack(&at, &stack, &size) != 0) {
        printf("pthread_getattr_np failed\n");
        return 1;
    }
    printf("pthread stack holds a local: %s\n",
           (char *)&local >= (char *)stack && (char *)&local < (char *)stack + size ? "yes" : "no");
    return 0;
}
