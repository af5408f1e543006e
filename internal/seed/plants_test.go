package seed

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

type camIndex map[string]reads.Camera

func camerasByID() camIndex {
	m := camIndex{}
	for _, c := range Cameras(0) {
		m[c.ID] = c
	}
	return m
}

// speedKMH is the straight-line speed implied by two reads of one plate, the figure an
// impossible-travel check compares with a threshold.
func (ci camIndex) speedKMH(a, b reads.Read) float64 {
	ca, cb := ci[a.CameraID], ci[b.CameraID]
	km := haversineKM(ca.Lat, ca.Lon, cb.Lat, cb.Lon)
	h := b.SeenAt.Sub(a.SeenAt).Hours()
	if h <= 0 {
		if km < 0.1 {
			return 0
		}
		return 1e9
	}
	return km / h
}

func byVRM(all []reads.Read) map[string][]reads.Read {
	m := map[string][]reads.Read{}
	for _, r := range all {
		m[r.VRM] = append(m[r.VRM], r)
	}
	return m
}

// TestPlantedCases finds every planted case in the reads the way an investigator's query would,
// at the smallest size and at a larger one with another seed.
func TestPlantedCases(t *testing.T) {
	ci := camerasByID()
	var docs []string
	for _, cfg := range []Config{
		{Seed: 1, Reads: MinReads, Now: testNow},
		{Seed: 99, Reads: 150_000, Now: testNow},
	} {
		t.Run(fmt.Sprint(cfg.Reads), func(t *testing.T) {
			all, s := generate(t, cfg, 5000)
			v := byVRM(all)
			month := testNow.AddDate(0, 0, -30)

			// Convoy: the follower is 30-90 s behind the target at >= 6 distinct cameras, on at
			// least three evenings, all in the last 30 days.
			coCams := map[string]bool{}
			perDay := map[string]int{}
			for _, tr := range v[ConvoyTargetVRM] {
				for _, fr := range v[ConvoyFollowerVRM] {
					gap := fr.SeenAt.Sub(tr.SeenAt)
					if fr.CameraID == tr.CameraID && gap >= 30*time.Second && gap <= 90*time.Second {
						if tr.SeenAt.Before(month) {
							t.Errorf("convoy read %s older than 30 days", tr.SeenAt)
						}
						coCams[tr.CameraID] = true
						perDay[tr.SeenAt.Format(time.DateOnly)]++
					}
				}
			}
			days := 0
			for _, n := range perDay {
				if n >= 6 {
					days++
				}
			}
			if len(coCams) < 6 || days < 3 {
				t.Errorf("convoy: together at %d cameras, on %d days with >= 6 (%v)", len(coCams), days, perDay)
			}
			if len(v[ConvoyTargetVRM]) <= len(coCams) || len(v[ConvoyFollowerVRM]) <= len(coCams) {
				t.Error("convoy vehicles have no reads of their own")
			}

			// Clone: two reads of one plate 25+ km apart within minutes, faster than 200 km/h.
			found := false
			cl := v[CloneVRM]
			for i := range cl {
				for j := i + 1; j < len(cl) && cl[j].SeenAt.Sub(cl[i].SeenAt) < 15*time.Minute; j++ {
					a, b := ci[cl[i].CameraID], ci[cl[j].CameraID]
					if haversineKM(a.Lat, a.Lon, b.Lat, b.Lon) >= 25 && ci.speedKMH(cl[i], cl[j]) > 200 && !cl[i].SeenAt.Before(month) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("clone: no impossible pair among %d reads of %s", len(cl), CloneVRM)
			}

			// Misreads: the wrong plates exist, with low confidence and the true plate's skeleton.
			for _, m := range []string{MisreadZeroVRM, MisreadEightVRM} {
				if len(v[m]) == 0 {
					t.Errorf("misread %s: no reads", m)
				}
				for _, r := range v[m] {
					if r.Confidence >= 0.8 || r.Skeleton != plate.Skeleton(MisreadVRM) {
						t.Errorf("misread %s: confidence %v skeleton %s", m, r.Confidence, r.Skeleton)
					}
				}
			}
			if len(v[MisreadVRM]) < 20 {
				t.Errorf("misread: true plate has %d reads", len(v[MisreadVRM]))
			}

			// Aged: reads in every band.
			var bands [3]int
			for _, r := range v[AgedVRM] {
				switch age := testNow.Sub(r.SeenAt); {
				case age < 91*24*time.Hour:
					bands[0]++
				case r.SeenAt.After(testNow.AddDate(-1, 0, 0)):
					bands[1]++
				default:
					bands[2]++
				}
			}
			if slices.Contains(bands[:], 0) {
				t.Errorf("aged: reads per band %v", bands)
			}

			// The summary documents all four, naming cameras and times that are in the data.
			var kinds []string
			for _, p := range s.Plants {
				kinds = append(kinds, p.Kind)
				if len(p.VRMs) == 0 || len(p.Cameras) == 0 || p.From.IsZero() || p.To.Before(p.From) || p.Description == "" {
					t.Errorf("plant %s incomplete: %+v", p.Kind, p)
				}
			}
			if want := []string{"convoy", "clone", "misread", "aged"}; !slices.Equal(kinds, want) {
				t.Errorf("plants %v, want %v", kinds, want)
			}
			clone := s.Plants[1]
			var pair []reads.Read
			for _, r := range cl {
				if (r.CameraID == clone.Cameras[0] && r.SeenAt.Equal(clone.From)) || (r.CameraID == clone.Cameras[1] && r.SeenAt.Equal(clone.To)) {
					pair = append(pair, r)
				}
			}
			if len(pair) != 2 || ci.speedKMH(pair[0], pair[1]) < 200 {
				t.Errorf("documented clone pair not in the data: %v", pair)
			}
			var buf bytes.Buffer
			s.Describe(&buf)
			for _, want := range []string{ConvoyTargetVRM, ConvoyFollowerVRM, CloneVRM, MisreadVRM, MisreadZeroVRM, MisreadEightVRM, AgedVRM, BandRecent, BandYear, BandOld, "km/h"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("Describe does not mention %s:\n%s", want, buf.String())
				}
			}
			var plants strings.Builder
			for _, p := range s.Plants {
				fmt.Fprintf(&plants, "%v\n", p)
			}
			docs = append(docs, plants.String())
		})
	}
	if len(docs) == 2 && docs[0] != docs[1] {
		t.Errorf("planted cases depend on size or seed:\n%s\n%s", docs[0], docs[1])
	}
}

// TestOnlyTheCloneTravelsImpossibly checks every pair of consecutive reads of every plate: the
// planted clone must be the only plate an impossible-travel check (150 km/h) flags.
func TestOnlyTheCloneTravelsImpossibly(t *testing.T) {
	ci := camerasByID()
	all, _ := generate(t, Config{Seed: 5, Reads: 300_000, Now: testNow}, 5000)
	flagged := map[string]int{}
	var fastest float64
	var pairs int
	for vrm, rs := range byVRM(all) {
		for i := 1; i < len(rs); i++ {
			pairs++
			sp := ci.speedKMH(rs[i-1], rs[i])
			if sp > 150 {
				flagged[vrm]++
			} else if vrm != CloneVRM {
				fastest = max(fastest, sp)
			}
		}
	}
	if len(flagged) != 1 || flagged[CloneVRM] == 0 {
		t.Errorf("plates flagged for impossible travel: %v, want only %s", flagged, CloneVRM)
	}
	t.Logf("%d consecutive pairs; fastest ordinary %.0f km/h", pairs, fastest)
}

// TestOrdinaryMisreads: ordinary plates are occasionally misread; a misread is never a plate
// any vehicle really carries, is read with low confidence and shares its true plate's skeleton.
func TestOrdinaryMisreads(t *testing.T) {
	all, _ := generate(t, Config{Seed: 11, Reads: 200_000, Now: testNow}, 5000)
	v := byVRM(all)
	skeletons := map[string][]string{}
	for vrm, rs := range v {
		if rs[0].Confidence >= 0.86 {
			skeletons[rs[0].Skeleton] = append(skeletons[rs[0].Skeleton], vrm)
		}
	}
	misreads, withTrue := 0, 0
	for vrm, rs := range v {
		low := 0
		for _, r := range rs {
			if r.Confidence < 0.8 {
				low++
			}
		}
		if low != 0 && low != len(rs) {
			t.Errorf("%s is read both as a misread and as a real plate", vrm)
		}
		if low == 0 || vrm == MisreadZeroVRM || vrm == MisreadEightVRM {
			continue
		}
		misreads++
		if len(skeletons[rs[0].Skeleton]) > 0 {
			withTrue++
		}
	}
	if misreads < 100 || withTrue < misreads/2 {
		t.Errorf("%d misread plates, %d with their true plate in the data", misreads, withTrue)
	}
}
