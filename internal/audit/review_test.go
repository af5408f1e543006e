package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// reviewLog is a real SQLite audit log with a clock the test moves.
type reviewLog struct {
	*sqlite.AuditLog
	mu  sync.Mutex
	now time.Time
}

func newReviewLog(t *testing.T) *reviewLog {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if _, err := audit.InitKeys(keys, audit.DefaultKeyName, rand.Reader); err != nil {
		t.Fatal(err)
	}
	s, err := audit.LoadSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	r := &reviewLog{now: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)} // a Thursday
	l, err := sqlite.OpenAuditLog(context.Background(), filepath.Join(dir, "audit.db"), sqlite.AuditOptions{
		Signer: s, Clock: func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r.AuditLog = l
	return r
}

func (r *reviewLog) at(t time.Time) { r.mu.Lock(); r.now = t; r.mu.Unlock() }

func (r *reviewLog) search(t *testing.T, user, vrm, why string, d audit.Effect) audit.Event {
	t.Helper()
	e, err := r.Append(context.Background(), audit.Event{
		Actor: audit.Actor{Subject: user, Name: user}, Action: audit.ActionSearch, Stage: audit.StageIntent,
		Decision: d, Reason: audit.Reason{Purpose: "serious_crime", CaseRef: "CR/1/25"}, Band: 1,
	}, audit.Payload{VRMs: []string{vrm}, Query: "exact vrm=" + vrm, Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var auditor = audit.ReviewRequest{
	Event:         audit.Event{Actor: audit.Actor{Subject: "aud-1", Name: "Auditor", Roles: []string{"auditor"}}, Decision: audit.EffectAllow, Rule: "auditor.read"},
	Justification: "quarterly compliance review of ANPR access",
}

const goodReason = "vehicle seen leaving the burglary at 12 High Street"

// Reading the audit is itself audited: the auditor's query leaves an intent and an outcome whose
// digest is of exactly the seqs returned.
func TestReviewQueryIsAudited(t *testing.T) {
	ctx := context.Background()
	l := newReviewLog(t)
	for i := range 5 {
		l.search(t, fmt.Sprintf("u%d", i%2), "AB12CDE", goodReason, audit.EffectAllow)
	}
	rv := audit.Reviewer{Log: l}
	page, err := rv.Timeline(ctx, auditor, "u0", audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, r := range page.Records {
		seqs = append(seqs, fmt.Sprint(r.Event.Seq))
	}
	if strings.Join(seqs, ",") != "5,3,1" {
		t.Fatalf("timeline %v, want newest first 5,3,1", seqs)
	}
	reads, err := l.Read(ctx, audit.Filter{Action: audit.ActionAuditRead})
	if err != nil || len(reads.Records) != 2 {
		t.Fatalf("audit of the audit: %v, %v", reads.Records, err)
	}
	in, out := reads.Records[0], reads.Records[1].Event
	if in.Event.Actor.Subject != "aud-1" || in.Payload == nil || !strings.Contains(in.Payload.Query, `actor="u0"`) ||
		in.Payload.Justification != auditor.Justification {
		t.Fatalf("intent %+v payload %+v", in.Event, in.Payload)
	}
	if out.ResultCount != 3 || out.ResultDigest != audit.DigestIDs(seqs) {
		t.Fatalf("outcome %+v does not record what was shown", out)
	}
	if _, err := rv.Timeline(ctx, auditor, "", audit.Filter{}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("timeline without a user: %v", err)
	}
}

func TestReviewSampleIsReproducible(t *testing.T) {
	ctx := context.Background()
	l := newReviewLog(t)
	for i := range 40 {
		l.search(t, fmt.Sprintf("u%d", i%4), "AB12CDE", goodReason, audit.EffectAllow)
	}
	rv := audit.Reviewer{Log: l}
	f := audit.Filter{Action: audit.ActionSearch}
	draw := func(seed uint64) []int64 {
		recs, err := rv.Sample(ctx, auditor, f, 5, seed)
		if err != nil {
			t.Fatal(err)
		}
		var s []int64
		for _, r := range recs {
			if r.Event.Action != audit.ActionSearch {
				t.Fatalf("sampled seq %d outside the filter", r.Event.Seq)
			}
			s = append(s, r.Event.Seq)
		}
		return s
	}
	a, b, c := draw(7), draw(7), draw(8)
	if len(a) != 5 || !slices.Equal(a, b) {
		t.Fatalf("same seed gave %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 drew the same sample %v", a)
	}
	if _, err := rv.Sample(ctx, auditor, f, 0, 1); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("empty sample: %v", err)
	}
}

func TestReviewExportDigestIsRecorded(t *testing.T) {
	ctx := context.Background()
	l := newReviewLog(t)
	l.search(t, "u1", "AB12CDE", "=HYPERLINK(\"http://evil\") "+goodReason, audit.EffectAllow)
	l.search(t, "u2", "XY99ZZZ", goodReason, audit.EffectDeny)
	rv := audit.Reviewer{Log: l}
	for _, format := range []audit.ExportFormat{audit.ExportCSV, audit.ExportNDJSON} {
		t.Run(string(format), func(t *testing.T) {
			var buf bytes.Buffer
			d, err := rv.Export(ctx, auditor, audit.Filter{Action: audit.ActionSearch}, format, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if d != audit.Digest(sha256.Sum256(buf.Bytes())) {
				t.Fatal("returned digest is not the digest of the bytes written")
			}
			page, _ := l.Read(ctx, audit.Filter{Action: audit.ActionAuditExport, Newest: true, Limit: 1})
			if out := page.Records[0].Event; out.Stage != audit.StageOutcome || out.ResultDigest != d || out.ResultCount != 2 {
				t.Fatalf("outcome %+v does not record the export", out)
			}
			if format == audit.ExportCSV {
				rows, err := csv.NewReader(&buf).ReadAll()
				if err != nil || len(rows) != 3 {
					t.Fatalf("csv %v, %v", rows, err)
				}
				if j := rows[1][28]; !strings.HasPrefix(j, "'=") {
					t.Fatalf("formula not defused: %q", j)
				}
			}
		})
	}
	if _, err := rv.Export(ctx, auditor, audit.Filter{}, "xlsx", &bytes.Buffer{}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("unknown format: %v", err)
	}
}

// Each flag is raised by the pattern it names, and a user who works normally raises none.
func TestReviewAnomalies(t *testing.T) {
	ctx := context.Background()
	l := newReviewLog(t)
	start := time.Date(2025, 5, 5, 10, 0, 0, 0, time.UTC) // Monday
	// Baseline: "spiker" and "normal" search twice every day for four weeks.
	for d := range 28 {
		for _, u := range []string{"spiker", "normal"} {
			l.at(start.AddDate(0, 0, d))
			l.search(t, u, fmt.Sprintf("BL%02dAAA", d), goodReason, audit.EffectAllow)
			l.search(t, u, fmt.Sprintf("BL%02dBBB", d), goodReason, audit.EffectAllow)
		}
	}
	window := start.AddDate(0, 0, 28) // Monday 2 June
	l.at(window)
	for i := range 25 {
		l.search(t, "spiker", fmt.Sprintf("SP%02dXXX", i), goodReason+fmt.Sprint(i), audit.EffectAllow)
	}
	l.search(t, "normal", "NM01AAA", goodReason, audit.EffectAllow)
	for _, u := range []string{"a", "b", "c"} {
		l.search(t, u, "SH4RED1", goodReason+" "+u, audit.EffectAllow)
	}
	l.search(t, "vague", "VG01AAA", "Intel.", audit.EffectAllow)
	for i := range 10 {
		l.search(t, "copier", fmt.Sprintf("CP%02dAAA", i), "Suspected drug supply vehicle, operation Nightjar", audit.EffectAllow)
	}
	deny := l.search(t, "retrier", "RT01AAA", goodReason, audit.EffectDeny)
	l.at(window.Add(5 * time.Minute))
	retry := l.search(t, "retrier", "RT01AAA", goodReason, audit.EffectAllow)
	l.at(window.Add(16 * time.Hour)) // 02:00 on Tuesday
	night := l.search(t, "owl", "OW01AAA", goodReason, audit.EffectAllow)

	flags, err := audit.Reviewer{Log: l}.Anomalies(ctx, auditor, window, window.AddDate(0, 0, 1), audit.AnomalyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]audit.Anomaly{}
	for _, f := range flags {
		got[string(f.Kind)+"/"+f.Actor+f.VRM] = f
	}
	for _, want := range []string{
		"volume_spike/spiker", "out_of_hours/owl", "many_users_one_vrm/SH4RED1", "vague_reason/vague",
		"repeated_reason/copier", "denied_then_retried/retrier",
	} {
		if _, ok := got[want]; !ok {
			t.Errorf("missing flag %s in %v", want, flags)
		}
	}
	if len(got) != 6 {
		t.Errorf("unexpected flags: %v", flags)
	}
	if f := got["denied_then_retried/retrier"]; !slices.Equal(f.Seqs, []int64{deny.Seq, retry.Seq}) {
		t.Errorf("retry evidence %v", f.Seqs)
	}
	if f := got["out_of_hours/owl"]; !slices.Equal(f.Seqs, []int64{night.Seq}) {
		t.Errorf("night evidence %v", f.Seqs)
	}
	if _, err := (audit.Reviewer{Log: l}).Anomalies(ctx, auditor, window, window, audit.AnomalyOptions{}); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("empty window: %v", err)
	}
}

// The public report counts only events a signed checkpoint covers, and carries that checkpoint.
func TestTransparencyUpdateFromLog(t *testing.T) {
	ctx := context.Background()
	l := newReviewLog(t)
	tr := audit.NewTransparency(nil)
	rep, err := tr.Update(ctx, l, l)
	if err != nil || rep.Events != 0 || rep.Checkpoint != nil {
		t.Fatalf("empty log: %+v, %v", rep, err)
	}
	for range 3 {
		l.search(t, "u1", "AB12CDE", goodReason, audit.EffectAllow)
	}
	l.search(t, "u1", "AB12CDE", goodReason, audit.EffectDeny)
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.search(t, "u1", "AB12CDE", goodReason, audit.EffectAllow) // not yet signed
	rep, err = tr.Update(ctx, l, l)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 4 || rep.Checkpoint == nil || rep.Checkpoint.Size != cp.Size || len(rep.Months) != 1 ||
		rep.Months[0].Searches != 3 || rep.Months[0].Denials != 1 {
		t.Fatalf("report %+v", rep)
	}
	l.Checkpoint(ctx)
	if rep, _ = tr.Update(ctx, l, l); rep.Events != 5 || rep.Months[0].Searches != 4 {
		t.Fatalf("after the next checkpoint: %+v", rep)
	}
}
