//go:build linux

package capture

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only, or returns nil when it cannot
// (the caller then reads the file instead).
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	syscall.Madvise(b, syscall.MADV_SEQUENTIAL) // read-ahead; advice only
	return b
}

// dropPages takes b's pages out of the process's memory. The file's data
// stays in the page cache, and a later touch maps it in again, so a view
// kept by mistake still reads the right bytes: this only keeps the
// resident size (RSS) to the part being read, not the whole file.
func dropPages(b []byte) {
	if len(b) > 0 {
		syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}

func unmapFile(b []byte) { syscall.Munmap(b) }
