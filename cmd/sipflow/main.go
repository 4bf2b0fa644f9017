// Command sipflow turns packet captures into SIP call flows.
package main

import "os"

func main() {
	g := &globalOptions{streams: streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, gcFloor: heapFloor, program: true}
	os.Exit(runWith(g, os.Args[1:]))
}
