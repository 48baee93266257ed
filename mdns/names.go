package mdns

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"scuttle/applog/names/glyph"
)

// This file turns user names ("alice", "Alice.local.") into the
// lower-case fully qualified form the maps are keyed by ("alice.local.").
// DNS compares names ASCII-case-insensitively (RFC 6762 §16): bytes
// above 0x7F are compared exactly.

const localSuffix = ".local."

// fqdn returns the lower-case FQDN for host, which is "NAME",
// "NAME.local" or "NAME.local." with NAME one label.
func fqdn(host string) (string, error) {
	h := strings.TrimSuffix(host, ".")
	if len(h) > len(".local") && strings.EqualFold(h[len(h)-len(".local"):], ".local") {
		h = h[:len(h)-len(".local")]
	}
	if err := checkLabel(h); err != nil {
		return "", fmt.Errorf("%w %q: %v", ErrBadName, host, err)
	}
	return lowerASCII(h) + localSuffix, nil
}

// CheckName reports whether name can be a peer's name: the one label of
// NAME.local, 1 to 63 octets with no dot, space, control character or
// backslash, in UTF-8 (RFC 6762 §16), that prints as itself. It is the
// one rule for names that the chat, the swarm and the responder share;
// the error wraps ErrBadName and says which octet or character is
// wrong.
//
// A name is what a user reads to tell peers apart, so CheckName refuses
// outright what would make one name read as another or disturb the line
// it is printed in: C1 controls, the line and paragraph separators,
// the blank characters beyond ASCII (U+00A0, U+3000…), and the invisible and bidi characters of glyph.Invisible
// (zero-width characters, joiners, bidi overrides and isolates, the
// other default-ignorables). "bob\u2060" could only ever pass as bob,
// and no language needs these in a chat name. Look-alike letters
// ("bоb" with a Cyrillic о) are names of their own here: the names store
// makes them collide with the name they imitate (names.Skeleton).
// Resolving and announcing (fqdn) keep the wire's looser rule, so a name
// that CheckName refuses still resolves when another host announces it.
func CheckName(name string) error {
	if err := checkLabel(name); err != nil {
		return fmt.Errorf("%w %q: %v", ErrBadName, name, err)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w %q: not UTF-8", ErrBadName, name)
	}
	for i, r := range name {
		if r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || glyph.Blank(r) || glyph.Invisible(r) {
			return fmt.Errorf("%w %+q: %U at offset %d: a name has no invisible, bidi, blank or control characters", ErrBadName, name, r, i)
		}
	}
	return nil
}

// checkLabel reports why l cannot be the one label of a .local name.
func checkLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty")
	case len(l) > 63:
		return fmt.Errorf("label of %d octets, the limit is 63", len(l))
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; c == '.' || c <= ' ' || c == 0x7f || c == '\\' {
			return fmt.Errorf("%q at offset %d: a name is one DNS label, with no dots, spaces, control characters or backslashes", c, i)
		}
	}
	return nil
}

// display is the FQDN without its final dot, as users write it.
func display(fq string) string { return strings.TrimSuffix(fq, ".") }

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// isLiteral reports whether host is an IP address (with optional zone),
// which LookupHost returns as is, like net.Resolver.
func isLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// FQDN returns host as the name LookupHost and Register use, without the
// final dot: "Bob" and "bob.local." give "bob.local". A name that is not
// valid is returned with ".local" appended, for messages.
func FQDN(host string) string {
	fq, err := fqdn(host)
	if err != nil {
		return host + ".local"
	}
	return display(fq)
}
