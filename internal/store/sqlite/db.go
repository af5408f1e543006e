// Package sqlite is the embedded backend: every store interface of the portal on SQLite through
// modernc.org/sqlite (pure Go, no cgo), so a new user needs nothing but the binary.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

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

// Memory bounds the memory a database's connections use for pages. Each connection keeps a page
// cache of its own and, with MmapBytes, maps that much of the file, so a database with n
// connections may use up to n × (CacheBytes + MmapBytes). Mapped pages are shared with the
// kernel's page cache but count in the process's RSS once per connection that touched them.
type Memory struct {
	CacheBytes int64 // page cache per connection; 0 takes the store's default
	MmapBytes  int64 // memory-mapped I/O per connection; 0 is off (reads go through the cache)
}

// Page memory per connection of the stores other than reads: small databases, or (audit) one
// written at the tail and read in pages, where a big cache buys nothing.
var (
	smallStoreMemory = Memory{CacheBytes: 2 << 20}
	auditMemory      = Memory{CacheBytes: 4 << 20}
)

// openDB opens a SQLite database file with the pragmas every store uses. maxConns bounds the pool;
// writers serialise on SQLite's write lock anyway, readers share the WAL. mem sizes each
// connection's page cache and memory map. extra pragmas (in the driver's "name(value)" form) are
// applied after the common ones on every connection, for a store whose write pattern needs
// different settings.
func openDB(ctx context.Context, path string, d Durability, maxConns int, mem Memory, extra ...string) (*sql.DB, error) {
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
		fmt.Sprintf("cache_size(%d)", -max(1, mem.CacheBytes>>10)), // negative: KiB, not pages
		fmt.Sprintf("mmap_size(%d)", max(0, mem.MmapBytes)),
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

// openStore opens a small store's database with synchronous=FULL (every such store keeps state
// whose loss in a power cut would bring a revoked credential or authority back, or let retention
// delete held data) and brings its schema up to date. Stores may share one file: each prefixes
// its tables and keeps its own version table.
func openStore(ctx context.Context, path string, maxConns int, s schema) (storeDB, error) {
	db, err := openDB(ctx, path, Full, maxConns, smallStoreMemory)
	if err != nil {
		return storeDB{}, fmt.Errorf("open %s store: %w", s.name, err)
	}
	if err := migrate(ctx, db, path, s); err != nil {
		db.Close()
		return storeDB{}, fmt.Errorf("open %s store %s: %w", s.name, path, err)
	}
	return storeDB{db: db, name: s.name}, nil
}

// storeDB is one store's database, embedded in the store so that every store closes alike.
type storeDB struct {
	db   *sql.DB
	name string
}

// Close closes the database.
func (s storeDB) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s store: %w", s.name, err)
	}
	return nil
}

// Times in the small stores' tables are Unix microseconds (or milliseconds where the table says
// so), with 0 for the zero time, so that "not set" needs no NULL.

func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUnixMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// rowsAffected is how many rows an update changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queryList runs a listing query and scans every row with scan. The result is never nil (an empty
// list is [] in JSON, not null). A failed query or cursor wraps unavailable, the store's kind for
// "the database did not answer"; a row that does not scan is returned as it is. what names the
// listing in errors ("list holds").
func queryList[T any](ctx context.Context, db *sql.DB, what string, unavailable error, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, unavailable, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, unavailable, err)
	}
	return out, nil
}
