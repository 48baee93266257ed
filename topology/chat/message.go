package chat

import (
	"bytes"
	"encoding/json"
)

// The message model: what an entry of a log means to the chat. Today
// an entry is a line of its author's, in the seed's JSON; any other
// entry is shown as its bytes.

// message is a chat message as stored in its author's log: the seed's
// shape, {"username":"NAME","message":"TEXT"}.
type message struct {
	Username string `json:"username"`
	Message  string `json:"message"`
}

// encodeMessage returns m as an entry: the seed's JSON, with <, > and &
// as themselves and no trailing newline.
func encodeMessage(m message) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(m) // cannot fail: two strings
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// decodeMessage returns the chat message entry data holds, and whether
// it holds one: a JSON object whose username is not empty.
func decodeMessage(data []byte) (message, bool) {
	var m message
	if json.Unmarshal(data, &m) != nil || m.Username == "" {
		return message{}, false
	}
	return m, true
}
