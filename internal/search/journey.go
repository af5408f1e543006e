package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
)

// JourneyRequest asks for every read of one VRM in a window, oldest first.
type JourneyRequest struct {
	VRM     string
	From    time.Time
	To      time.Time
	Cameras []string
	Area    *geo.Area
	Reason  authz.Reason
	// AuthorityID presents a prior authority (needed for aged data).
	AuthorityID string
}

// Journey is a VRM's reads in time order with where each camera is, first and last seen, and the
// consecutive pairs that imply impossible travel.
type Journey struct {
	VRM   string     `json:"vrm"`
	Band  authz.Band `json:"band"`
	Stops []Stop     `json:"stops"`
	// FirstSeen and LastSeen are the oldest and newest stops; nil when there are none.
	FirstSeen *Stop `json:"first_seen,omitempty"`
	LastSeen  *Stop `json:"last_seen,omitempty"`
	// ImpossibleTravel lists consecutive stops whose implied speed exceeds MaxSpeedKPH: the same
	// plate on two vehicles (a cloned plate) or a misread.
	ImpossibleTravel []TravelFlag `json:"impossible_travel"`
	MaxSpeedKPH      float64      `json:"max_speed_kph"`
	// Truncated says the journey holds more reads than Config.MaxJourneyReads; only the oldest
	// are returned. Narrow the window to see the rest.
	Truncated bool         `json:"truncated"`
	Digest    audit.Digest `json:"digest"`
}

// Stop is one read of the journey with its camera's name and position.
type Stop struct {
	reads.Read
	CameraName string  `json:"camera_name"`
	Road       string  `json:"road,omitempty"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
}

// TravelFlag is a pair of consecutive reads the vehicle could not have made.
type TravelFlag struct {
	FromID     string  `json:"from_id"`
	ToID       string  `json:"to_id"`
	FromCamera string  `json:"from_camera"`
	ToCamera   string  `json:"to_camera"`
	DistanceKM float64 `json:"distance_km"`
	Seconds    float64 `json:"seconds"`
	// SpeedKPH is the implied speed. Reads at the same instant at different places have no finite
	// speed (JSON has no infinity): SpeedKPH is then 0 and Simultaneous true.
	SpeedKPH     float64 `json:"speed_kph"`
	Simultaneous bool    `json:"simultaneous,omitempty"`
}

// Journey returns the reads of one VRM in the window, oldest first, up to Config.MaxJourneyReads.
func (s *Service) Journey(ctx context.Context, c Caller, r JourneyRequest) (Journey, error) {
	q, err := s.check(ctx, TypeJourney, r.VRM, "", r.From, r.To, r.Cameras, r.Area, 0)
	if err != nil {
		return Journey{}, err
	}
	band := s.az.BandOf(q.from)
	reason := s.az.ReasonRules().Normalize(r.Reason)
	base := c.event(audit.ActionSearch)
	base.SearchType, base.Band = string(TypeJourney), bandNumber(band)
	base.Reason = audit.Reason{Purpose: clip(reason.Purpose, audit.MaxFieldLen), CaseRef: clip(reason.CaseRef, audit.MaxFieldLen), OffenceCode: clip(reason.OffenceCode, audit.MaxFieldLen)}
	payload := audit.Payload{VRMs: []string{q.value}, Query: q.text(), Justification: clip(reason.Justification, audit.MaxJustificationLen)}
	use := AuthorityUse{ID: r.AuthorityID, Subject: c.Subject, Type: TypeJourney, VRMs: []string{q.value}, Cameras: q.cameras, From: q.from, To: q.to}
	d, err := s.authorise(ctx, &base, payload, authz.Request{Subject: c.subject(), Action: authz.SearchJourney, Band: band, Reason: reason}, use, true)
	if err != nil {
		return Journey{}, err
	}
	base.Decision, base.Rule = audit.EffectAllow, d.Rule
	return audit.Run(ctx, s.log, base, payload, func(ctx context.Context) (Journey, audit.Outcome, error) {
		j, err := s.journey(ctx, q)
		if err != nil {
			return Journey{}, audit.Outcome{ErrorClass: errorClass(err)}, err
		}
		j.Band = band
		return j, audit.Outcome{Count: int64(len(j.Stops)), Digest: j.Digest}, nil
	})
}

func (s *Service) journey(ctx context.Context, q spec) (Journey, error) {
	byID, err := s.cameraIndex(ctx)
	if err != nil {
		return Journey{}, fmt.Errorf("journey: %w", err)
	}
	j := Journey{VRM: q.value, MaxSpeedKPH: s.cfg.MaxSpeedKPH, Stops: []Stop{}, ImpossibleTravel: []TravelFlag{}}
	max := s.cfg.MaxJourneyReads
	cursor := ""
	for {
		page, err := s.st.FindReads(ctx, q.query(reads.OldestFirst, min(reads.MaxPageSize, max+1-len(j.Stops)), cursor))
		if err != nil {
			return Journey{}, fmt.Errorf("journey: %w", err)
		}
		j.Stops = slices.Grow(j.Stops, len(page.Reads)) // one allocation per page, not log2(n)
		for _, rd := range page.Reads {
			if len(j.Stops) == max {
				j.Truncated = true
				break
			}
			cam := byID[rd.CameraID] // a read's camera is always registered; if not, no position
			j.Stops = append(j.Stops, Stop{Read: rd, CameraName: cam.Name, Road: cam.Road, Lat: cam.Lat, Lon: cam.Lon})
		}
		if j.Truncated || page.Next == "" {
			break
		}
		if err := ctx.Err(); err != nil {
			return Journey{}, fmt.Errorf("journey: %w", err)
		}
		cursor = page.Next
	}
	ids := make([]string, len(j.Stops))
	for i := range j.Stops {
		ids[i] = j.Stops[i].ID
		if i > 0 {
			if f, bad := impossible(j.Stops[i-1], j.Stops[i], s.cfg.MaxSpeedKPH); bad {
				j.ImpossibleTravel = append(j.ImpossibleTravel, f)
			}
		}
	}
	if n := len(j.Stops); n > 0 {
		first, last := j.Stops[0], j.Stops[n-1]
		j.FirstSeen, j.LastSeen = &first, &last
	}
	j.Digest = audit.DigestIDs(ids)
	return j, nil
}

// impossible reports whether a vehicle read at a and then at b would have had to travel faster
// than maxKPH. Reads at the same instant at different places are always impossible; reads at one
// camera never are (a camera can read a plate twice).
func impossible(a, b Stop, maxKPH float64) (TravelFlag, bool) {
	if a.CameraID == b.CameraID {
		return TravelFlag{}, false
	}
	km := haversineKM(a.Lat, a.Lon, b.Lat, b.Lon)
	secs := b.SeenAt.Sub(a.SeenAt).Seconds()
	f := TravelFlag{FromID: a.ID, ToID: b.ID, FromCamera: a.CameraID, ToCamera: b.CameraID,
		DistanceKM: math.Round(km*1000) / 1000, Seconds: secs}
	if secs <= 0 {
		if km == 0 {
			return TravelFlag{}, false // two cameras at one site (both directions of a road)
		}
		f.Simultaneous = true
		return f, true
	}
	f.SpeedKPH = math.Round(km/(secs/3600)*10) / 10
	return f, km/(secs/3600) > maxKPH
}

// haversineKM is the great-circle distance between two points in kilometres.
func haversineKM(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKM = 6371.0088
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Read returns one read record for a caller with a reason. The band is that of the read's time.
// A read that does not exist is judged as band 1 (where a caller's rights are widest), so a
// caller refused every search gets 403 for any id and learns nothing about which ids exist.
func (s *Service) Read(ctx context.Context, c Caller, id string, r authz.Reason) (reads.Read, error) {
	if !validReadID(id) {
		return reads.Read{}, invalid("read id %q is not 16 hexadecimal digits", clip(id, 40))
	}
	// Fetched to learn its band; nothing leaves before the decision and the intent event.
	rd, err := s.st.GetRead(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, reads.ErrNotFound) {
		return reads.Read{}, fmt.Errorf("read %s: %w", id, err)
	}
	band := authz.Band1
	if found {
		band = s.az.BandOf(rd.SeenAt)
	}
	reason := s.az.ReasonRules().Normalize(r)
	base := c.event(audit.ActionRecordView)
	base.Band = bandNumber(band)
	base.Reason = audit.Reason{Purpose: clip(reason.Purpose, audit.MaxFieldLen), CaseRef: clip(reason.CaseRef, audit.MaxFieldLen), OffenceCode: clip(reason.OffenceCode, audit.MaxFieldLen)}
	payload := audit.Payload{Query: "read " + id, Justification: clip(reason.Justification, audit.MaxJustificationLen)}
	if found {
		payload.VRMs = []string{rd.VRM}
	}
	d, err := s.decide(ctx, base, payload, authz.Request{Subject: c.subject(), Action: authz.ReadView, Band: band, Reason: reason})
	if err != nil {
		return reads.Read{}, err
	}
	base.Decision, base.Rule = audit.EffectAllow, d.Rule
	return audit.Run(ctx, s.log, base, payload, func(ctx context.Context) (reads.Read, audit.Outcome, error) {
		if !found {
			return reads.Read{}, audit.Outcome{ErrorClass: "not_found"}, fmt.Errorf("read %s: %w", id, reads.ErrNotFound)
		}
		return rd, audit.Outcome{Count: 1, Digest: audit.DigestIDs([]string{rd.ID})}, nil
	})
}

func validReadID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
