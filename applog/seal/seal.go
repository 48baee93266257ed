package seal

import (
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"

	"scuttle/applog"
)

// Recipient is a log and the encryption key its author published.
type Recipient struct {
	Log applog.ID
	Key PublicKey
}

// Message is an opened payload.
type Message struct {
	Kind Kind
	// Recipients are the logs a direct payload was sealed to, as its
	// author listed them, the author not included. Empty for a room
	// line: its readers are whoever holds the room's key.
	Recipients []applog.ID
	// Text is the text of a private message or of a room line; nil when
	// the payload gives a room key.
	Text []byte
	// RoomKey is the room key a direct payload gives its recipients (an
	// invitation, or the new key after a rotation); nil otherwise.
	RoomKey *Room
	// Room is the room key a room line was opened with.
	Room *Room
}

// An Identity is a key that Open tries: a *PrivateKey (for direct
// payloads sealed to its public half) or a *Room (for the room's lines).
type Identity interface {
	// open returns the plaintext of e's body if e is for this identity,
	// ErrNotForMe if it is not, or another error if it is but does not
	// open in ctx.
	open(e *envelope, ctx *lazyContext) (plaintext []byte, err error)
}

// Seal seals text to the recipients and to the author, whose current
// encryption key is from, as an entry of the log ctx.Author writes in
// the network ctx.Network: a private message.
func Seal(ctx Context, from *PrivateKey, to []Recipient, text []byte) ([]byte, error) {
	return sealDirect(ctx, from, to, contentText, text)
}

// Invite seals room's key to the recipients and to the author: what a
// room's creator sends to a new member (with every member among to, so
// that all learn who is in the room), and what rotation sends to the
// members that remain. A member opens it into Message.RoomKey.
func Invite(ctx Context, from *PrivateKey, to []Recipient, room *Room) ([]byte, error) {
	return sealDirect(ctx, from, to, contentRoom, room.encode())
}

// sealDirect seals a direct payload (doc.go, "Direct payload").
func sealDirect(ctx Context, from *PrivateKey, to []Recipient, typ byte, content []byte) ([]byte, error) {
	c, err := ctx.encode()
	if err != nil {
		return nil, err
	}
	if from == nil {
		return nil, errors.New("seal: no key to seal with")
	}
	// The stanzas: the author's own, then one per distinct recipient
	// key; the recipients listed in the body, without the author.
	self := from.Public().Bytes()
	keys := []PublicKey{from.Public()}
	var listed [][]byte
	seenKey := map[string]bool{string(self): true}
	seenLog := map[applog.ID]bool{ctx.Author: true}
	for _, r := range to {
		kb := r.Key.Bytes()
		if kb == nil {
			return nil, fmt.Errorf("seal: recipient %s: no encryption key", r.Log)
		}
		if !seenKey[string(kb)] {
			seenKey[string(kb)] = true
			keys = append(keys, r.Key)
		}
		if !seenLog[r.Log] {
			seenLog[r.Log] = true
			pub, err := r.Log.PublicKey()
			if err != nil {
				return nil, fmt.Errorf("seal: recipient: %w", err)
			}
			listed = append(listed, pub)
		}
	}
	if len(keys) > MaxRecipients+1 || len(listed) > MaxRecipients {
		return nil, fmt.Errorf("seal: %d recipients, more than %d", len(keys)-1, MaxRecipients)
	}
	plain := encodeDirect(typ, listed, content)
	size := offStanza + len(keys)*stanzaSize + len(plain) + aeadOver
	if size > MaxPayload {
		return nil, fmt.Errorf("seal: payload of %d bytes, more than %d", size, MaxPayload)
	}

	b := make([]byte, offStanza, size)
	copy(b, magic)
	b[len(magic)] = version1
	b[offKind] = byte(Direct)
	rand.Read(b[offNonce:offSender])
	copy(b[offSender:], self)
	b[offCount] = byte(len(keys))
	nonce, prefix := b[offNonce:offSender], b[:offCount]

	ck := make([]byte, keySize)
	rand.Read(ck)
	info := append(append(c, labelWrap...), prefix...)
	for _, k := range keys {
		tc, err := from.sendTag(k)
		if err != nil {
			return nil, fmt.Errorf("seal: recipient key %s: %w", k, err)
		}
		tag := tagOf(tc, nonce)
		ct, err := hpke.Seal(k.hp, suiteKDF, suiteAEAD, info, ck)
		if err != nil {
			return nil, fmt.Errorf("seal: wrapping for %s: %w", k, err)
		}
		b = append(b, tag[:]...)
		b = append(b, ct...)
	}
	bk := deriveKey(ck, nonce, c, []byte(labelBody))
	return bodyAEAD(bk).Seal(b, zeroNonce[:], plain, b), nil
}

// Open opens payload, an entry of the log ctx.Author in the network
// ctx.Network, with the first of ids it is for. It fails with an error
// matching ErrNotForMe when it is for none of them, ErrMalformed when
// payload is not a sealed payload, and ErrTampered when it is for one
// of them but does not authenticate, in this context.
//
// Recognition costs, per identity, one HMAC-SHA256 (and, for a private
// key and an author key not met before, one X25519), and a comparison
// with each stanza's tag: never a decryption. The one stanza whose tag
// matches is the only one opened.
func Open(payload []byte, ctx Context, ids ...Identity) (*Message, error) {
	e, err := parse(payload)
	if err != nil {
		return nil, err
	}
	c := &lazyContext{c: ctx}
	for _, id := range ids {
		plain, err := id.open(&e, c)
		if errors.Is(err, ErrNotForMe) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m := &Message{Kind: e.kind}
		if e.kind == RoomLine {
			m.Room = id.(*Room)
			if len(plain) < 1 || plain[0] != contentText {
				return nil, fmt.Errorf("%w room line: unknown content", ErrMalformed)
			}
			m.Text = append([]byte{}, plain[1:]...)
			return m, nil
		}
		typ, rs, content, err := parseDirect(plain)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			m.Recipients = append(m.Recipients, applog.IDOf(r))
		}
		switch typ {
		case contentText:
			m.Text = append([]byte{}, content...)
		case contentRoom:
			if m.RoomKey, err = parseRoom(content); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w body: unknown content type %d", ErrMalformed, typ)
		}
		return m, nil
	}
	return nil, ErrNotForMe
}

// open finds the stanza sealed to k by its tag and opens it, then the
// body. Only the stanza whose tag matches is opened.
func (k *PrivateKey) open(e *envelope, lc *lazyContext) ([]byte, error) {
	if e.kind != Direct {
		return nil, ErrNotForMe
	}
	tc, err := k.pairTag(e.sender)
	if err != nil {
		return nil, err
	}
	tag := tagOf(tc, e.nonce)
	for i := range e.count() {
		t, ct := e.stanza(i)
		if string(t) != string(tag[:]) {
			continue
		}
		ctx, err := lc.bytes()
		if err != nil {
			return nil, err
		}
		k.opens.Add(1)
		info := append(append(ctx[:len(ctx):len(ctx)], labelWrap...), e.prefix...)
		ck, err := hpke.Open(k.hp, suiteKDF, suiteAEAD, info, ct)
		if err != nil {
			return nil, fmt.Errorf("%w: stanza %d for key %s: %v", ErrTampered, i, k.pub, err)
		}
		bk := deriveKey(ck, e.nonce, ctx, []byte(labelBody))
		plain, err := bodyAEAD(bk).Open(nil, zeroNonce[:], e.body, e.header)
		if err != nil {
			return nil, fmt.Errorf("%w: body: %v", ErrTampered, err)
		}
		return plain, nil
	}
	return nil, ErrNotForMe
}

// lazyContext encodes a Context when a payload is found to be for one
// of the identities, so that what is not costs no encoding.
type lazyContext struct {
	c    Context
	b    []byte
	err  error
	done bool
}

func (l *lazyContext) bytes() ([]byte, error) {
	if !l.done {
		l.b, l.err = l.c.encode()
		l.done = true
	}
	return l.b, l.err
}
