package search_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/storetest"
	"github.com/anpr-portal/anpr/policies"
)

// scopedAuthorities is a TEST-ONLY search.Authorities, which keeps these tests of the search
// service apart from the authority service and its store. It is not an always-yes stub: it really checks the use against each
// authority's owner, search types, VRMs, cameras, window and remaining uses, as the contract
// says the real one must, and refuses with a rule starting "rule:authority". Spend counts uses
// under a lock.
type scopedAuthorities struct {
	mu   sync.Mutex
	byID map[string]*testAuthority
}

type testAuthority struct {
	owner    string
	types    []search.Type
	vrms     []string // nil: any plate, including searches that name none
	cameras  []string // nil: every camera
	from, to time.Time
	maxUses  int
	uses     int
}

func deny(why string) error {
	return &search.DeniedError{Rule: search.RuleAuthority + ": " + why, Reason: "the authority does not cover this search: " + why}
}

func (a *scopedAuthorities) covers(u search.AuthorityUse) (*testAuthority, error) {
	au, ok := a.byID[u.ID]
	switch {
	case !ok:
		return nil, deny("unknown authority")
	case au.owner != u.Subject:
		return nil, deny("another user's authority")
	case !slices.Contains(au.types, u.Type):
		return nil, deny("search type " + string(u.Type) + " not in scope")
	case au.uses >= au.maxUses:
		return nil, deny("exhausted")
	case u.From.Before(au.from) || u.To.After(au.to):
		return nil, deny("window outside scope")
	}
	if au.vrms != nil {
		if len(u.VRMs) == 0 {
			return nil, deny("the search reaches every vehicle; the authority names plates")
		}
		for _, v := range u.VRMs {
			if !slices.Contains(au.vrms, v) {
				return nil, deny("vrm " + v + " not in scope")
			}
		}
	}
	if au.cameras != nil {
		if len(u.Cameras) == 0 {
			return nil, deny("the search reaches every camera; the authority names cameras")
		}
		for _, c := range u.Cameras {
			if !slices.Contains(au.cameras, c) {
				return nil, deny("camera " + c + " not in scope")
			}
		}
	}
	return au, nil
}

func (a *scopedAuthorities) Check(_ context.Context, u search.AuthorityUse) (authz.AuthorityState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.covers(u); err != nil {
		return "", err
	}
	return authz.AuthorityValid, nil
}

func (a *scopedAuthorities) Spend(_ context.Context, u search.AuthorityUse) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	au, err := a.covers(u)
	if err != nil {
		return err
	}
	au.uses++
	return nil
}

func (a *scopedAuthorities) uses(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byID[id].uses
}

// sensitiveEnv is newEnv plus a convoy (TG11AAA followed 40 s behind by FL22AAA at CAM-A, CAM-C
// and CAM-B; PS33AAA passes CAM-A only) and a service with scoped authorities.
func sensitiveEnv(t *testing.T, auths map[string]*testAuthority) (*env, *search.Service, *scopedAuthorities) {
	t.Helper()
	e := newEnv(t)
	var batch []reads.Read
	for i, cam := range []string{"CAM-A", "CAM-C", "CAM-B"} {
		at := now.Add(-6*time.Hour + time.Duration(i)*20*time.Minute)
		batch = append(batch, storetest.Read(cam, "TG11AAA", at), storetest.Read(cam, "FL22AAA", at.Add(40*time.Second)))
		if i == 0 {
			batch = append(batch, storetest.Read(cam, "PS33AAA", at.Add(-30*time.Second)))
		}
	}
	if _, err := e.store.AppendReads(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	sa := &scopedAuthorities{byID: auths}
	clock := func() time.Time { return now }
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := search.New(search.Deps{Reads: e.store, Audit: e.log, Authz: az, Authorities: sa, Now: clock}, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e, svc, sa
}

// A square of about 1.1 x 0.5 km around CAM-A and CAM-C in west London; CAM-B is 28 km away.
var westLondon = &geo.Area{Polygon: [][2]float64{{51.533, -0.335}, {51.533, -0.318}, {51.543, -0.318}, {51.543, -0.335}}}

func allAuthorities() map[string]*testAuthority {
	day := now.Add(-48 * time.Hour)
	return map[string]*testAuthority{
		"area-ac":      {owner: investigator.Subject, types: []search.Type{search.TypeArea}, cameras: []string{"CAM-A", "CAM-C"}, from: day, to: now, maxUses: 5},
		"area-a-only":  {owner: investigator.Subject, types: []search.Type{search.TypeArea}, cameras: []string{"CAM-A"}, from: day, to: now, maxUses: 5},
		"convoy-tg":    {owner: investigator.Subject, types: []search.Type{search.TypeConvoy}, vrms: []string{"TG11AAA"}, from: day, to: now, maxUses: 5},
		"multi-ab":     {owner: investigator.Subject, types: []search.Type{search.TypeMultiLocation}, cameras: []string{"CAM-A", "CAM-B"}, from: day, to: now, maxUses: 5},
		"colleagues":   {owner: colleague.Subject, types: []search.Type{search.TypeArea, search.TypeConvoy, search.TypeMultiLocation}, from: day, to: now, maxUses: 5},
		"plate-scoped": {owner: investigator.Subject, types: []search.Type{search.TypeArea}, vrms: []string{"AB12CDE"}, from: day, to: now, maxUses: 5},
		"used-up":      {owner: investigator.Subject, types: []search.Type{search.TypeArea}, from: day, to: now, maxUses: 1, uses: 1},
		"short-window": {owner: investigator.Subject, types: []search.Type{search.TypeArea, search.TypeConvoy}, from: now.Add(-3 * time.Hour), to: now, maxUses: 5},
	}
}

func checkAuthorityLinked(t *testing.T, recs []audit.Record, id string) {
	t.Helper()
	for _, r := range recs {
		if r.Event.AuthorityID != id {
			t.Errorf("event %d links authority %q, want %q", r.Event.Seq, r.Event.AuthorityID, id)
		}
	}
}

func TestAreaSearchWithAuthority(t *testing.T) {
	e, svc, sa := sensitiveEnv(t, allAuthorities())
	ctx := context.Background()
	req := search.Request{Area: westLondon, From: now.Add(-48 * time.Hour), To: now, Reason: goodReason(), AuthorityID: "area-ac", Limit: 3}
	n := len(e.events(t))
	p1, err := svc.Area(ctx, investigator, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range p1.Hits {
		if h.CameraID != "CAM-A" && h.CameraID != "CAM-C" {
			t.Errorf("hit at %s, outside the area", h.CameraID)
		}
	}
	if len(p1.Hits) != 3 || p1.Next == "" || p1.Band != authz.Band1 {
		t.Fatalf("page 1: %+v", p1)
	}
	recs := e.since(t, n)
	checkAudited(t, recs, investigator, audit.ActionSearch, "area", 1, ids(p1.Hits))
	checkAuthorityLinked(t, recs, "area-ac")
	if q := recs[0].Payload.Query; !strings.Contains(q, "cameras=CAM-A,CAM-C") || len(recs[0].Payload.VRMs) != 0 {
		t.Errorf("intent payload %+v: want the resolved cameras and no plates", recs[0].Payload)
	}
	// Further pages are audited with their own digest and do not spend the authority again.
	all := ids(p1.Hits)
	for cur := p1.Next; cur != ""; {
		r := req
		r.Cursor, r.Limit = cur, 50
		n = len(e.events(t))
		p, err := svc.Area(ctx, investigator, r)
		if err != nil {
			t.Fatal(err)
		}
		checkAudited(t, e.since(t, n), investigator, audit.ActionPage, "area", 1, ids(p.Hits))
		all = append(all, ids(p.Hits)...)
		cur = p.Next
	}
	// Every read at CAM-A or CAM-C in the window: 3 AB12CDE, YR17KDX, XY99ZZZ, the convoy's 2+2 and PS33AAA.
	if len(all) != 10 {
		t.Errorf("area found %d reads, want 10", len(all))
	}
	if got := sa.uses("area-ac"); got != 1 {
		t.Errorf("authority spent %d times, want 1 (pages do not spend)", got)
	}

	// A camera list inside the area narrows it; a list wholly outside is refused.
	r := req
	r.Cameras, r.Limit = []string{"CAM-C", "CAM-B"}, 50
	if res, err := svc.Area(ctx, investigator, r); err != nil || len(res.Hits) != 4 {
		t.Errorf("area with cameras C, B: %v %d hits, want the 4 at CAM-C", err, len(res.Hits))
	}
}

// Sensitive types need an authority that covers them, in every band; each refusal is audited
// with its rule and changes nothing.
func TestSensitiveSearchesRefused(t *testing.T) {
	e, svc, sa := sensitiveEnv(t, allAuthorities())
	ctx := context.Background()
	win := func(r search.Request) search.Request {
		r.From, r.To, r.Reason = now.Add(-48*time.Hour), now, goodReason()
		return r
	}
	convoy := search.ConvoyRequest{VRM: "TG11AAA", From: now.Add(-48 * time.Hour), To: now, WithinSeconds: 120, MinCameras: 2, Reason: goodReason()}
	multi := search.MultiLocationRequest{Reason: goodReason(), Places: []search.PlaceRequest{
		{Cameras: []string{"CAM-A"}, From: now.Add(-11 * time.Hour), To: now.Add(-9 * time.Hour)},
		{Cameras: []string{"CAM-B"}, From: now.Add(-10 * time.Hour), To: now.Add(-8 * time.Hour)},
	}}
	for _, tc := range []struct {
		name   string
		caller search.Caller
		run    func() error
		rule   string
	}{
		{"area without authority", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Area: westLondon}))
			return err
		}, authz.RuleDefaultDeny},
		{"area with an authority short of a camera", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Area: westLondon, AuthorityID: "area-a-only"}))
			return err
		}, search.RuleAuthority + ": camera CAM-C"},
		{"area with a plate-scoped authority", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Cameras: []string{"CAM-A"}, AuthorityID: "plate-scoped"}))
			return err
		}, search.RuleAuthority + ": the search reaches every vehicle"},
		{"area with another user's authority", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Cameras: []string{"CAM-A"}, AuthorityID: "colleagues"}))
			return err
		}, search.RuleAuthority + ": another user's"},
		{"area with an exhausted authority", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Cameras: []string{"CAM-A"}, AuthorityID: "used-up"}))
			return err
		}, search.RuleAuthority + ": exhausted"},
		{"area with an unknown authority", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Cameras: []string{"CAM-A"}, AuthorityID: "nope"}))
			return err
		}, search.RuleAuthority + ": unknown"},
		{"area outside the authority's window", investigator, func() error {
			_, err := svc.Area(ctx, investigator, win(search.Request{Cameras: []string{"CAM-A"}, AuthorityID: "short-window"}))
			return err
		}, search.RuleAuthority + ": window"},
		{"convoy without authority", investigator, func() error { _, err := svc.Convoy(ctx, investigator, convoy); return err }, authz.RuleDefaultDeny},
		{"convoy with an area authority", investigator, func() error {
			r := convoy
			r.AuthorityID = "area-ac"
			_, err := svc.Convoy(ctx, investigator, r)
			return err
		}, search.RuleAuthority + ": search type convoy"},
		{"convoy of a plate outside scope", investigator, func() error {
			r := convoy
			r.VRM, r.AuthorityID = "FL22AAA", "convoy-tg"
			_, err := svc.Convoy(ctx, investigator, r)
			return err
		}, search.RuleAuthority + ": vrm FL22AAA"},
		{"multi-location without authority", investigator, func() error { _, err := svc.MultiLocation(ctx, investigator, multi); return err }, authz.RuleDefaultDeny},
		{"multi-location beyond the authority's cameras", investigator, func() error {
			r := multi
			r.AuthorityID = "multi-ab"
			r.Places = append(slices.Clone(r.Places), search.PlaceRequest{Cameras: []string{"CAM-C"}, From: now.Add(-2 * time.Hour), To: now})
			_, err := svc.MultiLocation(ctx, investigator, r)
			return err
		}, search.RuleAuthority + ": camera CAM-C"},
		{"area histogram without authority", investigator, func() error {
			_, err := svc.Histogram(ctx, investigator, search.TypeArea, win(search.Request{Area: westLondon}), reads.IntervalHour)
			return err
		}, authz.RuleDefaultDeny},
		{"convoy histogram without authority", investigator, func() error {
			_, err := svc.ConvoyHistogram(ctx, investigator, convoy, reads.IntervalHour)
			return err
		}, authz.RuleDefaultDeny},
		{"multi-location histogram without authority", investigator, func() error {
			_, err := svc.MultiLocationHistogram(ctx, investigator, multi, reads.IntervalHour)
			return err
		}, authz.RuleDefaultDeny},
		{"auditor's convoy", auditor, func() error { _, err := svc.Convoy(ctx, auditor, convoy); return err }, authz.RuleDefaultDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			err := tc.run()
			var denied *search.DeniedError
			if !errors.As(err, &denied) || !errors.Is(err, search.ErrForbidden) {
				t.Fatalf("err %v, want a refusal", err)
			}
			checkDenied(t, e.since(t, n), tc.caller, tc.rule)
		})
	}
	for id, au := range sa.byID {
		if au.uses != allAuthorities()[id].uses {
			t.Errorf("authority %s spent by a refused search", id)
		}
	}
}

func TestConvoySearch(t *testing.T) {
	e, svc, sa := sensitiveEnv(t, allAuthorities())
	ctx := context.Background()
	n := len(e.events(t))
	res, err := svc.Convoy(ctx, investigator, search.ConvoyRequest{VRM: "tg11 aaa", From: now.Add(-48 * time.Hour), To: now,
		WithinSeconds: 120, MinCameras: 2, Reason: goodReason(), AuthorityID: "convoy-tg"})
	if err != nil {
		t.Fatal(err)
	}
	if res.VRM != "TG11AAA" || res.TargetReads != 3 || len(res.Companions) != 1 || res.Companions[0].VRM != "FL22AAA" {
		t.Fatalf("convoy %+v, want FL22AAA alone (PS33AAA shares one camera)", res)
	}
	comp := res.Companions[0]
	if !slices.Equal(comp.Cameras, []string{"CAM-A", "CAM-B", "CAM-C"}) || len(comp.Sightings) != 3 || comp.MeanGapSeconds != 40 {
		t.Errorf("evidence %+v", comp)
	}
	var shown []string
	for _, sg := range comp.Sightings {
		shown = append(shown, sg.ReadID, sg.TargetReadID)
	}
	recs := e.since(t, n)
	checkAudited(t, recs, investigator, audit.ActionSearch, "convoy", 1, shown)
	checkAuthorityLinked(t, recs, "convoy-tg")
	if res.Digest != audit.DigestIDs(shown) || sa.uses("convoy-tg") != 1 {
		t.Errorf("digest %s uses %d", res.Digest, sa.uses("convoy-tg"))
	}
	if q := recs[0].Payload.Query; !strings.Contains(q, "within=2m0s k=2") || !slices.Equal(recs[0].Payload.VRMs, []string{"TG11AAA"}) {
		t.Errorf("intent payload %+v", recs[0].Payload)
	}
}

func TestMultiLocationSearch(t *testing.T) {
	e, svc, _ := sensitiveEnv(t, allAuthorities())
	ctx := context.Background()
	n := len(e.events(t))
	res, err := svc.MultiLocation(ctx, investigator, search.MultiLocationRequest{Reason: goodReason(), AuthorityID: "multi-ab", Places: []search.PlaceRequest{
		{Cameras: []string{"CAM-A"}, From: now.Add(-11 * time.Hour), To: now.Add(-5 * time.Hour)},
		{Area: &geo.Area{Centre: &[2]float64{51.4590, 0.0800}, RadiusM: 500}, From: now.Add(-10 * time.Hour), To: now.Add(-4 * time.Hour)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var shown []string
	for _, v := range res.Vehicles {
		got = append(got, v.VRM)
		for _, p := range v.Places {
			shown = append(shown, p.First.ID)
		}
	}
	// YR17KDX (the clone) at A then B; TG11AAA and FL22AAA pass A at -6h and B at -5h20m.
	if !slices.Equal(got, []string{"FL22AAA", "TG11AAA", "YR17KDX"}) {
		t.Fatalf("vehicles %v", got)
	}
	if !slices.Equal(res.Places[1].Cameras, []string{"CAM-B"}) || res.Vehicles[2].Places[1].Count != 2 {
		t.Errorf("places %+v, YR17KDX at B %+v", res.Places, res.Vehicles[2].Places[1])
	}
	recs := e.since(t, n)
	checkAudited(t, recs, investigator, audit.ActionSearch, "multi_location", 1, shown)
	checkAuthorityLinked(t, recs, "multi-ab")
}

func TestHistograms(t *testing.T) {
	e, svc, _ := sensitiveEnv(t, allAuthorities())
	ctx := context.Background()
	bucketIDs := func(h search.Histogram) []string {
		var out []string
		for _, b := range h.Buckets {
			out = append(out, b.Start.Format(time.RFC3339)+"="+strconv.FormatInt(b.Count, 10))
		}
		return out
	}
	// Exact: 48 hourly buckets, the three reads of AB12CDE in them.
	n := len(e.events(t))
	h, err := svc.Histogram(ctx, investigator, search.TypeExact, search.Request{VRM: "AB12CDE", From: now.Add(-48 * time.Hour), To: now, Reason: goodReason()}, reads.IntervalHour)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Buckets) != 48 || h.Total != 3 || h.Buckets[24].Count != 1 || h.Buckets[46].Count != 2 || h.Buckets[47].Count != 0 {
		t.Fatalf("exact histogram total %d, %d buckets: %+v", h.Total, len(h.Buckets), h.Buckets)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, "exact.histogram", 1, bucketIDs(h))

	// Area by day, with its authority: the reads at A and C over two days.
	n = len(e.events(t))
	h, err = svc.Histogram(ctx, investigator, search.TypeArea, search.Request{Area: westLondon, From: now.Add(-48 * time.Hour), To: now, Reason: goodReason(), AuthorityID: "area-ac"}, reads.IntervalDay)
	if err != nil || h.Total != 10 || len(h.Buckets) != 3 {
		t.Fatalf("area histogram: %v %+v", err, h)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, "area.histogram", 1, bucketIDs(h))

	// Convoy: the three co-sightings; multi-location: the matched vehicles' reads at the places.
	n = len(e.events(t))
	h, err = svc.ConvoyHistogram(ctx, investigator, search.ConvoyRequest{VRM: "TG11AAA", From: now.Add(-24 * time.Hour), To: now, WithinSeconds: 120, MinCameras: 2, Reason: goodReason(), AuthorityID: "convoy-tg"}, reads.IntervalHour)
	if err != nil || h.Total != 3 || len(h.Buckets) != 24 {
		t.Fatalf("convoy histogram: %v %+v", err, h)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, "convoy.histogram", 1, bucketIDs(h))
	n = len(e.events(t))
	h, err = svc.MultiLocationHistogram(ctx, investigator, search.MultiLocationRequest{Reason: goodReason(), AuthorityID: "multi-ab", Places: []search.PlaceRequest{
		{Cameras: []string{"CAM-A"}, From: now.Add(-11 * time.Hour), To: now.Add(-5 * time.Hour)},
		{Cameras: []string{"CAM-B"}, From: now.Add(-10 * time.Hour), To: now.Add(-4 * time.Hour)},
	}}, reads.IntervalHour)
	// YR17KDX 1 at A + 2 at B, TG11AAA and FL22AAA 1 at A and 1 at B each.
	if err != nil || h.Total != 7 {
		t.Fatalf("multi-location histogram: %v %+v", err, h)
	}
	checkAudited(t, e.since(t, n), investigator, audit.ActionSearch, "multi_location.histogram", 1, bucketIDs(h))
}
