// Package reads holds the ANPR read and camera model, the queries investigators run over reads,
// and the Store interface that every backend (SQLite, Elasticsearch) implements.
package reads

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
)

// Domain error kinds. Backends and services wrap these so that the HTTP layer can map them to
// problem+json in one place.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid")
	ErrUnavailable = errors.New("unavailable")
	ErrConflict    = errors.New("conflict")
)

// TimePrecision is the resolution at which read times are stored and compared. Cameras report at
// millisecond precision; anything finer would make the deterministic id unstable across backends.
const TimePrecision = time.Millisecond

// Read is one sighting: camera CameraID saw plate VRM at SeenAt.
type Read struct {
	ID         string    `json:"id"`
	VRM        string    `json:"vrm"`      // normalised (plate.Normalize)
	Skeleton   string    `json:"skeleton"` // misread skeleton of VRM (plate.Skeleton)
	CameraID   string    `json:"camera_id"`
	SeenAt     time.Time `json:"seen_at"`              // UTC, TimePrecision
	Confidence float64   `json:"confidence,omitempty"` // OCR confidence 0..1 as the camera reported it
	Lane       int       `json:"lane,omitempty"`
	// PatchSHA and OverviewSHA name the plate-patch and overview images in the content-addressed
	// image store; empty when the camera sent none.
	PatchSHA    string `json:"patch_sha256,omitempty"`
	OverviewSHA string `json:"overview_sha256,omitempty"`
}

// ReadID is the deterministic id of a read: the first 8 bytes of SHA-256 over camera, time and
// VRM, as 16 hex digits. Appending the same read twice therefore stores it once, on any backend.
func ReadID(cameraID string, seenAt time.Time, vrm string) string {
	h := sha256.New()
	h.Write([]byte(cameraID))
	h.Write([]byte{0})
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(seenAt.UTC().Truncate(TimePrecision).UnixMilli()))
	h.Write(ts[:])
	h.Write([]byte{0})
	h.Write([]byte(vrm))
	sum := h.Sum(nil)
	sum[0] &= 0x7f // keep it a positive int64 so SQL backends can use it as a rowid
	return hex.EncodeToString(sum[:8])
}

// Camera is a fixed ANPR camera.
type Camera struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Road      string  `json:"road"`
	Direction string  `json:"direction"` // direction of travel it reads: N, S, E, W, NE, ...
	Area      string  `json:"area"`      // borough or district, for people reading results
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
}

// Check refuses a camera no store can place: one without an id or off the globe. It says what is
// wrong; the store wraps ErrInvalid around it, and may add limits of its own.
func (c Camera) Check() error {
	switch {
	case c.ID == "":
		return errors.New("id is empty")
	case math.IsNaN(c.Lat) || c.Lat < -90 || c.Lat > 90:
		return fmt.Errorf("latitude %v is outside -90..90", c.Lat)
	case math.IsNaN(c.Lon) || c.Lon < -180 || c.Lon > 180:
		return fmt.Errorf("longitude %v is outside -180..180", c.Lon)
	}
	return nil
}

// MatchKind says how Query.Value is compared with a read's plate.
type MatchKind string

const (
	MatchExact    MatchKind = "exact"    // Value is a normalised VRM
	MatchSkeleton MatchKind = "skeleton" // Value is a misread skeleton (plate.Skeleton)
	MatchPattern  MatchKind = "pattern"  // Value is a wildcard pattern: ? one character, * any run
	// MatchAny selects every plate; Value is empty and Cameras must name at least one camera (an
	// area search: who passed these cameras). Without cameras it would be every read there is.
	MatchAny MatchKind = "any"
)

// Order of results by time.
type Order string

const (
	NewestFirst Order = "desc"
	OldestFirst Order = "asc"
)

// Query selects reads. The window is half-open: From <= seen_at < To.
type Query struct {
	Match   MatchKind
	Value   string
	From    time.Time
	To      time.Time
	Cameras []string // empty: every camera
	Order   Order    // default NewestFirst
	Limit   int      // page size; backends cap it at MaxPageSize
	Cursor  string   // opaque, from Page.Next; empty for the first page
	// Snapshot asks for every page to come from one consistent view taken at the first page, where
	// the backend can hold one (Elasticsearch: a point in time, carried in the cursor): reads
	// appended after the first page are then not shown, and none shift between pages. Without it,
	// and on backends without such views (SQLite), paging is keyset only, and reads appended ahead
	// of the cursor do show up. Either way no read repeats and the order holds; a view that has
	// expired (a client back after minutes) continues as keyset paging from the same position.
	Snapshot bool
}

// MaxPageSize bounds one page so a single call cannot pull an unbounded result set into memory.
const MaxPageSize = 10000

// Page is one page of results; Next is empty on the last page.
type Page struct {
	Reads []Read
	Next  string
}

// AppendResult reports what a batch append did.
type AppendResult struct {
	Inserted   int // new reads stored
	Duplicates int // reads already present (same deterministic id)
}

// HoldScope describes reads that a preservation hold keeps past retention. A read is held when it
// matches every non-empty field of at least one scope. Package holds runs the workflow; the
// store only honours the scopes it is given.
type HoldScope struct {
	VRMs    []string
	Cameras []string
	From    time.Time
	To      time.Time
}

// Appender stores batches of reads. A batch is atomic: either every read in it is durable or
// none is.
type Appender interface {
	AppendReads(ctx context.Context, batch []Read) (AppendResult, error)
}

// Finder answers read queries.
type Finder interface {
	FindReads(ctx context.Context, q Query) (Page, error)
	CountReads(ctx context.Context, q Query) (int64, error)
	GetRead(ctx context.Context, id string) (Read, error)
}

// CameraRegistry holds the cameras reads may come from.
type CameraRegistry interface {
	PutCameras(ctx context.Context, cams []Camera) error
	Cameras(ctx context.Context) ([]Camera, error)
	Camera(ctx context.Context, id string) (Camera, error)
}

// Retainer deletes reads past retention.
type Retainer interface {
	// DeleteReadsBefore deletes reads with seen_at < cutoff, except those inside any hold scope,
	// and returns how many it deleted.
	DeleteReadsBefore(ctx context.Context, cutoff time.Time, holds []HoldScope) (int64, error)
}

// Store is everything a read backend provides.
type Store interface {
	Appender
	Finder
	CameraRegistry
	Retainer
	// Analyst: convoy, multi-location and histogram queries; see analysis.go.
	Analyst
	Ping(ctx context.Context) error
	Close() error
}

// --- Data rights (correction and erasure). Kept apart from Store on purpose: only the data
// rights service needs it, and Store grows with search methods elsewhere.

// Rectifier changes or removes specific reads when the law requires it: a misread proved wrong
// is corrected, a read that must not be held is erased. Both backends implement it.
type Rectifier interface {
	// CorrectRead gives read id the plate vrm (normalised here) and re-derives its skeleton. The
	// id is derived from the plate (ReadID), so the corrected read has a new id; the old id stops
	// existing. It returns the read before and after. ErrNotFound if id is unknown, ErrInvalid for
	// a bad plate or one equal to the current plate, ErrConflict if a read of the new plate at the
	// same camera and instant already exists (erase this one instead).
	CorrectRead(ctx context.Context, id, vrm string) (before, after Read, err error)
	// EraseRead deletes read id and returns what it deleted, so the caller can record its digest.
	// ErrNotFound if id is unknown.
	EraseRead(ctx context.Context, id string) (Read, error)
}

// Corrected is r with plate vrm (already normalised) and the id and skeleton that follow from it.
func Corrected(r Read, vrm, skeleton string) Read {
	r.VRM, r.Skeleton = vrm, skeleton
	r.ID = ReadID(r.CameraID, r.SeenAt, vrm)
	return r
}
