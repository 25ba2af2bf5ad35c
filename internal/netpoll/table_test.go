package netpoll

import "testing"

// entry is a connection as a Table holds it.
type entry struct{ id uint64 }

func (e *entry) TableID() *uint64 { return &e.id }

// TestTableStaleID checks that an id outlives its connection harmlessly:
// once the slot is reused, the old id finds nothing.
func TestTableStaleID(t *testing.T) {
	var tab Table[entry, *entry]
	a, b := &entry{}, &entry{}
	tab.Add(a)
	old := a.id
	if old == 0 {
		t.Fatal("a connection has id 0, the poller's wake-up")
	}
	if tab.Get(old) != a {
		t.Fatal("Get does not find the connection just added")
	}
	tab.Remove(old)
	if tab.Get(old) != nil {
		t.Fatal("Get finds a removed connection")
	}
	tab.Add(b)
	if uint32(b.id) != uint32(old) || b.id == old {
		t.Fatalf("ids %#x then %#x: want the same slot, another generation", old, b.id)
	}
	if tab.Get(old) != nil {
		t.Fatal("the stale id finds the slot's new connection")
	}
	if tab.Get(b.id) != b {
		t.Fatal("Get does not find the slot's new connection")
	}
	tab.Remove(old) // a stale Remove leaves the new connection alone
	if tab.Get(b.id) != b || tab.Len() != 1 {
		t.Fatal("a stale Remove freed the slot's new connection")
	}
	for range 3 * chunkSize {
		tab.Add(&entry{})
	}
	n := 0
	for range tab.Each {
		n++
	}
	if tab.Len() != 1+3*chunkSize || n != tab.Len() {
		t.Fatalf("Len = %d, Each yields %d", tab.Len(), n)
	}
	if tab.Get(uint64(1)<<32|10*chunkSize) != nil {
		t.Fatal("Get found an id past the table's end")
	}
}
