package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/optype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"

	"github.com/anpr-portal/anpr/internal/audit"
)

// auditLease makes one process the chain's only writer. Two sequencers on one chain would
// interleave seqs; op_type=create already makes the loser's writes conflict rather than
// overwrite, but then the log halts. The lease makes the second writer refuse at open instead.
//
// The lease is a document <chain> in the writers index, taken and renewed with optimistic
// concurrency (if_seq_no / if_primary_term), so two processes cannot both take it. It expires
// LeaseTTL after its last renewal, so a crashed writer blocks a new one for at most that long.
// Every batch checks (by real-time get) that the document still names this writer before it
// writes; a writer that lost its lease fails closed. The check and the write are not atomic: a
// writer paused longer than the TTL between them can still send one batch after a takeover, and
// then its creates conflict with the new writer's, which the sequencer detects and halts on.
// Wall-clock time, not the sequencer's clock: the lease is between processes.
type auditLease struct {
	r     *AuditReader
	owner string
	ttl   time.Duration

	mu          sync.Mutex
	seqNo, term int64
	lost        error

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type auditLeaseDoc struct {
	Chain     string `json:"chain"`
	Owner     string `json:"owner"`
	Host      string `json:"host"`
	PID       int64  `json:"pid"`
	ExpiresUS int64  `json:"expires_us"`
}

func acquireLease(ctx context.Context, r *AuditReader, ttl time.Duration) (*auditLease, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("open audit log: lease owner id: %w", err)
	}
	l := &auditLease{r: r, owner: hex.EncodeToString(b[:]), ttl: ttl, stop: make(chan struct{}), done: make(chan struct{})}
	cur, err := r.es.Get(r.ix.writers, r.chain).Do(ctx)
	if err != nil {
		return nil, auditUnavailable("open audit log: read writer lease", err)
	}
	req := r.es.Index(r.ix.writers).Id(r.chain).Document(l.doc()).Refresh(refresh.False)
	if !cur.Found {
		req = req.OpType(optype.Create)
	} else {
		var held auditLeaseDoc
		if err := json.Unmarshal(cur.Source_, &held); err != nil {
			return nil, fmt.Errorf("open audit log: %w: writer lease of chain %q does not parse", audit.ErrUnavailable, r.chain)
		}
		if exp := time.UnixMicro(held.ExpiresUS); exp.After(time.Now()) {
			return nil, fmt.Errorf("open audit log: %w: another process (%s pid %d) is writing chain %q; its lease expires %s unless renewed (stop it first, or use the API)",
				audit.ErrUnavailable, held.Host, held.PID, r.chain, exp.UTC().Format(time.RFC3339))
		}
		req = req.IfSeqNo(strconv.FormatInt(*cur.SeqNo_, 10)).IfPrimaryTerm(strconv.FormatInt(*cur.PrimaryTerm_, 10))
	}
	res, err := req.Do(ctx)
	if status(err) == http.StatusConflict {
		return nil, fmt.Errorf("open audit log: %w: another process took the writer lease of chain %q just now", audit.ErrUnavailable, r.chain)
	}
	if err != nil {
		return nil, auditUnavailable("open audit log: take writer lease", err)
	}
	l.seqNo, l.term = *res.SeqNo_, *res.PrimaryTerm_
	go l.renewLoop()
	return l, nil
}

func (l *auditLease) doc() auditLeaseDoc {
	host, _ := os.Hostname()
	return auditLeaseDoc{Chain: l.r.chain, Owner: l.owner, Host: host, PID: int64(os.Getpid()),
		ExpiresUS: time.Now().Add(l.ttl).UnixMicro()}
}

func (l *auditLease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			err := l.renew(ctx)
			cancel()
			if err != nil {
				l.r.cfg.Logger.Error("audit writer lease not renewed", "chain", l.r.chain, "err", err)
			}
		}
	}
}

func (l *auditLease) renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	res, err := l.r.es.Index(l.r.ix.writers).Id(l.r.chain).Document(l.doc()).Refresh(refresh.False).
		IfSeqNo(strconv.FormatInt(l.seqNo, 10)).IfPrimaryTerm(strconv.FormatInt(l.term, 10)).Do(ctx)
	if status(err) == http.StatusConflict {
		l.lost = fmt.Errorf("%w: the writer lease of chain %q was taken by another process", audit.ErrUnavailable, l.r.chain)
		return l.lost
	}
	if err != nil {
		return auditUnavailable("renew writer lease", err)
	}
	l.seqNo, l.term = *res.SeqNo_, *res.PrimaryTerm_
	return nil
}

// check fails unless the lease document still names this writer (a real-time get).
func (l *auditLease) check(ctx context.Context) error {
	got, err := l.r.mget(ctx, []types.MgetOperation{mgetOp(l.r.ix.writers, l.r.chain)}, "owner")
	if err != nil {
		return auditUnavailable("check writer lease", err)
	}
	return l.checkDoc(got[l.r.ix.writers+"/"+l.r.chain])
}

// checkDoc fails unless src, the lease document as just read (nil when absent), names this writer.
func (l *auditLease) checkDoc(src json.RawMessage) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	var held auditLeaseDoc
	if src == nil || json.Unmarshal(src, &held) != nil || held.Owner != l.owner {
		l.lost = fmt.Errorf("%w: this process no longer holds the writer lease of chain %q", audit.ErrUnavailable, l.r.chain)
		return l.lost
	}
	return nil
}

// release stops renewing and deletes the lease if it is still this writer's.
func (l *auditLease) release() error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.lost != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, e := l.r.es.Delete(l.r.ix.writers, l.r.chain).IfSeqNo(strconv.FormatInt(l.seqNo, 10)).
			IfPrimaryTerm(strconv.FormatInt(l.term, 10)).Do(ctx)
		if e != nil && status(e) != http.StatusConflict && status(e) != http.StatusNotFound {
			err = errors.Join(err, auditUnavailable("release writer lease", e))
		}
	})
	return err
}
