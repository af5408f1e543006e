// Package datarights is what data protection law asks of the read store, done by the ANPR
// manager: correcting a read whose plate was proved misread, erasing a read the law says must
// go, and the subject access report of every read held about a plate. Each is an audited
// operation; the audit keeps that it happened and digests of what changed, never the erased data.
package datarights

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Audit actions.
const (
	ActionCorrect       audit.Action = "read.correct"
	ActionErase         audit.Action = "read.erase"
	ActionSubjectAccess audit.Action = "sar.report"
)

// Reads is what the service needs of the read store.
type Reads interface {
	reads.Rectifier
	GetRead(ctx context.Context, id string) (reads.Read, error)
	FindReads(ctx context.Context, q reads.Query) (reads.Page, error)
	Cameras(ctx context.Context) ([]reads.Camera, error)
}

// Caller is who acts, as the audit records them. The HTTP gate has authorised the action
// (data.correct, data.erase or sar.report, each needing an oversight reason) and validated the
// reason; Rule is the policy line that allowed it.
type Caller struct {
	Actor      audit.Actor
	ClientAddr string
	RequestID  string
	Rule       string
}

// Service corrects, erases and reports reads.
type Service struct {
	st  Reads
	log audit.Appender
	now func() time.Time
}

// New returns a Service.
func New(st Reads, log audit.Appender, now func() time.Time) (*Service, error) {
	if st == nil || log == nil || now == nil {
		return nil, errors.New("datarights: read store, audit log and clock are required")
	}
	return &Service{st: st, log: log, now: now}, nil
}

// ReadDigest is the SHA-256 of a read's canonical JSON: what the audit keeps of a read that was
// changed or erased. Given the read, anyone can check it; given only the digest, nobody learns it.
func ReadDigest(r reads.Read) audit.Digest {
	b, _ := json.Marshal(r) // a struct of strings, numbers and a time: cannot fail
	return audit.Digest(sha256.Sum256(b))
}

func (s *Service) event(c Caller, action audit.Action, reason authz.Reason) audit.Event {
	return audit.Event{
		Actor: c.Actor, ClientAddr: c.ClientAddr, RequestID: c.RequestID, Action: action,
		Decision: audit.EffectAllow, Rule: c.Rule,
		Reason: audit.Reason{Purpose: reason.Purpose, CaseRef: reason.CaseRef, OffenceCode: reason.OffenceCode},
	}
}

// Correction is what a correction did.
type Correction struct {
	Before       string       `json:"before_id"`
	Read         reads.Read   `json:"read"` // the corrected read, with its new id
	BeforeDigest audit.Digest `json:"before_digest"`
	AfterDigest  audit.Digest `json:"after_digest"`
}

// Correct gives read id the plate vrm. The intent event carries the digest of the read as it was
// (its result digest), the outcome the digest of the corrected read; the payload names the old
// and new ids and the justification, not the plates.
func (s *Service) Correct(ctx context.Context, c Caller, id, vrm string, reason authz.Reason) (Correction, error) {
	norm, err := plate.Normalize(vrm)
	if err != nil {
		return Correction{}, fmt.Errorf("correct read: %w: %w", reads.ErrInvalid, err)
	}
	old, err := s.st.GetRead(ctx, id)
	if err != nil {
		return Correction{}, fmt.Errorf("correct read: %w", err)
	}
	newID := reads.ReadID(old.CameraID, old.SeenAt, norm)
	ev := s.event(c, ActionCorrect, reason)
	ev.ResultCount, ev.ResultDigest = 1, ReadDigest(old)
	payload := audit.Payload{Query: fmt.Sprintf("correct read %s (new id %s)", id, newID), Justification: reason.Justification}
	return audit.Run(ctx, s.log, ev, payload, func(ctx context.Context) (Correction, audit.Outcome, error) {
		before, after, err := s.st.CorrectRead(ctx, id, norm)
		if err != nil {
			return Correction{}, audit.Outcome{ErrorClass: errorClass(err)}, fmt.Errorf("correct read: %w", err)
		}
		out := Correction{Before: before.ID, Read: after, BeforeDigest: ReadDigest(before), AfterDigest: ReadDigest(after)}
		return out, audit.Outcome{Count: 1, Digest: out.AfterDigest}, nil
	})
}

// Erasure is what an erasure did.
type Erasure struct {
	ID     string       `json:"id"`
	Digest audit.Digest `json:"digest"` // of the erased read
}

// Erase deletes read id. The audit keeps the id (in the erasable payload) and the digest of the
// erased read (in the permanent event), never its plate, camera or time.
func (s *Service) Erase(ctx context.Context, c Caller, id string, reason authz.Reason) (Erasure, error) {
	old, err := s.st.GetRead(ctx, id)
	if err != nil {
		return Erasure{}, fmt.Errorf("erase read: %w", err)
	}
	ev := s.event(c, ActionErase, reason)
	ev.ResultCount, ev.ResultDigest = 1, ReadDigest(old)
	payload := audit.Payload{Query: "erase read " + id, Justification: reason.Justification}
	return audit.Run(ctx, s.log, ev, payload, func(ctx context.Context) (Erasure, audit.Outcome, error) {
		gone, err := s.st.EraseRead(ctx, id)
		if err != nil {
			return Erasure{}, audit.Outcome{ErrorClass: errorClass(err)}, fmt.Errorf("erase read: %w", err)
		}
		d := ReadDigest(gone)
		return Erasure{ID: id, Digest: d}, audit.Outcome{Count: 1, Digest: d}, nil
	})
}

// SubjectAccessRequest asks for every read of one plate in a window.
type SubjectAccessRequest struct {
	VRM      string
	From, To time.Time
	Reason   authz.Reason
}

// MaxSubjectAccessWindow bounds one report's window. Retention is a year and holds can keep data
// longer; ten years covers anything a force can hold.
const MaxSubjectAccessWindow = 10 * 366 * 24 * time.Hour

// CSVHeader is the first line of a subject access report.
var CSVHeader = []string{"read_id", "vrm", "seen_at", "camera_id", "camera_name", "road", "direction", "lat", "lon", "confidence", "lane", "patch_sha256", "overview_sha256"}

// SubjectAccess writes every read of r.VRM seen in [r.From, r.To) to w as CSV, oldest first, and
// returns the row count and the SHA-256 of exactly the bytes written. There are no data-age band
// limits and no row cap: a subject access request is the data office's statutory duty to
// disclose everything held, held reads past retention included; the sar.report permission is
// what controls it. The outcome event, with the file's digest, is durable before SubjectAccess
// returns, so a caller that spools w and sends it afterwards never sends an unrecorded file.
func (s *Service) SubjectAccess(ctx context.Context, c Caller, r SubjectAccessRequest, w io.Writer) (int64, audit.Digest, error) {
	vrm, err := plate.Normalize(r.VRM)
	if err != nil {
		return 0, audit.Digest{}, fmt.Errorf("subject access: %w: %w", reads.ErrInvalid, err)
	}
	switch {
	case r.From.IsZero() || r.To.IsZero():
		return 0, audit.Digest{}, fmt.Errorf("subject access: %w: from and to are required", reads.ErrInvalid)
	case !r.From.Before(r.To):
		return 0, audit.Digest{}, fmt.Errorf("subject access: %w: from must be before to", reads.ErrInvalid)
	case r.To.Sub(r.From) > MaxSubjectAccessWindow:
		return 0, audit.Digest{}, fmt.Errorf("subject access: %w: the window is longer than ten years", reads.ErrInvalid)
	}
	ev := s.event(c, ActionSubjectAccess, r.Reason)
	payload := audit.Payload{VRMs: []string{vrm}, Justification: r.Reason.Justification,
		Query: fmt.Sprintf("subject access vrm=%s from=%s to=%s", vrm, r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))}
	type result struct {
		n int64
		d audit.Digest
	}
	res, err := audit.Run(ctx, s.log, ev, payload, func(ctx context.Context) (result, audit.Outcome, error) {
		n, d, err := s.writeReport(ctx, vrm, r.From, r.To, w)
		if err != nil {
			return result{}, audit.Outcome{ErrorClass: errorClass(err)}, fmt.Errorf("subject access: %w", err)
		}
		return result{n, d}, audit.Outcome{Count: n, Digest: d}, nil
	})
	return res.n, res.d, err
}

func (s *Service) writeReport(ctx context.Context, vrm string, from, to time.Time, w io.Writer) (int64, audit.Digest, error) {
	cams, err := s.st.Cameras(ctx)
	if err != nil {
		return 0, audit.Digest{}, err
	}
	byID := make(map[string]reads.Camera, len(cams))
	for _, c := range cams {
		byID[c.ID] = c
	}
	dw := audit.NewDigestWriter()
	cw := csv.NewWriter(io.MultiWriter(w, dw))
	if err := cw.Write(CSVHeader); err != nil {
		return 0, audit.Digest{}, err
	}
	q := reads.Query{Match: reads.MatchExact, Value: vrm, From: from, To: to, Order: reads.OldestFirst, Limit: reads.MaxPageSize}
	var n int64
	for {
		page, err := s.st.FindReads(ctx, q)
		if err != nil {
			return 0, audit.Digest{}, err
		}
		for _, rd := range page.Reads {
			cam := byID[rd.CameraID]
			lat, lon := "", ""
			if cam.ID != "" {
				lat, lon = strconv.FormatFloat(cam.Lat, 'f', -1, 64), strconv.FormatFloat(cam.Lon, 'f', -1, 64)
			}
			if err := cw.Write([]string{rd.ID, rd.VRM, rd.SeenAt.UTC().Format(time.RFC3339Nano), rd.CameraID, cam.Name, cam.Road,
				cam.Direction, lat, lon, strconv.FormatFloat(rd.Confidence, 'f', -1, 64), strconv.Itoa(rd.Lane),
				rd.PatchSHA, rd.OverviewSHA}); err != nil {
				return 0, audit.Digest{}, err
			}
			n++
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, audit.Digest{}, err
	}
	return n, dw.Sum(), nil
}

// errorClass is the short kind an outcome records; never the error text.
func errorClass(err error) string {
	switch {
	case errors.Is(err, reads.ErrNotFound):
		return "not_found"
	case errors.Is(err, reads.ErrInvalid):
		return "invalid"
	case errors.Is(err, reads.ErrConflict):
		return "conflict"
	case errors.Is(err, reads.ErrUnavailable):
		return "unavailable"
	}
	return ""
}
