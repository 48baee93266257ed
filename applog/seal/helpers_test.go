package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"scuttle/applog"
)

// user is a log author with an encryption key.
type user struct {
	id  applog.ID
	key *PrivateKey
}

func newUser(t testing.TB) user {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return user{id: applog.IDOf(pub), key: k}
}

func newUsers(t testing.TB, n int) []user {
	us := make([]user, n)
	for i := range us {
		us[i] = newUser(t)
	}
	return us
}

func (u user) recipient() Recipient { return Recipient{Log: u.id, Key: u.key.Public()} }

func recipients(us ...user) []Recipient {
	var rs []Recipient
	for _, u := range us {
		rs = append(rs, u.recipient())
	}
	return rs
}

// memLog is an Appender that counts its entries.
type memLog struct{ entries [][]byte }

func (l *memLog) Append(e []byte) (uint64, error) {
	l.entries = append(l.entries, append([]byte(nil), e...))
	return uint64(len(l.entries)), nil
}
