/* Deep recursion: 100k frames of a non-inlinable function (a few MB of stack), mutual
 * recursion, Ackermann, and recursion through function pointers. */
#include <stdint.h>
#include <stdio.h>

static volatile int sink;

__attribute__((noinline)) static uint64_t down(uint64_t n, uint64_t acc) {
    volatile uint64_t local = n * 2654435761u;
    if (n == 0) return acc;
    uint64_t r = down(n - 1, acc ^ local);
    sink = (int)local; /* keeps the call from becoming a tail call */
    return r + (local & 1);
}

__attribute__((noinline)) static int is_odd(unsigned n);
__attribute__((noinline)) static int is_even(unsigned n) {
    int r = n == 0 ? 1 : is_odd(n - 1);
    sink = r;
    return r;
}
__attribute__((noinline)) static int is_odd(unsigned n) {
    int r = n == 0 ? 0 : is_even(n - 1);
    sink = r;
    return r;
}

static unsigned long ack(unsigned long m, unsigned long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

typedef long (*fn_t)(long, int);
static long f_a(long x, int d);
static long f_b(long x, int d);
static fn_t table[2] = {f_a, f_b};
static long f_a(long x, int d) { return d == 0 ? x : table[(x + d) & 1](x * 3 + 1, d - 1) + 1; }
static long f_b(long x, int d) { return d == 0 ? -x : table[(x ^ d) & 1](x / 2 + d, d - 1) - 1; }

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    printf("down(100000) = %llu\n", (unsigned long long)down(100000, 0));
    printf("is_even(50001) = %d is_odd(50001) = %d\n", is_even(50001), is_odd(50001));
    printf("ack(2,3) = %lu ack(3,5) = %lu\n", ack(2, 3), ack(3, 5));
    printf("fnptr chain = %ld\n", f_a(7, 5000));
    printf("fib(24) = %ld\n", fib(24));
    return 0;
}
