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
//     ErrWouldBlock while another process holds it. The lock never
//     covers the file's content, so the holder can write its pid there
//     for the others to read.
//   - OpenFile is os.OpenFile that never goes through a symbolic link
//     at the file's name (ErrSymlink): O_NOFOLLOW on Unix,
//     FILE_FLAG_OPEN_REPARSE_POINT and a check of what was opened on
//     Windows, where any reparse point is refused.
//   - Map and Unmap give a read-only view of a file's first size bytes;
//     Map fails with ErrNoMap where mapping is not available, and the
//     caller then reads with ReadAt.
//
// Every error names the file it concerns.
//
// # What each OS gives
//
// Linux: Fdatasync is fdatasync(2); SyncDir is fsync(2) of the
// directory; Rename is rename(2), atomic, durable after SyncDir; the
// lock is flock(2) (held per open file, released by the kernel when the
// process dies); Map is mmap(2).
//
// macOS: Fdatasync is fcntl(F_FULLFSYNC), because fsync(2) there leaves
// the data in the drive's volatile cache; a file system that refuses it
// (SMB, some FUSE mounts) gets fsync(2), which survives a crash of the
// OS but not necessarily a power loss. F_FULLFSYNC costs milliseconds,
// which group commit spreads over the appends that share a round.
// SyncDir is os.File.Sync of the directory, which Go implements on
// macOS with F_FULLFSYNC too (fsync(2) where refused); Rename, the lock
// and Map are as on Linux.
//
// FreeBSD: Fdatasync is fdatasync(2) (11.1 and later, else fsync(2));
// the rest as on Linux.
//
// Windows: Fdatasync is FlushFileBuffers, which also flushes the
// drive's cache; it needs the file open for writing. There is no
// directory fsync, so SyncDir only checks the directory exists, and
// Rename is MoveFileEx with MOVEFILE_REPLACE_EXISTING (replacing an
// existing file, which os.Rename also does) and MOVEFILE_WRITE_THROUGH
// (the call returns once the rename is on disk). A newly created file
// is durable once flushed: NTFS journals the directory entry and
// FlushFileBuffers commits the journal up to the file's latest change.
// Replacing or renaming a file fails while another process has it open,
// since Go's os.Open does not share delete access. The lock is
// LockFileEx on one byte at 1 GiB, far past the content, since Windows
// locks are mandatory: a locked byte cannot be read through any other
// handle. Map is CreateFileMapping and MapViewOfFile, read-only;
// Windows refuses to truncate a file while a view of it exists, so only
// files that no longer change may be mapped (applog maps only sealed
// indexes). Files opened by os.Open and os.OpenFile share read and
// write access, so readers in other processes open the files a writer
// has open, and the writer opens and truncates files they hold.
//
// The osfile_nomap build tag makes Map return ErrNoMap on every OS, so
// that the ReadAt path of the callers is tested where mapping works:
//
//	go test -tags osfile_nomap ./applog/...
package osfile
