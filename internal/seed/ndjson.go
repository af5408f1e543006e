package seed

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/reads"
)

// NDJSONTimeFormat is RFC 3339 in UTC with exactly three fractional digits, the resolution reads
// are stored at.
const NDJSONTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// WriteNDJSON writes r as one line of the ingest format:
//
//	{"camera_id":"...","vrm":"...","seen_at":"2025-01-02T03:04:05.678Z","confidence":0.97,"lane":1}
//
// confidence and lane are left out when zero, as the read model does.
func WriteNDJSON(w io.Writer, r reads.Read) error {
	var buf [192]byte
	if _, err := w.Write(AppendNDJSON(buf[:0], r)); err != nil {
		return fmt.Errorf("write ndjson read: %w", err)
	}
	return nil
}

// AppendNDJSON appends the line WriteNDJSON writes, newline included, so a caller writing many
// reads can reuse one buffer.
func AppendNDJSON(dst []byte, r reads.Read) []byte {
	dst = append(dst, `{"camera_id":`...)
	dst = appendJSONString(dst, r.CameraID)
	dst = append(dst, `,"vrm":`...)
	dst = appendJSONString(dst, r.VRM)
	dst = append(dst, `,"seen_at":"`...)
	dst = r.SeenAt.UTC().Truncate(reads.TimePrecision).AppendFormat(dst, NDJSONTimeFormat)
	dst = append(dst, '"')
	if r.Confidence != 0 {
		dst = append(dst, `,"confidence":`...)
		dst = strconv.AppendFloat(dst, r.Confidence, 'f', -1, 64)
	}
	if r.Lane != 0 {
		dst = append(dst, `,"lane":`...)
		dst = strconv.AppendInt(dst, int64(r.Lane), 10)
	}
	return append(dst, "}\n"...)
}

// appendJSONString appends s as a JSON string. Generated plates and camera ids are plain ASCII,
// but WriteNDJSON takes any read, so everything JSON requires is escaped and invalid UTF-8
// becomes U+FFFD, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
