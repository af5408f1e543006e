package audit

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func sampleEvent() Event {
	return Event{
		Seq: 42, Chain: "main", Time: time.Date(2025, 3, 1, 9, 30, 0, 123456000, time.UTC),
		Actor:      Actor{Subject: "u-1", Name: "DC Smith", Roles: []string{"investigator", "extended_investigator"}, Session: "s-9"},
		ClientAddr: "10.0.0.7", RequestID: "req-1",
		Action: ActionSearch, Stage: StageOutcome, IntentSeq: 41,
		Decision: EffectAllow, Rule: "band1.search",
		Reason:      Reason{Purpose: "serious_crime", CaseRef: "CR/123/25", OffenceCode: "TH01"},
		AuthorityID: "auth-7", SearchType: "exact", Band: 2,
		ResultCount: 17, ResultDigest: DigestIDs([]string{"a", "b"}),
		Status: StatusOK, Erases: nil,
		PayloadHash: PayloadDigest(Payload{Query: "vrm=AB12CDE"}),
	}
}

func TestEncodeEventRoundTrip(t *testing.T) {
	erase := sampleEvent()
	erase.Action, erase.Erases, erase.Stage, erase.IntentSeq = ActionErase, []int64{1, 5, 9}, StageEvent, 0
	for name, e := range map[string]Event{
		"full":      sampleEvent(),
		"zero":      {Time: time.Unix(0, 0).UTC()},
		"erasure":   erase,
		"unicode":   {Seq: 1, Time: time.UnixMicro(1).UTC(), Actor: Actor{Subject: "ü", Name: "Zoë 🚓"}},
		"zero time": {Seq: 1},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := EncodeEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
			}
			b2, _ := EncodeEvent(got)
			if !bytes.Equal(b, b2) {
				t.Fatal("encoding is not deterministic")
			}
		})
	}
}

// Every field must reach the encoding: changing any one changes the leaf. A field left out of
// EncodeEvent would be editable without verify noticing.
func TestEncodeEventCoversEveryField(t *testing.T) {
	base := sampleEvent()
	baseLeaf, err := EventLeaf(base)
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(*Event){
		"seq": func(e *Event) { e.Seq++ }, "chain": func(e *Event) { e.Chain = "other" },
		"time":          func(e *Event) { e.Time = e.Time.Add(time.Microsecond) },
		"subject":       func(e *Event) { e.Actor.Subject = "u-2" },
		"name":          func(e *Event) { e.Actor.Name = "x" },
		"roles":         func(e *Event) { e.Actor.Roles = e.Actor.Roles[:1] },
		"role order":    func(e *Event) { e.Actor.Roles = []string{e.Actor.Roles[1], e.Actor.Roles[0]} },
		"session":       func(e *Event) { e.Actor.Session = "" },
		"client":        func(e *Event) { e.ClientAddr = "10.0.0.8" },
		"request":       func(e *Event) { e.RequestID = "req-2" },
		"action":        func(e *Event) { e.Action = ActionExport },
		"stage":         func(e *Event) { e.Stage = StageIntent },
		"intent seq":    func(e *Event) { e.IntentSeq = 40 },
		"decision":      func(e *Event) { e.Decision = EffectDeny },
		"rule":          func(e *Event) { e.Rule = "other" },
		"purpose":       func(e *Event) { e.Reason.Purpose = "major_crime" },
		"case":          func(e *Event) { e.Reason.CaseRef = "CR/124/25" },
		"offence":       func(e *Event) { e.Reason.OffenceCode = "" },
		"authority":     func(e *Event) { e.AuthorityID = "" },
		"search type":   func(e *Event) { e.SearchType = "partial" },
		"band":          func(e *Event) { e.Band = 1 },
		"count":         func(e *Event) { e.ResultCount = 16 },
		"digest":        func(e *Event) { e.ResultDigest[0] ^= 1 },
		"status":        func(e *Event) { e.Status = StatusError },
		"error":         func(e *Event) { e.Error = "timeout" },
		"erases":        func(e *Event) { e.Erases = []int64{3} },
		"payload hash":  func(e *Event) { e.PayloadHash[31] ^= 1 },
		"field shifted": func(e *Event) { e.Actor.Name, e.Actor.Session = e.Actor.Name+e.Actor.Session, "" },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			e := sampleEvent()
			e.Actor.Roles = append([]string(nil), base.Actor.Roles...)
			edit(&e)
			leaf, err := EventLeaf(e)
			if err != nil {
				t.Fatal(err)
			}
			if leaf == baseLeaf {
				t.Fatal("edit did not change the leaf hash")
			}
		})
	}
}

func TestEncodeEventRefusesNonCanonicalTime(t *testing.T) {
	for name, tm := range map[string]time.Time{
		"nanoseconds": time.Date(2025, 1, 1, 0, 0, 0, 1, time.UTC),
		"local zone":  time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("BST", 3600)),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := EncodeEvent(Event{Time: tm}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecodeEventRejects(t *testing.T) {
	good, _ := EncodeEvent(sampleEvent())
	for name, b := range map[string][]byte{
		"empty":         nil,
		"bad version":   append([]byte{2}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"trailing":      append(bytes.Clone(good), 0),
		"huge string":   append(append([]byte{1}, make([]byte, 8)...), 0xff, 0xff, 0xff, 0xff),
		"huge list len": append(append(append([]byte{1}, make([]byte, 8+4+8+4+4)...), 0x7f, 0xff, 0xff, 0xff), make([]byte, 64)...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeEvent(b); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPayloadDigest(t *testing.T) {
	if !PayloadDigest(Payload{}).IsZero() {
		t.Fatal("empty payload must have no digest")
	}
	p := Payload{VRMs: []string{"AB12CDE"}, Query: "exact AB12CDE", Justification: "suspect vehicle in robbery"}
	q := p
	q.Salt[0] = 1
	if PayloadDigest(p) == PayloadDigest(q) {
		t.Fatal("salt must change the digest, or an erased payload could be confirmed by guessing")
	}
	got, err := DecodePayload(EncodePayload(q))
	if err != nil || !reflect.DeepEqual(got, q) {
		t.Fatalf("payload round trip: %+v, %v", got, err)
	}
}

func TestDigestIDsIsUnambiguous(t *testing.T) {
	if DigestIDs([]string{"ab", "c"}) == DigestIDs([]string{"a", "bc"}) {
		t.Fatal("different id lists gave one digest")
	}
	if DigestIDs([]string{"a", "b"}) == DigestIDs([]string{"b", "a"}) {
		t.Fatal("order must matter: the digest is of what was shown, in order")
	}
	if DigestIDs(nil).IsZero() {
		t.Fatal("no results still has a digest, distinct from none recorded")
	}
}

// FuzzDecodeEvent: whatever the bytes, decoding never panics, and anything that decodes
// re-encodes to the same bytes (one encoding per event: canonical).
func FuzzDecodeEvent(f *testing.F) {
	good, _ := EncodeEvent(sampleEvent())
	f.Add(good)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			return
		}
		again, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("not canonical:\n in %x\nout %x", b, again)
		}
	})
}

// FuzzEncodeEvent: any event built from arbitrary values survives encode/decode unchanged, and
// encoding is deterministic.
func FuzzEncodeEvent(f *testing.F) {
	f.Add(int64(1), "main", int64(1700000000000000), "u", "n", "r1", "r2", "search", "intent", int64(0), "allow", "p", int64(3), int64(2), []byte{1, 2})
	f.Fuzz(func(t *testing.T, seq int64, chain string, us int64, subj, name, r1, r2, action, stage string, intent int64, dec, purpose string, count, erase int64, digest []byte) {
		e := Event{Seq: seq, Chain: chain, Time: time.UnixMicro(us).UTC(),
			Actor:  Actor{Subject: subj, Name: name},
			Action: Action(action), Stage: Stage(stage), IntentSeq: intent, Decision: Effect(dec),
			Reason: Reason{Purpose: purpose}, ResultCount: count, Band: int(count % 4),
		}
		if r1 != "" || r2 != "" {
			e.Actor.Roles = []string{r1, r2}
		}
		if erase != 0 {
			e.Erases = []int64{erase, -erase}
		}
		copy(e.ResultDigest[:], digest)
		a, err := EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := EncodeEvent(e)
		if !bytes.Equal(a, b) {
			t.Fatal("not deterministic")
		}
		got, err := DecodeEvent(a)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	f.Add(EncodePayload(Payload{VRMs: []string{"AB12CDE"}, Query: "q", Justification: "j"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePayload(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodePayload(p), b) {
			t.Fatal("payload encoding not canonical")
		}
	})
}
