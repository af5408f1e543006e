package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// The analysis queries (reads.Analyst) run as plain SQL over the week partitions that overlap
// their window, one statement per partition, and are merged in Go: weeks are disjoint, so sums
// and per-plate minima combine exactly.

// Convoy implements reads.Analyst: the target's reads come from FindReads, and the reads around
// each from the (camera_id, seen_at, id) index of every week they fall in.
func (s *Store) Convoy(ctx context.Context, q reads.ConvoyQuery) (reads.ConvoyResult, error) {
	return reads.RunConvoy(ctx, s, q, s.convoyNearby)
}

type readsTarget struct {
	I   int    `json:"i"`
	Cam string `json:"c"`
	At  int64  `json:"t"`
}

func (s *Store) convoyNearby(ctx context.Context, q reads.ConvoyChecked, targets []reads.Read) ([][]reads.Read, error) {
	out := make([][]reads.Read, len(targets))
	parts, err := readsPartitions(ctx, s.stmts, q.From, q.To, true)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		// Only the target reads whose window reaches into this week.
		var ts []readsTarget
		for i, t := range targets {
			at := t.SeenAt.UnixMilli()
			if at+q.WithinMs >= p.start && at-q.WithinMs < p.end {
				ts = append(ts, readsTarget{I: i, Cam: t.CameraID, At: at})
			}
		}
		if len(ts) == 0 {
			continue
		}
		js, err := json.Marshal(ts)
		if err != nil {
			return nil, fmt.Errorf("encode targets: %w", err)
		}
		// The window function keeps the first MaxNear+1 reads (by seen_at, id, as the Elasticsearch
		// backend does) per target read, so a busy
		// camera costs at most that many rows per target read here.
		query := fmt.Sprintf(`WITH t(i, cam, at) AS (
				SELECT json_extract(value, '$.i'), json_extract(value, '$.c'), json_extract(value, '$.t') FROM json_each(?))
			SELECT i, %[1]s FROM (
				SELECT t.i AS i, r.*, row_number() OVER (PARTITION BY t.i ORDER BY r.seen_at, r.id) AS k
				FROM t CROSS JOIN "%[2]s" r INDEXED BY "%[2]s_camera_seen"
					ON r.camera_id = t.cam AND r.seen_at >= t.at - ? AND r.seen_at <= t.at + ?
				WHERE r.vrm != ? AND r.seen_at >= ? AND r.seen_at < ?) r
			WHERE k <= ?`, readsColumns, p.name)
		err = func() error {
			rows, err := s.stmts.query(ctx, query, string(js), q.WithinMs, q.WithinMs, q.VRM, q.From, q.To, q.MaxNear+1)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var i int
				r, _, err := readsScanAfter(rows, &i)
				if err != nil {
					return err
				}
				out[i] = append(out[i], r)
			}
			return rows.Err()
		}()
		if readsIsDropped(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("nearby reads in %s: %w", p.name, readsUnavailable(err))
		}
	}
	return out, nil
}

// MultiLocation implements reads.Analyst.
func (s *Store) MultiLocation(ctx context.Context, q reads.MultiLocationQuery) (reads.MultiLocationResult, error) {
	return reads.RunMultiLocation(ctx, s, q, s.placeVehicles)
}

// placeVehicles groups the reads at one place by plate. The first read of a plate is the row
// with the least (seen_at, id), found as the minimum of a fixed-width text key (SQLite takes the
// bare columns of a min() query from the row holding the minimum).
func (s *Store) placeVehicles(ctx context.Context, p reads.PlaceChecked, only []string, max int) (map[string]reads.PlaceEvidence, error) {
	parts, err := readsPartitions(ctx, s.stmts, p.From, p.To, true)
	if err != nil {
		return nil, err
	}
	out := map[string]reads.PlaceEvidence{}
	for _, part := range parts {
		b := &readsSQL{}
		b.add("r.camera_id IN (SELECT value FROM json_each(?))", readsJSONStrings(p.Cameras))
		b.add("r.seen_at >= ? AND r.seen_at < ?", p.From, p.To)
		if only != nil {
			b.add("r.vrm IN (SELECT value FROM json_each(?))", readsJSONStrings(only))
		}
		query := fmt.Sprintf(`SELECT count(*), min(printf('%%020d.%%020d', r.seen_at, r.id)), %s
			FROM "%s" r WHERE %s GROUP BY r.vrm`, readsColumns, part.name, strings.Join(b.where, " AND "))
		err := func() error {
			rows, err := s.stmts.query(ctx, query, b.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var n int64
				var key string
				r, _, err := readsScanAfter(rows, &n, &key)
				if err != nil {
					return err
				}
				ev, ok := out[r.VRM]
				if !ok || readsBefore(r, ev.First) {
					ev.First = r
				}
				ev.Count += n
				out[r.VRM] = ev
				if len(out) > max {
					return reads.ErrTooBroad
				}
			}
			return rows.Err()
		}()
		if readsIsDropped(err) {
			continue
		}
		if err != nil {
			if err == reads.ErrTooBroad {
				return nil, err
			}
			return nil, fmt.Errorf("place vehicles in %s: %w", part.name, readsUnavailable(err))
		}
	}
	return out, nil
}

func readsBefore(a, b reads.Read) bool {
	return a.SeenAt.Before(b.SeenAt) || a.SeenAt.Equal(b.SeenAt) && a.ID < b.ID
}

// Histogram implements reads.Analyst: per week, GROUP BY the bucket start.
func (s *Store) Histogram(ctx context.Context, hq reads.HistogramQuery) ([]reads.Bucket, error) {
	c, err := hq.Check()
	if err != nil {
		return nil, err
	}
	rq, err := readsCheckQuery(hq.Query)
	if err != nil {
		return nil, err
	}
	plan, vrms, err := s.readsPlan(ctx, rq)
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	if plan == readsPlanPlates && len(vrms) == 0 {
		return []reads.Bucket{}, nil
	}
	parts, err := readsPartitions(ctx, s.stmts, rq.from, rq.to, true)
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	b := readsFilters(rq, plan, vrms)
	if len(c.VRMs) > 0 {
		b.add("r.vrm IN (SELECT value FROM json_each(?))", readsJSONStrings(c.VRMs))
	}
	var all [][]reads.Bucket
	for _, p := range parts {
		// Floor division that is also right before 1970: seen_at - ((seen_at % w) + w) % w.
		query := fmt.Sprintf(`SELECT r.seen_at - ((r.seen_at %% ?) + ?) %% ? AS b, count(*) FROM %s WHERE %s GROUP BY b`,
			readsIndexHint(plan, p.name), strings.Join(b.where, " AND "))
		args := append([]any{c.Width, c.Width, c.Width}, b.args...)
		var bs []reads.Bucket
		err := func() error {
			rows, err := s.stmts.query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var start, n int64
				if err := rows.Scan(&start, &n); err != nil {
					return err
				}
				bs = append(bs, reads.Bucket{Start: time.UnixMilli(start).UTC(), Count: n})
			}
			return rows.Err()
		}()
		if readsIsDropped(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("histogram in %s: %w", p.name, readsUnavailable(err))
		}
		all = append(all, bs)
	}
	return reads.MergeBuckets(all...), nil
}
