//go:build !linux && !libpcap

package capture

import (
	"fmt"
	"net"
	"runtime"
)

// Without Linux's AF_PACKET or libpcap there is no way to capture.

func openLive(opts LiveOptions) (LiveSource, error) {
	return nil, fmt.Errorf("capture: %w (this is %s)", ErrUnsupported, runtime.GOOS)
}

func interfaceLinkType(ni net.Interface) LinkType {
	if ni.Flags&net.FlagLoopback != 0 {
		return LinkNull
	}
	return LinkEthernet
}

func extraInterfaces() []Interface { return nil }
