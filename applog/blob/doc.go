// Package blob is scuttle's store of files shared in the chat.
package blob
