package websocket_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The tests of this file hold README.md to the code: its Go snippets
// type-check against the current packages, and the Duplex names its
// migration tables give exist.

// readmeSnippet is one ```go block of README.md.
type readmeSnippet struct {
	line int // of the snippet's first line of code, counting from 1
	code string
}

// readmeGoSnippets returns the ```go blocks of a Markdown text.
func readmeGoSnippets(readme string) []readmeSnippet {
	var snippets []readmeSnippet
	var cur *readmeSnippet
	for i, line := range strings.Split(readme, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &readmeSnippet{line: i + 2}
		case cur != nil && strings.TrimSpace(line) == "```":
			snippets = append(snippets, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		}
	}
	return snippets
}

// readmeSection returns the section of README.md under heading, up to the
// next heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no section %q", heading)
	}
	section := string(readme[start+1:])
	if end := strings.Index(section[len(heading):], "\n## "); end >= 0 {
		section = section[:len(heading)+end+1]
	}
	return section
}

// snippetImports are the package names README snippets use unimported, and
// the modules whose directory resolves them ("" for the root module): chi's
// router is a dependency of internal/interop, not of the library.
var snippetImports = map[string]struct{ path, module string }{
	"websocket":  {"github.com/duplexws/websocket", ""},
	"hub":        {"github.com/duplexws/websocket/hub", ""},
	"context":    {"context", ""},
	"errors":     {"errors", ""},
	"fmt":        {"fmt", ""},
	"http":       {"net/http", ""},
	"io":         {"io", ""},
	"log":        {"log", ""},
	"net":        {"net", ""},
	"os":         {"os", ""},
	"strings":    {"strings", ""},
	"time":       {"time", ""},
	"chi":        {"github.com/go-chi/chi/v5", "internal/interop"},
	"middleware": {"github.com/go-chi/chi/v5/middleware", "internal/interop"},
}

// snippetGiven declares the names README snippets take from the program
// around them.
const snippetGiven = `
var (
	ctx   context.Context
	token string
	mux   *http.ServeMux
	w     http.ResponseWriter
	r     *http.Request
)
`

// snippetImporter imports the packages of snippetImports from the export
// data the go command builds (and caches) for them, each module's from its
// own directory: a file's imports resolve in the module of its directory,
// as go/types asks through ImportFrom. Type-checking net/http from source
// instead takes tens of seconds under the race detector.
type snippetImporter map[string]types.Importer // by absolute module directory

// skipBelowModuleGo skips the test when the running Go is older than the
// go line of the module in dir (the library's compatibility run with its
// oldest Go cannot load internal/interop, which needs a newer one; the
// README is checked by the run with the newest).
func skipBelowModuleGo(t *testing.T, dir string) {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		return
	}
	if need := "go" + string(m[1]); version.IsValid(runtime.Version()) && version.Compare(runtime.Version(), need) < 0 {
		t.Skipf("%s needs %s, this is %s: the README's snippets are checked with the newer Go", dir, need, runtime.Version())
	}
}

func newSnippetImporter(t *testing.T, fset *token.FileSet) snippetImporter {
	t.Helper()
	byModule := map[string][]string{}
	for _, imp := range snippetImports {
		byModule[imp.module] = append(byModule[imp.module], imp.path)
	}
	// A module's snippets also import the root module's packages.
	for module := range byModule {
		if module != "" {
			for _, imp := range snippetImports {
				if imp.module == "" {
					byModule[module] = append(byModule[module], imp.path)
				}
			}
		}
	}
	si := snippetImporter{}
	for module, paths := range byModule {
		dir, err := filepath.Abs(module)
		if err != nil {
			t.Fatal(err)
		}
		skipBelowModuleGo(t, dir)
		cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -export in %s: %v\n%s", dir, err, stderr.Bytes())
		}
		exports := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if path, file, ok := strings.Cut(line, "\t"); ok {
				exports[path] = file
			}
		}
		si[dir] = importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
			file, ok := exports[path]
			if !ok || file == "" {
				return nil, fmt.Errorf("no export data for %q in %s", path, dir)
			}
			return os.Open(file)
		})
	}
	return si
}

// Import imports path as the root module sees it.
func (si snippetImporter) Import(path string) (*types.Package, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return nil, err
	}
	return si.ImportFrom(path, dir, 0)
}

// ImportFrom imports path as the module of dir sees it.
func (si snippetImporter) ImportFrom(path, dir string, _ types.ImportMode) (*types.Package, error) {
	imp, ok := si[dir]
	if !ok {
		return nil, fmt.Errorf("no module of the README's snippets in %s", dir)
	}
	return imp.Import(path)
}

// snippetFile makes a Go file of a snippet: its statements become the body
// of a function returning an error (a line "..." stands for code left out),
// or, if it holds declarations, the file's body. Imports are those of
// snippetImports the snippet names; a //line comment maps positions back
// to README.md. It returns the file's source and the module directory its
// imports resolve in.
func snippetFile(s readmeSnippet, readmePath string) (src, module string) {
	code := regexp.MustCompile(`(?m)^\s*\.\.\.\s*$`).ReplaceAllString(s.code, "")
	var imports []string
	for name, imp := range snippetImports {
		if regexp.MustCompile(`\b` + name + `\.`).MatchString(code) {
			imports = append(imports, fmt.Sprintf("\t%s %q\n", name, imp.path))
			if imp.module != "" {
				module = imp.module
			}
		}
	}
	for _, given := range []string{"context", "http"} {
		if !strings.Contains(strings.Join(imports, ""), "\t"+given+" ") {
			imports = append(imports, fmt.Sprintf("\t%s %q\n", given, snippetImports[given].path))
		}
	}
	sort.Strings(imports)
	head := "package readme\n\nimport (\n" + strings.Join(imports, "") + ")\n" + snippetGiven
	lineDirective := fmt.Sprintf("//line %s:%d\n", readmePath, s.line)
	body := head + "\nfunc _() error {\n" + lineDirective + code + "\treturn nil\n}\n"
	if _, err := parser.ParseFile(token.NewFileSet(), "", body, 0); err != nil {
		if _, declErr := parser.ParseFile(token.NewFileSet(), "", head+lineDirective+code, 0); declErr == nil {
			return head + lineDirective + code, module
		}
	}
	return body, module
}

// checkSnippet type-checks a snippet; it returns the errors that matter
// (a snippet may leave variables and imports unused).
func checkSnippet(fset *token.FileSet, imp snippetImporter, s readmeSnippet) []error {
	readmePath, err := filepath.Abs("README.md")
	if err != nil {
		return []error{err}
	}
	src, module := snippetFile(s, readmePath)
	dir, err := filepath.Abs(module)
	if err != nil {
		return []error{err}
	}
	// The file's directory is where its imports resolve.
	f, err := parser.ParseFile(fset, filepath.Join(dir, "readme_snippet.go"), src, parser.SkipObjectResolution)
	if err != nil {
		return []error{err}
	}
	var errs []error
	conf := types.Config{
		Importer: imp,
		Error: func(err error) {
			msg := err.Error()
			if strings.Contains(msg, "declared and not used") || strings.Contains(msg, "imported and not used") {
				return
			}
			errs = append(errs, err)
		},
	}
	conf.Check("readme", fset, []*ast.File{f}, nil)
	return errs
}

// TestReadmeSnippets type-checks every Go snippet of README.md against the
// packages as they are, each as the body of a function (or as a file when
// it declares functions or types), with the names it takes as given
// declared in snippetGiven: a snippet naming an option, method or function
// that does not exist, or calling one with the wrong arguments, fails here,
// at its line of README.md. The migration section's snippet (chi) resolves
// its imports in internal/interop, the module that requires chi. The test
// also checks that the checker fails wrong snippets.
func TestReadmeSnippets(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := readmeGoSnippets(string(readme))
	if len(snippets) < 7 {
		t.Fatalf("found %d Go snippets in README.md; want every one", len(snippets))
	}
	migration := readmeSection(t, "## Coming from gorilla/websocket or coder/websocket")
	if len(readmeGoSnippets(migration)) == 0 {
		t.Fatal("found no Go snippet in the migration section")
	}
	fset := token.NewFileSet()
	imp := newSnippetImporter(t, fset)
	for _, s := range snippets {
		for _, err := range checkSnippet(fset, imp, s) {
			t.Errorf("snippet at README.md:%d: %v", s.line, err)
		}
	}

	// The checker fails a snippet with a wrong name, argument or result
	// count, and passes the same snippet right.
	good := "c, _, err := websocket.Dial(ctx, \"ws://h/\", &websocket.DialOptions{Subprotocols: []string{\"a\"}})\nif err != nil {\n\treturn err\n}\n...\nc.Close(websocket.StatusNormalClosure, \"\")\n"
	if errs := checkSnippet(fset, imp, readmeSnippet{line: 1, code: good}); len(errs) > 0 {
		t.Fatalf("a right snippet fails: %v", errs)
	}
	for _, bad := range []string{
		strings.Replace(good, "Subprotocols", "SubProtocols", 1),
		strings.Replace(good, "StatusNormalClosure", "StatusNormal", 1),
		strings.Replace(good, "c, _, err :=", "c, err :=", 1),
		strings.Replace(good, "ctx,", "", 1),
		strings.Replace(good, "c.Close(", "c.Shut(", 1),
		"pm, err := websocket.NewPreparedMessage(websocket.MessageText, nil)\n",
	} {
		errs := checkSnippet(fset, imp, readmeSnippet{line: 10, code: bad})
		if len(errs) == 0 {
			t.Errorf("a wrong snippet passes:\n%s", bad)
			continue
		}
		if !strings.Contains(errs[0].Error(), "README.md:1") {
			t.Errorf("the error does not point into README.md: %v", errs[0])
		}
	}
}

// TestReadmeMigrationNames checks that every Go name the Duplex column of
// the README's migration tables gives exists: in `websocket.X` X is a name
// of the package, in `T.F` (T a type of the package) F is a field or method
// of T, in `T{F: ...}` F is a field of T, a bare exported name is a name of
// the package or a field or method of one of its types, and `v.M` (v a
// variable) names a field or method of one. Where the column says "the
// same", the left column's names are checked as Duplex's.
func TestReadmeMigrationNames(t *testing.T) {
	t.Parallel()
	section := readmeSection(t, "## Coming from gorilla/websocket or coder/websocket")
	fset := token.NewFileSet()
	imp := newSnippetImporter(t, fset)
	pkgs := map[string]*types.Package{}
	for name, path := range map[string]string{"websocket": "github.com/duplexws/websocket", "http": "net/http", "net": "net", "context": "context"} {
		p, err := imp.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[name] = p
	}
	names := 0
	for _, line := range strings.Split(section, "\n") {
		m := tableRow.FindStringSubmatch(line)
		if m == nil || m[2] == "Duplex" {
			continue
		}
		cell := m[2]
		if strings.HasPrefix(cell, "the same") {
			cell = m[1]
		}
		for _, span := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
			n, errs := checkDuplexNames(pkgs, span[1])
			names += n
			for _, err := range errs {
				t.Errorf("%v in `%s`: %s", err, span[1], line)
			}
		}
	}
	if names < 100 {
		t.Errorf("checked %d names in the migration tables; want the tables whole", names)
	}
	for _, wrong := range []string{"websocket.AcceptOption{}", "AcceptOptions.CheckOrigins", "c.ReadJSONs(ctx)",
		"websocket.DialOptions{HTTPClientt: c}", "OnPingConnection", "Statuss...", "http.Client{Jarr: jar}"} {
		if _, errs := checkDuplexNames(pkgs, wrong); len(errs) == 0 {
			t.Errorf("`%s` passes", wrong)
		}
	}
}

// checkDuplexNames checks the names of a code span of the migration tables
// (see TestReadmeMigrationNames); it returns how many it checked and what
// it found wrong.
func checkDuplexNames(pkgs map[string]*types.Package, span string) (int, []error) {
	var s scanner.Scanner
	fset := token.NewFileSet()
	src := []byte(span)
	s.Init(fset.AddFile("", -1, len(src)), src, nil, 0)
	type tok struct {
		tok token.Token
		lit string
	}
	var toks []tok
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		if t == token.SEMICOLON && lit == "\n" {
			continue
		}
		toks = append(toks, tok{t, lit})
	}
	duplex := pkgs["websocket"]
	// memberOfAny returns a field or method called name of some named type
	// of the package, or nil.
	memberOfAny := func(name string) types.Object {
		for _, n := range duplex.Scope().Names() {
			if tn, ok := duplex.Scope().Lookup(n).(*types.TypeName); ok {
				if obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(tn.Type()), true, duplex, name); obj != nil {
					return obj
				}
			}
		}
		return nil
	}
	member := func(typ types.Type, name string) types.Object {
		obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(typ), true, duplex, name)
		if obj == nil {
			obj, _, _ = types.LookupFieldOrMethod(typ, true, duplex, name)
		}
		return obj
	}
	var errs []error
	checked := 0
	var braces []types.Type // the composite literal types of the open braces
	var last types.Type     // the type the last chain named, if any
	for i := 0; i < len(toks); i++ {
		if toks[i].tok == token.LBRACE {
			braces = append(braces, last)
			last = nil
			continue
		}
		if toks[i].tok == token.RBRACE && len(braces) > 0 {
			braces = braces[:len(braces)-1]
		}
		if toks[i].tok != token.IDENT || (i > 0 && toks[i-1].tok == token.PERIOD) {
			if toks[i].tok != token.PERIOD {
				last = nil
			}
			continue
		}
		// A chain: IDENT (. IDENT)*.
		chain := []string{toks[i].lit}
		for i+2 < len(toks) && toks[i+1].tok == token.PERIOD && toks[i+2].tok == token.IDENT {
			chain = append(chain, toks[i+2].lit)
			i += 2
		}
		wildcard := i+1 < len(toks) && toks[i+1].tok == token.ELLIPSIS
		first := chain[0]
		var typ types.Type
		rest := chain[1:]
		switch {
		case pkgs[first] != nil:
			if len(rest) == 0 {
				continue
			}
			checked++
			obj := pkgs[first].Scope().Lookup(rest[0])
			if obj == nil && wildcard {
				if !slices.ContainsFunc(pkgs[first].Scope().Names(), func(n string) bool { return strings.HasPrefix(n, rest[0]) }) {
					errs = append(errs, fmt.Errorf("%s has no name beginning %s", first, rest[0]))
				}
				continue
			}
			if obj == nil {
				errs = append(errs, fmt.Errorf("%s.%s does not exist", first, rest[0]))
				continue
			}
			typ = obj.Type()
			if _, ok := obj.(*types.Func); ok {
				typ = nil // what follows is a call's result
			}
			rest = rest[1:]
		case !token.IsExported(first):
			// A variable of the reader's: what it selects is a member of
			// some type of the package.
			if len(rest) > 0 {
				checked++
				if memberOfAny(rest[0]) == nil {
					errs = append(errs, fmt.Errorf("no type of the package has %s", rest[0]))
				}
			}
			continue
		case len(braces) > 0 && braces[len(braces)-1] != nil && len(rest) == 0 && i+1 < len(toks) &&
			(toks[i+1].tok == token.COLON || toks[i+1].tok == token.COMMA || toks[i+1].tok == token.RBRACE):
			checked++
			if member(braces[len(braces)-1], first) == nil {
				errs = append(errs, fmt.Errorf("%s has no field %s", braces[len(braces)-1], first))
			}
			continue
		default:
			checked++
			obj := duplex.Scope().Lookup(first)
			if obj == nil {
				// A field or method named alone (`OnPing`), or followed
				// by what it selects (`HTTPClient.Timeout`).
				if m := memberOfAny(first); m != nil {
					obj = types.NewVar(token.NoPos, duplex, first, m.Type())
				}
			}
			switch {
			case obj == nil && wildcard:
				if !slices.ContainsFunc(duplex.Scope().Names(), func(n string) bool { return strings.HasPrefix(n, first) }) {
					errs = append(errs, fmt.Errorf("no name of the package begins %s", first))
				}
				continue
			case obj == nil:
				errs = append(errs, fmt.Errorf("%s is not a name of the package", first))
				continue
			}
			typ = obj.Type()
			if _, ok := obj.(*types.Func); ok {
				typ = nil
			}
		}
		for _, name := range rest {
			checked++
			if typ == nil {
				break
			}
			obj := member(typ, name)
			if obj == nil {
				errs = append(errs, fmt.Errorf("%s has no field or method %s", typ, name))
				break
			}
			if _, ok := obj.(*types.Var); ok {
				typ = obj.Type()
			} else {
				typ = nil // a method: what follows is a call's result
			}
		}
		last = typ
	}
	return checked, errs
}
