/* argv and envp as the program sees them. Only variables starting with DEJA_TEST_ are
 * printed (the test sets them), in sorted order, plus getenv/setenv/unsetenv behaviour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv, char **envp) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=[%s] len %zu\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc] is NULL: %d\n", argv[argc] == NULL);
    const char *slash = strrchr(argv[0], '/');
    printf("argv0 base=%s\n", slash ? slash + 1 : argv[0]);
    char *mine[64];
    int n = 0;
    for (char **e = envp; *e; e++)
        if (strncmp(*e, "DEJA_TEST_", 10) == 0 && n < 64) mine[n++] = *e;
    qsort(mine, (size_t)n, sizeof mine[0], cmp);
    for (int i = 0; i < n; i++) printf("env %s\n", mine[i]);
    printf("environ==envp: %d\n", environ == envp);
    const char *g = getenv("DEJA_TEST_ALPHA");
    printf("getenv ALPHA=%s MISSING=%s\n", g ? g : "(null)", getenv("DEJA_TEST_MISSING") ? "set" : "(null)");
    setenv("DEJA_TEST_NEW", "fresh", 0);
    setenv("DEJA_TEST_ALPHA", "replaced", 1);
    unsetenv("DEJA_TEST_BETA");
    printf("after: NEW=%s ALPHA=%s BETA=%s\n", getenv("DEJA_TEST_NEW"), getenv("DEJA_TEST_ALPHA"),
           getenv("DEJA_TEST_BETA") ? "set" : "(null)");
    return argc;
}
