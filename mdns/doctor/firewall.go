package doctor

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// firewallTimeout bounds the firewall tools' run.
const firewallTimeout = 2 * time.Second

// checkFirewall reads the packet filter's rules, where nft or iptables
// can show them, for what drops UDP 5353; the first tool whose rules do
// gives the finding.
func (d *doctor) checkFirewall(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, firewallTimeout)
	defer cancel()
	// The commands that print the packet filter's input rules.
	tools := []struct {
		name string
		args []string
	}{
		{"nft", []string{"list", "ruleset"}},
		{"iptables", []string{"-S", "INPUT"}},
		{"ip6tables", []string{"-S", "INPUT"}},
	}
	read := false
	for _, tl := range tools {
		if _, err := exec.LookPath(tl.name); err != nil {
			continue
		}
		out, err := exec.CommandContext(ctx, tl.name, tl.args...).Output()
		if err != nil {
			d.report(okay("", "firewall", fmt.Sprintf("not checked: %s %s: %v", tl.name, strings.Join(tl.args, " "), err)))
			continue
		}
		read = true
		if f, bad := firewallFinding(tl.name, string(out)); bad {
			d.report(f)
			return
		}
	}
	if read {
		d.report(okay("", "firewall", "no rule seen that drops UDP 5353"))
	} else {
		d.report(okay("", "firewall", "not checked: neither nft nor iptables can be read here"))
	}
}

// firewallFinding looks at a ruleset printed by tool for a rule that
// drops or rejects UDP 5353, or an input policy of drop with no rule
// accepting 5353, and returns a WARN saying so and true if it finds one.
func firewallFinding(tool, rules string) (Finding, bool) {
	accepts := false
	var dropLine, policyLine string
	for _, l := range strings.Split(rules, "\n") {
		l = strings.TrimSpace(l)
		low := strings.ToLower(l)
		if strings.Contains(low, "5353") {
			switch {
			case strings.Contains(low, "drop") || strings.Contains(low, "reject"):
				dropLine = l
			case strings.Contains(low, "accept"):
				accepts = true
			}
		}
		if (tool == "nft" && strings.Contains(low, "hook input") && strings.Contains(low, "policy drop")) ||
			(tool != "nft" && (low == "-p input drop" || low == "-p input reject")) {
			policyLine = l
		}
	}
	switch {
	case dropLine != "":
		return warning("", "firewall", tool+" drops UDP 5353: "+dropLine, "remove the rule, or accept UDP 5353 from the LAN"), true
	case policyLine != "" && !accepts:
		hint := "accept it: nft add rule inet filter input udp dport 5353 accept"
		if tool != "nft" {
			hint = "accept it: " + tool + " -I INPUT -p udp --dport 5353 -j ACCEPT"
		}
		return warning("", "firewall", tool+" drops incoming packets by default ("+policyLine+") and no rule accepts UDP 5353", hint), true
	}
	return Finding{}, false
}
