// Command sipflow turns packet captures into SIP call flows.
package main

import (
	"os"
	"runtime"
	"strings"
)

func main() {
	// The runtime samples an allocation every 512 KB or so for memory
	// profiles, each time walking the stack: 0.4% of the instructions on
	// big-sip, for a profile only --memprofile reads. The rate must be
	// set before the allocations it is to see, so it is decided here, from
	// the command line, rather than when cobra has parsed the flags.
	if !memProfileAsked(os.Args[1:]) {
		runtime.MemProfileRate = 0
	}
	g := &globalOptions{streams: streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, gcFloor: heapFloor}
	os.Exit(runWith(g, os.Args[1:]))
}

// memProfileAsked reports whether args hold the --memprofile flag (any
// form cobra accepts: "--memprofile F" or "--memprofile=F").
func memProfileAsked(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--memprofile" || strings.HasPrefix(a, "--memprofile=") {
			return true
		}
	}
	return false
}
