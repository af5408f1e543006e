package authority_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
	"github.com/anpr-portal/anpr/policies"
)

// t0 is when every test starts; tests move the injected clock, never sleep.
var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// The people: the requesters, officers of each rank, and one person who both requests and
// approves (the only way self-approval can even be attempted).
var (
	investigator = search.Caller{Subject: "inv-1", Name: "DC Ivy Ingram", Roles: []string{"investigator"}, Rank: "constable"}
	extended     = search.Caller{Subject: "ext-1", Name: "DS Ezra Ellis", Roles: []string{"extended_investigator"}, Rank: "sergeant"}
	colleague    = search.Caller{Subject: "ext-2", Name: "DS Other", Roles: []string{"extended_investigator"}, Rank: "sergeant"}
	inspector    = search.Caller{Subject: "insp-1", Name: "Insp Aisha Adams", Roles: []string{"authorising_officer"}, Rank: "inspector"}
	superintend  = search.Caller{Subject: "supt-1", Name: "Supt Sam Shaw", Roles: []string{"authorising_officer"}, Rank: "superintendent"}
	sergeantAO   = search.Caller{Subject: "sgt-ao", Name: "PS Low Rank", Roles: []string{"authorising_officer"}, Rank: "sergeant"}
	dualRole     = search.Caller{Subject: "dual-1", Name: "Insp Both", Roles: []string{"extended_investigator", "authorising_officer"}, Rank: "inspector"}
	manager      = search.Caller{Subject: "mgr-1", Name: "Max Mercer", Roles: []string{"anpr_manager"}}
)

func seriousReason() authz.Reason {
	return authz.Reason{Purpose: "serious_crime", CaseRef: "MPS/54321/26", OffenceCode: "TH68010",
		Justification: "armed robbery at Brent Cross jewellers; suspect vehicle seen leaving northbound on the A406 afterwards"}
}

func generalReason() authz.Reason {
	return authz.Reason{Purpose: "stolen_vehicle", CaseRef: "MPS/12345/26", OffenceCode: "TH68010",
		Justification: "vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}
}

// Cameras: A and C a few hundred metres apart in west London, B about 28 km away.
var cameras = []reads.Camera{
	{ID: "CAM-A", Name: "A40 Perivale EB", Lat: 51.5370, Lon: -0.3230},
	{ID: "CAM-B", Name: "A2 Falconwood WB", Lat: 51.4590, Lon: 0.0800},
	{ID: "CAM-C", Name: "A40 Greenford EB", Lat: 51.5390, Lon: -0.3300},
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// holds is a real in-memory preservation-hold registry: what the retention package's would
// answer, with scope, so that hold coverage is decided on real data.
type holds struct {
	mu sync.Mutex
	m  map[string]holdEntry
}

type holdEntry struct {
	scope  authority.HoldScope
	active bool
}

func (h *holds) Hold(_ context.Context, id string) (authority.HoldScope, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[id]
	if !ok {
		return authority.HoldScope{}, false, nil
	}
	return e.scope, e.active, nil
}

func (h *holds) set(id string, s authority.HoldScope, active bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[id] = holdEntry{s, active}
}

type env struct {
	clock  *clock
	svc    *authority.Service
	search *search.Service
	store  *sqlite.AuthorityStore
	log    *sqlite.AuditLog
	holds  *holds
}

// newEnv builds the real stack: SQLite reads (seeded), audit log, authority store, the Casbin
// policy, the authority service and a search service that asks it.
func newEnv(t *testing.T, cfg authority.Config) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{clock: &clock{t: t0}, holds: &holds{m: map[string]holdEntry{}}}
	rs, err := sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	if err := rs.PutCameras(ctx, cameras); err != nil {
		t.Fatal(err)
	}
	var batch []reads.Read
	for _, s := range []struct {
		vrm, cam string
		ago      time.Duration
	}{
		{"LD09HBR", "CAM-A", 10 * day}, {"LD09HBR", "CAM-A", 200 * day}, {"LD09HBR", "CAM-B", 201 * day},
		{"LD09HBR", "CAM-A", 400 * day}, {"AB12CDE", "CAM-A", 200 * day},
	} {
		r := storetest.Read(s.cam, s.vrm, t0.Add(-s.ago))
		r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		batch = append(batch, r)
	}
	if _, err := rs.AppendReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	e.log = sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{Clock: e.clock.now})
	if e.store, err = sqlite.OpenAuthorityStore(ctx, filepath.Join(dir, "authority.db"), sqlite.AuthorityOptions{MaxConns: 8}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = authority.New(authority.Deps{Store: e.store, Audit: e.log, Authz: az, Cameras: rs, Holds: e.holds, Now: e.clock.now}, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.svc.Close)
	if e.search, err = search.New(search.Deps{Reads: rs, Audit: e.log, Authz: az, Authorities: e.svc, Now: e.clock.now}, search.Config{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// band2Request asks for exact and journey searches of LD09HBR 210..190 days ago at cameras A and B.
func band2Request() authority.Request {
	return authority.Request{
		Reason: seriousReason(),
		Scope: authority.Scope{VRMs: []string{"ld09 hbr"}, Cameras: []string{"CAM-A", "CAM-B"},
			From: t0.Add(-210 * day), To: t0.Add(-190 * day), SearchTypes: []string{"exact", "journey"}},
		ExpiresAt: t0.Add(7 * day), MaxUses: 3,
	}
}

func (e *env) request(t *testing.T, c search.Caller, r authority.Request) authority.View {
	t.Helper()
	v, err := e.svc.Request(context.Background(), c, r)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return v
}

func (e *env) approve(t *testing.T, id string, d authority.Decision) authority.View {
	t.Helper()
	if d.Reason == "" {
		d.Reason = "proportionate to an armed robbery; window limited to the night of the offence"
	}
	v, err := e.svc.Approve(context.Background(), inspector, id, d)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return v
}

// events returns every audit record, oldest first.
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

// eventsOf returns the events about one authority, as "action/stage/decision" strings.
func (e *env) eventsOf(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	for _, r := range e.events(t) {
		if r.Event.AuthorityID == id {
			out = append(out, strings.Trim(string(r.Event.Action)+"/"+string(r.Event.Stage)+"/"+string(r.Event.Decision), "/"))
		}
	}
	return out
}

// lastDenial is the rule of the newest deny event.
func (e *env) lastDenial(t *testing.T) string {
	t.Helper()
	evs := e.events(t)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Event.Decision == audit.EffectDeny {
			return evs[i].Event.Rule
		}
	}
	return ""
}

func wantDenied(t *testing.T, what string, err error, rule string) {
	t.Helper()
	var d *search.DeniedError
	if !errors.As(err, &d) || !errors.Is(err, search.ErrForbidden) {
		t.Fatalf("%s: err = %v, want a refusal", what, err)
	}
	if !strings.HasPrefix(d.Rule, rule) {
		t.Fatalf("%s: rule %q, want %s...", what, d.Rule, rule)
	}
}

func contains(ss []string, s string) bool { return slices.Contains(ss, s) }
