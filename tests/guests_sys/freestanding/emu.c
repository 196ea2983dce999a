/* What the emulator itself decides (no native oracle: the expected output is fixed):
 * pid/tid 1000, one cpu, an 8 MiB stack limit, the thread name, personality, robust list,
 * /proc/<guest pid>/ paths, single-threaded futexes. */
#include "mini.h"

static void check(const char *what, long r) { kv(what, r); }

int main(int argc, char **argv) {
    (void)argc;
    char buf[64];
    check("getpid", S0(NR_getpid));
    check("gettid", S0(NR_gettid));
    u64 mask[4] = {7, 7, 7, 7};
    check("getaffinity", S3(NR_sched_getaffinity, 0, sizeof mask, mask));
    check("mask0", mask[0]);
    check("mask1", mask[1]);
    check("getaffinity_small", S3(NR_sched_getaffinity, 0, 4, mask));
    check("getaffinity_self", S3(NR_sched_getaffinity, 1000, 8, mask));
    check("setaffinity", S3(NR_sched_setaffinity, 0, 8, mask));
    u64 none = 0;
    check("setaffinity_none", S3(NR_sched_setaffinity, 0, 8, &none));
    u32 cpu = 9, node = 9;
    check("getcpu", S3(NR_getcpu, &cpu, &node, 0));
    check("cpu", cpu);
    check("node", node);
    u64 rl[2];
    check("getrlimit_stack", S2(NR_getrlimit, 3, rl));
    check("stack_cur", rl[0]);
    check("stack_max", rl[1]);
    u64 nrl[2] = {1048576, 8388608};
    check("setrlimit_stack", S4(NR_prlimit64, 0, 3, nrl, rl));
    check("old_cur", rl[0]);
    check("prlimit_stack", S4(NR_prlimit64, 1000, 3, 0, rl));
    check("new_cur", rl[0]);
    u64 big[2] = {1048576, 16777216};
    check("raise_hard", S4(NR_prlimit64, 0, 3, big, 0));
    mset(buf, 'x', 32);
    check("get_name", S2(NR_prctl, 16, buf));
    ks("name", buf);
    check("personality_query", S1(NR_personality, 0xffffffff));
    check("personality_set", S1(NR_personality, 0x0040000));
    check("personality_now", S1(NR_personality, 0xffffffff));
    check("set_robust_list", S2(NR_set_robust_list, 0x1234, 24));
    check("set_robust_list_bad", S2(NR_set_robust_list, 0x1234, 23));
    u64 head = 0, len = 0;
    check("get_robust_list", S3(NR_get_robust_list, 0, &head, &len));
    check("head", head);
    check("len", len);
    long n = S3(NR_readlink, "/proc/1000/exe", buf, sizeof buf);
    check("proc_pid_exe", n == (long)slen(argv[0]) && mcmp(buf, argv[0], n) == 0);
    int lock = 0;
    check("lock_pi", S2(NR_futex, &lock, 6));
    check("lock_word", lock);
    check("lock_pi_again", S2(NR_futex, &lock, 6));
    check("trylock_pi", S2(NR_futex, &lock, 8));
    check("unlock_pi", S2(NR_futex, &lock, 7));
    check("unlock_word", lock);
    check("unlock_pi_notowner", S2(NR_futex, &lock, 7));
    int w2 = 1;
    /* FUTEX_WAKE_OP: *uaddr2 += 3 (op ADD, cmp EQ 0) */
    check("wake_op", sys6(NR_futex, (long)&lock, 5, 1, 1, (long)&w2, (1L << 28) | (3 << 12)));
    check("wake_op_word", w2);
    check("sched_yield", S0(NR_sched_yield));
    check("membarrier_query", S2(NR_membarrier, 0, 0));
    return 0;
}
