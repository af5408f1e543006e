package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ReviewLog is what the auditor's service needs from a log: it reads events and records that it
// read them.
type ReviewLog interface {
	Appender
	Reader
}

// Reviewer is the auditor's service: filtered queries, per-user timelines, anomaly flags,
// random samples for dip checks and exports. Every call is itself audited through Run (an
// ActionAuditRead or ActionAuditExport intent, then an outcome with the digest of exactly what
// was returned), so reading the audit leaves a trace like any other access, and fails closed.
//
// Authorisation (the auditor role, the rule that nobody reviews their own events without a
// recorded reason) is decided before the Reviewer is called; the caller passes the decision in
// the base event.
type Reviewer struct {
	Log ReviewLog
}

// ReviewRequest is who is reading the audit and why: the base of the event that records it
// (actor, client address, request id, structured reason, decision and rule) and the free-text
// justification, which is personal data and goes into the payload.
type ReviewRequest struct {
	Event         Event
	Justification string
}

// Query returns one page of events matching f.
func (r Reviewer) Query(ctx context.Context, req ReviewRequest, f Filter) (Page, error) {
	return Run(ctx, r.Log, req.event(ActionAuditRead), req.payload("query", f), func(ctx context.Context) (Page, Outcome, error) {
		page, err := r.Log.Read(ctx, f)
		return page, recordsOutcome(page.Records), err
	})
}

// Timeline returns one page of a user's events, newest first.
func (r Reviewer) Timeline(ctx context.Context, req ReviewRequest, subject string, f Filter) (Page, error) {
	if subject == "" {
		return Page{}, fmt.Errorf("%w: timeline needs a user", ErrInvalid)
	}
	f.Actor, f.Newest = subject, true
	return r.Query(ctx, req, f)
}

// Sample draws n events uniformly at random from those matching f (reservoir sampling over
// every page), for dip checks. The seed is recorded in the audit event, so an auditor can show
// the sample was not hand-picked by drawing it again.
func (r Reviewer) Sample(ctx context.Context, req ReviewRequest, f Filter, n int, seed uint64) ([]Record, error) {
	if n <= 0 || n > MaxPageSize {
		return nil, fmt.Errorf("%w: sample size must be 1..%d", ErrInvalid, MaxPageSize)
	}
	what := fmt.Sprintf("sample n=%d seed=%d", n, seed)
	return Run(ctx, r.Log, req.event(ActionAuditRead), req.payload(what, f), func(ctx context.Context) ([]Record, Outcome, error) {
		rng := rand.New(rand.NewPCG(seed, 0x616e70722d617564)) // "anpr-aud": fixed stream for a seed
		var sample []Record
		seen := 0
		err := eachRecord(ctx, r.Log, f, func(rec Record) error {
			seen++
			if len(sample) < n {
				sample = append(sample, rec)
			} else if j := rng.IntN(seen); j < n {
				sample[j] = rec
			}
			return nil
		})
		return sample, recordsOutcome(sample), err
	})
}

// ExportFormat is the file format of an audit export.
type ExportFormat string

const (
	ExportCSV    ExportFormat = "csv"
	ExportNDJSON ExportFormat = "ndjson"
)

// Export writes every event matching f to w and returns the SHA-256 of the bytes written, which
// the outcome event records: the export can later be shown to be exactly what the log released.
// Fail closed: w must be a spool (a temporary file), not the client connection; send the spool
// only when Export returns nil, because only then is the outcome recorded.
func (r Reviewer) Export(ctx context.Context, req ReviewRequest, f Filter, format ExportFormat, w io.Writer) (Digest, error) {
	if format != ExportCSV && format != ExportNDJSON {
		return Digest{}, fmt.Errorf("%w: export format %q", ErrInvalid, format)
	}
	return Run(ctx, r.Log, req.event(ActionAuditExport), req.payload("export "+string(format), f), func(ctx context.Context) (Digest, Outcome, error) {
		d := NewDigestWriter()
		out := io.MultiWriter(w, d)
		var n int64
		var err error
		switch format {
		case ExportCSV:
			cw := csv.NewWriter(out)
			cw.Write(exportHeader)
			err = eachRecord(ctx, r.Log, f, func(rec Record) error {
				n++
				cw.Write(exportRow(rec))
				return cw.Error()
			})
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
		case ExportNDJSON:
			enc := json.NewEncoder(out)
			err = eachRecord(ctx, r.Log, f, func(rec Record) error {
				n++
				return enc.Encode(rec)
			})
		}
		if err != nil {
			return Digest{}, Outcome{}, fmt.Errorf("export audit events: %w", err)
		}
		sum := d.Sum()
		return sum, Outcome{Count: n, Digest: sum}, nil
	})
}

// maxReviewScan bounds how many events one review call may walk (samples, exports, anomaly
// windows): an auditor narrows the filter instead of pulling the whole log into one request.
const maxReviewScan = 1_000_000

// eachRecord walks every record matching f, page by page.
func eachRecord(ctx context.Context, log Reader, f Filter, fn func(Record) error) error {
	f.Limit, f.Cursor = MaxPageSize, ""
	walked := 0
	for {
		page, err := log.Read(ctx, f)
		if err != nil {
			return err
		}
		for _, rec := range page.Records {
			if walked++; walked > maxReviewScan {
				return fmt.Errorf("%w: more than %d events match; narrow the filter", ErrInvalid, maxReviewScan)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		f.Cursor = page.Next
	}
}

func (req ReviewRequest) event(a Action) Event {
	e := req.Event
	e.Action, e.Stage, e.IntentSeq, e.Erases = a, StageIntent, 0, nil
	return e
}

// payload records what was asked: the operation and the filter. A VRM filter names a VRM, so
// it is personal data like any search's, and indexed like one.
func (req ReviewRequest) payload(what string, f Filter) Payload {
	p := Payload{Query: what + " " + f.String(), Justification: req.Justification}
	if f.VRM != "" {
		p.VRMs = []string{f.VRM}
	}
	return p
}

// String is a stable description of the filter for audit records.
func (f Filter) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+strconv.Quote(v))
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			add(k, strconv.FormatInt(v, 10))
		}
	}
	tm := func(k string, t time.Time) {
		if !t.IsZero() {
			add(k, t.UTC().Format(time.RFC3339Nano))
		}
	}
	num("from_seq", f.FromSeq)
	num("to_seq", f.ToSeq)
	tm("since", f.Since)
	tm("until", f.Until)
	add("actor", f.Actor)
	add("action", string(f.Action))
	if f.Stage != nil {
		parts = append(parts, "stage="+strconv.Quote(string(*f.Stage)))
	}
	add("decision", string(f.Decision))
	add("vrm", f.VRM)
	add("purpose", f.Purpose)
	add("case_ref", f.CaseRef)
	add("authority_id", f.AuthorityID)
	add("request_id", f.RequestID)
	if f.Newest {
		parts = append(parts, "newest")
	}
	if c, err := DecodeCursor(f.Cursor); err == nil && c > 0 {
		num("cursor_seq", c)
	}
	return strings.Join(parts, " ")
}

// recordsOutcome digests the seqs returned, in order: what the auditor was shown.
func recordsOutcome(recs []Record) Outcome {
	d := NewDigestWriter()
	for _, r := range recs {
		d.AddID(strconv.FormatInt(r.Event.Seq, 10))
	}
	return Outcome{Count: int64(len(recs)), Digest: d.Sum()}
}

var exportHeader = []string{"seq", "chain", "time", "actor_subject", "actor_name", "actor_roles", "actor_session",
	"client_addr", "request_id", "action", "stage", "intent_seq", "decision", "rule", "purpose", "case_ref",
	"offence_code", "authority_id", "search_type", "band", "result_count", "result_digest", "status", "error",
	"erases", "payload_hash", "vrms", "query", "justification", "erased_by"}

func exportRow(r Record) []string {
	e := r.Event
	var vrms, query, justification string
	if r.Payload != nil {
		vrms, query, justification = strings.Join(r.Payload.VRMs, " "), r.Payload.Query, r.Payload.Justification
	}
	erases := make([]string, len(e.Erases))
	for i, s := range e.Erases {
		erases[i] = strconv.FormatInt(s, 10)
	}
	row := []string{strconv.FormatInt(e.Seq, 10), e.Chain, e.Time.Format(time.RFC3339Nano), e.Actor.Subject,
		e.Actor.Name, strings.Join(e.Actor.Roles, " "), e.Actor.Session, e.ClientAddr, e.RequestID, string(e.Action),
		string(e.Stage), strconv.FormatInt(e.IntentSeq, 10), string(e.Decision), e.Rule, e.Reason.Purpose,
		e.Reason.CaseRef, e.Reason.OffenceCode, e.AuthorityID, e.SearchType, strconv.Itoa(e.Band),
		strconv.FormatInt(e.ResultCount, 10), e.ResultDigest.String(), string(e.Status), e.Error,
		strings.Join(erases, " "), e.PayloadHash.String(), vrms, query, justification, strconv.FormatInt(r.ErasedBy, 10)}
	for i, c := range row {
		row[i] = CSVSafe(c)
	}
	return row
}

// CSVSafe defuses spreadsheet formulas: free text from officers ends up in a spreadsheet on an
// auditor's desk, and a cell starting with = + - @ (or a tab or carriage return) would run there,
// so such a cell gets a leading quote. Every CSV the portal writes (audit and read exports) uses
// this one rule.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
