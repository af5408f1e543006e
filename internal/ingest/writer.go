package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/anpr-portal/anpr/internal/reads"
)

// ErrSaturated means the writer's queue is full: the client should retry later (HTTP 429).
var ErrSaturated = errors.New("ingest writer is saturated")

// ErrClosed means the writer is shutting down and takes no new batches.
var ErrClosed = errors.New("ingest writer is closed")

// Writer is the single path from parsed reads to the store. One goroutine appends batches in
// order, because the embedded backend has one write lock anyway and a queue in front of it gives
// a clear saturation signal. The queue is bounded: memory stays flat whatever clients send.
type Writer struct {
	store reads.Appender
	queue chan *Ticket
	done  chan struct{}

	mu     sync.RWMutex // guards closed against Submit racing Close
	closed bool
}

// Ticket is a batch handed to the writer; Wait returns once it is durable or has failed.
type Ticket struct {
	batch  []reads.Read
	result reads.AppendResult
	err    error
	done   chan struct{}
}

// Wait blocks until the batch is stored or failed, or ctx ends.
func (t *Ticket) Wait(ctx context.Context) (reads.AppendResult, error) {
	select {
	case <-t.done:
		return t.result, t.err
	case <-ctx.Done():
		return reads.AppendResult{}, ctx.Err()
	}
}

// NewWriter starts the writer goroutine. queueBatches bounds how many batches may wait.
func NewWriter(store reads.Appender, queueBatches int) *Writer {
	w := &Writer{store: store, queue: make(chan *Ticket, queueBatches), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *Writer) loop() {
	defer close(w.done)
	for t := range w.queue {
		// A batch already accepted into the queue is written even if its request has gone away:
		// the client may have been told nothing, but re-sending is idempotent, and dropping a
		// batch we took would break "nothing acknowledged is ever lost" for concurrent waiters.
		t.result, t.err = w.store.AppendReads(context.Background(), t.batch)
		if t.err != nil {
			t.err = fmt.Errorf("store batch of %d reads: %w", len(t.batch), t.err)
		}
		t.batch = nil
		close(t.done)
	}
}

// Saturated reports whether the queue is full, so a new upload can be refused before any of its
// body is read.
func (w *Writer) Saturated() bool { return len(w.queue) >= cap(w.queue) }

// QueueDepth is the number of batches waiting, for metrics.
func (w *Writer) QueueDepth() int { return len(w.queue) }

// Submit queues a batch, waiting for room until ctx ends. The batch slice is owned by the writer
// afterwards.
func (w *Writer) Submit(ctx context.Context, batch []reads.Read) (*Ticket, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return nil, ErrClosed
	}
	t := &Ticket{batch: batch, done: make(chan struct{})}
	select {
	case w.queue <- t:
		return t, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrSaturated, ctx.Err())
	}
}

// Close stops taking batches, writes every batch already queued, and returns when the last one is
// stored. Graceful shutdown calls it after the HTTP server has drained.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ingest writer did not drain: %w", ctx.Err())
	}
}

// Alive reports whether the writer still takes batches, for /readyz.
func (w *Writer) Alive() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return !w.closed
}
