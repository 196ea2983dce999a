/* EL0 system registers as an AArch64 Linux program sees them, checked against qemu-aarch64.
 * Values that are the CPU's own choice (MIDR, CTR, DCZID block size, counter frequency) differ
 * between CPUs, so only their properties are printed: the counter never goes backwards and
 * has a frequency, DC ZVA zeroes exactly the block DCZID_EL0 announces, and writable registers
 * (TPIDR_EL0, NZCV, FPCR, FPSR) read back what was written.
 *
 *   sysregs            the above
 *   sysregs idregs     ID registers (HWCAP_CPUID: emulated by the kernel)
 *   sysregs counter    the virtual counter ticks at CNTFRQ_EL0: over a 100 ms nanosleep,
 *                      CNTVCT_EL0 advances by 0.1 s worth of ticks, and by as much as
 *                      CLOCK_MONOTONIC read around it (generous bounds: shared machines) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <time.h>

#define MRS(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " reg : "=r"(v_)); v_; })
#define MSR(reg, v) __asm__ volatile("msr " reg ", %0" : : "r"((uint64_t)(v)))

static unsigned char buf[8192] __attribute__((aligned(4096)));

/* ID registers, as the kernel emulates them for EL0 with HWCAP_CPUID. Every HWCAP bit must
 * agree with the ID register field it comes from (arch/arm64/kernel/cpufeature.c,
 * arm64_elf_hwcaps): this holds on Linux, under qemu-aarch64 and under deja alike, whatever
 * features each CPU has, so only agreement is printed; a disagreement is printed with both
 * values and makes the program fail. An advertised feature is also exercised once (one of its
 * instructions, as .inst so no -march is needed): a HWCAP for an instruction the CPU does not
 * have would kill the program with SIGILL. */
enum { PFR0, PFR1, ISAR0, ISAR1, MMFR2, NREGS };
static const char *const regname[NREGS] = {"ID_AA64PFR0_EL1", "ID_AA64PFR1_EL1", "ID_AA64ISAR0_EL1",
                                           "ID_AA64ISAR1_EL1", "ID_AA64MMFR2_EL1"};
static uint32_t mem[4] __attribute__((aligned(16)));

#define PROBE(name, asm_, ...) \
    static void name(void) { __asm__ volatile(asm_ : : "r"(mem) : __VA_ARGS__); }
PROBE(p_aes, ".inst 0x4e284820", "v0")                                      /* aese v0.16b, v1.16b */
PROBE(p_pmull, ".inst 0x0ee2e020", "v0")                                    /* pmull v0.1q, v1.1d, v2.1d */
PROBE(p_sha1, ".inst 0x5e280820", "v0")                                     /* sha1h s0, s1 */
PROBE(p_sha2, ".inst 0x5e282820", "v0")                                     /* sha256su0 v0.4s, v1.4s */
PROBE(p_crc32, ".inst 0x1ac24020", "x0")                                    /* crc32b w0, w1, w2 */
PROBE(p_atomics, "mov x3, %0\n .inst 0xb8210062", "x2", "x3", "memory")    /* ldadd w1, w2, [x3] */
PROBE(p_rdm, ".inst 0x6e428420", "v0")                                      /* sqrdmlah v0.8h, v1.8h, v2.8h */
PROBE(p_jscvt, ".inst 0x1e7e0020", "x0", "cc")                              /* fjcvtzs w0, d1 */
PROBE(p_fcma, ".inst 0x6e82cc20", "v0")                                     /* fcmla v0.4s, v1.4s, v2.4s, #90 */
PROBE(p_lrcpc, "mov x1, %0\n .inst 0xb8bfc020", "x0", "x1", "memory")      /* ldapr w0, [x1] */
PROBE(p_ilrcpc, "mov x1, %0\n .inst 0x99404020", "x0", "x1", "memory")     /* ldapur w0, [x1, #4] */
PROBE(p_dotprod, ".inst 0x4e829420", "v0")                                  /* sdot v0.4s, v1.16b, v2.16b */
PROBE(p_frint, ".inst 0x1e684020", "v0")                                    /* frint32z d0, d1 */

static const struct cap {
    const char *name;
    int hwcap2, bit, reg, shift, is_signed, min;
    void (*probe)(void);
} caps[] = {
    {"FP", 0, 0, PFR0, 16, 1, 0, 0},          {"ASIMD", 0, 1, PFR0, 20, 1, 0, 0},
    {"FPHP", 0, 9, PFR0, 16, 1, 1, 0},        {"ASIMDHP", 0, 10, PFR0, 20, 1, 1, 0},
    {"SVE", 0, 22, PFR0, 32, 0, 1, 0},        {"DIT", 0, 24, PFR0, 48, 0, 1, 0},
    {"AES", 0, 3, ISAR0, 4, 0, 1, p_aes},     {"PMULL", 0, 4, ISAR0, 4, 0, 2, p_pmull},
    {"SHA1", 0, 5, ISAR0, 8, 0, 1, p_sha1},   {"SHA2", 0, 6, ISAR0, 12, 0, 1, p_sha2},
    {"SHA512", 0, 21, ISAR0, 12, 0, 2, 0},    {"CRC32", 0, 7, ISAR0, 16, 0, 1, p_crc32},
    {"ATOMICS", 0, 8, ISAR0, 20, 0, 2, p_atomics},
    {"ASIMDRDM", 0, 12, ISAR0, 28, 0, 1, p_rdm},
    {"SHA3", 0, 17, ISAR0, 32, 0, 1, 0},      {"SM3", 0, 18, ISAR0, 36, 0, 1, 0},
    {"SM4", 0, 19, ISAR0, 40, 0, 1, 0},       {"ASIMDDP", 0, 20, ISAR0, 44, 0, 1, p_dotprod},
    {"ASIMDFHM", 0, 23, ISAR0, 48, 0, 1, 0},  {"FLAGM", 0, 27, ISAR0, 52, 0, 1, 0},
    {"FLAGM2", 1, 7, ISAR0, 52, 0, 2, 0},     {"RNG", 1, 16, ISAR0, 60, 0, 1, 0},
    {"DCPOP", 0, 16, ISAR1, 0, 0, 1, 0},      {"DCPODP", 1, 0, ISAR1, 0, 0, 2, 0},
    {"JSCVT", 0, 13, ISAR1, 12, 0, 1, p_jscvt},
    {"FCMA", 0, 14, ISAR1, 16, 0, 1, p_fcma},
    {"LRCPC", 0, 15, ISAR1, 20, 0, 1, p_lrcpc},
    {"ILRCPC", 0, 26, ISAR1, 20, 0, 2, p_ilrcpc},
    {"FRINT", 1, 8, ISAR1, 32, 0, 1, p_frint},
    {"SB", 0, 29, ISAR1, 36, 0, 1, 0},        {"BF16", 1, 14, ISAR1, 44, 0, 1, 0},
    {"DGH", 1, 15, ISAR1, 48, 0, 1, 0},       {"I8MM", 1, 13, ISAR1, 52, 0, 1, 0},
    {"USCAT", 0, 25, MMFR2, 32, 0, 1, 0},     {"SSBS", 0, 28, PFR1, 4, 0, 2, 0},
    {"BTI", 1, 17, PFR1, 0, 0, 1, 0},         {"MTE", 1, 18, PFR1, 8, 0, 2, 0},
};

static int idregs(void) {
    unsigned long hw[2] = {getauxval(AT_HWCAP), getauxval(AT_HWCAP2)};
    if (!(hw[0] & (1 << 11))) {
        printf("no HWCAP_CPUID\n");
        return 0;
    }
    uint64_t reg[NREGS] = {MRS("id_aa64pfr0_el1"), MRS("id_aa64pfr1_el1"), MRS("id_aa64isar0_el1"),
                           MRS("id_aa64isar1_el1"), MRS("id_aa64mmfr2_el1")};
    uint64_t pfr0 = reg[PFR0];
    printf("midr implementer nonzero %d\n", (MRS("midr_el1") >> 24) != 0);
    printf("mpidr %lx revidr %lx\n", (unsigned long)MRS("mpidr_el1"), (unsigned long)MRS("revidr_el1"));
    printf("pfr0 el0 %d el1 %d\n", (int)(pfr0 & 15), (int)((pfr0 >> 4) & 15));
    printf("dfr0 debugver %d\n", (int)(MRS("id_aa64dfr0_el1") & 15));
    int fail = 0;
    unsigned long checked[2] = {1 << 11, 0}; /* HWCAP_CPUID has no field */
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        const struct cap *c = &caps[i];
        int raw = (int)((reg[c->reg] >> c->shift) & 15);
        int field = c->is_signed && raw >= 8 ? raw - 16 : raw;
        int has = !!(hw[c->hwcap2] & (1UL << c->bit));
        checked[c->hwcap2] |= 1UL << c->bit;
        if (has == (field >= c->min)) {
            printf("%s: HWCAP%s and %s[%d:%d] >= %d agree\n", c->name, c->hwcap2 ? "2" : "", regname[c->reg],
                   c->shift + 3, c->shift, c->min);
        } else {
            printf("%s: DISAGREE: HWCAP%s bit %d is %d, %s[%d:%d] = %d\n", c->name, c->hwcap2 ? "2" : "", c->bit,
                   has, regname[c->reg], c->shift + 3, c->shift, field);
            fail = 1;
        }
        if (has && c->probe) c->probe();
    }
    printf("hwcap bits not checked: %lx %lx\n", hw[0] & ~checked[0], hw[1] & ~checked[1]);
    return fail;
}

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int counter(void) {
    uint64_t freq = MRS("cntfrq_el0");
    double m0 = mono();
    uint64_t c0 = MRS("cntvct_el0");
    struct timespec d = {0, 100 * 1000 * 1000};
    nanosleep(&d, 0);
    uint64_t c1 = MRS("cntvct_el0");
    double m1 = mono();
    double secs = (double)(c1 - c0) / (double)freq;
    /* The counter's interval lies inside the clock's, so the ratio is at most 1 (plus rounding);
     * preemption between the reads can lower it. A counter at another rate than CNTFRQ_EL0
     * says (e.g. a host TSC of a few GHz) is off by a large factor. */
    double ratio = secs / (m1 - m0);
    int ok_secs = secs >= 0.099 && secs < 2.0;
    int ok_ratio = ratio > 0.8 && ratio < 1.001;
    printf("cntvct over a 100 ms nanosleep: delta/cntfrq in [0.099, 2) s %d, within 20%% of CLOCK_MONOTONIC %d\n",
           ok_secs, ok_ratio);
    if (!ok_secs || !ok_ratio)
        printf("cntfrq %lu, delta %lu ticks = %.6f s, CLOCK_MONOTONIC %.6f s\n", (unsigned long)freq,
               (unsigned long)(c1 - c0), secs, m1 - m0);
    return !(ok_secs && ok_ratio);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "idregs")) return idregs();
    if (argc > 1 && !strcmp(argv[1], "counter")) return counter();
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
