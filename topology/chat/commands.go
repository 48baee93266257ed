package chat

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"scuttle/applog"
	"scuttle/applog/names"
	"scuttle/mdns"
)

// The commands: a typed line that starts with "/" is a command, the same
// from a pipe, the terminal or the web page (Type), and is never sent; a
// line that starts with "//" is sent as a message without its first "/".
// A command answers in info lines. The table (commands) is the one place
// a command is declared: its name, its arguments, its line of /help and
// what it does.

// A command is one of the chat's commands, typed as "/NAME ARGS".
type command struct {
	name string // without the "/"
	// args names the arguments, as /help shows them ("NAME ID"): the
	// command takes as many, separated by blanks. A last one ending in
	// "..." takes the rest of the line, blanks and all; a last one in
	// brackets ("[#ROOM]") may be left out.
	args string
	help string // what the command does, in one line
	run  func(c *Chat, args []string)
}

// commands returns the chat's commands, in the order /help lists them.
func commands() []command {
	return []command{
		{"help", "", "list the commands", (*Chat).cmdHelp},
		{"who", "", "who is connected now, and who was seen this run and when", (*Chat).cmdWho},
		{"names", "", "the names this chat knows, the log each is bound to, and how it was learned", (*Chat).cmdNames},
		{"trust", "NAME ID", "bind NAME to the log ID, replacing what the chat knew (as scuttle trust)", (*Chat).cmdTrust},
		{"block", "NAME", "delete the log bound to NAME (or the log ID) and refuse it from every peer from now on (as scuttle block)", (*Chat).cmdBlock},
		{"msg", "NAME TEXT...", "send TEXT to NAME alone, sealed to NAME's encryption key: both see it as you → NAME> TEXT", (*Chat).cmdMsg},
		{"join", "[#ROOM]", "make the private room #ROOM, or go to it if you are a member: your lines go to it; /join alone: back to the public room", (*Chat).cmdJoin},
		{"invite", "NAME", "give NAME the key of the room you are in", (*Chat).cmdInvite},
		{"kick", "NAME", "give the room you are in a new key, without NAME: NAME reads nothing written after", (*Chat).cmdKick},
		{"leave", "", "stop showing the room you are in, for this run, and go back to the public room", (*Chat).cmdLeave},
		{"rooms", "", "the private rooms you hold a key of, and their members", (*Chat).cmdRooms},
		{"send", "PATH...", "share the file at PATH where your lines go (the public room, or the room you are in, sealed); it shows as [file] NAME (SIZE) ID", (*Chat).cmdSend},
		{"get", "ID", "fetch the file of content id ID from the peers that hold it; scuttle get ID writes it out", (*Chat).cmdGet},
		{"quit", "", "send the lines typed before, and end the chat", (*Chat).cmdQuit},
	}
}

// typedLine is what a typed line means: a message, or a command.
type typedLine struct {
	command bool
	text    string // the message to send, if not a command
	name    string // the command's name, without "/"
	rest    string // what follows the name, without the blanks around it
}

// parseTyped returns what line means: "//TEXT" is the message "/TEXT",
// "/NAME REST" the command NAME (NAME ends at the first blank), any
// other line a message.
func parseTyped(line string) typedLine {
	switch {
	case strings.HasPrefix(line, "//"):
		return typedLine{text: line[1:]}
	case strings.HasPrefix(line, "/"):
		name, rest := line[1:], ""
		if i := strings.IndexAny(name, blanks); i >= 0 {
			name, rest = name[:i], name[i:]
		}
		return typedLine{command: true, name: name, rest: strings.Trim(rest, blanks)}
	}
	return typedLine{text: line}
}

// blanks separate a command's arguments.
const blanks = " \t"

// splitArgs splits rest into the arguments args names (see command), and
// reports whether there are as many.
func splitArgs(rest, args string) ([]string, bool) {
	names := strings.Fields(args)
	tail := len(names) > 0 && strings.HasSuffix(names[len(names)-1], "...")
	if !tail {
		// A last argument in brackets ("[#ROOM]") may be left out.
		got := strings.Fields(rest)
		optional := len(names) > 0 && strings.HasPrefix(names[len(names)-1], "[")
		return got, len(got) == len(names) || optional && len(got) == len(names)-1
	}
	var got []string
	for range len(names) - 1 {
		rest = strings.TrimLeft(rest, blanks)
		i := strings.IndexAny(rest, blanks)
		if i < 0 {
			return nil, false
		}
		got, rest = append(got, rest[:i]), rest[i:]
	}
	rest = strings.Trim(rest, blanks)
	return append(got, rest), rest != ""
}

// usage is a command as /help shows it: "/NAME ARGS".
func (cmd command) usage() string {
	if cmd.args == "" {
		return "/" + cmd.name
	}
	return "/" + cmd.name + " " + cmd.args
}

// runCommand runs the command t: an unknown command, or one with other
// arguments than it takes, is told in one info line and does nothing.
func (c *Chat) runCommand(t typedLine) {
	i := slices.IndexFunc(c.cmds, func(cmd command) bool { return cmd.name == t.name })
	if i < 0 {
		c.info(fmt.Sprintf("unknown command /%s: not sent; /help lists the commands, //%s sends the line", Escape(t.name), Escape(t.name)))
		return
	}
	cmd := c.cmds[i]
	args, ok := splitArgs(t.rest, cmd.args)
	if !ok {
		c.info("usage: " + cmd.usage())
		return
	}
	cmd.run(c, args)
}

// maxListed bounds the lines /who and /names print, past which one line
// counts the rest.
const maxListed = 64

func (c *Chat) cmdHelp([]string) {
	for _, cmd := range c.cmds {
		c.info(cmd.usage() + ": " + cmd.help)
	}
	c.info("//TEXT: send a line that starts with /")
}

func (c *Chat) cmdWho([]string) {
	who := c.Who()
	if len(who) == 0 {
		c.info("no peer connected or seen this run")
		return
	}
	now := c.now()
	for i, p := range who {
		if i == maxListed {
			c.info(fmt.Sprintf("and %d more seen earlier", len(who)-i))
			return
		}
		if p.Connected {
			c.info(p.Name + " connected since " + clockTime(p.Since, now))
		} else {
			c.info(p.Name + " last seen " + clockTime(p.Since, now))
		}
	}
}

// clockTime is t as /who says it: HH:MM in local time, with the date if
// it is not now's day.
func clockTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, d := t.Date(); y != now.Year() || m != now.Month() || d != now.Day() {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("15:04")
}

func (c *Chat) cmdNames([]string) {
	bs := c.Names()
	if len(bs) == 0 {
		c.info("no names known")
		return
	}
	for i, b := range bs {
		if i == maxListed {
			c.info(fmt.Sprintf("and %d more: scuttle names lists them all", len(bs)-i))
			return
		}
		line := b.Name + " " + string(b.Log) + " " + b.How
		if b.Own {
			line += " (you)"
		}
		c.info(line)
	}
}

func (c *Chat) cmdTrust(args []string) {
	name := args[0]
	if err := mdns.CheckName(name); err != nil {
		c.info("/trust: " + Escape(err.Error()))
		return
	}
	id, err := applog.ParseID(args[1])
	if err != nil {
		c.info("/trust: " + Escape(err.Error()))
		return
	}
	ch, err := c.cfg.Names.Trust(name, id)
	if err != nil {
		c.info("/trust: " + Escape(err.Error()))
		return
	}
	c.noteTrusted()
	c.info(TrustedLine(name, ch))
}

func (c *Chat) cmdBlock(args []string) {
	id, err := applog.ParseID(args[0])
	name := ""
	if err != nil {
		b, ok := c.cfg.Names.Lookup(args[0])
		if !ok {
			c.info(fmt.Sprintf("/block: no log is bound to %s; /names lists the names", Escape(args[0])))
			return
		}
		id, name = b.ID, Escape(b.Name)+" "
	}
	if err := c.cfg.DB.Block(id); err != nil {
		c.info("/block: " + Escape(err.Error()))
		return
	}
	c.info(fmt.Sprintf("blocked %s%s: its entries are deleted within a second, and it is refused from every peer from now on; scuttle unblock undoes it", name, id))
	c.dropFiles(id)
}

func (c *Chat) cmdQuit([]string) { c.quit(nil) }

// maxCompletions bounds what Complete returns.
const maxCompletions = 64

// Complete returns the completions of prefix, sorted: the commands it
// begins ("/he": "/help"), or, for a prefix that does not start with
// "/", the names bound to a log by a connection or by trust, and the
// names of the peers connected or seen, that it begins regardless of
// ASCII case. At most 64; names are escaped.
func (c *Chat) Complete(prefix string) []string {
	var out []string
	if strings.HasPrefix(prefix, "/") {
		for _, cmd := range c.cmds {
			if strings.HasPrefix("/"+cmd.name, prefix) {
				out = append(out, "/"+cmd.name)
			}
		}
		slices.Sort(out)
		return out
	}
	lower := strings.ToLower(prefix)
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] && strings.HasPrefix(strings.ToLower(name), lower) {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, p := range c.Who() {
		if !strings.Contains(p.Name, "~") { // NAME~SHORT: not the name's log
			add(p.Name)
		}
	}
	for _, b := range c.cfg.Names.Bindings() {
		if b.How != names.Claimed {
			add(Escape(b.Name))
		}
	}
	slices.Sort(out)
	if len(out) > maxCompletions {
		out = out[:maxCompletions]
	}
	return out
}
