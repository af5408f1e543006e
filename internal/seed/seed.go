// Package seed generates deterministic synthetic ANPR data for a London-like camera network:
// about 300 cameras inside the M25, commuters, taxis, vans and visitors with daily routines, and
// planted cases (a convoy, a cloned plate, misreads, data in every age band) for demos and tests.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// Limits and defaults of a Config.
const (
	MinReads         = 10_000
	MaxReads         = 100_000_000
	DefaultSpan      = 426 * 24 * time.Hour // 14 months
	MinSpan          = 380 * 24 * time.Hour // the oldest band (over 12 months) needs a fortnight
	MaxSpan          = 5 * 365 * 24 * time.Hour
	DefaultBatchSize = 5000
)

// Data-age bands, the keys of Summary.Bands. A read is in BandRecent when it is younger than
// 91 days (0-90 whole days old), in BandOld when it is older than 12 calendar months before Now,
// and in BandYear otherwise.
const (
	BandRecent = "0-90d"
	BandYear   = "91d-12m"
	BandOld    = ">12m"
)

// Config says what to generate. The same Config always produces the same reads in the same order.
type Config struct {
	Seed  int64
	Reads int64 // exact number of reads to produce, MinReads..MaxReads
	// Now is the injected clock: every read is before it, the newest shortly before.
	Now time.Time
	// Span is how far back the data goes; it must reach past 12 months so every age band has
	// data. Zero means DefaultSpan.
	Span time.Duration
}

// CheckAndSetDefaults fills in defaults and reports every problem at once.
func (c *Config) CheckAndSetDefaults() error {
	var errs []error
	if c.Reads < MinReads || c.Reads > MaxReads {
		errs = append(errs, fmt.Errorf("reads is %d; it must be between %d and %d", c.Reads, MinReads, MaxReads))
	}
	if c.Now.IsZero() {
		errs = append(errs, errors.New("now is not set; pass the clock in"))
	}
	if c.Span == 0 {
		c.Span = DefaultSpan
	}
	if c.Span < MinSpan || c.Span > MaxSpan {
		errs = append(errs, fmt.Errorf("span is %s; it must be between %s and %s", c.Span, MinSpan, MaxSpan))
	}
	if len(errs) > 0 {
		return fmt.Errorf("seed config: %w: %w", reads.ErrInvalid, errors.Join(errs...))
	}
	c.Now = c.Now.UTC().Truncate(reads.TimePrecision)
	return nil
}

// Plant documents one planted case.
type Plant struct {
	Kind        string // "convoy", "clone", "misread", "aged"
	Description string
	VRMs        []string
	Cameras     []string
	From, To    time.Time
}

// Summary describes what Generate produced.
type Summary struct {
	Seed     int64
	Now      time.Time
	Reads    int64
	Cameras  int
	Vehicles int // distinct vehicles seen at least once
	Plants   []Plant
	Bands    map[string]int64 // BandRecent, BandYear, BandOld
	From, To time.Time        // oldest and newest read
}

// gen is one run of Generate.
type gen struct {
	cfg   Config
	nw    *network
	pm    *plateMaker
	pop   population
	nowMS int64
	wins  []window
	quota []int64
	pl    plants
}

// Weights of a day's quota: recent data is denser (the demo searches it most) and weekends are
// quieter.
var dowWeight = [7]float64{0.65, 1, 1, 1, 1, 1.05, 0.8}

const olderWeight = 0.35

func newGen(cfg Config) *gen {
	g := &gen{cfg: cfg, nw: buildNetwork(cfg.Seed), nowMS: cfg.Now.UnixMilli()}
	g.pm = newPlateMaker(cfg.Seed, reservedVRMs)
	last := localDate(g.nowMS)
	if g.nowMS < newWindow(last, last).start {
		last-- // before 04:00 the vehicle-day of yesterday is still running
	}
	for d := localDate(g.nowMS - cfg.Span.Milliseconds()); d <= last; d++ {
		g.wins = append(g.wins, newWindow(d, last))
	}
	weights := make([]float64, len(g.wins))
	var total float64
	for i := range g.wins {
		w := &g.wins[i]
		wt := dowWeight[w.dow]
		if g.nowMS-(w.start+w.end)/2 > 91*msPerDay {
			wt *= olderWeight
		}
		if g.nowMS < w.end {
			// The window that holds Now gets the share of its day that has happened, halved
			// to leave room: its journeys must start before Now to be seen at all.
			wt *= profileShare(w.hour(g.nowMS)-0.5) / 2
		}
		weights[i] = wt
		total += wt
	}
	var cum float64
	var prev int64
	for _, wt := range weights {
		cum += wt
		upto := int64(math.Round(float64(cfg.Reads) * cum / total))
		g.quota = append(g.quota, upto-prev)
		prev = upto
	}
	g.pop = sizePopulation(cfg.Reads, float64(cfg.Reads)*olderWeight/total)
	g.pl.plan(g.wins)
	return g
}

// Generate streams cfg.Reads reads, oldest first, to emit in batches of batchSize (zero means
// DefaultBatchSize), calling progress with the running total after each batch. The batch slice
// is reused: emit must not keep it after returning (the strings in it are safe to keep). Memory
// is one batch plus the compact keys of one day, about 8 bytes per read per day (5 MB a day at
// 100M reads). Reads are never duplicated: no two share camera, time and plate.
func Generate(ctx context.Context, cfg Config, batchSize int, emit func(ctx context.Context, batch []reads.Read) error, progress func(done int64)) (Summary, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return Summary{}, err
	}
	if emit == nil {
		return Summary{}, fmt.Errorf("seed: %w: emit is nil", reads.ErrInvalid)
	}
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	g := newGen(cfg)
	if g.pop.total() > maxVehicles {
		return Summary{}, fmt.Errorf("seed: %d vehicles exceed the key layout's %d", g.pop.total(), maxVehicles)
	}
	out := newEmitter(g, batchSize, emit, progress)
	col := &collector{}
	d := &driver{nw: g.nw, col: col}
	regs, occ := g.pop.regulars(), g.pop.occasional
	var carry int64
	for i := range g.wins {
		if err := ctx.Err(); err != nil {
			return Summary{}, fmt.Errorf("seed: %w", err)
		}
		w := &g.wins[i]
		target := max(0, g.quota[i]+carry)
		*col = collector{keys: col.keys[:0], limit: int(target), start: w.start, end: w.end, now: g.nowMS}
		d.win = w
		g.plantDay(d, w)
		// Regulars first, starting at a different one each day so a short quota does not always
		// leave out the same vehicles; then occasional drivers in a fresh order each day.
		dayRNG := newRNG(uint64(g.cfg.Seed), uint64(w.date), 0x0da7)
		off := dayRNG.intn(max(regs, 1))
		col.limit = min(int(target), len(col.keys)+int(regularCap*float64(target)))
		for j := 0; j < regs && len(col.keys) < col.limit; j++ {
			g.vehicleDay(d, (off+j)%regs, w)
		}
		col.limit = int(target)
		order := newAffine(uint64(occ), dayRNG.next())
		for k := 0; k < occ && len(col.keys) < col.limit; k++ {
			g.vehicleDay(d, regs+int(order.of(uint64(k))), w)
		}
		carry = g.quota[i] + carry - int64(len(col.keys))
		slices.Sort(col.keys)
		for _, k := range col.keys {
			if err := out.add(ctx, k, w); err != nil {
				return Summary{}, err
			}
		}
	}
	if err := out.flush(ctx); err != nil {
		return Summary{}, err
	}
	if out.done != cfg.Reads {
		// Only a bug gets here: every quota has far more vehicles available than it needs.
		return Summary{}, fmt.Errorf("seed: produced %d reads, not the %d asked for", out.done, cfg.Reads)
	}
	return out.summary(), nil
}
