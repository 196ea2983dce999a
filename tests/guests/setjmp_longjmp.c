/* setjmp/longjmp: non-local exits from nested calls, values 0 -> 1, volatile locals kept,
 * repeated jumps into the same buffer, an exception-like error stack. */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;
static jmp_buf stack[8];
static int depth_reached;

static void deep(int n, int target) {
    if (n > 1000) return;
    volatile char pad[64];
    pad[n % 64] = (char)n;
    if (n == target) {
        depth_reached = n + pad[n % 64] - (char)n;
        longjmp(env, n == 0 ? 0 : n * 10);
    }
    deep(n + 1, target);
    pad[0]++;
}

static int try_level;
static void throw_(int code) { longjmp(stack[try_level - 1], code); }

static int parse_digit(char c) {
    if (c < '0' || c > '9') throw_(100 + c);
    return c - '0';
}

static int parse_number(const char *s) {
    int v = 0;
    for (; *s; s++) v = v * 10 + parse_digit(*s);
    return v;
}

int main(void) {
    for (volatile int t = 0; t < 6; t++) {
        volatile int counter = 5;
        int r = setjmp(env);
        if (r == 0) {
            counter = 99;
            deep(0, t * 7);
            printf("not reached\n");
        } else {
            printf("t=%d jumped back with %d counter %d depth %d\n", t, r, counter, depth_reached);
        }
    }
    /* repeated jumps to the same point */
    volatile int loops = 0;
    if (setjmp(env) < 5) {
        loops++;
        if (loops < 5) longjmp(env, loops);
    }
    printf("loops %d\n", loops);
    /* nested try/catch */
    const char *inputs[] = {"123", "45x6", "", "9999", "7-"};
    for (volatile int i = 0; i < 5; i++) {
        int code;
        try_level++;
        if ((code = setjmp(stack[try_level - 1])) == 0) {
            int v = parse_number(inputs[i]);
            printf("parsed '%s' = %d\n", inputs[i], v);
        } else {
            printf("error parsing '%s': code %d\n", inputs[i], code);
        }
        try_level--;
    }
    sigjmp_buf sj;
    volatile int k = 0;
    if (sigsetjmp(sj, 1) == 0) {
        k = 1;
        siglongjmp(sj, 3);
    }
    printf("sigsetjmp k=%d\n", k);
    return 0;
}
