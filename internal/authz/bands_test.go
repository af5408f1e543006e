package authz_test

import (
	"errors"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
)

const day = 24 * time.Hour

func TestBandOf(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := authz.Bands{Band1: 90 * day, Retention: 365 * day}
	tests := []struct {
		name string
		age  time.Duration
		want authz.Band
	}{
		{"now", 0, authz.Band1},
		{"future start is not older data", -time.Hour, authz.Band1},
		{"89 days", 89 * day, authz.Band1},
		{"exactly 90 days is still band 1", 90 * day, authz.Band1},
		{"a nanosecond past 90 days", 90*day + 1, authz.Band2},
		{"91 days", 91 * day, authz.Band2},
		{"exactly 365 days is still band 2", 365 * day, authz.Band2},
		{"a nanosecond past retention", 365*day + 1, authz.BandExpired},
		{"two years", 730 * day, authz.BandExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authz.BandOf(now.Add(-tt.age), now, b); got != tt.want {
				t.Errorf("BandOf(age %s) = %s, want %s", tt.age, got, tt.want)
			}
		})
	}
}

// TestBandsFromConfig shows the boundaries come from configuration, not constants.
func TestBandsFromConfig(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b := authz.Bands{Band1: 28 * day, Retention: 180 * day}
	if got := authz.BandOf(now.Add(-30*day), now, b); got != authz.Band2 {
		t.Errorf("30 days with a 28-day band 1 = %s, want band2", got)
	}
	if got := authz.BandOf(now.Add(-200*day), now, b); got != authz.BandExpired {
		t.Errorf("200 days with 180-day retention = %s, want expired", got)
	}
}

// TestAuthorizerBandOfUsesInjectedClock moves the injected clock instead of sleeping.
func TestAuthorizerBandOfUsesInjectedClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := start
	az := newAuthz(t, authz.Config{}, func() time.Time { return clock })
	for _, step := range []struct {
		at   time.Time
		want authz.Band
	}{
		{start.Add(90 * day), authz.Band1},
		{start.Add(91 * day), authz.Band2},
		{start.Add(366 * day), authz.BandExpired},
	} {
		clock = step.at
		if got := az.BandOf(start); got != step.want {
			t.Errorf("at %s: band of a window starting %s = %s, want %s", step.at, start, got, step.want)
		}
	}
}

func TestBandsCheckAndSetDefaults(t *testing.T) {
	var b authz.Bands
	if err := b.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	if b.Band1 != 90*day || b.Retention != 365*day {
		t.Errorf("defaults = %+v, want 90 and 365 days", b)
	}
	for _, bad := range []authz.Bands{
		{Band1: -day, Retention: 10 * day},
		{Band1: 90 * day, Retention: 90 * day},
		{Band1: 400 * day, Retention: 365 * day},
	} {
		if err := bad.CheckAndSetDefaults(); !errors.Is(err, authz.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", bad, err)
		}
	}
}
