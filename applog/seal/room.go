package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
)

// Room is one epoch of a private room's key. Its lines are sealed with
// the key, which members receive sealed to each of them (Invite); a
// rotation (Rotate) makes the next epoch's key, given to the members
// that remain, so a removed member cannot read what is written after.
// A Room is an Identity: Open finds and opens the lines of its epoch.
type Room struct {
	// ID names the room across epochs: 16 random bytes chosen by its
	// creator.
	ID [16]byte
	// Epoch counts the room's rotations, from 0.
	Epoch uint32
	// Name is what the creator called it, 1 to MaxRoomName bytes.
	Name string

	key [keySize]byte

	tagOnce sync.Once
	tagKey  cipher.Block
}

// MaxRoomName bounds a room's name.
const MaxRoomName = 64

// NewRoom returns a new room, epoch 0, with a random ID and key.
func NewRoom(name string) (*Room, error) {
	if err := checkRoomName(name); err != nil {
		return nil, err
	}
	r := &Room{Name: name}
	rand.Read(r.ID[:])
	rand.Read(r.key[:])
	return r, nil
}

// Rotate returns the room's next epoch, with a new random key: what is
// sealed to it can be read only by those it is given to.
func (r *Room) Rotate() *Room {
	n := &Room{ID: r.ID, Epoch: r.Epoch + 1, Name: r.Name}
	rand.Read(n.key[:])
	return n
}

func checkRoomName(name string) error {
	if len(name) == 0 || len(name) > MaxRoomName {
		return fmt.Errorf("seal: room name of %d bytes, want 1 to %d", len(name), MaxRoomName)
	}
	return nil
}

// roomLabel returns what binds a derived key to the room's epoch:
// label ‖ room ID (16) ‖ epoch (u32).
func (r *Room) roomInfo() []byte {
	return appendU32(append([]byte{}, r.ID[:]...), r.Epoch)
}

// tag returns the room line tag of nonce:
//
//	tag key = HKDF-SHA256(secret room key, no salt, "scuttle seal v1 room tag" ‖ ID ‖ epoch)
//	tag     = AES-256(tag key, nonce)[:8]
func (r *Room) tag(nonce []byte) [tagSize]byte {
	r.tagOnce.Do(func() { r.tagKey = tagCipher(deriveKey(r.key[:], nil, []byte(labelRoomTag), r.roomInfo())) })
	return tagOf(r.tagKey, nonce)
}

// bodyKey returns a line's body key:
//
//	HKDF-SHA256(secret room key, salt nonce, context ‖ "room body" ‖ ID ‖ epoch)
func (r *Room) bodyKey(ctx, nonce []byte) []byte {
	return deriveKey(r.key[:], nonce, ctx, []byte(labelRoomBody), r.roomInfo())
}

// SealLine seals text with room's key as an entry of the log ctx.Author
// writes in the network ctx.Network: a room line.
func SealLine(ctx Context, room *Room, text []byte) ([]byte, error) {
	c, err := ctx.encode()
	if err != nil {
		return nil, err
	}
	size := offLine + 1 + len(text) + aeadOver
	if size > MaxPayload {
		return nil, fmt.Errorf("seal: room line of %d bytes, more than %d", size, MaxPayload)
	}
	b := make([]byte, offLine, size)
	copy(b, magic)
	b[len(magic)] = version1
	b[offKind] = byte(RoomLine)
	nonce := b[offNonce:offTag]
	rand.Read(nonce)
	tag := room.tag(nonce)
	copy(b[offTag:], tag[:])
	plain := append([]byte{contentText}, text...)
	return bodyAEAD(room.bodyKey(c, nonce)).Seal(b, zeroNonce[:], plain, b), nil
}

// open opens e if it is a line of this room's epoch.
func (r *Room) open(e *envelope, lc *lazyContext) ([]byte, error) {
	if e.kind != RoomLine {
		return nil, ErrNotForMe
	}
	if t := r.tag(e.nonce); string(t[:]) != string(e.tag) {
		return nil, ErrNotForMe
	}
	ctx, err := lc.bytes()
	if err != nil {
		return nil, err
	}
	plain, err := bodyAEAD(r.bodyKey(ctx, e.nonce)).Open(nil, zeroNonce[:], e.body, e.header)
	if err != nil {
		return nil, fmt.Errorf("%w: room %q epoch %d: %v", ErrTampered, r.Name, r.Epoch, err)
	}
	return plain, nil
}

// A room key as a direct payload gives it (content type 2):
//
//	ID (16) ‖ epoch (u32) ‖ key (32) ‖ u8 len(name) ‖ name
const roomFixed = 16 + 4 + keySize + 1

func (r *Room) encode() []byte {
	b := make([]byte, 0, roomFixed+len(r.Name))
	b = append(b, r.ID[:]...)
	b = appendU32(b, r.Epoch)
	b = append(b, r.key[:]...)
	b = append(b, byte(len(r.Name)))
	return append(b, r.Name...)
}

// parseRoom is encode's inverse.
func parseRoom(b []byte) (*Room, error) {
	if len(b) < roomFixed {
		return nil, fmt.Errorf("%w room key: %d bytes, fewer than %d", ErrMalformed, len(b), roomFixed)
	}
	r := &Room{}
	copy(r.ID[:], b)
	r.Epoch = binary.BigEndian.Uint32(b[16:])
	copy(r.key[:], b[20:])
	n := int(b[roomFixed-1])
	if len(b) != roomFixed+n {
		return nil, fmt.Errorf("%w room key: %d bytes, want %d for a name of %d", ErrMalformed, len(b), roomFixed+n, n)
	}
	r.Name = string(b[roomFixed:])
	if err := checkRoomName(r.Name); err != nil {
		return nil, fmt.Errorf("%w room key: %v", ErrMalformed, err)
	}
	return r, nil
}
