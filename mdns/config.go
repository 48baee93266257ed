package mdns

import (
	"fmt"
	"log/slog"
	"net"
)

// Config chooses the interfaces a Conn uses and where it logs. The zero
// value works: every suitable interface, no logging.
type Config struct {
	// Interfaces names the interfaces to use, e.g. {"lo"}. An interface
	// named here must exist; it is used even without the multicast flag
	// (loopback has none on Linux yet carries multicast).
	//
	// Empty selects every interface that is up, multicast-capable, not
	// loopback and has at least one address; interfaces failing any of
	// these are skipped silently (docker bridges, VPN tunnels). If none
	// qualifies, the loopback interfaces are used.
	Interfaces []string

	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

func (cfg Config) logger() *slog.Logger {
	if cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cfg.Logger
}

// SelectInterfaces returns the interfaces a Conn opened with
// Config{Interfaces: names} uses, by the rules of Config.Interfaces,
// without opening anything: for diagnostics (scuttle doctor).
func SelectInterfaces(names []string) ([]net.Interface, error) {
	return chooseInterfaces(names)
}

// chooseInterfaces resolves cfg.Interfaces, or makes the default
// selection described at Config.Interfaces.
func chooseInterfaces(names []string) ([]net.Interface, error) {
	if len(names) > 0 {
		var out []net.Interface
		for _, n := range names {
			ifi, err := net.InterfaceByName(n)
			if err != nil {
				return nil, fmt.Errorf("mdns: interface %q: %w", n, err)
			}
			if ifi.Flags&net.FlagUp == 0 {
				return nil, fmt.Errorf("mdns: interface %q is down: %w", n, ErrNoInterface)
			}
			out = append(out, *ifi)
		}
		return out, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("mdns: list interfaces: %w", err)
	}
	var out, loop []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp == 0 {
			continue
		}
		if ifi.Flags&net.FlagLoopback != 0 {
			loop = append(loop, ifi)
			continue
		}
		if ifi.Flags&net.FlagMulticast == 0 {
			continue
		}
		if as, err := ifi.Addrs(); err != nil || len(as) == 0 {
			continue
		}
		out = append(out, ifi)
	}
	if len(out) == 0 {
		out = loop
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mdns: no interface is up: %w", ErrNoInterface)
	}
	return out, nil
}
