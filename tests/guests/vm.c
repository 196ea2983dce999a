/* CPU-bound workloads: a brainfuck interpreter running a program that prints squares and
 * a small stack-bytecode VM (computed dispatch via switch) computing primes and a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Prints the squares from 0 to 10000 (Daniel B. Cristofani's program, public domain). */
static const char *bf_squares =
    "++++[>+++++<-]>[<+++++>-]+<+[>[>+>+<<-]++>>[<<+>>-]>>>[-]++>[-]+>>>+[[-]++++++>>>]<<<[[<++++++++<++>>-]+<.<[>----<-"
    "]<]<<[>>>>>[>>>[-]+++++++++<[>-<-]+++++++++>[-[<->-]+[<<<]]<[>+<-]>]<<-]<<-]";

static void brainfuck(const char *prog, char *out, size_t outsz) {
    static unsigned char tape[30000];
    memset(tape, 0, sizeof tape);
    size_t len = strlen(prog), o = 0;
    static int match[4096];
    int stack[256], sp = 0;
    for (size_t i = 0; i < len; i++) {
        if (prog[i] == '[') stack[sp++] = (int)i;
        else if (prog[i] == ']') {
            int j = stack[--sp];
            match[i] = j;
            match[j] = (int)i;
        }
    }
    unsigned char *p = tape;
    for (size_t pc = 0; pc < len; pc++) {
        switch (prog[pc]) {
        case '>': p++; break;
        case '<': p--; break;
        case '+': (*p)++; break;
        case '-': (*p)--; break;
        case '.': if (o + 1 < outsz) out[o++] = (char)*p; break;
        case '[': if (!*p) pc = (size_t)match[pc]; break;
        case ']': if (*p) pc = (size_t)match[pc]; break;
        default: break;
        }
    }
    out[o] = 0;
}

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, PRINT, HALT, DUP, POP, INC };

static uint64_t run_vm(const int *code, int quiet) {
    int64_t stack[64], vars[8] = {0};
    int sp = 0, pc = 0;
    uint64_t printed = 0;
    for (;;) {
        int op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = vars[code[pc++]]; break;
        case STORE: vars[code[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case JZ: { int t = code[pc++]; if (!stack[--sp]) pc = t; } break;
        case JMP: pc = code[pc]; break;
        case PRINT: { int64_t v = stack[--sp]; printed = printed * 31 + (uint64_t)v; if (!quiet) printf("%lld ", (long long)v); } break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case POP: sp--; break;
        case INC: vars[code[pc]]++; pc++; break;
        case HALT: return printed;
        default: return 0;
        }
    }
}

int main(void) {
    static char out[100000];
    brainfuck(bf_squares, out, sizeof out);
    size_t n = strlen(out);
    unsigned long h = 0;
    for (size_t i = 0; i < n; i++) h = h * 131 + (unsigned char)out[i];
    printf("bf output %zu bytes hash %lx\n", n, h);
    printf("bf head: %.30s\n", out);
    printf("bf tail: %s", out + n - 20);

    /* primes below a limit by trial division: v0 = candidate, v1 = divisor, v2 = is_prime */
    enum { LIMIT_AT = 7, END = 60, CHECK = 49, NOTPRIME = 43, NEXT = 56, OUTER = 4, INNER = 19 };
    int code[] = {
        PUSH, 2, STORE, 0,                                             /* 0: v0 = 2 */
        LOAD, 0, PUSH, 30000, LT, JZ, END,                             /* 4: while v0 < limit */
        PUSH, 2, STORE, 1,                                             /* 11: v1 = 2 */
        PUSH, 1, STORE, 2,                                             /* 15: v2 = 1 */
        LOAD, 1, LOAD, 1, MUL, LOAD, 0, PUSH, 1, ADD, LT, JZ, CHECK,   /* 19: while v1*v1 < v0+1 */
        LOAD, 0, LOAD, 1, MOD, JZ, NOTPRIME,                           /* 32: if v0 % v1 == 0 */
        INC, 1, JMP, INNER,                                            /* 39: v1++ */
        PUSH, 0, STORE, 2, JMP, CHECK,                                 /* 43: v2 = 0; break */
        LOAD, 2, JZ, NEXT,                                             /* 49: if v2 */
        LOAD, 0, PRINT,                                                /* 53: print v0 */
        INC, 0, JMP, OUTER,                                            /* 56: v0++ */
        HALT,                                                          /* 60 */
    };
    if (code[END] != HALT || code[CHECK] != LOAD || code[NOTPRIME] != PUSH || code[NEXT] != INC) {
        printf("bad bytecode layout\n");
        return 1;
    }
    uint64_t r = run_vm(code, 1);
    printf("vm primes below %d checksum %llu\n", code[LIMIT_AT], (unsigned long long)r);
    code[LIMIT_AT] = 200;
    run_vm(code, 0);
    printf("\n");
    return 0;
}
