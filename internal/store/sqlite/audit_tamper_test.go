package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// auditTamperLog is a real log of 40 events (checkpoints every 8, all anchored), closed. Each
// tamper case works on its own copy of the database file.
func auditTamperLog(t *testing.T) *auditFixture {
	t.Helper()
	f := auditNewFixture(t, nil)
	f.appendN(t, 40)
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// auditShift renumbers events (and their payloads, VRM index rows and erasures) with seq >= from
// by delta, through negative seqs so primary keys never collide mid-update.
func auditShift(db *sql.DB, from, delta int64) error {
	for _, table := range []string{"audit_events", "audit_payloads", "audit_payload_vrms", "audit_erasures"} {
		for _, q := range []string{
			`UPDATE ` + table + ` SET seq = -(seq + ?) WHERE seq >= ?`,
			`UPDATE ` + table + ` SET seq = -seq WHERE seq < 0`,
		} {
			args := []any{delta, from}
			if strings.Contains(q, "-seq WHERE") {
				args = nil
			}
			if _, err := db.Exec(q, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

func auditExec(stmts ...string) func(*testing.T, *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		t.Helper()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
}

// Someone with write access to the database file drops the append-only triggers and rewrites
// history in each way a log can lie. Verify must catch every one and name the first bad event
// and the kind of tampering; the untouched copy must pass.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	f := auditTamperLog(t)
	otherSkey, _, err := audit.GenerateKey(rand.Reader, audit.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	impostor, _ := note.NewSigner(otherSkey)

	cases := []struct {
		name       string
		tamper     func(*testing.T, *sql.DB)
		seq        int64
		kind       audit.ProblemKind
		checkpoint int64
	}{
		{name: "untouched", tamper: func(*testing.T, *sql.DB) {}},
		{name: "edited field", tamper: auditExec(`UPDATE audit_events SET purpose = 'test' WHERE seq = 13`),
			seq: 13, kind: audit.ProblemModified},
		{name: "edited time", tamper: auditExec(`UPDATE audit_events SET time_us = time_us - 3600000000 WHERE seq = 30`),
			seq: 30, kind: audit.ProblemModified},
		{name: "edited result count", tamper: auditExec(`UPDATE audit_events SET result_count = 999 WHERE seq = 2`),
			seq: 2, kind: audit.ProblemModified},
		{name: "deleted event", tamper: auditExec(`DELETE FROM audit_events WHERE seq = 13`),
			seq: 13, kind: audit.ProblemMissing},
		{name: "deleted event, later ones renumbered", tamper: func(t *testing.T, db *sql.DB) {
			auditExec(`DELETE FROM audit_events WHERE seq = 13`, `DELETE FROM audit_payload_vrms WHERE seq = 13`,
				`DELETE FROM audit_payloads WHERE seq = 13`)(t, db)
			if err := auditShift(db, 14, -1); err != nil {
				t.Fatal(err)
			}
		}, seq: 13, kind: audit.ProblemMissing},
		{name: "two events swapped", tamper: func(t *testing.T, db *sql.DB) {
			for _, table := range []string{"audit_events", "audit_payloads", "audit_payload_vrms"} {
				auditExec(`UPDATE `+table+` SET seq = -14 WHERE seq = 13`, `UPDATE `+table+` SET seq = 13 WHERE seq = 14`,
					`UPDATE `+table+` SET seq = 14 WHERE seq = -14`)(t, db)
			}
		}, seq: 13, kind: audit.ProblemReordered},
		{name: "inserted event", tamper: func(t *testing.T, db *sql.DB) {
			if err := auditShift(db, 13, 1); err != nil {
				t.Fatal(err)
			}
			auditExec(`INSERT INTO audit_events SELECT 13, encoding, time_us, 'someone-else', actor_name, actor_roles,
				actor_session, client_addr, request_id, action, stage, intent_seq, decision, rule, purpose, case_ref,
				offence_code, authority_id, search_type, band, result_count, result_digest, status, error, erases,
				zeroblob(32) FROM audit_events WHERE seq = 12`)(t, db)
		}, seq: 13, kind: audit.ProblemInserted},
		{name: "tail cut, checkpoints too", tamper: auditExec(`DELETE FROM audit_events WHERE seq > 24`,
			`DELETE FROM audit_payloads WHERE seq > 24`, `DELETE FROM audit_payload_vrms WHERE seq > 24`,
			`DELETE FROM audit_checkpoints WHERE size > 24`, fmt.Sprintf(`DELETE FROM audit_hashes WHERE idx >= %d`, tlog.StoredHashCount(24))),
			seq: 25, kind: audit.ProblemTruncated, checkpoint: 40},
		{name: "tail cut inside a checkpoint", tamper: auditExec(`DELETE FROM audit_events WHERE seq > 35`),
			seq: 36, kind: audit.ProblemTruncated, checkpoint: 40},
		{name: "checkpoint signed with another key", tamper: func(t *testing.T, db *sql.DB) {
			var n string
			if err := db.QueryRow(`SELECT note FROM audit_checkpoints WHERE size = 16`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			c, _ := audit.ParseCheckpointUnverified([]byte(n))
			forged, _ := audit.SignCheckpoint("main", c.Tree(), c.Time, impostor)
			if _, err := db.Exec(`UPDATE audit_checkpoints SET note = ? WHERE size = 16`, string(forged.Note)); err != nil {
				t.Fatal(err)
			}
		}, kind: audit.ProblemBadSignature, checkpoint: 16},
		{name: "payload edited", tamper: auditExec(`UPDATE audit_payloads SET query = 'exact vrm=ZZ99ZZZ' WHERE seq = 5`),
			seq: 5, kind: audit.ProblemPayloadModified},
		{name: "payload deleted without erasure", tamper: auditExec(`DELETE FROM audit_payloads WHERE seq = 5`),
			seq: 5, kind: audit.ProblemPayloadMissing},
		{name: "payload deleted under a forged erasure record", tamper: auditExec(`DELETE FROM audit_payloads WHERE seq = 5`,
			`INSERT INTO audit_erasures(seq, erased_by) VALUES (5, 9)`),
			seq: 5, kind: audit.ProblemPayloadMissing},
		{name: "stored leaf hash rewritten", tamper: auditExec(fmt.Sprintf(`UPDATE audit_hashes SET hash = randomblob(32) WHERE idx = %d`, tlog.StoredHashIndex(0, 12))),
			seq: 13, kind: audit.ProblemStoredHash},
		{name: "event edited and every stored hash rebuilt to match", tamper: func(t *testing.T, db *sql.DB) {
			auditExec(`UPDATE audit_events SET actor_subject = 'nobody' WHERE seq = 13`)(t, db)
			auditRebuildHashes(t, db)
		}, seq: 9, kind: audit.ProblemRootMismatch, checkpoint: 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "copy.db")
			auditCopyFile(t, f.path, path)
			db := auditRawDB(t, path)
			tc.tamper(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenAuditReader(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var out bytes.Buffer
			rep, err := audit.RunVerify(context.Background(), &out, r, f.anchor, f.ring.Verifiers())
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + out.String())
			if tc.kind == "" {
				if !rep.OK() || rep.Size != 40 || rep.Anchored != 40 || rep.Latest != 40 {
					t.Fatalf("untouched log failed:\n%s", out.String())
				}
				return
			}
			first, ok := rep.FirstBad()
			if !ok {
				t.Fatalf("tampering not detected:\n%s", out.String())
			}
			if first.Seq != tc.seq || first.Kind != tc.kind || first.Checkpoint != tc.checkpoint {
				t.Fatalf("first problem %+v, want seq %d kind %s checkpoint %d\n%s", first, tc.seq, tc.kind, tc.checkpoint, out.String())
			}
			if !strings.Contains(out.String(), "FAILED: first bad: "+first.String()) {
				t.Fatalf("report does not name the first bad record:\n%s", out.String())
			}
		})
	}
}

// auditRebuildHashes replaces audit_hashes with the tree of the events as they now are: what a
// careful attacker would do so that stored hashes agree with an edit. Only signatures stop them.
func auditRebuildHashes(t *testing.T, db *sql.DB) {
	t.Helper()
	r := &AuditReader{db: db, chain: "main"}
	var tree audit.Frontier
	var rows [][]byte
	err := r.Scan(context.Background(), 1, 1<<62, func(rec audit.Record) error {
		leaf, err := audit.EventLeaf(rec.Event)
		if err != nil {
			return err
		}
		for _, h := range tree.Add(leaf) {
			rows = append(rows, bytes.Clone(h[:]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	auditExec(`DELETE FROM audit_hashes`)(t, db)
	for i, h := range rows {
		if _, err := db.Exec(`INSERT INTO audit_hashes(idx, hash) VALUES (?, ?)`, i, h); err != nil {
			t.Fatal(err)
		}
	}
	if int64(len(rows)) != tlog.StoredHashCount(40) {
		t.Fatalf("rebuilt %d hashes", len(rows))
	}
}
