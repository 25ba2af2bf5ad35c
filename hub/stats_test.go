package hub_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/duplexws/websocket/hub"
)

func TestWriteMetrics(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{QueueLength: 2})
	ctx := context.Background()
	fast, slow := newFakeConn(), newGatedConn()
	h.Subscribe(ctx, fast, "a", "b")
	h.Subscribe(ctx, slow, "a")
	for i := range 6 {
		h.Publish(ctx, "a", text(fmt.Sprint(i)))
		fast.waitFor(t, i+1)
		if i == 0 {
			slow.waitBlocked(t)
		}
	}
	st := h.Stats()
	var b strings.Builder
	if err := h.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	samples := parseExposition(t, b.String())
	for name, want := range map[string]uint64{
		"duplex_hub_topics":                           2,
		"duplex_hub_subscribers":                      2,
		"duplex_hub_subscriptions":                    3,
		"duplex_hub_messages_published_total":         6,
		"duplex_hub_messages_received_total":          6,
		"duplex_hub_messages_delivered_total":         st.Delivered,
		"duplex_hub_messages_dropped_total":           3, // 1 in flight, 2 queued, 3 pushed out
		"duplex_hub_queued_messages":                  2,
		"duplex_hub_queue_depth_max":                  2,
		"duplex_hub_queue_length":                     2,
		`duplex_hub_broker_connected{broker="local"}`: 1,
	} {
		got, ok := samples[name]
		if !ok {
			t.Errorf("metric %s missing", name)
		} else if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	slow.release()
}

// labelSet matches a Prometheus label set such as {a="x",b="y"}.
var labelSet = regexp.MustCompile(`^\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\}$`)

// parseExposition checks text against the Prometheus text format (every
// sample preceded by its HELP and TYPE lines) and returns the samples.
func parseExposition(t *testing.T, text string) map[string]uint64 {
	t.Helper()
	samples := make(map[string]uint64)
	help, typ := map[string]bool{}, map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "#" && f[1] == "HELP":
			help[f[2]] = true
		case len(f) == 4 && f[0] == "#" && f[1] == "TYPE":
			if f[3] != "counter" && f[3] != "gauge" {
				t.Errorf("metric %s has type %q", f[2], f[3])
			}
			typ[f[2]] = f[3]
		case len(f) == 2:
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Errorf("sample line %q: %v", line, err)
			}
			name, labels, _ := strings.Cut(f[0], "{")
			if labels != "" && !labelSet.MatchString("{"+labels) {
				t.Errorf("sample %s has malformed labels", f[0])
			}
			if !help[name] || typ[name] == "" {
				t.Errorf("sample %s has no HELP or TYPE before it", f[0])
			}
			if typ[name] == "counter" && !strings.HasSuffix(name, "_total") {
				t.Errorf("counter %s does not end in _total", name)
			}
			samples[f[0]] = v
		default:
			t.Errorf("line %q is not in the exposition format", line)
		}
	}
	return samples
}
