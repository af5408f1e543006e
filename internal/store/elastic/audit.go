package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"

	"github.com/anpr-portal/anpr/internal/audit"
)

// AuditOptions configures the Elasticsearch audit log writer: the sequencer's options (Anchor is
// required here: there is no file beside a database to default to) and the writer lease.
type AuditOptions struct {
	audit.SequencerOptions
	// LeaseTTL is how long the writer lease lasts without renewal; it is renewed every third of
	// it. A writer that crashed blocks a new one for at most this long. Default 30 seconds.
	LeaseTTL time.Duration
}

// AuditLog is the Elasticsearch audit log: audit.Log plus the raw view verification needs. Its
// writer is the backend-neutral audit.Sequencer; this type provides the storage. Writes are
// durable when acknowledged (the index translog is fsynced per request, the default durability).
// Event writes do not wait for a refresh, except a batch that carries a checkpoint, which waits
// until its events are searchable before the checkpoint is stored: a searchable checkpoint never
// covers events a search cannot see yet. Reads by seq use real-time gets; filtered searches
// (Read) may lag the newest events by one refresh interval, unless Config.Refresh is "true".
type AuditLog struct {
	*AuditReader
	seq       *audit.Sequencer
	lease     *auditLease
	closeOnce sync.Once
	closeErr  error
}

var (
	_ audit.Log            = (*AuditLog)(nil)
	_ audit.SequencerStore = (*auditStore)(nil)
	_ audit.Resumer        = (*auditStore)(nil)
)

// AuditReader reads an Elasticsearch audit log of one chain: the auditor's queries and the raw
// view verification needs (audit.VerifySource). It never writes, so `anpr audit verify` can run
// with read-only credentials and no signing key.
type AuditReader struct {
	es    *elasticsearch.TypedClient
	cfg   Config
	ix    auditIndices
	chain string
}

var (
	_ audit.VerifySource = (*AuditReader)(nil)
	_ audit.Reader       = (*AuditReader)(nil)
	_ audit.Checkpointer = (*AuditReader)(nil)
)

// OpenAuditLog creates the audit indices if they are missing, takes the chain's writer lease (a
// second writer is refused while another holds it) and starts the sequencer, which resumes from
// what is stored and refuses a store behind its anchor. cfg is the same Config as Open's; its
// Prefix names the indices (<Prefix>audit-events, ...).
func OpenAuditLog(ctx context.Context, cfg Config, opts AuditOptions) (*AuditLog, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if opts.LeaseTTL < 0 {
		return nil, fmt.Errorf("open audit log: %w: lease ttl %v is negative", audit.ErrInvalid, opts.LeaseTTL)
	}
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = cfg.Logger
	}
	if err := opts.SequencerOptions.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	r, err := newAuditReader(cfg, opts.Chain)
	if err != nil {
		return nil, err
	}
	if err := r.createIndices(ctx); err != nil {
		return nil, err
	}
	lease, err := acquireLease(ctx, r, opts.LeaseTTL)
	if err != nil {
		return nil, err
	}
	st := &auditStore{AuditReader: r, lease: lease, log: opts.Logger}
	seq, err := audit.NewSequencer(ctx, st, opts.SequencerOptions)
	if err != nil {
		lease.release()
		return nil, err
	}
	return &AuditLog{AuditReader: r, seq: seq, lease: lease}, nil
}

// OpenAuditReader opens the chain's audit log for reading. The indices must exist.
func OpenAuditReader(ctx context.Context, cfg Config, chain string) (*AuditReader, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if chain == "" {
		chain = "main"
	}
	r, err := newAuditReader(cfg, chain)
	if err != nil {
		return nil, err
	}
	ok, err := r.es.Indices.Exists(r.ix.events).Do(ctx)
	if err != nil {
		return nil, auditUnavailable("open audit log", err)
	}
	if !ok {
		return nil, fmt.Errorf("open audit log: %w: no audit index %s on this cluster", audit.ErrInvalid, r.ix.events)
	}
	return r, nil
}

func newAuditReader(cfg Config, chain string) (*AuditReader, error) {
	if !audit.ValidChain(chain) {
		return nil, fmt.Errorf("open audit log: %w: chain id %q", audit.ErrInvalid, chain)
	}
	es, err := elasticsearch.NewTypedClient(elasticsearch.Config{
		Addresses: cfg.Addresses,
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		Transport: cfg.Transport,
		// Only whole requests refused before they ran: bulk items are resent by the writer, which
		// alone can tell its own earlier create from someone else's.
		RetryOnStatus: []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		MaxRetries:    cfg.MaxRetries,
		RetryBackoff:  func(attempt int) time.Duration { return backoff(cfg, attempt) },
	})
	if err != nil {
		return nil, fmt.Errorf("open audit log: client: %w", err)
	}
	return &AuditReader{es: es, cfg: cfg, ix: newAuditIndices(cfg.Prefix), chain: chain}, nil
}

// createIndices creates the audit indices that are missing. It is idempotent.
func (r *AuditReader) createIndices(ctx context.Context) error {
	for _, idx := range r.ix.all() {
		_, err := r.es.Indices.Create(idx).Raw(strings.NewReader(r.ix.body(idx))).Do(ctx)
		if err != nil && !isType(err, "resource_already_exists_exception") {
			return auditUnavailable("create audit index "+idx, err)
		}
	}
	return nil
}

// Close releases nothing: the client holds only pooled connections.
func (r *AuditReader) Close() error { return nil }

// Chain is the chain this reader was opened for.
func (r *AuditReader) Chain(context.Context) (string, error) { return r.chain, nil }

// Append records one event durably; see audit.Appender.
func (l *AuditLog) Append(ctx context.Context, e audit.Event, p audit.Payload) (audit.Event, error) {
	return l.seq.Append(ctx, e, p)
}

// Erase lawfully erases the payloads of the given events; see audit.Sequencer.Erase. The erasure
// event is stored first; the payload deletes and erasure records follow, and an erasure cut off
// between the two is completed when the writer resumes.
func (l *AuditLog) Erase(ctx context.Context, e audit.Event, seqs []int64) (audit.Event, error) {
	return l.seq.Erase(ctx, e, seqs)
}

// Checkpoint signs and anchors a checkpoint now if any event is unsigned, and returns the latest.
func (l *AuditLog) Checkpoint(ctx context.Context) (audit.Checkpoint, error) {
	return l.seq.Checkpoint(ctx)
}

// Ping is for readiness: the cluster answers and this process still holds the writer lease.
func (l *AuditLog) Ping(ctx context.Context) error {
	if _, err := l.es.Cluster.Health().Do(ctx); err != nil {
		return auditUnavailable("audit log ping", err)
	}
	return l.lease.check(ctx)
}

// Close stops the sequencer after a final checkpoint and gives up the writer lease, so the next
// writer need not wait for it to expire.
func (l *AuditLog) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = errors.Join(l.seq.Close(), l.lease.release())
	})
	return l.closeErr
}

// auditRefresh is what a write waits for: "true" when the config forces refreshes (tests),
// else wait_for where a later read depends on it and nothing where none does.
func (r *AuditReader) auditRefresh(needed bool) refresh.Refresh {
	switch {
	case r.cfg.Refresh == "true":
		return refresh.True
	case needed:
		return refresh.Waitfor
	}
	return refresh.False
}

// auditUnavailable marks a failure of the cluster as audit.ErrUnavailable (503, fail closed).
func auditUnavailable(what string, err error) error {
	if errors.Is(err, audit.ErrUnavailable) || errors.Is(err, audit.ErrInvalid) || errors.Is(err, audit.ErrNotFound) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, audit.ErrUnavailable, err)
}
