package search_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// parseExport reads an export back, checking the header, and returns its rows.
func parseExport(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, b)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], search.ExportColumns) {
		t.Fatalf("export header %v", rows)
	}
	return rows[1:]
}

// checkExportAudited asserts recs are an allowed export intent and an outcome whose count and
// digest are the file's: what left the portal, byte for byte.
func checkExportAudited(t *testing.T, recs []audit.Record, c search.Caller, typ string, rows int, file []byte) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("want intent + outcome, got %d events: %+v", len(recs), recs)
	}
	in, out := recs[0].Event, recs[1].Event
	for _, ev := range []audit.Event{in, out} {
		if ev.Action != audit.ActionExport || ev.SearchType != typ || ev.Decision != audit.EffectAllow || ev.Actor.Subject != c.Subject ||
			!strings.HasPrefix(ev.Rule, "policy.csv:") || !strings.Contains(ev.Rule, "; policy.csv:") {
			t.Errorf("event fields (want both the search and the export rule): %+v", ev)
		}
	}
	if recs[0].Payload == nil || !strings.HasPrefix(recs[0].Payload.Query, "export "+typ+" ") {
		t.Errorf("intent payload %+v", recs[0].Payload)
	}
	if out.Stage != audit.StageOutcome || out.IntentSeq != in.Seq || out.Status != audit.StatusOK ||
		out.ResultCount != int64(rows) || out.ResultDigest != audit.Digest(sha256.Sum256(file)) {
		t.Errorf("outcome %+v; want count %d and the file's SHA-256 %x", out, rows, sha256.Sum256(file))
	}
}

func TestExportEachTypeWritesEveryReadAndAuditsTheFile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := search.Request{From: now.Add(-48 * time.Hour), To: now, Reason: goodReason()}
	for _, tc := range []struct {
		typ  search.Type
		edit func(r *search.Request)
		want []seedRead // in file order
	}{
		{search.TypeExact, func(r *search.Request) { r.VRM = "AB12CDE" }, []seedRead{seeded[1], seeded[0], seeded[2]}},
		{search.TypePartial, func(r *search.Request) { r.Pattern = "AB12C?E" }, []seedRead{seeded[1], seeded[0], seeded[3], seeded[2]}},
		{search.TypeMisread, func(r *search.Request) { r.VRM = "AB12CDE" }, []seedRead{seeded[1], seeded[0], seeded[3], seeded[4], seeded[2]}},
		{search.TypeJourney, func(r *search.Request) { r.VRM = "YR17KDX" }, []seedRead{seeded[5], seeded[6], seeded[7]}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			r := day
			tc.edit(&r)
			n := len(e.events(t))
			var file bytes.Buffer
			res, err := e.svc.Export(ctx, investigator, tc.typ, r, &file)
			if err != nil {
				t.Fatal(err)
			}
			rows := parseExport(t, file.Bytes())
			var got []string
			for _, row := range rows {
				got = append(got, row[0])
			}
			if want := e.idsOf(tc.want...); !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
			if res.Count != int64(len(rows)) || res.Digest != audit.Digest(sha256.Sum256(file.Bytes())) || res.Band != authz.Band1 {
				t.Errorf("result %+v", res)
			}
			checkExportAudited(t, e.since(t, n), investigator, string(tc.typ), len(rows), file.Bytes())
			if tc.typ == search.TypeMisread {
				for _, row := range rows {
					if row[1] == "AB12C0E" && !strings.Contains(row[12], "D read as 0") {
						t.Errorf("misread row not explained: %v", row)
					}
				}
			}
			if row := rows[0]; row[4] == "" || row[6] == "" || row[7] == "" {
				t.Errorf("row lacks the camera's name and position: %v", row)
			}
		})
	}
}

// An export walks every page the store returns, not only the first.
func TestExportWalksAllPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = reads.MaxPageSize + 7
	batch := make([]reads.Read, 0, n)
	for i := 0; i < n; i++ {
		batch = append(batch, storetest.Read("CAM-A", "PG12AGE", now.Add(-time.Duration(i+1)*time.Second)))
	}
	if _, err := e.store.AppendReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	res, err := e.svc.Export(ctx, investigator, search.TypeExact, search.Request{VRM: "PG12AGE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}, &file)
	if err != nil {
		t.Fatal(err)
	}
	rows := parseExport(t, file.Bytes())
	seen := map[string]bool{}
	for _, row := range rows {
		seen[row[0]] = true
	}
	if res.Count != n || len(rows) != n || len(seen) != n {
		t.Fatalf("exported %d rows (%d distinct, count %d), want %d", len(rows), len(seen), res.Count, n)
	}
}

// Cells that a spreadsheet would run as a formula are defused by the same rule as audit exports.
func TestExportDefusesFormulas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	evil := reads.Camera{ID: "CAM-X", Name: `=HYPERLINK("http://evil.example","click")`, Road: "@SUM(A1)", Lat: 51.5, Lon: -0.12}
	if err := e.store.PutCameras(ctx, []reads.Camera{evil}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AppendReads(ctx, []reads.Read{storetest.Read("CAM-X", "FM12ULA", now.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if _, err := e.svc.Export(ctx, investigator, search.TypeExact, search.Request{VRM: "FM12ULA", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}, &file); err != nil {
		t.Fatal(err)
	}
	rows := parseExport(t, file.Bytes())
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	if row := rows[0]; row[4] != "'"+evil.Name || row[5] != "'"+evil.Road || row[7] != "-0.12" {
		t.Errorf("name %q road %q lon %q: formulas must be quoted, numbers left alone", row[4], row[5], row[7])
	}
}

// Exports are refused like the search they export, and each refusal is audited; bad input is
// refused before anything is recorded or written.
func TestExportRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	band2 := search.Request{VRM: "LD09HBR", From: now.Add(-250 * 24 * time.Hour), To: now, Reason: goodReason()}
	for _, tc := range []struct {
		name string
		c    search.Caller
		r    search.Request
		rule string
	}{
		{"band 2 by an investigator", investigator, band2, authz.RuleDefaultDeny},
		{"auditor", auditor, search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}, authz.RuleDefaultDeny},
		{"authority without an authority service", investigator, search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason(), AuthorityID: "auth-1"}, search.RuleAuthority},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			var file bytes.Buffer
			_, err := e.svc.Export(ctx, tc.c, search.TypeExact, tc.r, &file)
			if !errors.Is(err, search.ErrForbidden) {
				t.Fatalf("err %v, want ErrForbidden", err)
			}
			if file.Len() != 0 {
				t.Errorf("a refused export wrote %d bytes", file.Len())
			}
			recs := e.since(t, n)
			checkDenied(t, recs, tc.c, tc.rule)
			if recs[0].Event.Action != audit.ActionExport {
				t.Errorf("denial recorded as %q, want %q", recs[0].Event.Action, audit.ActionExport)
			}
		})
	}
	for _, tc := range []struct {
		name string
		typ  search.Type
		edit func(r *search.Request)
		want string
	}{
		{"cursor", search.TypeExact, func(r *search.Request) { r.Cursor = "s1.abc.def" }, "leave out the cursor"},
		{"limit", search.TypeExact, func(r *search.Request) { r.Limit = 10 }, "leave out the limit"},
		{"unknown type", "everything", func(r *search.Request) {}, "cannot be exported"},
		{"vague pattern", search.TypePartial, func(r *search.Request) { r.VRM, r.Pattern = "", "*" }, "would match every plate"},
		{"reversed window", search.TypeExact, func(r *search.Request) { r.From, r.To = r.To, r.From }, "reversed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			r := search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}
			tc.edit(&r)
			var file bytes.Buffer
			_, err := e.svc.Export(ctx, investigator, tc.typ, r, &file)
			if !errors.Is(err, search.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrInvalid saying %q", err, tc.want)
			}
			if got := e.since(t, n); len(got) != 0 || file.Len() != 0 {
				t.Errorf("bad input left %d events and %d bytes", len(got), file.Len())
			}
		})
	}
}

// With the audit log down nothing is exported: the intent cannot be recorded, so no query runs.
func TestExportAuditDownFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.log.Close()
	var file bytes.Buffer
	_, err := e.svc.Export(context.Background(), investigator, search.TypeExact, search.Request{VRM: "AB12CDE", From: now.Add(-24 * time.Hour), To: now, Reason: goodReason()}, &file)
	if !errors.Is(err, audit.ErrUnavailable) || file.Len() != 0 {
		t.Errorf("export with audit down: %v, %d bytes", err, file.Len())
	}
}
