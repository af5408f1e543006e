package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// faultyNetwork sits between the store and the real node and damages chosen bulk create
// requests in flight; everything else passes through untouched. It is the process boundary, so
// the node's answers to the damaged requests are real ones.
type faultyNetwork struct {
	mu      sync.Mutex
	creates int // bulk create requests seen
	// damage may rewrite the body of bulk create request n (1-based) and may return a response
	// to splice into the node's answer.
	damage func(n int, body []byte) (newBody []byte, splice func(resp map[string]any))
}

func (f *faultyNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/_bulk") || req.Body == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var splice func(map[string]any)
	if bytes.Contains(body, []byte(`{"create":`)) {
		f.mu.Lock()
		f.creates++
		n := f.creates
		f.mu.Unlock()
		body, splice = f.damage(n, body)
	}
	if len(bytes.TrimSpace(body)) == 0 { // everything held back: answer as the node would for no items
		m := map[string]any{"took": 0, "errors": false, "items": []any{}}
		splice(m)
		out, _ := json.Marshal(m)
		return &http.Response{StatusCode: http.StatusOK, Request: req, ContentLength: int64(len(out)),
			Header: http.Header{"Content-Type": {"application/json"}, "X-Elastic-Product": {"Elasticsearch"}},
			Body:   io.NopCloser(bytes.NewReader(out))}, nil
	}
	req = req.Clone(req.Context())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || splice == nil {
		return resp, err
	}
	var m map[string]any
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	splice(m)
	out, _ := json.Marshal(m)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(out)), int64(len(out))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func openFaulty(t *testing.T, net *faultyNetwork) *Store {
	t.Helper()
	s := openTest(t)
	f, err := Open(t.Context(), Config{
		Addresses: []string{estest.Node(t).URL}, Prefix: s.cfg.Prefix, Refresh: "true",
		Transport: net, RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func manyReads(n int) []reads.Read {
	batch := make([]reads.Read, n)
	for i := range batch {
		batch[i] = storetest.Read("CAM-A", "AB12CDE", storetest.T0.Add(time.Duration(i)*time.Second))
	}
	return batch
}

func countAll(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.CountReads(t.Context(), reads.Query{Match: reads.MatchExact, Value: "AB12CDE",
		From: storetest.T0.AddDate(0, 0, -1), To: storetest.T0.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A batch larger than one bulk request, whose second request the node refuses an item of (an
// unmapped field, which the strict mapping rejects): the reads the first request stored must be
// deleted again, so the batch leaves nothing behind, and resending it then stores all of it.
func TestAppendUndoesPartialBatch(t *testing.T) {
	net := &faultyNetwork{damage: func(n int, body []byte) ([]byte, func(map[string]any)) {
		if n != 2 {
			return body, nil
		}
		i := bytes.LastIndex(body, []byte(`{"@timestamp"`))
		return bytes.Join([][]byte{body[:i], []byte(`{"unmapped":1,`), body[i+1:]}, nil), nil
	}}
	s := openFaulty(t, net)
	batch := manyReads(bulkChunk + 500)
	_, err := s.AppendReads(t.Context(), batch)
	if !errors.Is(err, reads.ErrUnavailable) {
		t.Fatalf("append with a refused item: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "unmapped") {
		t.Fatalf("error does not name the node's refusal: %v", err)
	}
	if n := countAll(t, s); n != 0 {
		t.Fatalf("%d reads of the failed batch are still stored", n)
	}
	got, err := s.AppendReads(t.Context(), batch)
	if err != nil || got.Inserted != len(batch) {
		t.Fatalf("resent batch: %+v, %v; want all %d inserted", got, err, len(batch))
	}
}

// Items the node refuses with 429 are resent until they go in, and counted once.
func TestAppendRetriesRefusedItems(t *testing.T) {
	net := &faultyNetwork{damage: func(n int, body []byte) ([]byte, func(map[string]any)) {
		if n > 2 {
			return body, nil
		}
		// Hold back the last read and answer for it as an overloaded node does.
		lines := bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n"))
		kept := append(bytes.Join(lines[:len(lines)-2], []byte("\n")), '\n')
		return kept, func(resp map[string]any) {
			resp["errors"] = true
			resp["items"] = append(resp["items"].([]any), map[string]any{"create": map[string]any{
				"_index": "x", "status": 429,
				"error": map[string]any{"type": "es_rejected_execution_exception", "reason": "queue full"}}})
		}
	}}
	s := openFaulty(t, net)
	batch := manyReads(10)
	got, err := s.AppendReads(t.Context(), batch)
	if err != nil || got != (reads.AppendResult{Inserted: 10}) {
		t.Fatalf("append through two refusals: %+v, %v; want 10 inserted", got, err)
	}
	if net.creates != 3 {
		t.Fatalf("%d bulk requests, want 3 (two refused, one retry that succeeds)", net.creates)
	}
	if n := countAll(t, s); n != 10 {
		t.Fatalf("stored %d reads, want 10", n)
	}
}

// Items refused on every attempt make the append fail as unavailable after MaxRetries, with
// nothing left behind.
func TestAppendGivesUpAfterRetries(t *testing.T) {
	net := &faultyNetwork{damage: func(n int, body []byte) ([]byte, func(map[string]any)) {
		lines := bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n"))
		var kept []byte
		if len(lines) > 2 {
			kept = append(bytes.Join(lines[:len(lines)-2], []byte("\n")), '\n')
		}
		return kept, func(resp map[string]any) {
			items, _ := resp["items"].([]any)
			resp["errors"] = true
			resp["items"] = append(items, map[string]any{"create": map[string]any{"_index": "x", "status": 503}})
		}
	}}
	s := openFaulty(t, net)
	_, err := s.AppendReads(t.Context(), manyReads(3))
	if !errors.Is(err, reads.ErrUnavailable) {
		t.Fatalf("append refused every time: %v, want ErrUnavailable", err)
	}
	if n := countAll(t, s); n != 0 {
		t.Fatalf("%d reads left behind", n)
	}
}
