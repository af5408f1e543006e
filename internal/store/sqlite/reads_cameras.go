package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/anpr-portal/anpr/internal/reads"
)

const readsCameraColumns = "id, name, road, direction, area, lat, lon"

// PutCameras inserts or replaces cameras by id, all in one transaction.
func (s *Store) PutCameras(ctx context.Context, cams []reads.Camera) error {
	for i, c := range cams {
		if err := c.Check(); err != nil {
			return fmt.Errorf("put cameras: camera %d (%q): %w: %w", i, c.ID, reads.ErrInvalid, err)
		}
	}
	if len(cams) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put cameras: begin: %w", readsUnavailable(err))
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO cameras(`+readsCameraColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name = excluded.name, road = excluded.road,
			direction = excluded.direction, area = excluded.area, lat = excluded.lat, lon = excluded.lon`)
	if err != nil {
		return fmt.Errorf("put cameras: prepare: %w", err)
	}
	defer stmt.Close()
	for _, c := range cams {
		if _, err := stmt.ExecContext(ctx, c.ID, c.Name, c.Road, c.Direction, c.Area, c.Lat, c.Lon); err != nil {
			return fmt.Errorf("put cameras: %s: %w", c.ID, readsUnavailable(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put cameras: commit: %w", readsUnavailable(err))
	}
	return nil
}

// Cameras lists every camera, ordered by id.
func (s *Store) Cameras(ctx context.Context) ([]reads.Camera, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+readsCameraColumns+" FROM cameras ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list cameras: %w", readsUnavailable(err))
	}
	defer rows.Close()
	var cams []reads.Camera
	for rows.Next() {
		c, err := readsScanCamera(rows)
		if err != nil {
			return nil, fmt.Errorf("list cameras: %w", err)
		}
		cams = append(cams, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cameras: %w", readsUnavailable(err))
	}
	return cams, nil
}

// Camera returns one camera, or an error wrapping reads.ErrNotFound.
func (s *Store) Camera(ctx context.Context, id string) (reads.Camera, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+readsCameraColumns+" FROM cameras WHERE id = ?", id)
	c, err := readsScanCamera(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return reads.Camera{}, fmt.Errorf("camera %q: %w", id, reads.ErrNotFound)
	case err != nil:
		return reads.Camera{}, fmt.Errorf("camera %q: %w", id, readsUnavailable(err))
	}
	return c, nil
}

func readsScanCamera(row interface{ Scan(...any) error }) (reads.Camera, error) {
	var c reads.Camera
	err := row.Scan(&c.ID, &c.Name, &c.Road, &c.Direction, &c.Area, &c.Lat, &c.Lon)
	return c, err
}
