package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// TestLiveViewRegistrationThenInvite: a Call-ID that REGISTERs and then
// INVITEs (SIPp's branch scenario) turns from a registration row into a
// call row, as correlate turns it into a call.
func TestLiveViewRegistrationThenInvite(t *testing.T) {
	v := newTableView(lipgloss.NewRenderer(io.Discard), io.Discard, true, correlate.Options{})
	hdrs := "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s\r\nFrom: <sip:alice@x>;tag=a\r\nTo: <sip:alice@x>%s\r\n" +
		"Call-ID: c1\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n"
	for i, tc := range []struct {
		text, kind, state string
		final             int
	}{
		{"REGISTER sip:x SIP/2.0\r\n" + fmt.Sprintf(hdrs, "r", "", "REGISTER"), "registration", "trying", 0},
		{"SIP/2.0 200 OK\r\n" + fmt.Sprintf(hdrs, "r", ";tag=r", "REGISTER"), "registration", "registered", 200},
		{"INVITE sip:bob@x SIP/2.0\r\n" + fmt.Sprintf(hdrs, "i", "", "INVITE"), "call", "calling", 0},
		{"SIP/2.0 180 Ringing\r\n" + fmt.Sprintf(hdrs, "i", ";tag=b", "INVITE"), "call", "ringing", 0},
	} {
		var m decode.Message
		if err := decode.ParseSIP([]byte(tc.text), &m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		m.Time = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		v.message(&m)
		row := v.open["c1"]
		if row == nil || string(row.kind) != tc.kind || row.state != tc.state || row.final != tc.final {
			t.Fatalf("after message %d: row %+v, want kind %s, state %s, final %d", i+1, row, tc.kind, tc.state, tc.final)
		}
	}
}

// TestLiveViewUnregister: a registration row says unregistered when the
// REGISTER its 2xx answers removed the bindings, as correlate's verdict
// will, and registered again after a REGISTER that adds one.
func TestLiveViewUnregister(t *testing.T) {
	v := newTableView(lipgloss.NewRenderer(io.Discard), io.Discard, true, correlate.Options{})
	hdrs := "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\nFrom: <sip:alice@x>;tag=a\r\nTo: <sip:alice@x>%s\r\n" +
		"Call-ID: r1\r\nCSeq: %[1]d REGISTER\r\n%[3]sContent-Length: 0\r\n\r\n"
	for i, tc := range []struct {
		text, state string
	}{
		{"REGISTER sip:x SIP/2.0\r\n" + fmt.Sprintf(hdrs, 1, "", "Contact: <sip:alice@10.0.0.1>\r\nExpires: 3600\r\n"), "trying"},
		{"SIP/2.0 200 OK\r\n" + fmt.Sprintf(hdrs, 1, ";tag=r", "Contact: <sip:alice@10.0.0.1>;expires=3600\r\n"), "registered"},
		{"REGISTER sip:x SIP/2.0\r\n" + fmt.Sprintf(hdrs, 2, "", "Contact: <sip:alice@10.0.0.1>;expires=0\r\n"), "registered"},
		{"SIP/2.0 200 OK\r\n" + fmt.Sprintf(hdrs, 2, ";tag=r", ""), "unregistered"},
		{"REGISTER sip:x SIP/2.0\r\n" + fmt.Sprintf(hdrs, 3, "", "Contact: <sip:alice@10.0.0.1>\r\n"), "unregistered"},
		{"SIP/2.0 200 OK\r\n" + fmt.Sprintf(hdrs, 3, ";tag=r", ""), "registered"},
	} {
		var m decode.Message
		if err := decode.ParseSIP([]byte(tc.text), &m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		m.Time = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		v.message(&m)
		if row := v.open["r1"]; row == nil || row.state != tc.state {
			t.Fatalf("after message %d: row %+v, want state %s", i+1, row, tc.state)
		}
	}
}

// TestLiveViewAnsweredRowKept: the table drops a row the correlator must
// have finished without telling it: a ringing call after the idle timeout,
// an answered one only after the call timeout, a subscription in force
// only after a day and the idle timeout, since they go on without SIP.
func TestLiveViewAnsweredRowKept(t *testing.T) {
	v := newTableView(lipgloss.NewRenderer(io.Discard), io.Discard, true, correlate.Options{})
	hdrs := "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:alice@x>;tag=a\r\nTo: <sip:bob@x>%s\r\n" +
		"Call-ID: %s\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n"
	for i, text := range []string{
		"INVITE sip:bob@x SIP/2.0\r\n" + fmt.Sprintf(hdrs, "", "up", "INVITE"),
		"SIP/2.0 200 OK\r\n" + fmt.Sprintf(hdrs, ";tag=b", "up", "INVITE"),
		"INVITE sip:bob@x SIP/2.0\r\n" + fmt.Sprintf(hdrs, "", "ringing", "INVITE"),
		"SIP/2.0 180 Ringing\r\n" + fmt.Sprintf(hdrs, ";tag=b", "ringing", "INVITE"),
		"SUBSCRIBE sip:bob@x SIP/2.0\r\n" + fmt.Sprintf(hdrs, "", "sub", "SUBSCRIBE"),
		"SIP/2.0 200 OK\r\n" + fmt.Sprintf(hdrs, ";tag=b", "sub", "SUBSCRIBE"),
	} {
		var m decode.Message
		if err := decode.ParseSIP([]byte(text), &m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		m.Time = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		v.message(&m)
	}
	now := time.Now()
	v.expire(now.Add(30 * time.Minute))
	if v.open["up"] == nil || v.open["sub"] == nil || v.open["ringing"] != nil {
		t.Fatalf("30 minutes on: answered row kept %t, subscription kept %t (want true), ringing row kept %t (want false)",
			v.open["up"] != nil, v.open["sub"] != nil, v.open["ringing"] != nil)
	}
	v.expire(now.Add(3 * time.Hour))
	if v.open["up"] != nil || v.open["sub"] == nil {
		t.Fatalf("3 hours on: answered row kept %t (want false: past the 2-hour call timeout), subscription kept %t (want true: its expiry may be a day away)",
			v.open["up"] != nil, v.open["sub"] != nil)
	}
	v.expire(now.Add(25 * time.Hour))
	if v.open["sub"] != nil {
		t.Fatal("25 hours on: the subscription is still shown, past a day and the idle timeout")
	}
}
