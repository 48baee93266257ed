package testkit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"
)

// MadeUpLog returns the key and the one signed record of a log with a
// fresh key: what a stranger makes up by the thousand. The record is in
// applog's frame (see its package doc), built here from the outside, as
// a stranger would, so testkit needs no import of applog (whose tests
// import testkit); applog.IDOf(key) is the log's ID.
func MadeUpLog(t testing.TB, payload string) (ed25519.PublicKey, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	const offPayload, sigSize = 57, 64
	f := make([]byte, offPayload+len(payload)+sigSize)
	binary.LittleEndian.PutUint32(f, uint32(len(f)-8))
	f[8] = 1 // signed
	binary.LittleEndian.PutUint64(f[9:], 1)
	binary.LittleEndian.PutUint64(f[17:], uint64(time.Now().UnixNano()))
	copy(f[offPayload:], payload) // prev hash: 32 zero bytes, at seq 1
	h := sha256.Sum256(f[9 : offPayload+len(payload)])
	msg := append([]byte("scuttle/applog/v1 chain head\x00"), pub...)
	msg = binary.LittleEndian.AppendUint64(msg, 1)
	copy(f[offPayload+len(payload):], ed25519.Sign(priv, append(msg, h[:]...)))
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	binary.LittleEndian.PutUint32(f[4:], crc32.Update(crc32.Update(0, castagnoli, f[:4]), castagnoli, f[8:]))
	return pub, f
}
