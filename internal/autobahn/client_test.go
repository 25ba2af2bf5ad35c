package autobahn

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fast is the options the package's tests run with: Autobahn's second is
// shortened so the cases that wait run quickly.
var fast = &Options{Wait: 200 * time.Millisecond, CaseTimeout: 20 * time.Second}

func TestRunClientReferencePeer(t *testing.T) {
	url := wsURL(t, http.HandlerFunc(gorillaEcho))
	results := RunClient(context.Background(), url, Cases(1, 2), fast)
	var b strings.Builder
	Report(&b, results)
	for _, r := range results {
		if r.Verdict != OK {
			t.Errorf("%s: %s: %s", r.ID, r.Verdict, r.Reason)
		}
	}
	if t.Failed() {
		t.Log("\n" + b.String())
	}
}
