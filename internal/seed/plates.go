package seed

// Plates are a bijection of the vehicle number, never drawn at random, so two vehicles can never
// share a plate (which would look like a cloned plate) and no set of issued plates has to be kept
// in memory, even with millions of vehicles.
//
// Formats, by their letter (L) / digit (D) shape:
//
//	current  LLDDLLL  "LK19XRT"  most vehicles
//	prefix   LDDDLLL  "K123ABC"  older cars; second character only 1, 3 or 9 (see below)
//	suffix   LLLDDDL  "ABC123K"  older cars
//	German   LLLDDDD  "MAB1234"  foreign visitors
//	Irish    DDLDDDD  "12D3456"  foreign visitors
//	Dutch    LLDDDL   "GB123X"   foreign visitors
//
// Misreads are generated only for current plates and swap exactly one character for its OCR
// look-alike in the other class (a letter read as a digit or a digit as a letter), so a misread
// has one character of the wrong class and can never equal a real plate of any format here. The
// prefix format's second character avoids the digits a misread can put there (8, 0, 5, 2, 6).
// Each swap table is one-to-one, so two different plates never misread to the same string either.
// Together these keep the generator honest: the only plate seen in two places at once is the
// planted clone.

const (
	regionLetters = "LLLLLLLLLLABCDEFGHKMNOPRSVWYEKGR" // 32 slots, London's L weighted up
	secondLetters = "ABCDEFGHJKLMNOPRSTUVWXY"          // 23: no I, Q, Z
	randomLetters = "ABCDEFGHJKLMNOPRSTUVWXYZ"         // 24: no I, Q
	yearLetters   = "ABCDEFGHJKLMNPRSTVWXY"            // prefix and suffix year letters
	germanCities  = "BMKFSHDN"
	irishCounties = "DCGLWK"
)

// ageCodes are the two-digit age identifiers of current plates: March 2002-2025 and
// September 2001-2025.
var ageCodes = func() []byte {
	var b []byte
	for y := 2; y <= 25; y++ {
		b = append(b, byte('0'+y/10), byte('0'+y%10))
	}
	for y := 51; y <= 75; y++ {
		b = append(b, byte('0'+y/10), byte('0'+y%10))
	}
	return b
}()

// letterToDigit and digitToLetter are the misread swaps, one-to-one, taken from the confusable
// groups the plate package uses for skeleton search (8B, 0D, 5S, 2Z, 6G).
var (
	letterToDigit = [256]byte{'B': '8', 'D': '0', 'S': '5', 'Z': '2', 'G': '6'}
	digitToLetter = [256]byte{'8': 'B', '0': 'O', '5': 'S', '2': 'Z', '6': 'G', '1': 'I'}
)

// plateMaker turns vehicle numbers into plates for one seed.
type plateMaker struct {
	reserved []string // planted plates, which ordinary vehicles must not be given
	region   [32]struct {
		letter      byte
		count, rank int
		perm        affine
	}
	prefixP, suffixP, germanP, irishP, dutchP affine
}

// affine maps x in [0, m) to [0, m) one-to-one: multiplying by a unit mod m and adding a
// seed-dependent offset scatters consecutive vehicle numbers over the whole plate space.
type affine struct{ a, b, m uint64 }

func newAffine(m, salt uint64) affine {
	a := salt%m | 1
	for gcd(a, m) != 1 {
		a += 2
	}
	return affine{a: a, b: (salt >> 17) % m, m: m}
}

func (f affine) of(x uint64) uint64 { return (x%f.m*f.a + f.b) % f.m }

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Sizes of the plate spaces.
const (
	currentSpace = 23 * 49 * 24 * 24 * 24
	prefixSpace  = 21 * 300 * 24 * 24 * 24
	suffixSpace  = 24 * 24 * 24 * 900 * 21
	germanSpace  = 8 * 24 * 24 * 10000
	irishSpace   = 13 * 6 * 10000
	dutchSpace   = 24 * 24 * 1000 * 24
	// suffixSpare is where vehicles whose current plate would be a planted one get a suffix
	// plate instead; ordinary suffix plates use numbers far below it.
	suffixSpare = 200_000_000
)

func newPlateMaker(seed int64, reserved []string) *plateMaker {
	salt := mix64(uint64(seed) ^ 0x91a7e5)
	pm := &plateMaker{reserved: reserved}
	for i := range 32 {
		r := &pm.region[i]
		r.letter = regionLetters[i]
		for j := range 32 {
			if regionLetters[j] == r.letter {
				if j < i {
					r.rank++
				}
				r.count++
			}
		}
		r.perm = newAffine(currentSpace, mix64(salt+uint64(r.letter)))
	}
	pm.prefixP = newAffine(prefixSpace, mix64(salt^0x7e1))
	pm.suffixP = newAffine(suffixSpace, mix64(salt^0x5a1))
	pm.germanP = newAffine(germanSpace, mix64(salt^0xde))
	pm.irishP = newAffine(irishSpace, mix64(salt^0x1e))
	pm.dutchP = newAffine(dutchSpace, mix64(salt^0x41))
	return pm
}

// appendPlate appends the plate of ordinary vehicle number i (0-based, planted vehicles
// excluded) and reports whether it is a current-format plate, the only kind that gets misread.
func (pm *plateMaker) appendPlate(dst []byte, i uint64) ([]byte, bool) {
	switch i % 25 {
	case 7:
		return pm.prefix(dst, i/25), false
	case 13:
		return pm.suffix(dst, i/25), false
	case 19:
		return pm.foreign(dst, i/25), false
	}
	start := len(dst)
	dst = pm.current(dst, i)
	for _, r := range pm.reserved {
		if string(dst[start:]) == r {
			// A planted plate: give this vehicle one from a part of the suffix space that the
			// suffix format above never reaches.
			return pm.suffix(dst[:start], suffixSpare+i), false
		}
	}
	return dst, true
}

func (pm *plateMaker) current(dst []byte, i uint64) []byte {
	reg := &pm.region[i%32]
	x := reg.perm.of((i/32)*uint64(reg.count) + uint64(reg.rank))
	dst = append(dst, reg.letter, secondLetters[x%23])
	x /= 23
	age := x % 49
	x /= 49
	dst = append(dst, ageCodes[2*age], ageCodes[2*age+1])
	for range 3 {
		dst = append(dst, randomLetters[x%24])
		x /= 24
	}
	return dst
}

func (pm *plateMaker) prefix(dst []byte, j uint64) []byte {
	x := pm.prefixP.of(j)
	dst = append(dst, yearLetters[x%21])
	x /= 21
	num := x % 300
	x /= 300
	dst = append(dst, "139"[num/100], byte('0'+num/10%10), byte('0'+num%10))
	for range 3 {
		dst = append(dst, randomLetters[x%24])
		x /= 24
	}
	return dst
}

func (pm *plateMaker) suffix(dst []byte, j uint64) []byte {
	x := pm.suffixP.of(j)
	for range 3 {
		dst = append(dst, randomLetters[x%24])
		x /= 24
	}
	num := 100 + x%900
	x /= 900
	dst = append(dst, byte('0'+num/100), byte('0'+num/10%10), byte('0'+num%10), yearLetters[x%21])
	return dst
}

func (pm *plateMaker) foreign(dst []byte, j uint64) []byte {
	k := j / 3
	switch j % 3 {
	case 0: // German: city, two letters, four digits
		x := pm.germanP.of(k)
		dst = append(dst, germanCities[x%8], randomLetters[x/8%24], randomLetters[x/192%24])
		return appendDigits(dst, x/4608%10000, 4)
	case 1: // Irish: year, county, four digits
		x := pm.irishP.of(k)
		y := 12 + x%13
		dst = append(dst, byte('0'+y/10), byte('0'+y%10), irishCounties[x/13%6])
		return appendDigits(dst, x/78%10000, 4)
	default: // Dutch: two letters, three digits, one letter
		x := pm.dutchP.of(k)
		dst = append(dst, randomLetters[x%24], randomLetters[x/24%24])
		dst = appendDigits(dst, x/576%1000, 3)
		return append(dst, randomLetters[x/576000%24])
	}
}

func appendDigits(dst []byte, v uint64, n int) []byte {
	for k := n - 1; k >= 0; k-- {
		p := uint64(1)
		for range k {
			p *= 10
		}
		dst = append(dst, byte('0'+v/p%10))
	}
	return dst
}

// misread rewrites the current-format plate p (7 bytes, in place) as an OCR engine might misread
// it, choosing the swapped position from h. It reports false when the plate has no swappable
// character, leaving p unchanged.
func misread(p []byte, h uint64) bool {
	var cand [7]int
	n := 0
	for i, c := range p {
		if i == 2 || i == 3 {
			if digitToLetter[c] != 0 {
				cand[n] = i
				n++
			}
		} else if letterToDigit[c] != 0 {
			cand[n] = i
			n++
		}
	}
	if n == 0 {
		return false
	}
	i := cand[h%uint64(n)]
	if i == 2 || i == 3 {
		p[i] = digitToLetter[p[i]]
	} else {
		p[i] = letterToDigit[p[i]]
	}
	return true
}
