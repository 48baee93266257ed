// Package osfile holds the few file operations whose durability or
// locking differs between operating systems, so that applog states one
// promise and each OS keeps it in a file of its own:
//
//   - Fdatasync flushes a file's data, and the metadata needed to read
//     it back, to stable storage.
//   - SyncDir makes the creates, renames and removes in a directory
//     durable.
//   - Rename replaces newpath by oldpath atomically and durably as far
//     as the OS allows (with SyncDir of the directory after it).
//   - TryLock and Unlock take and drop an exclusive, advisory,
//     process-wide lock on an open file; TryLock fails with
//     ErrWouldBlock while another process holds it.
//   - Map and Unmap give a read-only view of a file's first size bytes;
//     Map fails with ErrNoMap where mapping is not available, and the
//     caller then reads with ReadAt.
//
// Every error names the file it concerns.
package osfile
