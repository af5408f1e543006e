package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/audittest"
)

// auditClock is an injected clock tests move by hand.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *auditClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type auditFixture struct {
	dir, path string
	signer    note.Signer
	ring      audit.Keyring
	anchor    *audit.FileAnchor
	clock     *auditClock
	log       *AuditLog
}

// auditNewFixture opens a real audit log in a temp dir with its own key pair, file anchor and a
// hand-moved clock. mod adjusts the options before opening.
func auditNewFixture(t testing.TB, mod func(*AuditOptions)) *auditFixture {
	t.Helper()
	dir := t.TempDir()
	if _, err := audit.InitKeys(filepath.Join(dir, "keys"), audit.DefaultKeyName, rand.Reader); err != nil {
		t.Fatal(err)
	}
	f := &auditFixture{dir: dir, path: filepath.Join(dir, "audit.db"), clock: &auditClock{t: time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)}}
	var err error
	if f.signer, err = audit.LoadSigner(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	if f.ring, err = audit.LoadKeyring(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	f.anchor = audit.NewFileAnchor(filepath.Join(dir, "audit.anchor"))
	f.open(t, mod)
	t.Cleanup(func() { f.log.Close() })
	return f
}

func (f *auditFixture) options(mod func(*AuditOptions)) AuditOptions {
	o := AuditOptions{Signer: f.signer, Anchor: f.anchor, Clock: f.clock.Now, CheckpointEvery: 8, CheckpointInterval: time.Hour}
	if mod != nil {
		mod(&o)
	}
	return o
}

func (f *auditFixture) open(t testing.TB, mod func(*AuditOptions)) {
	t.Helper()
	l, err := OpenAuditLog(context.Background(), f.path, f.options(mod))
	if err != nil {
		t.Fatal(err)
	}
	f.log = l
}

// appendN appends n events of the conformance suite's day (audittest.Event), one second apart.
func (f *auditFixture) appendN(t testing.TB, n int) []audit.Event {
	t.Helper()
	var out []audit.Event
	for i := range n {
		e, p := audittest.Event(i)
		got, err := f.log.Append(context.Background(), e, p)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, got)
		f.clock.Advance(time.Second)
	}
	return out
}

func (f *auditFixture) verify(t testing.TB) audit.Report {
	t.Helper()
	r, err := OpenAuditReader(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := audit.Verify(context.Background(), r, f.anchor, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// auditRawDB opens the database file directly, as someone with file access would, with the
// append-only triggers dropped.
func auditRawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'trigger'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.Exec(`DROP TRIGGER ` + n); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func auditCopyFile(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
