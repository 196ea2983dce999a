/* EL0 system registers as an AArch64 Linux program sees them, checked against qemu-aarch64.
 * Values that are the CPU's own choice (MIDR, CTR, DCZID block size, counter frequency) differ
 * between CPUs, so only their properties are printed: the counter never goes backwards and
 * has a frequency, DC ZVA zeroes exactly the block DCZID_EL0 announces, and writable registers
 * (TPIDR_EL0, NZCV, FPCR, FPSR) read back what was written.
 *
 *   sysregs            the above
 *   sysregs idregs     ID registers (HWCAP_CPUID: emulated by the kernel) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

#define MRS(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " reg : "=r"(v_)); v_; })
#define MSR(reg, v) __asm__ volatile("msr " reg ", %0" : : "r"((uint64_t)(v)))

static unsigned char buf[8192] __attribute__((aligned(4096)));

/* ID registers, as the kernel emulates them for EL0 with HWCAP_CPUID: the fields that back
 * the HWCAPs, and ID_AA64PFR0_EL1's EL0/EL1 fields (1: AArch64 only). */
static int idregs(void) {
    unsigned long hwcap = getauxval(AT_HWCAP);
    if (!(hwcap & (1 << 11))) {
        printf("no HWCAP_CPUID\n");
        return 0;
    }
    uint64_t midr = MRS("midr_el1");
    uint64_t pfr0 = MRS("id_aa64pfr0_el1");
    uint64_t isar0 = MRS("id_aa64isar0_el1");
    printf("midr implementer nonzero %d\n", (midr >> 24) != 0);
    printf("pfr0 el0 %d el1 %d fp-implemented %d asimd-implemented %d\n", (int)(pfr0 & 15), (int)((pfr0 >> 4) & 15),
           ((pfr0 >> 16) & 15) != 15, ((pfr0 >> 20) & 15) != 15);
    printf("isar0 crc32 matches hwcap %d\n", !!((isar0 >> 16) & 15) == !!(hwcap & (1 << 7)));
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "idregs")) return idregs();
    /* The counter. */
    uint64_t freq = MRS("cntfrq_el0");
    uint64_t t0 = MRS("cntvct_el0");
    volatile uint64_t spin = 0;
    for (int i = 0; i < 100000; i++) spin += i;
    uint64_t t1 = MRS("cntvct_el0");
    printf("cntfrq nonzero %d, cntvct monotonic %d\n", freq != 0, t1 >= t0);

    /* DC ZVA. */
    uint64_t dczid = MRS("dczid_el0");
    int prohibited = (dczid >> 4) & 1;
    size_t block = 4u << (dczid & 15);
    printf("dc zva prohibited %d\n", prohibited);
    if (!prohibited) {
        memset(buf, 0xff, sizeof buf);
        __asm__ volatile("dc zva, %0" : : "r"(buf + 2048 + 5) : "memory");
        size_t zero = 0, first = sizeof buf;
        for (size_t i = 0; i < sizeof buf; i++)
            if (!buf[i]) {
                zero++;
                if (i < first) first = i;
            }
        printf("dc zva zeroed the announced block %d, aligned %d\n", zero == block, first % block == 0 && first <= 2048 + 5 && first + block > 2048 + 5);
    }

    uint64_t ctr = MRS("ctr_el0");
    printf("ctr lines nonzero %d\n", (ctr & 15) != 0 || ((ctr >> 16) & 15) != 0);

    unsigned long hwcap = getauxval(AT_HWCAP);
    printf("hwcap fp %d asimd %d\n", !!(hwcap & (1 << 0)), !!(hwcap & (1 << 1)));

    /* Writable registers. */
    uint64_t tp = MRS("tpidr_el0");
    MSR("tpidr_el0", 0x123456789abcdef0ULL);
    uint64_t tp2 = MRS("tpidr_el0");
    MSR("tpidr_el0", tp);
    printf("tpidr_el0 round trip %d\n", tp2 == 0x123456789abcdef0ULL);
    for (uint64_t f = 0; f < 16; f++) {
        MSR("nzcv", f << 28);
        printf("%lx", (unsigned long)(MRS("nzcv") >> 28));
    }
    printf(" nzcv\n");
    MSR("fpcr", 3u << 22 | 1u << 24 | 1u << 25);
    printf("fpcr %lx\n", (unsigned long)MRS("fpcr"));
    MSR("fpcr", 0);
    MSR("fpsr", 0x9f | 1u << 27);
    printf("fpsr %lx\n", (unsigned long)MRS("fpsr"));
    MSR("fpsr", 0);

    const char *plat = (const char *)getauxval(AT_PLATFORM);
    struct utsname u;
    uname(&u);
    printf("AT_PLATFORM %s, uname machine %s\n", plat ? plat : "(none)", u.machine);
    return 0;
}
