package bpf_test

import (
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/capture/bpf"
)

// TestDropReloads checks that the optimized program decides as the plain
// one on every corpus packet, and is never longer.
func TestDropReloads(t *testing.T) {
	samples := corpus()
	saved := 0
	for _, link := range links {
		for _, e := range exprs {
			bpf.SetOptimize(false)
			plain, err1 := bpf.Compile(e, link, 0)
			bpf.SetOptimize(true)
			opt, err2 := bpf.Compile(e, link, 0)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%v %q: %v / %v", link, e, err1, err2)
			}
			if err1 != nil {
				continue
			}
			if len(opt) > len(plain) {
				t.Errorf("%v %q: optimized %d > plain %d", link, e, len(opt), len(plain))
			}
			saved += len(plain) - len(opt)
			vp, err := bpf.NewVM(plain)
			if err != nil {
				t.Fatal(err)
			}
			vo, err := bpf.NewVM(opt)
			if err != nil {
				t.Fatalf("%v %q: optimized program invalid: %v", link, e, err)
			}
			for _, s := range samples {
				data, proto, ok := asLink(s.eth, link)
				if !ok {
					continue
				}
				aux := bpf.Aux{Protocol: proto}
				if a, b := vp.Run(data, aux), vo.Run(data, aux); a != b {
					t.Errorf("%v %q on %s: plain %d, optimized %d", link, e, s.name, a, b)
				}
			}
		}
	}
	t.Logf("%d instructions saved", saved)
	if saved == 0 {
		t.Error("dropReloads saved no instruction over the whole expression list")
	}
}

// TestVLANOnCooked: tcpdump has no VLAN offsets for Linux cooked frames;
// ours decide as on the Ethernet frame they were made from.
func TestVLANOnCooked(t *testing.T) {
	samples := corpus()
	for _, e := range exprs {
		eth, err := bpf.Compile(e, capture.LinkEthernet, 0)
		if err != nil {
			t.Fatal(err)
		}
		ve, _ := bpf.NewVM(eth)
		for _, link := range []capture.LinkType{capture.LinkLinuxSLL, capture.LinkLinuxSLL2} {
			prog, err := bpf.Compile(e, link, 0)
			if err != nil {
				t.Fatal(err)
			}
			vc, _ := bpf.NewVM(prog)
			for _, s := range samples {
				data, _, _ := asLink(s.eth, link)
				if a, b := ve.Run(s.eth, bpf.Aux{}) != 0, vc.Run(data, bpf.Aux{}) != 0; a != b {
					t.Errorf("%v %q on %s: %v, on Ethernet %v", link, e, s.name, b, a)
				}
			}
		}
	}
}
