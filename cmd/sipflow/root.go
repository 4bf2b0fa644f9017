package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/render"
)

// Exit statuses shared by every command.
const (
	exitOK       = 0
	exitFindings = 1 // findings at or above --fail-on (sipflow check)
	exitUsage    = 2 // usage or I/O error: missing file, not a capture
	exitDamaged  = 3 // the capture was damaged; what could be read was analysed
)

// exitError carries an exit status up to run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error in how sipflow was called.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// streams are the I/O a command uses, injected so tests can capture them.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	streams
	color       string // auto, always, never
	cpuProfile  string
	memProfile  string
	stopProfile func()
	// gcFloor is the heap an analysis lets grow before the garbage
	// collector runs (gcFloor): heapFloor when sipflow runs as a program,
	// 0 (the runtime's default) for commands run in-process by tests.
	gcFloor uint64
	// program is true when sipflow runs as a program, which may change
	// settings of the whole process (memory profiling); false for
	// commands run in-process by tests.
	program bool
	// spools are the captures that can be read only once, copied to be
	// read again (spoolCapture), by the name given.
	spools map[string]*spool
	// opened are captures opened ahead of their analysis, which
	// openCapture hands out once instead of opening the name again
	// (archive opens its capture before it writes anything).
	opened map[string]capture.Source
	// keyLogPath is --tls-keylog; keyLog its secrets, read before the
	// command runs, for every decoder of a capture.
	keyLogPath string
	keyLog     *decode.KeyLog
}

// renderer returns a lipgloss renderer for w honouring --color and NO_COLOR.
func (g *globalOptions) renderer(w io.Writer) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	switch g.color {
	case "always":
		r.SetColorProfile(termenv.ANSI256)
	case "never":
		r.SetColorProfile(termenv.Ascii)
	default:
		if os.Getenv("NO_COLOR") != "" || !isTerminal(w) {
			r.SetColorProfile(termenv.Ascii)
		} else {
			r.SetColorProfile(termenv.ANSI256)
		}
	}
	return r
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "sipflow",
		Short: "Turn packet captures into SIP call flows",
		Long: `sipflow reads packet captures (pcap, pcapng, gzip-compressed or not) and shows
the SIP messages, calls and call flows inside them.

Exit status: 0 success, 1 findings at or above --fail-on (check), 2 usage or
I/O error, 3 the capture was damaged but what could be read was analysed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(g.In)
	root.SetOut(g.Out)
	root.SetErr(g.Err)
	root.PersistentFlags().StringVar(&g.color, "color", "auto", "colour output: auto, always or never (auto honours NO_COLOR)")
	root.PersistentFlags().StringVar(&g.keyLogPath, "tls-keylog", "", "a TLS key log (the NSS format SSLKEYLOGFILE makes): SIP over TLS and WSS in connections whose secrets it holds is decrypted and read")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for performance work)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&g.memProfile, "memprofile", "", "write an allocation profile to this file at exit (for performance work)")
	root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		switch g.color {
		case "auto", "always", "never":
		default:
			return usageError("--color must be auto, always or never, not %q", g.color)
		}
		if g.program && g.memProfile == "" {
			// The runtime samples an allocation every 512 KB or so for
			// memory profiles, each time walking the stack: 0.4% of the
			// instructions on big-sip, for a profile only --memprofile
			// writes. The runtime notices the change at each processor's
			// next allocation.
			runtime.MemProfileRate = 0
		}
		// The profiles are files to write too: not the capture or the
		// archive read.
		var reads []readFile
		for _, a := range args {
			reads = append(reads, readFile{"the capture", a})
		}
		if f := cmd.Flags().Lookup("db"); f != nil && f.Value.String() != "" {
			reads = append(reads, archiveReads(f.Value.String())...)
		}
		if err := refuseOverwrite("--cpuprofile", g.cpuProfile, reads...); err != nil {
			return err
		}
		if err := refuseOverwrite("--memprofile", g.memProfile, reads...); err != nil {
			g.memProfile = "" // written at exit otherwise
			return err
		}
		if g.keyLogPath != "" {
			if err := g.refuseOntoKeyLog(cmd); err != nil {
				return err
			}
			if _, err := os.Stat(g.keyLogPath); errors.Is(err, fs.ErrNotExist) && cmd.Name() == "capture" {
				// A live capture may start before the programs whose
				// secrets it needs have made their log.
				kl, err := decode.WatchKeyLogFile(g.keyLogPath)
				if err != nil {
					return usageError("--tls-keylog: %v", err)
				}
				g.keyLog = kl
				say(g.Err, "sipflow: note: --tls-keylog %s does not exist yet: it is read once a program writes it", g.keyLogPath)
			} else {
				kl, err := decode.ReadKeyLogFile(g.keyLogPath)
				if err != nil {
					return usageError("--tls-keylog: %v", err)
				}
				g.keyLog = kl
			}
		}
		if g.cpuProfile != "" {
			f, err := os.Create(g.cpuProfile)
			if err != nil {
				return usageError("--cpuprofile: %v", err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return usageError("--cpuprofile: %v", err)
			}
			g.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		}
		return nil
	}
	root.AddCommand(newMessagesCmd(g), newCallsCmd(g), newCheckCmd(g))
	root.AddCommand(newFlowCmd(g), newReportCmd(g))
	root.AddCommand(newArchiveCmd(g), newSearchCmd(g), newExportCmd(g), newCapturesCmd(g)) // issue 5
	root.AddCommand(newCaptureCmd(g))
	root.AddCommand(newRTPCmd(g), newAudioCmd(g)) // issue 7
	return root
}

// refuseOntoKeyLog refuses, as refuseOverwrite and refuseStdout refuse
// it for the capture and the archive, a file to write that is the key
// log --tls-keylog reads (a live capture's programs may be writing it
// still): the command's -o, -w, --db, a profile, or standard output.
func (g *globalOptions) refuseOntoKeyLog(cmd *cobra.Command) error {
	if g.keyLogPath == "-" {
		return usageError("--tls-keylog -: the key log is read from a file; standard input is no key log")
	}
	for _, name := range []string{"output", "write", "db", "cpuprofile", "memprofile"} {
		f := cmd.Flags().Lookup(name)
		if f == nil || f.Value.String() == "" {
			continue
		}
		flag := "--" + f.Name
		if f.Shorthand != "" {
			flag = "-" + f.Shorthand
		}
		if err := refuseOverwrite(flag, f.Value.String(), readFile{"the key log", g.keyLogPath}); err != nil {
			return err
		}
	}
	return g.refuseStdout("the key log", g.keyLogPath)
}

// run executes sipflow with args and returns the exit status.
func run(args []string, in io.Reader, out, errw io.Writer) int {
	return runWith(&globalOptions{streams: streams{In: in, Out: out, Err: errw}}, args)
}

// runWith is run with the global options made by the caller.
func runWith(g *globalOptions, args []string) int {
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.Execute()
	if g.stopProfile != nil {
		g.stopProfile()
	}
	if g.memProfile != "" {
		if f, err := os.Create(g.memProfile); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != exitFindings {
			sayError(g.Err, ee.err)
		}
		return ee.code
	}
	// Anything else cobra reports (unknown flag, wrong arguments) is usage.
	sayError(g.Err, err)
	return exitUsage
}

// say writes a line that sipflow says of its own accord, on standard
// error or output: a note, a warning, an error, what a command wrote
// where. Its arguments can quote a file's name, a Call-ID, a capture's
// bytes, an error that quotes them: every message goes through here, and
// every string, error or Stringer in it through render.SanitizeString
// (sanitizeError), so that nothing in it reaches the terminal raw, not
// even a line break that would start a line of its own. format is
// sipflow's own text.
func say(w io.Writer, format string, args ...any) {
	clean := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case error:
			clean[i] = sanitizeError(v)
		case string:
			clean[i] = render.SanitizeString(v)
		case []byte:
			clean[i] = render.Sanitize(v)
		case fmt.Stringer:
			clean[i] = render.SanitizeString(v.String())
		default:
			clean[i] = a
		}
	}
	io.WriteString(w, fmt.Sprintf(format, clean...)+"\n")
}

// sayError says an error: "sipflow: " and the error.
func sayError(w io.Writer, err error) { say(w, "sipflow: %s", err) }

// sanitizeError is render.SanitizeString of an error's text, except that
// the errors errors.Join gathers (a live capture's) keep a line each:
// only the line breaks errors.Join puts between them are kept.
func sanitizeError(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range j.Unwrap() {
			if e != nil {
				lines = append(lines, sanitizeError(e))
			}
		}
		return strings.Join(lines, "\n")
	}
	return render.SanitizeString(err.Error())
}
