package chat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"scuttle/applog"
)

// The input: typed lines, read from Config.In, and what each one means.
// Today every line is a message of the own log (compose); commands
// typed as lines are to be told apart in compose too.

// readLines sends each non-empty line of r to lines, and closes lines at
// the end of r. A line too long to be a message is reported on Errs and
// skipped.
func (c *Chat) readLines(ctx context.Context, r io.Reader, lines chan<- string) {
	defer close(lines)
	in := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(in, maxMessage)
		if errors.Is(err, errLineTooLong) {
			fmt.Fprintf(c.cfg.Errs, "scuttle chat: %v: not sent\n", err)
			continue
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(c.cfg.Errs, "scuttle chat: reading standard input: %v\n", err)
			}
			return
		}
		if line == "" {
			continue
		}
		select {
		case lines <- line:
		case <-ctx.Done():
			return
		}
	}
}

// compose returns the entry that the typed line appends to the own log:
// a chat message as Me, or a line sealed to the room typed lines go to
// (/join); nil if it cannot be sealed, which an info line tells.
func (c *Chat) compose(line string) []byte {
	if room, ok := c.sealing.where(); ok {
		return c.roomLine(room, line)
	}
	return encodeMessage(message{Username: c.cfg.Me, Message: line})
}

// maxMessage bounds a typed line so that its JSON encoding, where every
// byte may become a six-byte escape, fits an entry.
const maxMessage = (applog.MaxEntrySize - 64) / 6

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxMessage)

// readLine returns the next line of in without its "\n" or "\r\n". A
// line longer than max is read to its end and errLineTooLong returned.
// A last line without "\n" counts; io.EOF comes after it.
func readLine(in *bufio.Reader, max int) (string, error) {
	var line []byte
	tooLong := false
	for {
		part, err := in.ReadSlice('\n')
		if !tooLong {
			line = append(line, part...)
			tooLong = len(line) > max+2
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			err = nil
		}
		if err != nil {
			return "", err
		}
		if tooLong || len(TrimEOL(line)) > max {
			return "", errLineTooLong
		}
		return string(TrimEOL(line)), nil
	}
}

// TrimEOL drops a trailing "\n" or "\r\n": the end of a typed line, as
// the chat and scuttle append read them.
func TrimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// Type types line into the chat, as if it was read from In: a message
// to send, or a command to run (see commands). It waits until Run has
// started, then hands line to the sending of lines, and returns; a line
// of several lines ("\n" or "\r\n" apart) is each of them, and empty
// ones are skipped. A line longer than a message may be is refused whole,
// nothing typed. It returns ctx's error if ctx ends first, and ErrEnded
// once Run has returned.
func (c *Chat) Type(ctx context.Context, line string) error {
	var lines []string
	for l := range strings.Lines(line) {
		l := string(TrimEOL([]byte(l)))
		if len(l) > maxMessage {
			return errLineTooLong
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	select {
	case <-c.started:
	case <-c.ended:
		return ErrEnded
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, l := range lines {
		select {
		case <-c.ended:
			return ErrEnded
		default:
		}
		select {
		case c.typed <- l:
		case <-c.ended:
			return ErrEnded
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
