package seed

import "time"

// UK civil time, computed here rather than with time.LoadLocation so the generator does not
// depend on the host's zoneinfo: daily rhythms follow the clock on the wall, which moves to BST
// (UTC+1) at 01:00 UTC on the last Sunday of March and back on the last Sunday of October.

const (
	msPerHour = int64(time.Hour / time.Millisecond)
	msPerDay  = 24 * msPerHour
	// dayStartHour is when a vehicle's day begins, in local hours after midnight. Every vehicle is
	// at home (or outside London) at this hour, which is what keeps consecutive days consistent;
	// night shifts run on past midnight up to lastHour.
	dayStartHour = 4
	lastHour     = 27 // 03:00 the next morning
)

// ukOffsetMS returns the offset of UK civil time from UTC at the instant ms.
func ukOffsetMS(ms int64) int64 {
	y := time.UnixMilli(ms).UTC().Year()
	if ms >= lastSunday0100(y, time.March) && ms < lastSunday0100(y, time.October) {
		return msPerHour
	}
	return 0
}

func lastSunday0100(y int, m time.Month) int64 {
	t := time.Date(y, m+1, 0, 1, 0, 0, 0, time.UTC) // day 0 of the next month: the last day of m
	for t.Weekday() != time.Sunday {
		t = t.AddDate(0, 0, -1)
	}
	return t.UnixMilli()
}

// localDate returns the UK calendar date of the instant ms, as days since 1970-01-01.
func localDate(ms int64) int64 {
	return floorDiv(ms+ukOffsetMS(ms), msPerDay)
}

// midnightMS returns the UTC instant of local midnight on date d. The offset is taken at noon,
// so on the two changeover days the early hours are out by an hour; nothing here cares.
func midnightMS(d int64) int64 {
	noon := d*msPerDay + 12*msPerHour
	return d*msPerDay - ukOffsetMS(noon)
}

// window is one vehicle-day: local dayStartHour on date to dayStartHour the next day.
type window struct {
	date       int64 // local date, days since 1970-01-01
	dow        int   // 0 Sunday .. 6 Saturday
	midnight   int64 // UTC ms of local midnight on date
	start, end int64 // UTC ms
	ago        int   // days before the local date of Now
}

func newWindow(date, nowDate int64) window {
	return window{
		date:     date,
		dow:      int(floorMod(date+4, 7)), // 1970-01-01 was a Thursday
		midnight: midnightMS(date),
		start:    midnightMS(date) + dayStartHour*msPerHour,
		end:      midnightMS(date+1) + dayStartHour*msPerHour,
		ago:      int(nowDate - date),
	}
}

// at returns the UTC ms of local time h hours after midnight of the window's date.
func (w *window) at(h float64) int64 {
	return w.midnight + int64(h*float64(msPerHour))
}

// hour returns the local hour (after midnight of the window's date) of the instant ms.
func (w *window) hour(ms int64) float64 {
	return float64(ms-w.midnight) / float64(msPerHour)
}

func (w *window) weekday() bool { return w.dow >= 1 && w.dow <= 5 }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
