package monitor

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Prometheus renders the stats of every registered monitor in the
// Prometheus text exposition format (version 0.0.4): each family once,
// with HELP and TYPE, a series per collection (label collection).
func Prometheus() []byte {
	var all []Stats
	for _, m := range Registered() {
		all = append(all, m.Stats())
	}
	return Render(all)
}

// Render writes the families for the given stats.
func Render(all []Stats) []byte {
	var b bytes.Buffer
	family := func(name, typ, help string, each func(st Stats, emit func(labels string, v float64))) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, st := range all {
			each(st, func(labels string, v float64) {
				fmt.Fprintf(&b, "%s{collection=\"%s\"%s} %s\n", name, escape(st.Collection), labels, number(v))
			})
		}
	}
	family("oxvec_records", "gauge", "Records in the collection.", func(st Stats, emit func(string, float64)) {
		emit("", float64(st.Count))
	})
	family("oxvec_operation_duration_seconds", "summary", "Latency of searches, writes and deletes; quantiles over the sliding window, count and sum since the store opened.",
		func(st Stats, emit func(string, float64)) {
			for _, op := range OpNames {
				s := st.Latency[op]
				for _, q := range []struct {
					q string
					v float64
				}{{"0.5", s.P50}, {"0.95", s.P95}, {"0.99", s.P99}} {
					emit(fmt.Sprintf(",op=\"%s\",quantile=\"%s\"", op, q.q), q.v/1e3)
				}
			}
		})
	// the summary's _sum and _count lines belong to its family
	for _, st := range all {
		for _, op := range OpNames {
			s := st.Latency[op]
			fmt.Fprintf(&b, "oxvec_operation_duration_seconds_sum{collection=\"%s\",op=\"%s\"} %s\n", escape(st.Collection), op, number(s.SumSec))
			fmt.Fprintf(&b, "oxvec_operation_duration_seconds_count{collection=\"%s\",op=\"%s\"} %d\n", escape(st.Collection), op, s.Total)
		}
	}
	family("oxvec_operations_per_second", "gauge", "Operations per second over the sliding window.", func(st Stats, emit func(string, float64)) {
		for _, op := range OpNames {
			emit(fmt.Sprintf(",op=\"%s\"", op), st.Latency[op].PerSec)
		}
	})
	family("oxvec_errors_total", "counter", "Failed operations by error class since the store opened.", func(st Stats, emit func(string, float64)) {
		for _, c := range sortedKeys(st.Errors) {
			emit(fmt.Sprintf(",class=\"%s\"", c), float64(st.Errors[c]))
		}
	})
	family("oxvec_error_ratio", "gauge", "Failed operations over all operations in the sliding window.", func(st Stats, emit func(string, float64)) {
		emit("", st.ErrorRate)
	})
	family("oxvec_memory_bytes", "gauge", "Memory the collection holds, by part.", func(st Stats, emit func(string, float64)) {
		emit(",part=\"index\"", float64(st.Memory.Index))
		emit(",part=\"records\"", float64(st.Memory.Records))
		emit(",part=\"cache\"", float64(st.Memory.Cache))
	})
	family("oxvec_cache_hits_total", "counter", "Cache hits by level.", func(st Stats, emit func(string, float64)) {
		for _, l := range sortedLevels(st.Cache) {
			emit(fmt.Sprintf(",level=\"%s\"", l), float64(st.Cache[l].Hits))
		}
	})
	family("oxvec_cache_misses_total", "counter", "Cache misses by level.", func(st Stats, emit func(string, float64)) {
		for _, l := range sortedLevels(st.Cache) {
			emit(fmt.Sprintf(",level=\"%s\"", l), float64(st.Cache[l].Misses))
		}
	})
	family("oxvec_recall_estimate", "gauge", "Recall of the index estimated by re-running sampled searches exactly (absent before the first sample).", func(st Stats, emit func(string, float64)) {
		if st.Recall != nil {
			emit("", st.Recall.Value)
			emit(",bound=\"low\"", st.Recall.Low)
			emit(",bound=\"high\"", st.Recall.High)
		}
	})
	family("oxvec_recall_samples", "gauge", "Sampled searches the recall estimate is made of.", func(st Stats, emit func(string, float64)) {
		n := 0
		if st.Recall != nil {
			n = st.Recall.N
		}
		emit("", float64(n))
	})
	family("oxvec_plans_total", "counter", "Searches by the plan the planner chose.", func(st Stats, emit func(string, float64)) {
		for _, p := range sortedKeys(st.Plans) {
			emit(fmt.Sprintf(",plan=\"%s\"", p), float64(st.Plans[p]))
		}
	})
	return b.Bytes()
}

// escape quotes a label value: backslash, double quote and line feed.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func number(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func sortedKeys(m map[string]uint64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedLevels(m map[string]Level) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
