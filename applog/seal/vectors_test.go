package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"

	"scuttle/applog"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.txt and the fuzz corpora")

const vectorsFile = "testdata/vectors.txt"

// vector is one case of testdata/vectors.txt: a payload, the key that
// tries to open it, its context, and the outcome.
type vector struct {
	name    string
	expect  string // success, not for me, does not authenticate
	key     string // hex: an X25519 private key, or a room key as a direct payload gives it
	author  applog.ID
	network []byte
	payload []byte
	text    string // the plaintext expected on success
}

// makeVectors returns the cases, made with crypto/rand fixed to a seed,
// so that the same code always makes the same bytes.
func makeVectors(t *testing.T) []vector {
	cryptotest.SetGlobalRandom(t, 20)
	authorPub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	author := applog.IDOf(authorPub)
	bobPub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)).Public().(ed25519.PublicKey)
	bob := applog.IDOf(bobPub)
	alice, _ := newPrivateKeyBytes(bytes.Repeat([]byte{0xa1}, 32))
	bobKey, _ := newPrivateKeyBytes(bytes.Repeat([]byte{0xb0}, 32))
	carolKey, _ := newPrivateKeyBytes(bytes.Repeat([]byte{0xc0}, 32))
	network := NetworkID([]byte("an example network key, 32 bytes"))
	ctx := Context{Author: author, Network: network}
	must := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	direct := must(Seal(ctx, alice, []Recipient{{Log: bob, Key: bobKey.Public()}}, []byte("hello bob")))
	public := must(Seal(Context{Author: author}, alice, []Recipient{{Log: bob, Key: bobKey.Public()}}, []byte("hello in public")))
	room, _ := NewRoom("ops")
	line := must(SealLine(ctx, room, []byte("hello #ops")))
	hexKey := func(k *PrivateKey) string { return hex.EncodeToString(k.bytes()) }
	return []vector{
		{"direct, opened by its recipient", "success", hexKey(bobKey), author, network, direct, "hello bob"},
		{"direct, opened by its author", "success", hexKey(alice), author, network, direct, "hello bob"},
		{"direct in the public network", "success", hexKey(bobKey), author, nil, public, "hello in public"},
		{"direct, a key not sealed to", "not for me", hexKey(carolKey), author, network, direct, ""},
		{"direct, in another network", "does not authenticate", hexKey(bobKey), author, nil, direct, ""},
		{"direct, in another log", "does not authenticate", hexKey(bobKey), bob, network, direct, ""},
		{"direct, body's last byte flipped", "does not authenticate", hexKey(bobKey), author, network, flip(direct, len(direct)-1), ""},
		{"room line", "success", hex.EncodeToString(room.encode()), author, network, line, "hello #ops"},
		{"room line, next epoch's key", "not for me", hex.EncodeToString(room.Rotate().encode()), author, network, line, ""},
		{"room line, in another log", "does not authenticate", hex.EncodeToString(room.encode()), bob, network, line, ""},
	}
}

func formatVectors(vs []vector) []byte {
	var b bytes.Buffer
	b.WriteString(`# Test vectors of scuttle's sealed payloads (applog/seal, doc.go).
# Each case: a payload, a key, the context, and the expected outcome.
#   key:     hex; 32 bytes: the recipient's X25519 private key (HPKE
#            DeserializePrivateKey); longer: a room key as a direct
#            payload gives it (ID 16, epoch u32, key 32, u8 len, name)
#   author:  the applog ID of the log the payload is an entry of
#   network: hex, the context's network (empty: the public network)
#   expect:  success | not for me | does not authenticate
# Made by TestVectors with crypto/rand fixed to a seed; go test -run
# TestVectors -update rewrites it.
`)
	for _, v := range vs {
		fmt.Fprintf(&b, "\nname: %s\nexpect: %s\nkey: %s\nauthor: %s\nnetwork: %x\npayload: %x\n", v.name, v.expect, v.key, v.author, v.network, v.payload)
		if v.text != "" {
			fmt.Fprintf(&b, "text: %s\n", v.text)
		}
	}
	return b.Bytes()
}

func parseVectors(t *testing.T, b []byte) []vector {
	var vs []vector
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			k, v = strings.TrimSuffix(line, ":"), ""
		}
		if k == "name" {
			vs = append(vs, vector{name: v})
			continue
		}
		if len(vs) == 0 {
			t.Fatalf("%s: %q before any name", vectorsFile, line)
		}
		c := &vs[len(vs)-1]
		var err error
		switch k {
		case "expect":
			c.expect = v
		case "key":
			c.key = v
		case "author":
			c.author = applog.ID(v)
		case "network":
			c.network, err = hex.DecodeString(v)
		case "payload":
			c.payload, err = hex.DecodeString(v)
		case "text":
			c.text = v
		default:
			t.Fatalf("%s: unknown field %q", vectorsFile, k)
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", vectorsFile, c.name, err)
		}
	}
	return vs
}

// TestVectors opens every case of testdata/vectors.txt and checks its
// outcome, and checks that the code makes exactly the file's bytes, so
// that any change to the format shows as a change of the file.
func TestVectors(t *testing.T) {
	made := formatVectors(makeVectors(t))
	if *update {
		if err := os.WriteFile(vectorsFile, made, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(made, file) {
		t.Errorf("the code makes other bytes than %s (go test -run TestVectors -update, if the change is meant)", vectorsFile)
	}
	vs := parseVectors(t, file)
	if len(vs) == 0 {
		t.Fatalf("%s: no cases", vectorsFile)
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			kb, err := hex.DecodeString(v.key)
			if err != nil {
				t.Fatal(err)
			}
			var id Identity
			if len(kb) == keySize {
				if id, err = newPrivateKeyBytes(kb); err != nil {
					t.Fatal(err)
				}
			} else if id, err = parseRoom(kb); err != nil {
				t.Fatal(err)
			}
			m, err := Open(v.payload, Context{Author: v.author, Network: v.network}, id)
			var got string
			switch {
			case err == nil:
				got = "success"
				if string(m.Text) != v.text {
					t.Errorf("text %q, want %q", m.Text, v.text)
				}
			case errors.Is(err, ErrNotForMe):
				got = "not for me"
			case errors.Is(err, ErrTampered):
				got = "does not authenticate"
			default:
				got = err.Error()
			}
			if got != v.expect {
				t.Errorf("got %s (%v), want %s", got, err, v.expect)
			}
		})
	}
}

// writeCorpus writes seeds as the corpus of fuzz target name, in the
// format of go test -fuzz.
func writeCorpus(t *testing.T, name string, seeds [][]byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
