#!/usr/bin/env bash
# Samples how fast each processor runs, for SECONDS (default 30): on
# processor 0 and then on processor 1, again and again, it times two
# pieces of work of about 1.6 ms each: independent adds and compares over
# 16 KB (work that keeps many of a core's units busy, as a parser does),
# and a chain of dependent multiplications (which leaves them idle). It
# prints, for each kind and processor, percentiles of the samples' times
# over the kind's best (the first percentile of all its samples), and how
# often one processor was slow at the first kind while the other was not.
# The twenty-sixth round's finding (bench/HISTORY.md): in the host's busy
# spells the first kind runs up to 1.7 times slower, on each processor on
# its own, in spells of tens of milliseconds, while the second hardly
# slows: the clock is the same and the processors are not taken away.
# Needs gcc and a machine with two or more processors.
# Usage: bench/vcpu-speed.sh [SECONDS]
set -eu
secs=${1:-30}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/probe.c" <<'C'
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void pin(int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); sched_setaffinity(0, sizeof s, &s); }
static unsigned char buf[16384];
static volatile unsigned long sink;
static double wide(void) { /* independent lanes: many instructions a cycle */
	double t0 = now();
	unsigned long h1 = 1, h2 = 2, h3 = 3, h4 = 4, n = 0;
	for (int r = 0; r < 400; r++)
		for (int i = 0; i < 16384; i += 4) { h1 += buf[i]; h2 ^= buf[i + 1] << 3; h3 += buf[i + 2] * 3; h4 ^= h4 >> 7; n += buf[i + 3] == ':'; }
	sink = h1 + h2 + h3 + h4 + n;
	return now() - t0;
}
static double chain(void) { /* one dependent multiply after another */
	double t0 = now();
	unsigned long x = 1;
	for (long i = 0; i < 1500000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
	return now() - t0;
}
static int cmp(const void *x, const void *y) { double a = *(const double *)x, b = *(const double *)y; return (a > b) - (a < b); }
static void pct(const char *name, double *v, int n, double best) {
	for (int i = 0; i < n; i++) v[i] /= best;
	qsort(v, n, sizeof *v, cmp);
	printf("%s: median %.2f  p90 %.2f  p99 %.2f  max %.2f\n", name, v[n / 2], v[n * 9 / 10], v[n * 99 / 100], v[n - 1]);
}
enum { maxSamples = 1 << 18 };
static double va[maxSamples], vb[maxSamples], ca[maxSamples], cb[maxSamples], all[2 * maxSamples];
/* best is the first percentile of both processors' samples of one kind:
   the single fastest may be a fluke */
static double best(double *a, double *b, int n) {
	for (int i = 0; i < n; i++) all[i] = a[i], all[n + i] = b[i];
	qsort(all, 2 * n, sizeof *all, cmp);
	return all[2 * n / 100];
}
int main(int argc, char **argv) {
	double secs = atof(argv[1]);
	for (int i = 0; i < 16384; i++) buf[i] = i * 7;
	double end = now() + secs;
	int n = 0;
	while (now() < end && n < maxSamples) {
		pin(0); va[n] = wide(); ca[n] = chain();
		pin(1); vb[n] = wide(); cb[n] = chain();
		n++;
	}
	double bw = best(va, vb, n), bc = best(ca, cb, n);
	int none = 0, one = 0, both = 0;
	for (int i = 0; i < n; i++) {
		int sa = va[i] > 1.2 * bw, sb = vb[i] > 1.2 * bw;
		both += sa && sb; one += sa != sb; none += !sa && !sb;
	}
	printf("%d samples of each kind on each processor; time over the kind's best (its first percentile)\n", n);
	printf("wide work, %.2f ms at best:\n", bw * 1e3);
	pct("  cpu0", va, n, bw);
	pct("  cpu1", vb, n, bw);
	printf("  over 1.2x: neither processor %.0f%% of the samples, one of the two %.0f%%, both %.0f%%\n", 100.0 * none / n, 100.0 * one / n, 100.0 * both / n);
	printf("dependent multiplications, %.2f ms at best:\n", bc * 1e3);
	pct("  cpu0", ca, n, bc);
	pct("  cpu1", cb, n, bc);
	return 0;
}
C
gcc -O2 -fno-tree-vectorize -o "$dir/probe" "$dir/probe.c"
"$dir/probe" "$secs"
