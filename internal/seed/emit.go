package seed

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// misreadPerMille is how often an ordinary current-format plate is misread: typical of a
// well-maintained network, and enough that misread-tolerant search has something to find.
const misreadPerMille = 4

// emitter expands sorted keys into reads.Read batches. The strings of a batch (plates, skeletons,
// ids) are written into one byte arena and converted to a single string when the batch is full,
// so a batch costs a handful of allocations however many reads it holds.
type emitter struct {
	g        *gen
	emit     func(context.Context, []reads.Read) error
	progress func(int64)
	batch    []reads.Read
	offs     []int32 // per read: where its plate starts in arena
	arena    []byte
	canon    [256]byte // plate.Skeleton's table, so skeletons cost no allocation
	salt     uint64
	done     int64
	bands    *bandCounter
	seen     []uint64 // bitset of vehicles seen
	first    int64
	last     int64
}

// Layout of one read in the arena: plate, then skeleton (same length), then the 16-digit id.
const idLen = 16

func newEmitter(g *gen, batchSize int, emit func(context.Context, []reads.Read) error, progress func(int64)) *emitter {
	e := &emitter{
		g: g, emit: emit, progress: progress,
		batch: make([]reads.Read, 0, batchSize),
		offs:  make([]int32, 0, batchSize),
		arena: make([]byte, 0, batchSize*(2*plate.MaxVRMLen+idLen)),
		salt:  mix64(uint64(g.cfg.Seed) ^ 0x3e4d),
		seen:  make([]uint64, (g.pop.total()+63)/64),
		bands: newBandCounter(g),
	}
	for i := range e.canon {
		e.canon[i] = byte(i)
	}
	for _, grp := range plate.ConfusableGroups() {
		for i := 0; i < len(grp); i++ {
			e.canon[grp[i]] = grp[0]
		}
	}
	return e
}

func (e *emitter) add(ctx context.Context, key uint64, w *window) error {
	rel, veh, cam := splitKey(key)
	t := w.start + rel
	h := mix64(key ^ e.salt ^ uint64(w.date)<<32)
	start := len(e.arena)
	wrong := veh == vehMisreadZero || veh == vehMisreadEight
	if veh < numPlanted {
		e.arena = append(e.arena, plantedVRM[veh]...)
	} else {
		var current bool
		e.arena, current = e.g.pm.appendPlate(e.arena, uint64(veh-numPlanted))
		if current && h%1000 < misreadPerMille {
			wrong = misread(e.arena[start:], h>>10)
		}
	}
	vrm := e.arena[start:]
	for _, c := range vrm {
		e.arena = append(e.arena, e.canon[c])
	}
	camID := e.g.nw.cams[cam].ID
	e.arena = appendReadID(e.arena, camID, t, e.arena[start:start+len(vrm)])
	conf := 86 + int(h>>40%14) // 0.86-0.99
	if wrong {
		conf = 55 + int(h>>40%25) // 0.55-0.79: the engine was unsure, as it is on most misreads
	}
	e.batch = append(e.batch, reads.Read{
		CameraID:   camID,
		SeenAt:     time.UnixMilli(t).UTC(),
		Confidence: float64(conf) / 100,
		Lane:       1 + int(h>>56)%int(e.g.nw.lanes[cam]),
	})
	e.offs = append(e.offs, int32(start))
	e.bands.count(t)
	if veh != vehMisreadZero && veh != vehMisreadEight {
		e.seen[veh/64] |= 1 << (veh % 64)
	}
	if e.done == 0 && len(e.batch) == 1 {
		e.first = t
	}
	e.last = t
	if len(e.batch) == cap(e.batch) {
		return e.flush(ctx)
	}
	return nil
}

// appendReadID appends reads.ReadID(camID, t, vrm) without allocating; a test checks the two
// agree on every read generated.
func appendReadID(dst []byte, camID string, t int64, vrm []byte) []byte {
	var buf [64]byte
	n := copy(buf[:], camID)
	buf[n] = 0
	binary.BigEndian.PutUint64(buf[n+1:], uint64(t))
	buf[n+9] = 0
	n += 10
	n += copy(buf[n:], vrm)
	sum := sha256.Sum256(buf[:n])
	sum[0] &= 0x7f
	var hx [idLen]byte
	hex.Encode(hx[:], sum[:idLen/2])
	return append(dst, hx[:]...)
}

func (e *emitter) flush(ctx context.Context) error {
	if len(e.batch) == 0 {
		return nil
	}
	s := string(e.arena)
	for i := range e.batch {
		start := int(e.offs[i])
		end := len(s)
		if i+1 < len(e.offs) {
			end = int(e.offs[i+1])
		}
		n := (end - start - idLen) / 2
		r := &e.batch[i]
		r.VRM = s[start : start+n]
		r.Skeleton = s[start+n : start+2*n]
		r.ID = s[start+2*n : end]
	}
	if err := e.emit(ctx, e.batch); err != nil {
		return fmt.Errorf("seed: emit batch ending at read %d: %w", e.done+int64(len(e.batch)), err)
	}
	e.done += int64(len(e.batch))
	if e.progress != nil {
		e.progress(e.done)
	}
	clear(e.batch) // drop references to this batch's arena string
	e.batch, e.offs, e.arena = e.batch[:0], e.offs[:0], e.arena[:0]
	return nil
}

func (e *emitter) summary() Summary {
	s := Summary{
		Seed:    e.g.cfg.Seed,
		Now:     e.g.cfg.Now,
		Reads:   e.done,
		Cameras: len(e.g.nw.cams),
		Bands:   map[string]int64{BandRecent: e.bands.bands[0], BandYear: e.bands.bands[1], BandOld: e.bands.bands[2]},
		From:    time.UnixMilli(e.first).UTC(),
		To:      time.UnixMilli(e.last).UTC(),
		Plants:  e.g.plantDocs(),
	}
	for _, w := range e.seen {
		s.Vehicles += bits.OnesCount64(w)
	}
	return s
}
