package seal

import (
	"testing"

	"scuttle/applog"
)

func TestDirectory(t *testing.T) {
	us := newUsers(t, 3)
	k2, _ := GenerateKey()
	d := NewDirectory(2)
	entry := func(u user, seq uint64, data []byte) applog.Entry {
		return applog.Entry{Log: u.id, Seq: seq, Data: data}
	}
	steps := []struct {
		e       applog.Entry
		changed bool
	}{
		{entry(us[0], 1, []byte("not a key")), false},
		{entry(us[0], 2, KeyEntry(us[0].key.Public())), true},
		{entry(us[0], 5, KeyEntry(k2.Public())), true},              // a rekey
		{entry(us[0], 3, KeyEntry(us[0].key.Public())), false},      // an older entry, seen late
		{entry(us[1], 1, KeyEntry(us[1].key.Public())[:20]), false}, // malformed
		{entry(us[1], 1, KeyEntry(us[1].key.Public())), true},
		{entry(us[2], 1, KeyEntry(us[2].key.Public())), false}, // beyond maxLogs
	}
	for i, s := range steps {
		if got := d.Note(s.e); got != s.changed {
			t.Errorf("step %d: Note = %v, want %v", i, got, s.changed)
		}
	}
	if k, seq, ok := d.Key(us[0].id); !ok || seq != 5 || !k.Equal(k2.Public()) {
		t.Errorf("us[0]: %v %d %v, want the key of seq 5", k, seq, ok)
	}
	if r, ok := d.Recipient(us[1].id); !ok || !r.Key.Equal(us[1].key.Public()) || r.Log != us[1].id {
		t.Errorf("us[1]: %+v %v", r, ok)
	}
	if _, ok := d.Recipient(us[2].id); ok {
		t.Error("a log past maxLogs was noted")
	}
}
