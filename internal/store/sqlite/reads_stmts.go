package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// readsStmtCacheSize bounds the prepared search statements kept open. A statement's text names
// its week partition, so there are a few dozen shapes per week; the searches that matter touch
// the latest weeks, which stay in the cache while old shapes age out.
const readsStmtCacheSize = 256

// readsStmtCache keeps search statements prepared. A search reads several week partitions, one
// statement each, and compiling a statement costs as much as running it against a warm index
// (about a tenth of a millisecond), which with a handful of weeks took the exact-plate p99 past
// its millisecond budget. Least recently used statements are closed first; database/sql keeps a
// closed statement alive until rows still reading from it are closed, so eviction is safe under
// concurrent use.
type readsStmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	byKey map[string]*list.Element // of *readsCachedStmt
	lru   list.List                // front: most recently used
}

type readsCachedStmt struct {
	query string
	stmt  *sql.Stmt
}

func newReadsStmtCache(db *sql.DB) *readsStmtCache {
	return &readsStmtCache{db: db, byKey: make(map[string]*list.Element)}
}

// get returns the prepared statement for query, preparing it on first use.
func (c *readsStmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	if e, ok := c.byKey[query]; ok {
		c.lru.MoveToFront(e)
		st := e.Value.(*readsCachedStmt).stmt
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	// Prepared outside the lock: preparing waits for a connection, which may take a while.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[query]; ok { // another goroutine won the race
		st.Close()
		c.lru.MoveToFront(e)
		return e.Value.(*readsCachedStmt).stmt, nil
	}
	c.byKey[query] = c.lru.PushFront(&readsCachedStmt{query: query, stmt: st})
	for c.lru.Len() > readsStmtCacheSize {
		old := c.lru.Back()
		c.lru.Remove(old)
		cs := old.Value.(*readsCachedStmt)
		delete(c.byKey, cs.query)
		cs.stmt.Close()
	}
	return st, nil
}

// forget closes and drops query's statement, after an error that may mean it is stale (its
// partition was dropped).
func (c *readsStmtCache) forget(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[query]; ok {
		c.lru.Remove(e)
		delete(c.byKey, query)
		e.Value.(*readsCachedStmt).stmt.Close()
	}
}

// close closes every cached statement.
func (c *readsStmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.byKey {
		e.Value.(*readsCachedStmt).stmt.Close()
	}
	c.byKey = make(map[string]*list.Element)
	c.lru.Init()
}

// query runs a cached statement. An error drops the statement from the cache, so a statement
// whose table is gone is prepared afresh (and fails cleanly) next time.
func (c *readsStmtCache) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		c.forget(query)
		return nil, err
	}
	return rows, nil
}
