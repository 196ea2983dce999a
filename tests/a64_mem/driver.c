// Driver for the AArch64 load/store differential harness, run under qemu-aarch64 (the
// oracle). Reads cases from stdin, runs each from a complete register state with a fresh
// data area, and writes the outcome (final state or the signal taken, plus the data area)
// to stdout. The Rust side (tests/a64_loadstore.rs) runs the same cases on deja's
// interpreter and compares. Binary formats: see the Rust side.
#define _GNU_SOURCE
#include <asm/sigcontext.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_ADDR 0x1000000UL
#define DATA_ADDR 0x1010000UL
#define DATA_RW 0x2000     /* read-write bytes at DATA_ADDR */
#define DATA_ALL 0x3000    /* then one read-only page, then nothing mapped */
#define MAXI 4

struct st {
    uint64_t x[31], sp, nzcv, fpcr, fpsr, pad;
    __uint128_t v[32];
};

struct out {
    uint64_t kind, signo, code, addr, pc, pad;
    struct st st;
};

extern void run_case(const struct st *in, struct st *out);
extern char case_epilogue[];

static sigjmp_buf jb;
static struct out res;

static void handler(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    res.kind = 1;
    res.signo = sig;
    res.code = si->si_code;
    res.addr = (uint64_t)si->si_addr;
    res.pc = uc->uc_mcontext.pc;
    for (int i = 0; i < 31; i++) res.st.x[i] = uc->uc_mcontext.regs[i];
    res.st.sp = uc->uc_mcontext.sp;
    res.st.nzcv = uc->uc_mcontext.pstate & 0xf0000000UL;
    struct _aarch64_ctx *h = (struct _aarch64_ctx *)uc->uc_mcontext.__reserved;
    while (h->magic) {
        if (h->magic == FPSIMD_MAGIC) {
            struct fpsimd_context *f = (struct fpsimd_context *)h;
            res.st.fpsr = f->fpsr;
            res.st.fpcr = f->fpcr;
            memcpy(res.st.v, f->vregs, sizeof res.st.v);
        }
        h = (struct _aarch64_ctx *)((char *)h + h->size);
    }
    siglongjmp(jb, 1);
}

static void rd(void *p, size_t n) {
    if (fread(p, 1, n, stdin) != n) {
        fprintf(stderr, "driver: short read\n");
        exit(2);
    }
}

int main(void) {
    static uint8_t pattern[DATA_ALL];
    uint32_t hdr[2];
    rd(hdr, sizeof hdr);
    if (hdr[0] != 0x4c534d41) return 3;
    rd(pattern, sizeof pattern);

    uint8_t *code = mmap((void *)CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    uint8_t *data = mmap((void *)DATA_ADDR, DATA_ALL + 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code != (void *)CODE_ADDR || data != (void *)DATA_ADDR) return 4;
    munmap(data + DATA_ALL, 4096);
    memcpy(data, pattern, DATA_ALL);
    mprotect(data + DATA_RW, DATA_ALL - DATA_RW, PROT_READ);

    static uint8_t altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGILL, &sa, 0);

    for (uint32_t c = 0; c < hdr[1]; c++) {
        uint32_t n, insn[MAXI];
        static struct st in;
        rd(&n, 4);
        rd(insn, sizeof insn);
        rd(&in, sizeof in);
        if (n == 0 || n > MAXI) return 5;
        uint32_t *p = (uint32_t *)code;
        for (uint32_t i = 0; i < n; i++) p[i] = insn[i];
        int64_t off = ((int64_t)(uintptr_t)case_epilogue - (int64_t)(CODE_ADDR + 4 * n)) / 4;
        p[n] = 0x14000000u | ((uint32_t)off & 0x3ffffff);
        __builtin___clear_cache((char *)code, (char *)code + 4 * (n + 1));
        memcpy(data, pattern, DATA_RW);
        memset(&res, 0, sizeof res);
        if (sigsetjmp(jb, 1) == 0) run_case(&in, &res.st);
        fwrite(&res, sizeof res, 1, stdout);
        fwrite(data, DATA_RW, 1, stdout);
    }
    return 0;
}
