package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// childArgsEnv makes this test binary run as the anpr command with these arguments (space
// separated) instead of running tests: the crash tests need a portal in a process of its own, to
// kill -9 it, and this way it is exactly the code under test with no separate build.
const childArgsEnv = "ANPR_TEST_CHILD_ARGS"

// runAsChildIfAsked is called first thing by TestMain.
func runAsChildIfAsked() {
	args := os.Getenv(childArgsEnv)
	if args == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cmd := rootCmd()
	cmd.SetArgs(strings.Fields(args))
	err := cmd.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "anpr:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childPortal is `anpr serve` in a process of its own, over a data directory that outlives it.
type childPortal struct {
	t    *testing.T
	env  map[string]string
	base string
	p    *proc.Process
	log  string
	runs int
}

// start runs serve and waits until /readyz says ready (but for the identity provider when the
// issuer is noIdP), while the process lives and for at most proc.WaitCap.
func (c *childPortal) start() {
	c.t.Helper()
	c.runs++
	c.log = filepath.Join(c.env["ANPR_DATA_DIR"], fmt.Sprintf("serve-%d.log", c.runs))
	logf, err := os.Create(c.log)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ANPR_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, childArgsEnv+"=serve", "ANPR_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if c.p, err = proc.Start(cmd); err != nil {
		c.t.Fatal(err)
	}
	p := &portal{base: c.base}
	ctx, cancel := context.WithTimeout(context.Background(), proc.WaitCap)
	defer cancel()
	if err := c.p.WaitReady(ctx, 50*time.Millisecond, func(ctx context.Context) error {
		code, checks, err := p.readyz(ctx)
		if err != nil {
			return err
		}
		for name, v := range checks {
			if v != "ok" && (name != "identity" || c.env["ANPR_IDENTITY_ISSUER"] != noIdP) {
				return fmt.Errorf("readyz %d: %s: %s", code, name, v)
			}
		}
		return nil
	}); err != nil {
		c.p.Kill()
		c.t.Fatalf("anpr serve (run %d): %v\n--- its log ---\n%s", c.runs, err, proc.Tail(c.log, 40))
	}
}

// kill ends the portal with SIGKILL: no shutdown, no flush, no closing of anything.
func (c *childPortal) kill() { c.p.Kill() }

// stop ends the portal with SIGTERM and expects a clean exit.
func (c *childPortal) stop() {
	c.t.Helper()
	if err := c.p.Stop(proc.WaitCap); err != nil {
		c.t.Errorf("anpr serve: %v\n%s", err, proc.Tail(c.log, 40))
	} else if err := c.p.ExitErr(); err != nil {
		c.t.Errorf("anpr serve exited with %v\n%s", err, proc.Tail(c.log, 40))
	}
}

// newChildPortal prepares a data directory (seeded reads, an audit key) for serve at addr.
func newChildPortal(t *testing.T, addr, issuer, secret string) *childPortal {
	t.Helper()
	env := map[string]string{"ANPR_DATA_DIR": t.TempDir(), "ANPR_LISTEN": addr, "ANPR_LOG_LEVEL": "error",
		"ANPR_IDENTITY_ISSUER": issuer, "ANPR_IDENTITY_CLIENT_ID": "anpr-portal", "ANPR_IDENTITY_CLIENT_SECRET": secret,
		"ANPR_IDENTITY_ALLOW_INSECURE_COOKIES": "true"}
	if out, err := run(t, env, "seed", "--reads", "10000", "--seed", "5"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if out, err := run(t, env, "audit", "keys", "init"); err != nil {
		t.Fatalf("audit keys init: %v\n%s", err, out)
	}
	c := &childPortal{t: t, env: env, base: "http://" + addr}
	t.Cleanup(func() {
		if c.p != nil {
			c.p.Kill()
		}
	})
	return c
}

// verifyAudit runs anpr audit verify over the portal's data and expects it to pass.
func (c *childPortal) verifyAudit() {
	c.t.Helper()
	out, err := run(c.t, c.env, "audit", "verify")
	if err != nil || !strings.Contains(out, "OK") {
		c.t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

// fileReadIDs are the ids of the reads in an NDJSON file, as the store derives them.
func fileReadIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			CameraID string    `json:"camera_id"`
			VRM      string    `json:"vrm"`
			SeenAt   time.Time `json:"seen_at"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		vrm, err := plate.Normalize(r.VRM)
		if err != nil {
			t.Fatal(err)
		}
		ids[reads.ReadID(r.CameraID, r.SeenAt, vrm)] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// storedReads opens the portal's reads store (the portal stopped) and returns how many reads it
// holds and which of ids it lacks.
func (c *childPortal) storedReads(ids map[string]bool) (int64, []string) {
	c.t.Helper()
	ctx := c.t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(c.env["ANPR_DATA_DIR"], "reads.db"), sqlite.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	cams, err := st.Cameras(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var all []string
	for _, cam := range cams {
		all = append(all, cam.ID)
	}
	n, err := st.CountReads(ctx, reads.Query{Match: reads.MatchAny, Cameras: all, From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if err != nil {
		c.t.Fatal(err)
	}
	var missing []string
	for id := range ids {
		if _, err := st.GetRead(ctx, id); err != nil {
			missing = append(missing, id)
		}
	}
	return n, missing
}

// kill -9 in the middle of an upload loses nothing that was acknowledged, and re-sending the
// whole file after a restart leaves every read of it stored exactly once; the audit log verifies.
func TestKillDuringIngestThenResend(t *testing.T) {
	c := newChildPortal(t, freePort(t), noIdP, "")
	keyFile := filepath.Join(t.TempDir(), "ingest.key")
	if out, err := run(t, c.env, "apikey", "create", "--name", "camera back-office", "--out", keyFile); err != nil {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "reads.ndjson")
	if out, err := run(t, c.env, "seed", "--reads", "30000", "--seed", "9", "--ndjson", file); err != nil {
		t.Fatalf("seed --ndjson: %v\n%s", err, out)
	}
	ids := fileReadIDs(t, file)
	before, absent := c.storedReads(ids)
	overlap := len(ids) - len(absent)

	c.start()
	client := func() *ingest.Client {
		return &ingest.Client{URL: c.base, APIKey: strings.TrimSpace(string(key)), HTTP: &http.Client{}, ChunkLines: 2000}
	}
	// Kill as soon as the first chunk is acknowledged: the next is then on its way or being
	// written.
	acked := make(chan struct{})
	var once sync.Once
	cl := client()
	cl.Progress = func(int64) { once.Do(func() { close(acked) }) }
	upload := make(chan error, 1)
	go func() {
		in, err := os.Open(file)
		if err != nil {
			upload <- err
			return
		}
		defer in.Close()
		_, err = cl.Upload(context.Background(), in)
		upload <- err
	}()
	select {
	case <-acked:
	case err := <-upload:
		t.Fatalf("the upload ended before its first chunk was acknowledged: %v", err)
	}
	c.kill()
	if err := <-upload; err == nil {
		t.Fatal("the upload succeeded although the portal was killed during it")
	}

	c.start()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := client().Upload(context.Background(), in)
	in.Close()
	if err != nil || rep.Rejected != 0 || rep.Inserted+rep.Duplicates != int64(len(ids)) || rep.Duplicates == 0 {
		t.Fatalf("re-sending the file after the kill: %+v, %v; want all %d reads stored or already present, some already present", rep, err, len(ids))
	}
	c.stop()

	after, missing := c.storedReads(ids)
	if len(missing) > 0 {
		t.Errorf("%d reads of the file are missing after the re-send, e.g. %s", len(missing), missing[0])
	}
	if want := before + int64(len(ids)-overlap); after != want {
		t.Errorf("the store holds %d reads, want %d (%d before, %d new in the file): a read was lost or stored twice", after, want, before, len(ids)-overlap)
	}
	c.verifyAudit()
}

// kill -9 while investigators search: every search that was answered has its intent and outcome
// in the audit log, the log verifies, and the portal resumes after a restart.
func TestKillDuringSearchesThenVerify(t *testing.T) {
	addr := freePort(t)
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{"http://" + addr + "/auth/callback"}})
	c := newChildPortal(t, addr, dex.Issuer, dex.ClientSecret)
	c.start()
	inv := login(t, dex, c.base, userByRole(dex, dextest.RoleInvestigator))

	now := time.Now().UTC()
	body := fmt.Sprintf(`{"vrm":%q,"from":%q,"to":%q,"reason":{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26","offence_code":"TH68010",`+
		`"justification":"vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}}`,
		seed.MisreadVRM, now.AddDate(0, 0, -30).Format(time.RFC3339), now.Format(time.RFC3339))
	var answered sync.Map // request id -> true, for searches answered 200
	var nAnswered atomic.Int64
	enough := make(chan struct{})
	var enoughOnce sync.Once
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("kill9-%d-%05d", g, i)
				req, _ := http.NewRequest(http.MethodPost, c.base+"/api/v1/searches/exact", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", inv.csrf)
				req.Header.Set("X-Request-ID", id)
				resp, err := inv.c.Do(req)
				if err != nil {
					return // the portal is gone
				}
				var b bytes.Buffer
				_, err = b.ReadFrom(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					return
				}
				answered.Store(id, true)
				if nAnswered.Add(1) >= 40 {
					enoughOnce.Do(func() { close(enough) })
				}
			}
		})
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	select { // each client stops at its first failure, so this ends either way
	case <-enough:
	case <-allDone:
		t.Fatalf("the searches failed after %d answers, before the kill\n%s", nAnswered.Load(), proc.Tail(c.log, 40))
	}
	c.kill()
	<-allDone
	c.verifyAudit()

	stages := map[string]map[audit.Stage]bool{}
	r, err := sqlite.OpenAuditReader(t.Context(), filepath.Join(c.env["ANPR_DATA_DIR"], "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	size, err := r.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(t.Context(), 1, size, func(rec audit.Record) error {
		if rec.Event.Action == audit.ActionSearch {
			if stages[rec.Event.RequestID] == nil {
				stages[rec.Event.RequestID] = map[audit.Stage]bool{}
			}
			stages[rec.Event.RequestID][rec.Event.Stage] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	checked := 0
	answered.Range(func(k, _ any) bool {
		id := k.(string)
		if s := stages[id]; !s[audit.StageIntent] || !s[audit.StageOutcome] {
			t.Errorf("search %s was answered but its audit events are %v: want intent and outcome", id, s)
		}
		checked++
		return true
	})
	t.Logf("%d answered searches checked, %d audited searches in the log", checked, len(stages))

	c.start() // resumes on the killed portal's files, the same session included
	code, b := inv.call("POST", "/api/v1/searches/exact", body)
	if code != http.StatusOK {
		t.Fatalf("search after the restart: %d %v", code, b)
	}
	c.stop()
	c.verifyAudit()
}
