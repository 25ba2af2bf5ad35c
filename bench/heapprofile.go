package bench

import (
	"net/http"
	"runtime"
	"runtime/pprof"
)

// serveHeapProfile answers /ctl/heap with a heap profile of the server
// process as of its last garbage collection, with every allocation since
// it started; /ctl/heap?gc=1 with one taken after a garbage collection;
// and /ctl/heap?debug=2 with the stacks of its goroutines, so that a
// benchmark can see where a server's memory is at the moment it measures
// it.
func serveHeapProfile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("debug") == "2" {
		w.Header().Set("Content-Type", "text/plain")
		pprof.Lookup("goroutine").WriteTo(w, 2)
		return
	}
	if q.Get("gc") == "1" {
		runtime.GC()
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	pprof.WriteHeapProfile(w)
}
