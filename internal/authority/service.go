package authority

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
)

// Audit actions of the transitions nobody decides: they happen to an approved authority when its
// time runs out or its last use is spent. (Request, approve, reject and revoke use the audit
// package's own actions.)
const (
	ActionExpire  audit.Action = "authority.expire"
	ActionExhaust audit.Action = "authority.exhaust"
)

// Rules outside the policy that refuse authority operations, as audit events record them.
const (
	RuleState      = "rule:authority-state"
	RuleNarrowOnly = "rule:authority-narrow-only"
)

// systemActor records transitions that time or use counting cause, not a person.
var systemActor = audit.Actor{Subject: "system:authority", Name: "authority service"}

// Cameras is the camera registry, to check named cameras and resolve areas. Any reads.Store has it.
type Cameras interface {
	Cameras(ctx context.Context) ([]reads.Camera, error)
}

// HoldScope is what a preservation hold keeps: empty VRMs or Cameras mean "any".
type HoldScope = reads.HoldScope

// HoldLookup finds preservation holds (the retention package owns them). An unknown hold is not
// an error: it reports active false.
type HoldLookup interface {
	Hold(ctx context.Context, id string) (scope HoldScope, active bool, err error)
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store   Store
	Audit   audit.Appender
	Authz   *authz.Authorizer
	Cameras Cameras
	// Holds, when set, lets authorities name preservation holds; nil refuses requests that do.
	Holds HoldLookup
	// Now is the clock; it should be the Authorizer's, so bands are judged at the same instant.
	Now func() time.Time
}

// Config bounds requests. The zero value becomes the defaults through CheckAndSetDefaults.
type Config struct {
	MaxUses    int           // most uses one authority may have (default 50)
	MaxExpiry  time.Duration // longest an authority may stay valid (default 30 days)
	MaxVRMs    int           // default 20
	MaxCameras int           // cameras named or inside an area (default 500)
	// Area bounds the area an authority may name: the same limits (and defaults) as an area
	// search, since an authority wider than any search it could cover would only widen exposure.
	Area geo.Limits
	// ClockSkew is how far past now a window may end (default 1 minute).
	ClockSkew time.Duration
}

// CheckAndSetDefaults fills zero fields and reports every problem at once.
func (c *Config) CheckAndSetDefaults() error {
	if c.MaxUses == 0 {
		c.MaxUses = 50
	}
	if c.MaxExpiry == 0 {
		c.MaxExpiry = 30 * 24 * time.Hour
	}
	if c.MaxVRMs == 0 {
		c.MaxVRMs = 20
	}
	if c.MaxCameras == 0 {
		c.MaxCameras = 500
	}
	c.Area = c.Area.WithDefaults()
	if c.ClockSkew == 0 {
		c.ClockSkew = time.Minute
	}
	var errs []error
	if c.MaxUses < 1 {
		errs = append(errs, fmt.Errorf("authority: max uses %d must be at least 1", c.MaxUses))
	}
	if c.MaxExpiry < time.Minute {
		errs = append(errs, fmt.Errorf("authority: max expiry %s must be at least a minute", c.MaxExpiry))
	}
	if c.MaxVRMs < 1 || c.MaxCameras < 1 || c.ClockSkew < 0 {
		errs = append(errs, errors.New("authority: limits on VRMs and cameras must be positive"))
	}
	if c.Area.MaxAreaKM2 < 0 || c.Area.MinRadiusM < 0 || c.Area.MaxRadiusM < c.Area.MinRadiusM || c.Area.MaxVertices < 3 {
		errs = append(errs, fmt.Errorf("authority: area limits %+v: want a positive area, 0 <= min radius <= max radius, at least 3 points", c.Area))
	}
	return errors.Join(errs...)
}

// Service runs the workflow. It is safe for concurrent use, and implements search.Authorities.
type Service struct {
	st     Store
	log    audit.Appender
	az     *authz.Authorizer
	cams   Cameras
	holds  HoldLookup
	now    func() time.Time
	cfg    Config
	broker *broker
	// approved remembers the scope of authorities seen approved, so Spend need not read the
	// authority again after Check did (see Spend).
	approved *approvedScopes
}

var _ search.Authorities = (*Service)(nil)

// New checks the dependencies and configuration.
func New(d Deps, cfg Config) (*Service, error) {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("authority: no store"))
	}
	if d.Audit == nil {
		errs = append(errs, errors.New("authority: no audit log"))
	}
	if d.Authz == nil {
		errs = append(errs, errors.New("authority: no authorizer"))
	}
	if d.Cameras == nil {
		errs = append(errs, errors.New("authority: no camera registry"))
	}
	if d.Now == nil {
		errs = append(errs, errors.New("authority: no clock"))
	}
	if err := cfg.CheckAndSetDefaults(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{st: d.Store, log: d.Audit, az: d.Authz, cams: d.Cameras, holds: d.Holds, now: d.Now, cfg: cfg, broker: newBroker(),
		approved: &approvedScopes{m: make(map[string]approvedScope)}}, nil
}

// Close ends every queue subscription (the server is stopping). The service still answers
// everything else.
func (s *Service) Close() { s.broker.close() }

// View is an authority as the API shows it: its state judged now, the data-age band of its
// window and what it makes searchable in words.
type View struct {
	Authority
	State      State      `json:"state"`
	Band       authz.Band `json:"band"`
	Searchable string     `json:"searchable"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
}

func (s *Service) view(a Authority) View {
	band := s.az.BandOf(a.Scope.From)
	v := View{Authority: a, State: a.StateAt(s.now()), Band: band, Searchable: Searchable(a, string(band))}
	if !a.DecidedAt.IsZero() {
		t := a.DecidedAt
		v.DecidedAt = &t
	}
	return v
}

func (s *Service) views(as []Authority) []View {
	out := make([]View, 0, len(as))
	for _, a := range as {
		out = append(out, s.view(a))
	}
	return out
}

// Request is what a requester asks for.
type Request struct {
	Reason    authz.Reason
	Scope     Scope
	ExpiresAt time.Time
	MaxUses   int
	HoldID    string
}

// Request files a request for authority. The policy decides whether the caller may ask for the
// band of the window with this purpose (band 2 needs the extended-access role and a serious
// purpose); a refusal is audited. The request is durable in the audit log before it is stored.
func (s *Service) Request(ctx context.Context, c search.Caller, r Request) (View, error) {
	reason := s.az.ReasonRules().Normalize(r.Reason)
	now := s.now()
	scope, err := s.checkScope(ctx, r.Scope, now, nil)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	switch {
	case r.ExpiresAt.IsZero():
		errs = append(errs, fmt.Errorf("expires_at is required"))
	case !r.ExpiresAt.After(now):
		errs = append(errs, fmt.Errorf("expires_at %s is not in the future", stamp(r.ExpiresAt)))
	case r.ExpiresAt.Sub(now) > s.cfg.MaxExpiry:
		errs = append(errs, fmt.Errorf("expires_at %s is more than %s away; ask for a shorter authority", stamp(r.ExpiresAt), s.cfg.MaxExpiry))
	}
	if r.MaxUses < 1 || r.MaxUses > s.cfg.MaxUses {
		errs = append(errs, fmt.Errorf("max_uses %d must be 1 to %d", r.MaxUses, s.cfg.MaxUses))
	}
	hold := strings.TrimSpace(r.HoldID)
	if hold != "" {
		if err := s.checkHold(ctx, hold); err != nil {
			errs = append(errs, err)
		}
	}
	if err == nil && hold == "" && s.az.BandOf(scope.From) == authz.BandExpired {
		// Nobody may ask for what they could never use: past retention only held data exists.
		errs = append(errs, fmt.Errorf("scope: the window starts past retention (%s); such data is kept only under a preservation hold, so name it (hold_id)", stamp(scope.From)))
	}
	if len(errs) > 0 {
		return View{}, invalid(errs)
	}

	a := Authority{
		ID: newID(), Requester: c.Subject, RequesterName: c.Name, State: Pending, Reason: reason, Scope: scope,
		RequestedExpiresAt: r.ExpiresAt.UTC().Truncate(time.Microsecond), MaxUses: r.MaxUses, HoldID: hold,
		CreatedAt: now.UTC().Truncate(time.Microsecond),
	}
	a.ExpiresAt = a.RequestedExpiresAt
	band := s.az.BandOf(scope.From)
	ev := s.event(c, audit.ActionAuthorityRequest, a, band)
	payload := audit.Payload{VRMs: scope.VRMs, Query: "request " + scope.text() + s.limitsText(a), Justification: reason.Justification}
	d, err := s.az.Decide(authz.Request{Subject: subjectOf(c), Action: authz.AuthorityRequest, Band: band, Reason: reason})
	if err != nil || !d.Allowed {
		return View{}, s.refusePolicy(ctx, ev, payload, d, err)
	}
	ev.Decision, ev.Rule = audit.EffectAllow, clip(d.Rule)
	if _, err := audit.Run(ctx, s.log, ev, payload, func(ctx context.Context) (struct{}, audit.Outcome, error) {
		err := s.st.Create(ctx, a)
		return struct{}{}, audit.Outcome{Count: 1, ErrorClass: errClass(err)}, err
	}); err != nil {
		return View{}, fmt.Errorf("store authority request: %w", err)
	}
	s.broker.publish(QueueChange{ID: a.ID, State: Pending, authority: a})
	return s.view(a), nil
}

func (s *Service) limitsText(a Authority) string {
	return fmt.Sprintf(" max_uses=%d expires=%s hold=%s", a.MaxUses, a.ExpiresAt.UTC().Format(time.RFC3339), a.HoldID)
}

// Mine lists the caller's own requests, newest first.
func (s *Service) Mine(ctx context.Context, c search.Caller) ([]View, error) {
	as, err := s.st.ListByRequester(ctx, c.Subject, MaxList)
	if err != nil {
		return nil, fmt.Errorf("list my authorities: %w", err)
	}
	return s.views(as), nil
}

// Queue lists the pending requests the caller may decide, oldest first: the policy and the rank
// and separation rules decide per request, so an officer never sees their own request, and a
// caller who may decide nothing sees an empty queue.
func (s *Service) Queue(ctx context.Context, c search.Caller) ([]View, error) {
	as, err := s.st.ListPending(ctx, MaxList)
	if err != nil {
		return nil, fmt.Errorf("list pending authorities: %w", err)
	}
	out := []View{}
	for _, a := range as {
		if s.mayDecide(c, a) {
			out = append(out, s.view(a))
		}
	}
	return out, nil
}

// WatchQueue returns the changes to the caller's queue until ctx ends or the service closes
// (then the channel is closed). The subscription is live when WatchQueue returns.
func (s *Service) WatchQueue(ctx context.Context, c search.Caller) <-chan QueueChange {
	in := s.broker.subscribe()
	out := make(chan QueueChange, subscriberBuffer)
	go func() {
		defer close(out)
		defer s.broker.unsubscribe(in)
		for {
			select {
			case <-ctx.Done():
				return
			case ch, ok := <-in:
				if !ok {
					return
				}
				if !s.mayDecide(c, ch.authority) {
					continue
				}
				select {
				case out <- ch:
				default: // the reader has changes to read already
				}
			}
		}
	}()
	return out
}

// Get returns one authority to its requester, to officers who may decide or revoke it, and to
// nobody else (ErrNotFound, so ids cannot be probed).
func (s *Service) Get(ctx context.Context, c search.Caller, id string) (View, error) {
	a, err := s.st.Get(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("get authority: %w", err)
	}
	if a.Requester != c.Subject && !s.mayDecide(c, a) && !s.mayRevoke(c, a) {
		return View{}, fmt.Errorf("authority %q: %w", clipText(id, 40), ErrNotFound)
	}
	return s.view(a), nil
}

func (s *Service) mayDecide(c search.Caller, a Authority) bool {
	d, err := s.az.Decide(authz.Request{Subject: subjectOf(c), Action: authz.AuthorityApprove,
		Band: s.az.BandOf(a.Scope.From), Reason: a.Reason, Target: a.Requester})
	return err == nil && d.Allowed
}

func (s *Service) mayRevoke(c search.Caller, a Authority) bool {
	d, err := s.az.Decide(authz.Request{Subject: subjectOf(c), Action: authz.AuthorityRevoke, Target: a.Requester})
	return err == nil && d.Allowed
}

func subjectOf(c search.Caller) authz.Subject {
	sub := authz.Subject{ID: c.Subject}
	for _, r := range c.Roles {
		if role, err := authz.ParseRole(r); err == nil {
			sub.Roles = append(sub.Roles, role)
		}
	}
	// The authorizer judges the rank against the configured order; one it does not know counts
	// as no rank.
	sub.Rank = authz.Rank(c.Rank)
	return sub
}
