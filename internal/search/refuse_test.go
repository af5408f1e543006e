package search_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
)

// Bad input is refused with a message saying what is wrong, and changes nothing: no audit event,
// no query.
func TestBadInputRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ok := search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}
	for _, tc := range []struct {
		name string
		typ  string
		edit func(r *search.Request)
		want string
	}{
		{"reversed window", "exact", func(r *search.Request) { r.From, r.To = r.To, r.From }, "reversed"},
		{"empty window", "exact", func(r *search.Request) { r.From = r.To }, "reversed or empty"},
		{"missing window", "exact", func(r *search.Request) { r.From = time.Time{} }, "needs both"},
		{"window in the future", "exact", func(r *search.Request) { r.From, r.To = now.Add(time.Hour), now.Add(2*time.Hour) }, "starts in the future"},
		{"window ending in the future", "exact", func(r *search.Request) { r.To = now.Add(time.Hour) }, "ends in the future"},
		{"unknown camera", "exact", func(r *search.Request) { r.Cameras = []string{"CAM-A", "CAM-NOPE", "CAM-ZZ"} }, "unknown camera(s): CAM-NOPE, CAM-ZZ"},
		{"empty camera", "exact", func(r *search.Request) { r.Cameras = []string{" "} }, "camera id is empty"},
		{"page size zero or less", "exact", func(r *search.Request) { r.Limit = -1 }, "limit -1 is out of range"},
		{"page size too big", "exact", func(r *search.Request) { r.Limit = 501 }, "limit 501 is out of range"},
		{"invalid vrm", "exact", func(r *search.Request) { r.VRM = "AB#12" }, "vrm"},
		{"missing vrm", "exact", func(r *search.Request) { r.VRM = "" }, "vrm is required"},
		{"pattern on exact", "exact", func(r *search.Request) { r.Pattern = "AB*" }, "not a pattern"},
		{"star alone", "partial", func(r *search.Request) { r.VRM, r.Pattern = "", "*" }, "would match every plate"},
		{"question marks only", "partial", func(r *search.Request) { r.VRM, r.Pattern = "", "???????" }, "would match every plate"},
		{"too few fixed", "partial", func(r *search.Request) { r.VRM, r.Pattern = "", "A*1" }, "2 fixed character(s); at least 3"},
		{"sql wildcard", "partial", func(r *search.Request) { r.VRM, r.Pattern = "", "AB1%" }, "use * for any run"},
		{"vrm on partial", "partial", func(r *search.Request) { r.Pattern = "AB12*" }, "takes a pattern, not a vrm"},
		{"several problems at once", "misread", func(r *search.Request) { r.VRM = "!!"; r.Limit = 9999; r.From, r.To = r.To, r.From }, "limit 9999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			r := ok
			tc.edit(&r)
			var err error
			switch tc.typ {
			case "exact":
				_, err = e.svc.Exact(ctx, investigator, r)
			case "partial":
				_, err = e.svc.Partial(ctx, investigator, r)
			case "misread":
				_, err = e.svc.Misread(ctx, investigator, r)
			}
			if !errors.Is(err, search.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrInvalid saying %q", err, tc.want)
			}
			if got := e.since(t, n); len(got) != 0 {
				t.Errorf("bad input left %d audit events", len(got))
			}
		})
	}
	// The journey and record view check their input the same way.
	if _, err := e.svc.Journey(ctx, investigator, search.JourneyRequest{VRM: "AB12CDE", From: now, To: now.Add(-time.Hour), Reason: goodReason()}); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("journey reversed: %v", err)
	}
	if _, err := e.svc.Journey(ctx, investigator, search.JourneyRequest{VRM: "AB12CDE", From: now.Add(-time.Hour), To: now, Cameras: []string{"NOPE"}, Reason: goodReason()}); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("journey unknown camera: %v", err)
	}
	if _, err := e.svc.Read(ctx, investigator, "../../etc", goodReason()); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("bad read id: %v", err)
	}
}

// The policy refuses by data age: band 2 needs extended access, a serious purpose and an
// authority; past retention needs a hold authority. This service has no authorities to present,
// so both are refused for everyone here, each refusal audited with the rule and the band.
func TestBandsRefusedByPolicyAndAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		caller search.Caller
		from   time.Duration
		reason authz.Reason
		band   int
	}{
		{"investigator band 2", investigator, 200 * 24 * time.Hour, goodReason(), 2},
		{"extended band 2 without authority", extended, 200 * 24 * time.Hour, seriousReason(), 2},
		{"investigator past retention", investigator, 400 * 24 * time.Hour, goodReason(), 3},
		{"extended past retention without hold", extended, 400 * 24 * time.Hour, seriousReason(), 3},
		// Judged by the oldest part: a window reaching from now back into band 2 is band 2.
		{"spanning window", investigator, 91 * 24 * time.Hour, goodReason(), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			_, err := e.svc.Exact(ctx, tc.caller, search.Request{VRM: "LD09HBR", From: now.Add(-tc.from), To: now, Reason: tc.reason})
			var denied *search.DeniedError
			if !errors.As(err, &denied) || !errors.Is(err, search.ErrForbidden) || denied.Rule == "" {
				t.Fatalf("err %v, want a DeniedError", err)
			}
			recs := e.since(t, n)
			checkDenied(t, recs, tc.caller, authz.RuleDefaultDeny)
			if recs[0].Event.Band != tc.band || recs[0].Event.SearchType != "exact" || recs[0].Payload == nil || !strings.Contains(recs[0].Payload.Query, "LD09HBR") {
				t.Errorf("deny event %+v payload %+v", recs[0].Event, recs[0].Payload)
			}
		})
	}
	// Band 1 of the same plate is fine.
	res, err := e.svc.Exact(ctx, investigator, search.Request{VRM: "LD09HBR", From: now.Add(-90 * 24 * time.Hour), To: now, Reason: goodReason()})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("band 1: %v %+v", err, res)
	}
}

// An auditor reads the audit log but never searches reads: every search type and the record view
// are refused and audited.
func TestAuditorRefusedEverySearch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oversight := authz.Reason{Purpose: "audit_review", CaseRef: "AUD/123/26", Justification: "quarterly dip sample of investigator searches against recorded case references for the board"}
	r := search.Request{From: now.Add(-24 * time.Hour), To: now}
	for _, reason := range []authz.Reason{goodReason(), oversight} {
		r.Reason = reason
		calls := map[string]func() error{
			"exact":   func() error { q := r; q.VRM = "AB12CDE"; _, err := e.svc.Exact(ctx, auditor, q); return err },
			"partial": func() error { q := r; q.Pattern = "AB12*"; _, err := e.svc.Partial(ctx, auditor, q); return err },
			"misread": func() error { q := r; q.VRM = "AB12CDE"; _, err := e.svc.Misread(ctx, auditor, q); return err },
			"journey": func() error {
				_, err := e.svc.Journey(ctx, auditor, search.JourneyRequest{VRM: "AB12CDE", From: r.From, To: r.To, Reason: reason})
				return err
			},
			"read": func() error { _, err := e.svc.Read(ctx, auditor, e.byKey[key(seeded[0])].ID, reason); return err },
			"read of a missing id": func() error {
				_, err := e.svc.Read(ctx, auditor, "0123456789abcdef", reason)
				return err
			},
		}
		for name, call := range calls {
			n := len(e.events(t))
			if err := call(); !errors.Is(err, search.ErrForbidden) {
				t.Errorf("%s (%s): %v, want forbidden", name, reason.Purpose, err)
			}
			checkDenied(t, e.since(t, n), auditor, authz.RuleDefaultDeny)
		}
	}
}

// A vague reason is refused with the problems listed, and the attempt is audited.
func TestVagueReasonRefusedAndAudited(t *testing.T) {
	e := newEnv(t)
	n := len(e.events(t))
	reason := goodReason()
	reason.Justification = "investigation"
	_, err := e.svc.Exact(context.Background(), investigator, search.Request{VRM: "AB12CDE", From: now.Add(-time.Hour), To: now, Reason: reason})
	var re *authz.ReasonError
	if !errors.Is(err, search.ErrInvalid) || !errors.As(err, &re) {
		t.Fatalf("err %v", err)
	}
	checkDenied(t, e.since(t, n), investigator, authz.RuleInvalid)
	n = len(e.events(t))
	_, err = e.svc.Exact(context.Background(), investigator, search.Request{VRM: "AB12CDE", From: now.Add(-time.Hour), To: now})
	if !errors.Is(err, search.ErrForbidden) {
		t.Fatalf("no reason: %v", err)
	}
	checkDenied(t, e.since(t, n), investigator, authz.RuleDefaultDeny)
}

func TestPagingCursorsAuditedAndBound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := search.Request{Pattern: "AB12C?E", From: now.Add(-48 * time.Hour), To: now, Limit: 2, Reason: goodReason()}
	want := e.idsOf(seeded[1], seeded[0], seeded[3], seeded[2])

	n := len(e.events(t))
	p1, err := e.svc.Partial(ctx, investigator, first)
	if err != nil || p1.Next == "" {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, "partial", 1, want[:2])

	// Another user's cursor, an edited cursor, a cursor for another query, garbage: refused, and
	// the attempt is audited.
	second := first
	second.Cursor = p1.Next
	tampered := []byte(p1.Next)
	tampered[5] ^= 1
	otherQuery := second
	otherQuery.Pattern = "AB12*"
	for name, tc := range map[string]struct {
		caller search.Caller
		req    search.Request
	}{
		"another user":  {colleague, second},
		"edited":        {investigator, func() search.Request { r := second; r.Cursor = string(tampered); return r }()},
		"another query": {investigator, otherQuery},
		"other window":  {investigator, func() search.Request { r := second; r.From = r.From.Add(time.Second); return r }()},
		"garbage":       {investigator, func() search.Request { r := second; r.Cursor = "s1.!!!.???"; return r }()},
		"store cursor":  {investigator, func() search.Request { r := second; r.Cursor = strings.SplitN(p1.Next, ".", 3)[1]; return r }()},
	} {
		n := len(e.events(t))
		if _, err := e.svc.Partial(ctx, tc.caller, tc.req); !errors.Is(err, search.ErrInvalid) || !strings.Contains(err.Error(), "cursor") {
			t.Errorf("%s: %v, want the cursor refused", name, err)
		}
		checkDenied(t, e.since(t, n), tc.caller, search.RuleCursor)
	}

	// The right user gets the next pages, each audited as a page with its own digest; the page
	// size may change between pages.
	n = len(e.events(t))
	second.Limit = 1
	p2, err := e.svc.Partial(ctx, investigator, second)
	if err != nil || p2.Next == "" {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionPage, "partial", 1, want[2:3])
	third := second
	third.Cursor, third.Limit = p2.Next, 10
	n = len(e.events(t))
	p3, err := e.svc.Partial(ctx, investigator, third)
	if err != nil || p3.Next != "" {
		t.Fatalf("page 3: %v %+v", err, p3)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionPage, "partial", 1, want[3:])
}

func TestRecordView(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rd := e.byKey[key(seeded[0])]
	n := len(e.events(t))
	got, err := e.svc.Read(ctx, investigator, rd.ID, goodReason())
	if err != nil || got.ID != rd.ID || got.VRM != "AB12CDE" {
		t.Fatalf("read: %v %+v", err, got)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionRecordView, "", 1, []string{rd.ID})

	// A band 2 read is judged by its own age.
	n = len(e.events(t))
	if _, err := e.svc.Read(ctx, investigator, e.byKey[key(seeded[9])].ID, goodReason()); !errors.Is(err, search.ErrForbidden) {
		t.Errorf("band 2 read: %v", err)
	}
	checkDenied(t, e.since(t, n), investigator, authz.RuleDefaultDeny)

	// A missing read is 404, and the attempt is recorded.
	n = len(e.events(t))
	if _, err := e.svc.Read(ctx, investigator, "0123456789abcdef", goodReason()); !errors.Is(err, reads.ErrNotFound) {
		t.Errorf("missing read: %v", err)
	}
	recs := e.since(t, n)
	if len(recs) != 2 || recs[1].Event.Status != audit.StatusError || recs[1].Event.Error != "not_found" {
		t.Errorf("missing read events: %+v", recs)
	}
}

// Fail closed: with the audit log down, searches give ErrUnavailable and no data, and refusals
// are not answered as refusals either.
func TestAuditDownFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.log.Close()
	ctx := context.Background()
	res, err := e.svc.Exact(ctx, investigator, search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()})
	if !errors.Is(err, audit.ErrUnavailable) || len(res.Hits) != 0 {
		t.Errorf("search with audit down: %v %+v", err, res)
	}
	if _, err := e.svc.Exact(ctx, auditor, search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("refusal with audit down: %v", err)
	}
}

// A server without an authority service refuses every search that presents an authority, and
// records the refusal with the authority rule and id: an unverifiable authority is never taken
// on trust.
func TestAuthorityPresentedWithoutServiceRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := len(e.events(t))
	_, err := e.svc.Exact(ctx, investigator, search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason(), AuthorityID: "auth-1"})
	var denied *search.DeniedError
	if !errors.As(err, &denied) || !errors.Is(err, search.ErrForbidden) || !strings.HasPrefix(denied.Rule, search.RuleAuthority) {
		t.Fatalf("err %v, want an authority refusal", err)
	}
	got := e.since(t, n)
	if len(got) != 1 || got[0].Event.Decision != audit.EffectDeny || got[0].Event.AuthorityID != "auth-1" || !strings.HasPrefix(got[0].Event.Rule, search.RuleAuthority) {
		t.Fatalf("audit events %+v, want one denial naming the authority", got)
	}
}
