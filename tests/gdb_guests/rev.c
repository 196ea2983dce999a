/* Guest for tests/gdb.rs: calls, a loop, a global written many times (watchpoints), a
 * syscall in the middle; with an argument N, a long loop of N iterations (for Ctrl-C); with
 * the argument "crash", a SIGSEGV at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int g;
volatile long sink;

__attribute__((noinline)) int add(int a, int b) {
    int r = a + b;
    g = r;
    return r;
}

__attribute__((noinline)) int work(int n) {
    int s = 0;
    for (int i = 0; i < n; i++) s = add(s, i);
    return s;
}

__attribute__((noinline)) long spin(long n) {
    long x = 0;
    for (long i = 0; i < n; i++) x += i ^ (x >> 3);
    return x;
}

int main(int argc, char **argv) {
    int r = work(6);
    write(1, "mid\n", 4);
    r += work(4);
    g = 7;
    if (argc > 1 && argv[1][0] == 'c') *(volatile int *)(long)g = 1;
    if (argc > 1) sink = spin(atol(argv[1]));
    printf("r=%d g=%d\n", r, g);
    return 0;
}
