// A whole program made only of loads/stores, SIMD structure accesses, exclusives, LSE
// atomics, DC ZVA and svc: it builds a 256-byte buffer and writes it to stdout. Run under
// `deja run` and qemu-aarch64 (-cpu neoverse-n1: a 64-byte DC ZVA block, as deja reports).
        .globl _start
_start:
        ldr x1, =src
        ldr x2, =dst
        ld1 {v0.16b, v1.16b}, [x1], #32
        st1 {v0.16b, v1.16b}, [x2], #32
        ldp q2, q3, [x1]
        stp q3, q2, [x2], #32
        ldr x3, =cnt
        ldxr x4, [x3]
        ldr x5, =0x1111
        stxr w6, x5, [x3]
        str w6, [x2], #4
        ldr x7, =5
        ldaddal x7, x8, [x3]
        str x8, [x2], #8
        ldr x9, [x3]
        str x9, [x2], #8
        stp x8, x9, [sp, #-16]!
        ldp x10, x11, [sp], #16
        stp x10, x11, [x2], #16
        ldr x1, =src
        ld4 {v4.8b, v5.8b, v6.8b, v7.8b}, [x1]
        st1 {v4.8b, v5.8b, v6.8b, v7.8b}, [x2], #32
        ld3r {v8.4h, v9.4h, v10.4h}, [x1]
        st3 {v8.h, v9.h, v10.h}[2], [x2], #6
        ldrsb x12, [x1, #31]
        str x12, [x2], #8
        ldr x13, =cnt
        ldr x14, =0x1116
        ldr x15, =0xabcdef
        cas x14, x15, [x13]
        stp x14, x15, [x2], #16
        ldr x16, [x13]
        str x16, [x2], #8
        dc zva, x2
        ldr x0, =1
        ldr x1, =dst
        ldr x2, =256
        ldr x8, =64
        svc #0
        ldr x0, =0
        ldr x8, =93
        svc #0
        .ltorg
        .data
        .balign 16
src:    .ascii "The quick brown fox jumps over the lazy dog, 0123456789abcdef!!"
        .balign 8
cnt:    .quad 0x42
        .balign 64
dst:    .fill 256, 1, 0x2e
