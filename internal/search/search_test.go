package search_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/storetest"
	"github.com/anpr-portal/anpr/policies"
)

// now is the injected clock of every test; nothing depends on the wall clock.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	svc   *search.Service
	store *sqlite.Store
	log   *sqlite.AuditLog
	byKey map[string]reads.Read // "VRM@CAM@offset" -> stored read
}

var (
	investigator = search.Caller{Subject: "inv-1", Name: "DC Ivy Ingram", Roles: []string{"investigator"}, Rank: "constable", ClientAddr: "10.0.0.1", RequestID: "req-1"}
	colleague    = search.Caller{Subject: "inv-2", Name: "DC Other", Roles: []string{"investigator"}, Rank: "constable"}
	extended     = search.Caller{Subject: "ext-1", Name: "DS Ezra Ellis", Roles: []string{"extended_investigator"}, Rank: "sergeant"}
	auditor      = search.Caller{Subject: "aud-1", Name: "Audrey Hale", Roles: []string{"auditor"}}
)

func goodReason() authz.Reason {
	return authz.Reason{
		Purpose: "stolen_vehicle", CaseRef: "MPS/12345/26", OffenceCode: "TH68010",
		Justification: "vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale",
	}
}

func seriousReason() authz.Reason {
	return authz.Reason{
		Purpose: "serious_crime", CaseRef: "MPS/54321/26", OffenceCode: "TH68010",
		Justification: "armed robbery at Brent Cross jewellers; suspect vehicle seen leaving northbound on the A406 afterwards",
	}
}

// Cameras: A and C a few hundred metres apart in west London, B about 28 km away in the
// south-east.
var cameras = []reads.Camera{
	{ID: "CAM-A", Name: "A40 Perivale EB", Road: "A40", Direction: "E", Area: "Ealing", Lat: 51.5370, Lon: -0.3230},
	{ID: "CAM-B", Name: "A2 Falconwood WB", Road: "A2", Direction: "W", Area: "Bexley", Lat: 51.4590, Lon: 0.0800},
	{ID: "CAM-C", Name: "A40 Greenford EB", Road: "A40", Direction: "E", Area: "Ealing", Lat: 51.5390, Lon: -0.3300},
}

type seedRead struct {
	vrm, cam string
	ago      time.Duration
}

var seeded = []seedRead{
	{"AB12CDE", "CAM-A", 2 * time.Hour},
	{"AB12CDE", "CAM-C", 110 * time.Minute},
	{"AB12CDE", "CAM-A", 24 * time.Hour},
	{"AB12C0E", "CAM-B", 3 * time.Hour},                // D read as 0
	{"A812CDE", "CAM-B", 5 * time.Hour},                // B read as 8
	{"YR17KDX", "CAM-A", 10 * time.Hour},               // genuine ...
	{"YR17KDX", "CAM-B", 10*time.Hour - 5*time.Minute}, // ... and the clone 28 km away 5 minutes later
	{"YR17KDX", "CAM-B", 9 * time.Hour},                // same camera again: never flagged
	{"LD09HBR", "CAM-A", 10 * 24 * time.Hour},          // band 1
	{"LD09HBR", "CAM-A", 200 * 24 * time.Hour},         // band 2
	{"LD09HBR", "CAM-A", 400 * 24 * time.Hour},         // past retention (held, say)
	{"XY99ZZZ", "CAM-C", time.Hour},                    // unrelated
}

func key(s seedRead) string { return s.vrm + "@" + s.cam + "@" + s.ago.String() }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutCameras(ctx, cameras); err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, byKey: map[string]reads.Read{}}
	var batch []reads.Read
	for _, s := range seeded {
		r := storetest.Read(s.cam, s.vrm, now.Add(-s.ago))
		r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		batch = append(batch, r)
		e.byKey[key(s)] = r
	}
	if _, err := st.AppendReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.InitKeys(filepath.Join(dir, "keys"), "test", rand.Reader); err != nil {
		t.Fatal(err)
	}
	signer, err := audit.LoadSigner(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	e.log, err = sqlite.OpenAuditLog(ctx, filepath.Join(dir, "audit.db"), sqlite.AuditOptions{Signer: signer, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.log.Close() })
	clock := func() time.Time { return now }
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = search.New(search.Deps{Reads: st, Audit: e.log, Authz: az, Now: clock}, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// events returns every audit record in the log, oldest first.
func (e *env) events(t *testing.T) []audit.Record {
	t.Helper()
	var out []audit.Record
	f := audit.Filter{Limit: audit.MaxPageSize}
	for {
		p, err := e.log.Read(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.Next == "" {
			return out
		}
		f.Cursor = p.Next
	}
}

// since returns the records appended after the first n.
func (e *env) since(t *testing.T, n int) []audit.Record { return e.events(t)[n:] }

func ids(hits []search.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func (e *env) idsOf(keys ...seedRead) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = e.byKey[key(k)].ID
	}
	return out
}

// checkAudited asserts that recs are exactly an allowed intent and its outcome for this search,
// the outcome carrying the count and the digest of the ids shown.
func checkAudited(t *testing.T, recs []audit.Record, c search.Caller, action audit.Action, typ string, band int, shown []string) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("want intent + outcome, got %d events: %+v", len(recs), recs)
	}
	in, out := recs[0].Event, recs[1].Event
	if in.Stage != audit.StageIntent || out.Stage != audit.StageOutcome || out.IntentSeq != in.Seq {
		t.Fatalf("stages: intent %+v outcome %+v", in, out)
	}
	for _, ev := range []audit.Event{in, out} {
		if ev.Action != action || ev.SearchType != typ || ev.Band != band || ev.Decision != audit.EffectAllow ||
			!strings.HasPrefix(ev.Rule, "policy.csv:") || ev.Actor.Subject != c.Subject || ev.Reason.CaseRef == "" || ev.Reason.Purpose == "" {
			t.Errorf("event fields: %+v", ev)
		}
	}
	if recs[0].Payload == nil || recs[0].Payload.Query == "" || recs[0].Payload.Justification == "" {
		t.Errorf("intent payload lacks query or justification: %+v", recs[0].Payload)
	}
	if out.Status != audit.StatusOK || out.ResultCount != int64(len(shown)) || out.ResultDigest != audit.DigestIDs(shown) {
		t.Errorf("outcome count %d digest %s status %s; want %d %s ok", out.ResultCount, out.ResultDigest, out.Status, len(shown), audit.DigestIDs(shown))
	}
}

// checkDenied asserts recs is one deny event with a rule, and no data was released.
func checkDenied(t *testing.T, recs []audit.Record, c search.Caller, rulePrefix string) {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("want one deny event, got %d: %+v", len(recs), recs)
	}
	ev := recs[0].Event
	if ev.Decision != audit.EffectDeny || ev.Actor.Subject != c.Subject || !strings.HasPrefix(ev.Rule, rulePrefix) || ev.ResultCount != 0 {
		t.Errorf("deny event: %+v (want rule prefix %q)", ev, rulePrefix)
	}
}

func TestSearchTypesReturnAndAudit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := search.Request{From: now.Add(-48 * time.Hour), To: now, Reason: goodReason()}
	for _, tc := range []struct {
		name  string
		call  func(context.Context, search.Caller, search.Request) (search.Result, error)
		req   func(r search.Request) search.Request
		want  []seedRead // newest first
		query string
	}{
		{"exact", e.svc.Exact, func(r search.Request) search.Request { r.VRM = "ab12 cde"; return r },
			[]seedRead{seeded[1], seeded[0], seeded[2]}, "AB12CDE"},
		{"exact with camera filter", e.svc.Exact, func(r search.Request) search.Request { r.VRM = "AB12CDE"; r.Cameras = []string{"CAM-C"}; return r },
			[]seedRead{seeded[1]}, "AB12CDE"},
		{"partial", e.svc.Partial, func(r search.Request) search.Request { r.Pattern = "AB12C?E"; return r },
			[]seedRead{seeded[1], seeded[0], seeded[3], seeded[2]}, "AB12C?E"},
		{"partial star", e.svc.Partial, func(r search.Request) search.Request { r.Pattern = "*KDX"; return r },
			[]seedRead{seeded[7], seeded[6], seeded[5]}, "*KDX"},
		{"misread", e.svc.Misread, func(r search.Request) search.Request { r.VRM = "AB12CDE"; return r },
			[]seedRead{seeded[1], seeded[0], seeded[3], seeded[4], seeded[2]}, "AB12CDE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			res, err := tc.call(ctx, investigator, tc.req(day))
			if err != nil {
				t.Fatal(err)
			}
			want := e.idsOf(tc.want...)
			if got := ids(res.Hits); !slices.Equal(got, want) {
				t.Fatalf("hits %v, want %v", got, want)
			}
			if res.Query != tc.query || res.Band != authz.Band1 || res.Next != "" || res.Digest != audit.DigestIDs(want) {
				t.Errorf("result %+v", res)
			}
			typ := strings.Fields(tc.name)[0]
			checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, typ, 1, want)
		})
	}
}

// Every misread hit says which characters were taken as confusable.
func TestMisreadHitsExplained(t *testing.T) {
	e := newEnv(t)
	res, err := e.svc.Misread(context.Background(), investigator, search.Request{VRM: "AB12CDE", From: now.Add(-48 * time.Hour), To: now, Reason: goodReason()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range res.Hits {
		if h.Match == nil {
			t.Fatalf("hit %s has no explanation", h.VRM)
		}
		got[h.VRM] = h.Match.Explanation
	}
	want := map[string]string{
		"AB12CDE": "identical",
		"AB12C0E": "pos 6: D read as 0 (confusable)",
		"A812CDE": "pos 2: B read as 8 (confusable)",
	}
	for vrm, w := range want {
		if got[vrm] != w {
			t.Errorf("%s: explanation %q, want %q", vrm, got[vrm], w)
		}
	}
	for _, h := range res.Hits {
		if h.VRM == "AB12C0E" && (len(h.Match.Ops) != 1 || h.Match.Ops[0].Kind != plate.OpConfusable || h.Match.Ops[0].Pos != 5) {
			t.Errorf("ops %+v", h.Match.Ops)
		}
	}
}

func TestJourneyFlagsImpossibleTravel(t *testing.T) {
	e := newEnv(t)
	n := len(e.events(t))
	j, err := e.svc.Journey(context.Background(), investigator, search.JourneyRequest{VRM: "YR17KDX", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()})
	if err != nil {
		t.Fatal(err)
	}
	want := e.idsOf(seeded[5], seeded[6], seeded[7]) // oldest first
	var got []string
	for _, s := range j.Stops {
		got = append(got, s.ID)
		if s.CameraName == "" || s.Lat == 0 {
			t.Errorf("stop without camera position: %+v", s)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stops %v, want %v", got, want)
	}
	if j.FirstSeen == nil || j.FirstSeen.ID != want[0] || j.LastSeen == nil || j.LastSeen.ID != want[2] || j.Truncated {
		t.Errorf("first/last/truncated: %+v %+v %v", j.FirstSeen, j.LastSeen, j.Truncated)
	}
	if len(j.ImpossibleTravel) != 1 {
		t.Fatalf("flags %+v, want exactly the A->B pair", j.ImpossibleTravel)
	}
	f := j.ImpossibleTravel[0]
	if f.FromID != want[0] || f.ToID != want[1] || f.SpeedKPH < 200 || f.DistanceKM < 25 || f.Seconds != 300 {
		t.Errorf("flag %+v", f)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, "journey", 1, want)

	// An honest journey has no flags.
	j, err = e.svc.Journey(context.Background(), investigator, search.JourneyRequest{VRM: "AB12CDE", From: now.Add(-48 * time.Hour), To: now, Reason: goodReason()})
	if err != nil || len(j.Stops) != 3 || len(j.ImpossibleTravel) != 0 {
		t.Errorf("AB12CDE journey: %v %+v", err, j)
	}
}

func TestJourneyTruncatesAtCap(t *testing.T) {
	e := newEnv(t)
	az, _ := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules()}, func() time.Time { return now })
	svc, err := search.New(search.Deps{Reads: e.store, Audit: e.log, Authz: az, Now: func() time.Time { return now }}, search.Config{MaxJourneyReads: 2})
	if err != nil {
		t.Fatal(err)
	}
	j, err := svc.Journey(context.Background(), investigator, search.JourneyRequest{VRM: "YR17KDX", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()})
	if err != nil || !j.Truncated || len(j.Stops) != 2 || j.Digest != audit.DigestIDs(e.idsOf(seeded[5], seeded[6])) {
		t.Fatalf("truncated journey: %v %+v", err, j)
	}
}
