package term

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"scuttle/topology/testkit"
)

var names = []string{"alice", "albert", "Alfred", "bob", "/help", "/who"}

// completeNames completes names as the chat does, in any case.
func completeNames(word string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), strings.ToLower(word)) && word != "" {
			out = append(out, n)
		}
	}
	return out
}

// TestKeys types each row's input and checks the lines ReadLine returns,
// with the input whole, a byte at a time, and cut at every offset in
// two: the lines and every byte written must be the same each time.
func TestKeys(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		maxInput int
		want     []string // lines; "!" and an error
	}{
		{"plain", "hello\r", 0, []string{"hello", "!EOF"}},
		{"newline", "a\nb\n", 0, []string{"a", "b", "!EOF"}},
		{"crlf is one enter", "a\r\nb\r\n", 0, []string{"a", "b", "!EOF"}},
		{"empty lines", "\r\r", 0, []string{"", "", "!EOF"}},
		{"left and insert", "helo\x1b[Dl\r", 0, []string{"hello", "!EOF"}},
		{"ss3 left", "helo\x1bODl\r", 0, []string{"hello", "!EOF"}},
		{"ctrl-b ctrl-f", "hlo\x02\x02e\x06l\r", 0, []string{"hello", "!EOF"}},
		{"home end ctrl", "ello\x01h\x05!\r", 0, []string{"hello!", "!EOF"}},
		{"home end csi", "ello\x1b[Hh\x1b[F!\r", 0, []string{"hello!", "!EOF"}},
		{"home end tilde", "ello\x1b[1~h\x1b[4~!\x1b[7~<\x1b[8~>\r", 0, []string{"<hello!>", "!EOF"}},
		{"backspace", "helloo\x7f\r", 0, []string{"hello", "!EOF"}},
		{"ctrl-h", "helloo\x08\r", 0, []string{"hello", "!EOF"}},
		{"backspace at start", "\x7f\x7fa\r", 0, []string{"a", "!EOF"}},
		{"delete", "hxello\x01\x1b[C\x1b[3~\r", 0, []string{"hello", "!EOF"}},
		{"ctrl-w", "hello big  world\x17\x17\r", 0, []string{"hello ", "!EOF"}},
		{"alt-backspace", "hello world\x1b\x7f\r", 0, []string{"hello ", "!EOF"}},
		{"ctrl-u", "junk\x15ok\r", 0, []string{"ok", "!EOF"}},
		{"ctrl-u keeps the rest", "junkok\x1b[D\x1b[D\x15\r", 0, []string{"ok", "!EOF"}},
		{"ctrl-k", "okjunk\x1b[D\x1b[D\x1b[D\x1b[D\x0b\r", 0, []string{"ok", "!EOF"}},
		{"word motions", "foo bar\x1bbX\x1b[1;5DY\x1bfZ\x1b[1;3C!\r", 0, []string{"foo YXbarZ!", "!EOF"}},
		{"history", "one\rtwo\r\x1b[A\x1b[A\r", 0, []string{"one", "two", "one", "!EOF"}},
		{"history back to the draft", "one\rdra\x1b[A\x1b[Bft\r", 0, []string{"one", "draft", "!EOF"}},
		{"history edit", "one\r\x10!\r\x10\x10\r", 0, []string{"one", "one!", "one", "!EOF"}},
		{"history bounds", "\x1b[A\x1b[Ba\r\x1b[B\x1b[A\x1b[A\r", 0, []string{"a", "a", "!EOF"}},
		{"ctrl-c keeps the line", "abc\x03\r", 0, []string{"!term: interrupted", "abc", "!EOF"}},
		{"ctrl-d on empty", "\x04", 0, []string{"!EOF"}},
		{"ctrl-d deletes", "ab\x01\x04\r", 0, []string{"b", "!EOF"}},
		{"ctrl-z keeps the line", "ab\x1ac\r", 0, []string{"!term: suspend", "abc", "!EOF"}},
		{"ctrl-l", "ab\x0cc\r", 0, []string{"abc", "!EOF"}},
		{"utf-8", "héllo 日本 😀\r", 0, []string{"héllo 日本 😀", "!EOF"}},
		{"combining mark moves with its letter", "ae\u0301\x7f\r", 0, []string{"a", "!EOF"}},
		{"left over a combining mark", "e\u0301\x1b[Dx\r", 0, []string{"xe\u0301", "!EOF"}},
		{"invalid utf-8 dropped", "a\xffb\xc3\r", 0, []string{"ab", "!EOF"}},
		{"overlong dropped", "a\xc0\xafb\xed\xa0\x80\r", 0, []string{"ab", "!EOF"}},
		{"bidi controls dropped", "a\u202eb\u2066\r", 0, []string{"ab", "!EOF"}},
		{"c1 dropped", "a\u0085b\r", 0, []string{"ab", "!EOF"}},
		{"unknown csi ignored", "a\x1b[99;99zb\x1b[5~\r", 0, []string{"ab", "!EOF"}},
		{"overlong csi ignored", "a\x1b[" + strings.Repeat("1", 40) + "Ab\r", 0, []string{"ab", "!EOF"}},
		{"alt-key", "a\x1bxb\r", 0, []string{"axb", "!EOF"}},
		{"escape escape", "a\x1b\x1b[Db\r", 0, []string{"ba", "!EOF"}},
		{"max input", "abcd\r", 3, []string{"abc", "!EOF"}},
		{"max input utf-8", "aé日\r", 4, []string{"aé", "!EOF"}},
		{"tab completes", "hi ali\t!\r", 0, []string{"hi alice !", "!EOF"}},
		{"tab command", "/he\t\r", 0, []string{"/help ", "!EOF"}},
		{"tab common prefix", "al\tx\r", 0, []string{"alx", "!EOF"}},
		{"tab lists", "a\t\t\r", 0, []string{"a", "!EOF"}},
		{"tab in another case", "Bo\t\r", 0, []string{"bob ", "!EOF"}},
		{"tab common prefix only in case", "alf\t\r", 0, []string{"Alfred ", "!EOF"}},
		{"tab nothing", "zz\t\r", 0, []string{"zz", "!EOF"}},
		{"paste one line", "x\x1b[200~pasted\x1b[201~y\r", 0, []string{"xpastedy", "!EOF"}},
		{"paste keys are text", "\x1b[200~a\x1b[D\x03\x04b\x1b[201~\r", 0, []string{"a[Db", "!EOF"}},
		{"paste end marker split", "\x1b[200~a\x1b[201x\x1b\x1b[201~\r", 0, []string{"a[201x", "!EOF"}},
		{"paste lines", "x\x1b[200~a\r\nb\n\x1b[201~y\r", 0, []string{"!paste \"xa\\nb\"", "y", "!EOF"}},
		{"paste cr lines and tab", "\x1b[200~a\tb\rc\r\x1b[201~\r", 0, []string{"!paste \"a b\\nc\"", "", "!EOF"}},
		{"paste trailing newline", "\x1b[200~one\n\x1b[201~\r", 0, []string{"one", "!EOF"}},
		{"paste too long", "ab\x1b[200~" + strings.Repeat("x", 20) + "\x1b[201~cd\r", 10, []string{"!term: paste too long: more than 10 bytes with the line typed: not inserted", "abcd", "!EOF"}},
		{"paste without end", "ab\x1b[200~" + strings.Repeat("x\n", 20), 10, []string{"!term: paste too long: more than 10 bytes with the line typed: not inserted", "!EOF"}},
		{"paste end alone", "a\x1b[201~b\r", 0, []string{"ab", "!EOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Prompt: "> ", Width: 12, MaxInput: tt.maxInput, Complete: completeNames}
			whole := drive(cfg, split(tt.in))
			if want := quoteResults(tt.want...); !slices.Equal(whole.results, want) {
				t.Fatalf("results %q, want %q", whole.results, want)
			}
			check := func(how string, s session) {
				t.Helper()
				if !slices.Equal(s.results, whole.results) || s.out != whole.out {
					t.Fatalf("%s: results %q, output %q; read whole: %q, %q", how, s.results, s.out, whole.results, whole.out)
				}
			}
			check("a byte a read", drive(cfg, everyN(tt.in, 1)))
			for i := 1; i < len(tt.in); i++ {
				check(fmt.Sprintf("cut at %d", i), drive(cfg, split(tt.in, i)))
			}
		})
	}
}

// TestRender checks the exact bytes written for typing, editing and
// Enter.
func TestRender(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"prompt", "", "> \x1b[J"},
		{"typing at the end", "hi", "> \x1b[Jhi"},
		{"enter clears", "hi\r", "> \x1b[Jhi\r\x1b[J> \x1b[J"},
		{"left", "hi\x1b[D", "> \x1b[Jhi\r\x1b[3C"},
		{"insert in the middle", "hi\x1b[Dx", "> \x1b[Jhi\r\x1b[3C\r> hxi\x1b[J\r\x1b[4C"},
		{"wrap at the last column", "abcdefgh", "> \x1b[Jabcdefg\r> abcdefgh\r\n\x1b[J"},
		{"left across a wrap", "abcdefgh\x1b[D", "> \x1b[Jabcdefg\r> abcdefgh\r\n\x1b[J\x1b[A\r\x1b[9C"},
		{"wide char does not fit", "abcdefg日", "> \x1b[Jabcdefg\r> abcdefg\x1b[K\r\n日\x1b[J"},
		{"backspace over a wrap", "abcdefgh\x7f", "> \x1b[Jabcdefg\r> abcdefgh\r\n\x1b[J\x1b[A\r> abcdefg\x1b[J"},
		{"ctrl-l", "a\x0c", "> \x1b[Ja\x1b[H\x1b[2J> a\x1b[J"},
		{"full line rings", "abcd", "> \x1b[Jabc\a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := drive(Config{Prompt: "> ", Width: 10, MaxInput: 3 + 7*btoi(!strings.HasPrefix(tt.name, "full"))}, split(tt.in))
			if s.out != tt.want {
				t.Errorf("wrote\n%q\nwant\n%q", s.out, tt.want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newScreen returns an editor of cfg writing to a VT of width columns
// and 10 rows, and the VT.
func newScreen(cfg Config) (*Editor, *testkit.VT) {
	vt := testkit.NewVT(cfg.Width, 10, RuneWidth)
	cfg.Out = vt
	return New(cfg), vt
}

// typeKeys feeds in to e as ReadLine would read it, without ReadLine.
func typeKeys(e *Editor, in string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.shown {
		e.draw()
	}
	for i := range len(in) {
		e.feed(in[i])
	}
	e.flush()
}

// TestPrintRedraws prints a line while a line is half typed: the
// screen shows the line printed, then the prompt and the half line,
// with the cursor where it was; and the exact bytes.
func TestPrintRedraws(t *testing.T) {
	var out bytes.Buffer
	e := New(Config{Out: &out, Prompt: "> ", Width: 20})
	typeKeys(e, "half\x1b[D\x1b[D")
	out.Reset()
	e.Print([]byte("12:00 bob> hi"))
	if want := "\r\x1b[J12:00 bob> hi\r\n> half\x1b[J\r\x1b[4C"; out.String() != want {
		t.Errorf("Print wrote %q, want %q", out.String(), want)
	}

	e, vt := newScreen(Config{Prompt: "> ", Width: 10})
	typeKeys(e, "a long half line\x01\x1b[C")
	e.Print([]byte("bob> a line longer than the screen"))
	e.Print([]byte("carol> 日本語"))
	want := []string{"bob> a lin", "e longer t", "han the sc", "reen", "carol> 日", "本語", "> a long h", "alf line"}
	if got := vt.Lines(); !slices.Equal(got, want) {
		t.Errorf("screen\n%q\nwant\n%q", got, want)
	}
	if row, col := vt.Cursor(); row != 6 || col != 3 {
		t.Errorf("cursor at %d,%d, want 6,3", row, col)
	}
	if len(vt.Unknown) > 0 {
		t.Errorf("unknown sequences written: %q", vt.Unknown)
	}
}

// TestScreenMatches types lines of wide, narrow and zero-width
// characters at several widths, moving about: after every key the
// screen shows the prompt and the line, wrapped as the editor computes,
// and the cursor where the editor believes it is.
func TestScreenMatches(t *testing.T) {
	texts := []string{
		"abcdefghijklmnopqrstuvwxyz",
		"日本語のテキストと混ざったlatin",
		"e\u0301e\u0301e\u0301中文😀😀x😀",
		"한국어ﾊﾝｶｸ全角ＡＢＣ",
	}
	moves := []string{"", "\x1b[D", "\x1b[D\x1b[D\x1b[D", "\x01", "\x01\x1b[C", "\x7f", "\x01\x04", "\x1b[A\x1b[B"}
	for _, width := range []int{5, 7, 8, 11, 40} {
		for _, text := range texts {
			for _, mv := range moves {
				e, vt := newScreen(Config{Prompt: "> ", Width: width})
				for _, r := range text + mv {
					typeKeys(e, string(r))
					checkScreen(t, e, vt, fmt.Sprintf("width %d, %q then %q", width, text, mv))
				}
			}
		}
	}
}

// checkScreen fails t unless vt's last rows show e's prompt and line and
// its cursor is where e believes.
func checkScreen(t *testing.T, e *Editor, vt *testkit.VT, what string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	row, col := e.cursorAt(e.pos)
	vr, vc := vt.Cursor()
	if vc != col || len(vt.Unknown) > 0 {
		t.Fatalf("%s: cursor at column %d, editor says %d; unknown %q", what, vc, col, vt.Unknown)
	}
	rows := vt.Rows()
	first := vr - row
	got := strings.Join(rows[first:], "")
	want := string(e.prompt) + string(e.line)
	if got != want {
		t.Fatalf("%s: screen %q, want %q", what, rows, want)
	}
}

// TestResize widens and narrows the terminal under a line of several
// rows. The VT cuts rows as xterm does, where other terminals rewrap
// them: the editor must never go up more rows than the input has after
// either, so that no line printed is cleared; a row of the old input
// may stay.
func TestResize(t *testing.T) {
	e, vt := newScreen(Config{Prompt: "> ", Width: 10})
	e.Print([]byte("kept"))
	typeKeys(e, "0123456789abcdefghij")
	checkScreen(t, e, vt, "before")

	vt.Resize(30)
	e.Resize(30)
	checkScreen(t, e, vt, "widened")
	if got := vt.Rows()[0]; got != "kept" {
		t.Errorf("after widening, first row %q, want %q", got, "kept")
	}

	vt.Resize(4)
	e.Resize(4)
	checkScreen(t, e, vt, "narrowed")
	if got := vt.Lines()[0]; got != "kept" {
		t.Errorf("after narrowing, first row %q, want %q", got, "kept")
	}
	e.Print([]byte("new"))
	checkScreen(t, e, vt, "printed")
	got, want := vt.Lines(), []string{"new", "> 01", "2345", "6789", "abcd", "efgh", "ij"}
	if len(got) < len(want) || !slices.Equal(got[len(got)-len(want):], want) || got[0] != "kept" {
		t.Errorf("after narrowing and a print, screen %q, want it to start with %q and end %q", got, "kept", want)
	}
}

// TestHistoryBounds checks that history keeps the newest lines within
// both bounds.
func TestHistoryBounds(t *testing.T) {
	h := history{maxLines: 3, maxBytes: 10}
	for _, s := range []string{"a", "bb", "bb", "ccc", "dddd", "", "eeeee"} {
		h.add(s)
	}
	if want := []string{"dddd", "eeeee"}; !slices.Equal(h.lines, want) || h.bytes != 9 {
		t.Errorf("history %q (%d bytes), want %q (9)", h.lines, h.bytes, want)
	}
	h.add(strings.Repeat("x", 11))
	if len(h.lines) != 2 {
		t.Errorf("a line longer than the history was kept: %q", h.lines)
	}
	h = history{maxLines: 2, maxBytes: 100}
	for _, s := range []string{"1", "2", "3"} {
		h.add(s)
	}
	if want := []string{"2", "3"}; !slices.Equal(h.lines, want) {
		t.Errorf("history %q, want %q", h.lines, want)
	}
}

// TestConfirm asks about a paste and answers it.
func TestConfirm(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
		err  string
	}{
		{"y", true, ""},
		{"xN", false, ""},
		{"\r", false, ""},
		{"\x03", false, "term: interrupted"},
		{"\x1b[200~y\x1b[201~Y", true, ""},
	} {
		var out bytes.Buffer
		const paste = "ab\x1b[200~1\n2\x1b[201~"
		in := &hookReader{r: split(paste+tt.in+"c\r", len(paste))}
		e := New(Config{In: in, Out: &out, Prompt: "> "})
		line, err := e.ReadLine()
		if line != "ab1\n2" || err != ErrPaste {
			t.Fatalf("ReadLine = %q, %v; want the paste", line, err)
		}
		in.hook = func() { e.SetPrompt("new> ") } // while the question is asked
		yes, err := e.Confirm("send 2 lines? [y/n] ")
		if yes != tt.want || fmt.Sprint(err) != fmt.Sprint(nilIfEmpty(tt.err)) {
			t.Errorf("%q: Confirm = %v, %v; want %v, %v", tt.in, yes, err, tt.want, tt.err)
		}
		if line, err := e.ReadLine(); line != "c" || err != nil {
			t.Errorf("%q: after Confirm, ReadLine = %q, %v; want \"c\"", tt.in, line, err)
		}
		if !strings.Contains(out.String(), "send 2 lines? [y/n] ") {
			t.Errorf("question not shown: %q", out.String())
		}
		if !strings.HasSuffix(out.String(), "new> \x1b[J") {
			t.Errorf("after Confirm, the prompt set meanwhile is not shown: %q", out.String())
		}
	}
}

// hookReader calls hook, once, before a Read of r.
type hookReader struct {
	r    io.Reader
	hook func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.hook != nil {
		h.hook()
		h.hook = nil
	}
	return h.r.Read(p)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestClose: ReadLine returns ErrClosed, the input is cleared, and Print
// still prints.
func TestClose(t *testing.T) {
	var out bytes.Buffer
	e := New(Config{In: split("ab"), Out: &out, Prompt: "> "})
	typeKeys(e, "ab")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReadLine(); err != ErrClosed {
		t.Errorf("ReadLine after Close: %v, want ErrClosed", err)
	}
	e.Print([]byte("late"))
	if want := "> \x1b[Jab\r\x1b[Jlate\r\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
}

// TestWidth checks display widths.
func TestWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"abc", 3},
		{"日本語", 6},
		{"ｶﾀｶﾅ", 4}, // halfwidth
		{"ＡＢ", 4},   // fullwidth
		{"한국", 4},
		{"\u1100\u1161\u11a8", 2}, // a syllable of jamo
		{"e\u0301", 1},
		{"a\u20dd", 1}, // enclosing mark
		{"😀", 2},
		{"👍🏽", 4}, // a skin tone modifier counts, as in most terminals
		{"x\u200by", 2},
		{"\u00ad", 1},
		{"\x1b[31m", 4},
		{"\xff", 1},
		{"\U00020000", 2},
		{"\u0085", 0},
	}
	for _, tt := range tests {
		if got := StringWidth(tt.s); got != tt.want {
			t.Errorf("StringWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
	for i := 1; i < len(wide); i++ {
		if wide[i].lo <= wide[i-1].hi || wide[i].lo > wide[i].hi {
			t.Errorf("wide table not sorted at %d: %x", i, wide[i])
		}
	}
	if !utf8.ValidRune(keyUp) == false {
		t.Error("keyUp is a valid rune; special keys must not be")
	}
}

// lockedVT is a VT that other goroutines may write to, and that tells
// each write on a channel.
type lockedVT struct {
	mu    sync.Mutex
	vt    *testkit.VT
	wrote chan struct{}
}

func (l *lockedVT) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.vt.Write(p)
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

// waitRows waits until the screen's lines are want.
func (l *lockedVT) waitRows(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		got := l.vt.Lines()
		l.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-l.wrote:
		case <-deadline:
			t.Fatalf("screen %q, want %q", got, want)
		}
	}
}

// TestPrintWhileReading prints from another goroutine while ReadLine
// waits for keys: the line printed shows above the half-typed line, and
// the line typed then comes back whole.
func TestPrintWhileReading(t *testing.T) {
	in, typing := io.Pipe()
	screen := &lockedVT{vt: testkit.NewVT(20, 5, RuneWidth), wrote: make(chan struct{}, 1)}
	e := New(Config{In: in, Out: screen, Prompt: "> ", Width: 20})
	type read struct {
		line string
		err  error
	}
	got := make(chan read, 1)
	go func() {
		line, err := e.ReadLine()
		got <- read{line, err}
	}()
	io.WriteString(typing, "half li")
	screen.waitRows(t, "> half li")
	for i := range 3 {
		e.Print(fmt.Appendf(nil, "bob> %d", i))
	}
	screen.waitRows(t, "bob> 0", "bob> 1", "bob> 2", "> half li")
	io.WriteString(typing, "ne\r")
	select {
	case r := <-got:
		if r.line != "half line" || r.err != nil {
			t.Errorf("ReadLine = %q, %v; want \"half line\"", r.line, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadLine did not return")
	}
	screen.waitRows(t, "bob> 0", "bob> 1", "bob> 2", ">")
	e.Close()
	typing.Close()
}
