package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
)

// WriteBatch no longer asks the event count before a batch with records (the seq trigger is the
// check): a batch whose base is not what is stored must still be refused whole, as another
// writer, whether it is behind, ahead, or carries only a checkpoint.
func TestAuditWriteBatchRefusesWrongBase(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, func(o *AuditOptions) { o.CheckpointEvery = 1000 })
	f.appendN(t, 4)
	st := &auditStore{AuditReader: f.log.AuditReader}
	var err error
	if st.stmts, err = auditPrepare(ctx, f.log.db); err != nil {
		t.Fatal(err)
	}
	rec := func(seq int64) audit.SealedRecord {
		return audit.SealedRecord{Event: audit.Event{Seq: seq, Chain: "main", Time: time.Unix(1, 0),
			Actor: audit.Actor{Subject: "mallory"}, Action: audit.ActionSearch}}
	}
	for _, tc := range []struct {
		name  string
		batch audit.Batch
	}{
		{"behind", audit.Batch{Base: 2, Records: []audit.SealedRecord{rec(3)}}},
		{"ahead", audit.Batch{Base: 6, Records: []audit.SealedRecord{rec(7)}}},
		{"checkpoint only, behind", audit.Batch{Base: 3, Checkpoint: &audit.Checkpoint{Size: 3, Time: time.Unix(2, 0), Note: []byte("forged")}}},
		{"checkpoint only, ahead", audit.Batch{Base: 9, Checkpoint: &audit.Checkpoint{Size: 9, Time: time.Unix(2, 0), Note: []byte("forged")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.WriteBatch(ctx, tc.batch)
			if !errors.Is(err, audit.ErrUnavailable) || !strings.Contains(err.Error(), "another writer") {
				t.Fatalf("WriteBatch: %v, want ErrUnavailable naming another writer", err)
			}
		})
	}
	if got := f.appendN(t, 1); got[0].Seq != 5 {
		t.Fatalf("next append got seq %d, want 5", got[0].Seq)
	}
	f.log.Close()
	if rep := f.verify(t); !rep.OK() || rep.Size != 5 {
		t.Fatalf("report %+v", rep)
	}
}
