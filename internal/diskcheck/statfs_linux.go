package diskcheck

import "golang.org/x/sys/unix"

type fsInfo struct {
	free     int64 // bytes available to an unprivileged writer
	readOnly bool
}

func statFS(dir string) (fsInfo, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fsInfo{}, err
	}
	return fsInfo{free: int64(st.Bavail) * st.Bsize, readOnly: st.Flags&unix.ST_RDONLY != 0}, nil
}
