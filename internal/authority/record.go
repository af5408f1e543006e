package authority

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/search"
)

// event is the base audit event of a transition of a by caller c.
func (s *Service) event(c search.Caller, action audit.Action, a Authority, band authz.Band) audit.Event {
	return audit.Event{
		Actor:      audit.Actor{Subject: c.Subject, Name: c.Name, Roles: slices.Clone(c.Roles), Session: c.Session},
		ClientAddr: c.ClientAddr, RequestID: c.RequestID, Action: action, AuthorityID: a.ID,
		Reason: audit.Reason{Purpose: clip(a.Reason.Purpose), CaseRef: clip(a.Reason.CaseRef), OffenceCode: clip(a.Reason.OffenceCode)},
		Band:   bandNumber(band),
	}
}

// refusePolicy records a policy refusal (or a malformed reason) and returns it.
func (s *Service) refusePolicy(ctx context.Context, ev audit.Event, p audit.Payload, d authz.Decision, err error) error {
	if aerr := s.recordDenial(ctx, ev, p, d.Rule); aerr != nil {
		return aerr
	}
	if err != nil {
		if errors.Is(err, authz.ErrInvalid) {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return fmt.Errorf("authorise: %w", err)
	}
	return &search.DeniedError{Rule: d.Rule, Reason: d.Reason}
}

// recordDenial appends a deny event; when it cannot, the caller gets the audit failure, never the
// refusal (an unrecorded refusal hides an attempt).
func (s *Service) recordDenial(ctx context.Context, ev audit.Event, p audit.Payload, rule string) error {
	ev.Decision, ev.Rule, ev.Stage = audit.EffectDeny, clip(rule), audit.StageEvent
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), audit.OutcomeTimeout)
	defer cancel()
	if _, err := s.log.Append(actx, ev, p); err != nil {
		if errors.Is(err, audit.ErrUnavailable) {
			return fmt.Errorf("record refusal: %w", err)
		}
		return fmt.Errorf("record refusal: %w: %w", audit.ErrUnavailable, err)
	}
	return nil
}

// recordFact appends a one-shot event (an expiry, an exhaustion) after the store changed.
func (s *Service) recordFact(ctx context.Context, ev audit.Event, p audit.Payload) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), audit.OutcomeTimeout)
	defer cancel()
	if _, err := s.log.Append(actx, ev, p); err != nil {
		if errors.Is(err, audit.ErrUnavailable) {
			return fmt.Errorf("record %s: %w", ev.Action, err)
		}
		return fmt.Errorf("record %s: %w: %w", ev.Action, audit.ErrUnavailable, err)
	}
	return nil
}

func invalid(errs []error) error {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = strings.ReplaceAll(e.Error(), "\n", "; ")
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(parts, "; "))
}

func errClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return ""
}

func bandNumber(b authz.Band) int {
	switch b {
	case authz.Band1:
		return 1
	case authz.Band2:
		return 2
	case authz.BandExpired:
		return 3
	}
	return 0
}

func newID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never on supported platforms (Go 1.24+)
	}
	return "au_" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// clip keeps a field within what one audit field holds, as valid UTF-8.
func clip(s string) string { return clipBytes(s, audit.MaxFieldLen) }

func clipBytes(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// clipText shortens user input echoed in messages.
func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}
