package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/anpr-portal/anpr/internal/audit"
)

// Appender is the part of the audit log this package uses (audit.Appender): login, logout, grant
// and API key events go through it, and a change that cannot be recorded does not happen.
type Appender interface {
	Append(ctx context.Context, e audit.Event, p audit.Payload) (audit.Event, error)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store Store    // required
	Audit Appender // required
	// Clock gives the time (default time.Now); tests move it to expire sessions and keys.
	Clock func() time.Time
	// Random gives secrets (default crypto/rand.Reader).
	Random io.Reader
	// HTTPClient talks to the IdP (default a client with a 30s timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger // default discards
}

// Service is the identity service. It is safe for concurrent use.
type Service struct {
	cfg    Config
	store  Store
	audit  Appender
	now    func() time.Time
	random io.Reader
	client *http.Client
	log    *slog.Logger

	key ed25519.PrivateKey
	kid string

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use; nil until then

	checkMu   sync.Mutex
	lastCheck providerCheck // CheckProvider's last answer (provider.go)

	keys apiKeyCache // API keys verified in the last few seconds (keycache.go)
}

// NewService checks cfg and loads (or creates) the session signing key. It does not contact the
// IdP: discovery happens on first use and is retried until it succeeds, so the portal starts (and
// serves API keys) while the IdP is down.
func NewService(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Audit == nil {
		return nil, fmt.Errorf("%w: identity service needs a store and an audit log", ErrInvalid)
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Random == nil {
		deps.Random = rand.Reader
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	key := cfg.SigningKey
	if key == nil {
		k, err := LoadOrCreateSigningKey(cfg.SigningKeyFile, deps.Random)
		if err != nil {
			return nil, err
		}
		key = k
	}
	return &Service{
		cfg: cfg, store: deps.Store, audit: deps.Audit, now: deps.Clock, random: deps.Random,
		client: deps.HTTPClient, log: deps.Logger,
		key: key, kid: keyID(key.Public().(ed25519.PublicKey)),
	}, nil
}

// Config returns the checked configuration (with defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// oidcProvider returns the discovered IdP, discovering it on first use.
func (s *Service) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(s.clientContext(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discover identity provider %s: %v", ErrUnavailable, s.cfg.Issuer, err)
	}
	s.provider = p
	return p, nil
}

// clientContext makes go-oidc and oauth2 use our HTTP client.
func (s *Service) clientContext(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, s.client), oauth2.HTTPClient, s.client)
}

func (s *Service) oauth2Config(p *oidc.Provider) oauth2.Config {
	return oauth2.Config{
		ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, RedirectURL: s.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: s.cfg.Scopes,
	}
}

// record appends a one-shot event. Audit failures wrap ErrUnavailable.
func (s *Service) record(ctx context.Context, e audit.Event, p audit.Payload) error {
	if _, err := s.audit.Append(ctx, e, p); err != nil {
		return fmt.Errorf("%w: record %s: %w", ErrUnavailable, e.Action, err)
	}
	return nil
}

// recordDenial audits a refused management action. The caller returns the refusal either way:
// a failure to record it is logged, not allowed to turn a 403 into something else.
func (s *Service) recordDenial(ctx context.Context, by Principal, action audit.Action, rule, what string) {
	e := audit.Event{Actor: by.Actor(), Action: action, Decision: audit.EffectDeny, Rule: rule}
	if err := s.record(ctx, e, audit.Payload{Query: what}); err != nil {
		s.log.Error("could not audit a refused identity change", "action", action, "rule", rule, "err", err)
	}
}

// runAudited performs a management change under audit.Run: the intent is durable before the
// change, the outcome after. An audit failure wraps ErrUnavailable. what describes the change
// (who it concerns, in Query; a free-text reason, in Justification): the payload is where the
// audit log keeps personal data, so it can be erased lawfully.
func (s *Service) runAudited(ctx context.Context, by Principal, action audit.Action, rule string, what audit.Payload, op func(ctx context.Context) error) error {
	e := audit.Event{Actor: by.Actor(), Action: action, Decision: audit.EffectAllow, Rule: rule}
	_, err := audit.Run(ctx, s.audit, e, what, func(ctx context.Context) (struct{}, audit.Outcome, error) {
		err := op(ctx)
		return struct{}{}, audit.Outcome{Count: 1, ErrorClass: errorClass(err)}, err
	})
	if errors.Is(err, audit.ErrUnavailable) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func errorClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	}
	return "store"
}

// secret returns n random bytes.
func (s *Service) secret(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.random, b); err != nil {
		return nil, fmt.Errorf("%w: read random bytes: %v", ErrUnavailable, err)
	}
	return b, nil
}

// token returns a random URL-safe string of n bytes of entropy.
func (s *Service) token(n int) (string, error) {
	b, err := s.secret(n)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashString(v string) []byte {
	sum := sha256.Sum256([]byte(v))
	return sum[:]
}

// storeErr keeps the store's ErrNotFound / ErrConflict kinds and marks anything else as an
// outage, so the HTTP layer answers 503 rather than 500 or, worse, 401.
func storeErr(what string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}
