package audit

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

func TestFileAnchor(t *testing.T) {
	ctx := context.Background()
	s, _ := testKeys(t, DefaultKeyName)
	path := filepath.Join(t.TempDir(), "audit.anchor")
	a := NewFileAnchor(path)
	if got, err := a.Latest(ctx); err != nil || got != nil {
		t.Fatalf("empty anchor: %q, %v", got, err)
	}
	var last Checkpoint
	for n := int64(1); n <= 3; n++ {
		c, _ := SignCheckpoint("main", tlog.Tree{N: n}, time.Unix(n, 0), s)
		if err := a.Publish(ctx, c.Note); err != nil {
			t.Fatal(err)
		}
		last = c
	}
	if got, err := a.Latest(ctx); err != nil || string(got) != string(last.Note) {
		t.Fatalf("latest = %q, %v", got, err)
	}

	// A torn final write (no newline) is ignored, and the next publish starts a fresh line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"note":"anpr-au`)
	f.Close()
	if got, err := a.Latest(ctx); err != nil || string(got) != string(last.Note) {
		t.Fatalf("after torn write: %q, %v", got, err)
	}
	c4, _ := SignCheckpoint("main", tlog.Tree{N: 4}, time.Unix(4, 0), s)
	if err := a.Publish(ctx, c4.Note); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Latest(ctx); err != nil || string(got) != string(c4.Note) {
		t.Fatalf("after publish past torn line: %q, %v", got, err)
	}

	// An edited anchor is an error, not silently an older checkpoint.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, []byte("not json\n")...), 0o644)
	if _, err := a.Latest(ctx); err == nil {
		t.Fatal("edited anchor accepted")
	}
}

// testWitness is a witness at a true process boundary: it keeps the last note it accepted and
// can be told to fail.
type testWitness struct {
	mu     sync.Mutex
	latest []byte
	down   bool
}

func (w *testWitness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		http.Error(rw, "down", http.StatusServiceUnavailable)
		return
	}
	switch r.Method {
	case http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		w.latest = b
		rw.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		if w.latest == nil {
			http.NotFound(rw, r)
			return
		}
		rw.Write(w.latest)
	}
}

func TestHTTPWitness(t *testing.T) {
	ctx := context.Background()
	s, _ := testKeys(t, DefaultKeyName)
	wit := &testWitness{}
	srv := httptest.NewServer(wit)
	defer srv.Close()
	a := HTTPWitness{URL: srv.URL, Client: srv.Client()}
	if got, err := a.Latest(ctx); err != nil || got != nil {
		t.Fatalf("empty witness: %q, %v", got, err)
	}
	c, _ := SignCheckpoint("main", tlog.Tree{N: 5}, time.Unix(5, 0), s)
	if err := a.Publish(ctx, c.Note); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Latest(ctx); err != nil || string(got) != string(c.Note) {
		t.Fatalf("latest = %q, %v", got, err)
	}
	wit.mu.Lock()
	wit.down = true
	wit.mu.Unlock()
	if err := a.Publish(ctx, c.Note); err == nil {
		t.Fatal("publish to a failing witness succeeded")
	}
	if _, err := a.Latest(ctx); err == nil {
		t.Fatal("read from a failing witness succeeded")
	}
}
