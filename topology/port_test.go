package topology

import "testing"

// The vectors were computed with the npm module hash-to-port 1.2.0.
func TestHashToPort(t *testing.T) {
	tests := []struct {
		name string
		want uint16
	}{
		{"alice", 55204},
		{"bob", 62474},
		{"carol", 28064},
		{"mathias", 54036},
		{"alice.local", 27313},
		{"example.com", 22019},
		{"", 45803},
		{"zoë", 23495},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashToPort(tt.name); got != tt.want {
				t.Errorf("HashToPort(%q) = %d, want %d", tt.name, got, tt.want)
			}
		})
	}
}
