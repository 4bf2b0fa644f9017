// Package correlate groups SIP messages into transactions (RFC 3261 §17),
// dialogs (§12) and calls, computes each call's state and timings, runs the
// expected-flow checks, and matches calls against expected flows.
//
// A Correlator is fed decoded messages in capture order and driven by
// packet time. A call is finished, checked, handed to the caller and
// forgotten once nothing is pending and it has been quiet for a short
// linger, or when it has been idle for a long time; memory therefore holds
// only the calls still in progress, however long the capture. A caller
// that is done with a call's messages hands them back (Recycle), and later
// calls are built in that memory instead of new memory the garbage
// collector would have to find and free.
//
// The one thing a reader gets wrong: "the same message twice" is a
// retransmission only on the same hop (same source and destination).
// The same request forwarded by a proxy is a new transaction on the next hop,
// with its own top Via branch.
package correlate
