package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/audittest"
	"github.com/anpr-portal/anpr/internal/reads"
)

func schemaVersionOf(t testing.TB, db *sql.DB, s schema) int64 {
	t.Helper()
	v, err := schemaVersion(context.Background(), db, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// latestVersion is the newest step of the store's series that this binary carries.
func latestVersion(t testing.TB, s schema) int64 {
	t.Helper()
	var newest int64
	entries, err := fs.ReadDir(migrationFiles, "migrations/"+s.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		var v int64
		for _, c := range e.Name() {
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		newest = max(newest, v)
	}
	for _, m := range s.goSteps {
		newest = max(newest, m.Version)
	}
	return newest
}

// copyLegacy copies the fixture files named into a fresh directory, as a deployment's data
// directory would hold them, and returns that directory.
func copyLegacy(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		src := filepath.Join("testdata", "legacy", name)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("testdata", "legacy"), p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dir, rel), 0o700)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, rel), b, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var (
	sqlComment = regexp.MustCompile(`--[^\n]*`)
	sqlSpace   = regexp.MustCompile(`\s+`)
)

// schemaOf is every table, index and trigger in the file at path, with its SQL text normalised
// (comments dropped, white space collapsed) so that only the structure compares.
func schemaOf(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		text = sqlSpace.ReplaceAllString(sqlComment.ReplaceAllString(text, ""), " ")
		text = strings.NewReplacer("( ", "(", " )", ")").Replace(strings.TrimSpace(text))
		out[typ+" "+name] = text
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameSchemaAsNew compares the upgraded database at path with one that open creates anew.
func sameSchemaAsNew(t *testing.T, store, path string, open func(path string) (io.Closer, error)) {
	t.Helper()
	fresh := filepath.Join(t.TempDir(), store+".db")
	f, err := open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	sameSchema(t, store, path, fresh)
}

func sameSchema(t *testing.T, store, upgraded, fresh string) {
	t.Helper()
	got, want := schemaOf(t, upgraded), schemaOf(t, fresh)
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: upgraded database lacks %s", store, k)
		} else if g != w {
			t.Errorf("%s: %s differs after upgrade:\n got  %s\n want %s", store, k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: upgraded database has %s, which a new one lacks", store, k)
		}
	}
}

// Databases written before the stores came under goose (testdata/legacy) open with today's code
// at the newest version, keep every row, end up with exactly the schema of a database created
// today, and keep working: the audit log still verifies against its anchor and extends its chain.
func TestLegacyDatabasesUpgrade(t *testing.T) {
	ctx := t.Context()
	t.Run("reads", func(t *testing.T) {
		dir := copyLegacy(t, "reads.db")
		path := filepath.Join(dir, "reads.db")
		s := openReads(t, path, Options{})
		if v := schemaVersionOf(t, s.db, readsSchema); v != latestVersion(t, readsSchema) {
			t.Errorf("version %d after upgrade, want %d", v, latestVersion(t, readsSchema))
		}
		cams, err := s.Cameras(ctx)
		if err != nil || !reflect.DeepEqual(cams, legacyCameras()) {
			t.Errorf("cameras after upgrade: %+v, %v; want %+v", cams, err, legacyCameras())
		}
		for _, r := range legacyReads() {
			id := reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
			got, err := s.GetRead(ctx, id)
			r.ID = id
			if err != nil || !reflect.DeepEqual(got, r) {
				t.Errorf("read %s after upgrade: %+v, %v; want %+v", id, got, err, r)
			}
		}
		// The trigram index over plates survived too: a partial plate finds its read.
		page, err := s.FindReads(ctx, reads.Query{Match: reads.MatchPattern, Value: "LK1?XRT", From: legacyT0.Add(-30 * 24 * time.Hour), To: legacyT0.Add(30 * 24 * time.Hour), Limit: 10})
		if err != nil || len(page.Reads) != 1 || page.Reads[0].VRM != "LK19XRT" {
			t.Errorf("partial search after upgrade: %+v, %v", page.Reads, err)
		}
		res, err := s.AppendReads(ctx, legacyReads())
		if err != nil || res.Duplicates != len(legacyReads()) {
			t.Errorf("re-sending the fixture's reads after upgrade: %+v, %v; want all duplicates", res, err)
		}
		var marker int
		if err := s.db.QueryRow(`SELECT version FROM schema_version WHERE component = 'reads'`).Scan(&marker); err != nil || marker != 3 {
			t.Errorf("the version of the schema before goose is %d (%v), want 3, which older binaries refuse", marker, err)
		}
		s.Close()

		fresh := filepath.Join(t.TempDir(), "reads.db")
		f := openReads(t, fresh, Options{})
		if err := f.PutCameras(ctx, legacyCameras()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.AppendReads(ctx, legacyReads()); err != nil {
			t.Fatal(err)
		}
		f.Close()
		sameSchema(t, "reads", path, fresh)
	})

	t.Run("audit", func(t *testing.T) {
		dir := copyLegacy(t, "audit.db", "audit.db.anchor", "audit-keys")
		path := filepath.Join(dir, "audit.db")
		signer, err := audit.LoadSigner(filepath.Join(dir, "audit-keys"))
		if err != nil {
			t.Fatal(err)
		}
		ring, err := audit.LoadKeyring(filepath.Join(dir, "audit-keys"))
		if err != nil {
			t.Fatal(err)
		}
		anchor := audit.NewFileAnchor(path + ".anchor")
		verify := func(want int64) {
			t.Helper()
			r, err := OpenAuditReader(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rep, err := audit.Verify(ctx, r, anchor, ring.Verifiers())
			if err != nil {
				t.Fatalf("verify after upgrade: %v", err)
			}
			if !rep.OK() || rep.Size != want {
				t.Fatalf("verify after upgrade: %+v, want OK at size %d", rep, want)
			}
		}
		// A reader (anpr audit verify) is the first to open it here.
		verify(legacyAuditEvents)
		l, err := OpenAuditLog(ctx, path, legacyAuditOptions(signer, path+".anchor"))
		if err != nil {
			t.Fatal(err)
		}
		if v := schemaVersionOf(t, l.db, auditSchema); v != latestVersion(t, auditSchema) {
			t.Errorf("version %d after upgrade, want %d", v, latestVersion(t, auditSchema))
		}
		page, err := l.Read(ctx, audit.Filter{Limit: audit.MaxPageSize})
		if err != nil || len(page.Records) != legacyAuditEvents {
			t.Fatalf("events after upgrade: %d, %v; want %d", len(page.Records), err, legacyAuditEvents)
		}
		for i, rec := range page.Records {
			want, wantPayload := audittest.Event(i)
			if rec.Event.RequestID != want.RequestID || rec.Event.Action != want.Action || rec.Event.Seq != int64(i+1) {
				t.Errorf("event %d after upgrade: %+v, want request %s action %s", i+1, rec.Event, want.RequestID, want.Action)
			}
			var gotVRMs []string
			if rec.Payload != nil {
				gotVRMs = rec.Payload.VRMs
			}
			if !reflect.DeepEqual(gotVRMs, wantPayload.VRMs) {
				t.Errorf("payload %d after upgrade: %+v, want %+v", i+1, rec.Payload, wantPayload)
			}
		}
		e, p := audittest.Event(legacyAuditEvents)
		if _, err := l.Append(ctx, e, p); err != nil {
			t.Fatalf("append after upgrade: %v", err)
		}
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		verify(legacyAuditEvents + 1)

		freshDir := t.TempDir()
		if _, err := audit.InitKeys(filepath.Join(freshDir, "keys"), audit.DefaultKeyName, rand.Reader); err != nil {
			t.Fatal(err)
		}
		fs, err := audit.LoadSigner(filepath.Join(freshDir, "keys"))
		if err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(freshDir, "audit.db")
		fl, err := OpenAuditLog(ctx, fresh, legacyAuditOptions(fs, fresh+".anchor"))
		if err != nil {
			t.Fatal(err)
		}
		fl.Close()
		sameSchema(t, "audit", path, fresh)
	})

	t.Run("identity", func(t *testing.T) {
		dir := copyLegacy(t, "identity.db")
		path := filepath.Join(dir, "identity.db")
		s, err := OpenIdentityStore(ctx, path, IdentityOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v := schemaVersionOf(t, s.db, identitySchema); v != latestVersion(t, identitySchema) {
			t.Errorf("version %d after upgrade, want %d", v, latestVersion(t, identitySchema))
		}
		if got, err := s.GetSession(ctx, legacySession().ID); err != nil || !reflect.DeepEqual(got, legacySession()) {
			t.Errorf("session after upgrade: %+v, %v; want %+v", got, err, legacySession())
		}
		if got, err := s.GetUser(ctx, legacyUser().Subject); err != nil || !reflect.DeepEqual(got, legacyUser()) {
			t.Errorf("user after upgrade: %+v, %v; want %+v", got, err, legacyUser())
		}
		wantKey, wantHash := legacyAPIKey()
		if got, hash, err := s.GetAPIKey(ctx, wantKey.ID); err != nil || !reflect.DeepEqual(got, wantKey) || string(hash) != string(wantHash) {
			t.Errorf("API key after upgrade: %+v, %v; want %+v", got, err, wantKey)
		}
		if got, err := s.GetGrant(ctx, legacyGrant().ID); err != nil || !reflect.DeepEqual(got, legacyGrant()) {
			t.Errorf("grant after upgrade: %+v, %v; want %+v", got, err, legacyGrant())
		}
		flow := legacyLoginFlow()
		if got, err := s.ConsumeLoginFlow(ctx, flow.StateHash, flow.BindingHash); err != nil || !reflect.DeepEqual(got, flow) {
			t.Errorf("login flow after upgrade: %+v, %v; want %+v", got, err, flow)
		}
		s.Close()
		sameSchemaAsNew(t, "identity", path, func(p string) (io.Closer, error) { return OpenIdentityStore(ctx, p, IdentityOptions{}) })
	})

	t.Run("authority", func(t *testing.T) {
		dir := copyLegacy(t, "authority.db")
		path := filepath.Join(dir, "authority.db")
		s, err := OpenAuthorityStore(ctx, path, AuthorityOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v := schemaVersionOf(t, s.db, authoritySchema); v != latestVersion(t, authoritySchema) {
			t.Errorf("version %d after upgrade, want %d", v, latestVersion(t, authoritySchema))
		}
		if got, err := s.Get(ctx, legacyAuthority().ID); err != nil || !reflect.DeepEqual(got, legacyAuthority()) {
			t.Errorf("authority after upgrade: %+v, %v; want %+v", got, err, legacyAuthority())
		}
		s.Close()
		sameSchemaAsNew(t, "authority", path, func(p string) (io.Closer, error) { return OpenAuthorityStore(ctx, p, AuthorityOptions{}) })
	})

	t.Run("holds", func(t *testing.T) {
		dir := copyLegacy(t, "holds.db")
		path := filepath.Join(dir, "holds.db")
		s, err := OpenHoldStore(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if v := schemaVersionOf(t, s.db, holdsSchema); v != latestVersion(t, holdsSchema) {
			t.Errorf("version %d after upgrade, want %d", v, latestVersion(t, holdsSchema))
		}
		if got, err := s.GetHold(ctx, legacyHold().ID); err != nil || !reflect.DeepEqual(got, legacyHold()) {
			t.Errorf("hold after upgrade: %+v, %v; want %+v", got, err, legacyHold())
		}
		if got, err := s.ListRuns(ctx, 10); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], legacyRun()) {
			t.Errorf("retention runs after upgrade: %+v, %v; want [%+v]", got, err, legacyRun())
		}
		s.Close()
		sameSchemaAsNew(t, "holds", path, func(p string) (io.Closer, error) { return OpenHoldStore(ctx, p) })
	})
}

// Stores that share one file keep separate version tables, so each runs its own series.
func TestStoresShareAFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "portal.db")
	grant := legacyGrant()
	for round := range 2 { // the second round opens a file where every series is already applied
		is, err := OpenIdentityStore(ctx, path, IdentityOptions{})
		if err != nil {
			t.Fatal(err)
		}
		as, err := OpenAuthorityStore(ctx, path, AuthorityOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hs, err := OpenHoldStore(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []schema{identitySchema, authoritySchema, holdsSchema} {
			if v := schemaVersionOf(t, is.db, s); v != latestVersion(t, s) {
				t.Errorf("round %d: %s at version %d in a shared file, want %d", round, s.name, v, latestVersion(t, s))
			}
		}
		if round == 0 {
			if err := is.CreateGrant(ctx, grant); err != nil {
				t.Fatal(err)
			}
		} else if got, err := is.GetGrant(ctx, grant.ID); err != nil || !reflect.DeepEqual(got, grant) {
			t.Errorf("grant after reopening the shared file: %+v, %v", got, err)
		}
		is.Close()
		as.Close()
		hs.Close()
	}
}

// Many openers of one new file at once (a server and a CLI command starting together) all succeed,
// and every step is recorded once.
func TestConcurrentOpenersMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reads.db")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := Open(context.Background(), path, Options{MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent open: %v", err)
		}
	}
	s := openReads(t, path, Options{})
	defer s.Close()
	var n, distinct int
	if err := s.db.QueryRow(`SELECT count(*), count(DISTINCT version_id) FROM goose_reads`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != distinct {
		t.Errorf("goose_reads holds %d rows for %d versions: a step ran twice", n, distinct)
	}
}

// A migration waits for one in progress in another process (the advisory lock beside the file),
// and gives up when its context ends rather than racing it.
func TestMigrationWaitsForTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "holds.db")
	f, err := os.OpenFile(path+".migrate.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	db, err := openDB(t.Context(), path, Full, 2, smallStoreMemory)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := migrate(ctx, db, path, holdsSchema); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("migrate while another holds the lock: %v, want it to wait and give up with the context", err)
	}
	if v := schemaVersionOf(t, db, holdsSchema); v != 0 {
		t.Fatalf("a migration ran while another held the lock (version %d)", v)
	}
	f.Close() // releases the lock
	if err := migrate(t.Context(), db, path, holdsSchema); err != nil {
		t.Fatalf("migrate after the lock was released: %v", err)
	}
}

// A change to the weekly partitions is a Go step that alters every existing week in the step's
// transaction (readsPartitionStep); weeks created later take readsPartitionDDL.
func TestReadsPartitionStep(t *testing.T) {
	dir := copyLegacy(t, "reads.db")
	path := filepath.Join(dir, "reads.db")
	s := openReads(t, path, Options{})
	s.Close()
	next := latestVersion(t, readsSchema) + 1
	withStep := readsSchema
	withStep.goSteps = append(append([]*goose.Migration(nil), readsSchema.goSteps...),
		readsPartitionStep(next, `CREATE INDEX "@_lane" ON "@"(lane, seen_at, id)`))
	db, err := openDB(t.Context(), path, Normal, 2, Memory{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrate(t.Context(), db, path, withStep); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersionOf(t, db, readsSchema); v != next {
		t.Errorf("version %d after the partition step, want %d", v, next)
	}
	var parts, indexed int
	if err := db.QueryRow(`SELECT count(*), (SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'reads_w%_lane')
		FROM read_partitions`).Scan(&parts, &indexed); err != nil {
		t.Fatal(err)
	}
	if parts != len(legacyWeeks()) || indexed != parts {
		t.Errorf("%d of %d partitions have the new index, want all of %d", indexed, parts, len(legacyWeeks()))
	}
}

// legacyWeeks is how many ISO weeks the fixture's reads fall in.
func legacyWeeks() map[int64]bool {
	w := map[int64]bool{}
	for _, r := range legacyReads() {
		w[readsWeekStart(r.SeenAt.UnixMilli())] = true
	}
	return w
}
