package seed

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// plantDocs turns the planted reads recorded during generation into Plant descriptions.
func (g *gen) plantDocs() []Plant {
	p := &g.pl
	var out []Plant
	if len(p.convoyFollower) > 0 {
		cams := g.distinctCams(p.convoyFollower)
		var days []string
		for _, rd := range p.convoyFollower {
			if d := dayString(rd.t); !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
		out = append(out, Plant{
			Kind: "convoy",
			Description: fmt.Sprintf("%s is followed by %s, 32-85 s behind, past %d cameras on %d evenings (%s); "+
				"each evening they pass at least 6 cameras together. Both also drive alone on other days.",
				ConvoyTargetVRM, ConvoyFollowerVRM, len(cams), len(days), strings.Join(days, ", ")),
			VRMs:    []string{ConvoyTargetVRM, ConvoyFollowerVRM},
			Cameras: cams,
			From:    ms(p.convoyTarget[0].t),
			To:      ms(p.convoyFollower[len(p.convoyFollower)-1].t),
		})
	}
	if a, b := p.clonePair[0], p.clonePair[1]; b.t != 0 {
		ca, cb := g.nw.cams[a.cam], g.nw.cams[b.cam]
		// Site positions rather than camera positions, which the seed nudges, so the text is the
		// same for every seed.
		sa, sb := g.nw.sites[g.nw.camSite[a.cam]], g.nw.sites[g.nw.camSite[b.cam]]
		km := haversineKM(sa.lat, sa.lon, sb.lat, sb.lon)
		dt := time.Duration(b.t-a.t) * time.Millisecond
		out = append(out, Plant{
			Kind: "clone",
			Description: fmt.Sprintf("%s is read at %s (%s) at %s and at %s (%s) %s later, %.1f km away: %.0f km/h. "+
				"The genuine car commutes on the A40 every weekday; a clone with the same plate drives the A2 on %d weekdays in the last 30 days.",
				CloneVRM, ca.ID, ca.Name, ms(a.t).Format(time.RFC3339), cb.ID, cb.Name, dt, km,
				km/dt.Hours(), p.cloneDaysSeen),
			VRMs:    []string{CloneVRM},
			Cameras: []string{ca.ID, cb.ID},
			From:    ms(a.t),
			To:      ms(b.t),
		})
	}
	if len(p.misreads) > 0 {
		var zero, eight int
		for _, rd := range p.misreads {
			if rd.veh == vehMisreadZero {
				zero++
			} else {
				eight++
			}
		}
		out = append(out, Plant{
			Kind: "misread",
			Description: fmt.Sprintf("%s commutes on the A3 every weekday; %d of its reads came out as %s (D read as 0) and %d as %s (B read as 8), "+
				"with confidence 0.55-0.79 against 0.86-0.99 for good reads. All three share one misread skeleton.",
				MisreadVRM, zero, MisreadZeroVRM, eight, MisreadEightVRM),
			VRMs:    []string{MisreadVRM, MisreadZeroVRM, MisreadEightVRM},
			Cameras: g.distinctCams(p.misreads),
			From:    ms(p.misreads[0].t),
			To:      ms(p.misreads[len(p.misreads)-1].t),
		})
	}
	if len(p.aged) > 0 {
		e := newBandCounter(g)
		for _, rd := range p.aged {
			e.count(rd.t)
		}
		out = append(out, Plant{
			Kind: "aged",
			Description: fmt.Sprintf("%s drives the A406 from Chiswick to Brent Cross and back on three days: %d reads are %s old, %d are %s and %d are %s.",
				AgedVRM, e.bands[0], BandRecent, e.bands[1], BandYear, e.bands[2], BandOld),
			VRMs:    []string{AgedVRM},
			Cameras: g.distinctCams(p.aged),
			From:    ms(p.aged[0].t),
			To:      ms(p.aged[len(p.aged)-1].t),
		})
	}
	return out
}

type bandCounter struct {
	recentMS, yearMS int64
	bands            [3]int64
}

func newBandCounter(g *gen) *bandCounter {
	return &bandCounter{recentMS: g.nowMS - 91*msPerDay + 1, yearMS: g.cfg.Now.AddDate(-1, 0, 0).UnixMilli()}
}

func (b *bandCounter) count(t int64) {
	switch {
	case t >= b.recentMS:
		b.bands[0]++
	case t >= b.yearMS:
		b.bands[1]++
	default:
		b.bands[2]++
	}
}

func (g *gen) distinctCams(rs []read) []string {
	var out []string
	for _, rd := range rs {
		if id := g.nw.cams[rd.cam].ID; !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func ms(t int64) time.Time { return time.UnixMilli(t).UTC() }

func dayString(t int64) string { return ms(t).Format("2006-01-02") }

// Describe writes a human description of what was generated and of every planted case, for the
// CLI and the README. Write errors are the writer's to report (a bufio.Writer or a terminal).
func (s Summary) Describe(w io.Writer) {
	fmt.Fprintf(w, "Synthetic London ANPR data, seed %d, clock %s\n", s.Seed, s.Now.Format(time.RFC3339))
	fmt.Fprintf(w, "  %s reads from %s to %s, %d cameras, %s vehicles\n",
		thousands(s.Reads), s.From.Format(time.RFC3339), s.To.Format(time.RFC3339), s.Cameras, thousands(int64(s.Vehicles)))
	fmt.Fprintf(w, "  by data age: %s %s, %s %s, %s %s\n",
		BandRecent, thousands(s.Bands[BandRecent]), BandYear, thousands(s.Bands[BandYear]), BandOld, thousands(s.Bands[BandOld]))
	fmt.Fprintf(w, "  about %d in 1000 ordinary reads are misread (one character swapped for its look-alike)\n", misreadPerMille)
	if len(s.Plants) == 0 {
		return
	}
	fmt.Fprintf(w, "Planted cases:\n")
	for _, p := range s.Plants {
		fmt.Fprintf(w, "  %s: %s\n", p.Kind, p.Description)
		fmt.Fprintf(w, "    plates:  %s\n", strings.Join(p.VRMs, ", "))
		fmt.Fprintf(w, "    cameras: %s\n", strings.Join(p.Cameras, ", "))
		fmt.Fprintf(w, "    from %s to %s\n", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	}
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
