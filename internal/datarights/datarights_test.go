package datarights_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/datarights"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	svc   *datarights.Service
	reads *sqlite.Store
	log   *sqlite.AuditLog
}

func newEnv(t *testing.T, batch ...reads.Read) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{}
	var err error
	if e.reads, err = sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.reads.Close() })
	if err := e.reads.PutCameras(ctx, []reads.Camera{{ID: "CAM-A", Name: "A40 Perivale EB", Road: "A40", Direction: "E", Lat: 51.537, Lon: -0.323}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reads.AppendReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return t0 }
	e.log = sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{Clock: clock})
	if e.svc, err = datarights.New(e.reads, e.log, clock); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) records(t *testing.T) []audit.Record { return sqlitetest.Records(t, e.log) }

var (
	manager = datarights.Caller{Actor: audit.Actor{Subject: "mgr-1", Name: "ANPR Manager"}, RequestID: "req-d", Rule: "policy.csv:73"}
	reason  = authz.Reason{Purpose: "data_protection", CaseRef: "DP/0042/26",
		Justification: "the registered keeper proved with photographs that the camera misread the plate on this date"}
)

func stored(r reads.Read) reads.Read {
	r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
	return r
}

func TestCorrectAuditsDigestsNotPlates(t *testing.T) {
	wrong := storetest.Read("CAM-A", "AB12C0E", t0.Add(-time.Hour))
	e := newEnv(t, wrong)
	got, err := e.svc.Correct(t.Context(), manager, stored(wrong).ID, "AB12CDE", reason)
	if err != nil {
		t.Fatal(err)
	}
	if got.Read.VRM != "AB12CDE" || got.Before != stored(wrong).ID || got.Read.ID == got.Before ||
		got.BeforeDigest != datarights.ReadDigest(stored(wrong)) || got.AfterDigest != datarights.ReadDigest(got.Read) {
		t.Fatalf("correction = %+v", got)
	}
	recs := e.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d events, want intent + outcome", len(recs))
	}
	in, out := recs[0], recs[1]
	if in.Event.Action != datarights.ActionCorrect || in.Event.ResultDigest != got.BeforeDigest || in.Event.Reason.Purpose != "data_protection" ||
		out.Event.ResultDigest != got.AfterDigest || out.Event.Status != audit.StatusOK {
		t.Fatalf("events = %+v / %+v", in.Event, out.Event)
	}
	if !strings.Contains(in.Payload.Query, got.Before) || !strings.Contains(in.Payload.Query, got.Read.ID) || len(in.Payload.VRMs) != 0 {
		t.Fatalf("payload = %+v", in.Payload)
	}
	_, err = e.svc.Correct(t.Context(), manager, "0123456789abcdef", "AB12CDE", reason)
	if !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("unknown read: %v", err)
	}
}

// The audit keeps that an erasure happened and the digest of the erased read, nowhere its plate.
func TestEraseKeepsNoErasedData(t *testing.T) {
	gone := storetest.Read("CAM-A", "ER45ASE", t0.Add(-time.Hour))
	e := newEnv(t, gone)
	got, err := e.svc.Erase(t.Context(), manager, stored(gone).ID, reason)
	if err != nil || got.Digest != datarights.ReadDigest(stored(gone)) {
		t.Fatalf("Erase = %+v, %v", got, err)
	}
	if _, err := e.reads.GetRead(t.Context(), stored(gone).ID); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("erased read still there: %v", err)
	}
	recs := e.records(t)
	if len(recs) != 2 || recs[0].Event.Action != datarights.ActionErase || recs[1].Event.ResultDigest != got.Digest {
		t.Fatalf("events = %+v", recs)
	}
	raw, _ := json.Marshal(recs)
	if bytes.Contains(raw, []byte("ER45ASE")) || bytes.Contains(raw, []byte(stored(gone).SeenAt.Format(time.RFC3339))) {
		t.Fatalf("the audit holds the erased read's data: %s", raw)
	}
}

// A subject access report lists every read held of the plate in the window, past retention
// included, and the digest in the durable outcome is that of exactly the bytes written.
func TestSubjectAccessReport(t *testing.T) {
	batch := []reads.Read{
		storetest.Read("CAM-A", "SA12RRR", t0.Add(-time.Hour)),
		storetest.Read("CAM-X", "SA12RRR", t0.AddDate(0, -5, 0)),
		storetest.Read("CAM-A", "SA12RRR", t0.AddDate(-2, 0, 0)), // past retention, kept by a hold
		storetest.Read("CAM-A", "OT43HER", t0.Add(-time.Hour)),
	}
	e := newEnv(t, batch...)
	var buf bytes.Buffer
	n, d, err := e.svc.SubjectAccess(t.Context(), manager, datarights.SubjectAccessRequest{
		VRM: "sa12 rrr", From: t0.AddDate(-3, 0, 0), To: t0, Reason: reason}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || d != audit.Digest(sha256.Sum256(buf.Bytes())) {
		t.Fatalf("rows %d, digest %s; want 3 and the file's digest", n, d)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(datarights.CSVHeader, ",") {
		t.Fatalf("csv = %v, %v", rows, err)
	}
	if rows[1][0] != stored(batch[2]).ID || rows[3][4] != "A40 Perivale EB" || rows[2][4] != "" {
		t.Fatalf("rows not oldest first with camera names: %v", rows)
	}
	recs := e.records(t)
	if len(recs) != 2 || recs[1].Event.ResultCount != 3 || recs[1].Event.ResultDigest != d || recs[0].Payload.VRMs[0] != "SA12RRR" {
		t.Fatalf("events = %+v", recs)
	}
	for _, bad := range []datarights.SubjectAccessRequest{
		{VRM: "!!", From: t0.AddDate(-1, 0, 0), To: t0},
		{VRM: "SA12RRR", To: t0},
		{VRM: "SA12RRR", From: t0, To: t0.AddDate(-1, 0, 0)},
		{VRM: "SA12RRR", From: t0.AddDate(-20, 0, 0), To: t0},
	} {
		if _, _, err := e.svc.SubjectAccess(t.Context(), manager, bad, &bytes.Buffer{}); !errors.Is(err, reads.ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
