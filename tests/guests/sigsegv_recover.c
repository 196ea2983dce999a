/* Recovery from SIGSEGV and SIGFPE: an SA_SIGINFO handler catches faults from a NULL read,
 * a write to read-only memory, an unmapped page, and an integer divide by zero, and
 * siglongjmps back. Also signal masks and raise() of a handled signal. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile sig_atomic_t last_sig, last_code_ok, usr1_count;
static volatile void *fault_addr_expected;
static volatile int addr_match;

static void handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    last_sig = sig;
    last_code_ok = si->si_signo == sig;
    addr_match = sig == SIGSEGV ? si->si_addr == fault_addr_expected : -1;
    siglongjmp(jb, sig);
}

static void on_usr1(int sig) {
    (void)sig;
    usr1_count++;
}

static const char ro_data[16] = "read only";

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    for (volatile int round = 0; round < 3; round++) {
        int r;
        fault_addr_expected = (void *)0;
        if ((r = sigsetjmp(jb, 1)) == 0) {
            volatile int *p = (volatile int *)0;
            (void)*p;
            printf("no fault?\n");
        } else
            printf("round %d: NULL read -> sig %d ok %d addr %d\n", round, r, last_code_ok, addr_match);

        fault_addr_expected = (void *)16;
        if ((r = sigsetjmp(jb, 1)) == 0) {
            volatile int *volatile q16 = (volatile int *)16;
            *q16 = 1;
            printf("no fault?\n");
        } else
            printf("round %d: NULL+16 write -> sig %d addr %d\n", round, r, addr_match);

        fault_addr_expected = (void *)ro_data;
        if ((r = sigsetjmp(jb, 1)) == 0) {
            *(volatile char *)ro_data = 'X';
            printf("no fault?\n");
        } else
            printf("round %d: rodata write -> sig %d addr %d ro=%s\n", round, r, addr_match, ro_data);

        char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        m[0] = 'a';
        munmap(m + 4096, 4096);
        mprotect(m, 4096, PROT_READ);
        fault_addr_expected = m + 4096 + 5;
        if ((r = sigsetjmp(jb, 1)) == 0) {
            m[4096 + 5] = 1;
            printf("no fault?\n");
        } else
            printf("round %d: unmapped write -> sig %d addr %d\n", round, r, addr_match);
        fault_addr_expected = m;
        if ((r = sigsetjmp(jb, 1)) == 0) {
            m[0] = 'b';
            printf("no fault?\n");
        } else
            printf("round %d: mprotect write -> sig %d addr %d m[0]=%c\n", round, r, addr_match, m[0]);
        munmap(m, 4096);

        if ((r = sigsetjmp(jb, 1)) == 0) {
            volatile int zero = 0, x = 7;
            x = x / zero;
            printf("no fault?\n");
        } else
            printf("round %d: div by zero -> sig %d\n", round, r);
    }

    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    printf("usr1 while blocked: %d\n", usr1_count);
    sigset_t pend;
    sigpending(&pend);
    printf("pending: %d\n", sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("usr1 after unblock: %d\n", usr1_count);
    kill(getpid(), SIGUSR1);
    printf("usr1 after kill: %d\n", usr1_count);
    return 0;
}
