package images

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"time"
)

// The synthetic pictures use one small palette, so each PNG is a few hundred bytes (patch) to a
// few kilobytes (overview) and encodes in well under a millisecond.
var palette = color.Palette{
	color.RGBA{0x11, 0x11, 0x11, 0xff}, // 0 ink, caption strip
	color.RGBA{0xf7, 0xd1, 0x17, 0xff}, // 1 rear plate yellow
	color.RGBA{0xf4, 0xf4, 0xf0, 0xff}, // 2 front plate white, caption text
	color.RGBA{0x55, 0x55, 0x55, 0xff}, // 3 plate border, tyres
	color.RGBA{0xa9, 0xcf, 0xe8, 0xff}, // 4 sky
	color.RGBA{0x6b, 0x6e, 0x70, 0xff}, // 5 road
	color.RGBA{0x5d, 0x8a, 0x4e, 0xff}, // 6 verge
	color.RGBA{0x2a, 0x3a, 0x48, 0xff}, // 7 rear window
	color.RGBA{0xb0, 0x1e, 0x23, 0xff}, // 8.. vehicle paints
	color.RGBA{0x1f, 0x4e, 0x9c, 0xff},
	color.RGBA{0xc8, 0xc8, 0xc8, 0xff},
	color.RGBA{0x26, 0x26, 0x26, 0xff},
	color.RGBA{0x2e, 0x7d, 0x32, 0xff},
	color.RGBA{0xe0, 0xe0, 0xe0, 0xff},
}

const (
	ink, yellow, white, grey, sky, road, verge, glass = 0, 1, 2, 3, 4, 5, 6, 7
	firstPaint, paints                                = 8, 6
)

// PlateText is how a plate is printed: the normalised VRM, with the space current-format plates
// carry after the age identifier (AB12CDE is printed AB12 CDE).
func PlateText(vrm string) string {
	if len(vrm) == 7 && isLetter(vrm[0]) && isLetter(vrm[1]) && isDigit(vrm[2]) && isDigit(vrm[3]) &&
		isLetter(vrm[4]) && isLetter(vrm[5]) && isLetter(vrm[6]) {
		return vrm[:4] + " " + vrm[4:]
	}
	return vrm
}

func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// Patch renders a plate patch: the VRM in black on a yellow (rear) or white (front) plate, as
// the camera's plate finder would crop it. The same VRM and colour always give the same bytes.
func Patch(vrm string, rear bool) []byte {
	const scale, padX, padY = 3, 9, 6
	text := PlateText(vrm)
	w, h := textWidth(text, scale)+2*padX, glyphH*scale+2*padY
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette)
	bg := uint8(white)
	if rear {
		bg = yellow
	}
	fill(img, img.Rect, grey)
	fill(img, image.Rect(1, 1, w-1, h-1), bg)
	drawText(img, padX, padY, text, scale, ink)
	return encode(img)
}

// Scene describes the overview picture of one read.
type Scene struct {
	VRM      string
	CameraID string
	SeenAt   time.Time
	Lane     int
}

// Overview renders a simple overview scene: road, verge and sky, the vehicle from behind in a
// colour derived from its plate, its rear plate, and the camera's caption strip (camera id and
// time, as real overview images carry). The same Scene always gives the same bytes.
func Overview(s Scene) []byte {
	const w, h, horizon = 256, 144, 52
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette)
	fill(img, image.Rect(0, 0, w, horizon), sky)
	fill(img, image.Rect(0, horizon, w, h), verge)
	// The road narrows towards the horizon.
	for y := horizon; y < h; y++ {
		half := 20 + (y-horizon)*110/(h-horizon)
		fill(img, image.Rect(w/2-half, y, w/2+half, y+1), road)
		if (y/6)%2 == 0 {
			fill(img, image.Rect(w/2-1, y, w/2+1, y+1), white) // centre line dashes
		}
	}
	hv := fnv.New32a()
	hv.Write([]byte(s.VRM))
	sum := hv.Sum32()
	paint := uint8(firstPaint + sum%paints)
	lane := s.Lane
	if lane < 1 {
		lane = 1
	}
	cx := w/2 + 38*((lane-1)%2*2-1) // lane 1 left of the centre line, lane 2 right, ...
	body := image.Rect(cx-42, 74, cx+42, 124)
	fill(img, image.Rect(body.Min.X+4, body.Max.Y, body.Min.X+16, body.Max.Y+8), ink) // tyres
	fill(img, image.Rect(body.Max.X-16, body.Max.Y, body.Max.X-4, body.Max.Y+8), ink)
	fill(img, body, paint)
	fill(img, image.Rect(body.Min.X+8, body.Min.Y+5, body.Max.X-8, body.Min.Y+20), glass)
	fill(img, image.Rect(body.Min.X+2, body.Min.Y+26, body.Min.X+10, body.Min.Y+32), yellow) // lamps
	fill(img, image.Rect(body.Max.X-10, body.Min.Y+26, body.Max.X-2, body.Min.Y+32), yellow)
	text := PlateText(s.VRM)
	pw := textWidth(text, 1) + 6
	plate := image.Rect(cx-pw/2, body.Min.Y+30, cx-pw/2+pw, body.Min.Y+30+glyphH+4)
	fill(img, plate, grey)
	fill(img, plate.Inset(1), yellow)
	drawText(img, plate.Min.X+3, plate.Min.Y+2, text, 1, ink)
	caption := s.CameraID + " " + s.SeenAt.UTC().Format("2006-01-02 15:04:05")
	fill(img, image.Rect(0, 0, w, glyphH+4), ink)
	drawText(img, 2, 2, caption, 1, white)
	return encode(img)
}

func fill(img *image.Paletted, r image.Rectangle, c uint8) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = c
		}
	}
}

func drawText(img *image.Paletted, x, y int, s string, scale int, c uint8) {
	for i := 0; i < len(s); i++ {
		g := glyph(s[i])
		for gy, line := range g {
			for gx := 0; gx < glyphW; gx++ {
				if line[gx] == '#' {
					fill(img, image.Rect(x+gx*scale, y+gy*scale, x+(gx+1)*scale, y+(gy+1)*scale), c)
				}
			}
		}
		x += (glyphW + 1) * scale
	}
}

// encode writes img as PNG. Encoding an in-memory paletted image cannot fail; a failure here is a
// bug, not a condition to handle.
func encode(img image.Image) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		panic("images: encode PNG: " + err.Error())
	}
	return b.Bytes()
}
