// Command gencap writes a deterministic capture of many SIP calls, with or
// without RTP, for benchmarks and tests that need volume.
//
//	go run ./cmd/gencap -calls 1000 -o /tmp/calls.pcap
//	go run ./cmd/gencap -calls 100000 -rate 500 -hold 2s -rtp=false -o /tmp/sip.pcap
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sipflow/sipflow/internal/synth"
)

func main() {
	o := synth.DefaultGen(1000)
	out := flag.String("o", "", "output pcap file (required; - for standard output)")
	flag.IntVar(&o.Calls, "calls", o.Calls, "number of calls")
	flag.Float64Var(&o.Rate, "rate", o.Rate, "calls started per second of capture time")
	flag.DurationVar(&o.Hold, "hold", o.Hold, "time each call stays up")
	flag.BoolVar(&o.RTP, "rtp", o.RTP, "send 20 ms G.711 RTP both ways while calls are up")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gencap -o FILE [-calls N] [-rate R] [-hold D] [-rtp=false]")
		os.Exit(2)
	}
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gencap:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	start := time.Now()
	n, err := synth.Generate(w, o)
	if err == nil && w != os.Stdout {
		err = w.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "gencap: %d calls, %d packets in %v\n", o.Calls, n, time.Since(start).Round(time.Millisecond))
}
