package autobahn

import (
	"context"
	"net/http"
	"strconv"
	"sync"
)

// Server tests WebSocket clients the way Autobahn's fuzzing server does:
// a client under test asks /getCaseCount (one text message with the
// number of cases, then a normal close), connects to
// /runCase?case=N&agent=NAME for each case N from 1 and echoes every
// message until the suite closes, then connects to
// /updateReports?agent=NAME, which closes normally. The suite plays each
// case as the server, with unmasked frames, and files its result under the
// agent's name. Server is an http.Handler; its methods are safe for
// concurrent use.
type Server struct {
	cases []Case
	opts  Options

	running sync.WaitGroup // cases being played

	mu      sync.Mutex
	results map[string]map[int]Result // agent -> case index -> result
	updated map[string]bool
}

// NewServer returns a Server that plays cases; a nil opts means the
// defaults.
func NewServer(cases []Case, opts *Options) *Server {
	s := &Server{cases: cases, results: map[string]map[int]Result{}, updated: map[string]bool{}}
	if opts != nil {
		s.opts = *opts
	}
	return s
}

// ServeHTTP answers the three endpoints of the fuzzing protocol; any other
// path is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ctx := context.WithoutCancel(r.Context())
	switch r.URL.Path {
	case "/getCaseCount":
		h, err := acceptHandshake(w, r, nil)
		if err != nil {
			return
		}
		sess := newSession(h, false, s.opts)
		n := strconv.Itoa(len(s.cases))
		sess.play(ctx, Case{ID: "getCaseCount", Run: func(sess *Session) {
			sess.ExpectClose(CloseExpectation{ByMe: true, Codes: []int{1000}})
			sess.SendMessage(opText, []byte(n))
			sess.SendClose(1000, nil)
		}})
	case "/updateReports":
		agent := q.Get("agent")
		h, err := acceptHandshake(w, r, nil)
		if err != nil {
			return
		}
		// Cases whose connections are still ending finish first, so the
		// reports hold every case the agent ran.
		s.running.Wait()
		s.mu.Lock()
		s.updated[agent] = true
		s.mu.Unlock()
		newSession(h, false, s.opts).play(ctx, Case{ID: "updateReports", Run: func(sess *Session) {
			sess.ExpectClose(CloseExpectation{ByMe: true, Codes: []int{1000}})
			sess.SendClose(1000, nil)
		}})
	case "/runCase":
		n, err := strconv.Atoi(q.Get("case"))
		if err != nil || n < 1 || n > len(s.cases) {
			http.Error(w, "case must be a number from 1 to "+strconv.Itoa(len(s.cases)), http.StatusNotFound)
			return
		}
		agent := q.Get("agent")
		c := s.cases[n-1]
		s.running.Add(1)
		defer s.running.Done()
		h, err := acceptHandshake(w, r, c.Answer)
		if err != nil {
			return
		}
		res := newSession(h, false, s.opts).play(ctx, c)
		s.mu.Lock()
		if s.results[agent] == nil {
			s.results[agent] = map[int]Result{}
		}
		s.results[agent][n-1] = res
		s.mu.Unlock()
	default:
		http.NotFound(w, r)
	}
}

// Results returns the results of the cases agent has run, in case order.
func (s *Server) Results(agent string) []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Result
	for i := range s.cases {
		if r, ok := s.results[agent][i]; ok {
			out = append(out, r)
		}
	}
	return out
}

// ReportsUpdated reports whether agent has asked for /updateReports.
func (s *Server) ReportsUpdated(agent string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updated[agent]
}
