package topology

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"testing"
)

func TestNetworkKeyText(t *testing.T) {
	key := make([]byte, NetworkKeySize)
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	const text = "amfbcga7-eywtio2c-jfifoxtf-nrzxvami-r6lj3jfl-wk44br6o-2xohbevg" // netkey.go's example
	if got := FormatNetworkKey(key); got != text {
		t.Fatalf("FormatNetworkKey = %q, want %q", got, text)
	}
	flat := strings.ReplaceAll(text, "-", "")
	typo := []byte(flat)
	typo[10] = 'a' + (typo[10]-'a'+1)%26
	swapped := []byte(flat)
	swapped[3], swapped[4] = swapped[4], swapped[3]
	tests := []struct {
		name, in, err string
	}{
		{"as printed", text, ""},
		{"no dashes", flat, ""},
		{"upper case, spaces around", "  " + strings.ToUpper(text) + "\n", ""},
		{"dashes anywhere", flat[:5] + "--" + flat[5:], ""},
		{"empty", "", "network key: 0 characters (not counting dashes), want 56"},
		{"one short", text[:len(text)-1], "network key: 55 characters (not counting dashes), want 56"},
		{"one more", text + "a", "network key: more than 56 characters (not counting dashes)"},
		{"a zero", "0" + flat[1:], `network key: '0' at offset 0 is not in its alphabet (a-z, 2-7 and -)`},
		{"a one", flat[:20] + "1" + flat[21:], `network key: '1' at offset 20 is not in its alphabet (a-z, 2-7 and -)`},
		{"an eight", text[:9] + "8" + text[10:], `network key: '8' at offset 9 is not in its alphabet (a-z, 2-7 and -)`},
		{"a space inside", text[:8] + " " + text[9:], `network key: ' ' at offset 8 is not in its alphabet (a-z, 2-7 and -)`},
		{"non-ASCII", "é" + flat, `network key: byte 0xc3 at offset 0 is not in its alphabet (a-z, 2-7 and -)`},
		{"a tab", text[:8] + "\t" + text[9:], `network key: byte 0x09 at offset 8 is not in its alphabet (a-z, 2-7 and -)`},
		{"a typo", string(typo), errNetworkCheck.Error()},
		{"two swapped", string(swapped), errNetworkCheck.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetworkKey(tt.in)
			if tt.err == "" {
				if err != nil || !bytes.Equal(got, key) {
					t.Errorf("ParseNetworkKey = %x, %v; want %x", got, err, key)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseNetworkKey error %v, want %q", err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), flat[10:20]) {
				t.Errorf("the error %q repeats the key", err)
			}
		})
	}
}

// FuzzParseNetworkKey: no input panics; a key parsed prints as a text
// that parses back to it and that equals the input up to dashes, space
// and case.
func FuzzParseNetworkKey(f *testing.F) {
	f.Add("amfbcga7-eywtio2c-jfifoxtf-nrzxvami-r6lj3jfl-wk44br6o-2xohbevg")
	f.Add("AMFBCGA7EYWTIO2CJFIFOXTFNRZXVAMIR6LJ3JFLWK44BR6O2XOHBEVG")
	f.Add("amfbcga7-eywtio2c-jfifoxtf-nrzxvami-r6lj3jfl-wk44br6o-2xohbevh")
	f.Add("")
	f.Add("--------")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseNetworkKey(s)
		if err != nil {
			if k != nil {
				t.Fatalf("error %v with a key", err)
			}
			return
		}
		if len(k) != NetworkKeySize {
			t.Fatalf("%d-byte key", len(k))
		}
		text := FormatNetworkKey(k)
		back, err := ParseNetworkKey(text)
		if err != nil || !bytes.Equal(back, k) {
			t.Fatalf("%q parses as %x, %v; want %x", text, back, err, k)
		}
		norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
		if norm != strings.ReplaceAll(text, "-", "") {
			t.Fatalf("%q parsed, but its key prints as %q", s, text)
		}
	})
}

func TestNetworkTag(t *testing.T) {
	key := make([]byte, NetworkKeySize)
	for i := range key {
		key[i] = byte(i)
	}
	// The tag is HMAC-SHA256(key, label)[:10] in base32, computed here
	// independently of NetworkTag.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("scuttle dns-sd network tag v1"))
	want := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:10])
	if got := NetworkTag(key); got != want || len(got) != 16 {
		t.Errorf("NetworkTag = %q, want %q (16 characters)", got, want)
	}
	other := slices.Clone(key)
	other[31] ^= 1
	if NetworkTag(other) == NetworkTag(key) {
		t.Errorf("two keys, one tag %q", NetworkTag(key))
	}
	if got := NetworkTag(nil); got != "" {
		t.Errorf("NetworkTag(nil) = %q, want none for the public network", got)
	}
	// Neither the key's text nor any 8 characters of it appear in the tag.
	text := strings.ReplaceAll(FormatNetworkKey(key), "-", "")
	for i := 0; i+8 <= len(text); i++ {
		if strings.Contains(NetworkTag(key), text[i:i+8]) {
			t.Fatalf("tag %q holds %q of the key", NetworkTag(key), text[i:i+8])
		}
	}
}
