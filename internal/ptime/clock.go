package ptime

import "time"

// JumpLimit is the largest step forward a Clock takes on one packet's word:
// a longer one waits for the next packet to confirm it. Whole seconds.
const JumpLimit = 10 * time.Second

const jumpSecs = int64(JumpLimit / time.Second)

// edgeSec is t's seconds plus JumpLimit's, saturated.
func edgeSec(t Instant) int64 {
	if t.sec > maxSec-jumpSecs {
		return maxSec
	}
	return t.sec + jumpSecs
}

// Clock is a capture's time for timeouts. It follows packet times, but a
// step forward of more than JumpLimit is held until the next packet
// confirms it, by being no more than JumpLimit before it: a packet with
// another time, or another packet with the same time (a capture whose
// packets all carry one time, such as pcapng simple packets, confirms its
// first step at its second packet).
// A next packet that goes back instead shows the held time was a glitch
// (a bad timestamp, a clock stepped and stepped back, a damaged record):
// the clock never took it, so one such packet cannot time out every call,
// fragment and stream that is waiting. A genuine quiet spell costs one
// packet's delay, no more.
//
// Times before Now never move it: packets a little out of order (merged
// interfaces) are the capture's business, not the clock's.
//
// The zero Clock has seen no packet; its first packet is held like a jump,
// so a glitch in the very first packet is found too.
type Clock struct {
	now     Instant // the latest time taken
	edgeSec int64   // now's seconds + JumpLimit's: quick takes what is before
	state   uint8
	taken   bool    // now is set: a time was taken
	held    Instant // the step being held
	heldN   int     // its packet; 0 while unknown
	glitch  Glitch  // the last one found
}

// A Clock's states.
const (
	clockNew     = iota // no time taken yet
	clockRunning        // now is set, nothing held
	clockHolding        // held waits for the next packet; now is set unless there was none before
)

// Glitch is a packet whose time jumped ahead of the packets on both sides
// of it.
type Glitch struct {
	N    int     // the packet, as given to Step
	Time Instant // its time
}

// quick takes t, when it is the common case: a time less than
// JumpLimit's whole seconds past Now, or not past it at all. It reports
// whether it did. A few compares, inlined into Step.
func (c *Clock) quick(t Instant) bool {
	if c.state != clockRunning || t.sec >= c.edgeSec {
		return false
	}
	if c.now.Before(t) {
		c.now, c.edgeSec = t, edgeSec(t)
	}
	return true
}

// Step moves the clock with packet n's time t. It reports whether t showed
// that a held step was a glitch; Glitch returns it. n is 0 when the packet
// is not known: that step is then held or taken only by its time (a
// caller that gives several times for one packet, such as one per message
// it holds, gives the number each time or never).
func (c *Clock) Step(t Instant, n int) bool {
	if c.quick(t) {
		return false
	}
	return c.step(t, n)
}

func (c *Clock) step(t Instant, n int) bool {
	glitch := false
	if c.Settles(t, n) {
		glitch = c.Settle(t)
	}
	switch {
	case c.state == clockHolding: // the held time again, of the same packet or an unknown one
		if c.heldN == 0 {
			c.heldN = n
		}
	case c.state == clockRunning && !c.now.Add(JumpLimit).Before(t):
		if c.now.Before(t) {
			c.now, c.edgeSec = t, edgeSec(t)
		}
	default:
		c.held, c.heldN, c.state = t, n, clockHolding
	}
	return glitch
}

// Settles reports whether t, packet n's time, decides the step being held:
// whether one is held, and t is another time or n (when known) another
// packet.
func (c *Clock) Settles(t Instant, n int) bool {
	return c.state == clockHolding && (t != c.held || n != 0 && c.heldN != 0 && n != c.heldN)
}

// Settle decides the held step with t, the next packet's time (Settles):
// it is confirmed, and taken, when t is at most JumpLimit before it; it is
// a glitch, reported with true (Glitch returns it) and dropped, when t
// goes back further. Step does this itself; a caller that must act
// between the settling and t's own step (the correlator finishes what a
// confirmed step timed out before it adds the messages of the held time)
// calls it first.
func (c *Clock) Settle(t Instant) bool {
	if c.state != clockHolding {
		return false
	}
	if !t.Before(c.held.Add(-JumpLimit)) {
		c.take(c.held)
		return false
	}
	c.glitch = Glitch{N: c.heldN, Time: c.held}
	if !c.taken {
		// The first packet's time was the glitch: t is the first to take.
		c.take(t)
		return true
	}
	c.state = clockRunning
	return true
}

// Glitch returns the glitch Step or Settle last reported.
func (c *Clock) Glitch() Glitch { return c.glitch }

// Confirm takes the held step, if any: the capture has ended, and nothing
// contradicts it (its last packet often comes after a quiet spell).
func (c *Clock) Confirm() {
	if c.state == clockHolding {
		c.take(c.held)
	}
}

// take moves now to t, if t is later or nothing was taken yet.
func (c *Clock) take(t Instant) {
	if !c.taken || c.now.Before(t) {
		c.now, c.edgeSec, c.taken = t, edgeSec(t), true
	}
	c.state = clockRunning
}

// Now is the clock's time: the latest packet time taken. Before any is
// taken it is the zero time.Time's Instant.
func (c *Clock) Now() Instant {
	if !c.taken {
		return zeroTime
	}
	return c.now
}

var zeroTime = Of(time.Time{})

// Latest is the latest time seen: the held one while a step is held,
// Now otherwise. What a packet being held does is stamped with it, to be
// set back to Now should the packet prove a glitch.
func (c *Clock) Latest() Instant {
	if c.state == clockHolding {
		return c.held
	}
	return c.Now()
}

// HeldPacket is the packet whose step is held, as given to Step; 0 when
// none is.
func (c *Clock) HeldPacket() int {
	if c.state != clockHolding {
		return 0
	}
	return c.heldN
}

// Holding reports whether a step is held.
func (c *Clock) Holding() bool { return c.state == clockHolding }

// Time returns a as a time.Time in UTC.
func (a Instant) Time() time.Time { return time.Unix(a.sec, int64(a.nsec)).UTC() }

// Add returns a moved by d, saturated at the ends of the Instant's range
// rather than wrapped around.
func (a Instant) Add(d time.Duration) Instant {
	s := int64(d / time.Second)
	ns := a.nsec + int32(d%time.Second)
	switch {
	case ns >= 1e9:
		ns -= 1e9
		s++
	case ns < 0:
		ns += 1e9
		s--
	}
	switch {
	case s > 0 && a.sec > maxSec-s:
		return Instant{maxSec, 999_999_999}
	case s < 0 && a.sec < minSec-s:
		return Instant{minSec, 0}
	}
	return Instant{a.sec + s, ns}
}

const (
	maxSec = 1<<63 - 1
	minSec = -1 << 63
)
