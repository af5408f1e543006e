package retention

import (
	"context"
	"fmt"
	"time"
)

// Clock is the time source of the schedule: the real one in serve, a fake in tests so that no
// test waits for a day to pass.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the system clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Schedule says when scheduled runs happen: at Offset past each multiple of Interval since the
// zero time, in UTC (Interval 24h, Offset 2h: every day at 02:00 UTC). Fixed times of day, not
// "Interval after start", so that a server restarted often still runs.
type Schedule struct {
	Interval time.Duration
	Offset   time.Duration
}

// Check reports a schedule that cannot work.
func (s Schedule) Check() error {
	if s.Interval < time.Minute {
		return fmt.Errorf("retention interval %s is shorter than a minute", s.Interval)
	}
	if s.Offset < 0 || s.Offset >= s.Interval {
		return fmt.Errorf("retention offset %s must be at least 0 and less than the interval %s", s.Offset, s.Interval)
	}
	return nil
}

// Next is the first scheduled time strictly after now.
func (s Schedule) Next(now time.Time) time.Time {
	t := now.UTC().Truncate(s.Interval).Add(s.Offset)
	for !t.After(now) {
		t = t.Add(s.Interval)
	}
	return t
}

// RunScheduled runs retention at every scheduled time until ctx ends, then returns. A run in
// progress when ctx ends is cut short between transactions; its outcome is still recorded before
// RunScheduled returns, so the caller may close the audit log after it. A failed run is logged
// and the next one happens on schedule.
func (s *Service) RunScheduled(ctx context.Context, sched Schedule, clock Clock) error {
	if err := sched.Check(); err != nil {
		return err
	}
	for {
		now := clock.Now()
		next := sched.Next(now)
		s.logger.Info("retention: next scheduled run", "at", next)
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(next.Sub(now)):
		}
		if ctx.Err() != nil {
			return nil
		}
		if _, err := s.Run(ctx, System(), TriggerSchedule); err != nil {
			s.logger.Error("retention: scheduled run failed", "err", err)
		}
	}
}
