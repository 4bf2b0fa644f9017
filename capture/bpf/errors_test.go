package bpf_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/capture/bpf"
)

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		expr string
		col  int    // 1-based column the error names
		msg  string // part of the message
	}{
		{"udp prot 5060", 5, `"prot" after "udp" needs a qualifier`},
		{"port", 5, "ends where a value was expected"},
		{"port 70000", 6, "port 70000 out of range 0-65535"},
		{"port foo", 6, `unknown port name "foo"`},
		{"portrange 5060", 11, "not of the form LOW-HIGH"},
		{"portrange 5060-x", 16, `unknown port name "x"`},
		{"host example.com", 6, `"example.com" is not an IPv4 address`},
		{"host pbx", 6, "host names are not supported"},
		{"host 10.1", 6, "not a complete IPv4 address (for a network, write 'net 10.1')"},
		{"host 10.0.0.256", 6, "not an IPv4 address"},
		{"host 2001:db8::1%eth0", 17, "unexpected character '%'"},
		{"host 2001:db8::g", 6, "not an IPv6 address"},
		{"host 10.0.0.0/8", 6, "is a network: write 'net 10.0.0.0/8'"},
		{"net 10.0.0.1/8", 5, `non-network bits set in "10.0.0.1/8"`},
		{"net 10.0.0.0/33", 14, "bad IPv4 prefix length"},
		{"net 2001:db8::/129", 16, "bad IPv6 prefix length"},
		{"net 10.0.0.0 mask 255.0.0.0.1", 19, "not a dotted IPv4 mask"},
		{"net 10.0.0.0/8 mask 255.0.0.0", 16, "either /LENGTH or 'mask'"},
		{"host 10.0.0.1 mask 255.0.0.0", 15, "'mask' applies to net only"},
		{"tcp host 10.0.0.1", 10, "'tcp' modifier applied to host"},
		{"ip port 5060", 9, "illegal qualifier of 'port'"},
		{"ip6 host 10.0.0.1", 10, `IPv4 address "10.0.0.1" with 'ip6'`},
		{"arp host ::1", 10, `IPv6 address "::1" with 'arp'`},
		{"5060", 1, `"5060" needs a qualifier`},
		{"10.0.0.1", 1, `"10.0.0.1" needs a qualifier`},
		{"udp or 5060", 8, `"5060" has no primitive to take its qualifiers from`},
		{"src 5060", 5, `"5060" is not an address (for a port, write 'port 5060')`},
		{"udp and", 8, "expression ends where a primitive"},
		{"(udp", 5, "missing ')' for the '(' at column 1"},
		{"udp)", 4, `unexpected ")"`},
		{"and udp", 1, `"and" needs a primitive before it`},
		{"udp udp", 5, `unexpected "udp"`},
		{"udp[8:2] = 0", 4, "byte offsets such as udp[8:2] are not supported"},
		{"len > 100", 5, "comparisons (=, !=, <, >) are not supported"},
		{"less 100", 1, `tcpdump keyword "less" is not supported`},
		{"ether host 02:00:00:00:00:01", 1, `tcpdump keyword "ether" is not supported`},
		{"udp port 5060 $", 15, "unexpected character '$'"},
		{"udp \x00", 5, "unexpected byte 0x00"},
		{"vlan 4096", 6, "VLAN ID 4096 greater than maximum 4095"},
		{"vlan x", 6, `VLAN ID "x" is not a number`},
		{"mask 255.0.0.0", 1, "'mask' must follow the address of a net"},
		{"port 5060 or not", 17, "expression ends where"},
		{"host 10.0.0.1 and (10.0.0.2 udp)", 29, `unexpected "udp" in a list of values`},
		{"port 08", 6, `port "08" is not a number`},
	}
	for _, c := range cases {
		_, err := bpf.Compile(c.expr, capture.LinkEthernet, 0)
		var se *bpf.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err %v, want a *SyntaxError", c.expr, err)
			continue
		}
		if se.Pos+1 != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: got column %d %q, want column %d containing %q", c.expr, se.Pos+1, se.Msg, c.col, c.msg)
		}
		if !strings.Contains(err.Error(), "column ") || !strings.Contains(err.Error(), strconv.Quote(c.expr)) {
			t.Errorf("%q: message %q does not quote the expression and column", c.expr, err)
		}
	}
}

func TestLinkErrors(t *testing.T) {
	_, err := bpf.Compile("vlan and udp", capture.LinkRaw, 0)
	var se *bpf.SyntaxError
	if !errors.As(err, &se) || se.Pos != 0 || !strings.Contains(se.Msg, "no VLAN support for raw IP") {
		t.Errorf("vlan on raw: %v", err)
	}
	f, err := bpf.Parse("udp and vlan 5")
	if err != nil {
		t.Fatal(err)
	}
	if !f.UsesVLAN() {
		t.Error("UsesVLAN false")
	}
	if _, err := f.CompileSocket(uint16(capture.LinkLinuxSLL), 0); !errors.As(err, &se) || se.Pos != 8 {
		t.Errorf("vlan on a cooked socket: %v", err)
	}
	if f, _ := bpf.Parse("  "); f == nil || f.UsesVLAN() {
		t.Error("blank expression")
	}
}
