package loadgen_test

import (
	"fmt"
	"time"

	"github.com/duplexws/websocket/internal/loadgen"
)

func ExampleHistogram() {
	h := loadgen.NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(int64(i) * int64(time.Microsecond))
	}
	fmt.Println("count:", h.Count())
	fmt.Println("p50 within 1%:", h.Quantile(0.5) >= 500_000 && h.Quantile(0.5) <= 505_000)
	fmt.Println("max:", time.Duration(h.Max()))
	// Output:
	// count: 1000
	// p50 within 1%: true
	// max: 1ms
}
