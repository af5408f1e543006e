package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

func openReads(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newReads(t *testing.T) *Store {
	return openReads(t, filepath.Join(t.TempDir(), "reads.db"), Options{})
}

func TestReadStoreConformance(t *testing.T) {
	storetest.RunReadStore(t, func(t *testing.T) reads.Store { return newReads(t) })
}

// The suite's data has few plates, so skeletons and patterns always take the plate-by-plate
// path. Running it again with a candidate limit of one drives the time-ordered scan that large
// databases use for vague patterns; both plans must give identical answers.
func TestReadStoreConformanceScanPlan(t *testing.T) {
	storetest.RunReadStore(t, func(t *testing.T) reads.Store {
		s := newReads(t)
		s.candidateLimit = 1
		return s
	})
}

func TestReadsReopenIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reads.db")
	r := storetest.Read("CAM-A", "AB12CDE", storetest.T0)
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s := openReads(t, path, Options{})
		if version := schemaVersionOf(t, s.db, readsSchema); version != latestVersion(t, readsSchema) {
			t.Fatalf("schema version %d, want %d", version, latestVersion(t, readsSchema))
		}
		res, err := s.AppendReads(t.Context(), []reads.Read{r})
		if err != nil || res.Duplicates != 1 {
			t.Fatalf("read did not survive reopening: %+v, %v", res, err)
		}
		s.Close()
	}
}

func TestReadsNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reads.db")
	s := openReads(t, path, Options{})
	if _, err := s.db.Exec(`INSERT INTO goose_reads(version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(t.Context(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("opening a database from a newer binary: %v, want a version error", err)
	}
}

// A hash collision cannot be produced honestly (that would need a SHA-256 prefix collision), so
// the test plants a different read under the id the next append will compute.
func TestReadsCollisionIsAnError(t *testing.T) {
	s := newReads(t)
	victim := storetest.Read("CAM-A", "AB12CDE", storetest.T0)
	rowid, err := readsParseID(reads.ReadID(victim.CameraID, victim.SeenAt, victim.VRM))
	if err != nil {
		t.Fatal(err)
	}
	// The planted read is in the victim's week, the only place a genuine duplicate can be: a
	// read's week follows from its time, which is part of what the id hashes.
	planted := storetest.Read("CAM-X", "ZZ99ZZZ", storetest.T0.Add(-time.Minute))
	if _, err := s.AppendReads(t.Context(), []reads.Read{planted}); err != nil {
		t.Fatal(err)
	}
	part := readsWeekName(readsWeekStart(victim.SeenAt.UnixMilli()))
	if _, err := s.db.Exec(`UPDATE "`+part+`" SET id = ? WHERE vrm = 'ZZ99ZZZ'`, rowid); err != nil {
		t.Fatal(err)
	}
	bystander := storetest.Read("CAM-B", "XY34ZZZ", storetest.T0)
	_, err = s.AppendReads(t.Context(), []reads.Read{bystander, victim})
	if !errors.Is(err, reads.ErrConflict) {
		t.Fatalf("append over a colliding id: %v, want ErrConflict", err)
	}
	if _, err := s.GetRead(t.Context(), reads.ReadID(bystander.CameraID, bystander.SeenAt, bystander.VRM)); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("the rest of the batch was committed: %v", err)
	}
}

func TestReadsRetentionInChunks(t *testing.T) {
	s := openReads(t, filepath.Join(t.TempDir(), "reads.db"), Options{DeleteChunk: 7})
	var batch []reads.Read
	for i := range 100 {
		vrm := []string{"AB12CDE", "XY34ZZZ", "HD11AAA"}[i%3]
		batch = append(batch, storetest.Read("CAM-A", vrm, storetest.T0.Add(-time.Duration(i+1)*time.Minute)))
	}
	batch = append(batch, storetest.Read("CAM-A", "XY34ZZZ", storetest.T0)) // survives the cutoff
	if _, err := s.AppendReads(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteReadsBefore(t.Context(), storetest.T0, []reads.HoldScope{{VRMs: []string{"HD11 AAA"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 67 { // 100 expired, 33 of them HD11AAA (held; the hold's spacing is normalised away)
		t.Fatalf("deleted %d, want 67", n)
	}
	plates := readsTableStrings(t, s, `SELECT vrm FROM plates ORDER BY vrm`)
	if strings.Join(plates, ",") != "HD11AAA,XY34ZZZ" {
		t.Fatalf("plates after retention = %v, want the two with reads left", plates)
	}
	fts := readsTableStrings(t, s, `SELECT p.vrm FROM plates_fts JOIN plates p ON p.id = plates_fts.rowid
		WHERE plates_fts MATCH '"12CD"'`)
	if len(fts) != 0 {
		t.Fatalf("trigram index still finds %v", fts)
	}
	if _, err := s.db.Exec(`INSERT INTO plates_fts(plates_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Fatalf("FTS index out of step with plates: %v", err)
	}
}

func readsTableStrings(t *testing.T, s *Store, query string) []string {
	t.Helper()
	rows, err := s.db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Cameras report whole milliseconds but clients may send finer window edges; an edge inside a
// millisecond must neither drop nor add a read.
func TestReadsSubMillisecondWindow(t *testing.T) {
	s := newReads(t)
	at := storetest.T0
	r := storetest.Read("CAM-A", "AB12CDE", at)
	if _, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil {
		t.Fatal(err)
	}
	half := 500 * time.Microsecond
	for _, tc := range []struct {
		from, to time.Time
		want     int64
	}{
		{at.Add(-half), at.Add(half), 1},
		{at.Add(half), at.Add(time.Second), 0}, // starts after the read
		{at.Add(-time.Second), at, 0},          // ends exactly at the read
		{at.Add(-time.Second), at.Add(time.Nanosecond), 1},
	} {
		n, err := s.CountReads(t.Context(), reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: tc.from, To: tc.to})
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("window [%s, %s): %d reads, want %d", tc.from.Format(time.RFC3339Nano), tc.to.Format(time.RFC3339Nano), n, tc.want)
		}
	}
}

func TestReadsOptions(t *testing.T) {
	var o Options
	if err := o.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	if o.MaxConns != readsDefaultMaxConns || o.DeleteChunk != readsDefaultDeleteChunk || o.Durability != Normal {
		t.Fatalf("defaults: %+v", o)
	}
	bad := Options{MaxConns: -1, DeleteChunk: -5, Durability: 7}
	err := bad.CheckAndSetDefaults()
	if !errors.Is(err, reads.ErrInvalid) {
		t.Fatalf("invalid options: %v", err)
	}
	for _, want := range []string{"max conns", "delete chunk", "durability"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %s", err, want)
		}
	}
}

func TestReadsImageHashes(t *testing.T) {
	s := newReads(t)
	r := storetest.Read("CAM-A", "AB12CDE", storetest.T0)
	r.PatchSHA = strings.Repeat("AB", 32) // upper-case hex is accepted and comes back lower-case
	if _, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRead(t.Context(), reads.ReadID(r.CameraID, r.SeenAt, r.VRM))
	if err != nil {
		t.Fatal(err)
	}
	if got.PatchSHA != strings.Repeat("ab", 32) || got.OverviewSHA != "" {
		t.Fatalf("hashes = %q, %q", got.PatchSHA, got.OverviewSHA)
	}
	for _, bad := range []string{"abc", strings.Repeat("zz", 32), strings.Repeat("ab", 33)} {
		r := storetest.Read("CAM-B", "AB12CDE", storetest.T0)
		r.OverviewSHA = bad
		if _, err := s.AppendReads(t.Context(), []reads.Read{r}); !errors.Is(err, reads.ErrInvalid) {
			t.Errorf("overview hash %q: %v, want ErrInvalid", bad, err)
		}
	}
}

// readsVersion1 is the reads schema at version 1 of the hand-rolled migrations that came before
// goose: one unpartitioned table.
const readsVersion1 = `CREATE TABLE reads (
		id           INTEGER PRIMARY KEY,
		vrm          TEXT    NOT NULL,
		skeleton     TEXT    NOT NULL,
		camera_id    TEXT    NOT NULL,
		seen_at      INTEGER NOT NULL,
		confidence   REAL    NOT NULL DEFAULT 0,
		lane         INTEGER NOT NULL DEFAULT 0,
		patch_sha    BLOB,
		overview_sha BLOB
	) STRICT;
	CREATE INDEX reads_vrm_seen    ON reads(vrm, seen_at);
	CREATE INDEX reads_camera_seen ON reads(camera_id, seen_at);
	CREATE INDEX reads_seen        ON reads(seen_at);
	CREATE TABLE plates (id INTEGER PRIMARY KEY, vrm TEXT NOT NULL UNIQUE, skeleton TEXT NOT NULL) STRICT;
	CREATE INDEX plates_skeleton ON plates(skeleton);
	CREATE VIRTUAL TABLE plates_fts USING fts5(vrm, content = 'plates', content_rowid = 'id', tokenize = 'trigram case_sensitive 1');
	CREATE TRIGGER plates_fts_delete AFTER DELETE ON plates BEGIN
		INSERT INTO plates_fts(plates_fts, rowid, vrm) VALUES ('delete', old.id, old.vrm);
	END;
	CREATE TABLE cameras (id TEXT PRIMARY KEY, name TEXT NOT NULL, road TEXT NOT NULL, direction TEXT NOT NULL,
		area TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL) STRICT;`

// A version 1 database (one unpartitioned reads table) with reads in it is refused with a message
// that says what to do; an empty one is upgraded in place.
func TestReadsUnpartitionedSchema(t *testing.T) {
	for _, tc := range []struct {
		name     string
		withRead bool
	}{{"with reads", true}, {"empty", false}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reads.db")
			db, err := openDB(t.Context(), path, Normal, 1, Memory{})
			if err != nil {
				t.Fatal(err)
			}
			setup := []string{readsVersion1,
				`CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT`,
				`INSERT INTO schema_version VALUES ('reads', 1)`}
			if tc.withRead {
				setup = append(setup, `INSERT INTO reads(id, vrm, skeleton, camera_id, seen_at) VALUES (1, 'AB12CDE', 'A812C0E', 'CAM-A', 1)`)
			}
			for _, q := range setup {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			s, err := Open(t.Context(), path, Options{})
			if !tc.withRead {
				if err != nil {
					t.Fatalf("empty version 1 database: %v", err)
				}
				defer s.Close()
				if _, err := s.AppendReads(t.Context(), []reads.Read{storetest.Read("CAM-A", "AB12CDE", storetest.T0)}); err != nil {
					t.Fatalf("append after upgrade: %v", err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("a version 1 database with reads was opened")
			}
			for _, want := range []string{"version 1", "pre-release", "re-seed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// The page memory of every connection is what Options.Memory says: the page cache and the memory
// map bound the store's memory whatever the size of its data.
func TestReadsMemorySettingsReachEveryConnection(t *testing.T) {
	for _, tc := range []struct {
		name             string
		mem              Memory
		wantKiB, wantMap int64
	}{
		{"defaults", Memory{}, ReadsDefaultMemory.CacheBytes >> 10, 0},
		{"configured", Memory{CacheBytes: 3 << 20, MmapBytes: 5 << 20}, 3 << 10, 5 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openReads(t, filepath.Join(t.TempDir(), "reads.db"), Options{MaxConns: 2, Memory: tc.mem})
			// Hold both connections, so the second answer comes from a second connection.
			var conns []*sql.Conn
			for range 2 {
				c, err := s.db.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conns = append(conns, c)
			}
			for i, c := range conns {
				var cache, mmap int64
				if err := c.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&cache); err != nil {
					t.Fatal(err)
				}
				if err := c.QueryRowContext(t.Context(), "PRAGMA mmap_size").Scan(&mmap); err != nil {
					t.Fatal(err)
				}
				if cache != -tc.wantKiB || mmap != tc.wantMap {
					t.Errorf("connection %d: cache_size %d, mmap_size %d; want %d (KiB) and %d", i, cache, mmap, -tc.wantKiB, tc.wantMap)
				}
			}
		})
	}
}
