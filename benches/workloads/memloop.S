/* Load, add, store through a scaled index, inc/and/dec, jnz (7 instructions per iteration). */
    .globl _start
_start:
    lea buf(%rip), %rsi
    mov $50000000, %rcx
    xor %eax, %eax
1:  mov (%rsi,%rax,8), %rdx
    add %rcx, %rdx
    mov %rdx, 8(%rsi,%rax,8)
    inc %rax
    and $255, %rax
    dec %rcx
    jnz 1b
    mov $60, %eax
    xor %edi, %edi
    syscall
    .bss
buf: .zero 4096
