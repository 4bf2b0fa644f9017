//go:build linux && !libpcap

package capture

// Live capture on Linux without libpcap: one AF_PACKET socket per interface
// with a TPACKET_V3 receive ring (packet(7), Documentation/networking/
// packet_mmap.rst). The kernel fills blocks of the ring with packets and
// their timestamps and hands a block over when it is full or after
// ringBlockTimeout; reading needs no system call per packet, and when the
// reader falls behind the kernel counts drops instead of queueing without
// limit. The compiled capture filter is attached with SO_ATTACH_FILTER, so
// unwanted packets never reach the ring.
//
// A goroutine per socket waits for blocks (in the runtime's netpoller, so
// Close wakes it), copies the packets of a block into a batch (adding the
// SLL header for cooked sockets and putting back VLAN tags the kernel took
// off) and hands the batch to Next over a channel. Batches are recycled, so
// memory is bounded: ringBatches per socket.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	xbpf "golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/sipflow/sipflow/capture/bpf"
)

const (
	ringBlockTimeout = 20   // ms before the kernel hands over a block that is not full
	ringFrameSize    = 2048 // TPACKET_V3 only checks it divides the block size
	ringBatches      = 4    // batches per socket between its reader and Next
	ringMinBlock     = 128 << 10

	// sizes and offsets in the ring (linux/if_packet.h)
	blockStatusOff   = 8  // tpacket_block_desc.hdr.bh1.block_status
	blockNumPktsOff  = 12 // .num_pkts
	blockFirstPktOff = 16 // .offset_to_first_pkt
	tp3HdrLen        = 48 // sizeof(struct tpacket3_hdr); sockaddr_ll follows it
	sllAddrLen       = 20 // sizeof(struct sockaddr_ll)
	sllHdrLen        = 16 // Linux cooked (SLL) header we build

	skfAdOff     = 0xfffff000 // SKF_AD_OFF
	skfAdPktType = 4          // SKF_AD_PKTTYPE
	skfAdIfIndex = 8          // SKF_AD_IFINDEX
)

// htons puts v in network byte order, for the protocol of sockaddr_ll.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// linkFor says how to open an interface of ARPHRD type hatype: a raw
// socket for Ethernet-like and raw-IP devices, a cooked one otherwise.
func linkFor(hatype uint16) (LinkType, int) {
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return LinkEthernet, unix.SOCK_RAW
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP:
		return LinkRaw, unix.SOCK_RAW
	}
	return LinkLinuxSLL, unix.SOCK_DGRAM
}

// arphrd returns the ARPHRD_ type of an interface (SIOCGIFHWADDR).
func arphrd(name string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, err
	}
	return ifr.Uint16(), nil
}

func interfaceLinkType(ni net.Interface) LinkType {
	t, err := arphrd(ni.Name)
	if err != nil {
		return LinkLinuxSLL
	}
	lt, _ := linkFor(t)
	return lt
}

func extraInterfaces() []Interface {
	return []Interface{{Name: AnyInterface, Up: true, LinkType: LinkLinuxSLL}}
}

// liveRing is the LiveSource.
type liveRing struct {
	socks   []*ringSocket
	batches chan *ringBatch
	errs    chan error
	done    chan struct{}
	wg      sync.WaitGroup
	closed  sync.Once

	cur      *ringBatch
	i        int
	n        int
	err      error
	isClosed atomic.Bool // Stats then returns the final counters
	statsMu  sync.Mutex  // orders Stats and Close
}

// ringBatch is the packets of one ring block, copied.
type ringBatch struct {
	sock *ringSocket
	buf  []byte
	pkts []Packet
	ends []int // end of each packet's data in buf, to slice once buf stops growing
}

// ringSocket is one AF_PACKET socket and its ring.
type ringSocket struct {
	name    string
	iface   int // position in LiveOptions.Interfaces
	link    LinkType
	cooked  bool
	snaplen int
	file    *os.File
	raw     syscall.RawConn
	ring    []byte
	bsize   int
	nblocks int
	next    int     // block to read next
	user    *bpf.VM // filter run here when the kernel cannot (VLAN tests)
	free    chan *ringBatch

	statsMu  sync.Mutex
	received uint64
	dropped  uint64
}

func openLive(opts LiveOptions) (LiveSource, error) {
	flt, err := bpf.Parse(opts.Filter)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	loIndex := 0
	if ifs, err := net.Interfaces(); err == nil {
		for _, ni := range ifs {
			if ni.Flags&net.FlagLoopback != 0 {
				loIndex = ni.Index
				break
			}
		}
	}
	r := &liveRing{
		batches: make(chan *ringBatch, ringBatches*len(opts.Interfaces)),
		errs:    make(chan error, len(opts.Interfaces)),
		done:    make(chan struct{}),
	}
	for i, name := range opts.Interfaces {
		s, err := openSocket(name, i, opts, flt, loIndex)
		if err != nil {
			for _, s := range r.socks {
				s.close()
			}
			return nil, err
		}
		r.socks = append(r.socks, s)
	}
	for _, s := range r.socks {
		r.wg.Add(1)
		go r.read(s)
	}
	return r, nil
}

func openSocket(name string, pos int, opts LiveOptions, flt *bpf.Filter, loIndex int) (_ *ringSocket, err error) {
	s := &ringSocket{name: name, iface: pos, snaplen: opts.SnapLen}
	ifindex := 0
	sockType := unix.SOCK_DGRAM
	s.link = LinkLinuxSLL
	if name != AnyInterface {
		ni, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("capture on %s: %w", name, ErrNoInterface)
		}
		ifindex = ni.Index
		hatype, err := arphrd(name)
		if err != nil {
			return nil, fmt.Errorf("capture on %s: link type: %w", name, err)
		}
		s.link, sockType = linkFor(hatype)
	}
	s.cooked = sockType == unix.SOCK_DGRAM

	// Protocol 0: nothing is queued before the filter and the ring are in
	// place and bind names the protocol.
	fd, err := unix.Socket(unix.AF_PACKET, sockType|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, permissionError(name, err)
	}
	defer func() {
		if err != nil {
			if s.ring != nil {
				unix.Munmap(s.ring)
			}
			if s.file != nil {
				s.file.Close() // the file owns fd now
			} else {
				unix.Close(fd)
			}
		}
	}()
	fail := func(what string, err error) error {
		return fmt.Errorf("capture on %s: %s: %w", name, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fail("TPACKET_V3 (Linux 3.2 or later)", err)
	}

	// The kernel filter. A VLAN test cannot run there (the kernel has
	// taken the tag off before socket filters run), so then the kernel
	// keeps everything and the filter runs here, on the frame with its
	// tag put back.
	var prog []xbpf.RawInstruction
	if flt.UsesVLAN() {
		user, err := flt.Compile(uint16(s.link), s.snaplen)
		if err != nil {
			return nil, fail("filter", err)
		}
		if s.user, err = bpf.NewVM(user); err != nil {
			return nil, fail("filter", err)
		}
		prog, err = bpf.Compile("", s.link, s.snaplen)
		if err != nil {
			return nil, fail("filter", err)
		}
	} else if prog, err = flt.CompileSocket(uint16(s.link), s.snaplen); err != nil {
		return nil, fail("filter", err)
	}
	// On the loopback interface every packet passes twice, going out and
	// coming in: keep the incoming copy, as libpcap does.
	if loIndex != 0 && (ifindex == loIndex || ifindex == 0) {
		prog = skipLoopbackOutgoing(prog, loIndex)
	}
	if err := bpf.Validate(prog); err != nil {
		return nil, fail("filter", err)
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filter[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
		return nil, fail("attach filter", err)
	}

	// The ring: blocks big enough for a packet of snaplen bytes.
	s.bsize = ringMinBlock
	for s.bsize < s.snaplen+2048 {
		s.bsize *= 2
	}
	s.nblocks = max(opts.BufferSize/s.bsize, 2)
	req := unix.TpacketReq3{
		Block_size:     uint32(s.bsize),
		Block_nr:       uint32(s.nblocks),
		Frame_size:     ringFrameSize,
		Frame_nr:       uint32(s.bsize / ringFrameSize * s.nblocks),
		Retire_blk_tov: ringBlockTimeout,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fail(fmt.Sprintf("ring of %d × %d bytes", s.nblocks, s.bsize), err)
	}
	if s.ring, err = unix.Mmap(fd, 0, s.bsize*s.nblocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fail("mmap ring", err)
	}

	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return nil, fail("bind", err)
	}
	if opts.Promisc && ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, fail("promiscuous mode", err)
		}
	}

	// A non-blocking descriptor in an os.File is in the netpoller: reads
	// wait without a thread, and Close wakes them.
	s.file = os.NewFile(uintptr(fd), "packet:"+name)
	if s.raw, err = s.file.SyscallConn(); err != nil {
		return nil, fail("poll", err)
	}
	s.free = make(chan *ringBatch, ringBatches)
	for range ringBatches {
		s.free <- &ringBatch{sock: s}
	}
	return s, nil
}

// skipLoopbackOutgoing puts in front of prog a test rejecting packets going
// out (PACKET_OUTGOING) of interface lo.
func skipLoopbackOutgoing(prog []xbpf.RawInstruction, lo int) []xbpf.RawInstruction {
	pre := []xbpf.RawInstruction{
		{Op: 0x20, K: skfAdOff + skfAdPktType},            // ld pkttype
		{Op: 0x15, Jt: 0, Jf: 3, K: unix.PACKET_OUTGOING}, // jeq #OUTGOING
		{Op: 0x20, K: skfAdOff + skfAdIfIndex},            // ld ifindex
		{Op: 0x15, Jt: 0, Jf: 1, K: uint32(lo)},           // jeq #lo
		{Op: 0x06, K: 0},                                  // ret #0
	}
	return append(pre, prog...)
}

// read is the goroutine of one socket.
func (r *liveRing) read(s *ringSocket) {
	defer r.wg.Done()
	for {
		blk, err := s.wait()
		if err != nil {
			select {
			case <-r.done:
			default:
				r.errs <- fmt.Errorf("capture on %s: %w", s.name, err)
			}
			return
		}
		var b *ringBatch
		select {
		case b = <-s.free:
		case <-r.done:
			return
		}
		s.copyBlock(blk, b)
		s.release(blk)
		if len(b.pkts) == 0 {
			s.free <- b
			continue
		}
		select {
		case r.batches <- b:
		case <-r.done:
			return
		}
	}
}

func (s *ringSocket) block(i int) []byte { return s.ring[i*s.bsize : (i+1)*s.bsize] }

func blockStatus(blk []byte) *uint32 {
	return (*uint32)(unsafe.Pointer(&blk[blockStatusOff]))
}

// wait returns the next block once the kernel has handed it over.
func (s *ringSocket) wait() ([]byte, error) {
	blk := s.block(s.next)
	status := blockStatus(blk)
	ready := func(uintptr) bool { return atomic.LoadUint32(status)&unix.TP_STATUS_USER != 0 }
	if !ready(0) {
		if err := s.raw.Read(ready); err != nil {
			return nil, err
		}
	}
	s.next = (s.next + 1) % s.nblocks
	return blk, nil
}

// release gives a block back to the kernel.
func (s *ringSocket) release(blk []byte) {
	atomic.StoreUint32(blockStatus(blk), unix.TP_STATUS_KERNEL)
}

// copyBlock copies the packets of a block into b.
func (s *ringSocket) copyBlock(blk []byte, b *ringBatch) {
	ne := binary.NativeEndian
	b.buf, b.pkts, b.ends = b.buf[:0], b.pkts[:0], b.ends[:0]
	num := ne.Uint32(blk[blockNumPktsOff:])
	off := int(ne.Uint32(blk[blockFirstPktOff:]))
	for range num {
		if off <= 0 || off+tp3HdrLen+sllAddrLen > len(blk) {
			break // never from a sane kernel; do not read past the block
		}
		h := blk[off:]
		next := int(ne.Uint32(h[0:]))
		sec, nsec := ne.Uint32(h[4:]), ne.Uint32(h[8:])
		caplen, length := int(ne.Uint32(h[12:])), int(ne.Uint32(h[16:]))
		status := ne.Uint32(h[20:])
		mac := int(ne.Uint16(h[24:]))
		if caplen >= 0 && mac+caplen <= len(h) {
			s.appendPacket(b, h, mac, caplen, length, status, time.Unix(int64(sec), int64(nsec)).UTC())
		}
		if next == 0 {
			break
		}
		off += next
	}
	for i := range b.pkts {
		start := 0
		if i > 0 {
			start = b.ends[i-1]
		}
		b.pkts[i].Data = b.buf[start:b.ends[i]:b.ends[i]]
	}
}

// appendPacket adds one packet of the ring (header h) to b, in the format of
// the link type: the SLL header in front for cooked sockets, and the VLAN
// tag put back where it was.
func (s *ringSocket) appendPacket(b *ringBatch, h []byte, mac, caplen, length int, status uint32, ts time.Time) {
	ne := binary.NativeEndian
	data := h[mac : mac+caplen]
	start := len(b.buf)
	var tag []byte
	if status&unix.TP_STATUS_VLAN_VALID != 0 && s.link != LinkRaw {
		tpid := uint16(0x8100)
		if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = ne.Uint16(h[36:])
		}
		tci := uint16(ne.Uint32(h[32:]))
		tag = []byte{byte(tpid >> 8), byte(tpid), byte(tci >> 8), byte(tci)}
	}
	switch {
	case s.cooked:
		sll := h[tp3HdrLen:]
		// struct sockaddr_ll: family, protocol (network order), ifindex,
		// hatype, pkttype, halen, addr[8].
		var hdr [sllHdrLen]byte
		binary.BigEndian.PutUint16(hdr[0:], uint16(sll[10]))
		binary.BigEndian.PutUint16(hdr[2:], ne.Uint16(sll[8:]))
		halen := min(int(sll[11]), 8)
		binary.BigEndian.PutUint16(hdr[4:], uint16(sll[11]))
		copy(hdr[6:6+halen], sll[12:])
		copy(hdr[14:], sll[2:4])
		if tag != nil {
			b.buf = append(b.buf, hdr[:14]...)
			b.buf = append(b.buf, tag...)
			b.buf = append(b.buf, hdr[14:]...)
		} else {
			b.buf = append(b.buf, hdr[:]...)
		}
		b.buf = append(b.buf, data...)
		length += sllHdrLen
	case tag != nil && len(data) >= 12:
		b.buf = append(b.buf, data[:12]...)
		b.buf = append(b.buf, tag...)
		b.buf = append(b.buf, data[12:]...)
	default:
		b.buf = append(b.buf, data...)
	}
	length += len(tag)
	frame := b.buf[start:]
	if len(frame) > s.snaplen {
		b.buf = b.buf[:start+s.snaplen]
		frame = frame[:s.snaplen]
	}
	if s.user != nil && s.user.Run(frame, bpf.Aux{}) == 0 {
		b.buf = b.buf[:start]
		return
	}
	b.pkts = append(b.pkts, Packet{Time: ts, Link: s.link, Length: max(length, len(frame)), Iface: s.iface})
	b.ends = append(b.ends, len(b.buf))
}

// Next returns the next packet from any of the interfaces.
func (r *liveRing) Next() (*Packet, error) {
	if r.err != nil {
		return nil, r.err
	}
	for r.cur == nil || r.i >= len(r.cur.pkts) {
		if r.cur != nil {
			r.cur.sock.free <- r.cur // never blocks: the channel holds every batch
			r.cur = nil
		}
		// A closed source ends even if batches are waiting.
		select {
		case <-r.done:
			r.err = io.EOF
			return nil, r.err
		default:
		}
		select {
		case <-r.done:
			r.err = io.EOF
			return nil, r.err
		case err := <-r.errs:
			r.err = err
			return nil, err
		case b := <-r.batches:
			r.cur, r.i = b, 0
		}
	}
	p := &r.cur.pkts[r.i]
	r.i++
	r.n++
	p.N = r.n
	return p, nil
}

// Stats adds up the kernel's counters of every socket.
func (r *liveRing) Stats() (LiveStats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	var st LiveStats
	var firstErr error
	for _, s := range r.socks {
		if r.isClosed.Load() {
			// the counters were read a last time by Close
		} else if err := s.updateStats(); err != nil && firstErr == nil {
			firstErr = err
		}
		s.statsMu.Lock()
		st.Received += s.received
		st.Dropped += s.dropped
		s.statsMu.Unlock()
	}
	return st, firstErr
}

// updateStats reads PACKET_STATISTICS, which the kernel resets on every
// read, into the socket's running totals.
func (s *ringSocket) updateStats() error {
	var st *unix.TpacketStatsV3
	var serr error
	err := s.raw.Control(func(fd uintptr) {
		st, serr = unix.GetsockoptTpacketStatsV3(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("capture on %s: statistics: %w", s.name, serr)
	}
	s.statsMu.Lock()
	s.received += uint64(st.Packets)
	s.dropped += uint64(st.Drops)
	s.statsMu.Unlock()
	return nil
}

// Close stops the capture: a blocked Next returns io.EOF. The counters are
// read one last time first, so Stats after Close has the final numbers.
func (r *liveRing) Close() error {
	var err error
	r.closed.Do(func() {
		r.statsMu.Lock()
		for _, s := range r.socks {
			s.updateStats()
		}
		r.isClosed.Store(true)
		r.statsMu.Unlock()
		close(r.done)
		for _, s := range r.socks {
			if e := s.file.Close(); e != nil && err == nil {
				err = e
			}
		}
		r.wg.Wait() // no reader touches a ring any more
		for _, s := range r.socks {
			unix.Munmap(s.ring)
			s.ring = nil
		}
	})
	return err
}

func (s *ringSocket) close() {
	if s.file != nil {
		s.file.Close()
	}
	if s.ring != nil {
		unix.Munmap(s.ring)
	}
}
