package netfault

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Toxic streams: downstream is upstream server -> client (responses),
// upstream is client -> server (requests).
const (
	Downstream = "downstream"
	Upstream   = "upstream"
)

// Toxic is a toxiproxy toxic. Attributes are toxiproxy's own, in its units
// (milliseconds, KB/s, bytes); the constructors below fill them in.
type Toxic struct {
	// Type is one of latency, bandwidth, slow_close, timeout, reset_peer,
	// slicer, limit_data.
	Type string
	// Stream is Downstream (the default) or Upstream.
	Stream string
	// Attributes are the toxic's settings, e.g. {"latency": 500, "jitter": 100}.
	Attributes map[string]any
	// Toxicity is the probability that a connection is affected, in (0, 1];
	// 0 means 1 (every connection). Note that toxiproxy decides per
	// connection, not per request.
	Toxicity float32
}

// toxicAttributes lists the attributes each toxic type understands.
var toxicAttributes = map[string][]string{
	"latency":    {"latency", "jitter"},
	"bandwidth":  {"rate"},
	"slow_close": {"delay"},
	"timeout":    {"timeout"},
	"reset_peer": {"timeout"},
	"slicer":     {"average_size", "size_variation", "delay"},
	"limit_data": {"bytes"},
}

func (t Toxic) validate() error {
	known, ok := toxicAttributes[t.Type]
	if !ok {
		types := make([]string, 0, len(toxicAttributes))
		for k := range toxicAttributes {
			types = append(types, k)
		}
		sort.Strings(types)
		return fmt.Errorf("unknown toxic type %q (want one of %s)", t.Type, strings.Join(types, ", "))
	}
	if t.Stream != "" && t.Stream != Downstream && t.Stream != Upstream {
		return fmt.Errorf("toxic %s: stream %q must be %q or %q", t.Type, t.Stream, Downstream, Upstream)
	}
	if t.Toxicity < 0 || t.Toxicity > 1 {
		return fmt.Errorf("toxic %s: toxicity %v must be in [0, 1]", t.Type, t.Toxicity)
	}
	for k := range t.Attributes {
		found := false
		for _, a := range known {
			found = found || a == k
		}
		if !found {
			return fmt.Errorf("toxic %s has no attribute %q (it has %s)", t.Type, k, strings.Join(known, ", "))
		}
	}
	return nil
}

func (t Toxic) describe(stream string, toxicity float32) string {
	keys := make([]string, 0, len(t.Attributes))
	for k := range t.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(t.Type)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, t.Attributes[k])
	}
	b.WriteString(" " + stream)
	if toxicity != 1 {
		fmt.Fprintf(&b, " toxicity=%v", toxicity)
	}
	return b.String()
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// Latency delays data by latency ± jitter.
func Latency(stream string, latency, jitter time.Duration) Toxic {
	return Toxic{Type: "latency", Stream: stream, Attributes: map[string]any{"latency": ms(latency), "jitter": ms(jitter)}}
}

// Bandwidth limits the rate to kbPerSecond kilobytes per second.
func Bandwidth(stream string, kbPerSecond int64) Toxic {
	return Toxic{Type: "bandwidth", Stream: stream, Attributes: map[string]any{"rate": kbPerSecond}}
}

// SlowClose delays closing the connection by delay.
func SlowClose(stream string, delay time.Duration) Toxic {
	return Toxic{Type: "slow_close", Stream: stream, Attributes: map[string]any{"delay": ms(delay)}}
}

// BlackHole stops all data and closes the connection after d; d = 0 holds the
// connection open with no data until the toxic is removed (toxiproxy's
// "timeout" toxic). On the Upstream stream requests vanish and the server never
// sees them: a black-holed link. On the Downstream stream the server handles
// requests and their answers vanish, but a close from the server (an answer to
// "Connection: close", an idle timeout) still reaches the client as EOF.
// Removing the toxic closes the connections it held.
func BlackHole(stream string, d time.Duration) Toxic {
	return Toxic{Type: "timeout", Stream: stream, Attributes: map[string]any{"timeout": ms(d)}}
}

// ResetPeer resets the connection (TCP RST) once data arrives, after d.
func ResetPeer(stream string, d time.Duration) Toxic {
	return Toxic{Type: "reset_peer", Stream: stream, Attributes: map[string]any{"timeout": ms(d)}}
}

// Slicer splits data into chunks of about averageSize ± variation bytes,
// pausing delay between them.
func Slicer(stream string, averageSize, variation int, delay time.Duration) Toxic {
	return Toxic{Type: "slicer", Stream: stream, Attributes: map[string]any{
		"average_size": averageSize, "size_variation": variation, "delay": int(delay.Microseconds()),
	}}
}

// LimitData closes the connection once n bytes have passed.
func LimitData(stream string, n int64) Toxic {
	return Toxic{Type: "limit_data", Stream: stream, Attributes: map[string]any{"bytes": n}}
}
