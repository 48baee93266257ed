package chat

// The terminal's rendering of a line: a short time and, in colour, the
// author's name in a colour of its log, so that two authors of one name
// (NAME and NAME~SHORT) also differ in colour.

// ANSI SGR sequences of AppendTerminal.
const (
	sgrReset = "\x1b[0m"
	sgrDim   = "\x1b[2m" // info lines
	sgrOwn   = "\x1b[1m" // the own name: bold, in the terminal's own colour, none of the palette's
)

// palette is the colours of the authors' names: the eight standard
// foreground colours but black and white, and their bright forms but
// bright black, which reads as dim, and bright white (SGR 31–36, 91–96,
// as "3N" and "9N").
var palette = [...]string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m",
	"\x1b[91m", "\x1b[92m", "\x1b[93m", "\x1b[94m", "\x1b[95m", "\x1b[96m"}

// AppendTerminal appends l as the terminal shows it: "HH:MM " (the local
// time of l.Time), then the line as Line.String. With colour, the
// author's name is in one of the palette's colours chosen from l.Log
// (FNV-1a of its bytes), the own lines' name bold in the terminal's
// foreground colour, and an info line dim; each coloured span ends with
// a reset (ANSI SGR). Without colour it appends no escape sequence. The
// line's strings are escaped already (Escape), so nothing in them can
// be a sequence of its own. No newline.
func AppendTerminal(b []byte, l Line, colour bool) []byte {
	b = l.Time.Local().AppendFormat(b, "15:04 ")
	switch {
	case !colour:
		return l.appendPipe(b)
	case l.Kind == Info:
		b = append(b, sgrDim...)
		b = l.appendPipe(b)
		return append(b, sgrReset...)
	}
	if l.Room != "" { // a private room's line: the room in the terminal's own colour
		b = append(b, l.Room...)
		b = append(b, ' ')
	}
	if l.Own {
		b = append(b, sgrOwn...)
	} else {
		b = append(b, authorColour(l)...)
	}
	b = append(b, l.From...)
	b = append(b, sgrReset...)
	if l.To != "" {
		b = append(b, " → "...)
		b = append(b, l.To...)
	}
	b = append(b, "> "...)
	return append(b, l.Text...)
}

// authorColour returns the palette's colour of l's author.
func authorColour(l Line) string {
	h := uint32(2166136261) // FNV-1a, 32 bits
	for i := 0; i < len(l.Log); i++ {
		h = (h ^ uint32(l.Log[i])) * 16777619
	}
	return palette[h%uint32(len(palette))]
}
