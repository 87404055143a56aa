//go:build unix

package main

import (
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted samples by
// the nearest-rank method: the smallest sample such that at least p percent
// of the samples are less than or equal to it. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	// rank = ceil(p/100 * n), computed in integers to avoid float rounding
	// (p is given with at most 3 decimals).
	milli := int64(p*1000 + 0.5)
	rank := int((milli*int64(n) + 100000 - 1) / 100000)
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// Summary is the latency summary of a run, in milliseconds.
type Summary struct {
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`
}

// summarize merges the per-worker samples and computes their Summary.
func summarize(perWorker [][]time.Duration) Summary {
	total := 0
	for _, s := range perWorker {
		total += len(s)
	}
	all := make([]time.Duration, 0, total)
	for _, s := range perWorker {
		all = append(all, s...)
	}
	if len(all) == 0 {
		return Summary{}
	}
	slices.Sort(all)
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Summary{
		P50Ms:  ms(percentile(all, 50)),
		P90Ms:  ms(percentile(all, 90)),
		P99Ms:  ms(percentile(all, 99)),
		MaxMs:  ms(all[len(all)-1]),
		MeanMs: ms(sum / time.Duration(len(all))),
	}
}
