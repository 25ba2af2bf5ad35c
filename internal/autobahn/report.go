package autobahn

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Report writes results as a table, one row per case (number, verdict,
// duration, peer's close code, reason), then a line of totals per verdict.
func Report(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tVERDICT\tDURATION\tCLOSE\tREASON")
	for _, r := range results {
		code := "-"
		if r.CloseCode >= 0 {
			code = fmt.Sprint(r.CloseCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", r.ID, r.Verdict, r.Duration.Round(time.Millisecond), code, r.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := Count(results)
	_, err := fmt.Fprintf(w, "%d cases: %d OK, %d NON-STRICT, %d FAILED, %d INFORMATIONAL, %d UNIMPLEMENTED\n",
		len(results), c[OK], c[NonStrict], c[Failed], c[Informational], c[Unimplemented])
	return err
}

// Count returns how many results have each verdict.
func Count(results []Result) map[Verdict]int {
	m := map[Verdict]int{}
	for _, r := range results {
		m[r.Verdict]++
	}
	return m
}
