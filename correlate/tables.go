package correlate

// The correlator's two hot indexes, open legs by Call-ID (legTable) and
// the newest tombstone by Call-ID hash (seqTable), are open-addressing
// tables with linear probing over slots of the Call-ID's seeded hash
// (tombstones.hash) and a value whose zero marks an empty slot. A lookup
// reads one slot, usually; Go's map hashed the hash again and read a
// group's control word, then the key (and for a string key, the string),
// and grew by splitting tables whose old halves stayed behind as garbage.
// The hash is the one a finished leg's tombstone is filed under, so a new
// leg's is computed once.

// openTable is the core of both: slots, how many are used, insertion,
// removal by backward shift and growth. Its users look up by their own
// rule (findLeg compares the Call-ID, seqTable.get only the hash).
type openTable[V comparable] struct {
	slots []slot[V] // power-of-two length; the zero V marks an empty slot
	n     int
}

type slot[V comparable] struct {
	h uint64
	v V
}

// minSlots is a table's size when its first entry comes.
const minSlots = 1024

// insert files v, which must not be zero, under h in a free slot; the
// caller knows no slot holds the entry already.
func (t *openTable[V]) insert(h uint64, v V) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	var zero V
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].v != zero {
		i = (i + 1) & mask
	}
	t.slots[i] = slot[V]{h, v}
	t.n++
}

// deleteAt empties slot i; the slots after it in its run move back so
// that no lookup stops short of its entry: a slot moves into the hole
// unless its home lies cyclically after the hole, up to it.
func (t *openTable[V]) deleteAt(i uint64) {
	var zero V
	mask := uint64(len(t.slots) - 1)
	t.n--
	for j := (i + 1) & mask; t.slots[j].v != zero; j = (j + 1) & mask {
		home := t.slots[j].h & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot[V]{}
}

func (t *openTable[V]) grow() {
	var zero V
	old := t.slots
	t.slots = make([]slot[V], max(minSlots, 2*len(old)))
	// Written before it is read. A large new table is memory fresh from
	// the kernel, which maps a page that is read first to the shared zero
	// page; the first write then has to take that mapping back from every
	// processor the program runs on (a TLB shootdown, an interrupt to the
	// other core: about 600 a run on big-sip). A page written first gets
	// a page of its own at once. The runtime skips clearing memory it
	// knows to be zero, so this is the first write.
	clear(t.slots)
	t.n = 0
	for _, s := range old {
		if s.v != zero {
			t.insert(s.h, s.v)
		}
	}
}

// len returns how many entries are filed.
func (t *openTable[V]) len() int { return t.n }

// legTable is the index of open legs by Call-ID.
type legTable struct{ openTable[*Leg] }

// findLeg returns the open leg of Call-ID id, whose hash is h, or nil.
func findLeg[ID string | []byte](t *legTable, h uint64, id ID) *Leg {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == nil {
			return nil
		}
		if s.h == h && s.v.CallID == string(id) {
			return s.v
		}
	}
}

// add files l, whose Call-ID is not in the table, under its hash h.
func (t *legTable) add(h uint64, l *Leg) { t.insert(h, l) }

// remove takes l, filed under h, out of the table.
func (t *legTable) remove(h uint64, l *Leg) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].v != l {
		if t.slots[i].v == nil {
			return
		}
		i = (i + 1) & mask
	}
	t.deleteAt(i)
}

// each calls f with every open leg, in no particular order.
func (t *legTable) each(f func(*Leg)) {
	for _, s := range t.slots {
		if s.v != nil {
			f(s.v)
		}
	}
}

// seqTable is the tombstones' index: the sequence number of the newest
// tomb of each Call-ID hash, stored plus one (zero marks an empty slot).
// The key is the hash itself: two Call-IDs with one 64-bit seeded hash
// share an entry, as they did in the Go map it replaces.
type seqTable struct{ openTable[uint64] }

// get returns the seq filed under h.
func (t *seqTable) get(h uint64) (seq uint64, ok bool) {
	if i, ok := t.find(h); ok {
		return t.slots[i].v - 1, true
	}
	return 0, false
}

func (t *seqTable) find(h uint64) (uint64, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s := &t.slots[i]; {
		case s.v == 0:
			return 0, false
		case s.h == h:
			return i, true
		}
	}
}

// set files seq under h, replacing what was there.
func (t *seqTable) set(h, seq uint64) {
	if i, ok := t.find(h); ok {
		t.slots[i].v = seq + 1
		return
	}
	t.insert(h, seq+1)
}

// remove takes h out of the table if seq is what it files (not a newer
// tomb of the same Call-ID).
func (t *seqTable) remove(h, seq uint64) {
	if i, ok := t.find(h); ok && t.slots[i].v == seq+1 {
		t.deleteAt(i)
	}
}
