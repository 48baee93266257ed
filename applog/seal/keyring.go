package seal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"scuttle/applog/internal/osfile"
)

// This file keeps a user's private encryption keys in the database
// directory, beside the log key (doc.go, "Keyring file").

// KeyringFile is the name of the keyring in a database directory.
const KeyringFile = "sealkeys"

// keyringMagic starts the keyring file.
const keyringMagic = "\x00sealkeys"

// MaxKeys bounds the generations a keyring holds.
const MaxKeys = 1024

// The keyring file:
//
//	"\x00sealkeys" (9) ‖ version 0x01 ‖ n u16 ‖ n × (private key (32) ‖ seq u64) ‖ CRC-32C u32
//
// oldest first; seq is the own log's entry that published the key, 0
// while it is not published yet. The CRC (Castagnoli) covers every byte
// before it.
const (
	keyringHead   = len(keyringMagic) + 1 + 2
	keyringRecord = keySize + 8
)

// Keyring is the user's encryption keys, every generation: the newest
// seals, all open. Only a process that holds the database's writer lock
// changes it (Rekey, Publish), as "scuttle rekey" and the chat do.
type Keyring struct {
	path string
	keys []*PrivateKey // oldest first
	seqs []uint64      // the seq of the key entry that published each; 0: none yet
}

// OpenKeyring reads the keyring of the database in dir. A database
// without one has an empty keyring; OpenKeyring never creates the file
// (Rekey and Publish do). The file is never read through a symbolic
// link at its name (the error matches applog.ErrSymlink), and one that
// other users may read is made private (0600) first.
func OpenKeyring(dir string) (*Keyring, error) {
	kr := &Keyring{path: filepath.Join(dir, KeyringFile)}
	f, err := osfile.OpenFile(kr.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return kr, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal: keyring: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("seal: keyring: making %s private: %w", kr.path, err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(keyringHead+MaxKeys*keyringRecord+4+1)))
	if err != nil {
		return nil, fmt.Errorf("seal: keyring: %w", err)
	}
	if err := kr.decode(b); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, kr.path)
	}
	return kr, nil
}

// decode reads the file's bytes b into kr.
func (kr *Keyring) decode(b []byte) error {
	if len(b) < keyringHead+4 || string(b[:len(keyringMagic)]) != keyringMagic {
		return fmt.Errorf("%w keyring: no magic", ErrMalformed)
	}
	if v := b[len(keyringMagic)]; v != version1 {
		return fmt.Errorf("%w keyring: version %d, want %d", ErrMalformed, v, version1)
	}
	n := int(binary.BigEndian.Uint16(b[len(keyringMagic)+1:]))
	if n > MaxKeys {
		return fmt.Errorf("%w keyring: %d keys, more than %d", ErrMalformed, n, MaxKeys)
	}
	if want := keyringHead + n*keyringRecord + 4; len(b) != want {
		return fmt.Errorf("%w keyring: %d bytes, want %d for %d keys", ErrMalformed, len(b), want, n)
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(b[len(b)-4:]); got != want {
		return fmt.Errorf("%w keyring: CRC %08x, want %08x", ErrMalformed, got, want)
	}
	for i := range n {
		r := body[keyringHead+i*keyringRecord:]
		k, err := newPrivateKeyBytes(r[:keySize])
		if err != nil {
			return fmt.Errorf("keyring: key %d: %w", i, err)
		}
		kr.keys = append(kr.keys, k)
		kr.seqs = append(kr.seqs, binary.BigEndian.Uint64(r[keySize:]))
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the file's bytes.
func (kr *Keyring) encode() []byte {
	b := make([]byte, 0, keyringHead+len(kr.keys)*keyringRecord+4)
	b = append(b, keyringMagic...)
	b = append(b, version1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(kr.keys)))
	for i, k := range kr.keys {
		b = append(b, k.bytes()...)
		b = binary.BigEndian.AppendUint64(b, kr.seqs[i])
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// save replaces the file by kr's keys: a temporary file, made 0600 and
// never through a symbolic link, synced, renamed over the file, and the
// directory synced.
func (kr *Keyring) save() error {
	tmp := kr.path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("seal: keyring: %w", err)
	}
	f, err := osfile.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: keyring: %w", err)
	}
	_, err = f.Write(kr.encode())
	if err == nil {
		err = osfile.Fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = osfile.Rename(tmp, kr.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("seal: keyring: writing %s: %w", kr.path, err)
	}
	return osfile.SyncDir(filepath.Dir(kr.path))
}

// Keys returns every generation, newest first: the identities to open
// with. Empty for a keyring that has none yet.
func (kr *Keyring) Keys() []*PrivateKey {
	ks := make([]*PrivateKey, 0, len(kr.keys))
	for i := len(kr.keys) - 1; i >= 0; i-- {
		ks = append(ks, kr.keys[i])
	}
	return ks
}

// Current returns the newest key, the one to seal with, or nil if there
// is none yet.
func (kr *Keyring) Current() *PrivateKey {
	if len(kr.keys) == 0 {
		return nil
	}
	return kr.keys[len(kr.keys)-1]
}

// Published returns the seq of the own log's entry that published the
// newest key, 0 when there is no key or it is not published yet.
func (kr *Keyring) Published() uint64 {
	if len(kr.seqs) == 0 {
		return 0
	}
	return kr.seqs[len(kr.seqs)-1]
}

// Appender is where key entries are published: the own log
// (*applog.DB).
type Appender interface {
	Append(entry []byte) (seq uint64, err error)
}

// Rekey makes a new key, the one to seal with from now on, keeps it
// beside the older ones (which still open what was sealed to them) and
// publishes it as an entry of log. It returns the new key and its
// entry's seq.
//
// The key is saved before it is published and its seq after, so a crash
// in between leaves a key that Publish publishes at the next start;
// nothing sealed is ever to a key the keyring lost.
func (kr *Keyring) Rekey(log Appender) (*PrivateKey, uint64, error) {
	if len(kr.keys) >= MaxKeys {
		return nil, 0, fmt.Errorf("seal: keyring holds %d keys, the most it can", MaxKeys)
	}
	k, err := GenerateKey()
	if err != nil {
		return nil, 0, err
	}
	kr.keys = append(kr.keys, k)
	kr.seqs = append(kr.seqs, 0)
	if err := kr.save(); err != nil {
		kr.keys, kr.seqs = kr.keys[:len(kr.keys)-1], kr.seqs[:len(kr.seqs)-1]
		return nil, 0, err
	}
	seq, err := kr.publish(log)
	return k, seq, err
}

// Publish makes sure the newest key is published: it makes the first
// key when there is none (as Rekey), publishes the newest if a crash
// kept it from being published, and otherwise does nothing. It returns
// the seq of the key's entry and whether it appended one. The chat calls
// it at start, so that a user who chats can be written to.
func (kr *Keyring) Publish(log Appender) (seq uint64, appended bool, err error) {
	if len(kr.keys) == 0 {
		_, seq, err := kr.Rekey(log)
		return seq, err == nil, err
	}
	if s := kr.Published(); s != 0 {
		return s, false, nil
	}
	seq, err = kr.publish(log)
	return seq, err == nil, err
}

// publish appends the newest key's entry to log and records its seq.
func (kr *Keyring) publish(log Appender) (uint64, error) {
	seq, err := log.Append(KeyEntry(kr.Current().Public()))
	if err != nil {
		return 0, fmt.Errorf("seal: publishing the key: %w", err)
	}
	kr.seqs[len(kr.seqs)-1] = seq
	if err := kr.save(); err != nil {
		return 0, err
	}
	return seq, nil
}
