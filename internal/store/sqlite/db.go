// Package sqlite is the embedded backend: every store interface of the portal on SQLite through
// modernc.org/sqlite (pure Go, no cgo), so a new user needs nothing but the binary.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Durability chooses how hard a commit waits for the disk.
type Durability int

const (
	// Normal: WAL with synchronous=NORMAL. A commit survives a process crash; a power cut may lose
	// the last transactions. Used for reads, which clients re-send until acknowledged.
	Normal Durability = iota
	// Full: WAL with synchronous=FULL. A commit is on disk before it returns. Used for the audit
	// log, which must be durable before any data leaves the API.
	Full
)

// openDB opens a SQLite database file with the pragmas every store uses. maxConns bounds the pool;
// writers serialise on SQLite's write lock anyway, readers share the WAL. extra pragmas (in the
// driver's "name(value)" form) are applied after the common ones on every connection, for a store
// whose write pattern needs different settings.
func openDB(ctx context.Context, path string, d Durability, maxConns int, extra ...string) (*sql.DB, error) {
	sync := "NORMAL"
	if d == Full {
		sync = "FULL"
	}
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"synchronous(" + sync + ")",
		"busy_timeout(10000)",
		"foreign_keys(ON)",
		"temp_store(MEMORY)",
		"cache_size(-65536)", // 64 MiB page cache per connection (negative means KiB): the hot B-trees are
		// the current week's partition and the plates table; eight connections at 256 MiB each let RSS
		// grow with the data
		"mmap_size(1073741824)",
	} {
		q.Add("_pragma", p)
	}
	for _, p := range extra {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if maxConns <= 0 {
		maxConns = 4
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}
