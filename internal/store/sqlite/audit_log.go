package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// AuditOptions configures the audit log writer.
type AuditOptions struct {
	// Chain names the log; one database file holds one chain. Default "main".
	Chain string
	// Signer signs checkpoints (audit.LoadSigner). Required.
	Signer note.Signer
	// Anchor receives every checkpoint outside the database. Default: an audit.FileAnchor at the
	// database path + ".anchor". Put it somewhere the database's writer cannot rewrite.
	Anchor audit.Anchor
	// CheckpointEvery and CheckpointInterval: a checkpoint is signed once this many events are
	// unsigned, or when the oldest unsigned event is this old. They bound how much of the tail a
	// truncation could remove unnoticed. Defaults 256 events and 5 seconds.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// MaxBatch bounds how many appends share one transaction (and one fsync). Default 512.
	MaxBatch int
	// WriteTimeout bounds one batch's transaction. Default 10 seconds.
	WriteTimeout time.Duration
	// MaxConns bounds the connection pool (one writer, the rest readers). Default 8.
	MaxConns int
	// Clock gives event and checkpoint times. Default time.Now.
	Clock func() time.Time
	// Rand gives payload salts. Default crypto/rand.Reader.
	Rand io.Reader
	// Logger for anchor trouble and the like. Default discards.
	Logger *slog.Logger
}

// CheckAndSetDefaults fills unset fields and reports every invalid one.
func (o *AuditOptions) CheckAndSetDefaults(path string) error {
	var errs []error
	if o.Chain == "" {
		o.Chain = "main"
	}
	if !audit.ValidChain(o.Chain) {
		errs = append(errs, fmt.Errorf("chain %q: use lower-case letters, digits, '.', '_' and '-'", o.Chain))
	}
	if o.Signer == nil {
		errs = append(errs, errors.New("a checkpoint signer is required"))
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"checkpoint every", &o.CheckpointEvery, 256}, {"max batch", &o.MaxBatch, 512}, {"max conns", &o.MaxConns, 8}} {
		switch {
		case *f.v < 0:
			errs = append(errs, fmt.Errorf("%s %d is negative", f.name, *f.v))
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if o.MaxConns < 2 {
		errs = append(errs, errors.New("max conns must be at least 2: the writer holds one"))
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"checkpoint interval", &o.CheckpointInterval, 5 * time.Second}, {"write timeout", &o.WriteTimeout, 10 * time.Second}} {
		switch {
		case *f.v < 0:
			errs = append(errs, fmt.Errorf("%s %v is negative", f.name, *f.v))
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if o.Anchor == nil {
		o.Anchor = audit.NewFileAnchor(path + ".anchor")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: audit options: %w", audit.ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// AuditLog is the SQLite audit log: audit.Log plus the raw view verification needs. One
// goroutine, the sequencer, owns seq assignment and the Merkle tree; appends from any number of
// goroutines queue to it, and every append it finds waiting goes into one transaction (group
// commit), so concurrent appends share one fsync. Each Append returns after that commit.
type AuditLog struct {
	lock *os.File // the writer lock (auditLockWriter), released on Close
	*AuditReader
	opts  AuditOptions
	stmts auditStmts

	reqs      chan *auditReq // unbuffered: a request is either taken by the sequencer or not sent
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	// Owned by the sequencer goroutine after Open.
	tree       *audit.Frontier
	lastTime   time.Time
	ckptSize   int64
	ckptTime   time.Time
	oldest     time.Time // time of the oldest unsigned event
	unanchored []byte    // a committed checkpoint the anchor has not yet accepted
	held       *auditReq // an erasure taken while draining, run as the next batch
	closeErr   error     // the final checkpoint's failure, for Close
}

var _ audit.Log = (*AuditLog)(nil)

type auditReqKind int

const (
	auditReqAppend auditReqKind = iota
	auditReqErase
	auditReqCheckpoint
)

type auditReq struct {
	kind  auditReqKind
	event audit.Event
	pl    audit.Payload
	reply chan auditResult // buffered 1: the sequencer never blocks on a caller
}

type auditResult struct {
	event audit.Event
	err   error
}

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
	db, err := openDB(ctx, path, Full, opts.MaxConns)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l, err := auditOpen(ctx, db, opts)
	if err != nil {
		db.Close()
		lock.Close()
		return nil, err
	}
	l.lock = lock
	go l.run()
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

func auditOpen(ctx context.Context, db *sql.DB, opts AuditOptions) (*AuditLog, error) {
	if err := auditMigrate(ctx, db, opts.Chain); err != nil {
		return nil, err
	}
	r, err := auditNewReader(ctx, db)
	if err != nil {
		return nil, err
	}
	l := &AuditLog{AuditReader: r, opts: opts, reqs: make(chan *auditReq), quit: make(chan struct{}), done: make(chan struct{})}
	size, err := r.Size(ctx)
	if err != nil {
		return nil, err
	}
	idx := audit.FrontierIndexes(size)
	var subtrees []tlog.Hash
	if len(idx) > 0 {
		if subtrees, err = audit.StoredHashReader(ctx, r).ReadHashes(idx); err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
	}
	tree, ok := audit.NewFrontier(size, subtrees)
	if !ok {
		return nil, fmt.Errorf("open audit log: %w: stored tree is incomplete", audit.ErrUnavailable)
	}
	l.tree = tree
	var lastUS sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(time_us) FROM audit_events`).Scan(&lastUS); err != nil {
		return nil, auditUnavailable("open audit log", err)
	}
	if lastUS.Valid {
		l.lastTime = time.UnixMicro(lastUS.Int64).UTC()
	}
	if err := l.checkResume(ctx, size); err != nil {
		return nil, err
	}
	if l.stmts, err = auditPrepare(ctx, db); err != nil {
		return nil, err
	}
	return l, nil
}

// checkResume compares the store with its latest checkpoint and the anchor before writing.
func (l *AuditLog) checkResume(ctx context.Context, size int64) error {
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("open audit log: %w: %s; run anpr audit verify", audit.ErrUnavailable, fmt.Sprintf(format, a...))
	}
	latest, err := l.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, audit.ErrNotFound):
	case err != nil:
		return err
	default:
		root, err := tlog.TreeHash(latest.Size, audit.StoredHashReader(ctx, l.AuditReader))
		if latest.Size > size || err != nil || root != latest.Root || latest.Origin != audit.Origin(l.chain) {
			return refuse("the stored tree does not match its latest checkpoint (size %d)", latest.Size)
		}
		l.ckptSize, l.ckptTime = latest.Size, latest.Time
	}
	anchored, err := l.opts.Anchor.Latest(ctx)
	if err != nil {
		return fmt.Errorf("open audit log: %w: %w", audit.ErrUnavailable, err)
	}
	if anchored != nil {
		a, err := audit.ParseCheckpointUnverified(anchored)
		if err != nil {
			return refuse("the anchor's latest checkpoint does not parse: %v", err)
		}
		if a.Size > l.ckptSize || a.Origin != audit.Origin(l.chain) {
			return refuse("the anchor holds a checkpoint of size %d for %s but the store's latest is %d", a.Size, a.Origin, l.ckptSize)
		}
		var stored string
		err = l.db.QueryRowContext(ctx, `SELECT note FROM audit_checkpoints WHERE size = ?`, a.Size).Scan(&stored)
		if err != nil || stored != string(anchored) {
			return refuse("the store lacks the anchored checkpoint of size %d", a.Size)
		}
	}
	if latest.Size > 0 && (anchored == nil || !slices.Equal(anchored, latest.Note)) {
		// Committed but not anchored: the process stopped between the two. Anchor it before any
		// new event is acknowledged.
		l.unanchored = latest.Note
	}
	if size > l.ckptSize {
		l.oldest = l.opts.Clock()
	}
	return nil
}

// Append records one event durably; see audit.Appender.
func (l *AuditLog) Append(ctx context.Context, e audit.Event, p audit.Payload) (audit.Event, error) {
	if err := audit.Validate(e, p); err != nil {
		return audit.Event{}, err
	}
	if e.Action == audit.ActionErase {
		return audit.Event{}, fmt.Errorf("%w: erasures go through Erase", audit.ErrInvalid)
	}
	return l.submit(ctx, &auditReq{kind: auditReqAppend, event: e, pl: p})
}

// Erase lawfully erases the payloads of the given events (a data subject's erasure, or audit
// retention): it appends an audit.ActionErase event naming them (actor, reason and decision as
// e gives them) and deletes the payloads in the same transaction. The events stay in the tree;
// verification reports them as redacted. Every seq must exist and still hold a payload.
func (l *AuditLog) Erase(ctx context.Context, e audit.Event, seqs []int64) (audit.Event, error) {
	e.Action, e.Stage, e.IntentSeq = audit.ActionErase, audit.StageEvent, 0
	e.Erases = slices.Compact(slices.Sorted(slices.Values(seqs)))
	if err := audit.Validate(e, audit.Payload{}); err != nil {
		return audit.Event{}, err
	}
	return l.submit(ctx, &auditReq{kind: auditReqErase, event: e})
}

// Checkpoint signs and anchors a checkpoint now if any event is unsigned, and returns the
// latest checkpoint. Shutdown does the same.
func (l *AuditLog) Checkpoint(ctx context.Context) (audit.Checkpoint, error) {
	if _, err := l.submit(ctx, &auditReq{kind: auditReqCheckpoint}); err != nil {
		return audit.Checkpoint{}, err
	}
	return l.LatestCheckpoint(ctx)
}

func (l *AuditLog) submit(ctx context.Context, r *auditReq) (audit.Event, error) {
	r.reply = make(chan auditResult, 1)
	select {
	case l.reqs <- r:
	case <-l.quit:
		return audit.Event{}, fmt.Errorf("append audit event: %w: log closed", audit.ErrUnavailable)
	case <-ctx.Done():
		return audit.Event{}, fmt.Errorf("append audit event: %w: %w", audit.ErrUnavailable, ctx.Err())
	}
	select {
	case res := <-r.reply:
		return res.event, res.err
	case <-ctx.Done():
		// The event may still commit; the caller treats it as failed and releases nothing.
		return audit.Event{}, fmt.Errorf("append audit event: %w: %w", audit.ErrUnavailable, ctx.Err())
	}
}

// Close stops the sequencer after signing and anchoring a final checkpoint, then closes the
// database. Appends after Close fail with audit.ErrUnavailable. The error reports a final
// checkpoint that could not be written or anchored (the next open anchors it).
func (l *AuditLog) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.quit)
		<-l.done
		err = errors.Join(l.closeErr, l.db.Close())
		if l.lock != nil {
			err = errors.Join(err, l.lock.Close())
		}
	})
	return err
}
