package search

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// MaxExportRows bounds one export. An export is spooled to disk and sent whole, so a search that
// matches more than this is refused (after its intent is recorded) and the investigator narrows
// it; a million reads is already far more than anyone reads by hand.
const MaxExportRows = 1_000_000

// exportPage is how many reads one store call of an export fetches: the largest page a store
// serves, because an export wants throughput, not the first rows quickly.
const exportPage = reads.MaxPageSize

// ExportColumns is the CSV header of an export, in order.
var ExportColumns = []string{"id", "vrm", "seen_at", "camera_id", "camera_name", "road", "lat", "lon",
	"confidence", "lane", "patch_sha256", "overview_sha256", "match"}

// ExportResult describes an export written in full.
type ExportResult struct {
	Type  Type       `json:"type"`
	Band  authz.Band `json:"band"`
	Count int64      `json:"count"` // data rows, without the header
	// Digest is the SHA-256 of exactly the bytes written, as the audit outcome records it.
	Digest audit.Digest `json:"digest"`
}

// Export writes every read that a search of type t finds (all pages) to w as CSV, and returns the
// row count and the SHA-256 of the bytes written. It is authorised like the search itself (the
// search type's rule, with any authority presented, which spends one use) and also needs the
// export permission for the window's band; both refusals are audited. The outcome event carries
// the count and the file's digest and is durable before Export returns.
//
// Fail closed: w must be a spool (a temporary file), not the client's connection. Send the spool
// only when Export returns nil; on any error the bytes in w must be thrown away, because their
// outcome was not recorded as delivered.
//
// r takes the fields of the search of type t; Cursor and Limit are refused, since an export is
// always the whole result. Exact, partial and misread exports are newest first; a journey export
// is oldest first, like the journey.
func (s *Service) Export(ctx context.Context, c Caller, t Type, r Request, w io.Writer) (ExportResult, error) {
	order := reads.NewestFirst
	switch t {
	case TypeExact, TypePartial, TypeMisread, TypeArea:
	case TypeJourney:
		order = reads.OldestFirst
	default:
		return ExportResult{}, invalid("search type %q cannot be exported", t)
	}
	var bad []error
	if r.Cursor != "" {
		bad = append(bad, invalid("an export is always the whole result: leave out the cursor"))
	}
	if r.Limit != 0 {
		bad = append(bad, invalid("an export is always the whole result: leave out the limit"))
	}
	if len(bad) > 0 {
		return ExportResult{}, joinInvalid(bad)
	}
	q, err := s.check(ctx, t, r.VRM, r.Pattern, r.From, r.To, r.Cameras, r.Area, 0)
	if err != nil {
		return ExportResult{}, err
	}
	band := s.az.BandOf(q.from)
	reason := s.az.ReasonRules().Normalize(r.Reason)
	base := c.event(audit.ActionExport)
	base.SearchType, base.Band = string(t), bandNumber(band)
	base.Reason = audit.Reason{Purpose: clip(reason.Purpose, audit.MaxFieldLen), CaseRef: clip(reason.CaseRef, audit.MaxFieldLen), OffenceCode: clip(reason.OffenceCode, audit.MaxFieldLen)}
	payload := audit.Payload{Query: "export " + q.text(), Justification: clip(reason.Justification, audit.MaxJustificationLen)}
	use := AuthorityUse{ID: r.AuthorityID, Subject: c.Subject, Type: t, Cameras: q.cameras, From: q.from, To: q.to}
	if q.value != "" && t != TypePartial {
		payload.VRMs = []string{q.value}
		use.VRMs = []string{q.value}
	}
	// Two decisions: the search itself, exactly as a search of type t would be decided, and the
	// export of its results. The search's authority use is spent only once both allow.
	req := authz.Request{Subject: c.subject(), Action: t.action(), Band: band, Reason: reason}
	ds, err := s.authorise(ctx, &base, payload, req, use, false)
	if err != nil {
		return ExportResult{}, err
	}
	req.Action = authz.Export
	de, err := s.authorise(ctx, &base, payload, req, use, true)
	if err != nil {
		return ExportResult{}, err
	}
	base.Decision, base.Rule = audit.EffectAllow, clip(ds.Rule+"; "+de.Rule, audit.MaxFieldLen)
	return audit.Run(ctx, s.log, base, payload, func(ctx context.Context) (ExportResult, audit.Outcome, error) {
		n, sum, err := s.writeExport(ctx, q, order, w)
		if err != nil {
			return ExportResult{}, audit.Outcome{ErrorClass: errorClass(err)}, fmt.Errorf("%s export: %w", t, err)
		}
		return ExportResult{Type: t, Band: band, Count: n, Digest: sum}, audit.Outcome{Count: n, Digest: sum}, nil
	})
}

// writeExport streams every page of q to w as CSV while hashing the bytes.
func (s *Service) writeExport(ctx context.Context, q spec, order reads.Order, w io.Writer) (int64, audit.Digest, error) {
	byID, err := s.cameraIndex(ctx)
	if err != nil {
		return 0, audit.Digest{}, err
	}
	sum := audit.NewDigestWriter()
	// One large buffer: csv.NewWriter reuses a bufio.Writer that is big enough instead of adding
	// its own 4 KiB one, so the file and the hash see few, large writes.
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 256<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(ExportColumns); err != nil {
		return 0, audit.Digest{}, err
	}
	row := make([]string, len(ExportColumns))
	var num []byte
	var n int64
	pages, wait := s.prefetch(ctx, q, order)
	defer wait()
	for page := range pages {
		if page.err != nil {
			return n, audit.Digest{}, page.err
		}
		if n+int64(len(page.reads)) > MaxExportRows {
			return n, audit.Digest{}, invalid("more than %d reads match; narrow the window, cameras or pattern and export in parts", MaxExportRows)
		}
		for i := range page.reads {
			rd := &page.reads[i]
			cam := byID[rd.CameraID]
			// Text that could reach the CSV from outside (camera names and roads from the
			// registry, plates from cameras) is defused against spreadsheet formulas. Numbers
			// are formatted here and cannot be formulas; prefixing a negative longitude with a
			// quote would only break the column.
			row[0] = rd.ID
			row[1] = audit.CSVSafe(rd.VRM)
			row[2] = rd.SeenAt.UTC().Format("2006-01-02T15:04:05.000Z")
			row[3] = audit.CSVSafe(rd.CameraID)
			row[4] = audit.CSVSafe(cam.Name)
			row[5] = audit.CSVSafe(cam.Road)
			num = strconv.AppendFloat(num[:0], cam.Lat, 'f', -1, 64)
			row[6] = string(num)
			num = strconv.AppendFloat(num[:0], cam.Lon, 'f', -1, 64)
			row[7] = string(num)
			num = strconv.AppendFloat(num[:0], rd.Confidence, 'f', -1, 64)
			row[8] = string(num)
			row[9] = strconv.Itoa(rd.Lane)
			row[10] = rd.PatchSHA
			row[11] = rd.OverviewSHA
			row[12] = ""
			if q.typ == TypeMisread {
				row[12] = audit.CSVSafe(plate.Compare(q.value, rd.VRM).String())
			}
			if err := cw.Write(row); err != nil {
				return n, audit.Digest{}, err
			}
			n++
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, audit.Digest{}, err
	}
	if err := bw.Flush(); err != nil {
		return n, audit.Digest{}, err
	}
	return n, sum.Sum(), nil
}

// exportBatch is one page of an export, or the error that ended it.
type exportBatch struct {
	reads []reads.Read
	err   error
}

// prefetch fetches the pages of q in a goroutine, one page ahead of the writer, so that the store
// decodes the next page while the CSV of this one is written and hashed: on two cores that is
// most of the difference between an export and the raw store's rate. The channel closes after
// the last page or an error; wait stops the goroutine (when the writer gives up early) and
// returns once it has exited, so no query outlives the export.
func (s *Service) prefetch(ctx context.Context, q spec, order reads.Order) (<-chan exportBatch, func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan exportBatch, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		cursor := ""
		for {
			page, err := s.st.FindReads(ctx, q.query(order, exportPage, cursor))
			if err == nil {
				err = ctx.Err()
			}
			select {
			case out <- exportBatch{reads: page.Reads, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || page.Next == "" {
				return
			}
			cursor = page.Next
		}
	}()
	return out, func() { cancel(); <-done }
}
