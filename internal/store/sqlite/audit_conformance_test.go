package sqlite

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/audittest"
)

// TestAuditConformance runs the shared audit suite, tamper detection included, on real SQLite
// files. The SQLite-only guarantees (triggers refusing UPDATE and DELETE) are tested beside it.
func TestAuditConformance(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.Store {
		return &auditSuiteStore{path: filepath.Join(t.TempDir(), "audit.db")}
	})
}

// auditSuiteStore is one audit database file as the suite sees it.
type auditSuiteStore struct {
	path string
	last *AuditLog
}

func (s *auditSuiteStore) Open(ctx context.Context, o audit.SequencerOptions) (audittest.Log, error) {
	l, err := OpenAuditLog(ctx, s.path, AuditOptions{Chain: o.Chain, Signer: o.Signer, Anchor: o.Anchor,
		CheckpointEvery: o.CheckpointEvery, CheckpointInterval: o.CheckpointInterval, MaxBatch: o.MaxBatch,
		WriteTimeout: o.WriteTimeout, Clock: o.Clock, Rand: o.Rand, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s.last = l
	return l, nil
}

func (s *auditSuiteStore) Source(t testing.TB) audit.VerifySource {
	t.Helper()
	r, err := OpenAuditReader(context.Background(), s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Copy copies the database file, as a backup would.
func (s *auditSuiteStore) Copy(t testing.TB) audittest.Store {
	t.Helper()
	cp := &auditSuiteStore{path: filepath.Join(t.TempDir(), "copy.db")}
	auditCopyFile(t, s.path, cp.path)
	return cp
}

// Break closes the writer's database under it, as a lost disk would.
func (s *auditSuiteStore) Break(t testing.TB) { s.last.db.Close() }

// WriteRaw drops the append-only triggers, as someone with the file can, and rewrites every table.
func (s *auditSuiteStore) WriteRaw(t testing.TB, raw *audittest.Raw) {
	t.Helper()
	ctx := context.Background()
	db := auditRawDB(t, s.path)
	defer db.Close()
	for _, table := range []string{"audit_events", "audit_payloads", "audit_payload_vrms", "audit_hashes", "audit_checkpoints", "audit_erasures"} {
		if _, err := db.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			t.Fatal(err)
		}
	}
	st, err := auditPrepare(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range slices.Sorted(maps.Keys(raw.Records)) {
		rec := raw.Records[seq]
		rec.Event.Seq = seq
		if err := st.insert(ctx, audit.SealedRecord{Event: rec.Event, Payload: rec.Payload}); err != nil {
			t.Fatal(err)
		}
		if rec.ErasedBy != 0 {
			if _, err := db.ExecContext(ctx, `INSERT INTO audit_erasures(seq, erased_by) VALUES (?, ?)`, seq, rec.ErasedBy); err != nil {
				t.Fatal(err)
			}
		}
	}
	for idx, h := range raw.Hashes {
		if _, err := db.ExecContext(ctx, `INSERT INTO audit_hashes(idx, hash) VALUES (?, ?)`, idx, h[:]); err != nil {
			t.Fatal(err)
		}
	}
	for size, n := range raw.Checkpoints {
		c, _ := audit.ParseCheckpointUnverified(n)
		if _, err := db.ExecContext(ctx, `INSERT INTO audit_checkpoints(size, time_us, note) VALUES (?, ?, ?)`, size, c.Time.UnixMicro(), string(n)); err != nil {
			t.Fatal(err)
		}
	}
}
