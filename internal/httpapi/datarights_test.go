package httpapi_test

import (
	"net/http"
	"testing"
)

const dpReason = `"reason":{"purpose":"data_protection","case_ref":"DP/0042/26","justification":"the registered keeper proved with photographs that the camera misread the plate"}`

// The holds, retention and data rights routes are the ANPR manager's: any other caller (here a
// camera feed's API key) is refused by the policy, and each refusal is audited with its rule,
// before any service runs. The investigator's refusals, through a real login, are in api/.
func TestHoldRetentionEraseCorrectSubjectRefusedAndAudited(t *testing.T) {
	h := newHarness(t, 2)
	for _, r := range []struct{ method, path, action, body string }{
		{"GET", "/api/v1/holds", "admin.holds", ""},
		{"POST", "/api/v1/holds", "admin.holds", `{"case_ref":"OP/1/26","scope":{"vrms":["AB12CDE"]},"review_at":"2030-01-01T00:00:00Z"}`},
		{"POST", "/api/v1/holds/hold_x/release", "admin.holds", `{"reason":"the case is closed and the appeal period is over"}`},
		{"GET", "/api/v1/retention/runs", "admin.retention", ""},
		{"POST", "/api/v1/retention/runs", "admin.retention", ""},
		{"POST", "/api/v1/reads/0123456789abcdef/correct", "data.correct", `{"vrm":"AB12CDE",` + dpReason + `}`},
		{"POST", "/api/v1/reads/0123456789abcdef/erase", "data.erase", `{` + dpReason + `}`},
		{"POST", "/api/v1/subject-access", "sar.report", `{"vrm":"AB12CDE","from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z",` + dpReason + `}`},
	} {
		code, body := h.do(t, r.method, r.path, h.key, r.body)
		if code != http.StatusForbidden || body["code"] != "forbidden" {
			t.Errorf("%s %s: %d %v", r.method, r.path, code, body)
		}
	}
	for action, want := range map[string]int{"admin.holds": 3, "admin.retention": 2, "data.correct": 1, "data.erase": 1, "sar.report": 1} {
		ds := h.denials(t, action)
		if len(ds) != want {
			t.Errorf("%s: %d audited refusals, want %d", action, len(ds), want)
		}
		for _, d := range ds {
			if d.Event.Rule == "" || d.Event.Actor.Subject == "" {
				t.Errorf("%s: refusal without rule or actor: %+v", action, d.Event)
			}
		}
	}
	// A malformed body is a bad request, not a refusal: the policy never sees a half-read reason.
	if code, body := h.do(t, "POST", "/api/v1/reads/0123456789abcdef/erase", h.key, `{"reason":{"purpose":1}}`); code != http.StatusBadRequest {
		t.Errorf("malformed erase body: %d %v", code, body)
	}
}
