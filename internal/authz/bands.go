package authz

import (
	"fmt"
	"time"
)

// Bands holds the data-age boundaries (docs/architecture.md, section 8). Ages are measured from the start of a
// searched window (its oldest part) back from now.
type Bands struct {
	// Band1 is the greatest age searchable without prior authority (default 90 days). An age of
	// exactly Band1 is still band 1.
	Band1 time.Duration
	// Retention is the greatest age kept at all (default 365 days); older data exists only under a
	// preservation hold. An age of exactly Retention is still band 2.
	Retention time.Duration
}

// Defaults used by CheckAndSetDefaults, matching internal/config.
const (
	DefaultBand1     = 90 * 24 * time.Hour
	DefaultRetention = 365 * 24 * time.Hour
)

// CheckAndSetDefaults fills zero fields and rejects boundaries that cannot be ordered.
func (b *Bands) CheckAndSetDefaults() error {
	if b.Band1 == 0 {
		b.Band1 = DefaultBand1
	}
	if b.Retention == 0 {
		b.Retention = DefaultRetention
	}
	if b.Band1 < 0 {
		return fmt.Errorf("%w: band1 %s must be positive", ErrInvalid, b.Band1)
	}
	if b.Retention <= b.Band1 {
		return fmt.Errorf("%w: retention %s must be longer than band1 %s", ErrInvalid, b.Retention, b.Band1)
	}
	return nil
}

// BandOf returns the band of a window that starts at windowStart, judged at now. A window spanning
// bands is judged by its oldest part, which is why only the start matters. A start in the future
// is band 1 here; rejecting future windows is the query validator's job, not authorisation's.
func BandOf(windowStart, now time.Time, b Bands) Band {
	age := now.Sub(windowStart)
	switch {
	case age <= b.Band1:
		return Band1
	case age <= b.Retention:
		return Band2
	default:
		return BandExpired
	}
}
