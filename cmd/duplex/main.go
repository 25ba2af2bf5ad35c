// Command duplex pokes, serves, bridges and load-tests WebSocket endpoints.
//
// Usage:
//
//	duplex serve     [flags]                serve /echo, the chat page, /chat and /metrics
//	duplex connect   [flags] URL            talk to a WebSocket server from stdin/stdout or a terminal
//	duplex autobahn  [flags] URL --agent N  run as the echo client of an Autobahn-style fuzzing server
//	duplex exec      [flags] -- PROGRAM...  run PROGRAM for every WebSocket connection
//	duplex bench     [flags] URL            generate load against an echo endpoint
//	duplex --version
//
// Every subcommand answers --help. Usage mistakes and bad URLs end with a
// one-line error and exit status 2; failures at run time with exit status 1.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/duplexws/websocket/xconnect" // WebSockets over HTTP/2 in duplex serve and exec
)

// command is one subcommand of duplex.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// commands lists the subcommands in the order of the top-level help.
func commands() []command {
	return []command{
		{"serve", "serve /echo, a chat page, /chat and /metrics", runServe},
		{"connect", "send stdin lines to a WebSocket server and print what it sends", runConnect},
		{"autobahn", "echo client for an Autobahn-style fuzzing server", runAutobahn},
		{"exec", "run a program for every WebSocket connection", runExec},
		{"bench", "load-test a WebSocket echo endpoint", runBench},
	}
}

// cliEnv is the outside world of one run of duplex: its standard streams.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit status.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		printTopUsage(env.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printTopUsage(env.stdout)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintln(env.stdout, versionString())
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitStatus(env, c.name, c.run(ctx, env, args[1:]))
		}
	}
	fmt.Fprintf(env.stderr, "duplex: unknown command %q (see duplex --help)\n", args[0])
	return 2
}

// exitStatus reports err on one line and maps it to the exit status:
// 0 for success and --help, 2 for usage mistakes, 1 for everything else.
func exitStatus(env *cliEnv, name string, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.stderr, "duplex %s: %s (see duplex %s --help)\n", name, oneLine(ue.msg), name)
		return 2
	}
	fmt.Fprintf(env.stderr, "duplex %s: %s\n", name, oneLine(err.Error()))
	return 1
}

func printTopUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: duplex COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'duplex COMMAND --help' for the flags of a command; 'duplex --version' for the version.")
}
