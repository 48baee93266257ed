package main

import "scuttle/topology/chat"

// complete returns what word, the word before the terminal's cursor,
// may become: the chat's commands and names.
func complete(c *chat.Chat, word string) []string {
	return nil // chat.(*Chat).Complete is not on this branch yet
}
