package capture

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPermissionError(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.EACCES} {
		err := permissionError("eth0", errno)
		if !errors.Is(err, ErrPermission) || !errors.Is(err, errno) {
			t.Errorf("%v: %v does not wrap ErrPermission and the errno", errno, err)
		}
		for _, want := range []string{"eth0", "CAP_NET_RAW", "setcap cap_net_raw,cap_net_admin=eip $(which sipflow)", "root"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not mention %q", err, want)
			}
		}
	}
	if err := permissionError("eth0", syscall.ENODEV); errors.Is(err, ErrPermission) || !errors.Is(err, syscall.ENODEV) {
		t.Errorf("ENODEV: %v", err)
	}
}

func TestOpenLiveNoInterface(t *testing.T) {
	if _, err := OpenLive(LiveOptions{}); err == nil || !strings.Contains(err.Error(), "no interface") {
		t.Fatalf("err %v", err)
	}
}

func TestInterfaces(t *testing.T) {
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) == 0 {
		t.Skip("no interfaces")
	}
	var lo *Interface
	for i := range ifs {
		if ifs[i].Loopback {
			lo = &ifs[i]
		}
		t.Logf("%d %s up=%v loopback=%v %v %v", ifs[i].Index, ifs[i].Name, ifs[i].Up, ifs[i].Loopback, ifs[i].LinkType, ifs[i].Addrs)
	}
	if lo != nil && len(lo.Addrs) > 0 {
		found := false
		for _, a := range lo.Addrs {
			found = found || a.Addr().IsLoopback() && a.IsValid()
		}
		if !found {
			t.Errorf("loopback %s has no loopback address: %v", lo.Name, lo.Addrs)
		}
	}
}

// TestLiveSmoke runs on every build that can capture (AF_PACKET, or libpcap
// with -tags libpcap): two datagrams on the loopback interface, as root.
func TestLiveSmoke(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	var lo string
	ifs, _ := net.Interfaces()
	for _, ni := range ifs {
		if ni.Flags&net.FlagLoopback != 0 && ni.Flags&net.FlagUp != 0 {
			lo = ni.Name
		}
	}
	if lo == "" {
		t.Skip("no loopback interface")
	}
	ln, err := net.ListenPacket("udp", "127.0.0.1:45989")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	src, err := OpenLive(LiveOptions{Interfaces: []string{lo}, Filter: "udp dst port 45989"})
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	time.AfterFunc(5*time.Second, func() { src.Close() })
	c, err := net.Dial("udp", "127.0.0.1:45989")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for _, m := range []string{"smoke one", "smoke two"} {
		c.Write([]byte(m))
	}
	for i, m := range []string{"smoke one", "smoke two"} {
		p, err := src.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if p.N != i+1 || !bytes.HasSuffix(p.Data, []byte(m)) || p.Time.Sub(start).Abs() > time.Second {
			t.Errorf("packet %d: N %d time %v data % x", i+1, p.N, p.Time, p.Data)
		}
	}
	if st, err := src.Stats(); err != nil || st.Received < 2 {
		t.Errorf("stats %+v %v", st, err)
	}
}
