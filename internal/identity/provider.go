package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/sethvargo/go-retry"
)

// providerCheckTTL is how long CheckProvider reuses its last answer: readiness probes from
// several sources every few seconds then cost the IdP one discovery and one key fetch per TTL.
const providerCheckTTL = 5 * time.Second

// providerCheck is the last CheckProvider answer.
type providerCheck struct {
	at  time.Time
	err error
}

// CheckProvider reports whether logins can work now: the IdP's discovery document is reachable
// and names this issuer, and its signing keys (jwks_uri) can be fetched and hold at least one
// usable public key. The answer is reused for a few seconds. Errors wrap ErrUnavailable.
func (s *Service) CheckProvider(ctx context.Context) error {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if !s.lastCheck.at.IsZero() && time.Since(s.lastCheck.at) < providerCheckTTL {
		return s.lastCheck.err
	}
	err := s.checkProvider(ctx)
	s.lastCheck = providerCheck{at: time.Now(), err: err}
	return err
}

func (s *Service) checkProvider(ctx context.Context) error {
	p, err := oidc.NewProvider(s.clientContext(ctx), s.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("%w: identity provider %s: discovery: %v", ErrUnavailable, s.cfg.Issuer, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKSURI == "" {
		return fmt.Errorf("%w: identity provider %s: discovery names no jwks_uri", ErrUnavailable, s.cfg.Issuer)
	}
	if err := s.fetchKeys(ctx, doc.JWKSURI); err != nil {
		return fmt.Errorf("%w: identity provider %s: signing keys %s: %v", ErrUnavailable, s.cfg.Issuer, doc.JWKSURI, err)
	}
	s.mu.Lock()
	if s.provider == nil {
		s.provider = p // logins need not discover it again
	}
	s.mu.Unlock()
	return nil
}

// fetchKeys fetches the IdP's JSON Web Key Set and requires a usable public key in it.
func (s *Service) fetchKeys(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	for _, k := range set.Keys {
		if k.Valid() && k.IsPublic() && (k.Use == "" || k.Use == "sig") {
			return nil
		}
	}
	return errors.New("no public signing key in the set")
}

// AwaitProvider checks the IdP until it answers, with exponential backoff from minWait up to
// maxWait between tries, or until ctx ends. The first failure is logged once, as a warning that
// says what fails (logins) and that it keeps trying; success after that is logged too. serve
// runs it in the background at start: the portal serves API-key clients while the IdP is down,
// and /readyz says the provider is not ready until it answers.
func (s *Service) AwaitProvider(ctx context.Context, minWait, maxWait time.Duration) error {
	b := retry.WithCappedDuration(maxWait, retry.WithJitterPercent(10, retry.NewExponential(minWait)))
	warned := false
	return retry.Do(ctx, b, func(ctx context.Context) error {
		err := s.checkProvider(ctx)
		s.checkMu.Lock()
		s.lastCheck = providerCheck{at: time.Now(), err: err}
		s.checkMu.Unlock()
		if err == nil {
			if warned {
				s.log.Info("identity provider reachable: logins work", "issuer", s.cfg.Issuer)
			}
			return nil
		}
		if !warned {
			s.log.Warn("identity provider unreachable: logins fail until it answers; retrying with backoff",
				"issuer", s.cfg.Issuer, "err", err.Error())
			warned = true
		}
		return retry.RetryableError(err)
	})
}
