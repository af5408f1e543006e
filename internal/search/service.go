// Package search runs investigators' searches of ANPR reads end to end: validate the request,
// authorise it (Casbin decision with the data-age band, purpose and authority), record the intent
// durably, query the read store, record the outcome with a digest of exactly the ids shown, and
// only then return. It is the only way the HTTP layer reaches reads.
package search

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Error kinds. The HTTP layer maps them to problem+json in one place.
var (
	// ErrInvalid: the request itself is wrong (a bad VRM, a reversed or future window, an unknown
	// camera, a pattern too vague, a page size out of range, a cursor not issued for this caller
	// and query). Nothing was searched. HTTP 400.
	ErrInvalid = errors.New("invalid search")
	// ErrForbidden: the policy refused the request; the refusal is in the audit log. HTTP 403.
	ErrForbidden = errors.New("search not allowed")
)

// DeniedError is a policy refusal with the rule that decided, which the caller may show.
type DeniedError struct {
	Rule   string
	Reason string
}

func (e *DeniedError) Error() string { return "not allowed: " + e.Reason }

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *DeniedError) Unwrap() error { return ErrForbidden }

// Store is what the service needs from a read backend: queries and the camera registry. Any
// reads.Store satisfies it.
type Store interface {
	FindReads(ctx context.Context, q reads.Query) (reads.Page, error)
	GetRead(ctx context.Context, id string) (reads.Read, error)
	Camera(ctx context.Context, id string) (reads.Camera, error)
	Cameras(ctx context.Context) ([]reads.Camera, error)
	// The store-side parts of convoy, multi-location and histogram searches.
	reads.Analyst
}

// Deps are the collaborators of a Service.
type Deps struct {
	Reads Store
	Audit audit.Appender
	Authz *authz.Authorizer
	// Authorities checks authorities presented with searches; nil refuses every search that
	// presents one (and the policy refuses the searches that need one).
	Authorities Authorities
	// Images holds the plate-patch and overview images reads name; nil answers every image view
	// with "not found" (after the view is decided and audited).
	Images ImageStore
	// Cameras answers camera look-ups (camera checks, area resolution, journey and export
	// positions); nil asks Reads each time. Serve passes the in-memory registry
	// (ingest.CameraCache), because listing the registry per request cost about 0.5 ms.
	Cameras CameraSource
	// Now is the clock; windows are judged against it. It should be the Authorizer's clock too,
	// or a window could be "not in the future" here and in another band there.
	Now func() time.Time
}

// Config tunes the service. The zero value becomes the defaults through CheckAndSetDefaults.
type Config struct {
	// MaxSpeedKPH is the implied speed between two reads of one plate above which a journey flags
	// the pair as impossible travel (a likely cloned plate). Default 200.
	MaxSpeedKPH float64
	// MinPatternFixed is how many literal characters a partial-VRM pattern needs; fewer would
	// sweep up many unrelated vehicles, which is not a search for one. Default 3.
	MinPatternFixed int
	// MaxWindow bounds the width of a searched window; 0 leaves only the retention bound (a
	// window starting before retention needs a hold authority).
	MaxWindow time.Duration
	// DefaultPageSize applies when a request names no limit (default 50); MaxPageSize is the
	// largest a request may ask for (default 500, at most reads.MaxPageSize).
	DefaultPageSize int
	MaxPageSize     int
	// MaxCameras bounds the camera filter of one request (default 100).
	MaxCameras int
	// MaxJourneyReads caps the reads one journey returns (default 10000); a longer journey is
	// returned truncated, and says so.
	MaxJourneyReads int
	// ClockSkew is how far past now a window may end, for clients whose clocks run ahead
	// (default 1 minute).
	ClockSkew time.Duration
	// Area bounds the areas a search may name (largest area, radius range, polygon points);
	// zero fields take geo's defaults (30 km², 10-3000 m, 100 points).
	Area geo.Limits
	// Convoy bounds the work of one convoy search; see ConvoyLimits.
	Convoy ConvoyLimits
	// MultiLocation bounds the work of one multi-location search; see MultiLimits.
	MultiLocation MultiLimits
	// CursorKey signs page cursors (at least 32 bytes). Empty: a random key at start, so cursors
	// do not survive a restart, which only costs a client a fresh first page.
	CursorKey []byte
}

// Defaults of Config.
const (
	DefaultMaxSpeedKPH     = 200
	DefaultMinPatternFixed = 3
	DefaultPageSize        = 50
	DefaultMaxPageSize     = 500
	DefaultMaxCameras      = 100
	DefaultMaxJourneyReads = 10000
	DefaultClockSkew       = time.Minute
	minCursorKey           = 32
)

// CheckAndSetDefaults fills zero fields and reports every problem at once.
func (c *Config) CheckAndSetDefaults() error {
	if c.MaxSpeedKPH == 0 {
		c.MaxSpeedKPH = DefaultMaxSpeedKPH
	}
	if c.MinPatternFixed == 0 {
		c.MinPatternFixed = DefaultMinPatternFixed
	}
	if c.DefaultPageSize == 0 {
		c.DefaultPageSize = DefaultPageSize
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = DefaultMaxPageSize
	}
	if c.MaxCameras == 0 {
		c.MaxCameras = DefaultMaxCameras
	}
	if c.MaxJourneyReads == 0 {
		c.MaxJourneyReads = DefaultMaxJourneyReads
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	c.Area = c.Area.WithDefaults()
	c.Convoy = c.Convoy.withDefaults()
	c.MultiLocation = c.MultiLocation.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("search config: "+format, args...)) }
	if c.MaxSpeedKPH < 0 {
		bad("max speed %v km/h must be positive", c.MaxSpeedKPH)
	}
	if c.MinPatternFixed < 1 {
		bad("min pattern fixed characters %d must be at least 1", c.MinPatternFixed)
	}
	if c.MaxWindow < 0 {
		bad("max window %s must not be negative", c.MaxWindow)
	}
	if c.MaxPageSize < 1 || c.MaxPageSize > reads.MaxPageSize {
		bad("max page size %d must be 1..%d", c.MaxPageSize, reads.MaxPageSize)
	}
	if c.DefaultPageSize < 1 || c.DefaultPageSize > c.MaxPageSize {
		bad("default page size %d must be 1..max page size %d", c.DefaultPageSize, c.MaxPageSize)
	}
	if c.MaxCameras < 1 {
		bad("max cameras %d must be at least 1", c.MaxCameras)
	}
	if c.MaxJourneyReads < 1 {
		bad("max journey reads %d must be at least 1", c.MaxJourneyReads)
	}
	if c.ClockSkew < 0 {
		bad("clock skew %s must not be negative", c.ClockSkew)
	}
	if c.Area.MaxAreaKM2 < 0 || c.Area.MinRadiusM < 0 || c.Area.MaxRadiusM < c.Area.MinRadiusM || c.Area.MaxVertices < 3 {
		bad("area limits %+v: want a positive area, 0 <= min radius <= max radius, at least 3 points", c.Area)
	}
	errs = append(errs, c.Convoy.check()...)
	errs = append(errs, c.MultiLocation.check()...)
	if len(c.CursorKey) > 0 && len(c.CursorKey) < minCursorKey {
		bad("cursor key has %d bytes; it needs at least %d", len(c.CursorKey), minCursorKey)
	}
	return errors.Join(errs...)
}

// Service runs searches. It is safe for concurrent use.
type Service struct {
	st   Store
	cams CameraSource
	log  audit.Appender
	az   *authz.Authorizer
	auth Authorities
	img  ImageStore
	now  func() time.Time
	cfg  Config
	curs cursorSealer
}

// New checks the dependencies and configuration and returns a Service.
func New(d Deps, cfg Config) (*Service, error) {
	var errs []error
	if d.Reads == nil {
		errs = append(errs, errors.New("search: no read store"))
	}
	if d.Audit == nil {
		errs = append(errs, errors.New("search: no audit log"))
	}
	if d.Authz == nil {
		errs = append(errs, errors.New("search: no authorizer"))
	}
	if d.Now == nil {
		errs = append(errs, errors.New("search: no clock"))
	}
	if err := cfg.CheckAndSetDefaults(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	key := slices.Clone(cfg.CursorKey)
	if len(key) == 0 {
		key = make([]byte, minCursorKey)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("search: cursor key: %w", err)
		}
	}
	cfg.CursorKey = nil // kept only inside the sealer
	cams := d.Cameras
	if cams == nil {
		cams = d.Reads
	}
	return &Service{st: d.Reads, cams: cams, log: d.Audit, az: d.Authz, auth: d.Authorities, img: d.Images, now: d.Now, cfg: cfg, curs: cursorSealer{key: key}}, nil
}

// Config returns the effective configuration (without the cursor key).
func (s *Service) Config() Config { return s.cfg }

// Caller is who is searching, as the HTTP layer authenticated them. It is a plain struct so the
// service depends on no web framework or identity implementation.
type Caller struct {
	Subject    string
	Name       string
	Roles      []string
	Rank       string
	Session    string
	ClientAddr string
	RequestID  string
}

func (c Caller) subject() authz.Subject {
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

// event is the base audit event for this caller.
func (c Caller) event(action audit.Action) audit.Event {
	return audit.Event{
		Actor:      audit.Actor{Subject: c.Subject, Name: c.Name, Roles: slices.Clone(c.Roles), Session: c.Session},
		ClientAddr: c.ClientAddr, RequestID: c.RequestID, Action: action,
	}
}
