package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// contractCall sends req (whose body is body) with c, checking both sides against
// api/openapi.yaml: the request before it is sent, the response after. A test that sends a
// request breaking the document on purpose, to see the server refuse it too, sets
// requestBreaksDocument. It returns the response, already read and closed, and its body.
func contractCall(t *testing.T, router routers.Router, c *http.Client, req *http.Request, body string, requestBreaksDocument bool) (*http.Response, []byte) {
	t.Helper()
	ctx := req.Context()
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("no operation in the document for %s %s: %v", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{
		// Authentication is the server's business (and is tested elsewhere); here only the
		// shapes are checked.
		AuthenticationFunc:    func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && !requestBreaksDocument {
		t.Fatalf("%s %s: request does not match the document: %v", req.Method, req.URL.Path, err)
	}
	// Validation consumed the body; send a fresh one.
	req.Body = io.NopCloser(strings.NewReader(body))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(raw)), Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s: response %d does not match the document: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, raw)
	}
	return resp, raw
}
