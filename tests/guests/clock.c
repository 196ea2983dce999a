/* Time-independent use of clocks: prints only whether properties hold (monotonic clock
 * never goes backwards, realtime is after 2020, nanosleep sleeps, resolutions sane). */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    struct timespec a, b, res;
    int ok = 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(b) < ns(a)) ok = 0;
        a = b;
    }
    printf("monotonic: %s\n", ok ? "ok" : "WENT BACKWARDS");
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    printf("realtime after 2020: %s\n", rt.tv_sec > 1577836800 ? "ok" : "no");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday consistent: %s\n", tv.tv_sec >= rt.tv_sec && tv.tv_sec - rt.tv_sec < 100 ? "ok" : "no");
    time_t t = time(NULL);
    printf("time() consistent: %s\n", t >= rt.tv_sec && t - rt.tv_sec < 100 ? "ok" : "no");
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("resolution sane: %s\n", ns(res) > 0 && ns(res) <= 10000000 ? "ok" : "no");
    struct timespec before, after, req = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    printf("nanosleep slept: %s\n", ns(after) - ns(before) >= 2000000 ? "ok" : "no");
    struct timespec cpu;
    printf("process cputime readable: %s\n", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0 ? "ok" : "no");
    struct tm tmv;
    time_t fixed = 1000000000;
    gmtime_r(&fixed, &tmv);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %a %j", &tmv);
    printf("gmtime(1e9) = %s\n", buf);
    printf("mktime roundtrip: %s\n", timegm(&tmv) == fixed ? "ok" : "no");
    return 0;
}
