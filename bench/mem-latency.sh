#!/usr/bin/env bash
# Measures how long one load takes when it misses, by the size of the
# memory it ranges over: a chain of dependent loads (each reads the
# address of the next) through a random cycle of 64-byte lines in blocks
# of 32 KB to 64 MB, on processor 0. It prints the best of five passes of
# two million loads for each size, in nanoseconds a load. Where the time
# jumps is where the caches end: this VM's second level, its share of the
# third, and memory. The twenty-seventh round's figures (bench/HISTORY.md,
# five runs): 1.4–7.4 ns up to 512 KB, 8.8–17.2 ns from 1 to 4 MB, at
# 8 MB 120–127 ns in four runs and 19 ns in one, 131–166 ns from 16 MB
# on. The calls lingering in sipflow's correlator on big-sip (about 40 MB)
# are in memory, not in any cache.
# Needs gcc and taskset.
# Usage: bench/mem-latency.sh
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/lat.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static volatile size_t sink;
/* a random cycle through the block's 64-byte lines: a[i] holds the next */
static size_t *cycle(size_t bytes) {
	size_t n = bytes / 64, *a = aligned_alloc(4096, n * 64), *perm = malloc(n * sizeof *perm);
	for (size_t i = 0; i < n; i++) perm[i] = i;
	for (size_t i = n - 1; i > 0; i--) { size_t j = rand() % (i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
	for (size_t i = 0; i < n; i++) a[perm[i] * 8] = perm[(i + 1) % n] * 8;
	free(perm);
	return a;
}
int main(void) {
	const size_t kb[] = {32, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
	const long steps = 2000000;
	for (size_t k = 0; k < sizeof kb / sizeof kb[0]; k++) {
		size_t *a = cycle(kb[k] << 10), p = 0;
		for (long i = 0; i < steps; i++) p = a[p]; /* warm up */
		double best = 1e9;
		for (int r = 0; r < 5; r++) {
			double t0 = now();
			for (long i = 0; i < steps; i++) p = a[p];
			double t = now() - t0;
			if (t < best) best = t;
		}
		sink = p;
		printf("%6zu KB  %6.1f ns a load\n", kb[k], best * 1e9 / steps);
		free(a);
	}
	return 0;
}
C
gcc -O2 -o "$dir/lat" "$dir/lat.c"
taskset -c 0 "$dir/lat"
