/* AArch64 guest for the register tests of tests/gdb_a64.rs: known values in FP/SIMD registers
 * at a breakpoint (the arguments of `show`, in v0 and d1), FPSR flags raised by an inexact
 * division under a non-default rounding mode (FPCR.RMode = round toward zero), and the thread
 * pointer (TPIDR_EL0). The program prints what it set, read back from the system registers,
 * so the test compares what gdb shows with what the program saw. Then a syscall (read from a
 * pipe) writes a global buffer, for watchpoints on what the kernel writes. */
#include <arm_neon.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile double one = 1.0, ten = 10.0;
char buf[9];

__attribute__((noinline)) double show(float32x4_t v, double q) {
    return vgetq_lane_f32(v, 3) + q;
}

int main(void) {
    __asm__ volatile("msr fpcr, %0" ::"r"(3ul << 22)); /* RMode = 0b11, round toward zero */
    __asm__ volatile("msr fpsr, xzr");
    double q = one / ten; /* inexact (FPSR.IXC); toward zero 0x3fb9999999999999, not ...9a */
    unsigned long fpsr, fpcr, qbits;
    void *tp;
    __asm__ volatile("mrs %0, fpsr" : "=r"(fpsr));
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
    memcpy(&qbits, &q, sizeof q);
    float32x4_t v = {1.5f, -2.25f, 3.0f, 1e10f};
    double r = show(v, q);
    printf("qbits=%#lx fpsr=%#lx fpcr=%#lx tpidr=%p r=%a\n", qbits, fpsr, fpcr, tp, r);
    int p[2];
    if (pipe(p) != 0 || write(p[1], "written!", 8) != 8 || read(p[0], buf, 8) != 8) return 1;
    printf("buf=%s\n", buf);
    return 0;
}
