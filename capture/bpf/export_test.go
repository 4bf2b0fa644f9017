package bpf

// SetOptimize switches the redundant-load pass on or off for a test and
// returns the previous setting.
func SetOptimize(on bool) (was bool) {
	was, optimize = optimize, on
	return was
}
