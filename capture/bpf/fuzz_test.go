package bpf_test

import (
	"errors"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/capture/bpf"
)

// FuzzCompile: no expression panics the compiler; a syntax error names a
// column inside the expression; every program it makes passes the kernel's
// checks (Validate) and runs in the VM, optimized or not with the same
// decisions.
func FuzzCompile(f *testing.F) {
	for _, e := range exprs { // every expression compared with tcpdump
		f.Add(e)
	}
	// Broken and odd ones.
	for _, e := range []string{"(((", "not", "!!udp", "port 1-2", "host ::", "net ::/0", "vlan 1 and vlan 2 and vlan 3",
		"src or dst or", "host 1.2.3.4 and (5.6.7.8 or not (9.9.9.9))", "port 1 or (2 and not 3)", "&&", "| |",
		"udp port 5060 or 5061 or 5062 and not 5063", "portrange 0-65535", "net 0/0 mask 0.0.0.0"} {
		f.Add(e)
	}
	var samples [][]byte
	for i, s := range corpus() {
		if i%7 == 0 {
			samples = append(samples, s.eth)
		}
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := bpf.Parse(expr)
		if err != nil {
			var se *bpf.SyntaxError
			if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(expr) {
				t.Fatalf("%q: error %v (%T) names no column inside the expression", expr, err, err)
			}
			return
		}
		for _, link := range links {
			prog, err := flt.Compile(uint16(link), 0)
			if err != nil {
				var se *bpf.SyntaxError
				if !errors.As(err, &se) && !errors.Is(err, bpf.ErrTooLong) {
					t.Fatalf("%v %q: %v", link, expr, err)
				}
				continue
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("%v %q: invalid program: %v", link, expr, err)
			}
			was := bpf.SetOptimize(false)
			plain, err := flt.Compile(uint16(link), 0)
			bpf.SetOptimize(was)
			if err != nil {
				t.Fatal(err)
			}
			vp, err := bpf.NewVM(plain)
			if err != nil {
				t.Fatalf("%v %q: invalid plain program: %v", link, expr, err)
			}
			for _, s := range samples {
				data, proto, ok := asLink(s, link)
				if !ok {
					continue
				}
				aux := bpf.Aux{Protocol: proto}
				if a, b := vm.Run(data, aux), vp.Run(data, aux); a != b {
					t.Fatalf("%v %q: optimized %d, plain %d", link, expr, a, b)
				}
			}
		}
		if prog, err := flt.CompileSocket(uint16(capture.LinkLinuxSLL), 0); err == nil {
			if err := bpf.Validate(prog); err != nil {
				t.Fatalf("cooked socket %q: %v", expr, err)
			}
		}
	})
}
