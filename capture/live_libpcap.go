//go:build libpcap

package capture

// Live capture through libpcap (gopacket/pcap, cgo), for systems other than
// Linux: build with -tags libpcap and have libpcap's headers installed. The
// default build never needs them.
//
// The filter is compiled by capture/bpf, so the fragment rule holds here
// too, and installed with pcap_setfilter. Two cases go to libpcap's own
// compiler instead, with tcpdump's meaning: link types capture/bpf has no
// offsets for (BSD loopback), and VLAN tests, which libpcap knows how to run
// on systems that strip tags before the filter.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/google/gopacket/pcap"

	"github.com/sipflow/sipflow/capture/bpf"
)

const pcapReadTimeout = 100 * time.Millisecond // how long Close may wait for a reader

type pcapLive struct {
	handles []*pcapIface
	pkts    chan *Packet
	errs    chan error
	done    chan struct{}
	wg      sync.WaitGroup
	closed  sync.Once
	pool    sync.Pool

	cur *Packet
	n   int
	err error

	statsMu sync.Mutex
	final   *LiveStats // counters read by Close; the handles are gone after it
}

type pcapIface struct {
	name  string
	iface int
	h     *pcap.Handle
	link  LinkType
}

func interfaceLinkType(ni net.Interface) LinkType {
	if ni.Flags&net.FlagLoopback != 0 && runtime.GOOS != "linux" {
		return LinkNull // BSD and macOS loopback; known for sure only once opened
	}
	return LinkEthernet
}

func extraInterfaces() []Interface {
	if runtime.GOOS == "linux" {
		return []Interface{{Name: AnyInterface, Up: true, LinkType: LinkLinuxSLL}}
	}
	return nil
}

func openLive(opts LiveOptions) (LiveSource, error) {
	flt, err := bpf.Parse(opts.Filter)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	l := &pcapLive{
		pkts: make(chan *Packet, 1024),
		errs: make(chan error, len(opts.Interfaces)),
		done: make(chan struct{}),
	}
	for i, name := range opts.Interfaces {
		pi, err := openPcap(name, i, opts, flt)
		if err != nil {
			for _, h := range l.handles {
				h.h.Close()
			}
			return nil, err
		}
		l.handles = append(l.handles, pi)
	}
	for _, h := range l.handles {
		l.wg.Add(1)
		go l.read(h)
	}
	return l, nil
}

func openPcap(name string, pos int, opts LiveOptions, flt *bpf.Filter) (*pcapIface, error) {
	in, err := pcap.NewInactiveHandle(name)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	defer in.CleanUp()
	for _, err := range []error{in.SetSnapLen(opts.SnapLen), in.SetPromisc(opts.Promisc && name != AnyInterface),
		in.SetTimeout(pcapReadTimeout), in.SetBufferSize(opts.BufferSize), in.SetImmediateMode(true)} {
		if err != nil {
			return nil, fmt.Errorf("capture on %s: %w", name, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		// gopacket's activate errors are an unexported type; this is the
		// text of PCAP_ERROR_PERM_DENIED.
		if err.Error() == "Permission Denied" {
			return nil, permissionError(name, syscall.EPERM)
		}
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	link := LinkType(h.LinkType())
	prog, cerr := flt.Compile(uint16(link), opts.SnapLen)
	if cerr == nil && !flt.UsesVLAN() {
		ins := make([]pcap.BPFInstruction, len(prog))
		for i, p := range prog {
			ins[i] = pcap.BPFInstruction{Code: p.Op, Jt: p.Jt, Jf: p.Jf, K: p.K}
		}
		err = h.SetBPFInstructionFilter(ins)
	} else {
		err = h.SetBPFFilter(opts.Filter)
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("capture on %s: filter: %w", name, err)
	}
	return &pcapIface{name: name, iface: pos, h: h, link: link}, nil
}

func (l *pcapLive) read(pi *pcapIface) {
	defer l.wg.Done()
	for {
		data, ci, err := pi.h.ZeroCopyReadPacketData()
		select {
		case <-l.done:
			return
		default:
		}
		if err != nil {
			if errors.Is(err, pcap.NextErrorTimeoutExpired) {
				continue
			}
			if err == io.EOF {
				return
			}
			l.errs <- fmt.Errorf("capture on %s: %w", pi.name, err)
			return
		}
		p, _ := l.pool.Get().(*Packet)
		if p == nil {
			p = &Packet{}
		}
		*p = Packet{Time: ci.Timestamp.UTC(), Link: pi.link, Data: append(p.Data[:0], data...),
			Length: ci.Length, Iface: pi.iface}
		select {
		case l.pkts <- p:
		case <-l.done:
			return
		}
	}
}

func (l *pcapLive) Next() (*Packet, error) {
	if l.cur != nil {
		l.pool.Put(l.cur)
		l.cur = nil
	}
	if l.err != nil {
		return nil, l.err
	}
	select {
	case <-l.done:
		l.err = io.EOF
		return nil, l.err
	default:
	}
	select {
	case <-l.done:
		l.err = io.EOF
	case err := <-l.errs:
		l.err = err
	case p := <-l.pkts:
		l.n++
		p.N = l.n
		l.cur = p
		return p, nil
	}
	return nil, l.err
}

func (l *pcapLive) Stats() (LiveStats, error) {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	if l.final != nil {
		return *l.final, nil
	}
	return l.stats()
}

func (l *pcapLive) stats() (LiveStats, error) {
	var st LiveStats
	for _, pi := range l.handles {
		s, err := pi.h.Stats()
		if err != nil {
			return st, fmt.Errorf("capture on %s: statistics: %w", pi.name, err)
		}
		st.Received += uint64(s.PacketsReceived)
		st.Dropped += uint64(s.PacketsDropped)
	}
	return st, nil
}

func (l *pcapLive) Close() error {
	l.closed.Do(func() {
		l.statsMu.Lock()
		st, _ := l.stats()
		l.final = &st
		l.statsMu.Unlock()
		close(l.done)
		for _, pi := range l.handles {
			pi.h.Close() // waits for a read in progress (at most pcapReadTimeout)
		}
		l.wg.Wait()
	})
	return nil
}
