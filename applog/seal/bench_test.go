package seal

import (
	"errors"
	"fmt"
	"testing"
)

// BenchmarkSeal seals a 100-byte private message to 1, 10 and 100
// recipients (and the author); bytes/op-like figures are reported as
// payload-B, the payload's size, and over-B, what it adds to the text.
func BenchmarkSeal(b *testing.B) {
	text := make([]byte, 100)
	for _, n := range []int{1, 10, 100} {
		us := newUsers(b, n+1)
		ctx := Context{Author: us[0].id}
		rs := recipients(us[1:]...)
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			var p []byte
			for b.Loop() {
				var err error
				if p, err = Seal(ctx, us[0].key, rs, text); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p)), "payload-B")
			b.ReportMetric(float64(len(p)-len(text)), "over-B")
		})
	}
}

// BenchmarkOpen opens a private message as one of its 1, 10 and 100
// recipients (the last stanza), with the pair key cached as it is after
// the author's first message.
func BenchmarkOpen(b *testing.B) {
	text := make([]byte, 100)
	for _, n := range []int{1, 10, 100} {
		us := newUsers(b, n+1)
		ctx := Context{Author: us[0].id}
		p, err := Seal(ctx, us[0].key, recipients(us[1:]...), text)
		if err != nil {
			b.Fatal(err)
		}
		me := us[n].key
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Open(p, ctx, me); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNotForMe is what a non-recipient pays per sealed entry:
// recognising that a message to 1, 10 or 100 others, or a line of a
// room it is not in, is not for it.
func BenchmarkNotForMe(b *testing.B) {
	text := make([]byte, 100)
	stranger := newUser(b).key
	for _, n := range []int{1, 10, 100} {
		us := newUsers(b, n+1)
		ctx := Context{Author: us[0].id}
		p, err := Seal(ctx, us[0].key, recipients(us[1:]...), text)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("direct/recipients=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Open(p, ctx, stranger); !errors.Is(err, ErrNotForMe) {
					b.Fatal(err)
				}
			}
		})
	}
	u := newUser(b)
	ctx := Context{Author: u.id}
	r, _ := NewRoom("theirs")
	mine, _ := NewRoom("mine")
	line, _ := SealLine(ctx, r, text)
	b.Run("room line", func(b *testing.B) {
		for b.Loop() {
			if _, err := Open(line, ctx, mine); !errors.Is(err, ErrNotForMe) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRoomLine seals and opens a 100-byte room line.
func BenchmarkRoomLine(b *testing.B) {
	text := make([]byte, 100)
	u := newUser(b)
	ctx := Context{Author: u.id}
	r, _ := NewRoom("ops")
	line, _ := SealLine(ctx, r, text)
	b.Run("seal", func(b *testing.B) {
		for b.Loop() {
			if _, err := SealLine(ctx, r, text); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(line)-len(text)), "over-B")
	})
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			if _, err := Open(line, ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
