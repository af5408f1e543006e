package seed

import (
	"regexp"
	"slices"
	"testing"

	"github.com/anpr-portal/anpr/internal/plate"
)

var formats = map[string]*regexp.Regexp{
	"current": regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z]{3}$`),
	"prefix":  regexp.MustCompile(`^[A-Z][139][0-9]{2}[A-Z]{3}$`),
	"suffix":  regexp.MustCompile(`^[A-Z]{3}[0-9]{3}[A-Z]$`),
	"german":  regexp.MustCompile(`^[A-Z]{3}[0-9]{4}$`),
	"irish":   regexp.MustCompile(`^[0-9]{2}[A-Z][0-9]{4}$`),
	"dutch":   regexp.MustCompile(`^[A-Z]{2}[0-9]{3}[A-Z]$`),
}

func formatOf(p string) string {
	for name, re := range formats {
		if re.MatchString(p) {
			return name
		}
	}
	return ""
}

// TestPlatesAreUniqueValidAndNeverMisreadIntoEachOther checks the properties the generator's
// honesty rests on: no two vehicles share a plate, every plate is one plate.Normalize keeps as
// it is, and no misread of one plate is another plate or another plate's misread.
func TestPlatesAreUniqueValidAndNeverMisreadIntoEachOther(t *testing.T) {
	const n = 150_000
	pm := newPlateMaker(42, reservedVRMs)
	owner := make(map[string]int, 4*n)
	count := map[string]int{}
	var buf []byte
	for i := range n {
		var current bool
		buf, current = pm.appendPlate(buf[:0], uint64(i))
		p := string(buf)
		if got, err := plate.Normalize(p); err != nil || got != p {
			t.Fatalf("plate %d %q normalises to %q, %v", i, p, got, err)
		}
		f := formatOf(p)
		if f == "" || (f == "current") != current {
			t.Fatalf("plate %d %q has format %q, current=%v", i, p, f, current)
		}
		count[f]++
		if j, dup := owner[p]; dup {
			t.Fatalf("vehicles %d and %d share plate %s", j, i, p)
		}
		owner[p] = i
		if slices.Contains(reservedVRMs, p) {
			t.Fatalf("vehicle %d has planted plate %s", i, p)
		}
	}
	if count["current"] < n*8/10 || count["prefix"] == 0 || count["suffix"] == 0 || count["german"]+count["irish"]+count["dutch"] == 0 {
		t.Errorf("format mix %v", count)
	}
	misreadOf := map[string]string{}
	for p := range owner {
		if formatOf(p) != "current" {
			continue
		}
		for _, m := range allMisreads(p) {
			if _, real := owner[m]; real {
				t.Fatalf("%s misreads as %s, a real plate", p, m)
			}
			if q, ok := misreadOf[m]; ok {
				t.Fatalf("%s and %s both misread as %s", p, q, m)
			}
			misreadOf[m] = p
			if plate.Skeleton(m) != plate.Skeleton(p) {
				t.Fatalf("misread %s of %s has another skeleton", m, p)
			}
		}
	}
	if got := allMisreads(MisreadVRM); !slices.Contains(got, MisreadZeroVRM) || !slices.Contains(got, MisreadEightVRM) {
		t.Errorf("misreads of %s are %v", MisreadVRM, got)
	}
}

// allMisreads returns every misread misread can make of p.
func allMisreads(p string) []string {
	var out []string
	for h := range uint64(7) {
		b := []byte(p)
		if misread(b, h) && !slices.Contains(out, string(b)) {
			out = append(out, string(b))
		}
	}
	return out
}

func TestPlantedPlateIsNeverReissued(t *testing.T) {
	pm := newPlateMaker(42, nil)
	taken, _ := pm.appendPlate(nil, 5)
	pm = newPlateMaker(42, []string{string(taken)})
	got, current := pm.appendPlate(nil, 5)
	if string(got) == string(taken) || current || formatOf(string(got)) != "suffix" {
		t.Errorf("vehicle 5 given %s (current=%v) though %s is reserved", got, current, taken)
	}
}
