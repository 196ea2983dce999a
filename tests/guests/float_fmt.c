/* Floating point arithmetic and formatting: printf %g/%.17g/%a/%e/%f, long double %Lg,
 * float/double/long double conversions, rounding of ties, special values. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <inttypes.h>

static volatile double vals[] = {
    0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 1e-300, 1e300, 123456789.125,
    5e-324, 2.2250738585072014e-308, 2.2250738585072009e-308, 1.7976931348623157e308,
    3.141592653589793, 2.718281828459045, 0.5, 1.5, 2.5, -2.5, 1e21, 1e22, 1e23, 9007199254740993.0,
    4.35, 0.000123, 65504.0, 1e-5, 123.456e-10,
};

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

int main(void) {
    int n = (int)(sizeof vals / sizeof vals[0]);
    for (int i = 0; i < n; i++) {
        double d = vals[i];
        printf("[%2d] %g | %.17g | %a | %e | %.3f | %016" PRIx64 "\n", i, d, d, d, d, d, bits(d));
        printf("     %10.4g|%-12.5e|%+.0f|% .2e|%#g|%G|%E\n", d, d, d, d, d, d, d);
        float f = (float)d;
        printf("     float %g %.9g %a\n", (double)f, (double)f, (double)f);
        long double ld = (long double)d / 3.0L;
        printf("     ld %Lg %.21Lg %Le\n", ld, ld, ld);
    }
    volatile double z = 0.0;
    double inf = 1.0 / z, nan = z / z;
    printf("inf %g %e %f %a | -inf %g | nan? %d %d\n", inf, inf, inf, inf, -inf, isnan(nan), isinf(inf));
    printf("signbit %d %d\n", signbit(-0.0 * vals[2]) != 0, signbit(vals[2]) != 0);

    printf("== arithmetic\n");
    double acc = 0.0, prod = 1.0;
    float facc = 0.0f;
    long double lacc = 0.0L;
    for (int i = 1; i <= 20000; i++) {
        double x = (double)i;
        acc += 1.0 / (x * x);
        prod *= 1.0 + 1.0 / (x * 1000.0);
        facc += 1.0f / (float)i;
        lacc += 1.0L / ((long double)x * x);
    }
    printf("sum1/x^2 %.17g prod %.17g fsum %.9g ldsum %.21Lg\n", acc, prod, (double)facc, lacc);

    printf("== conversions\n");
    static volatile double cv[] = {0.5, 1.5, 2.5, -0.5, -1.5, 2.4999999, 1e10, -1e10, 4294967295.7, -2147483648.9,
                                   9.2e18, -9.2e18};
    for (unsigned i = 0; i < sizeof cv / sizeof cv[0]; i++) {
        double d = cv[i];
        long long ll = (long long)d;
        int t = (d > -2147483649.0 && d < 2147483648.0) ? (int)d : 0;
        unsigned long long ull = d >= 0 && d < 1.8e19 ? (unsigned long long)d : 0;
        printf("%.17g -> ll %lld i %d ull %llu lrint %ld llround %lld float %a\n", d, ll, t, ull, lrint(d),
               llround(d), (double)(float)d);
    }
    for (long long k = -5; k <= 5; k++) {
        long long big = k * 1234567890123456789LL;
        unsigned long long ub = (unsigned long long)big;
        printf("%lld -> %.17g %.9g | u %.17g\n", big, (double)big, (double)(float)big, (double)ub);
    }
    printf("== comparisons\n");
    double cmpv[] = {-1.0, 0.0, 1.0, 0.0};
    cmpv[3] = nan;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double a = cmpv[i], b = cmpv[j];
            printf("%d%d%d%d%d%d ", a < b, a <= b, a == b, a != b, a > b, a >= b);
        }
    printf("\n");
    printf("fmin/fmax %g %g copysign %g\n", fmin(1.0, nan), fmax(-3.0, 2.0), copysign(3.0, -0.0));
    printf("DBL_EPSILON %a LDBL_EPSILON %La FLT_MAX %a\n", DBL_EPSILON, LDBL_EPSILON, (double)FLT_MAX);
    return 0;
}
