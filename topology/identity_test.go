package topology

import (
	"testing"

	"scuttle/applog"
)

// TestKeyStringIsLogID: a key's text in logs and Peer.KeyString is the
// chat's log ID of that key.
func TestKeyStringIsLogID(t *testing.T) {
	for _, k := range testKeys(3) {
		pub := pubKey(k)
		if got, want := (Peer{Key: pub}).KeyString(), string(applog.IDOf(pub)); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if got, want := shortKey(pub), applog.IDOf(pub).Short(); got != want {
			t.Errorf("short: got %s, want %s", got, want)
		}
	}
}
