// Package plate normalises vehicle registration marks (VRMs), maps them to misread skeletons,
// parses wildcard patterns over them and explains how two plates differ. Everything here is a pure
// function over short ASCII strings, shared by ingest, the search service and every store backend
// so that they all agree on what a plate is.
//
// Positions: the Pos fields count from 0 like Go indexes, for code; the human sentences (Reason,
// Diff.String) count from 1, for the people who read them.
package plate
