package sqlite

import (
	"context"
	"strings"
	"testing"
)

// The store refuses every statement that would change history, even from a connection that does
// not go through this package's code.
func TestAuditTriggersRefuseChanges(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, nil)
	f.appendN(t, 10)
	if _, err := f.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET purpose = 'x' WHERE seq = 1`,
		`DELETE FROM audit_events WHERE seq = 10`,
		`INSERT OR REPLACE INTO audit_events SELECT * FROM audit_events WHERE seq = 1`,
		`INSERT INTO audit_events SELECT * FROM audit_events WHERE seq = 1`,
		`UPDATE audit_payloads SET query = 'x' WHERE seq = 1`,
		`DELETE FROM audit_payloads WHERE seq = 1`,
		`DELETE FROM audit_payload_vrms`,
		`INSERT OR REPLACE INTO audit_payloads SELECT * FROM audit_payloads WHERE seq = 1`,
		`UPDATE audit_hashes SET hash = zeroblob(32) WHERE idx = 0`,
		`DELETE FROM audit_hashes WHERE idx = 0`,
		`INSERT OR REPLACE INTO audit_hashes(idx, hash) VALUES (0, zeroblob(32))`,
		`UPDATE audit_checkpoints SET note = 'x'`,
		`DELETE FROM audit_checkpoints`,
		`INSERT INTO audit_checkpoints(size, time_us, note) VALUES (1, 0, 'x')`,
		`INSERT INTO audit_erasures(seq, erased_by) VALUES (1, 2)`,
		`UPDATE audit_meta SET value = 'other' WHERE key = 'chain'`,
		`DELETE FROM audit_meta`,
		`INSERT OR REPLACE INTO audit_meta(key, value) VALUES ('chain', 'other')`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := f.log.db.ExecContext(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "audit") {
				t.Fatalf("statement ran: err = %v", err)
			}
		})
	}
	if rep := f.verify(t); !rep.OK() {
		t.Fatalf("log changed: %v", rep.Problems)
	}
}

func TestAuditOpenRefusesOtherChain(t *testing.T) {
	f := auditNewFixture(t, nil)
	f.log.Close()
	if _, err := OpenAuditLog(context.Background(), f.path, f.options(func(o *AuditOptions) { o.Chain = "other" })); err == nil {
		t.Fatal("opened chain main as other")
	}
}

func TestAuditOptionsReportEveryProblem(t *testing.T) {
	o := AuditOptions{Chain: "Bad Chain", CheckpointEvery: -1, MaxConns: 1}
	err := o.CheckAndSetDefaults("x.db")
	for _, want := range []string{"chain", "signer", "checkpoint every", "max conns"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not mention %s", err, want)
		}
	}
}
