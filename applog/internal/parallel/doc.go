// Package parallel runs independent calls a bounded number at a time:
// the syncs of a commit round, the signature checks of an Insert and the
// logs an Open recovers in applog, and the checks and inserts of a
// received batch in replicate.
package parallel
