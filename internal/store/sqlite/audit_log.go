package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
)

// AuditOptions configures the audit log writer. All but MaxConns are the sequencer's
// (audit.SequencerOptions), documented there; the defaults are the same.
type AuditOptions struct {
	// Chain names the log; one database file holds one chain. Default "main".
	Chain string
	// Signer signs checkpoints (audit.LoadSigner). Required.
	Signer note.Signer
	// Anchor receives every checkpoint outside the database. Default: an audit.FileAnchor at the
	// database path + ".anchor". Put it somewhere the database's writer cannot rewrite.
	Anchor             audit.Anchor
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// MaxBatch bounds how many appends share one transaction (and one fsync). Default 512.
	MaxBatch     int
	WriteTimeout time.Duration
	// MaxConns bounds the connection pool (one writer, the rest readers). Default 8.
	MaxConns int
	Clock    func() time.Time
	Rand     io.Reader
	Logger   *slog.Logger
}

func (o AuditOptions) sequencer() audit.SequencerOptions {
	return audit.SequencerOptions{Chain: o.Chain, Signer: o.Signer, Anchor: o.Anchor,
		CheckpointEvery: o.CheckpointEvery, CheckpointInterval: o.CheckpointInterval, MaxBatch: o.MaxBatch,
		WriteTimeout: o.WriteTimeout, Clock: o.Clock, Rand: o.Rand, Logger: o.Logger}
}

// CheckAndSetDefaults fills unset fields and reports every invalid one.
func (o *AuditOptions) CheckAndSetDefaults(path string) error {
	var errs []error
	if o.Anchor == nil {
		o.Anchor = audit.NewFileAnchor(path + ".anchor")
	}
	so := o.sequencer()
	if err := so.CheckAndSetDefaults(); err != nil {
		errs = append(errs, err)
	}
	*o = AuditOptions{Chain: so.Chain, Signer: so.Signer, Anchor: so.Anchor, CheckpointEvery: so.CheckpointEvery,
		CheckpointInterval: so.CheckpointInterval, MaxBatch: so.MaxBatch, WriteTimeout: so.WriteTimeout,
		MaxConns: o.MaxConns, Clock: so.Clock, Rand: so.Rand, Logger: so.Logger}
	switch {
	case o.MaxConns < 0:
		errs = append(errs, fmt.Errorf("max conns %d is negative", o.MaxConns))
	case o.MaxConns == 0:
		o.MaxConns = 8
	}
	if o.MaxConns < 2 {
		errs = append(errs, errors.New("max conns must be at least 2: the writer holds one"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: audit options: %w", audit.ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// AuditLog is the SQLite audit log: audit.Log plus the raw view verification needs. Its writer is
// the backend-neutral audit.Sequencer (group commit, checkpoints, anchoring, fail closed); this
// backend provides the storage, one transaction per batch, so concurrent appends share one fsync.
type AuditLog struct {
	lock *os.File // the writer lock (auditLockWriter), released on Close
	*AuditReader
	seq       *audit.Sequencer
	closeOnce sync.Once
	closeErr  error
}

var (
	_ audit.Log            = (*AuditLog)(nil)
	_ audit.SequencerStore = (*auditStore)(nil)
)

// OpenAuditLog opens (creating if needed) the audit database at path and starts its sequencer.
// It refuses to write to a store that is behind its anchor (restored from an old backup, or cut)
// or whose stored tree disagrees with its own latest checkpoint: extending either would fork the
// log (run `anpr audit verify` to see why). The anchor must be readable at open, and a
// checkpoint committed but not anchored before a crash is anchored before the first new append
// is acknowledged.
func OpenAuditLog(ctx context.Context, path string, opts AuditOptions) (*AuditLog, error) {
	if err := opts.CheckAndSetDefaults(path); err != nil {
		return nil, err
	}
	// One sequencer per chain, across processes too: a second writer (say, a CLI command while
	// the server runs) would interleave sequence numbers. The lock makes it refuse at open,
	// instead of the running writer failing closed at its next append.
	lock, err := auditLockWriter(path)
	if err != nil {
		return nil, err
	}
	db, err := openDB(ctx, path, Full, opts.MaxConns, auditMemory)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l, err := auditOpen(ctx, db, path, opts)
	if err != nil {
		db.Close()
		lock.Close()
		return nil, err
	}
	l.lock = lock
	return l, nil
}

// auditLockWriter takes an exclusive advisory lock on path+".writer.lock"; the kernel releases
// it when the process ends, so a crash never leaves the log locked.
func auditLockWriter(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".writer.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log: %w: another process is writing %s (stop the server first, or use the API)", audit.ErrUnavailable, path)
	}
	return f, nil
}

func auditOpen(ctx context.Context, db *sql.DB, path string, opts AuditOptions) (*AuditLog, error) {
	if err := auditMigrate(ctx, db, path, opts.Chain); err != nil {
		return nil, err
	}
	r, err := auditNewReader(ctx, db)
	if err != nil {
		return nil, err
	}
	stmts, err := auditPrepare(ctx, db)
	if err != nil {
		return nil, err
	}
	seq, err := audit.NewSequencer(ctx, &auditStore{AuditReader: r, stmts: stmts}, opts.sequencer())
	if err != nil {
		return nil, err
	}
	return &AuditLog{AuditReader: r, seq: seq}, nil
}

// Append records one event durably; see audit.Appender.
func (l *AuditLog) Append(ctx context.Context, e audit.Event, p audit.Payload) (audit.Event, error) {
	return l.seq.Append(ctx, e, p)
}

// Erase lawfully erases the payloads of the given events; see audit.Sequencer.Erase. The erasure
// event and the payload deletes share one transaction.
func (l *AuditLog) Erase(ctx context.Context, e audit.Event, seqs []int64) (audit.Event, error) {
	return l.seq.Erase(ctx, e, seqs)
}

// Checkpoint signs and anchors a checkpoint now if any event is unsigned, and returns the
// latest checkpoint. Shutdown does the same.
func (l *AuditLog) Checkpoint(ctx context.Context) (audit.Checkpoint, error) {
	return l.seq.Checkpoint(ctx)
}

// Close stops the sequencer after signing and anchoring a final checkpoint, then closes the
// database. Appends after Close fail with audit.ErrUnavailable. The error reports a final
// checkpoint that could not be written or anchored (the next open anchors it).
func (l *AuditLog) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = errors.Join(l.seq.Close(), l.db.Close())
		if l.lock != nil {
			l.closeErr = errors.Join(l.closeErr, l.lock.Close())
		}
	})
	return l.closeErr
}
