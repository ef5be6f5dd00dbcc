// Command opa-build is the part of the OPA CLI that keywarden runs to build a policy, compiled to
// WebAssembly (GOOS=wasip1 GOARCH=wasm) so an installed package needs no `opa` binary. It answers
// the same invocations, with the same flags and outputs, as OPA v1.22.3's CLI does for
// src/policy/engine/build.ts:
//
//	opa-build version
//	opa-build capabilities --current
//	opa-build check --strict --capabilities caps.json --format json a.rego b.rego
//	opa-build build -t wasm --capabilities caps.json -e pkg/rule … -o bundle.tar.gz a.rego b.rego
//
// Each follows the matching cmd/*.go of OPA (loader, compiler and compile.Compiler options);
// any other command or flag is refused (exit 2). It reads and writes only the files named, all
// inside the one folder the host preopens; of the environment it reads only GOMEMLIMIT (the Go
// runtime does).
//
// `opa-build serve` (serve.go) runs such commands one after another in one instance, as the host
// asks for them, so the module is instantiated and initialised once, not once per command.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/compile"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: opa-build version | capabilities --current | check … | build …")
		return 2
	}
	switch args[0] {
	case "serve":
		if len(args) != 1 {
			fmt.Fprintln(stderr, "usage: opa-build serve")
			return 2
		}
		return serve()
	case "version":
		fmt.Fprintf(stdout, "Version: %s\nBuilder: keywarden opa-wasm-builder (%s)\n", version.Version, version.GoVersion)
		return 0
	case "capabilities":
		return capabilities(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stderr)
	case "build":
		return build(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown command %q\n", args[0])
	return 2
}

func currentCapabilities() *ast.Capabilities {
	return ast.CapabilitiesForThisVersion(ast.CapabilitiesRegoVersion(ast.DefaultRegoVersion))
}

func capabilities(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("capabilities", flag.ContinueOnError)
	fs.SetOutput(stderr)
	current := fs.Bool("current", false, "print current capabilities")
	if err := fs.Parse(args); err != nil || !*current || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: opa-build capabilities --current")
		return 2
	}
	bs, err := json.MarshalIndent(currentCapabilities(), "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, string(bs))
	return 0
}

// capabilitiesFile loads --capabilities like OPA's flag does for a path (versions are not offered).
func capabilitiesFile(path string) (*ast.Capabilities, error) {
	if path == "" {
		return currentCapabilities(), nil
	}
	return ast.LoadCapabilitiesFile(path)
}

// check is `opa check` (cmd/check.go, file mode): parse and compile, every error as JSON on stderr.
func check(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "enable compiler strict mode")
	caps := fs.String("capabilities", "", "capabilities.json file path")
	format := fs.String("format", "json", "output format (json only)")
	errLimit := fs.Int("max-errors", ast.CompileErrorLimitDefault, "errors before compilation stops")
	if err := fs.Parse(args); err != nil || *format != "json" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: opa-build check [--strict] [--capabilities file] --format json <path>…")
		return 2
	}
	c, err := capabilitiesFile(*caps)
	if err != nil {
		return writeErrors(stderr, err)
	}
	result, err := loader.NewFileLoader().
		WithRegoVersion(ast.DefaultRegoVersion).
		WithProcessAnnotation(true).
		WithBundleLazyLoadingMode(bundle.HasExtension()).
		WithCapabilities(c).
		Filtered(fs.Args(), onlyRego)
	if err != nil {
		return writeErrors(stderr, err)
	}
	compiler := ast.NewCompiler().
		SetErrorLimit(*errLimit).
		WithCapabilities(c).
		WithEnablePrintStatements(true).
		WithStrict(*strict).
		WithUseTypeCheckAnnotations(true)
	if compiler.Compile(result.ParsedModules()); compiler.Failed() {
		return writeErrors(stderr, compiler.Errors)
	}
	return 0
}

// onlyRego is OPA's ignoredOnlyRego(nil): skip every file that is not a .rego module.
func onlyRego(_ string, info os.FileInfo, _ int) bool {
	return !info.IsDir() && !strings.HasSuffix(info.Name(), bundle.RegoExt)
}

// build is `opa build` (cmd/build.go, file mode, no signing): the bundle goes to -o.
func build(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("t", compile.TargetRego, "output bundle target type")
	caps := fs.String("capabilities", "", "capabilities.json file path")
	output := fs.String("o", "bundle.tar.gz", "output filename")
	optimize := fs.Int("O", 0, "optimization level")
	var entrypoints []string
	fs.Func("e", "slash separated entrypoint path (repeatable)", func(s string) error {
		entrypoints = append(entrypoints, s)
		return nil
	})
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: opa-build build -t wasm [--capabilities file] -e entrypoint… -o out.tar.gz <path>…")
		return 2
	}
	c, err := capabilitiesFile(*caps)
	if err != nil {
		fmt.Fprintln(stdout, "error:", err)
		return 1
	}
	out, err := os.Create(*output)
	if err != nil {
		fmt.Fprintln(stdout, "error:", err)
		return 1
	}
	compiler := compile.New().
		WithCapabilities(c).
		WithTarget(*target).
		WithOptimizationLevel(*optimize).
		WithOutput(out).
		WithEntrypoints(entrypoints...).
		WithRegoAnnotationEntrypoints(true).
		WithPaths(fs.Args()...).
		WithFilter(func(abspath string, info os.FileInfo, _ int) bool {
			return !info.IsDir() && strings.HasSuffix(abspath, ".tar.gz")
		}).
		WithBundleLazyLoadingMode(bundle.HasExtension()).
		WithPartialNamespace("partial").
		WithRegoVersion(ast.DefaultRegoVersion).
		WithEnablePrintStatements(false)
	err = compiler.Build(context.Background())
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stdout, "error:", err)
		return 1
	}
	return 0
}

// outputError is one entry of `opa check --format json` (internal/presentation.OutputError).
type outputError struct {
	Message  string        `json:"message"`
	Code     string        `json:"code,omitempty"`
	Location *ast.Location `json:"location,omitempty"`
	Details  any           `json:"details,omitempty"`
}

// outputErrors flattens err as internal/presentation.NewOutputErrors does: known structured
// errors one by one, wrappers unwrapped when that reveals structure, anything else as its text.
func outputErrors(err error) []outputError {
	var out []outputError
	switch e := err.(type) {
	case *ast.Error:
		return []outputError{{Code: e.Code, Message: e.Message, Details: e.Details, Location: e.Location}}
	case ast.Errors:
		for _, x := range e {
			if x != nil {
				out = append(out, outputErrors(x)...)
			}
		}
		return out
	case loader.Errors:
		for _, x := range e {
			if x != nil {
				out = append(out, outputErrors(x)...)
			}
		}
		return out
	}
	if inner := errors.Unwrap(err); inner != nil {
		if unwrapped := outputErrors(inner); slices.ContainsFunc(unwrapped, func(o outputError) bool { return o.Code != "" }) {
			return unwrapped
		}
	}
	return []outputError{{Message: err.Error()}}
}

func writeErrors(w io.Writer, err error) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if e := enc.Encode(struct {
		Errors []outputError `json:"errors"`
	}{outputErrors(err)}); e != nil {
		fmt.Fprintln(w, err)
	}
	return 1
}
