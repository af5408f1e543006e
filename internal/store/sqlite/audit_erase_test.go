package sqlite

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
)

// A lawful erasure removes the personal data but not the event: the tree still verifies and
// verify reports the leaves as redacted. The payload can go no other way.
func TestAuditErasure(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, nil)
	f.appendN(t, 10)
	dpo := audit.Event{Actor: audit.Actor{Subject: "dpo-1", Name: "Data Protection Officer"}, Decision: audit.EffectAllow,
		Rule: "erasure.request", Reason: audit.Reason{Purpose: "data_subject_erasure", CaseRef: "DSR/7"}}

	if _, err := f.log.db.ExecContext(ctx, `DELETE FROM audit_payloads WHERE seq = 1`); err == nil {
		t.Fatal("payload deleted without an erasure")
	}
	for name, seqs := range map[string][]int64{
		"no payload (a login)": {4},
		"no such event":        {99},
		"nothing named":        nil,
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if _, err := f.log.Erase(ctx, dpo, seqs); !errors.Is(err, audit.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}

	er, err := f.log.Erase(ctx, dpo, []int64{2, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if er.Seq != 11 || er.Action != audit.ActionErase || len(er.Erases) != 2 {
		t.Fatalf("erasure event %+v", er)
	}
	page, _ := f.log.Read(ctx, audit.Filter{ToSeq: 2})
	for _, r := range page.Records {
		if r.Payload != nil || r.ErasedBy != 11 || r.Event.PayloadHash.IsZero() {
			t.Fatalf("seq %d after erasure: payload %v erased by %d", r.Event.Seq, r.Payload, r.ErasedBy)
		}
	}
	if page, _ := f.log.Read(ctx, audit.Filter{VRM: "AB01CDE"}); len(page.Records) != 1 || page.Records[0].Event.Seq != 9 {
		t.Fatalf("the erased VRM index still finds seq 2: %v", page.Records)
	}
	if _, err := f.log.Erase(ctx, dpo, []int64{1}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("second erasure of seq 1: %v", err)
	}
	f.log.Close()
	rep := f.verify(t)
	if !rep.OK() || rep.Redacted != 2 || len(rep.RedactedSeqs) != 2 {
		t.Fatalf("report %+v", rep)
	}
}

// An inclusion proof for one event checks with nothing but the public key, survives its text
// form, and fails if anything in it is changed.
func TestAuditInclusionProof(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, nil)
	events := f.appendN(t, 21) // checkpoints at 8 and 16; 17..21 not yet covered
	if _, err := audit.InclusionProof(ctx, f.log, 20, 0, f.ring.Verifiers()); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("proof before a checkpoint covers the event: %v", err)
	}
	var out bytes.Buffer
	p, err := audit.RunProof(ctx, &out, f.log, 13, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	var parsed audit.Proof
	if err := parsed.UnmarshalText(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	got, err := audit.CheckProof(parsed, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	wantLeaf, _ := audit.EventLeaf(events[12])
	if gotLeaf, _ := audit.EventLeaf(got); gotLeaf != wantLeaf {
		t.Fatal("proof shows a different event")
	}
	if parsed.Payload == nil {
		t.Fatal("proof of a search should carry its payload")
	}

	tampered := map[string]func(*audit.Proof){
		"event":   func(p *audit.Proof) { p.Event = bytes.Replace(p.Event, []byte("Officer"), []byte("Offic3r"), 1) },
		"seq":     func(p *audit.Proof) { p.Seq = 12 },
		"hash":    func(p *audit.Proof) { p.Hashes[0][0] ^= 1 },
		"payload": func(p *audit.Proof) { p.Payload = bytes.Replace(p.Payload, []byte("burglary"), []byte("robbery!"), 1) },
		"checkpoint": func(p *audit.Proof) {
			p.Checkpoint = bytes.Replace(p.Checkpoint, []byte("\n16\n"), []byte("\n15\n"), 1)
		},
	}
	for name, mod := range tampered {
		t.Run("refuses edited "+name, func(t *testing.T) {
			q := p
			q.Event, q.Payload, q.Checkpoint = bytes.Clone(p.Event), bytes.Clone(p.Payload), bytes.Clone(p.Checkpoint)
			q.Hashes = append(q.Hashes[:0:0], p.Hashes...)
			mod(&q)
			if _, err := audit.CheckProof(q, f.ring.Verifiers()); err == nil {
				t.Fatal("edited proof accepted")
			}
		})
	}
}
