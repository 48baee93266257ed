package doctor

import "testing"

func TestFirewallFinding(t *testing.T) {
	tests := []struct {
		name, tool, rules string
		want              string // the detail, "" for no finding
	}{
		{"nft accepts all", "nft", "table inet filter {\n chain input {\n type filter hook input priority 0; policy accept;\n }\n}", ""},
		{"nft drops 5353", "nft", "table inet filter {\n chain input {\n  udp dport 5353 drop\n }\n}", "nft drops UDP 5353: udp dport 5353 drop"},
		{"nft policy drop", "nft", "table inet filter {\n chain input {\n  type filter hook input priority filter; policy drop;\n  tcp dport 22 accept\n }\n}",
			"nft drops incoming packets by default (type filter hook input priority filter; policy drop;) and no rule accepts UDP 5353"},
		{"nft policy drop, 5353 accepted", "nft", "chain input {\n type filter hook input priority 0; policy drop;\n udp dport 5353 accept\n}", ""},
		{"iptables policy drop", "iptables", "-P INPUT DROP\n-A INPUT -p tcp --dport 22 -j ACCEPT", "iptables drops incoming packets by default (-P INPUT DROP) and no rule accepts UDP 5353"},
		{"iptables accepts 5353", "iptables", "-P INPUT DROP\n-A INPUT -p udp --dport 5353 -j ACCEPT", ""},
		{"iptables rejects 5353", "iptables", "-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport 5353 -j REJECT", "iptables drops UDP 5353: -A INPUT -p udp -m udp --dport 5353 -j REJECT"},
	}
	for _, tt := range tests {
		f, bad := firewallFinding(tt.tool, tt.rules)
		if bad != (tt.want != "") || f.Detail != tt.want || bad && (f.Status != Warn || f.Hint == "") {
			t.Errorf("%s: %+v, %v; want detail %q", tt.name, f, bad, tt.want)
		}
	}
}
