//go:build linux && !libpcap

package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/sipflow/sipflow/capture/bpf"
	"github.com/sipflow/sipflow/internal/synth"
)

// The live tests capture on the loopback interface, so they need root (or
// CAP_NET_RAW); each uses its own UDP port and is bounded in time and
// packets.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
}

func loopbackName(t *testing.T) string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ni := range ifs {
		if ni.Flags&net.FlagLoopback != 0 && ni.Flags&net.FlagUp != 0 {
			return ni.Name
		}
	}
	t.Skip("no loopback interface up")
	return ""
}

// got is a packet copied out of a LiveSource.
type got struct {
	n      int
	ts     time.Time
	link   LinkType
	data   []byte
	length int
	iface  int
}

// collect reads from src until it has max packets or the deadline passes,
// then closes src. It fails the test if Next returns anything but io.EOF
// after Close.
func collect(t *testing.T, src LiveSource, max int, d time.Duration) []got {
	t.Helper()
	type res struct {
		pkts []got
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		var r res
		for len(r.pkts) < max {
			p, err := src.Next()
			if err != nil {
				r.err = err
				break
			}
			r.pkts = append(r.pkts, got{p.N, p.Time, p.Link, bytes.Clone(p.Data), p.Length, p.Iface})
		}
		ch <- r
	}()
	var r res
	select {
	case r = <-ch:
	case <-time.After(d):
		src.Close()
		select {
		case r = <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("Next still blocked 5 s after Close")
		}
	}
	src.Close()
	if r.err != nil && r.err != io.EOF {
		t.Fatalf("Next: %v", r.err)
	}
	return r.pkts
}

// udpPayload extracts the UDP payload and destination port from a frame.
func udpPayload(t *testing.T, p got) (uint16, []byte) {
	t.Helper()
	var first gopacket.Decoder
	switch p.link {
	case LinkEthernet:
		first = layers.LayerTypeEthernet
	case LinkLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	default:
		t.Fatalf("packet %d: link type %v", p.n, p.link)
	}
	pkt := gopacket.NewPacket(p.data, first, gopacket.Default)
	u, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if u == nil {
		t.Fatalf("packet %d: no UDP in % x", p.n, p.data)
	}
	return uint16(u.DstPort), u.Payload
}

func send(t *testing.T, to string, payloads ...string) {
	t.Helper()
	c, err := net.Dial("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range payloads {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
}

// listen opens UDP ports so the test traffic draws no ICMP errors.
func listen(t *testing.T, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		c, err := net.ListenPacket("udp", a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}

func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	lo := loopbackName(t)
	listen(t, "127.0.0.1:45999", "127.0.0.1:45998")
	src, err := OpenLive(LiveOptions{Interfaces: []string{lo}, Filter: "udp port 45999"})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	send(t, "127.0.0.1:45998", "other port 1")
	want := []string{"sipflow 1", "sipflow 2", "sipflow 3", "sipflow 4"}
	send(t, "127.0.0.1:45999", want[:2]...)
	send(t, "127.0.0.1:45998", "other port 2")
	send(t, "127.0.0.1:45999", want[2:]...)
	pkts := collect(t, src, len(want), 5*time.Second)
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets, want %d", len(pkts), len(want))
	}
	for i, p := range pkts {
		if p.n != i+1 {
			t.Errorf("packet %d has N %d", i+1, p.n)
		}
		if p.link != LinkEthernet {
			t.Errorf("packet %d: link %v, want Ethernet (loopback frames)", p.n, p.link)
		}
		if !bytes.Equal(p.data[:12], make([]byte, 12)) || binary.BigEndian.Uint16(p.data[12:]) != 0x0800 {
			t.Errorf("packet %d: not a loopback Ethernet IPv4 frame: % x", p.n, p.data[:14])
		}
		port, payload := udpPayload(t, p)
		if port != 45999 || string(payload) != want[i] {
			t.Errorf("packet %d: port %d payload %q, want 45999 %q (a packet to another port passed the filter?)", p.n, port, payload, want[i])
		}
		if p.length != len(p.data) || len(p.data) != 14+20+8+len(want[i]) {
			t.Errorf("packet %d: length %d, %d bytes", p.n, p.length, len(p.data))
		}
		if d := p.ts.Sub(before); d < -time.Second || d > time.Second || p.ts.Location() != time.UTC {
			t.Errorf("packet %d: timestamp %v, sent at %v", p.n, p.ts, before)
		}
		if i > 0 && p.ts.Before(pkts[i-1].ts) {
			t.Errorf("packet %d: timestamp goes back", p.n)
		}
	}
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != uint64(len(want)) || st.Dropped != 0 { // the kernel counts only what passed its filter
		t.Errorf("stats %+v, want %d received, none dropped", st, len(want))
	}
}

func TestLiveCloseUnblocksNext(t *testing.T) {
	needRoot(t)
	src, err := OpenLive(LiveOptions{Interfaces: []string{loopbackName(t)}, Filter: "udp port 45997"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := src.Next()
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Next after Close: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5 s after Close")
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatalf("second Next: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := src.Stats(); err != nil {
		t.Fatalf("Stats after Close: %v", err)
	}
}

// TestLiveAny: the "any" pseudo-interface delivers Linux cooked frames,
// each loopback packet once.
func TestLiveAny(t *testing.T) {
	needRoot(t)
	listen(t, "127.0.0.1:45996")
	src, err := OpenLive(LiveOptions{Interfaces: []string{AnyInterface}, Filter: "udp dst port 45996"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"any 1", "any 2", "any 3"}
	send(t, "127.0.0.1:45996", want...)
	// One more than sent: a duplicate would show up.
	pkts := collect(t, src, len(want)+1, time.Second)
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets, want %d (each once)", len(pkts), len(want))
	}
	for i, p := range pkts {
		if p.link != LinkLinuxSLL {
			t.Fatalf("link %v, want Linux cooked", p.link)
		}
		d := p.data
		// SLL header: packet type, ARPHRD type, address length, address,
		// protocol (all big-endian).
		if pt := binary.BigEndian.Uint16(d[0:]); pt != unix.PACKET_HOST {
			t.Errorf("packet %d: packet type %d, want PACKET_HOST", p.n, pt)
		}
		if ht := binary.BigEndian.Uint16(d[2:]); ht != unix.ARPHRD_LOOPBACK {
			t.Errorf("packet %d: ARPHRD %d, want loopback", p.n, ht)
		}
		if al := binary.BigEndian.Uint16(d[4:]); al != 6 || !bytes.Equal(d[6:14], make([]byte, 8)) {
			t.Errorf("packet %d: address length %d, address % x", p.n, al, d[6:14])
		}
		if proto := binary.BigEndian.Uint16(d[14:]); proto != 0x0800 {
			t.Errorf("packet %d: protocol %#x", p.n, proto)
		}
		port, payload := udpPayload(t, p)
		if port != 45996 || string(payload) != want[i] {
			t.Errorf("packet %d: port %d payload %q, want %q", p.n, port, payload, want[i])
		}
		if p.length != len(d) || len(d) != 16+20+8+len(want[i]) {
			t.Errorf("packet %d: length %d, %d bytes", p.n, p.length, len(d))
		}
	}
}

// TestLiveSeveralInterfaces opens the loopback twice: every packet arrives
// once from each socket, told apart by Iface, and N counts them all.
func TestLiveSeveralInterfaces(t *testing.T) {
	needRoot(t)
	lo := loopbackName(t)
	listen(t, "127.0.0.1:45995")
	src, err := OpenLive(LiveOptions{Interfaces: []string{lo, AnyInterface}, Filter: "udp port 45995"})
	if err != nil {
		t.Fatal(err)
	}
	send(t, "127.0.0.1:45995", "a", "b")
	pkts := collect(t, src, 5, time.Second)
	if len(pkts) != 4 {
		t.Fatalf("got %d packets, want 4", len(pkts))
	}
	seen := map[string]bool{}
	for i, p := range pkts {
		if p.n != i+1 {
			t.Errorf("packet %d has N %d", i+1, p.n)
		}
		_, payload := udpPayload(t, p)
		wantLink := []LinkType{LinkEthernet, LinkLinuxSLL}[p.iface]
		if p.link != wantLink {
			t.Errorf("packet %d from interface %d: link %v, want %v", p.n, p.iface, p.link, wantLink)
		}
		seen[fmt.Sprint(p.iface, string(payload))] = true
	}
	for _, k := range []string{"0a", "0b", "1a", "1b"} {
		if !seen[k] {
			t.Errorf("missing %s (interface, payload): %v", k, seen)
		}
	}
}

func TestLiveIPv6(t *testing.T) {
	needRoot(t)
	c, err := net.ListenPacket("udp6", "[::1]:45994")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer c.Close()
	src, err := OpenLive(LiveOptions{Interfaces: []string{loopbackName(t)}, Filter: "ip6 and udp port 45994"})
	if err != nil {
		t.Fatal(err)
	}
	send(t, "[::1]:45994", "six")
	pkts := collect(t, src, 1, 5*time.Second)
	if len(pkts) != 1 {
		t.Fatalf("got %d packets", len(pkts))
	}
	if port, payload := udpPayload(t, pkts[0]); port != 45994 || string(payload) != "six" {
		t.Fatalf("port %d payload %q", port, payload)
	}
}

// TestLiveFragments sends a UDP datagram to a filtered port as IPv4 and
// IPv6 fragments, through a raw socket: every fragment must be captured,
// where tcpdump's "udp port N" would keep only the first IPv4 one.
func TestLiveFragments(t *testing.T) {
	needRoot(t)
	lo := loopbackName(t)
	src, err := OpenLive(LiveOptions{Interfaces: []string{lo}, Filter: "udp port 45993"})
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("INVITE fragment "), 200) // 3200 bytes
	f4 := synth.Fragments4("127.0.0.1:5062", "127.0.0.1:45993", payload, 1200, 4242)
	f6 := synth.Fragments6("[::1]:5062", "[::1]:45993", payload, 1200, 4243)
	// A fragment of another protocol must not pass.
	tcpFrag := synth.Fragments4("127.0.0.1:5062", "127.0.0.1:45993", payload, 1200, 4244)[1]
	tcpFrag[14+9] = 6
	binary.BigEndian.PutUint16(tcpFrag[14+10:], 0)
	binary.BigEndian.PutUint16(tcpFrag[14+10:], ipChecksum(tcpFrag[14:34]))

	raw4, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw4)
	sent := 0
	for _, f := range append([][]byte{tcpFrag}, f4...) {
		if err := unix.Sendto(raw4, f[14:], 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
	}
	sent += len(f4)
	raw6, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err == nil {
		defer unix.Close(raw6)
		for _, f := range f6 {
			if err := unix.Sendto(raw6, f[14:], 0, &unix.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}); err != nil {
				t.Logf("IPv6 raw send: %v (IPv6 part skipped)", err)
				f6 = nil
				break
			}
		}
		sent += len(f6)
	} else {
		t.Logf("IPv6 raw socket: %v (IPv6 part skipped)", err)
		f6 = nil
	}
	pkts := collect(t, src, sent+1, time.Second)
	if len(pkts) != sent {
		t.Fatalf("captured %d packets, sent %d fragments of UDP to 45993 (and 1 of TCP)", len(pkts), sent)
	}
	for i, f := range append(f4, f6...) {
		if !bytes.Equal(pkts[i].data[14:], f[14:]) {
			t.Errorf("fragment %d differs", i)
		}
	}
}

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// TestLiveVLANFilter: a filter with a VLAN test runs in user space; on the
// loopback (no tags) "vlan" matches nothing. As in tcpdump, "vlan" moves
// the offsets of every later test, negated or not, so "not vlan" goes last.
func TestLiveVLANFilter(t *testing.T) {
	needRoot(t)
	lo := loopbackName(t)
	listen(t, "127.0.0.1:45992")
	for _, c := range []struct {
		filter string
		want   int
	}{{"vlan and udp port 45992", 0}, {"udp port 45992 and not vlan", 2}, {"not vlan and udp port 45992", 0}} {
		src, err := OpenLive(LiveOptions{Interfaces: []string{lo}, Filter: c.filter})
		if err != nil {
			t.Fatal(err)
		}
		send(t, "127.0.0.1:45992", "v1", "v2")
		pkts := collect(t, src, c.want+1, time.Second)
		if len(pkts) != c.want {
			t.Errorf("%q: %d packets, want %d", c.filter, len(pkts), c.want)
		}
	}
}

func TestLiveErrors(t *testing.T) {
	if _, err := OpenLive(LiveOptions{Interfaces: []string{"lo"}, Filter: "udp prot 5060"}); !errors.As(err, new(*bpf.SyntaxError)) {
		t.Errorf("bad filter: %v", err)
	}
	if _, err := OpenLive(LiveOptions{Interfaces: []string{"sipflow-no-such0"}}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("missing interface: %v", err)
	}
}

// TestLivePermission opens a capture without CAP_NET_RAW: as root, on a
// thread that has dropped it from its effective set (capabilities are per
// thread on Linux, and OpenLive makes its sockets on the calling thread).
func TestLivePermission(t *testing.T) {
	lo := loopbackName(t)
	check := func(err error) {
		t.Helper()
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("OpenLive without CAP_NET_RAW: %v, want ErrPermission", err)
		}
		for _, w := range []string{"CAP_NET_RAW", "setcap cap_net_raw,cap_net_admin=eip", lo} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q does not mention %q", err, w)
			}
		}
	}
	if os.Geteuid() != 0 {
		_, err := OpenLive(LiveOptions{Interfaces: []string{lo}})
		check(err)
		return
	}
	type capErr struct{ error }
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the goroutine's thread, with its reduced
		// capabilities, ends with it.
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- capErr{fmt.Errorf("capget: %w", err)}
			return
		}
		data[unix.CAP_NET_RAW/32].Effective &^= 1 << (unix.CAP_NET_RAW % 32)
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- capErr{fmt.Errorf("capset: %w", err)}
			return
		}
		src, err := OpenLive(LiveOptions{Interfaces: []string{lo}})
		if err == nil {
			src.Close()
			err = errors.New("opened")
		}
		errc <- err
	}()
	err := <-errc
	if ce, ok := err.(capErr); ok {
		t.Skipf("cannot drop CAP_NET_RAW: %v", ce.error)
	}
	check(err)
}

// TestLiveThroughput measures loopback capture: SIPFLOW_LIVE_PACKETS small
// UDP packets sent as fast as possible (by SIPFLOW_LIVE_SENDERS goroutines,
// into a buffer of SIPFLOW_LIVE_BUFFER_MIB), then counted. It is a
// measurement, not a check, and runs only when SIPFLOW_LIVE_PACKETS is set.
func TestLiveThroughput(t *testing.T) {
	needRoot(t)
	n, _ := strconv.Atoi(os.Getenv("SIPFLOW_LIVE_PACKETS"))
	if n <= 0 {
		t.Skip("set SIPFLOW_LIVE_PACKETS=200000 to measure")
	}
	listen(t, "127.0.0.1:45990")
	bufMiB, _ := strconv.Atoi(os.Getenv("SIPFLOW_LIVE_BUFFER_MIB"))
	src, err := OpenLive(LiveOptions{Interfaces: []string{loopbackName(t)}, Filter: "udp port 45990", BufferSize: bufMiB << 20})
	if err != nil {
		t.Fatal(err)
	}
	counted := make(chan int, 1)
	go func() {
		c := 0
		for {
			if _, err := src.Next(); err != nil {
				counted <- c
				return
			}
			c++
		}
	}()
	senders, _ := strconv.Atoi(os.Getenv("SIPFLOW_LIVE_SENDERS"))
	senders = max(senders, 1)
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		conn, err := net.Dial("udp", "127.0.0.1:45990")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			msg := make([]byte, 100)
			for range n / senders {
				conn.Write(msg)
			}
		}()
	}
	wg.Wait()
	n = n / senders * senders
	elapsed := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	st, _ := src.Stats()
	src.Close()
	c := <-counted
	t.Logf("sent %d in %v (%.0f packets/s); Next returned %d; kernel: received %d, dropped %d",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), c, st.Received, st.Dropped)
}

// fakePkt is a packet as the kernel lays it out in a TPACKET_V3 block.
type fakePkt struct {
	sec, nsec     uint32
	data          []byte // from the link header (raw socket) or network header (cooked)
	wireLen       int
	vlanTCI       uint16
	vlanTPID      uint16 // 0: not given
	vlan          bool
	proto, hatype uint16 // sockaddr_ll
	pkttype       uint8
	addr          []byte
}

// fakeBlock builds a ring block holding pkts.
func fakeBlock(pkts []fakePkt) []byte {
	ne := binary.NativeEndian
	blk := make([]byte, 1<<16)
	ne.PutUint32(blk[blockNumPktsOff:], uint32(len(pkts)))
	off := 48
	ne.PutUint32(blk[blockFirstPktOff:], uint32(off))
	for i, p := range pkts {
		h := blk[off:]
		mac := 128
		size := (mac + len(p.data) + 15) &^ 15
		if i < len(pkts)-1 {
			ne.PutUint32(h[0:], uint32(size))
		}
		ne.PutUint32(h[4:], p.sec)
		ne.PutUint32(h[8:], p.nsec)
		ne.PutUint32(h[12:], uint32(len(p.data)))
		ne.PutUint32(h[16:], uint32(p.wireLen))
		var status uint32 = unix.TP_STATUS_USER
		if p.vlan {
			status |= unix.TP_STATUS_VLAN_VALID
			ne.PutUint32(h[32:], uint32(p.vlanTCI))
			if p.vlanTPID != 0 {
				status |= unix.TP_STATUS_VLAN_TPID_VALID
				ne.PutUint16(h[36:], p.vlanTPID)
			}
		}
		ne.PutUint32(h[20:], status)
		ne.PutUint16(h[24:], uint16(mac))
		ne.PutUint16(h[26:], uint16(mac))
		sll := h[tp3HdrLen:]
		ne.PutUint16(sll[0:], unix.AF_PACKET)
		binary.BigEndian.PutUint16(sll[2:], p.proto)
		ne.PutUint16(sll[8:], p.hatype)
		sll[10] = p.pkttype
		sll[11] = byte(len(p.addr))
		copy(sll[12:20], p.addr)
		copy(h[mac:], p.data)
		off += size
	}
	return blk
}

func TestRingBlock(t *testing.T) {
	udp := synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", []byte("INVITE"))
	mac := []byte{2, 0, 0, 0, 0, 1}
	ts := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	sec, nsec := uint32(ts.Unix()), uint32(ts.Nanosecond())

	t.Run("ethernet", func(t *testing.T) {
		s := &ringSocket{link: LinkEthernet, snaplen: DefaultSnapLen, iface: 2}
		b := &ringBatch{sock: s}
		s.copyBlock(fakeBlock([]fakePkt{
			{sec: sec, nsec: nsec, data: udp, wireLen: len(udp)},
			{sec: sec, nsec: nsec + 1, data: udp, wireLen: len(udp), vlan: true, vlanTCI: 0x2064},
			{sec: sec, nsec: nsec + 2, data: udp, wireLen: len(udp), vlan: true, vlanTCI: 200, vlanTPID: 0x88a8},
		}), b)
		if len(b.pkts) != 3 {
			t.Fatalf("%d packets", len(b.pkts))
		}
		p := b.pkts[0]
		if !bytes.Equal(p.Data, udp) || p.Length != len(udp) || !p.Time.Equal(ts) || p.Iface != 2 || p.Link != LinkEthernet {
			t.Errorf("plain packet: %+v", p)
		}
		for i, tag := range [][]byte{{0x81, 0x00, 0x20, 0x64}, {0x88, 0xa8, 0x00, 200}} {
			p := b.pkts[i+1]
			want := append(append(bytes.Clone(udp[:12]), tag...), udp[12:]...)
			if !bytes.Equal(p.Data, want) || p.Length != len(want) {
				t.Errorf("tagged packet %d:\n got % x\nwant % x", i, p.Data[:20], want[:20])
			}
			if !p.Time.Equal(ts.Add(time.Duration(i + 1))) {
				t.Errorf("tagged packet %d: time %v", i, p.Time)
			}
		}
		if cap(b.pkts[0].Data) != len(b.pkts[0].Data) {
			t.Error("Data can be appended into the next packet")
		}
	})

	t.Run("cooked", func(t *testing.T) {
		s := &ringSocket{link: LinkLinuxSLL, cooked: true, snaplen: DefaultSnapLen}
		b := &ringBatch{sock: s}
		ip := udp[14:]
		s.copyBlock(fakeBlock([]fakePkt{
			{sec: sec, data: ip, wireLen: len(ip), proto: 0x0800, hatype: unix.ARPHRD_ETHER, pkttype: unix.PACKET_OUTGOING, addr: mac},
			{sec: sec, data: ip, wireLen: len(ip), proto: 0x0800, hatype: unix.ARPHRD_ETHER, addr: mac, vlan: true, vlanTCI: 100},
		}), b)
		hdr := []byte{0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}
		if got := b.pkts[0]; !bytes.Equal(got.Data, append(bytes.Clone(hdr), ip...)) || got.Length != 16+len(ip) {
			t.Errorf("cooked packet: % x (length %d)", got.Data[:16], got.Length)
		}
		hdr[1] = 0 // PACKET_HOST
		want := append(append(bytes.Clone(hdr[:14]), 0x81, 0x00, 0, 100, 0x08, 0x00), ip...)
		if got := b.pkts[1]; !bytes.Equal(got.Data, want) || got.Length != 20+len(ip) {
			t.Errorf("cooked tagged packet:\n got % x\nwant % x", got.Data[:20], want[:20])
		}
		// What the decoder's first step reads: the tag, then IPv4.
		pkt := gopacket.NewPacket(b.pkts[1].Data, layers.LayerTypeLinuxSLL, gopacket.Default)
		if d, _ := pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); d == nil || d.VLANIdentifier != 100 || pkt.Layer(layers.LayerTypeUDP) == nil {
			t.Errorf("gopacket reads %v", pkt)
		}
	})

	t.Run("snaplen", func(t *testing.T) {
		s := &ringSocket{link: LinkLinuxSLL, cooked: true, snaplen: 40}
		b := &ringBatch{sock: s}
		ip := udp[14:]
		s.copyBlock(fakeBlock([]fakePkt{{data: ip[:40], wireLen: len(ip), proto: 0x0800}}), b)
		if p := b.pkts[0]; len(p.Data) != 40 || p.Length != 16+len(ip) {
			t.Errorf("%d bytes of %d", len(p.Data), p.Length)
		}
	})

	t.Run("user filter", func(t *testing.T) {
		prog, err := bpf.Compile("vlan 100 and udp port 5060", LinkEthernet, 0)
		if err != nil {
			t.Fatal(err)
		}
		vm, _ := bpf.NewVM(prog)
		s := &ringSocket{link: LinkEthernet, snaplen: DefaultSnapLen, user: vm}
		b := &ringBatch{sock: s}
		s.copyBlock(fakeBlock([]fakePkt{
			{data: udp, wireLen: len(udp), vlan: true, vlanTCI: 200},
			{data: udp, wireLen: len(udp)},
			{data: udp, wireLen: len(udp), vlan: true, vlanTCI: 100, nsec: 7},
		}), b)
		if len(b.pkts) != 1 || b.pkts[0].Time.Nanosecond() != 7 || len(b.pkts[0].Data) != len(udp)+4 {
			t.Errorf("kept %d packets: %+v", len(b.pkts), b.pkts)
		}
	})

	t.Run("bad offsets", func(t *testing.T) {
		s := &ringSocket{link: LinkEthernet, snaplen: DefaultSnapLen}
		b := &ringBatch{sock: s}
		blk := fakeBlock([]fakePkt{{data: udp, wireLen: len(udp)}, {data: udp, wireLen: len(udp)}})
		binary.NativeEndian.PutUint32(blk[48:], 1<<20)             // next_offset past the block
		binary.NativeEndian.PutUint32(blk[blockNumPktsOff:], 1000) // and a silly count
		s.copyBlock(blk, b)
		if len(b.pkts) != 1 {
			t.Errorf("%d packets", len(b.pkts))
		}
		binary.NativeEndian.PutUint32(blk[48+12:], 1<<20) // snaplen past the block
		s.copyBlock(blk, b)
		if len(b.pkts) != 0 {
			t.Errorf("%d packets from a packet larger than its block", len(b.pkts))
		}
	})
}
