/* Register-only ALU loop: add, xor, sub, jnz (4 instructions per iteration). */
    .globl _start
_start:
    mov $100000000, %rcx
    xor %eax, %eax
1:  add $3, %rax
    xor %rax, %rdx
    sub $1, %rcx
    jnz 1b
    mov $60, %eax
    xor %edi, %edi
    syscall
