package seed

// rng is a splitmix64 generator: tiny, allocation-free and fully specified here, so the data a
// seed produces never changes with the Go version. Every vehicle-day gets its own generator
// derived from (seed, vehicle, day), which is what lets Generate simulate days independently
// without storing per-vehicle state.
type rng struct{ s uint64 }

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func newRNG(a, b, c uint64) rng {
	return rng{s: mix64(a ^ mix64(b^0x9e3779b97f4a7c15^mix64(c+0x632be59bd9b4e019)))}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n); the multiply-shift has a bias below 2^-32, irrelevant here.
func (r *rng) intn(n int) int {
	return int((r.next() >> 32) * uint64(n) >> 32)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// between returns a value in [lo, hi).
func (r *rng) between(lo, hi float64) float64 {
	return lo + r.float()*(hi-lo)
}
