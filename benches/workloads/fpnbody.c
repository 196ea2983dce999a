/* Floating-point workload: a small n-body simulation (SSE2 scalar double). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 5
static double x[N], y[N], z[N], vx[N], vy[N], vz[N], m[N];

/* argv[1]: steps (default 60000; `deja bench --quick` passes 1000). */
int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 60000;
    for (int i = 0; i < N; i++) {
        x[i] = i * 1.1; y[i] = i * 0.7 - 1; z[i] = 0.3 * i; vx[i] = 0.01 * i; vy[i] = -0.02 * i; vz[i] = 0; m[i] = 1.0 + i;
    }
    for (int step = 0; step < steps; step++) {
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) {
                double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
                double d2 = dx * dx + dy * dy + dz * dz + 0.01;
                double mag = 0.001 / (d2 * sqrt(d2));
                vx[i] -= dx * m[j] * mag; vy[i] -= dy * m[j] * mag; vz[i] -= dz * m[j] * mag;
                vx[j] += dx * m[i] * mag; vy[j] += dy * m[i] * mag; vz[j] += dz * m[i] * mag;
            }
        for (int i = 0; i < N; i++) { x[i] += 0.001 * vx[i]; y[i] += 0.001 * vy[i]; z[i] += 0.001 * vz[i]; }
    }
    printf("%.9f %.9f %.9f\n", x[0], y[1], z[2]);
    return 0;
}
