package doctor

// A Level is how a check came out.
type Level string

// The levels of a Finding, as printed.
const (
	OK   Level = "OK"   // as mDNS needs it, or not checkable here
	Warn Level = "WARN" // works, or may, but worth acting on: see the hint
	Fail Level = "FAIL" // peers cannot find each other this way: see the hint
)

// A Finding is one check's result. Its JSON encoding is one line of
// scuttle doctor --json, so the field names and tags are fixed.
type Finding struct {
	Iface  string `json:"iface,omitempty"` // the interface checked; empty for a check of the host
	Check  string `json:"check"`           // what was checked: "up", "self-test IPv4", "firewall"
	Status Level  `json:"status"`          // OK, WARN or FAIL
	Detail string `json:"detail"`          // what was found
	Hint   string `json:"hint,omitempty"`  // what to do, for most WARNs and FAILs
}

func okay(iface, check, detail string) Finding {
	return Finding{Iface: iface, Check: check, Status: OK, Detail: detail}
}

func warning(iface, check, detail, hint string) Finding {
	return Finding{Iface: iface, Check: check, Status: Warn, Detail: detail, Hint: hint}
}

func failure(iface, check, detail, hint string) Finding {
	return Finding{Iface: iface, Check: check, Status: Fail, Detail: detail, Hint: hint}
}
