package seed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/reads"
)

func TestWriteNDJSONLine(t *testing.T) {
	r := reads.Read{
		ID: "ignored", VRM: "AB12CDE", Skeleton: "A812C0E", CameraID: "A406-07-EB",
		SeenAt:     time.Date(2025, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("BST", 3600)),
		Confidence: 0.97, Lane: 1,
	}
	var buf bytes.Buffer
	if err := WriteNDJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	want := `{"camera_id":"A406-07-EB","vrm":"AB12CDE","seen_at":"2025-01-02T02:04:05.678Z","confidence":0.97,"lane":1}` + "\n"
	if buf.String() != want {
		t.Errorf("got  %s want %s", buf.String(), want)
	}
	buf.Reset()
	r.Confidence, r.Lane = 0, 0
	WriteNDJSON(&buf, r)
	if want := `{"camera_id":"A406-07-EB","vrm":"AB12CDE","seen_at":"2025-01-02T02:04:05.678Z"}` + "\n"; buf.String() != want {
		t.Errorf("zero fields: got %s", buf.String())
	}
}

type ingestLine struct {
	CameraID   string    `json:"camera_id"`
	VRM        string    `json:"vrm"`
	SeenAt     time.Time `json:"seen_at"`
	Confidence float64   `json:"confidence"`
	Lane       int       `json:"lane"`
}

// TestNDJSONParsesBack writes every generated read and decodes each line strictly.
func TestNDJSONParsesBack(t *testing.T) {
	all, _ := generate(t, Config{Seed: 2, Reads: MinReads, Now: testNow}, 1000)
	var buf bytes.Buffer
	for _, r := range all {
		if err := WriteNDJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	sc := bufio.NewScanner(&buf)
	i := 0
	for sc.Scan() {
		var got ingestLine
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d %q: %v", i+1, sc.Text(), err)
		}
		r := all[i]
		if got.CameraID != r.CameraID || got.VRM != r.VRM || !got.SeenAt.Equal(r.SeenAt) || got.Confidence != r.Confidence || got.Lane != r.Lane {
			t.Fatalf("line %d decodes to %+v, read was %+v", i+1, got, r)
		}
		i++
	}
	if i != len(all) {
		t.Errorf("%d lines for %d reads", i, len(all))
	}
}

func FuzzAppendNDJSON(f *testing.F) {
	f.Add("A406-07-EB", "AB12CDE", int64(1735787045678), 0.97, 1)
	f.Add("cam\"\\\n\x00<>&", "\u2028\xff\u00e9", int64(-1), 0.0, -3)
	f.Fuzz(func(t *testing.T, cam, vrm string, msec int64, conf float64, lane int) {
		if conf != conf || conf > 1e300 || conf < -1e300 { // NaN and infinities are not JSON numbers
			return
		}
		if msec < -62135596800000 || msec > 253402300799999 { // years 1..9999, as RFC 3339 allows
			return
		}
		line := AppendNDJSON(nil, reads.Read{CameraID: cam, VRM: vrm, SeenAt: time.UnixMilli(msec), Confidence: conf, Lane: lane})
		if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("not one line: %q", line)
		}
		var got ingestLine
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
		if utf8.ValidString(cam) && got.CameraID != cam || utf8.ValidString(vrm) && got.VRM != vrm {
			t.Fatalf("strings changed: %q %q -> %q %q", cam, vrm, got.CameraID, got.VRM)
		}
		if got.SeenAt.UnixMilli() != msec || got.Confidence != conf || got.Lane != lane {
			t.Fatalf("values changed: %+v", got)
		}
	})
}
