/* Call/return with a small stack frame: call, push, mov, lea, cmp, cmov, pop, ret, dec, jnz. */
    .globl _start
_start:
    mov $20000000, %rbx
1:  call f
    dec %rbx
    jnz 1b
    mov $60, %eax
    xor %edi, %edi
    syscall
f:  push %rbp
    mov %rsp, %rbp
    lea 1(%rax), %rax
    cmp $5, %rax
    cmovg %rbx, %rax
    pop %rbp
    ret
