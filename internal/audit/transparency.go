package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Scanner streams stored records in seq order (every backend's VerifySource is one).
type Scanner interface {
	Scan(ctx context.Context, from, to int64, fn func(Record) error) error
}

// SearchCount is the number of searches of one data-age band for one purpose.
type SearchCount struct {
	Band    int    `json:"band"` // 0: band not recorded
	Purpose string `json:"purpose"`
	Count   int64  `json:"count"`
}

// TransparencyMonth is the public tally of one calendar month.
type TransparencyMonth struct {
	Month                string        `json:"month"` // YYYY-MM in the report's time zone
	Searches             int64         `json:"searches"`
	SearchesByBand       []SearchCount `json:"searches_by_band_and_purpose"`
	Denials              int64         `json:"denials"`
	AuthoritiesRequested int64         `json:"authorities_requested"`
	AuthoritiesApproved  int64         `json:"authorities_approved"`
	AuthoritiesRejected  int64         `json:"authorities_rejected"`
}

// TransparencyReport is the public aggregate: counts only, no person, VRM or case, computed from
// exactly the events under Checkpoint (Events == Checkpoint.Size), so anyone holding the log
// can recompute and check it.
type TransparencyReport struct {
	Months     []TransparencyMonth `json:"months"`
	Events     int64               `json:"events"`
	Checkpoint *Checkpoint         `json:"checkpoint,omitempty"`
}

// Transparency keeps the running tally. It counts decisions, one per operation: the intent (or
// the single event) with its decision; outcome events are never counted, so an operation run
// through Run counts once. A search is an allowed ActionSearch; a denial is any denied
// decision; authorities are counted by the allowed request, approve and reject events. It is
// safe for concurrent use; Update reads only the events added since the last call.
type Transparency struct {
	mu     sync.Mutex
	loc    *time.Location
	months map[string]*transparencyAcc
	seen   int64
	cp     *Checkpoint
}

type transparencyAcc struct {
	TransparencyMonth
	byBand map[SearchCount]int64 // key with Count 0
}

// NewTransparency tallies months in loc (nil: UTC); a force reports in its local time.
func NewTransparency(loc *time.Location) *Transparency {
	if loc == nil {
		loc = time.UTC
	}
	return &Transparency{loc: loc, months: map[string]*transparencyAcc{}}
}

// Add counts one event. Events must be added once each, in seq order.
func (t *Transparency) Add(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(e)
}

func (t *Transparency) add(e Event) {
	t.seen = max(t.seen, e.Seq)
	if e.Stage == StageOutcome {
		return
	}
	month := e.Time.In(t.loc).Format("2006-01")
	m := t.months[month]
	if m == nil {
		m = &transparencyAcc{TransparencyMonth: TransparencyMonth{Month: month}, byBand: map[SearchCount]int64{}}
		t.months[month] = m
	}
	if e.Decision == EffectDeny {
		m.Denials++
		return
	}
	switch e.Action {
	case ActionSearch:
		m.Searches++
		purpose := e.Reason.Purpose
		if purpose == "" {
			purpose = "unspecified"
		}
		m.byBand[SearchCount{Band: e.Band, Purpose: purpose}]++
	case ActionAuthorityRequest:
		m.AuthoritiesRequested++
	case ActionAuthorityApprove:
		m.AuthoritiesApproved++
	case ActionAuthorityReject:
		m.AuthoritiesRejected++
	}
}

// Report returns the tally so far, months in order.
func (t *Transparency) Report() TransparencyReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := TransparencyReport{Months: []TransparencyMonth{}, Events: t.seen, Checkpoint: t.cp}
	for _, k := range slices.Sorted(maps.Keys(t.months)) {
		m := t.months[k]
		out := m.TransparencyMonth
		// An empty list, not null: the public report's consumers (charts) should not special-case it.
		out.SearchesByBand = []SearchCount{}
		for sc, n := range m.byBand {
			sc.Count = n
			out.SearchesByBand = append(out.SearchesByBand, sc)
		}
		slices.SortFunc(out.SearchesByBand, func(a, b SearchCount) int {
			return cmp.Or(cmp.Compare(a.Band, b.Band), cmp.Compare(a.Purpose, b.Purpose))
		})
		rep.Months = append(rep.Months, out)
	}
	return rep
}

// Update brings the tally up to the log's latest checkpoint (only events a signature covers are
// counted) and returns the report with that checkpoint.
func (t *Transparency) Update(ctx context.Context, src Scanner, cps Checkpointer) (TransparencyReport, error) {
	cp, err := cps.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return t.Report(), nil
	}
	if err != nil {
		return TransparencyReport{}, fmt.Errorf("transparency report: %w", err)
	}
	t.mu.Lock()
	if cp.Size > t.seen {
		err = src.Scan(ctx, t.seen+1, cp.Size, func(r Record) error {
			t.add(r.Event)
			return nil
		})
	}
	if err == nil {
		t.seen, t.cp = max(t.seen, cp.Size), &cp
	}
	t.mu.Unlock()
	if err != nil {
		return TransparencyReport{}, fmt.Errorf("transparency report: %w", err)
	}
	return t.Report(), nil
}
