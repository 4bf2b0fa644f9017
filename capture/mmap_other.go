//go:build !linux

package capture

import "os"

func mapFile(f *os.File, size int64) []byte { return nil }
func dropPages(b []byte)                    {}
func unmapFile(b []byte)                    {}
