package codec

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// slogLine is what slog's JSONHandler writes for one record at t.
func slogLine(t time.Time, level slog.Level, msg string, with []slog.Attr, attrs ...slog.Attr) string {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, nil).WithAttrs(with)
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(context.Background(), r)
	return buf.String()
}

var logLineStrings = []string{"", "plain", "orders::shop", `quote " and \ backslash`, "tab\tnl\ncr\r", "ctl\x00\x01\x1f\x7f",
	"Zoë Brontë ✓", "bad \xff\xfe utf-8", "sep \u2028 \u2029", "<html>&amp;", "sixteen bytes ok\"", "0123456789abcdef0123456789abcdef\x80"}

func TestLogLineIsSlog(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("X", 5*3600+30*60), time.FixedZone("Y", -7*3600)}
	times := []time.Time{time.Date(2026, 11, 29, 14, 12, 37, 0, time.UTC), time.Date(2026, 11, 29, 14, 12, 37, 120000000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), time.Now()}
	var l LineWriter
	for _, zone := range zones {
		for _, tm := range times {
			tm = tm.In(zone)
			for _, s := range logLineStrings {
				l.Buf = l.Buf[:0]
				l.Start(tm, "INFO", "message")
				l.Str("requestId", "req-1")
				l.Str("queue", s)
				l.Int("index", -42)
				l.Bool("redelivered", true)
				l.Int("bodyBytes", 1024)
				l.Str("summary", s+s)
				l.End()
				want := slogLine(tm, slog.LevelInfo, "message", []slog.Attr{slog.String("requestId", "req-1")},
					slog.String("queue", s), slog.Int("index", -42), slog.Bool("redelivered", true), slog.Int("bodyBytes", 1024), slog.String("summary", s+s))
				if string(l.Buf) != want {
					t.Errorf("\n got %s\nwant %s", l.Buf, want)
				}
			}
		}
	}
}

func FuzzLogLineQuote(f *testing.F) {
	for _, s := range logLineStrings {
		f.Add(s)
	}
	tm := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		var l LineWriter
		l.Start(tm, "ERROR", s)
		l.Str("error", s)
		l.End()
		if want := slogLine(tm, slog.LevelError, s, nil, slog.String("error", s)); string(l.Buf) != want {
			t.Fatalf("\n got %s\nwant %s", l.Buf, want)
		}
	})
}
