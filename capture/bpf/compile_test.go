package bpf_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	xbpf "golang.org/x/net/bpf"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/capture/bpf"
)

var update = flag.Bool("update", false, "rewrite testdata/tcpdump.json from the installed tcpdump")

// Expressions compared with tcpdump on every link type.
var exprs = []string{
	"",
	"udp", "tcp", "sctp", "ip", "ip6", "icmp", "icmp6", "arp", "rarp",
	"port 5060", "udp port 5060", "tcp port 5060", "sctp port 5060", "tcp dst port 5061", "udp src port 5060",
	"src port 5060", "dst port 5060", "src or dst port 5060", "src and dst port 5060", "dst and src port 5060",
	"port 5060 or 5061", "port 5060 and not 5061", "udp port 5060 or tcp port 5061", "port 0 or port 65535",
	"udp port sip", "tcp port sip-tls", "port 0x13c4", "port 011704",
	"portrange 5060-5070", "udp portrange 5061-5061", "src portrange 1-1024", "portrange 5070-5060", "tcp dst portrange 5000-6000",
	"host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2", "ip host 10.0.0.1", "arp host 10.0.0.1",
	"rarp src host 10.0.0.2", "arp dst host 10.0.0.2", "src and dst host 10.0.0.1", "ip src or dst host 1.2.3.4",
	"host 2001:db8::1", "ip6 dst host 2001:db8::2", "host ::ffff:1.2.3.4", "src host fe80::1", "host 192.168.1.10",
	"net 10.0.0.0/8", "src net 192.168.0.0/16", "net 2001:db8::/32", "dst net 2001:db8::/127", "dst net 10.0.0.0 mask 255.0.0.0",
	"net 10", "net 192.168.1", "net 10.0.0.0/31", "net 0.0.0.0/0", "ip6 net ::/0", "arp net 10.0.0.0/24",
	"host 10.0.0.1 and port 5060", "host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 and not 10.0.0.2", "not host 10.0.0.1",
	"host 10.0.0.1 and (10.0.0.2 or 1.2.3.4)", "dst port 53 or (5060 and not 5061)",
	"udp and (port 5060 or port 5061)", "(udp or tcp) and port 5060", "udp or tcp and port 5060", "!udp && port 53 || icmp",
	"not port 5060", "not udp port 5060", "not (port 5060 or 5061)", "not not port 5060", "not tcp and not udp",
	"icmp or icmp6", "ip6 and udp", "ip and not udp", "udp and host 2001:db8::1 and dst port 5060",
	"vlan", "vlan 100", "vlan 200", "vlan and udp port 5060", "vlan 100 and vlan 200 and udp", "not vlan and udp",
	"vlan or udp", "vlan 100 and host 10.0.0.1", "udp or vlan 4095", "vlan and ip6 and port 5060", "vlan 0x64",
}

var links = []capture.LinkType{capture.LinkEthernet, capture.LinkLinuxSLL, capture.LinkLinuxSLL2,
	capture.LinkRaw, capture.LinkIPv4, capture.LinkIPv6}

// tcpdumpResult is tcpdump's program for one expression and link type, or
// its error.
type tcpdumpResult struct {
	Prog []string `json:"prog,omitempty"` // -ddd lines: count, then "code jt jf k"
	Err  string   `json:"err,omitempty"`
}

func key(link capture.LinkType, expr string) string { return fmt.Sprintf("%d|%s", link, expr) }

// runTcpdump compiles expr with tcpdump for a pcap file of the link type.
func runTcpdump(t *testing.T, dir string, link capture.LinkType, expr string) tcpdumpResult {
	path := filepath.Join(dir, fmt.Sprintf("link%d.pcap", link))
	if _, err := os.Stat(path); err != nil {
		hdr := make([]byte, 24)
		binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], 262144)
		binary.LittleEndian.PutUint32(hdr[20:], uint32(link))
		if err := os.WriteFile(path, hdr, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("tcpdump", "-r", path, "-ddd", expr)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return tcpdumpResult{Err: msg}
	}
	return tcpdumpResult{Prog: strings.Split(strings.TrimSpace(out.String()), "\n")}
}

func parseDDD(t *testing.T, lines []string) []xbpf.RawInstruction {
	t.Helper()
	var prog []xbpf.RawInstruction
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Fatalf("bad -ddd line %q", l)
		}
		var v [4]uint64
		for i := range f {
			n, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				t.Fatalf("bad -ddd line %q: %v", l, err)
			}
			v[i] = n
		}
		prog = append(prog, xbpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	if n, _ := strconv.Atoi(lines[0]); n != len(prog) {
		t.Fatalf("-ddd says %d instructions, read %d", n, len(prog))
	}
	return prog
}

// loadGolden reads testdata/tcpdump.json, or with -update rewrites it from
// the installed tcpdump.
func loadGolden(t *testing.T) map[string]tcpdumpResult {
	path := filepath.Join("testdata", "tcpdump.json")
	if *update {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			t.Fatal("-update needs tcpdump")
		}
		dir := t.TempDir()
		g := map[string]tcpdumpResult{}
		for _, link := range links {
			for _, e := range exprs {
				g[key(link, e)] = runTcpdump(t, dir, link, e)
			}
		}
		b, err := json.MarshalIndent(g, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return g
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := map[string]tcpdumpResult{}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestMatchesTcpdump runs tcpdump's program and ours over the corpus for
// every expression and link type, and requires the same decision on every
// packet, except that a port test may also accept a fragment (the
// documented difference). Programs recorded in testdata/tcpdump.json are
// always checked; when tcpdump is installed its current programs are
// checked as well.
func TestMatchesTcpdump(t *testing.T) {
	golden := loadGolden(t)
	var live map[string]tcpdumpResult
	if _, err := exec.LookPath("tcpdump"); err == nil && !*update {
		live = map[string]tcpdumpResult{}
		dir := t.TempDir()
		for _, link := range links {
			for _, e := range exprs {
				live[key(link, e)] = runTcpdump(t, dir, link, e)
			}
		}
	} else if !*update {
		t.Log("tcpdump not installed: checking the recorded programs only")
	}
	samples := corpus()
	compared := 0
	for _, link := range links {
		for _, e := range exprs {
			for _, src := range []struct {
				name string
				m    map[string]tcpdumpResult
			}{{"recorded", golden}, {"installed", live}} {
				if src.m == nil {
					continue
				}
				ref, ok := src.m[key(link, e)]
				if !ok {
					t.Errorf("%s tcpdump: no program for %v %q (run go test -update)", src.name, link, e)
					continue
				}
				compared += compareOne(t, src.name, link, e, ref, samples)
			}
		}
	}
	t.Logf("%d decisions compared", compared)
}

func compareOne(t *testing.T, src string, link capture.LinkType, expr string, ref tcpdumpResult, samples []sample) int {
	t.Helper()
	ours, err := bpf.Compile(expr, link, 262144)
	if ref.Err != "" {
		switch {
		case strings.Contains(ref.Err, "rejects all packets"):
			// tcpdump refuses a filter that can match nothing; ours must
			// match nothing.
			if err != nil {
				return 0
			}
			ref = tcpdumpResult{Prog: []string{"1", "6 0 0 0"}}
		case strings.Contains(ref.Err, "no VLAN support for Linux cooked"):
			return 0 // tcpdump has no VLAN offsets for cooked frames; ours do
		default:
			if err == nil {
				t.Errorf("%s tcpdump rejects %v %q (%s); we accept it", src, link, expr, ref.Err)
			}
			return 0
		}
	}
	if err != nil {
		if link == capture.LinkRaw || link == capture.LinkIPv4 || link == capture.LinkIPv6 {
			if strings.Contains(expr, "vlan") && strings.Contains(err.Error(), "no VLAN support") {
				return 0
			}
		}
		t.Errorf("%v %q: tcpdump compiles it, we fail: %v", link, expr, err)
		return 0
	}
	theirs := parseDDD(t, ref.Prog)
	vmT, err := bpf.NewVM(theirs)
	if err != nil {
		t.Fatalf("%s tcpdump program for %q: %v", src, expr, err)
	}
	vmO, err := bpf.NewVM(ours)
	if err != nil {
		t.Fatalf("our program for %v %q: %v", link, expr, err)
	}
	// Cross-check our VM with golang.org/x/net/bpf's on tcpdump's program.
	insts, _ := xbpf.Disassemble(theirs)
	xvm, err := xbpf.NewVM(insts)
	if err != nil {
		t.Fatalf("x/net/bpf VM: %v", err)
	}
	n := 0
	for _, s := range samples {
		data, _, ok := asLink(s.eth, link)
		if !ok {
			continue
		}
		want := vmT.Run(data, bpf.Aux{})
		if xv, err := xvm.Run(data); err != nil || uint32(xv) != want {
			t.Fatalf("VMs disagree on tcpdump's %q for %s: ours %d, x/net %d %v", expr, s.name, want, xv, err)
		}
		got := vmO.Run(data, bpf.Aux{})
		n++
		if (got != 0) == (want != 0) {
			continue
		}
		if got != 0 && s.frag && strings.Contains(expr, "port") {
			continue // the fragment rule
		}
		t.Errorf("%v %q on %s: we %s, %s tcpdump %s", link, expr, s.name, verdict(got), src, verdict(want))
	}
	return n
}

func verdict(v uint32) string {
	if v != 0 {
		return "accept"
	}
	return "reject"
}

// TestCookedSocket checks that the program for a cooked packet socket,
// which sees the packet from its network header with the protocol as an
// ancillary value, decides as the SLL program does on the SLL frame.
func TestCookedSocket(t *testing.T) {
	samples := corpus()
	for _, e := range exprs {
		f, err := bpf.Parse(e)
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		sock, err := f.CompileSocket(uint16(capture.LinkLinuxSLL), 0)
		if f.UsesVLAN() {
			if err == nil {
				t.Errorf("%q: cooked socket program with a VLAN test", e)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		sll, err := f.Compile(uint16(capture.LinkLinuxSLL), 0)
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := bpf.NewVM(sock)
		vl, _ := bpf.NewVM(sll)
		for _, s := range samples {
			if s.vlan {
				continue // the kernel has taken the tag off before the filter runs
			}
			frame, proto, _ := asLink(s.eth, capture.LinkLinuxSLL)
			got := vs.Run(frame[16:], bpf.Aux{Protocol: proto})
			want := vl.Run(frame, bpf.Aux{})
			if (got != 0) != (want != 0) {
				t.Errorf("%q on %s: socket program %s, SLL program %s", e, s.name, verdict(got), verdict(want))
			}
		}
	}
}

// TestFragmentRule pins down the deliberate difference from tcpdump.
func TestFragmentRule(t *testing.T) {
	var frags []sample
	for _, s := range corpus() {
		if strings.HasPrefix(s.name, "ip frag") || strings.HasPrefix(s.name, "ip6 frag") {
			frags = append(frags, s)
		}
	}
	if len(frags) < 8 {
		t.Fatalf("only %d fragment samples", len(frags))
	}
	later := func(s sample) bool { return !strings.Contains(s.name, "frag 0 ") }
	cases := []struct {
		expr   string
		accept func(s sample) bool
	}{
		// The whole datagram to 5060: the first fragment by its port, later
		// ones because they might belong to it.
		{"udp port 5060", func(s sample) bool { return later(s) || strings.HasSuffix(s.name, ">5060") }},
		{"port 5060", func(s sample) bool { return later(s) || strings.HasSuffix(s.name, ">5060") }},
		{"udp dst portrange 5060-5060", func(s sample) bool { return later(s) || strings.HasSuffix(s.name, ">5060") }},
		// The first IPv6 fragment carries the ports after the Fragment header.
		{"udp port 5061", func(s sample) bool { return later(s) || strings.HasSuffix(s.name, ">5061") }},
		{"udp src port 5062", func(s sample) bool { return true }},
		// Another protocol's fragments do not pass.
		{"tcp port 5060", func(s sample) bool { return false }},
		// Negated: tcpdump's meaning, which passes non-first fragments.
		{"not udp port 5060", func(s sample) bool {
			return !strings.HasPrefix(s.name, "ip frag 0 ") || !strings.HasSuffix(s.name, ">5060")
		}},
	}
	for _, link := range []capture.LinkType{capture.LinkEthernet, capture.LinkLinuxSLL, capture.LinkRaw} {
		for _, c := range cases {
			prog, err := bpf.Compile(c.expr, link, 0)
			if err != nil {
				t.Fatal(err)
			}
			vm, _ := bpf.NewVM(prog)
			for _, s := range frags {
				data, _, _ := asLink(s.eth, link)
				if got, want := vm.Run(data, bpf.Aux{}) != 0, c.accept(s); got != want {
					t.Errorf("%v %q on %s: accept=%v, want %v", link, c.expr, s.name, got, want)
				}
			}
		}
	}
}

// TestLongProgram needs jumps beyond 255 instructions, which go through ja.
func TestLongProgram(t *testing.T) {
	var parts []string
	for p := 1000; p < 1040; p++ {
		parts = append(parts, "udp dst port "+strconv.Itoa(p))
	}
	expr := "(" + strings.Join(parts, " or ") + ") and host 10.0.0.2"
	prog, err := bpf.Compile(expr, capture.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program of %d instructions is too short to test far jumps", len(prog))
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range corpus() {
		if s.vlan {
			continue
		}
		want := directMatch(s.eth)
		if got := vm.Run(s.eth, bpf.Aux{}) != 0; got != want {
			t.Errorf("%s: accept=%v, want %v", s.name, got, want)
		}
	}
	// Far too long.
	parts = parts[:0]
	for p := 0; p < 2000; p++ {
		parts = append(parts, "udp port "+strconv.Itoa(p))
	}
	if _, err := bpf.Compile(strings.Join(parts, " or "), capture.LinkEthernet, 0); !errors.Is(err, bpf.ErrTooLong) {
		t.Fatalf("2000 ports: err %v, want ErrTooLong", err)
	}
}

// directMatch evaluates "(udp dst port 1000..1039 or a later UDP fragment)
// and host 10.0.0.2" on an Ethernet frame by hand.
func directMatch(eth []byte) bool {
	et := binary.BigEndian.Uint16(eth[12:])
	ip := eth[14:]
	switch et {
	case 0x0800:
		if ip[9] != 17 || !bytes.Equal(ip[12:16], []byte{10, 0, 0, 2}) && !bytes.Equal(ip[16:20], []byte{10, 0, 0, 2}) {
			return false
		}
		if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
			return true
		}
		d := binary.BigEndian.Uint16(ip[int(ip[0]&0xf)*4+2:])
		return d >= 1000 && d < 1040
	}
	return false
}

// TestSnapLen: 0 means DefaultSnapLen, and accept returns snaplen.
func TestSnapLen(t *testing.T) {
	for _, sl := range []int{0, 96, 65535} {
		prog, err := bpf.Compile("udp", capture.LinkEthernet, sl)
		if err != nil {
			t.Fatal(err)
		}
		want := uint32(sl)
		if sl == 0 {
			want = bpf.DefaultSnapLen
		}
		vm, _ := bpf.NewVM(prog)
		s := corpus()[0]
		if got := vm.Run(s.eth, bpf.Aux{}); got != want {
			t.Errorf("snaplen %d: program returns %d, want %d", sl, got, want)
		}
	}
	prog, _ := bpf.Compile("", capture.LinkEthernet, 100)
	if len(prog) != 1 || prog[0].K != 100 {
		t.Errorf("empty expression: %v", prog)
	}
}

func TestUnsupportedLink(t *testing.T) {
	_, err := bpf.Compile("udp", capture.LinkNull, 0)
	if !errors.Is(err, bpf.ErrUnsupportedLink) {
		t.Fatalf("err %v, want ErrUnsupportedLink", err)
	}
}
