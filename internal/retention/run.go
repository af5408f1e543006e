// Package retention deletes reads past the configured retention period, except those under an
// active preservation hold: one run (the CLI, the API, or the job inside serve) is an audited
// operation with counts, and its report is kept for listing.
package retention

import (
	"context"
	"time"
)

// Run is the report of one retention run.
type Run struct {
	ID     string    `json:"id"`
	Cutoff time.Time `json:"cutoff"` // reads seen before this were due for deletion
	// Deleted is how many reads the run deleted; HeldKept how many reads older than the cutoff
	// remain after it because a hold keeps them.
	Deleted    int64     `json:"deleted"`
	HeldKept   int64     `json:"held_kept"`
	Holds      int       `json:"holds"`   // active holds honoured
	Trigger    string    `json:"trigger"` // schedule, cli or api
	By         string    `json:"by"`      // subject who asked, or "system" for the schedule
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Status     string    `json:"status"`          // ok or error
	Error      string    `json:"error,omitempty"` // short error class when it failed
}

// RunStore keeps run reports. Both backends implement it beside their holds store.
type RunStore interface {
	RecordRun(ctx context.Context, r Run) error
	// ListRuns returns up to limit runs, newest first.
	ListRuns(ctx context.Context, limit int) ([]Run, error)
}
