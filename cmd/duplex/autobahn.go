package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

func runAutobahn(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "autobahn", "[flags] URL --agent NAME",
		"Run as the echo client of an Autobahn-style fuzzing server at URL: ask /getCaseCount,\n"+
			"echo every message of /runCase?case=N&agent=NAME for each case until the server\n"+
			"closes, then ask /updateReports?agent=NAME to write the reports.")
	agent := fs.String("agent", "duplex", "agent `name` the results are filed under")
	noDeflate := fs.Bool("no-deflate", false, "do not offer permessage-deflate")
	caseTimeout := fs.Duration("case-timeout", 60*time.Second, "bound on one case")
	quiet := fs.Bool("quiet", false, "print only the summary, not a line per case")
	base, err := urlArg(fs, args)
	if err != nil {
		return err
	}
	if err := checkFlags(flagRule{"agent", *agent != "", "must not be empty"}, positive("case-timeout", *caseTimeout)); err != nil {
		return err
	}
	opts := &websocket.DialOptions{ReadLimit: -1}
	if !*noDeflate {
		opts.Compression = &websocket.CompressionOptions{}
	}

	n, err := autobahnCaseCount(ctx, base, opts)
	if err != nil {
		return fmt.Errorf("getCaseCount: %w", err)
	}
	fmt.Fprintf(env.stdout, "autobahn: %d cases, agent %s\n", n, *agent)
	start := time.Now()
	failed := 0
	for i := 1; i <= n; i++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u := endpoint(base, "runCase", url.Values{"case": {strconv.Itoa(i)}, "agent": {*agent}})
		cctx, cancel := context.WithTimeout(ctx, *caseTimeout)
		t0 := time.Now()
		res, err := autobahnCase(cctx, u, opts)
		cancel()
		if err != nil {
			failed++
			res = "error: " + err.Error()
		}
		if !*quiet {
			fmt.Fprintf(env.stdout, "autobahn: case %d/%d: %s (%v)\n", i, n, res, time.Since(t0).Round(time.Millisecond))
		}
	}
	if err := autobahnUpdateReports(ctx, base, *agent, opts); err != nil {
		return fmt.Errorf("updateReports: %w", err)
	}
	fmt.Fprintf(env.stdout, "autobahn: ran %d cases in %v; %d could not run; reports updated for %s\n",
		n, time.Since(start).Round(time.Millisecond), failed, *agent)
	return nil
}

// endpoint returns base with its path replaced by /name (kept under any
// prefix base has) and the query q.
func endpoint(base *url.URL, name string, q url.Values) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + name
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String()
}

// autobahnCaseCount reads the single text message of /getCaseCount.
func autobahnCaseCount(ctx context.Context, base *url.URL, opts *websocket.DialOptions) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, endpoint(base, "getCaseCount", nil), opts)
	if err != nil {
		return 0, err
	}
	defer c.CloseNow()
	typ, p, err := c.Read(ctx)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(p)))
	if typ != websocket.MessageText || err != nil || n < 0 {
		return 0, fmt.Errorf("the answer %q is not a case count", p)
	}
	c.Close(websocket.StatusNormalClosure, "")
	return n, nil
}

// autobahnCase echoes every message of one case until the server closes, and
// describes how the connection ended.
func autobahnCase(ctx context.Context, u string, opts *websocket.DialOptions) (string, error) {
	c, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		return "", err
	}
	defer c.CloseNow()
	msgs := 0
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			if ce := closeError(err); ce != nil {
				return fmt.Sprintf("%d messages echoed, closed with %d", msgs, int(ce.Code)), nil
			}
			if errors.Is(err, context.DeadlineExceeded) {
				return "", fmt.Errorf("timed out after %d messages", msgs)
			}
			return fmt.Sprintf("%d messages echoed, ended: %v", msgs, err), nil
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return fmt.Sprintf("%d messages echoed, write ended: %v", msgs, err), nil
		}
		msgs++
	}
}

// autobahnUpdateReports asks the server to write the reports of agent.
func autobahnUpdateReports(ctx context.Context, base *url.URL, agent string, opts *websocket.DialOptions) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, endpoint(base, "updateReports", url.Values{"agent": {agent}}), opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	// The server closes once the reports are written; wait for that.
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if closeError(err) != nil || errors.Is(err, websocket.ErrClosed) {
				return nil
			}
			return err
		}
	}
}
