package handler

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
	var l lineWriter
	for _, zone := range zones {
		for _, tm := range times {
			tm = tm.In(zone)
			for _, s := range logLineStrings {
				l.buf = l.buf[:0]
				l.start(tm, "INFO", "message")
				l.str("requestId", "req-1")
				l.str("queue", s)
				l.int("index", -42)
				l.bool("redelivered", true)
				l.int("bodyBytes", 1024)
				l.str("summary", s+s)
				l.end()
				want := slogLine(tm, slog.LevelInfo, "message", []slog.Attr{slog.String("requestId", "req-1")},
					slog.String("queue", s), slog.Int("index", -42), slog.Bool("redelivered", true), slog.Int("bodyBytes", 1024), slog.String("summary", s+s))
				if string(l.buf) != want {
					t.Errorf("\n got %s\nwant %s", l.buf, want)
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
		var l lineWriter
		l.start(tm, "ERROR", s)
		l.str("error", s)
		l.end()
		if want := slogLine(tm, slog.LevelError, s, nil, slog.String("error", s)); string(l.buf) != want {
			t.Fatalf("\n got %s\nwant %s", l.buf, want)
		}
	})
}
