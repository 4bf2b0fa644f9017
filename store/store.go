// Package store keeps the calls of packet captures in one SQLite file, the
// archive, and finds them again: every call with its legs, dialogs,
// messages (their full text), findings, events and RTP streams, and the raw
// packets they came from, so that a ladder can be drawn again or the
// packets pulled out weeks after the capture was deleted.
//
// The schema is created and upgraded by migrations embedded in the binary
// and recorded in the file (table schema_migrations), applied in order, one
// transaction each, when the archive is opened. An archive written by a
// newer sipflow is refused, never touched.
//
// Every pooled connection gets the same PRAGMAs from the DSN: WAL (readers
// never wait for the writer: search works while an import runs in another
// process), a busy timeout (writers queue instead of failing), foreign keys,
// and BEGIN IMMEDIATE for transactions, which only writes use: a read-write
// transaction that starts deferred and upgrades later can fail with "database
// is locked" whatever the timeout. Queries therefore run outside explicit
// transactions. The file is created with mode 0600: captures hold phone
// numbers and digest credentials.
//
// The thing a reader is likely to get wrong: calls are not stored as a
// serialisation of correlate's structures. A call's summary, findings,
// events and streams are columns; its transactions and dialogs are rebuilt
// by feeding its stored messages through correlate again (Replay), which is
// what makes a ladder drawn from the archive the same, byte for byte, as one
// drawn from the capture.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// applicationID marks a SQLite file as a sipflow archive (PRAGMA
// application_id, "SIPF"), so that another program's database is refused
// instead of being given sipflow's tables.
const applicationID = 0x53495046

// pageSize is the page size of a new archive. Messages and packets are
// rows of hundreds of bytes written in bulk: 64 KiB pages make an import
// markedly faster than the default 4 KiB, and a search reads few pages.
const pageSize = 65536

// busyTimeout is how long a writer waits for another one (an archive
// command running in another process) before giving up.
const busyTimeout = 30 * time.Second

// Errors Open and the writes wrap, so that callers can tell them apart and
// say what to do.
var (
	// ErrNoArchive: the file does not exist, or is empty, and Options.Create
	// was not set.
	ErrNoArchive = errors.New("no archive")
	// ErrNotArchive: the file is not SQLite, or a SQLite database of
	// another program.
	ErrNotArchive = errors.New("not a sipflow archive")
	// ErrNewer: the archive was written by a newer sipflow whose schema this
	// one does not know. It is left untouched.
	ErrNewer = errors.New("archive written by a newer sipflow")
	// ErrOlder: the archive needs migrations but was opened read-only.
	ErrOlder = errors.New("archive needs upgrading")
	// ErrReadOnly: the archive (or its folder) cannot be written.
	ErrReadOnly = errors.New("archive is read-only")
	// ErrFull: the disk (or the archive's size limit) is full.
	ErrFull = errors.New("disk full")
	// ErrStartedOver: the capture being imported was removed from the
	// archive by another import of the same file, with other analysis
	// options, which started it over. This import can store nothing more;
	// the archive is fine.
	ErrStartedOver = errors.New("import started over by another process")
)

// Options tune Open. The zero value opens an existing archive for reading
// and writing.
type Options struct {
	// Create makes the archive (mode 0600) when the file does not exist.
	Create bool
	// ReadOnly opens for queries only. A file with no write permission at
	// all (chmod a-w) is opened read-only whatever this says, even by root.
	ReadOnly bool
	// MaxPages, when positive, caps the archive's size in pages for the
	// writes of this process (PRAGMA max_page_count): a way to see what a
	// full disk does without filling one.
	MaxPages int64
}

// DB is an open archive. Its methods may be called from several goroutines.
type DB struct {
	db       *sql.DB
	path     string
	readOnly bool
	maxPages int64
	version  int
}

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("store: migration %s is out of sequence", base)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	return ms, nil
}

// SchemaVersion is the schema version this sipflow writes: the number of
// its migrations.
func SchemaVersion() int {
	ms, _ := migrations()
	return len(ms)
}

// Open opens the archive at path, creating it if asked, and brings its
// schema up to date.
func Open(path string, opts Options) (*DB, error) {
	fi, err := os.Stat(path)
	created := false
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s: %w: it is a directory", path, ErrNotArchive)
	case err == nil && fi.Size() == 0 && !opts.Create && fi.Mode().IsRegular():
		// Not opened at all: go-sqlite3 would write the WAL header into it.
		return nil, fmt.Errorf("%s: %w here: the file is empty (sipflow archive creates one)", path, ErrNoArchive)
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && opts.Create && !opts.ReadOnly:
		if created, err = create(path); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w here (sipflow archive creates one)", path, ErrNoArchive)
	default:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	readOnly := opts.ReadOnly
	if fi != nil && fi.Mode().Perm()&0o222 == 0 {
		readOnly = true
	}
	db := sql.OpenDB(connector{dsn: dsn(path, readOnly)})
	d := &DB{db: db, path: path, readOnly: readOnly, maxPages: opts.MaxPages}
	if err := d.init(created || opts.Create && !readOnly); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// connector opens the archive's connections with go-sqlite3, each given
// the functions sipflow's queries use (RegisterFunc): fold, Go's
// strings.ToLower, which folds every letter where SQLite's lower() folds
// ASCII only. A connector, not a driver registered by name: nothing
// process-wide.
type connector struct{ dsn string }

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.Driver().Open(c.dsn) }

func (c connector) Driver() driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		return conn.RegisterFunc("fold", strings.ToLower, true)
	}}
}

// create makes a new archive at path with mode 0600, its page size and WAL
// mode set (neither can change later), unless another process is quicker.
// The file is prepared under a temporary name beside path and linked into
// place, so another process never opens it half made: one that opened the
// empty file while its creator was still setting WAL mode could be refused
// with "database is locked" (TestArchiveConcurrent, now and then).
// SQLite creates the -wal and -shm files with the database's permissions.
func create(path string) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sipflow-new-*.db")
	if err != nil {
		return false, classify(path, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := initFile(tmp.Name()); err != nil {
		return false, classify(path, err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil // another process was quicker: open theirs
	}
	// No hard links here (some network file systems): make it in place.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, classify(path, err)
	}
	f.Close()
	if err := initFile(path); err != nil {
		return false, classify(path, err)
	}
	return true, nil
}

// initFile gives an empty database file its page size, WAL mode and
// application id.
func initFile(path string) error {
	db, err := sql.Open("sqlite3", "file:"+escapePath(path)+"?_busy_timeout=30000")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL; PRAGMA application_id = %d", pageSize, applicationID))
	return err
}

// dsn is the go-sqlite3 data source name: the PRAGMAs every pooled
// connection gets.
func dsn(path string, readOnly bool) string {
	q := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL", busyTimeout.Milliseconds())
	if readOnly {
		q += "&mode=ro"
	} else {
		q = "_journal_mode=WAL&" + q
	}
	return "file:" + escapePath(path) + "?" + q
}

// escapePath makes a file name safe in a SQLite URI.
func escapePath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

// init checks that the file is an archive and applies the migrations it
// lacks. An empty file is set up only when setUp says so (the archive is
// being made): a query on one finds no archive, and leaves it empty.
func (d *DB) init(setUp bool) error {
	ctx := context.Background()
	var appID int64
	if err := d.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return classify(d.path, err)
	}
	var tables int
	if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		return classify(d.path, err)
	}
	switch {
	case appID == applicationID:
	case appID == 0 && tables == 0 && !setUp:
		return fmt.Errorf("%s: %w here: the file is empty (sipflow archive creates one)", d.path, ErrNoArchive)
	case appID == 0 && tables == 0:
		// An empty file (made by create, or by someone else): ours to set up.
	default:
		return fmt.Errorf("%s: %w (a SQLite database of another program)", d.path, ErrNotArchive)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	if tables > 0 {
		if err := d.db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&d.version); err != nil {
			return classify(d.path, err)
		}
	}
	switch {
	case d.version > len(ms):
		return fmt.Errorf("%s: %w (schema version %d; this sipflow knows up to %d): upgrade sipflow to read it", d.path, ErrNewer, d.version, len(ms))
	case d.version == len(ms):
		return nil
	case d.readOnly:
		return fmt.Errorf("%s: %w (schema version %d, this sipflow writes %d), and it is open read-only: run sipflow archive on it once", d.path, ErrOlder, d.version, len(ms))
	}
	for _, m := range ms[d.version:] {
		if err := d.migrate(ctx, m); err != nil {
			return err
		}
		d.version = m.version
	}
	return nil
}

// migrate applies one migration in its own transaction, recording it. A
// second process opening a new archive at the same moment waits on the
// transaction's lock, then finds the migration done.
func (d *DB) migrate(ctx context.Context, m migration) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(d.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return classify(d.path, err)
	}
	var done int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&done); err != nil {
		return classify(d.path, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("%s: migration %s: %w", d.path, m.name, classify(d.path, err))
	}
	if err := backfill(ctx, tx, m.version); err != nil {
		return fmt.Errorf("%s: migration %s: %w", d.path, m.name, classify(d.path, err))
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return classify(d.path, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return classify(d.path, err)
	}
	return classify(d.path, tx.Commit())
}

// Close closes the archive.
func (d *DB) Close() error { return d.db.Close() }

// Path is the file the archive was opened from.
func (d *DB) Path() string { return d.path }

// Version is the archive's schema version.
func (d *DB) Version() int { return d.version }

// SQL gives direct access to the database, for tests and tools that need
// a query the package does not offer. Write nothing through it.
func (d *DB) SQL() *sql.DB { return d.db }

// classify wraps SQLite's errors for a full disk, a read-only file and a
// file that is not a database with this package's sentinels, keeping
// SQLite's message.
func classify(path string, err error) error {
	if err == nil {
		return nil
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return fmt.Errorf("%s: %w: %v", path, ErrFull, err)
		case sqlite3.ErrReadonly:
			return fmt.Errorf("%s: %w: %v", path, ErrReadOnly, err)
		case sqlite3.ErrNotADB:
			return fmt.Errorf("%s: %w: %v", path, ErrNotArchive, err)
		case sqlite3.ErrCantOpen, sqlite3.ErrPerm:
			if _, statErr := os.Stat(path); statErr == nil {
				return fmt.Errorf("%s: %w: %v (is its folder writable?)", path, ErrReadOnly, err)
			}
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	case isNoSpace(err):
		return fmt.Errorf("%w: %v", ErrFull, err)
	}
	return err
}

func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
