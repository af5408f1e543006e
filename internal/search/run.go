package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// RuleCursor is the Rule of the audit event recording a refused cursor: edited, forged, issued to
// another user or for another query.
const RuleCursor = "rule:cursor-binding"

// Result is one page of an exact, partial or misread search.
type Result struct {
	Type  Type       `json:"type"`
	Query string     `json:"query"` // the normalised VRM or canonical pattern searched
	Band  authz.Band `json:"band"`  // data-age band of the window, judged by its oldest part
	Hits  []Hit      `json:"hits"`
	// Next continues the search; empty on the last page. Pass it back with the same query.
	Next string `json:"next,omitempty"`
	// Digest is the digest of the ids of Hits in order, as recorded in the audit outcome.
	Digest audit.Digest `json:"digest"`
}

// Hit is one read found.
type Hit struct {
	reads.Read
	// Match explains, for misread searches, how the read plate differs from the one searched:
	// which characters were taken as confusable (0 for D, 8 for B, ...) and which differ.
	Match *Match `json:"match,omitempty"`
}

// Match is plate.Compare's explanation of a misread hit, with a sentence for people.
type Match struct {
	plate.Diff
	Explanation string `json:"explanation"`
}

// Exact returns one page of the reads of one VRM, newest first.
func (s *Service) Exact(ctx context.Context, c Caller, r Request) (Result, error) {
	return s.search(ctx, c, TypeExact, r)
}

// Partial returns one page of the reads whose VRM matches a wildcard pattern, newest first. The
// pattern needs Config.MinPatternFixed literal characters.
func (s *Service) Partial(ctx context.Context, c Caller, r Request) (Result, error) {
	return s.search(ctx, c, TypePartial, r)
}

// Misread returns one page of the reads whose VRM has the same misread skeleton as r.VRM (it
// could be the same plate with confusable characters misread: 0/O/D, 8/B, 1/I, ...), newest
// first, each hit explained by plate.Compare. It finds only confusable substitutions; plates one
// unrelated character away (edit distance 1 without a shared skeleton) are not searched, because
// that would match many unrelated vehicles.
func (s *Service) Misread(ctx context.Context, c Caller, r Request) (Result, error) {
	return s.search(ctx, c, TypeMisread, r)
}

// Area returns one page of every read at the cameras of r.Area (and/or r.Cameras), newest first:
// who passed here. It is a sensitive type: the policy wants an authority in every band.
func (s *Service) Area(ctx context.Context, c Caller, r Request) (Result, error) {
	return s.search(ctx, c, TypeArea, r)
}

// Search runs a paged search of type t (TypeExact, TypePartial, TypeMisread or TypeArea), for callers that
// take the type as data (the HTTP routes). Journeys have their own shape: use Journey.
func (s *Service) Search(ctx context.Context, c Caller, t Type, r Request) (Result, error) {
	switch t {
	case TypeExact, TypePartial, TypeMisread, TypeArea:
		return s.search(ctx, c, t, r)
	}
	return Result{}, invalid("%q is not a paged search type", t)
}

func (s *Service) search(ctx context.Context, c Caller, t Type, r Request) (Result, error) {
	q, err := s.check(ctx, t, r.VRM, r.Pattern, r.From, r.To, r.Cameras, r.Area, r.Limit)
	if err != nil {
		return Result{}, err
	}
	action := audit.ActionSearch
	if r.Cursor != "" {
		action = audit.ActionPage
	}
	band := s.az.BandOf(q.from)
	reason := s.az.ReasonRules().Normalize(r.Reason)
	base := c.event(action)
	base.SearchType, base.Band = string(t), bandNumber(band)
	base.Reason = audit.Reason{Purpose: clip(reason.Purpose, audit.MaxFieldLen), CaseRef: clip(reason.CaseRef, audit.MaxFieldLen), OffenceCode: clip(reason.OffenceCode, audit.MaxFieldLen)}
	payload := audit.Payload{Query: q.text(), Justification: clip(reason.Justification, audit.MaxJustificationLen)}
	if q.value != "" && t != TypePartial {
		payload.VRMs = []string{q.value}
	}

	// The cursor is bound to the caller, the query and the authority presented with it.
	bound := q.text()
	if r.AuthorityID != "" {
		bound += " authority=" + r.AuthorityID
	}
	var inner string
	if r.Cursor != "" {
		var ok bool
		if inner, ok = s.curs.open(c.Subject, bound, r.Cursor); !ok {
			if err := s.recordDenial(ctx, base, payload, RuleCursor+": the cursor was not issued to this user for this query"); err != nil {
				return Result{}, err
			}
			return Result{}, invalid("the cursor is not valid: it was changed, or issued to another user or for another query; start the search again without it")
		}
	}

	use := AuthorityUse{ID: r.AuthorityID, Subject: c.Subject, Type: t, Cameras: q.cameras, From: q.from, To: q.to}
	if q.value != "" && t != TypePartial {
		use.VRMs = []string{q.value}
	}
	d, err := s.authorise(ctx, &base, payload, authz.Request{Subject: c.subject(), Action: t.action(), Band: band, Reason: reason}, use, r.Cursor == "")
	if err != nil {
		return Result{}, err
	}
	base.Decision, base.Rule = audit.EffectAllow, d.Rule
	return audit.Run(ctx, s.log, base, payload, func(ctx context.Context) (Result, audit.Outcome, error) {
		page, err := s.st.FindReads(ctx, q.query(reads.NewestFirst, q.limit, inner))
		if err != nil {
			return Result{}, audit.Outcome{ErrorClass: errorClass(err)}, fmt.Errorf("%s search: %w", t, err)
		}
		res := Result{Type: t, Query: q.value, Band: band, Hits: make([]Hit, len(page.Reads))}
		ids := make([]string, len(page.Reads))
		for i, rd := range page.Reads {
			res.Hits[i].Read = rd
			ids[i] = rd.ID
			if t == TypeMisread {
				diff := plate.Compare(q.value, rd.VRM)
				res.Hits[i].Match = &Match{Diff: diff, Explanation: diff.String()}
			}
		}
		res.Digest = audit.DigestIDs(ids)
		res.Next = s.curs.seal(c.Subject, bound, page.Next)
		return res, audit.Outcome{Count: int64(len(ids)), Digest: res.Digest}, nil
	})
}

// decide asks the policy and, when it refuses (or the request is malformed, such as a vague
// reason), records the refusal with the deciding rule before answering.
func (s *Service) decide(ctx context.Context, base audit.Event, payload audit.Payload, req authz.Request) (authz.Decision, error) {
	d, err := s.az.Decide(req)
	if err == nil && d.Allowed {
		return d, nil
	}
	if aerr := s.recordDenial(ctx, base, payload, d.Rule); aerr != nil {
		return d, aerr
	}
	if err != nil {
		if errors.Is(err, authz.ErrInvalid) {
			return d, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return d, fmt.Errorf("authorise: %w", err)
	}
	return d, &DeniedError{Rule: d.Rule, Reason: d.Reason}
}

// recordDenial appends a deny event; if it cannot, the caller gets ErrUnavailable, never the
// refusal (fail closed: an unrecorded refusal is as bad as an unrecorded search).
func (s *Service) recordDenial(ctx context.Context, base audit.Event, payload audit.Payload, rule string) error {
	ev := base
	ev.Decision, ev.Rule = audit.EffectDeny, clip(rule, audit.MaxFieldLen)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), audit.OutcomeTimeout)
	defer cancel()
	if _, err := s.log.Append(actx, ev, payload); err != nil {
		if errors.Is(err, audit.ErrUnavailable) {
			return fmt.Errorf("record refusal: %w", err)
		}
		return fmt.Errorf("record refusal: %w: %w", audit.ErrUnavailable, err)
	}
	return nil
}

// bandNumber is the band as the audit event records it: 1, 2, 3 for past retention, 0 unknown.
func bandNumber(b authz.Band) int {
	switch b {
	case authz.Band1:
		return 1
	case authz.Band2:
		return 2
	case authz.BandExpired:
		return 3
	}
	return 0
}

// errorClass is the short kind an outcome records for a failed query; never the error text.
func errorClass(err error) string {
	switch {
	case errors.Is(err, reads.ErrInvalid):
		return "invalid"
	case errors.Is(err, reads.ErrNotFound):
		return "not_found"
	case errors.Is(err, reads.ErrUnavailable):
		return "unavailable"
	}
	return ""
}

// clip keeps caller-supplied text within what one audit field holds, as valid UTF-8, so an
// over-long or malformed reason is still recorded (shortened) rather than failing the record.
func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
