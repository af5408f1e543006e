package auditbench_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/auditbench"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// The harness runs end to end against the real SQLite log and reports every phase. (Figures
// are for `anpr bench`; this only checks that they are produced.)
func TestRunAgainstSQLite(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if _, err := audit.InitKeys(keys, audit.DefaultKeyName, rand.Reader); err != nil {
		t.Fatal(err)
	}
	signer, err := audit.LoadSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := audit.LoadKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	res, err := auditbench.Run(context.Background(), auditbench.Config{
		Events: 300, Concurrency: 16, Dir: dir,
		Open: func(ctx context.Context, phase string) (auditbench.Log, error) {
			anchor := audit.NewFileAnchor(filepath.Join(dir, phase+".anchor"))
			l, err := sqlite.OpenAuditLog(ctx, filepath.Join(dir, phase+".db"), sqlite.AuditOptions{Signer: signer, Anchor: anchor})
			if err != nil {
				return auditbench.Log{}, err
			}
			return auditbench.Log{Appender: l, Source: l, Anchor: anchor, Verifiers: ring.Verifiers(), Close: l.Close}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []auditbench.Phase{*res.RawFsync, res.Single, res.Concurrent, res.Verify} {
		if p.Events == 0 || p.PerSecond <= 0 {
			t.Fatalf("phase %+v not measured", p)
		}
		t.Logf("%-22s %6d events %10.0f /s  p50 %v  p99 %v", p.Name, p.Events, p.PerSecond, p.P50, p.P99)
	}
	if res.Verify.Events != 300 {
		t.Fatalf("verified %d events, want 300", res.Verify.Events)
	}
}
