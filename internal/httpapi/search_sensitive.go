package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
)

// Bodies and handlers of the convoy, multi-location and histogram searches and of the camera
// list. Like the other searches they only parse, call one service method and render: the service
// decides (with the authority presented), audits and queries.

func (b searchBody) request() search.Request {
	return search.Request{VRM: b.VRM, Pattern: b.Pattern, From: b.From, To: b.To, Cameras: b.Cameras, Area: b.Area,
		Limit: b.Limit, Cursor: b.Cursor, Reason: b.Reason, AuthorityID: b.AuthorityID}
}

func (b journeyBody) request() search.JourneyRequest {
	return search.JourneyRequest{VRM: b.VRM, From: b.From, To: b.To, Cameras: b.Cameras, Area: b.Area, Reason: b.Reason, AuthorityID: b.AuthorityID}
}

// convoyBody is the JSON body of POST /api/v1/searches/convoy.
type convoyBody struct {
	VRM           string       `json:"vrm"`
	From          time.Time    `json:"from"`
	To            time.Time    `json:"to"`
	WithinSeconds int          `json:"within_seconds"`
	MinCameras    int          `json:"min_cameras"`
	Cameras       []string     `json:"cameras"`
	Area          *geo.Area    `json:"area"`
	Limit         int          `json:"limit"`
	Reason        authz.Reason `json:"reason"`
	AuthorityID   string       `json:"authority_id"`
}

func (b convoyBody) request() search.ConvoyRequest {
	return search.ConvoyRequest{VRM: b.VRM, From: b.From, To: b.To, WithinSeconds: b.WithinSeconds, MinCameras: b.MinCameras,
		Cameras: b.Cameras, Area: b.Area, Limit: b.Limit, Reason: b.Reason, AuthorityID: b.AuthorityID}
}

// placeBody is one (place, window) of a multi-location search.
type placeBody struct {
	Cameras []string  `json:"cameras"`
	Area    *geo.Area `json:"area"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
}

// multiBody is the JSON body of POST /api/v1/searches/multi-location.
type multiBody struct {
	Places      []placeBody  `json:"places"`
	Limit       int          `json:"limit"`
	Reason      authz.Reason `json:"reason"`
	AuthorityID string       `json:"authority_id"`
}

func (b multiBody) request() search.MultiLocationRequest {
	r := search.MultiLocationRequest{Limit: b.Limit, Reason: b.Reason, AuthorityID: b.AuthorityID}
	for _, p := range b.Places {
		r.Places = append(r.Places, search.PlaceRequest{Cameras: p.Cameras, Area: p.Area, From: p.From, To: p.To})
	}
	return r
}

// The histogram bodies are the search's body plus the bucket interval.
type (
	searchHistogramBody struct {
		searchBody
		Interval reads.Interval `json:"interval"`
	}
	journeyHistogramBody struct {
		journeyBody
		Interval reads.Interval `json:"interval"`
	}
	convoyHistogramBody struct {
		convoyBody
		Interval reads.Interval `json:"interval"`
	}
	multiHistogramBody struct {
		multiBody
		Interval reads.Interval `json:"interval"`
	}
)

func (s *Server) searchConvoy(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	var b convoyBody
	if err := decodeJSON(c, &b); err != nil {
		searchError(c, err)
		return
	}
	res, err := svc.Convoy(c.Request.Context(), caller(c), b.request())
	if err != nil {
		searchError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *Server) searchMultiLocation(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	var b multiBody
	if err := decodeJSON(c, &b); err != nil {
		searchError(c, err)
		return
	}
	res, err := svc.MultiLocation(c.Request.Context(), caller(c), b.request())
	if err != nil {
		searchError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// searchHistogram is POST /api/v1/searches/:type/histogram: the body of that search type plus
// "interval".
func (s *Server) searchHistogram(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	ctx, who := c.Request.Context(), caller(c)
	var (
		h   search.Histogram
		err error
	)
	switch t := search.Type(c.Param("type")); t {
	case search.TypeExact, search.TypePartial, search.TypeMisread, search.TypeArea:
		var b searchHistogramBody
		if err = decodeJSON(c, &b); err == nil {
			h, err = svc.Histogram(ctx, who, t, b.request(), b.Interval)
		}
	case search.TypeJourney:
		var b journeyHistogramBody
		if err = decodeJSON(c, &b); err == nil {
			j := b.request()
			h, err = svc.Histogram(ctx, who, t, search.Request{VRM: j.VRM, From: j.From, To: j.To, Cameras: j.Cameras, Area: j.Area, Reason: j.Reason, AuthorityID: j.AuthorityID}, b.Interval)
		}
	case search.TypeConvoy:
		var b convoyHistogramBody
		if err = decodeJSON(c, &b); err == nil {
			h, err = svc.ConvoyHistogram(ctx, who, b.request(), b.Interval)
		}
	case "multi-location", search.TypeMultiLocation:
		var b multiHistogramBody
		if err = decodeJSON(c, &b); err == nil {
			h, err = svc.MultiLocationHistogram(ctx, who, b.request(), b.Interval)
		}
	default:
		abortProblem(c, http.StatusNotFound, CodeNotFound, "no search type "+clipText(string(t), 40)+"; histograms exist for exact, partial, misread, journey, area, convoy and multi-location", nil)
		return
	}
	if err != nil {
		searchError(c, err)
		return
	}
	c.JSON(http.StatusOK, h)
}

// listCameras is GET /api/v1/cameras: the registry for the search form's pickers and maps.
// Camera ids, names and positions are public infrastructure, not personal data, so the list is
// open to any signed-in user and not audited (a search naming cameras is).
func (s *Server) listCameras(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	cams, err := svc.Cameras(c.Request.Context())
	if err != nil {
		searchError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"cameras": cams})
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
