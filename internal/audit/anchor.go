package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
)

// Anchor keeps signed checkpoints outside the audit store, so that someone who can rewrite the
// store (cut its tail, rebuild it) is caught: Verify requires the store to still contain the
// anchor's latest checkpoint. Publish must be durable when it returns.
type Anchor interface {
	Publish(ctx context.Context, checkpoint []byte) error
	// Latest returns the newest published checkpoint note, or nil when none was published.
	Latest(ctx context.Context) ([]byte, error)
}

// maxNote bounds one checkpoint note as anchors read it back; real ones are a few hundred bytes.
const maxNote = 64 << 10

// FileAnchor appends checkpoints to a file, one JSON object a line ({"note": "..."}), fsynced on
// every publish. Put the file where the database's writer cannot rewrite it (another volume or
// owner) for it to be worth anything; by default it sits beside the database.
type FileAnchor struct {
	path string
	mu   sync.Mutex
}

// NewFileAnchor anchors to the file at path, created on first publish.
func NewFileAnchor(path string) *FileAnchor { return &FileAnchor{path: path} }

// Path is the anchor file.
func (a *FileAnchor) Path() string { return a.path }

type anchorLine struct {
	Note string `json:"note"`
}

// Publish appends one checkpoint and syncs the file.
func (a *FileAnchor) Publish(ctx context.Context, checkpoint []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("anchor checkpoint: %w", err)
	}
	line, err := json.Marshal(anchorLine{Note: string(checkpoint)})
	if err != nil {
		return fmt.Errorf("anchor checkpoint: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.OpenFile(a.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("anchor checkpoint to %s: %w", a.path, err)
	}
	defer f.Close()
	// A crash mid-write can leave a line without its newline; start on a fresh line so the torn
	// one stays a torn line instead of corrupting this one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], st.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("anchor checkpoint to %s: %w", a.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("anchor checkpoint to %s: %w", a.path, err)
	}
	return nil
}

// Latest reads the last complete line. A trailing partial line is a publish that never returned
// and is ignored; a complete line that does not parse means the file was edited, which is an
// error.
func (a *FileAnchor) Latest(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read anchor: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.Open(a.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read anchor %s: %w", a.path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read anchor %s: %w", a.path, err)
	}
	// Only the tail matters: the file grows for the life of the log.
	start := max(st.Size()-2*maxNote, 0)
	tail := make([]byte, st.Size()-start)
	if _, err := f.ReadAt(tail, start); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read anchor %s: %w", a.path, err)
	}
	end := bytes.LastIndexByte(tail, '\n')
	if end < 0 {
		return nil, nil
	}
	tail = tail[:end]
	line := tail[bytes.LastIndexByte(tail, '\n')+1:]
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, fmt.Errorf("read anchor %s: last line is empty", a.path)
	}
	var l anchorLine
	if err := json.Unmarshal(line, &l); err != nil || l.Note == "" {
		return nil, fmt.Errorf("read anchor %s: last line is not a checkpoint", a.path)
	}
	return []byte(l.Note), nil
}

// HTTPWitness publishes checkpoints to a witness service: POST <URL> with the signed note as a
// text/plain body (any 2xx is acceptance), and GET <URL> returns the newest note it accepted
// (404 before the first). A real witness also checks signatures and consistency before it
// accepts; this client only carries the notes.
type HTTPWitness struct {
	URL    string
	Client *http.Client // nil: http.DefaultClient; set a timeout in production
}

func (w HTTPWitness) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return http.DefaultClient
}

// Publish posts one checkpoint.
func (w HTTPWitness) Publish(ctx context.Context, checkpoint []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(checkpoint))
	if err != nil {
		return fmt.Errorf("publish checkpoint to witness: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := w.client().Do(req)
	if err != nil {
		return fmt.Errorf("publish checkpoint to witness: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxNote))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("publish checkpoint to witness %s: %s", w.URL, resp.Status)
	}
	return nil
}

// Latest fetches the witness's newest checkpoint.
func (w HTTPWitness) Latest(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("read witness: %w", err)
	}
	resp, err := w.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("read witness: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read witness %s: %s", w.URL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxNote+1))
	if err != nil {
		return nil, fmt.Errorf("read witness %s: %w", w.URL, err)
	}
	if len(b) > maxNote {
		return nil, fmt.Errorf("read witness %s: checkpoint larger than %d bytes", w.URL, maxNote)
	}
	return b, nil
}
