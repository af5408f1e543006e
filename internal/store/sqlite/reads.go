package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/anpr-portal/anpr/internal/reads"
)

// Options configures the reads store.
type Options struct {
	// MaxConns bounds the connection pool. Appends serialise on SQLite's write lock whatever this
	// is; the other connections serve searches concurrently from the WAL. Default 8.
	MaxConns int
	// Durability of a commit; default Normal, because ingest clients re-send unacknowledged
	// batches and the deterministic id makes the retry harmless.
	Durability Durability
	// DeleteChunk is how many expired reads retention examines per transaction. Each chunk holds
	// the write lock, so it bounds how long ingest waits behind retention. Default 10,000.
	DeleteChunk int
	// Memory sizes each connection's page cache and memory map. Default ReadsDefaultMemory.
	Memory Memory
}

// Defaults for Options.
const (
	readsDefaultMaxConns    = 8
	readsDefaultDeleteChunk = 10000
)

// ReadsDefaultMemory is the reads store's page memory per connection unless configured: a 16 MiB
// page cache (the hot B-trees are the current week's partition indexes and the plates table),
// no memory map. With the default eight connections that is at most 128 MiB, whatever the size
// of the database; a memory map would add its size per connection to RSS as searches touch it.
var ReadsDefaultMemory = Memory{CacheBytes: 16 << 20}

// CheckAndSetDefaults fills unset fields and reports every invalid one.
func (o *Options) CheckAndSetDefaults() error {
	var problems []string
	switch {
	case o.MaxConns < 0:
		problems = append(problems, fmt.Sprintf("max conns %d is negative", o.MaxConns))
	case o.MaxConns == 0:
		o.MaxConns = readsDefaultMaxConns
	}
	switch {
	case o.DeleteChunk < 0:
		problems = append(problems, fmt.Sprintf("delete chunk %d is negative", o.DeleteChunk))
	case o.DeleteChunk == 0:
		o.DeleteChunk = readsDefaultDeleteChunk
	}
	switch {
	case o.Memory.CacheBytes < 0 || o.Memory.MmapBytes < 0:
		problems = append(problems, fmt.Sprintf("memory %+v is negative", o.Memory))
	case o.Memory.CacheBytes == 0:
		o.Memory.CacheBytes = ReadsDefaultMemory.CacheBytes
	}
	if o.Durability != Normal && o.Durability != Full {
		problems = append(problems, fmt.Sprintf("unknown durability %d", o.Durability))
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite reads options: %v: %w", problems, reads.ErrInvalid)
	}
	return nil
}

// readsPragmas tune the reads database for bulk appends. An append batch dirties a few thousand
// pages: the random-keyed indexes of the current week's partition (id, plate, camera) and the
// plates table. With the default 1000-page auto-checkpoint nearly every commit would trigger a
// checkpoint that copies all of them back; at 64 MiB a checkpoint runs every few batches and
// copies a page rewritten by several of them once. journal_size_limit truncates the WAL file back
// to that size after a checkpoint, so a burst does not leave a huge file behind.
func readsPragmas() []string {
	return []string{"wal_autocheckpoint(16384)", "journal_size_limit(67108864)"}
}

// Store is the SQLite implementation of reads.Store. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	opts  Options
	stmts *readsStmtCache // prepared search statements
	// candidateLimit overrides readsDefaultMaxCandidates; zero means the default. Tests lower it
	// to drive the time-ordered scan with a handful of plates.
	candidateLimit int
}

var _ reads.Store = (*Store)(nil)

// Open opens (creating if needed) the reads database at path and brings its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := opts.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	db, err := openDB(ctx, path, opts.Durability, opts.MaxConns, opts.Memory, readsPragmas()...)
	if err != nil {
		return nil, fmt.Errorf("open reads store: %w", err)
	}
	if err := migrate(ctx, db, path, readsSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open reads store %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts, stmts: newReadsStmtCache(db)}
	// Refresh planner statistics that are missing or stale (a database bulk-loaded by an older
	// process, for instance) before the first query. analysis_limit keeps this to milliseconds on
	// a large file; approximate statistics are all the planner needs.
	if err := s.optimize(ctx, "PRAGMA optimize=0x10002"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open reads store %s: %w", path, err)
	}
	return s, nil
}

// Optimize refreshes the query planner's statistics. Call it after a bulk load (seeding,
// a large import): without statistics SQLite guesses how selective a plate is, and the guesses
// matter for partial-plate searches.
func (s *Store) Optimize(ctx context.Context) error {
	return s.optimize(ctx, "PRAGMA optimize")
}

func (s *Store) optimize(ctx context.Context, pragma string) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("optimize reads store: %w", err)
	}
	defer conn.Close()
	for _, q := range []string{"PRAGMA analysis_limit=1000", pragma} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("optimize reads store: %s: %w", q, err)
		}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping reads store: %w: %w", reads.ErrUnavailable, err)
	}
	return nil
}

// Close refreshes planner statistics (cheap, and it keeps the next start's plans good) and closes
// the database.
func (s *Store) Close() error {
	_ = s.optimize(context.Background(), "PRAGMA optimize")
	s.stmts.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close reads store: %w", err)
	}
	return nil
}
