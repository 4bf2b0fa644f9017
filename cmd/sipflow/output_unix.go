//go:build unix

package main

import (
	"os"
	"syscall"
)

// sharedFile reports whether renaming a file over st would change what
// others see of it: it has other hard links, or another user owns it (in
// a shared folder, whose sticky bit forbids the rename, as it should).
func sharedFile(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return !ok || sys.Nlink > 1 || int(sys.Uid) != os.Geteuid()
}
