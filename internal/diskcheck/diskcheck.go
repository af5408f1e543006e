// Package diskcheck tells whether the directories the portal writes to can take writes: not on a
// read-only filesystem, with free space above a floor, and a real write succeeding. /readyz runs
// it, so that a full or read-only disk takes the portal out of service before writes start to
// fail rather than after.
package diskcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrNotWritable marks every problem Check reports.
var ErrNotWritable = errors.New("not writable")

// Check reports why dir cannot take writes, or nil: its filesystem is mounted read-only, it has
// less than minFree bytes free for an unprivileged writer, or creating and writing a small file
// in it fails (a full disk, a read-only mount, a permission or quota problem).
func Check(dir string, minFree int64) error {
	fs, err := statFS(dir)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotWritable, dir, err)
	}
	if fs.readOnly {
		return fmt.Errorf("%w: %s is on a read-only filesystem", ErrNotWritable, dir)
	}
	if fs.free < minFree {
		return fmt.Errorf("%w: %s has %s free, below the %s floor (disk full)", ErrNotWritable, dir, size(fs.free), size(minFree))
	}
	if err := probe(dir); err != nil {
		return fmt.Errorf("%w: %s: %s", ErrNotWritable, dir, explain(err))
	}
	return nil
}

// Dirs checks every distinct directory of dirs and reports every problem at once.
func Dirs(dirs []string, minFree int64) error {
	var errs []error
	seen := map[string]bool{}
	for _, d := range dirs {
		d = filepath.Clean(d)
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := Check(d, minFree); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// probe writes a page to a new file in dir and removes it.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, ".anpr-write-probe-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(make([]byte, 4096))
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	return errors.Join(werr, cerr, rerr)
}

// explain names the common causes in words an operator searches for.
func explain(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "disk full: " + err.Error()
	case errors.Is(err, syscall.EDQUOT):
		return "disk quota exceeded: " + err.Error()
	case errors.Is(err, syscall.EROFS):
		return "read-only filesystem: " + err.Error()
	}
	return err.Error()
}

func size(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
