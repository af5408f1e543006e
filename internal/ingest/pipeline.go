package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// ErrBodyTooLarge means the upload exceeded the body limit. Lines before the limit were handled
// as usual; nothing after it was read.
var ErrBodyTooLarge = errors.New("upload exceeds the body size limit")

// Report is what an upload did, line by line. Lines = Accepted + Rejected + blank lines.
type Report struct {
	Lines      int64 `json:"lines"`
	Accepted   int64 `json:"accepted"`
	Inserted   int64 `json:"inserted"`
	Duplicates int64 `json:"duplicates"`
	Rejected   int64 `json:"rejected"`
	// Errors lists the rejected lines, up to the configured maximum; ErrorsTruncated says more were
	// rejected than listed (Rejected is always the full count).
	Errors          []LineError `json:"errors"`
	ErrorsTruncated bool        `json:"errors_truncated"`
}

// Pipeline runs one upload: read lines, validate, batch, hand to the writer, wait for every batch.
type Pipeline struct {
	Validator    *Validator
	Writer       *Writer
	BatchSize    int
	MaxLineBytes int
	MaxErrors    int
	// SubmitWait bounds how long a full queue may stall an upload midway before it fails with
	// ErrSaturated; the client re-sends, and idempotent ids make the re-send add nothing twice.
	SubmitWait time.Duration
	// Progress, if set, is called with the bytes read so far after each batch.
	Progress func(bytesRead int64)
}

// Run reads NDJSON from r until EOF. It returns the report and, if the upload could not be
// completed (body too large, writer saturated or failed, ctx ended), an error; reads in batches
// that were stored before the error stay stored.
func (p *Pipeline) Run(ctx context.Context, r io.Reader) (Report, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, p.MaxLineBytes+1)
	rep := Report{Errors: []LineError{}}
	var tickets []*Ticket
	batch := make([]reads.Read, 0, p.BatchSize)

	reject := func(line int64, code, msg string) {
		rep.Rejected++
		if len(rep.Errors) < p.MaxErrors {
			rep.Errors = append(rep.Errors, LineError{Line: line, Code: code, Message: msg})
		} else {
			rep.ErrorsTruncated = true
		}
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		sctx, cancel := context.WithTimeout(ctx, p.SubmitWait)
		t, err := p.Writer.Submit(sctx, batch)
		cancel()
		if err != nil {
			return err
		}
		tickets = append(tickets, t)
		batch = make([]reads.Read, 0, p.BatchSize)
		// Collect finished tickets so a long upload holds only the batches still in flight.
		tickets, err = p.collect(ctx, tickets, &rep, false)
		if p.Progress != nil {
			p.Progress(cr.n)
		}
		return err
	}

	var runErr error
	for {
		line, tooLong, err := readLine(br)
		// A line exists if it has bytes or ended in a newline; only the empty tail after the last
		// newline is not a line.
		if len(line) > 0 || tooLong || err == nil {
			rep.Lines++
			switch {
			case tooLong:
				reject(rep.Lines, CodeLineTooLong, fmt.Sprintf("line is longer than %d bytes", p.MaxLineBytes))
			case isBlank(line):
				// Blank lines are allowed between records (many writers end with one); they count as
				// lines so numbers match the client's editor, but are neither accepted nor rejected.
			default:
				read, code, msg := p.Validator.Parse(line)
				if code != "" {
					reject(rep.Lines, code, msg)
				} else {
					batch = append(batch, read)
					rep.Accepted++
				}
			}
			if len(batch) >= p.BatchSize {
				if runErr = flush(); runErr != nil {
					break
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				runErr = fmt.Errorf("%w (%d bytes); lines up to %d were read", ErrBodyTooLarge, mbe.Limit, rep.Lines)
			} else {
				runErr = fmt.Errorf("read upload after line %d: %w", rep.Lines, err)
			}
			break
		}
	}
	if runErr == nil {
		runErr = flush()
	}
	// Wait for everything handed to the writer, even on error, so the report is true.
	_, werr := p.collect(ctx, tickets, &rep, true)
	if runErr == nil {
		runErr = werr
	}
	if runErr != nil {
		// Accepted lines that never reached a committed batch are not stored; say so by count.
		rep.Accepted = rep.Inserted + rep.Duplicates
	}
	return rep, runErr
}

// collect folds finished tickets into the report; with wait it waits for all of them.
func (p *Pipeline) collect(ctx context.Context, tickets []*Ticket, rep *Report, wait bool) ([]*Ticket, error) {
	var firstErr error
	rest := tickets[:0]
	for _, t := range tickets {
		if !wait {
			select {
			case <-t.done:
			default:
				rest = append(rest, t)
				continue
			}
		}
		res, err := t.Wait(ctx)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		rep.Inserted += int64(res.Inserted)
		rep.Duplicates += int64(res.Duplicates)
	}
	return rest, firstErr
}

// readLine returns the next line without its newline. A line longer than the buffer is discarded
// to its end and reported with tooLong, so one bad line costs bounded memory.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	line, err = br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
		return nil, true, err
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, false, err
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
