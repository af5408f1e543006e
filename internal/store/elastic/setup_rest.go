package elastic

// The raw REST calls setup makes for APIs the typed client does not cover (ILM, security, data
// streams, component templates), and the JSON helpers that compare definitions by digest.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// call sends one request through the client (its auth, retries and product check) and returns
// the status and body. Statuses are the caller's business; only transport failures are errors.
func (s *Store) call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "/"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.es.Perform(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, raw, err
}

// send is call for writes that must succeed.
func (s *Store) send(ctx context.Context, method, path string, body any) error {
	return s.sendInto(ctx, method, path, body, nil)
}

func (s *Store) sendInto(ctx context.Context, method, path string, body, into any) error {
	st, raw, err := s.call(ctx, method, path, body)
	if err != nil {
		return unavailable(err)
	}
	if st < 200 || st > 299 {
		return fmt.Errorf("%s: %s", http.StatusText(st), short(raw))
	}
	if into != nil {
		return json.Unmarshal(raw, into)
	}
	return nil
}

func short(raw []byte) string {
	if len(raw) > 500 {
		return string(raw[:500]) + "..."
	}
	return string(raw)
}

// digestOf is the SHA-256 of the definition's JSON (encoding/json sorts map keys, so equal
// definitions give equal digests).
func digestOf(body map[string]any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("elastic setup: encode definition: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// dig walks decoded JSON by object keys and array indices ("0", "1", ...).
func dig(raw []byte, path ...string) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	for _, p := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// setPath returns a deep copy of body with value at path, creating objects on the way.
func setPath(body map[string]any, path []string, value any) map[string]any {
	var cp map[string]any
	b, _ := json.Marshal(body)
	_ = json.Unmarshal(b, &cp)
	m := cp
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = value
	return cp
}
