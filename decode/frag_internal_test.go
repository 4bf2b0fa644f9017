package decode

import (
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/synth"
)

type nopHandler struct{}

func (nopHandler) Message(*Message)   {}
func (nopHandler) Datagram(*Datagram) {}
func (nopHandler) Warn(*Warning)      {}

// TestFragmentOrderBounded checks that the queue order kept for expiry
// and eviction does not grow with datagrams completed while the packet
// clock stands still (a capture with no timestamps): it is pruned when
// the gone outnumber the open.
func TestFragmentOrderBounded(t *testing.T) {
	d := NewDecoder(nopHandler{}, Options{})
	msg := make([]byte, 3000)
	copy(msg, "OPTIONS sip:x SIP/2.0\r\n")
	n, most := 0, 0
	for i := range 5000 {
		for _, f := range synth.Fragments4("10.0.0.1:5060", "10.0.0.2:5060", msg, 1500, uint16(i)) {
			n++
			d.Decode(&capture.Packet{N: n, Time: time.Unix(0, 0), Link: capture.LinkEthernet, Data: f, Length: len(f)})
			most = max(most, len(d.frags.q))
		}
		if len(d.frags.order) > 2*most+65 {
			t.Fatalf("after %d datagrams, %d queues in order, at most %d open at once", i+1, len(d.frags.order), most)
		}
	}
}
