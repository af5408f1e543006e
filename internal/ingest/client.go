package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client uploads NDJSON to a portal's bulk endpoint in chunks of whole lines, retrying a chunk
// when the server says it is saturated (429) or briefly unavailable (503). Re-sending a chunk is
// safe because read ids are deterministic.
type Client struct {
	URL        string // base URL, e.g. http://127.0.0.1:8080
	APIKey     string
	HTTP       *http.Client
	ChunkLines int // lines per request
	MaxRetries int
	// Progress, if set, is called with the bytes sent so far after each chunk.
	Progress func(bytesSent int64)
}

// Upload sends everything from r and merges the per-chunk reports into one whose line numbers
// are those of the whole input.
func (c *Client) Upload(ctx context.Context, r io.Reader) (Report, error) {
	total := Report{Errors: []LineError{}}
	br := bufio.NewReaderSize(r, 1<<16)
	var buf bytes.Buffer
	var sent int64
	for {
		buf.Reset()
		lines := 0
		var err error
		for lines < c.ChunkLines {
			var line []byte
			line, err = br.ReadBytes('\n')
			if len(line) > 0 {
				buf.Write(line)
				lines++
			}
			if err != nil {
				break
			}
		}
		if err != nil && err != io.EOF {
			return total, fmt.Errorf("read input: %w", err)
		}
		if lines > 0 {
			rep, uerr := c.post(ctx, buf.Bytes())
			if uerr != nil {
				return total, fmt.Errorf("upload lines %d-%d: %w", total.Lines+1, total.Lines+int64(lines), uerr)
			}
			for _, e := range rep.Errors {
				e.Line += total.Lines
				total.Errors = append(total.Errors, e)
			}
			total.ErrorsTruncated = total.ErrorsTruncated || rep.ErrorsTruncated
			total.Lines += int64(lines)
			total.Accepted += rep.Accepted
			total.Inserted += rep.Inserted
			total.Duplicates += rep.Duplicates
			total.Rejected += rep.Rejected
			sent += int64(buf.Len())
			if c.Progress != nil {
				c.Progress(sent)
			}
		}
		if err == io.EOF {
			return total, nil
		}
	}
}

func (c *Client) post(ctx context.Context, body []byte) (Report, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/api/v1/reads:bulk", bytes.NewReader(body))
		if err != nil {
			return Report{}, err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return Report{}, err
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return Report{}, err
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			var rep Report
			if err := json.Unmarshal(raw, &rep); err != nil {
				return Report{}, fmt.Errorf("decode report: %w", err)
			}
			return rep, nil
		case (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < c.MaxRetries:
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return Report{}, ctx.Err()
			}
		default:
			var p struct {
				Detail string `json:"detail"`
				Code   string `json:"code"`
			}
			_ = json.Unmarshal(raw, &p)
			return Report{}, fmt.Errorf("server answered %s: %s (%s)", resp.Status, p.Detail, p.Code)
		}
	}
}
