package seal

import "errors"

// ErrNotForMe is the error of Open when none of the identities it was
// given is a recipient of the payload: no stanza carries their tag (a
// message to others) or no room key held has the line's tag. It is the
// ordinary outcome for most sealed entries of a network, and cheap: it
// costs a tag computation per identity, never a decryption.
var ErrNotForMe = errors.New("seal: not sealed to any of these keys")

// ErrMalformed is matched by the error of a parser given bytes that are
// not a well-formed payload, key entry, keyring or room key: a wrong
// magic or version, a length out of bounds, trailing bytes. The error
// names the field.
var ErrMalformed = errors.New("seal: malformed")

// ErrTampered is matched by the error of Open when a payload is for one
// of the identities (its tag matched) but does not open: the wrapped key
// or the body fails authentication. The payload was changed after it was
// sealed, or was sealed in another context (another author, network or
// room) and replayed here.
var ErrTampered = errors.New("seal: does not authenticate")
