package blob

import (
	"errors"

	"scuttle/applog/internal/osfile"
)

var (
	// ErrTooLarge is matched by the error of Add and Begin for a file
	// larger than MaxSize.
	ErrTooLarge = errors.New("blob: file too large")
	// ErrQuota is matched by the error of Add and Begin when the file
	// would take the store past Options.MaxBytes.
	ErrQuota = errors.New("blob: store quota reached")
	// ErrLowSpace is matched by the error of Add and Begin when the file
	// would leave the file system's free space below the floor
	// (applog.FreeSpaceFloor).
	ErrLowSpace = errors.New("blob: free space below the floor")
	// ErrBadBlock is matched by the error of WriteBlock for data whose
	// hash or length is not the block's: nothing was written.
	ErrBadBlock = errors.New("blob: bad block")
	// ErrNotFound is matched by the error of a method for an id the
	// store holds nothing of.
	ErrNotFound = errors.New("blob: not in the store")
	// ErrIncomplete is matched by the error of Open for a file whose
	// blocks are not all here yet; the error says how many are.
	ErrIncomplete = errors.New("blob: file incomplete")
	// ErrSymlink is matched by the error of an operation that met a
	// symbolic link at the name of the store's directory or of one of
	// its files: the store never follows one.
	ErrSymlink = osfile.ErrSymlink
)
