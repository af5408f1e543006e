package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// maxJSONBody bounds a JSON request body (searches, grants, keys); uploads have their own limits.
// The largest legitimate one, a search with 100 cameras and a 2000-character justification, is a
// few kilobytes.
const maxJSONBody = 64 << 10

// errBadBody is a request body that is not one well-formed JSON object of the expected shape.
var errBadBody = errors.New("invalid request body")

const ctxBody = "anpr.body"

// decodeJSON reads one JSON object from the body, refusing unknown fields, trailing data and
// bodies over maxJSONBody, each as an errBadBody naming the problem. The bytes are kept, so a
// permission's target function and the handler can both decode the same body.
func decodeJSON(c *gin.Context, v any) error {
	raw, ok := c.Get(ctxBody)
	if !ok {
		b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return fmt.Errorf("%w: body is larger than %d bytes", errBadBody, maxJSONBody)
			}
			return fmt.Errorf("%w: %v", errBadBody, err)
		}
		c.Set(ctxBody, b)
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw.([]byte)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errBadBody, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: one JSON object expected, found more after it", errBadBody)
	}
	return nil
}
