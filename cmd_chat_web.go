package main

import (
	"context"
	"log/slog"

	"scuttle/topology/chat"
	"scuttle/topology/chat/web"
)

// webUsage is chat --web's help.
const webUsage = "also serve the chat to a browser on `ADDR`, HOST:PORT (an empty HOST is 127.0.0.1, PORT 0 any free port), and print the page's address: it holds a secret, so whoever has it can chat as ME"

// serveChat runs c until ctx ends; with webAddr (chat --web), it serves
// c to a browser too and prints the page's address as an info line.
func serveChat(ctx context.Context, c *chat.Chat, webAddr string, log *slog.Logger) error {
	if webAddr == "" {
		return c.Run(ctx)
	}
	w, err := web.New(web.Config{Chat: c, Addr: webAddr, Info: c.Info, Log: log.With("pkg", "web")})
	if err != nil {
		return err
	}
	return w.Run(ctx, c.Run)
}
