package main

import "scuttle/topology/chat"

// complete returns what word, the word before the terminal's cursor,
// may become: the chat's commands and names.
func complete(c *chat.Chat, word string) []string {
	if c == nil {
		return nil
	}
	return c.Complete(word)
}
