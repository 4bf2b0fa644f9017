-- The archive: every call of every imported capture, with what it is made
-- of (legs, dialogs, messages, findings, events, RTP streams) and the raw
-- packets its messages and media came from.
--
-- Times are Unix nanoseconds (UTC), durations nanoseconds (-1: none),
-- addresses "ip:port" text. Every table a search filters on has an index;
-- every foreign key column has one too, so that deleting a capture (--force)
-- never scans a table per row.

-- One imported capture file, identified by the SHA-256 of its bytes.
-- state is 'importing' until every call and packet is stored: a crash
-- leaves it so, and the next import of the same file resumes it.
CREATE TABLE captures (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	sha256       TEXT    NOT NULL UNIQUE,
	name         TEXT    NOT NULL, -- the path as given to sipflow archive
	size         INTEGER NOT NULL, -- bytes of the file as given (compressed if it was)
	state        TEXT    NOT NULL CHECK (state IN ('importing', 'complete')),
	imported_at  INTEGER NOT NULL, -- wall clock: when the import started
	finished_at  INTEGER,          -- wall clock: when it completed
	options      TEXT    NOT NULL, -- analysis options; a resumed import must use the same
	link_headers TEXT    NOT NULL, -- B2BUA correlation headers, comma-separated (for replay)
	done_seq     INTEGER NOT NULL DEFAULT 0, -- every call with seq <= done_seq is stored
	calls        INTEGER NOT NULL DEFAULT 0,
	messages     INTEGER NOT NULL DEFAULT 0,
	packets      INTEGER NOT NULL DEFAULT 0,
	first_ns     INTEGER,          -- packet time of the first and last call
	last_ns      INTEGER,
	damage       TEXT              -- why reading stopped early, when the file was damaged
);

-- A call as sipflow calls reports it: one Call-ID, or B2BUA legs linked by
-- a correlation header. seq is its order of appearance in its capture.
-- AUTOINCREMENT: an id is never reused, so the full-text index (which
-- cannot forget, see call_text) never points a dead entry at a new call.
CREATE TABLE calls (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	capture        INTEGER NOT NULL REFERENCES captures (id) ON DELETE CASCADE,
	seq            INTEGER NOT NULL,
	call_id        TEXT    NOT NULL, -- Call-ID of the first leg
	kind           TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	start_ns       INTEGER NOT NULL,
	end_ns         INTEGER NOT NULL,
	capture_end_ns INTEGER NOT NULL, -- packet time when the call was finished
	from_uri       TEXT    NOT NULL,
	to_uri         TEXT    NOT NULL,
	from_display   TEXT    NOT NULL,
	from_key       TEXT    NOT NULL, -- user part of from_uri, lower case, no leading +: for --from
	to_key         TEXT    NOT NULL,
	display_key    TEXT    NOT NULL, -- from_display in lower case
	final_status   INTEGER NOT NULL,
	ended_by       TEXT    NOT NULL,
	reason         TEXT    NOT NULL,
	pdd_ns         INTEGER NOT NULL,
	answer_ns      INTEGER NOT NULL,
	duration_ns    INTEGER NOT NULL,
	messages       INTEGER NOT NULL,
	dialogs        INTEGER NOT NULL,
	caller         TEXT    NOT NULL,
	callee         TEXT    NOT NULL,
	worst          INTEGER NOT NULL, -- worst finding severity: 0 info, 1 warning, 2 error; -1 none
	streams        INTEGER NOT NULL, -- RTP streams; -1: media was not analysed
	flow           TEXT    NOT NULL,
	deviation      TEXT    NOT NULL,
	UNIQUE (capture, seq)
);
CREATE INDEX calls_start ON calls (start_ns);
CREATE INDEX calls_state ON calls (state, start_ns);
CREATE INDEX calls_from ON calls (from_key);
CREATE INDEX calls_display ON calls (display_key) WHERE display_key != '';
CREATE INDEX calls_to ON calls (to_key);

-- The Call-IDs of a call: the first leg (idx 0) and the linked ones.
CREATE TABLE legs (
	call     INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	idx      INTEGER NOT NULL,
	call_id  TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	from_uri TEXT    NOT NULL,
	to_uri   TEXT    NOT NULL,
	PRIMARY KEY (call, idx)
) WITHOUT ROWID;
CREATE INDEX legs_call_id ON legs (call_id);

-- Dialogs (RFC 3261 §12): Call-ID and both tags, oriented by role.
CREATE TABLE dialogs (
	call       INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	idx        INTEGER NOT NULL,
	leg        INTEGER NOT NULL,
	call_id    TEXT    NOT NULL,
	local_tag  TEXT    NOT NULL,
	remote_tag TEXT    NOT NULL,
	early      INTEGER NOT NULL, -- only provisional responses so far
	confirmed  INTEGER NOT NULL, -- a 2xx created or confirmed it
	ended      INTEGER NOT NULL, -- a BYE was sent in it
	first_n    INTEGER, -- packet of the message that created it
	PRIMARY KEY (call, idx)
) WITHOUT ROWID;

-- Every SIP message of a call, retransmissions included, with its text.
-- (leg, idx) is its place in its leg: the order correlation saw it in.
-- n is the packet that completed it: packets.id is capture << 40 | n.
CREATE TABLE messages (
	id             INTEGER PRIMARY KEY,
	call           INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	leg            INTEGER NOT NULL,
	idx            INTEGER NOT NULL,
	n              INTEGER NOT NULL,
	ts_ns          INTEGER NOT NULL,
	src            TEXT    NOT NULL,
	dst            TEXT    NOT NULL,
	transport      TEXT    NOT NULL,
	encap          TEXT    NOT NULL,
	method         TEXT    NOT NULL, -- '' for a response
	status         INTEGER NOT NULL, -- 0 for a request
	cseq           INTEGER NOT NULL,
	cseq_method    TEXT    NOT NULL,
	retransmission INTEGER NOT NULL,
	raw            BLOB    NOT NULL
);
CREATE INDEX messages_call ON messages (call);

CREATE TABLE findings (
	call     INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	idx      INTEGER NOT NULL,
	rule     TEXT    NOT NULL,
	severity INTEGER NOT NULL, -- 0 info, 1 warning, 2 error
	call_id  TEXT    NOT NULL, -- the leg it concerns
	packets  TEXT    NOT NULL, -- packet numbers, comma-separated, the one to look at first
	detail   TEXT    NOT NULL,
	rfc      TEXT    NOT NULL,
	PRIMARY KEY (call, idx)
) WITHOUT ROWID;
CREATE INDEX findings_rule ON findings (rule, call);

-- Hold, resume, transfer: what happened in a call that is not a fault.
CREATE TABLE events (
	call   INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	idx    INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	ts_ns  INTEGER NOT NULL,
	kind   TEXT    NOT NULL,
	detail TEXT    NOT NULL,
	PRIMARY KEY (call, idx)
) WITHOUT ROWID;

-- RTP streams tied to a call by its SDP. The columns are for queries;
-- detail is the whole measurement (Go gob of media.Stream's exported fields).
CREATE TABLE rtp_streams (
	id          INTEGER PRIMARY KEY,
	call        INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	idx         INTEGER NOT NULL,
	src         TEXT    NOT NULL,
	dst         TEXT    NOT NULL,
	ssrc        INTEGER NOT NULL,
	codec       TEXT    NOT NULL,
	first_n     INTEGER NOT NULL,
	last_n      INTEGER NOT NULL,
	first_ns    INTEGER,
	last_ns     INTEGER,
	packets     INTEGER NOT NULL,
	lost        INTEGER NOT NULL,
	lost_pct    REAL    NOT NULL,
	jitter_max  REAL    NOT NULL,
	mos         REAL    NOT NULL,
	detail      BLOB    NOT NULL,
	UNIQUE (call, idx)
);

-- The captured frames the archived messages and RTP streams came from, as
-- they were on disk: export writes them back with their link type and
-- timestamp. The id is capture << 40 | n (n: the packet number in the
-- file), so a message finds its packet with no index, a capture's packets
-- are a range of ids, and storing a packet twice (a resumed import) is a
-- no-op; capture and n are computed from it, not stored. For the same
-- reason capture is not declared a foreign key: its check would need an
-- index as big as the table, which the id range makes useless (deleting a
-- capture deletes its range first).
CREATE TABLE packets (
	id       INTEGER PRIMARY KEY,
	capture  INTEGER GENERATED ALWAYS AS (id >> 40) VIRTUAL,
	n        INTEGER GENERATED ALWAYS AS (id & 1099511627775) VIRTUAL,
	ts_ns    INTEGER NOT NULL,
	link     INTEGER NOT NULL, -- LINKTYPE_ value
	orig_len INTEGER NOT NULL, -- length on the wire (data may be shorter: snap length)
	stream   INTEGER,          -- rtp_streams.id for RTP and RTCP, NULL for SIP
	data     BLOB    NOT NULL
);
CREATE INDEX packets_stream ON packets (stream) WHERE stream IS NOT NULL;

-- Full-text index over the text of every message of a call: one document
-- per call (docid = calls.id), made of the distinct lines of its messages.
-- FTS4, not FTS5: go-sqlite3 compiles FTS5 in only with a build tag, and
-- the archive must work from a plain go build. Contentless, to not store
-- the text twice; as such it cannot forget a document, so a deleted call
-- leaves a dead entry that matches no row of calls (ids are never reused).
CREATE VIRTUAL TABLE call_text USING fts4 (content="", text, tokenize=unicode61);
