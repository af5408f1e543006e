package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// SequencerStore is the storage a Sequencer writes through: everything a backend must provide so
// that one backend-neutral writer can assign seqs, grow the Merkle tree and sign checkpoints over
// it. Reads are the raw, unchecked view (VerifySource); the sequencer checks what it resumes from.
type SequencerStore interface {
	VerifySource
	Checkpointer
	// CheckpointNote returns the stored checkpoint note of exactly this tree size, or an error
	// wrapping ErrNotFound.
	CheckpointNote(ctx context.Context, size int64) ([]byte, error)
	// WriteBatch stores a sealed batch: every record with its payload and stored tree hashes, the
	// payload erasures an ActionErase record names, then the checkpoint. It must refuse, wrapping
	// ErrUnavailable and writing nothing, when the store does not hold exactly b.Base events
	// (someone else is writing the chain), and refuse an erasure of a seq that holds no payload
	// with ErrInvalid, also writing nothing. A backend with transactions stores all or nothing; one
	// without must store a prefix at most (events in seq order, the checkpoint last), because after
	// a failure the sequencer reloads what is stored and continues from there.
	WriteBatch(ctx context.Context, b Batch) error
}

// Resumer is implemented by a SequencerStore that has work to finish after an interrupted write
// (a backend without transactions completing an erasure whose signed event is already stored).
// The sequencer calls Resume before it loads its state: at open, and after any failed write.
type Resumer interface {
	Resume(ctx context.Context) error
}

// Batch is what one group commit writes.
type Batch struct {
	Base       int64          // events the store holds before the batch
	Records    []SealedRecord // seqs Base+1, Base+2, ... in order
	Checkpoint *Checkpoint    // signed over the tree including Records; nil when none is due
}

// SealedRecord is an event as the sequencer sealed it, with what the store keeps beside it.
type SealedRecord struct {
	Event   Event
	Payload *Payload    // nil when the event carries none
	Hashes  []tlog.Hash // the tlog stored hashes this leaf adds, from StoredHashIndex(0, Seq-1)
}

// SequencerOptions configures a Sequencer.
type SequencerOptions struct {
	// Chain names the log. Default "main".
	Chain string
	// Signer signs checkpoints (LoadSigner). Required.
	Signer note.Signer
	// Anchor receives every checkpoint outside the store. Required: backends supply a default.
	Anchor Anchor
	// CheckpointEvery and CheckpointInterval: a checkpoint is signed once this many events are
	// unsigned, or when the oldest unsigned event is this old. They bound how much of the tail a
	// truncation could remove unnoticed. Defaults 256 events and 5 seconds.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// MaxBatch bounds how many appends share one write (and one fsync). Default 512.
	MaxBatch int
	// WriteTimeout bounds one batch's write and one anchor publish. Default 10 seconds.
	WriteTimeout time.Duration
	// Clock gives event and checkpoint times. Default time.Now.
	Clock func() time.Time
	// Rand gives payload salts. Default crypto/rand.Reader.
	Rand io.Reader
	// Logger for anchor trouble and the like. Default discards.
	Logger *slog.Logger
}

// CheckAndSetDefaults fills unset fields and reports every invalid one.
func (o *SequencerOptions) CheckAndSetDefaults() error {
	var errs []error
	if o.Chain == "" {
		o.Chain = "main"
	}
	if !ValidChain(o.Chain) {
		errs = append(errs, fmt.Errorf("chain %q: use lower-case letters, digits, '.', '_' and '-'", o.Chain))
	}
	if o.Signer == nil {
		errs = append(errs, errors.New("a checkpoint signer is required"))
	}
	if o.Anchor == nil {
		errs = append(errs, errors.New("an anchor is required"))
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"checkpoint every", &o.CheckpointEvery, 256}, {"max batch", &o.MaxBatch, 512}} {
		switch {
		case *f.v < 0:
			errs = append(errs, fmt.Errorf("%s %d is negative", f.name, *f.v))
		case *f.v == 0:
			*f.v = f.def
		}
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
		return fmt.Errorf("%w: audit options: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// Sequencer is the one writer of a chain, whatever the backend: one goroutine owns seq assignment
// and the Merkle tree; appends from any number of goroutines queue to it, and every append it
// finds waiting goes into one WriteBatch (group commit), so concurrent appends share one durable
// write. Each Append returns after that write and, when it completed a checkpoint, after the
// anchor accepted it. Any failure fails every caller in the batch (fail closed).
type Sequencer struct {
	store SequencerStore
	opts  SequencerOptions

	reqs      chan *seqReq // unbuffered: a request is either taken by the sequencer or not sent
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	// Owned by the sequencer goroutine after NewSequencer.
	tree       *Frontier
	lastTime   time.Time
	ckptSize   int64
	ckptTime   time.Time
	oldest     time.Time // time of the oldest unsigned event
	unanchored []byte    // a stored checkpoint the anchor has not yet accepted
	held       *seqReq   // an erasure or checkpoint taken while draining, run as the next batch
	failed     *Batch    // the last batch whose write failed: reload before writing again
	closeErr   error     // the final checkpoint's failure, for Close
}

type seqReqKind int

const (
	seqAppend seqReqKind = iota
	seqErase
	seqCheckpoint
)

type seqReq struct {
	kind  seqReqKind
	event Event
	pl    Payload
	reply chan seqResult // buffered 1: the sequencer never blocks on a caller
}

type seqResult struct {
	event Event
	err   error
}

// NewSequencer loads the chain's state from store and starts its goroutine. It refuses to write
// to a store that is behind its anchor (restored from an old backup, or cut) or whose stored tree
// disagrees with its own latest checkpoint: extending either would fork the log (run `anpr audit
// verify` to see why). The anchor must be readable at open, and a checkpoint stored but not
// anchored before a crash is anchored before the first new append is acknowledged.
func NewSequencer(ctx context.Context, store SequencerStore, opts SequencerOptions) (*Sequencer, error) {
	if err := opts.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	s := &Sequencer{store: store, opts: opts, reqs: make(chan *seqReq), quit: make(chan struct{}), done: make(chan struct{})}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	go s.run()
	return s, nil
}

// load (re)reads the tree, the last event time and the checkpoint state from the store.
func (s *Sequencer) load(ctx context.Context) error {
	if r, ok := s.store.(Resumer); ok {
		if err := r.Resume(ctx); err != nil {
			return fmt.Errorf("open audit log: resume: %w", err)
		}
	}
	chain, err := s.store.Chain(ctx)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	if chain != s.opts.Chain {
		return fmt.Errorf("open audit log: the store holds chain %q, not %q", chain, s.opts.Chain)
	}
	size, err := s.store.Size(ctx)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	idx := FrontierIndexes(size)
	var subtrees []tlog.Hash
	if len(idx) > 0 {
		if subtrees, err = StoredHashReader(ctx, s.store).ReadHashes(idx); err != nil {
			return fmt.Errorf("open audit log: %w", unavailable("read stored tree", err))
		}
	}
	tree, ok := NewFrontier(size, subtrees)
	if !ok {
		return fmt.Errorf("open audit log: %w: stored tree is incomplete", ErrUnavailable)
	}
	var last time.Time
	if size > 0 {
		err := s.store.Scan(ctx, size, size, func(r Record) error { last = r.Event.Time; return nil })
		if err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
	}
	s.tree, s.lastTime, s.ckptSize, s.ckptTime, s.oldest, s.unanchored = tree, last, 0, time.Time{}, time.Time{}, nil
	return s.checkResume(ctx, size)
}

// checkResume compares the store with its latest checkpoint and the anchor before writing.
func (s *Sequencer) checkResume(ctx context.Context, size int64) error {
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("open audit log: %w: %s; run anpr audit verify", ErrUnavailable, fmt.Sprintf(format, a...))
	}
	latest, err := s.store.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		root, err := tlog.TreeHash(latest.Size, StoredHashReader(ctx, s.store))
		if latest.Size > size || err != nil || root != latest.Root || latest.Origin != Origin(s.opts.Chain) {
			return refuse("the stored tree does not match its latest checkpoint (size %d)", latest.Size)
		}
		s.ckptSize, s.ckptTime = latest.Size, latest.Time
	}
	anchored, err := s.opts.Anchor.Latest(ctx)
	if err != nil {
		return fmt.Errorf("open audit log: %w: %w", ErrUnavailable, err)
	}
	if anchored != nil {
		a, err := ParseCheckpointUnverified(anchored)
		if err != nil {
			return refuse("the anchor's latest checkpoint does not parse: %v", err)
		}
		if a.Size > s.ckptSize || a.Origin != Origin(s.opts.Chain) {
			return refuse("the anchor holds a checkpoint of size %d for %s but the store's latest is %d", a.Size, a.Origin, s.ckptSize)
		}
		stored, err := s.store.CheckpointNote(ctx, a.Size)
		if err != nil || !slices.Equal(stored, anchored) {
			return refuse("the store lacks the anchored checkpoint of size %d", a.Size)
		}
	}
	if latest.Size > 0 && (anchored == nil || !slices.Equal(anchored, latest.Note)) {
		// Stored but not anchored: the process stopped between the two. Anchor it before any new
		// event is acknowledged.
		s.unanchored = latest.Note
	}
	if size > s.ckptSize {
		s.oldest = s.opts.Clock()
	}
	return nil
}

// Append records one event durably; see Appender.
func (s *Sequencer) Append(ctx context.Context, e Event, p Payload) (Event, error) {
	if err := Validate(e, p); err != nil {
		return Event{}, err
	}
	if e.Action == ActionErase {
		return Event{}, fmt.Errorf("%w: erasures go through Erase", ErrInvalid)
	}
	return s.submit(ctx, &seqReq{kind: seqAppend, event: e, pl: p})
}

// Erase lawfully erases the payloads of the given events (a data subject's erasure, or audit
// retention): it appends an ActionErase event naming them (actor, reason and decision as e gives
// them) and the store removes the payloads with it. The events stay in the tree; verification
// reports them as redacted. Every seq must exist and still hold a payload.
func (s *Sequencer) Erase(ctx context.Context, e Event, seqs []int64) (Event, error) {
	e.Action, e.Stage, e.IntentSeq = ActionErase, StageEvent, 0
	e.Erases = slices.Compact(slices.Sorted(slices.Values(seqs)))
	if err := Validate(e, Payload{}); err != nil {
		return Event{}, err
	}
	return s.submit(ctx, &seqReq{kind: seqErase, event: e})
}

// Checkpoint signs and anchors a checkpoint now if any event is unsigned, and returns the latest
// checkpoint. Close does the same.
func (s *Sequencer) Checkpoint(ctx context.Context) (Checkpoint, error) {
	if _, err := s.submit(ctx, &seqReq{kind: seqCheckpoint}); err != nil {
		return Checkpoint{}, err
	}
	return s.store.LatestCheckpoint(ctx)
}

func (s *Sequencer) submit(ctx context.Context, r *seqReq) (Event, error) {
	r.reply = make(chan seqResult, 1)
	select {
	case s.reqs <- r:
	case <-s.quit:
		return Event{}, fmt.Errorf("append audit event: %w: log closed", ErrUnavailable)
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append audit event: %w: %w", ErrUnavailable, ctx.Err())
	}
	select {
	case res := <-r.reply:
		return res.event, res.err
	case <-ctx.Done():
		// The event may still be written; the caller treats it as failed and releases nothing.
		return Event{}, fmt.Errorf("append audit event: %w: %w", ErrUnavailable, ctx.Err())
	}
}

// Close stops the sequencer after signing and anchoring a final checkpoint. Appends after Close
// fail with ErrUnavailable. The error reports a final checkpoint that could not be written or
// anchored (the next open anchors it). The store stays open: it belongs to the caller.
func (s *Sequencer) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.done
	})
	return s.closeErr
}
