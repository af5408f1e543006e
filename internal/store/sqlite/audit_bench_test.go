package sqlite

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/auditbench"
)

// BenchmarkAuditAppend: one writer, each append waiting for its own commit (fsync).
func BenchmarkAuditAppend(b *testing.B) {
	f := auditNewFixture(b, func(o *AuditOptions) { o.CheckpointEvery = 256 })
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		e, p := auditbench.Event(i)
		if _, err := f.log.Append(ctx, e, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditAppendParallel64: 64 appenders at once; group commit lets them share fsyncs.
func BenchmarkAuditAppendParallel64(b *testing.B) {
	f := auditNewFixture(b, func(o *AuditOptions) { o.CheckpointEvery = 256 })
	ctx := context.Background()
	b.SetParallelism(max(64/auditProcs(), 1))
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e, p := auditbench.Event(int(n.Add(1)))
			if _, err := f.log.Append(ctx, e, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAuditVerify: events verified per second (re-encoding, hashing, stored-hash reads).
func BenchmarkAuditVerify(b *testing.B) {
	f := auditNewFixture(b, func(o *AuditOptions) { o.CheckpointEvery = 256 })
	ctx := context.Background()
	const events = 5000
	for i := range events {
		e, p := auditbench.Event(i)
		if _, err := f.log.Append(ctx, e, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		rep, err := audit.Verify(ctx, f.log, f.anchor, f.ring.Verifiers())
		if err != nil || !rep.OK() {
			b.Fatalf("%v %v", rep.Problems, err)
		}
	}
	b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
}

func auditProcs() int { return max(runtime.GOMAXPROCS(0), 1) }
