/* Self-modifying and run-time generated code, as a JIT inside the guest writes it: code is
 * written into an RWX mapping (and into an RW mapping that is then made RX), the caches are
 * synchronised the way real code does it (__builtin___clear_cache: DC CVAU, DSB, IC IVAU,
 * DSB, ISB from libgcc's __aarch64_sync_cache_range), and the code is called. Every result
 * is printed; deja (each engine) must print what qemu-aarch64 prints.
 *
 *   1. patch an immediate of a hot function between calls (its translation must go);
 *   2. rewrite one instruction in the middle of a hot loop body;
 *   3. W^X: write into an RW page, mprotect it RX, call, repeat with other code.
 *
 * (Code that stores the next instruction of its own block and runs it without an ISB is
 * CONSTRAINED UNPREDICTABLE: qemu runs the old instruction, deja the new one. That case is
 * checked between deja's engines, in tests/budget_a64.rs.) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef uint64_t (*fn3)(uint64_t, uint64_t, uint64_t);

#define RET 0xd65f03c0u
static uint32_t movz_w0(unsigned imm) { return 0x52800000u | (imm & 0xffffu) << 5; }
/* add w0, w0, #imm */
static uint32_t add_w0(unsigned imm) { return 0x11000000u | (imm & 0xfffu) << 10; }
/* sub x2, x2, #1 ; cbnz x2, -k */
#define SUB_X2_1 0xd1000442u
static uint32_t cbnz_x2(int words) { return 0xb5000002u | (((uint32_t)words & 0x7ffffu) << 5); }

static void sync_code(void *p, size_t n) { __builtin___clear_cache((char *)p, (char *)p + n); }

int main(void) {
    uint32_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap rwx");
        return 1;
    }
    fn3 f = (fn3)(void *)code;

    /* 1. movz w0, #i ; add w0, w0, #(i*3) ; ret, patched before every call. */
    uint64_t sum = 0;
    for (unsigned i = 0; i < 2000; i++) {
        code[0] = movz_w0(i);
        code[1] = add_w0((i * 3) & 0xfff);
        code[2] = RET;
        sync_code(code, 12);
        sum = sum * 31 + f(0, 0, 0);
    }
    printf("patched immediates: %016llx\n", (unsigned long long)sum);

    /* 2. A counted loop (x2 iterations) whose body adds k to w0; between calls, one add in
     * the middle of the body changes. */
    uint32_t *p = code + 64;
    fn3 g = (fn3)(void *)p;
    p[0] = movz_w0(0);
    for (int j = 0; j < 6; j++)
        p[1 + j] = add_w0(j + 1);
    p[7] = SUB_X2_1;
    p[8] = cbnz_x2(-7);
    p[9] = RET;
    sync_code(p, 40);
    sum = 0;
    for (unsigned i = 0; i < 300; i++) {
        p[4] = add_w0(i & 0xfff);
        sync_code(p + 4, 4);
        sum = sum * 7 + g(0, 0, 100 + i);
    }
    printf("hot loop rewritten: %016llx\n", (unsigned long long)sum);

    /* 3. W^X: RW to write, RX to run. */
    uint32_t *w = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED) {
        perror("mmap rw");
        return 1;
    }
    sum = 0;
    for (unsigned i = 0; i < 200; i++) {
        if (mprotect(w, 4096, PROT_READ | PROT_WRITE)) {
            perror("mprotect rw");
            return 1;
        }
        w[0] = movz_w0(i * 7);
        w[1] = add_w0(i);
        w[2] = RET;
        sync_code(w, 12);
        if (mprotect(w, 4096, PROT_READ | PROT_EXEC)) {
            perror("mprotect rx");
            return 1;
        }
        sum = sum * 5 + ((fn3)(void *)w)(0, 0, 0);
    }
    printf("w^x generated: %016llx\n", (unsigned long long)sum);
    return 0;
}
