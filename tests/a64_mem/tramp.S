// Trampoline for the AArch64 load/store differential harness (run under qemu-aarch64 only):
// load a complete register state, branch to the case code at 0x1000000, and, when the case
// code branches to case_epilogue, store the complete register state and return to C.
// State layout (struct st in driver.c): x0..x30 at 0, sp 248, nzcv 256, fpcr 264, fpsr 272,
// pad 280, v0..v31 at 288.

// case_code is CODE_ADDR (0x1000000), defined at link time (-Wl,--defsym=case_code=...): an
// absolute `b` target would be taken as pc-relative by the assembler.

        .text
        .globl run_case
        .type run_case, %function
// void run_case(const struct st *in, struct st *out)
run_case:
        stp x29, x30, [sp, #-160]!
        stp x19, x20, [sp, #16]
        stp x21, x22, [sp, #32]
        stp x23, x24, [sp, #48]
        stp x25, x26, [sp, #64]
        stp x27, x28, [sp, #80]
        stp d8, d9, [sp, #96]
        stp d10, d11, [sp, #112]
        stp d12, d13, [sp, #128]
        stp d14, d15, [sp, #144]
        adrp x9, g_save
        add x9, x9, :lo12:g_save
        mov x10, sp
        str x10, [x9]
        str x1, [x9, #8]
        mrs x10, tpidr_el0
        str x10, [x9, #16]
        add x9, x0, #288
        ldp q0, q1, [x9], #32
        ldp q2, q3, [x9], #32
        ldp q4, q5, [x9], #32
        ldp q6, q7, [x9], #32
        ldp q8, q9, [x9], #32
        ldp q10, q11, [x9], #32
        ldp q12, q13, [x9], #32
        ldp q14, q15, [x9], #32
        ldp q16, q17, [x9], #32
        ldp q18, q19, [x9], #32
        ldp q20, q21, [x9], #32
        ldp q22, q23, [x9], #32
        ldp q24, q25, [x9], #32
        ldp q26, q27, [x9], #32
        ldp q28, q29, [x9], #32
        ldp q30, q31, [x9], #32
        ldr x9, [x0, #256]
        msr nzcv, x9
        ldr x9, [x0, #264]
        msr fpcr, x9
        ldr x9, [x0, #272]
        msr fpsr, x9
        ldr x9, [x0, #248]
        mov sp, x9
        ldp x2, x3, [x0, #16]
        ldp x4, x5, [x0, #32]
        ldp x6, x7, [x0, #48]
        ldp x8, x9, [x0, #64]
        ldp x10, x11, [x0, #80]
        ldp x12, x13, [x0, #96]
        ldp x14, x15, [x0, #112]
        ldp x16, x17, [x0, #128]
        ldp x18, x19, [x0, #144]
        ldp x20, x21, [x0, #160]
        ldp x22, x23, [x0, #176]
        ldp x24, x25, [x0, #192]
        ldp x26, x27, [x0, #208]
        ldp x28, x29, [x0, #224]
        ldr x30, [x0, #240]
        ldp x0, x1, [x0]
        clrex
        b case_code

        .globl case_epilogue
case_epilogue:
        msr tpidr_el0, x0
        adrp x0, g_save
        add x0, x0, :lo12:g_save
        ldr x0, [x0, #8]
        stp x1, x2, [x0, #8]
        stp x3, x4, [x0, #24]
        stp x5, x6, [x0, #40]
        stp x7, x8, [x0, #56]
        stp x9, x10, [x0, #72]
        stp x11, x12, [x0, #88]
        stp x13, x14, [x0, #104]
        stp x15, x16, [x0, #120]
        stp x17, x18, [x0, #136]
        stp x19, x20, [x0, #152]
        stp x21, x22, [x0, #168]
        stp x23, x24, [x0, #184]
        stp x25, x26, [x0, #200]
        stp x27, x28, [x0, #216]
        stp x29, x30, [x0, #232]
        mrs x1, tpidr_el0
        str x1, [x0]
        mov x1, sp
        str x1, [x0, #248]
        mrs x1, nzcv
        str x1, [x0, #256]
        mrs x1, fpcr
        str x1, [x0, #264]
        mrs x1, fpsr
        str x1, [x0, #272]
        add x1, x0, #288
        stp q0, q1, [x1], #32
        stp q2, q3, [x1], #32
        stp q4, q5, [x1], #32
        stp q6, q7, [x1], #32
        stp q8, q9, [x1], #32
        stp q10, q11, [x1], #32
        stp q12, q13, [x1], #32
        stp q14, q15, [x1], #32
        stp q16, q17, [x1], #32
        stp q18, q19, [x1], #32
        stp q20, q21, [x1], #32
        stp q22, q23, [x1], #32
        stp q24, q25, [x1], #32
        stp q26, q27, [x1], #32
        stp q28, q29, [x1], #32
        stp q30, q31, [x1], #32
        adrp x1, g_save
        add x1, x1, :lo12:g_save
        ldr x2, [x1, #16]
        msr tpidr_el0, x2
        ldr x2, [x1]
        mov sp, x2
        msr fpcr, xzr
        ldp d14, d15, [sp, #144]
        ldp d12, d13, [sp, #128]
        ldp d10, d11, [sp, #112]
        ldp d8, d9, [sp, #96]
        ldp x27, x28, [sp, #80]
        ldp x25, x26, [sp, #64]
        ldp x23, x24, [sp, #48]
        ldp x21, x22, [sp, #32]
        ldp x19, x20, [sp, #16]
        ldp x29, x30, [sp], #160
        ret

        .bss
        .balign 16
g_save: .skip 32
        .section .note.GNU-stack,"",%progbits
