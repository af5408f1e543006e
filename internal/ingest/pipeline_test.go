package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.PutCameras(context.Background(), []reads.Camera{
		{ID: "CAM1", Name: "A406 / Brent Cross NB", Lat: 51.57, Lon: -0.22},
		{ID: "CAM2", Name: "A13 / Barking EB", Lat: 51.53, Lon: 0.08},
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

type setup struct {
	store  *sqlite.Store
	writer *ingest.Writer
	pipe   func() *ingest.Pipeline
}

func newSetup(t *testing.T, app reads.Appender, store *sqlite.Store, queue int) setup {
	t.Helper()
	cams, err := ingest.NewCameraCache(context.Background(), store, func() time.Time { return now }, time.Hour, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	w := ingest.NewWriter(app, queue)
	t.Cleanup(func() { w.Close(context.Background()) })
	v := &ingest.Validator{Cameras: cams, Now: func() time.Time { return now }, ClockSkew: 5 * time.Minute}
	return setup{store: store, writer: w, pipe: func() *ingest.Pipeline {
		return &ingest.Pipeline{Validator: v, Writer: w, BatchSize: 3, MaxLineBytes: 256, MaxErrors: 100, SubmitWait: 2 * time.Second}
	}}
}

func count(t *testing.T, s reads.Finder) int64 {
	t.Helper()
	var total int64
	for _, v := range []string{"AB12CDE", "XY51ABC"} {
		n, err := s.CountReads(context.Background(), reads.Query{Match: reads.MatchExact, Value: v, From: now.Add(-1000 * 24 * time.Hour), To: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

func line(cam, vrm, at string) string {
	return fmt.Sprintf(`{"camera_id":%q,"vrm":%q,"seen_at":%q,"confidence":0.9}`, cam, vrm, at)
}

// A file with one bad line of every kind: exactly those lines are reported, the rest stored, and
// loading it again adds nothing.
func TestPipelineReportsBadLinesAndIsIdempotent(t *testing.T) {
	st := openStore(t)
	s := newSetup(t, st, st, 4)
	in := strings.Join([]string{
		line("CAM1", "AB12 CDE", "2026-11-20T08:00:00Z"),                                       // 1 ok
		`{"camera_id":"CAM1","vrm":"AB12CDE"`,                                                  // 2 truncated JSON
		line("CAM1", "AB12CDE", "2026-11-20T08:00:01Z"),                                        // 3 ok
		`{"camera_id":"CAM1","vrm":"AB12CDE","seen_at":"2026-11-20T08:00:00Z","colour":"red"}`, // 4 unknown field
		line("CAM1", "AB!2CDE", "2026-11-20T08:00:00Z"),                                        // 5 invalid plate
		line("CAM1", "AB12CDE", "yesterday"),                                                   // 6 bad time
		line("CAM1", "AB12CDE", "2026-11-21T08:00:00Z"),                                        // 7 future
		line("CAM9", "AB12CDE", "2026-11-20T08:00:00Z"),                                        // 8 unknown camera
		`{"camera_id":"CAM1","seen_at":"2026-11-20T08:00:00Z"}`,                                // 9 missing vrm
		``, // 10 blank
		`{"camera_id":"CAM2","vrm":"XY51ABC","seen_at":"2026-11-20T08:00:00Z","confidence":1.5}`, // 11 bad value
		line("CAM2", "XY51 ABC", "2026-11-20T09:00:00+01:00"),                                    // 12 ok (zone)
		`{"camera_id":"CAM2","vrm":"XY51ABC","seen_at":"2026-11-20T08:00:00Z"} {}`,               // 13 trailing
		line("CAM2", "XY51ABC", "2026-11-20T09:30:00Z"),                                          // 14 ok, no newline at end
	}, "\n")
	want := map[int64]string{2: ingest.CodeMalformed, 4: ingest.CodeUnknownField, 5: ingest.CodeInvalidVRM,
		6: ingest.CodeInvalidTime, 7: ingest.CodeFutureTime, 8: ingest.CodeUnknownCamera, 9: ingest.CodeMissingField,
		11: ingest.CodeInvalidValue, 13: ingest.CodeTrailingGarbage}

	rep, err := s.pipe().Run(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lines != 14 || rep.Accepted != 4 || rep.Inserted != 4 || rep.Rejected != int64(len(want)) {
		t.Fatalf("report %+v", rep)
	}
	got := map[int64]string{}
	for _, e := range rep.Errors {
		got[e.Line] = e.Code
		if e.Message == "" {
			t.Errorf("line %d: empty message", e.Line)
		}
	}
	for l, code := range want {
		if got[l] != code {
			t.Errorf("line %d: got %q want %q (all: %v)", l, got[l], code, got)
		}
	}
	if n := count(t, s.store); n != 4 {
		t.Fatalf("stored %d reads, want 4", n)
	}
	rep2, err := s.pipe().Run(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Inserted != 0 || rep2.Duplicates != 4 {
		t.Fatalf("second load inserted %d dup %d", rep2.Inserted, rep2.Duplicates)
	}
	if n := count(t, s.store); n != 4 {
		t.Fatalf("after re-send: %d reads, want 4", n)
	}
}

func TestLineTooLongIsSkippedNotBuffered(t *testing.T) {
	st := openStore(t)
	s := newSetup(t, st, st, 4)
	long := `{"camera_id":"CAM1","vrm":"AB12CDE","seen_at":"2026-11-20T08:00:00Z","x":"` + strings.Repeat("a", 5000) + `"}`
	in := long + "\n" + line("CAM1", "AB12CDE", "2026-11-20T08:00:00Z") + "\n"
	rep, err := s.pipe().Run(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 1 || rep.Errors[0].Line != 1 || rep.Errors[0].Code != ingest.CodeLineTooLong || rep.Inserted != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestMaxErrorsTruncatesListNotCount(t *testing.T) {
	st := openStore(t)
	s := newSetup(t, st, st, 4)
	p := s.pipe()
	p.MaxErrors = 2
	rep, err := p.Run(context.Background(), strings.NewReader("x\ny\nz\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 3 || len(rep.Errors) != 2 || !rep.ErrorsTruncated {
		t.Fatalf("report %+v", rep)
	}
}

func TestBodyLimitStopsReading(t *testing.T) {
	st := openStore(t)
	s := newSetup(t, st, st, 4)
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.WriteString(line("CAM1", "AB12CDE", now.Add(-time.Duration(i+1)*time.Minute).Format(time.RFC3339)) + "\n")
	}
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(b.String())), 1000)
	rep, err := s.pipe().Run(context.Background(), body)
	if !errors.Is(err, ingest.ErrBodyTooLarge) {
		t.Fatalf("want ErrBodyTooLarge, got %v", err)
	}
	// What was stored is exactly what the report says was stored.
	if n := count(t, st); n != rep.Inserted || rep.Accepted != rep.Inserted {
		t.Fatalf("stored %d, report %+v", n, rep)
	}
}

// gate is a disk that stalls until released: a fault at the process boundary, so the writer's
// queue fills exactly as it would behind a slow disk.
type gate struct {
	next    reads.Appender
	release chan struct{}
}

func (g *gate) AppendReads(ctx context.Context, b []reads.Read) (reads.AppendResult, error) {
	<-g.release
	return g.next.AppendReads(ctx, b)
}

func TestSaturatedWriterRefusesThenRecovers(t *testing.T) {
	st := openStore(t)
	g := &gate{next: st, release: make(chan struct{})}
	s := newSetup(t, g, st, 1)
	if _, err := s.writer.Submit(context.Background(), []reads.Read{}); err != nil { // taken by the writer, stalls
		t.Fatal(err)
	}
	deadline := time.Now().Add(proc.WaitCap)
	for {
		// Fill the queue behind the stalled batch.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := s.writer.Submit(ctx, []reads.Read{})
		cancel()
		if errors.Is(err, ingest.ErrSaturated) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("queue never filled")
		}
	}
	if !s.writer.Saturated() {
		t.Fatal("writer should report saturation")
	}
	p := s.pipe()
	p.SubmitWait = 50 * time.Millisecond
	in := strings.Repeat(line("CAM1", "AB12CDE", "2026-11-20T08:00:00Z")+"\n", 4)
	if _, err := p.Run(context.Background(), strings.NewReader(in)); !errors.Is(err, ingest.ErrSaturated) {
		t.Fatalf("want ErrSaturated, got %v", err)
	}
	close(g.release)
	rep, err := s.pipe().Run(context.Background(), strings.NewReader(in))
	if err != nil || rep.Inserted+rep.Duplicates != 4 {
		t.Fatalf("after release: %+v %v", rep, err)
	}
}

func TestCloseDrainsQueuedBatches(t *testing.T) {
	st := openStore(t)
	w := ingest.NewWriter(st, 8)
	var tickets []*ingest.Ticket
	for i := 0; i < 5; i++ {
		r := reads.Read{VRM: "AB12CDE", Skeleton: plate.Skeleton("AB12CDE"), CameraID: "CAM1", SeenAt: now.Add(-time.Duration(i) * time.Minute)}
		r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		tk, err := w.Submit(context.Background(), []reads.Read{r})
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Submit(context.Background(), nil); !errors.Is(err, ingest.ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
	for _, tk := range tickets {
		if _, err := tk.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, st); n != 5 {
		t.Fatalf("stored %d of 5 queued reads", n)
	}
}
