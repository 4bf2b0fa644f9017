package correlate

// legTable is the index of open legs by Call-ID: open addressing with
// linear probing over slots of the Call-ID's seeded hash (tombstones.hash)
// and the leg. A lookup reads one slot, usually, and the leg's Call-ID to
// confirm; Go's map reads a group's control word, then the key, then the
// string. The hash is the one a finished leg's tombstone is filed under,
// so a new leg's hash is computed once.
type legTable struct {
	slots []legSlot // power-of-two length; l == nil marks an empty slot
	n     int
}

type legSlot struct {
	h uint64
	l *Leg
}

// minLegSlots is the table's size when the first leg comes.
const minLegSlots = 1024

// findLeg returns the open leg of Call-ID id, whose hash is h, or nil.
func findLeg[ID string | []byte](t *legTable, h uint64, id ID) *Leg {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.l == nil {
			return nil
		}
		if s.h == h && s.l.CallID == string(id) {
			return s.l
		}
	}
}

// add files l, whose Call-ID is not in the table, under its hash h.
func (t *legTable) add(h uint64, l *Leg) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].l != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = legSlot{h, l}
	t.n++
}

// remove takes l, filed under h, out of the table; the slots after it in
// its run move back so that no lookup stops short of its leg.
func (t *legTable) remove(h uint64, l *Leg) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].l != l {
		if t.slots[i].l == nil {
			return
		}
		i = (i + 1) & mask
	}
	t.n--
	// Backward shift: a later slot of the run moves into the hole unless
	// its home lies cyclically after the hole, up to it.
	for j := (i + 1) & mask; t.slots[j].l != nil; j = (j + 1) & mask {
		home := t.slots[j].h & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = legSlot{}
}

func (t *legTable) grow() {
	old := t.slots
	t.slots = make([]legSlot, max(minLegSlots, 2*len(old)))
	t.n = 0
	for _, s := range old {
		if s.l != nil {
			t.add(s.h, s.l)
		}
	}
}

// len returns how many legs are open.
func (t *legTable) len() int { return t.n }

// each calls f with every open leg, in no particular order.
func (t *legTable) each(f func(*Leg)) {
	for _, s := range t.slots {
		if s.l != nil {
			f(s.l)
		}
	}
}
