//go:build linux

// Package smallfs gives a test a real, small filesystem to fill up: a tmpfs of a chosen size,
// mounted in a mount namespace of the test's own, so that "disk full" and "read-only" are the
// kernel's answers, not a fake's. Without privileges the namespace comes with a user namespace
// of its own, which lets an ordinary user mount a tmpfs where the kernel allows unprivileged user
// namespaces.
package smallfs

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
)

// envDir carries the mount point to the re-run test; envSize the tmpfs size in bytes.
const (
	envDir  = "ANPR_TEST_SMALLFS_DIR"
	envSize = "ANPR_TEST_SMALLFS_SIZE"
)

// Run gives the calling top-level test a tmpfs of size bytes. The test runs twice: Run starts
// the same test again in a child process with its own mount (and user) namespace and returns ""
// in the parent once the child has finished (failing t if the child failed, with its output); in
// the child it mounts the tmpfs and returns its directory, and the rest of the test runs there.
// The mount vanishes with the child. Run skips, saying why, where the kernel refuses the
// namespaces.
//
//	dir := smallfs.Run(t, 8<<20)
//	if dir == "" {
//		return // the child ran the test
//	}
func Run(t *testing.T, size int64) string {
	t.Helper()
	if dir := os.Getenv(envDir); dir != "" {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+os.Getenv(envSize)); err != nil {
			t.Fatalf("smallfs: mount a tmpfs on %s: %v", dir, err)
		}
		return dir
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envDir+"="+dir, envSize+"="+strconv.FormatInt(size, 10))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, started := err.(*exec.ExitError); !started {
			t.Skipf("SKIPPED: %s needs a mount namespace of its own for a real small filesystem, which this kernel refuses: %v", t.Name(), err)
		}
		t.Fatalf("%s in its own mount namespace on a %d-byte tmpfs: %v\n%s", t.Name(), size, err, out)
	}
	t.Logf("%s ran in its own mount namespace on a %d-byte tmpfs:\n%s", t.Name(), size, out)
	return ""
}

// Fill writes zeros to a new file in dir until the filesystem refuses with ENOSPC, and returns
// the file's path (remove it to free the space again). It refuses a filesystem larger than 1 GiB:
// dir is then not the small one Run mounted, and filling it would fill a real disk.
func Fill(dir string) (string, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "", err
	}
	if total := int64(st.Blocks) * st.Bsize; total > 1<<30 {
		return "", fmt.Errorf("smallfs: %s is on a %d-byte filesystem, not a small one; refusing to fill it", dir, total)
	}
	f, err := os.CreateTemp(dir, "filler-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if pe, ok := err.(*os.PathError); ok && pe.Err == syscall.ENOSPC {
				return f.Name(), nil
			}
			return f.Name(), fmt.Errorf("fill %s: %w", dir, err)
		}
	}
}
