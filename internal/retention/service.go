package retention

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/reads"
)

// ActionRun is the audit action of a retention run.
const ActionRun audit.Action = "retention.run"

// Triggers of a run.
const (
	TriggerSchedule = "schedule"
	TriggerCLI      = "cli"
	TriggerAPI      = "api"
)

// RuleConfig is the audit Rule of runs nobody asked for (the schedule, the CLI on the server):
// they happen because the configuration says so.
const RuleConfig = "config:data.retention"

// ErrBusy: a run is already in progress; runs do not overlap.
var ErrBusy = fmt.Errorf("%w: a retention run is already in progress", reads.ErrConflict)

// Reads is what a run needs of the read store: deletion, and counting what holds kept.
type Reads interface {
	reads.Retainer
	CountReads(ctx context.Context, q reads.Query) (int64, error)
}

// Holds gives the scopes of the active preservation holds (holds.Service does).
type Holds interface {
	ActiveScopes(ctx context.Context) ([]reads.HoldScope, error)
}

// Caller is who started a run, as the audit records it.
type Caller struct {
	Actor      audit.Actor
	ClientAddr string
	RequestID  string
	Rule       string // the policy line that allowed it, or RuleConfig
}

// System is the caller of scheduled runs.
func System() Caller {
	return Caller{Actor: audit.Actor{Subject: "system:retention", Name: "scheduled retention"}, Rule: RuleConfig}
}

// Service runs retention.
type Service struct {
	reads     Reads
	holds     Holds
	runs      RunStore
	log       audit.Appender
	retention time.Duration
	now       func() time.Time
	logger    *slog.Logger
	busy      chan struct{} // a one-slot semaphore: runs never overlap
}

// Deps is what New needs.
type Deps struct {
	Reads     Reads
	Holds     Holds
	Runs      RunStore
	Audit     audit.Appender
	Retention time.Duration // data.retention
	Now       func() time.Time
	Logger    *slog.Logger
}

// New checks deps and returns a Service.
func New(d Deps) (*Service, error) {
	if d.Reads == nil || d.Holds == nil || d.Runs == nil || d.Audit == nil || d.Now == nil {
		return nil, errors.New("retention: reads, holds, runs, audit log and clock are required")
	}
	if d.Retention <= 0 {
		return nil, fmt.Errorf("retention: period %s is not positive", d.Retention)
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{reads: d.Reads, holds: d.Holds, runs: d.Runs, log: d.Audit, retention: d.Retention,
		now: d.Now, logger: d.Logger, busy: make(chan struct{}, 1)}, nil
}

// Run deletes every read seen before now - retention that no active hold covers. The intent
// event (with the cutoff) is durable before anything is deleted; the outcome event, durable
// before Run returns, has the deleted count as its result count, both counts in its payload and
// the SHA-256 of the run report (as listed by Runs) as its digest. A run cut short (ctx ended, a
// backend error) still records what it deleted: those deletions are committed.
func (s *Service) Run(ctx context.Context, c Caller, trigger string) (Run, error) {
	select {
	case s.busy <- struct{}{}:
		defer func() { <-s.busy }()
	default:
		return Run{}, ErrBusy
	}
	start := s.now().UTC()
	r := Run{ID: newRunID(start), Cutoff: start.Add(-s.retention).Truncate(time.Millisecond), Trigger: trigger,
		By: c.Actor.Subject, StartedAt: start}
	intent := audit.Event{
		Actor: c.Actor, ClientAddr: c.ClientAddr, RequestID: c.RequestID, Action: ActionRun,
		Stage: audit.StageIntent, Decision: audit.EffectAllow, Rule: c.Rule,
	}
	sealed, err := s.log.Append(ctx, intent, audit.Payload{Query: fmt.Sprintf("retention run %s: delete reads seen before %s unless held",
		r.ID, r.Cutoff.Format(time.RFC3339Nano))})
	if err != nil {
		return Run{}, auditUnavailable("record retention intent", err)
	}

	opErr := s.sweep(ctx, &r)
	r.FinishedAt = s.now().UTC()
	r.Status = "ok"
	outcome := intent
	outcome.Stage, outcome.IntentSeq, outcome.Status = audit.StageOutcome, sealed.Seq, audit.StatusOK
	if opErr != nil {
		r.Status, r.Error = "error", errorClass(opErr)
		outcome.Status, outcome.Error = audit.StatusError, r.Error
	}
	report, _ := json.Marshal(r)
	outcome.ResultCount, outcome.ResultDigest = r.Deleted, audit.Digest(sha256.Sum256(report))
	// The run is over whatever ctx says now: its record must still be written.
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), audit.OutcomeTimeout)
	defer cancel()
	if _, err := s.log.Append(octx, outcome, audit.Payload{Query: fmt.Sprintf("retention run %s: deleted %d, held kept %d, holds %d, status %s",
		r.ID, r.Deleted, r.HeldKept, r.Holds, r.Status)}); err != nil {
		return Run{}, auditUnavailable("record retention outcome", errors.Join(err, opErr))
	}
	if err := s.runs.RecordRun(octx, r); err != nil {
		return r, errors.Join(opErr, fmt.Errorf("record retention run report: %w", err))
	}
	s.logger.Info("retention run", "id", r.ID, "trigger", trigger, "cutoff", r.Cutoff, "deleted", r.Deleted,
		"held_kept", r.HeldKept, "holds", r.Holds, "status", r.Status)
	if opErr != nil {
		return r, opErr
	}
	return r, nil
}

func (s *Service) sweep(ctx context.Context, r *Run) error {
	scopes, err := s.holds.ActiveScopes(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	r.Holds = len(scopes)
	r.Deleted, err = s.reads.DeleteReadsBefore(ctx, r.Cutoff, scopes)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if len(scopes) == 0 {
		return nil
	}
	r.HeldKept, err = s.countBefore(ctx, r.Cutoff)
	if err != nil {
		return fmt.Errorf("retention: count held reads: %w", err)
	}
	return nil
}

// plateStarts are the characters a normalised plate can start with. The stores refuse a pattern
// that matches every plate, so what remains before the cutoff is counted by first character: 36
// counts over the window before the cutoff, which after a run holds only held reads.
const plateStarts = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (s *Service) countBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for _, c := range plateStarts {
		n, err := s.reads.CountReads(ctx, reads.Query{Match: reads.MatchPattern, Value: string(c) + "*",
			From: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), To: cutoff})
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Runs lists up to limit run reports, newest first.
func (s *Service) Runs(ctx context.Context, limit int) ([]Run, error) {
	rs, err := s.runs.ListRuns(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("list retention runs: %w", err)
	}
	return rs, nil
}

func auditUnavailable(what string, err error) error {
	if errors.Is(err, audit.ErrUnavailable) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, audit.ErrUnavailable, err)
}

// errorClass is the short kind a failed run records; never the error text.
func errorClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	case errors.Is(err, reads.ErrInvalid):
		return "invalid"
	case errors.Is(err, reads.ErrUnavailable):
		return "unavailable"
	}
	return "error"
}

func newRunID(at time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return "run_" + at.UTC().Format("20060102T150405Z") + "_" + hex.EncodeToString(b[:])
}
