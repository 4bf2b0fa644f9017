package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestCapturedTwice: every test capture, with each packet recorded a second
// time 30 µs later (tcpdump -i any across a bridge), gives the same calls
// and findings as the capture itself, packet numbers aside (packet n is
// now 2n-1, its copy 2n, which nothing may name): a copy is neither a
// message nor a retransmission. The note says SIP messages came twice
// (none over TCP, whose reassembly drops a segment seen before).
func TestCapturedTwice(t *testing.T) {
	files, _ := filepath.Glob(repoTestdata("*.pcap"))
	if len(files) == 0 {
		t.Fatal("no test captures")
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			twice := filepath.Join(t.TempDir(), name)
			writeTwice(t, f, twice, 30*time.Microsecond, false)
			for _, args := range [][]string{{"calls", "--all", "--json", "--no-rtp"}, {"check", "--json", "--no-rtp", "--fail-on", "error"}} {
				want, _, _ := sipflow(t, nil, append(args, f)...)
				got, errs, _ := sipflow(t, nil, append(args, twice)...)
				if got = halvePacketNumbers(got); got != want {
					t.Errorf("%s: each packet captured twice gives\n%s\nwant\n%s", strings.Join(args, " "), got, want)
				}
				noted := strings.Contains(errs, "SIP message(s) were captured twice")
				if tcp := sipOverTCPOnly[name]; noted == tcp {
					t.Errorf("%s: note of copies %v over TCP %v; stderr:\n%s", args[0], noted, tcp, errs)
				}
			}
		})
	}
}

// sipOverTCPOnly names the test captures whose SIP all goes over TCP:
// copies of their segments are dropped by the reassembly, unnoted.
var sipOverTCPOnly = map[string]bool{
	"call_tcp.pcap":             true,
	"register_refresh_tcp.pcap": true,
	"tcp_burst.pcap":            true,
}

// packetNumber matches the packet numbers calls --json and check --json
// print: in details, in packets lists and as events' n.
var packetNumber = regexp.MustCompile(`packets? \d+|"packets":\[[\d,]+\]|"n":\d+`)

var digits = regexp.MustCompile(`\d+`)

// halvePacketNumbers maps the packet numbers of a capture written by
// writeTwice back to the original's: 2n-1 to n; a copy's, 2n, to
// "COPY(2n)", which no expected output holds.
func halvePacketNumbers(s string) string {
	return packetNumber.ReplaceAllStringFunc(s, func(m string) string {
		return digits.ReplaceAllStringFunc(m, func(d string) string {
			n, _ := strconv.Atoi(d)
			if n%2 == 0 {
				return "COPY(" + d + ")"
			}
			return strconv.Itoa((n + 1) / 2)
		})
	})
}

// writeTwice copies the pcap file src to dst, each packet followed by a
// copy of itself stamped gap later; with newID, the copy of an IPv4 packet
// over Ethernet gets another Identification, as a packet sent again would.
func writeTwice(t *testing.T, src, dst string, gap time.Duration, newID bool) {
	t.Helper()
	rewritePcap(t, src, dst, func(_ int, link layers.LinkType, ci gopacket.CaptureInfo, data []byte, write func(gopacket.CaptureInfo, []byte)) {
		write(ci, data)
		ci.Timestamp = ci.Timestamp.Add(gap)
		if newID && link == layers.LinkTypeEthernet && len(data) >= 34 && data[12] == 0x08 && data[13] == 0x00 {
			data = bytes.Clone(data)
			data[18] ^= 0x80 // the IPv4 header's Identification, after the 14-byte Ethernet header
		}
		write(ci, data)
	})
}

// rewritePcap copies the pcap file src to dst (nanosecond timestamps),
// handing each packet, numbered from 1, to each, which writes what it
// will in its place.
func rewritePcap(t *testing.T, src, dst string, each func(n int, link layers.LinkType, ci gopacket.CaptureInfo, data []byte, write func(gopacket.CaptureInfo, []byte))) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := pcapgo.NewWriterNanos(out)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		t.Fatal(err)
	}
	write := func(ci gopacket.CaptureInfo, data []byte) {
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		each(n, r.LinkType(), ci, data, write)
	}
}
