// Package parallel runs independent calls a bounded number at a time:
// the syncs of a commit round in applog, and the checks and inserts of a
// received batch in replicate.
package parallel
