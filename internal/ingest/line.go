// Package ingest turns NDJSON uploads from camera back-offices into stored reads: a streaming
// parser with per-line errors and size limits, and a single bounded writer that applies
// backpressure instead of queueing without limit.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Line is one NDJSON line as a camera back-office sends it.
type Line struct {
	CameraID   string   `json:"camera_id"`
	VRM        string   `json:"vrm"`
	SeenAt     string   `json:"seen_at"` // RFC 3339, with a zone
	Confidence *float64 `json:"confidence,omitempty"`
	Lane       *int     `json:"lane,omitempty"`
}

// Error codes of per-line problems. They are part of the API contract: clients match on them.
const (
	CodeMalformed       = "malformed_json"
	CodeUnknownField    = "unknown_field"
	CodeMissingField    = "missing_field"
	CodeInvalidVRM      = "invalid_vrm"
	CodeInvalidTime     = "invalid_time"
	CodeFutureTime      = "future_time"
	CodeUnknownCamera   = "unknown_camera"
	CodeInvalidValue    = "invalid_value"
	CodeLineTooLong     = "line_too_long"
	CodeTrailingGarbage = "trailing_data"
)

// LineError says what was wrong with one line. Line numbers start at 1.
type LineError struct {
	Line    int64  `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CameraSet answers whether a camera is registered.
type CameraSet interface {
	Known(id string) bool
}

// Validator checks one line and turns it into a read.
type Validator struct {
	Cameras   CameraSet
	Now       func() time.Time
	ClockSkew time.Duration
}

// Parse decodes and validates one NDJSON line. On failure it returns the code and message that the
// client sees for that line.
func (v *Validator) Parse(raw []byte) (reads.Read, string, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var l Line
	if err := dec.Decode(&l); err != nil {
		if field, ok := unknownField(err); ok {
			return reads.Read{}, CodeUnknownField, fmt.Sprintf("unknown field %s (allowed: camera_id, vrm, seen_at, confidence, lane)", field)
		}
		return reads.Read{}, CodeMalformed, "malformed JSON: " + jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return reads.Read{}, CodeTrailingGarbage, "more than one JSON value on the line"
	}
	var missing []string
	if l.CameraID == "" {
		missing = append(missing, "camera_id")
	}
	if l.VRM == "" {
		missing = append(missing, "vrm")
	}
	if l.SeenAt == "" {
		missing = append(missing, "seen_at")
	}
	if len(missing) > 0 {
		return reads.Read{}, CodeMissingField, "missing required field(s): " + strings.Join(missing, ", ")
	}
	vrm, err := plate.Normalize(l.VRM)
	if err != nil {
		return reads.Read{}, CodeInvalidVRM, err.Error()
	}
	at, err := time.Parse(time.RFC3339Nano, l.SeenAt)
	if err != nil {
		return reads.Read{}, CodeInvalidTime, fmt.Sprintf("seen_at %q is not an RFC 3339 time with a zone, e.g. 2026-11-20T08:15:02.120Z", truncate(l.SeenAt, 40))
	}
	at = at.UTC().Truncate(reads.TimePrecision)
	if now := v.Now(); at.After(now.Add(v.ClockSkew)) {
		return reads.Read{}, CodeFutureTime, fmt.Sprintf("seen_at %s is in the future (server time %s, allowed skew %s)", at.Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.ClockSkew)
	}
	if at.Year() < 2000 {
		return reads.Read{}, CodeInvalidTime, fmt.Sprintf("seen_at %s is before the year 2000", at.Format(time.RFC3339))
	}
	if !v.Cameras.Known(l.CameraID) {
		return reads.Read{}, CodeUnknownCamera, fmt.Sprintf("camera %q is not registered", truncate(l.CameraID, 40))
	}
	r := reads.Read{
		VRM:      vrm,
		Skeleton: plate.Skeleton(vrm),
		CameraID: l.CameraID,
		SeenAt:   at,
	}
	if l.Confidence != nil {
		if *l.Confidence < 0 || *l.Confidence > 1 {
			return reads.Read{}, CodeInvalidValue, "confidence must be between 0 and 1"
		}
		r.Confidence = *l.Confidence
	}
	if l.Lane != nil {
		if *l.Lane < 0 || *l.Lane > 16 {
			return reads.Read{}, CodeInvalidValue, "lane must be between 0 and 16"
		}
		r.Lane = *l.Lane
	}
	r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
	return r, "", ""
}

func unknownField(err error) (string, bool) {
	const p = "json: unknown field "
	if s := err.Error(); strings.HasPrefix(s, p) {
		return strings.TrimPrefix(s, p), true
	}
	return "", false
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s must be %s, not %s", te.Field, te.Type, te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the line ends before the JSON object does (truncated?)"
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
