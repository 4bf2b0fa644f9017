package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/store"
)

// callSource is where a command that reads calls (check, flow) gets them:
// the capture FILE, or with --db the archive 'sipflow archive' made. Its
// analyze has the shape of analyzeCapture, so that the command's code after
// it is the same either way, and so is its output, byte for byte.
type callSource struct {
	db      dbFlag
	capture string
}

// addFlags adds --db and --capture.
func (s *callSource) addFlags(cmd *cobra.Command) {
	s.db.addFlag(cmd)
	cmd.Flag("db").Usage = "read the calls from this archive (made by sipflow archive) instead of a capture FILE"
	cmd.Flags().StringVar(&s.capture, "capture", "", "with --db: only the calls of this imported capture (file name, base name, number or SHA-256 prefix)")
}

// args checks the positional arguments: one FILE, or none with --db.
func (s *callSource) args(cmd *cobra.Command, args []string) error {
	if s.db.given() {
		return cobra.NoArgs(cmd, args)
	}
	if s.capture != "" {
		return usageError("--capture selects calls of the archive: it needs --db")
	}
	return cobra.ExactArgs(1)(cmd, args)
}

// file is the capture named on the command line, "" with --db.
func (s *callSource) file(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// dbPath is the archive the calls come from, "" from a capture FILE.
func (s *callSource) dbPath() string {
	if !s.db.given() {
		return ""
	}
	return s.db.resolve()
}

// name says where the calls come from, for messages ("no call in NAME
// matches") and titles (its base name): the capture FILE; from the
// archive, the captures --capture chose, by the names they were archived
// under, else the archive's path.
func (s *callSource) name(file string) (name, base string) {
	if !s.db.given() {
		return file, filepath.Base(file)
	}
	path := s.db.resolve()
	if s.capture != "" {
		if db, err := openStore(path, store.Options{}); err == nil {
			cs, err := db.FindCaptures(context.Background(), s.capture)
			db.Close()
			if err == nil && len(cs) > 0 {
				names, bases := make([]string, len(cs)), make([]string, len(cs))
				for i, c := range cs {
					names[i], bases[i] = c.Name, filepath.Base(c.Name)
				}
				return strings.Join(names, ", "), strings.Join(bases, ", ")
			}
		}
	}
	return path, filepath.Base(path)
}

// analyze hands onCall every call of the capture file, as analyzeCapture
// does, or with --db every call of the archive that f selects, in the
// order they started (capture order with --capture). From the archive a
// call has its summary, findings, events and streams as the import
// computed them (from a capture, the same: Legs nil, see analyzeSummaries);
// with full, or with custom flows (copts.Flows, which are
// matched again), it is rebuilt in full: legs, transactions, dialogs and
// messages, keeping what copts asks (KeepRaw, KeepSDP). f is applied here
// (onCall need not), in SQL first: set f.callID to narrow an archive of
// millions of calls to the one wanted before anything is rebuilt.
func (s *callSource) analyze(g *globalOptions, file string, copts correlate.Options, f *callFilter, full bool, onCall func(*correlate.Call)) (*correlate.Stats, error) {
	if !s.db.given() {
		if !full {
			return analyzeSummaries(g, file, copts, keepAll(onCall))
		}
		return analyzeCapture(g, file, copts, onCall)
	}
	if err := g.refuseStdout("the archive", s.db.resolve()); err != nil {
		return &correlate.Stats{}, err
	}
	return &correlate.Stats{}, analyzeDB(s.db.resolve(), s.capture, copts, f, full, onCall)
}

// analyzeDB is analyze from the archive at path.
func analyzeDB(path, captureName string, copts correlate.Options, f *callFilter, full bool, onCall func(*correlate.Call)) error {
	db, err := openStore(path, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	sf, err := storeFilter(db, f, captureName)
	if err != nil {
		return err
	}
	ctx := context.Background()
	err = db.Calls(ctx, sf, func(c *store.Call) error {
		if !f.match(c.Call) {
			return nil
		}
		call := c.Call
		if full || copts.Flows != nil {
			r, err := db.Replay(ctx, c, copts)
			if err != nil {
				return err
			}
			call = r
		}
		onCall(call)
		return nil
	})
	return storeError(err)
}

// loadCallsFromDB returns the calls of the archive at dbPath that filter
// selects (filter.validate must have been called), rebuilt in full as
// correlate builds them from the capture, messages with their text
// (Raw) and SDP, in the order they started.
func loadCallsFromDB(g *globalOptions, dbPath string, filter *callFilter) ([]*correlate.Call, error) {
	var calls []*correlate.Call
	err := analyzeDB(dbPath, "", correlate.Options{KeepRaw: true, KeepSDP: true, Media: true}, filter, true, func(c *correlate.Call) {
		calls = append(calls, c)
	})
	return calls, err
}
