package correlate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"
)

// TestLegTable: random adds, finds and removes, against a Go map, with
// hashes drawn from a few values so that runs wrap around the end of the
// table and many keys share a home slot (backward-shift deletion must
// keep every leg reachable); the table grows past its first size too.
func TestLegTable(t *testing.T) {
	for _, homes := range []uint64{3, 64, 1 << 40} {
		rng := rand.New(rand.NewPCG(1, homes))
		var tab legTable
		want := map[string]*Leg{}
		hashOf := func(id string) uint64 {
			// Homes near the first table's end, so that runs wrap to slot 0.
			return uint64(minSlots-2) + hashSeed(id)%homes
		}
		hashes := map[string]uint64{}
		for step := 0; step < 12000; step++ {
			id := fmt.Sprintf("call-%d", rng.IntN(2000))
			h, ok := hashes[id]
			if !ok {
				h = hashOf(id)
				hashes[id] = h
			}
			switch l := want[id]; {
			case l == nil:
				l = &Leg{CallID: id}
				tab.add(h, l)
				want[id] = l
			case rng.IntN(2) == 0:
				tab.remove(h, l)
				delete(want, id)
			}
			if step%97 == 0 {
				if tab.len() != len(want) {
					t.Fatalf("homes %d, step %d: len %d, want %d", homes, step, tab.len(), len(want))
				}
				for id, h := range hashes {
					if got := findLeg(&tab, h, []byte(id)); got != want[id] {
						t.Fatalf("homes %d, step %d: findLeg([]byte %s) = %p, want %p", homes, step, id, got, want[id])
					}
					if got := findLeg(&tab, h, id); got != want[id] {
						t.Fatalf("homes %d, step %d: findLeg(string %s) = %p, want %p", homes, step, id, got, want[id])
					}
				}
				seen := 0
				tab.each(func(l *Leg) {
					if want[l.CallID] != l {
						t.Fatalf("each gave %s, not open", l.CallID)
					}
					seen++
				})
				if seen != len(want) {
					t.Fatalf("each gave %d legs, want %d", seen, len(want))
				}
			}
		}
		if len(tab.slots) <= minSlots && homes > 3 {
			t.Errorf("homes %d: the table never grew (%d slots)", homes, len(tab.slots))
		}
	}
}

func hashSeed(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return h
}

// TestSeqTable: random sets and removes against a Go map, with hashes
// drawn from a few values near the first table's end (runs wrap and share
// home slots, so backward-shift removal must keep every entry reachable);
// a remove whose seq is not the filed one (a newer tomb of the Call-ID)
// leaves the entry; the table grows past its first size.
func TestSeqTable(t *testing.T) {
	for _, homes := range []uint64{3, 64, 1 << 40} {
		rng := rand.New(rand.NewPCG(2, homes))
		var tab seqTable
		want := map[uint64]uint64{}
		var keys []uint64
		for k := 0; k < 3000; k++ {
			h := uint64(minSlots-2) + (uint64(k)*0x9e3779b97f4a7c15)%homes + uint64(k)<<32
			if homes == 3 {
				h = uint64(minSlots-2) + uint64(k)%3 + uint64(k)<<32 // many keys, three homes
			}
			keys = append(keys, h)
		}
		for step := 0; step < 20000; step++ {
			h := keys[rng.IntN(len(keys))]
			switch seq, ok := want[h]; {
			case !ok || rng.IntN(3) == 0:
				s := uint64(step)
				tab.set(h, s)
				want[h] = s
			case rng.IntN(2) == 0:
				tab.remove(h, seq+1) // not the filed seq: stays
			default:
				tab.remove(h, seq)
				delete(want, h)
			}
			if step%101 == 0 {
				if tab.len() != len(want) {
					t.Fatalf("homes %d, step %d: len %d, want %d", homes, step, tab.len(), len(want))
				}
				for _, h := range keys {
					got, ok := tab.get(h)
					if w, wok := want[h]; ok != wok || got != w {
						t.Fatalf("homes %d, step %d: get(%#x) = %d, %v; want %d, %v", homes, step, h, got, ok, w, wok)
					}
				}
			}
		}
		if len(tab.slots) <= minSlots {
			t.Errorf("homes %d: the table never grew (%d slots)", homes, len(tab.slots))
		}
	}
}

// TestLegHotLine: what every RTP packet reads of its leg lies in the
// Leg's first 56 bytes, and what it reads of its endpoint in the
// endpoint's first 16: one cache line of each a packet, not three of the
// leg as when fields added later had pushed them apart. (A Leg's size
// class is a multiple of 64, and the runtime puts an 8-byte header before
// an object of its size with pointers: its first 56 bytes are one line.
// An endpoint is 80 bytes a slot, without header: objects start at
// multiples of 16, and 16 bytes never straddle two lines.)
func TestLegHotLine(t *testing.T) {
	var l Leg
	var ep endpoint
	for _, f := range []struct {
		name          string
		off, len, max uintptr
	}{
		{"Leg.last", unsafe.Offsetof(l.last), unsafe.Sizeof(l.last), 56},
		{"Leg.terminal", unsafe.Offsetof(l.terminal), unsafe.Sizeof(l.terminal), 56},
		{"Leg.finished", unsafe.Offsetof(l.finished), unsafe.Sizeof(l.finished), 56},
		{"Leg.media", unsafe.Offsetof(l.media), unsafe.Sizeof(l.media), 56},
		{"endpoint.leg", unsafe.Offsetof(ep.leg), unsafe.Sizeof(ep.leg), 16},
		{"endpoint.stale", unsafe.Offsetof(ep.stale), unsafe.Sizeof(ep.stale), 16},
	} {
		if f.off+f.len > f.max {
			t.Errorf("%s at bytes %d-%d: not within the first %d", f.name, f.off, f.off+f.len, f.max)
		}
	}
}

// TestUDPFlowAddrs: a UDPFlow gives back the addresses it was made from,
// IPv4, IPv6 and IPv4-mapped IPv6 alike (the last must stay IPv6: it is
// another address to the endpoints' map), and its hash is its key's.
func TestUDPFlowAddrs(t *testing.T) {
	for _, c := range [][2]string{
		{"192.0.2.1:5004", "198.51.100.7:40000"},
		{"[2001:db8::1]:5004", "[2001:db8::2]:6000"},
		{"[::ffff:192.0.2.1]:5004", "[::ffff:198.51.100.7]:40000"},
		{"0.0.0.0:0", "255.255.255.255:65535"},
	} {
		src, dst := netip.MustParseAddrPort(c[0]), netip.MustParseAddrPort(c[1])
		f := NewUDPFlow(src, dst)
		if s, d := f.Addrs(); s != src || d != dst {
			t.Errorf("NewUDPFlow(%v, %v).Addrs() = %v, %v", src, dst, s, d)
		}
		if k := flowKeyOf(src, dst); f.key != k || f.hash != k.fastHash() {
			t.Errorf("%v → %v: key or hash differs from flowKeyOf's", src, dst)
		}
	}
}
