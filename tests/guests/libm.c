/* libm and strtod: transcendental functions over a fixed grid, rounding functions,
 * fmod/remainder, frexp/ldexp, and strtod of tricky decimal inputs. */
#include <errno.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static const char *tricky[] = {
    "0", "-0", "1", "0.1", "1e23", "8.98846567431158e307", "2.2250738585072012e-308",
    "2.2250738585072011e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
    "2.4703282292062328e-324", "1e-400", "1e400", "-1e400", "0x1.8p3", "0X1P-1074", "inf", "-Infinity",
    "nan", "  +12.5e+2xyz", "1.7976931348623158e308", "1.7976931348623159e308",
    "9007199254740993", "9007199254740992.5", "0.500000000000000166533453693773481063544750213623046875",
    "123456789012345678901234567890", "3.14159265358979323846264338327950288", ".5", "5.", "e5", "",
    "1e", "1e+", "0.000000000000000000000000000000000000000000001", "7.038531e-26",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203124", "100000000000000016777215",
};

int main(void) {
    printf("== grid\n");
    for (int i = -20; i <= 20; i++) {
        double x = i * 0.37 + 0.01;
        double ax = fabs(x) + 0.001;
        printf("%+.3f sin %.17g cos %.17g tan %.17g exp %.17g log %.17g sqrt %.17g\n", x, sin(x), cos(x), tan(x),
               exp(x), log(ax), sqrt(ax));
        printf("       atan %.17g atan2 %.17g pow %.17g cbrt %.17g log10 %.17g log2 %.17g\n", atan(x), atan2(x, 1.5),
               pow(ax, x), cbrt(x), log10(ax), log2(ax));
        printf("       sinh %.17g tanh %.17g expm1 %.17g log1p %.17g hypot %.17g\n", sinh(x / 4), tanh(x),
               expm1(x / 8), log1p(ax), hypot(x, 3.0));
        float fx = (float)x;
        printf("       f: sin %.9g exp %.9g sqrt %.9g\n", (double)sinf(fx), (double)expf(fx / 2),
               (double)sqrtf(fabsf(fx)));
    }
    printf("== big args\n");
    double bigs[] = {1e6, 1e15, 1e22, 1e300, 710.0, 709.78, -745.2, 1e-310};
    for (unsigned i = 0; i < sizeof bigs / sizeof bigs[0]; i++) {
        double x = bigs[i];
        printf("%g: sin %.17g cos %.17g exp %.17g log %.17g\n", x, sin(x), cos(x), exp(x), log(x));
    }
    printf("== pow\n");
    double pb[] = {0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 10.0, 1e-3};
    double pe[] = {0.0, 1.0, -1.0, 0.5, 2.0, 3.0, -3.0, 1e3, -1e3, 0.3333};
    for (unsigned i = 0; i < sizeof pb / sizeof pb[0]; i++) {
        for (unsigned j = 0; j < sizeof pe / sizeof pe[0]; j++) printf("%.17g ", pow(pb[i], pe[j]));
        printf("\n");
    }
    printf("== rounding\n");
    double rv[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.7, 1e300, -0.0, 4503599627370497.0, 0.49999999999999994};
    for (unsigned i = 0; i < sizeof rv / sizeof rv[0]; i++) {
        double x = rv[i];
        printf("%.17g: floor %g ceil %g round %g trunc %g rint %g nearbyint %g lround %ld\n", x, floor(x), ceil(x),
               round(x), trunc(x), rint(x), nearbyint(x), fabs(x) < 1e18 ? lround(x) : 0L);
    }
    int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        volatile double a = 1.0, b = 3.0;
        volatile double q = a / b;
        printf("mode %d: rint(2.5) %g rint(-2.5) %g 1/3 %a sqrt2 %a\n", m, rint(2.5), rint(-2.5), q,
               sqrt((double)b - 1.0));
    }
    fesetround(FE_TONEAREST);
    printf("== fmod/remainder/frexp\n");
    double fa[] = {10.0, -10.0, 5.5, 1e20, 0.3, -7.25};
    double fb[] = {3.0, -3.0, 0.7, 1.1, 0.1, 2.0};
    for (unsigned i = 0; i < 6; i++)
        for (unsigned j = 0; j < 6; j++) {
            int q = 0;
            double rq = remquo(fa[i], fb[j], &q);
            printf("%g,%g: fmod %.17g rem %.17g remquo %.17g/%d\n", fa[i], fb[j], fmod(fa[i], fb[j]),
                   remainder(fa[i], fb[j]), rq, q & 7);
        }
    for (int i = 0; i < 8; i++) {
        int e;
        double x = (i - 3) * 123.456 + 0.001;
        double m = frexp(x, &e);
        printf("frexp %.17g = %.17g * 2^%d; ldexp %.17g; modf ", x, m, e, ldexp(m, e + 3));
        double ip;
        double fp = modf(x, &ip);
        printf("%.17g %.17g; logb %g ilogb %d\n", ip, fp, logb(x), ilogb(x));
    }
    printf("== strtod\n");
    for (unsigned i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
        char *end;
        errno = 0;
        double d = strtod(tricky[i], &end);
        int err = errno;
        float f = strtof(tricky[i], NULL);
        long double ld = strtold(tricky[i], NULL);
        printf("'%s' -> %.17g [%016llx] used %d erange %d | f %.9g | ld %.21Lg\n", tricky[i], d,
               (unsigned long long)bits(d), (int)(end - tricky[i]), err == ERANGE, (double)f, ld);
    }
    printf("atof %g strtol %ld %ld %lu\n", atof("3.25"), strtol("-0x7fz", NULL, 16), strtol("  0777", NULL, 0),
           strtoul("18446744073709551615", NULL, 10));
    return 0;
}
