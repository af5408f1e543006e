package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/reads"
)

// stalledDisk holds every append until released, and says when the first one arrives: an upload
// is then in flight inside the handler, waiting for its batch.
type stalledDisk struct {
	next     reads.Appender
	entered  chan struct{}
	once     sync.Once
	released chan struct{}
	release  func() // idempotent
}

// newStalledDisk returns a stalled disk. Tests register its release as a cleanup after the
// harness's, so it runs first: the harness closes its writer, which waits for the disk.
func newStalledDisk() *stalledDisk {
	d := &stalledDisk{entered: make(chan struct{}), released: make(chan struct{})}
	d.release = sync.OnceFunc(func() { close(d.released) })
	return d
}

func (d *stalledDisk) AppendReads(ctx context.Context, b []reads.Read) (reads.AppendResult, error) {
	d.once.Do(func() { close(d.entered) })
	<-d.released
	return d.next.AppendReads(ctx, b)
}

// waitEntered waits for the first append, bounded by proc.WaitCap (the server runs in this
// process, so its liveness is the test's own).
func (d *stalledDisk) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-d.entered:
	case <-time.After(proc.WaitCap):
		t.Fatal("the upload never reached the disk")
	}
}

// requestCounts are anpr_http_requests_total for route, by status, from /metrics.
func requestCounts(t *testing.T, base, route string) map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "anpr_http_requests_total{") || !strings.Contains(line, `route="`+route+`"`) {
			continue
		}
		_, rest, _ := strings.Cut(line, `status="`)
		status, _, _ := strings.Cut(rest, `"`)
		out[status] = line[strings.LastIndexByte(line, ' ')+1:]
	}
	return out
}

// A client that goes away mid-upload is logged and counted as 499 (client closed), never as a
// server error, and the upload it abandoned leaves the server ready for the next one.
func TestClientGoneIsCountedAsClientClosed(t *testing.T) {
	disk := newStalledDisk()
	h := newHarnessWith(t, 4, func(a reads.Appender) reads.Appender { disk.next = a; return disk })
	t.Cleanup(disk.release)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+"/api/v1/reads:bulk", strings.NewReader(ndjson(3)))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+h.key)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("got a response: %s", resp.Status)
		}
		done <- err
	}()
	disk.waitEntered(t)
	cancel() // the camera back-office gives up
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want its own cancellation", err)
	}
	route := "/api/v1/reads:bulk"
	// The handler ends once it notices; then its request is counted, under one status.
	wctx, wcancel := context.WithTimeout(context.Background(), proc.WaitCap)
	defer wcancel()
	if err := proc.WaitUntil(wctx, nil, 10*time.Millisecond, func(context.Context) error {
		if len(requestCounts(t, h.srv.URL, route)) == 0 {
			return errors.New("not counted yet")
		}
		return nil
	}); err != nil {
		t.Fatalf("the abandoned upload was never counted: %v", err)
	}
	if got := requestCounts(t, h.srv.URL, route); !reflect.DeepEqual(got, map[string]string{"499": "1"}) {
		t.Fatalf("the abandoned upload was counted as %v, want only 499 (client closed)", got)
	}
	disk.release()
	if resp, body := h.post(t, ndjson(2), map[string]string{"Authorization": "Bearer " + h.key}); resp.StatusCode != 200 {
		t.Fatalf("the next upload: %d %v", resp.StatusCode, body)
	}
}

// At shutdown, a request still running when the drain time ends is answered 503 with
// Retry-After (and the problem says re-sending is safe) before its connection closes; the
// server does not just drop it.
func TestShutdownAnswersRequestsInFlight(t *testing.T) {
	disk := newStalledDisk()
	h := newHarnessWith(t, 4, func(a reads.Appender) reads.Appender { disk.next = a; return disk })
	t.Cleanup(disk.release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httpapi.NewHTTPServer(&http.Server{Handler: h.server.Handler()})
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/api/v1/reads:bulk", strings.NewReader(ndjson(3)))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{resp: resp, body: b, err: err}
	}()
	disk.waitEntered(t)

	drain, cancel := context.WithCancel(context.Background())
	cancel() // the drain time is over while the upload waits for the disk
	cut, err := hs.Shutdown(drain, proc.WaitCap)
	if !cut || err != nil {
		t.Fatalf("Shutdown = %v, %v; want the upload cut short and answered", cut, err)
	}
	a := <-got
	if a.err != nil {
		t.Fatalf("the upload in flight got no answer: %v", a.err)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("answer %s %q: %v", a.resp.Status, a.body, err)
	}
	if a.resp.StatusCode != http.StatusServiceUnavailable || a.resp.Header.Get("Retry-After") != "3" ||
		p.Code != httpapi.CodeUnavailable || !strings.Contains(p.Detail, "shutting down") || !strings.Contains(p.Detail, "re-sending") {
		t.Fatalf("the upload in flight at shutdown got %s (Retry-After %q) %+v, want 503 with Retry-After 3 saying the portal is shutting down",
			a.resp.Status, a.resp.Header.Get("Retry-After"), p)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
}

// With nothing in flight, shutdown cuts nothing short.
func TestShutdownWithNothingInFlight(t *testing.T) {
	h := newHarness(t, 4)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httpapi.NewHTTPServer(&http.Server{Handler: h.server.Handler()})
	go hs.Serve(ln)
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cut, err := hs.Shutdown(context.Background(), time.Second); cut || err != nil {
		t.Fatalf("Shutdown = %v, %v; want nothing cut short", cut, err)
	}
}
