package diskcheck_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/anpr-portal/anpr/internal/diskcheck"
	"github.com/anpr-portal/anpr/internal/diskcheck/smallfs"
)

// On a real 4 MiB tmpfs: writable while there is room, "disk full" once the disk is full (by the
// floor, and by the failing write below it), writable again once space is freed, and "read-only"
// when the filesystem is remounted read-only.
func TestCheckOnARealSmallFilesystem(t *testing.T) {
	dir := smallfs.Run(t, 4<<20)
	if dir == "" {
		return
	}
	if err := diskcheck.Check(dir, 1<<20); err != nil {
		t.Fatalf("empty tmpfs: %v", err)
	}
	filler, err := smallfs.Fill(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = diskcheck.Check(dir, 1<<20)
	if !errors.Is(err, diskcheck.ErrNotWritable) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("full tmpfs, with a 1 MiB floor: %v, want disk full", err)
	}
	// With no floor, the write itself fails.
	if err := diskcheck.Check(dir, 0); !errors.Is(err, diskcheck.ErrNotWritable) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("full tmpfs, no floor: %v, want the write to fail with disk full", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := diskcheck.Check(dir, 1<<20); err != nil {
		t.Errorf("after freeing the space: %v", err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	if err := diskcheck.Check(dir, 0); !errors.Is(err, diskcheck.ErrNotWritable) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only tmpfs: %v, want read-only", err)
	}
}

// Dirs checks each directory once and reports every problem.
func TestDirsReportsEveryProblem(t *testing.T) {
	ok := t.TempDir()
	missing1, missing2 := ok+"/nope", ok+"/gone"
	err := diskcheck.Dirs([]string{ok, missing1, ok + "/", missing2, missing1}, 0)
	if err == nil || strings.Count(err.Error(), "not writable") != 2 || !strings.Contains(err.Error(), missing1) || !strings.Contains(err.Error(), missing2) {
		t.Fatalf("Dirs = %v, want exactly the two missing directories", err)
	}
	if err := diskcheck.Dirs([]string{ok, ok}, 0); err != nil {
		t.Fatalf("Dirs of a writable directory: %v", err)
	}
}
