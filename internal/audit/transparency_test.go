package audit

import (
	"reflect"
	"testing"
	"time"
)

func TestTransparencyCounts(t *testing.T) {
	london := time.FixedZone("BST", 3600) // fixed, so the test needs no tz database
	june := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	// 23:30 UTC on 31 July is 00:30 BST on 1 August: it belongs to August in London.
	lateJuly := time.Date(2025, 7, 31, 23, 30, 0, 0, time.UTC)
	ev := func(seq int64, at time.Time, a Action, s Stage, d Effect, band int, purpose string) Event {
		return Event{Seq: seq, Time: at, Action: a, Stage: s, Decision: d, Band: band, Reason: Reason{Purpose: purpose}}
	}
	tr := NewTransparency(london)
	for _, e := range []Event{
		ev(1, june, ActionSearch, StageIntent, EffectAllow, 1, "serious_crime"),
		ev(2, june, ActionSearch, StageOutcome, EffectAllow, 1, "serious_crime"), // not counted twice
		ev(3, june, ActionSearch, StageIntent, EffectAllow, 1, "serious_crime"),
		ev(4, june, ActionSearch, StageIntent, EffectAllow, 2, "counter_terrorism"),
		ev(5, june, ActionSearch, StageEvent, EffectDeny, 2, "serious_crime"),
		ev(6, june, ActionAuthorityRequest, StageEvent, EffectAllow, 0, ""),
		ev(7, june, ActionAuthorityApprove, StageEvent, EffectAllow, 0, ""),
		ev(8, june, ActionAuthorityApprove, StageEvent, EffectDeny, 0, ""), // self-approval refused
		ev(9, lateJuly, ActionAuthorityReject, StageEvent, EffectAllow, 0, ""),
		ev(10, lateJuly, ActionSearch, StageEvent, EffectAllow, 0, ""),
		ev(11, lateJuly, ActionLogin, StageEvent, EffectAllow, 0, ""),
	} {
		tr.Add(e)
	}
	got := tr.Report()
	want := TransparencyReport{Events: 11, Months: []TransparencyMonth{
		{Month: "2025-06", Searches: 3, Denials: 2, AuthoritiesRequested: 1, AuthoritiesApproved: 1,
			SearchesByBand: []SearchCount{{1, "serious_crime", 2}, {2, "counter_terrorism", 1}}},
		{Month: "2025-08", Searches: 1, AuthoritiesRejected: 1,
			SearchesByBand: []SearchCount{{0, "unspecified", 1}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("report\n got %+v\nwant %+v", got, want)
	}
}
