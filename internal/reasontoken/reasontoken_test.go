package reasontoken_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reasontoken"
)

var reason = authz.Reason{Purpose: "crime_investigation", CaseRef: "MPS/12345/26", OffenceCode: "TH68010",
	Justification: "silver Ford seen leaving the burglary at 12 High Street; establish its route"}

func sealer(t *testing.T, now *time.Time) *reasontoken.Sealer {
	t.Helper()
	s, err := reasontoken.New(bytes.Repeat([]byte{7}, 32), time.Minute, func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndNothingReadable(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := sealer(t, &now)
	tok, exp, err := s.Seal("alice", "sess-1", reason)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(time.Minute)) {
		t.Errorf("expires %v", exp)
	}
	for _, secret := range []string{"MPS", "12345", "burglary", "High", "crime_investigation"} {
		if strings.Contains(tok, secret) {
			t.Errorf("token shows %q: %s", secret, tok)
		}
	}
	got, err := s.Open("alice", "sess-1", tok)
	if err != nil || got != reason {
		t.Fatalf("open: %+v %v", got, err)
	}
}

func TestRefusals(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := sealer(t, &now)
	tok, _, err := s.Seal("alice", "sess-1", reason)
	if err != nil {
		t.Fatal(err)
	}
	flip := []byte(tok)
	flip[len(flip)-5] ^= 1
	other, _ := reasontoken.New(bytes.Repeat([]byte{8}, 32), time.Minute, func() time.Time { return now })
	for name, tc := range map[string]struct {
		subject, session, token string
		s                       *reasontoken.Sealer
	}{
		"another user":                {"mallory", "sess-1", tok, s},
		"another session":             {"alice", "sess-2", tok, s},
		"tampered":                    {"alice", "sess-1", string(flip), s},
		"another key":                 {"alice", "sess-1", tok, other},
		"no prefix":                   {"alice", "sess-1", strings.TrimPrefix(tok, "rt1."), s},
		"garbage":                     {"alice", "sess-1", "rt1.!!!", s},
		"short":                       {"alice", "sess-1", "rt1.AAAA", s},
		"oversized":                   {"alice", "sess-1", "rt1." + strings.Repeat("A", reasontoken.MaxLen), s},
		"subject and session spliced": {"alice|3:ses", "s-1", tok, s},
	} {
		if _, err := tc.s.Open(tc.subject, tc.session, tc.token); !errors.Is(err, reasontoken.ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
	}
	now = now.Add(time.Minute)
	if _, err := s.Open("alice", "sess-1", tok); !errors.Is(err, reasontoken.ErrInvalid) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	if _, _, err := s.Seal("", "", reason); !errors.Is(err, reasontoken.ErrInvalid) {
		t.Errorf("sealed without a subject: %v", err)
	}
	big := reason
	big.Justification = strings.Repeat("x", reasontoken.MaxReasonBytes)
	if _, _, err := s.Seal("alice", "", big); !errors.Is(err, reasontoken.ErrInvalid) {
		t.Errorf("sealed an oversized reason: %v", err)
	}
}

func TestNewChecks(t *testing.T) {
	now := func() time.Time { return time.Now() }
	if _, err := reasontoken.New(make([]byte, 16), 0, now); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := reasontoken.New(make([]byte, 32), -time.Second, now); err == nil {
		t.Error("negative lifetime accepted")
	}
	if _, err := reasontoken.New(make([]byte, 32), 0, nil); err == nil {
		t.Error("no clock accepted")
	}
}
