// Package scenario reads the language-neutral hook-trace scenarios,
// tests/scenarios.json: the scenarios that tests/test_hook_traces.py runs
// against CPython's module, pyref and the Go-backed drop-in, and that this
// package's test runs against the Go packages natively (server, threading,
// forking and handler, with Go hooks recording the same traces through the
// outermost value's overrides). The file's "fields" entry documents the
// format; Scenario mirrors it.
package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Behaviour is what an overridden hook does instead of calling the base
// implementation: raise an exception (Raise names the Python class, Args
// its arguments) or return a value (Return, JSON; verify_request's is a
// bool). With Super the base implementation runs first.
type Behaviour struct {
	Raise  string          `json:"raise,omitempty"`
	Args   []any           `json:"args,omitempty"`
	Return json.RawMessage `json:"return,omitempty"`
	Super  bool            `json:"super,omitempty"`
}

// Handle is the handler's handle(): Echo, or a Behaviour.
type Handle struct {
	Echo      bool
	Behaviour *Behaviour
}

// UnmarshalJSON accepts "echo" or a behaviour object.
func (h *Handle) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		if s != "echo" {
			return fmt.Errorf("handle: unknown %q", s)
		}
		h.Echo = true
		return nil
	}
	var b Behaviour
	if err := strictUnmarshal(data, &b); err != nil {
		return fmt.Errorf("handle: %w", err)
	}
	h.Behaviour = &b
	return nil
}

// Scenario is one entry of the "scenarios" list.
type Scenario struct {
	Name            string               `json:"name"`
	Note            string               `json:"note"`
	Server          string               `json:"server"`
	Features        []string             `json:"features"`
	HandlerBase     string               `json:"handler_base"`
	Handle          *Handle              `json:"handle"`
	HandleDelay     float64              `json:"handle_delay"`
	HandlerHooks    map[string]Behaviour `json:"handler_hooks"`
	HandlerAttrs    map[string]any       `json:"handler_attrs"`
	Hooks           map[string]Behaviour `json:"hooks"`
	Attrs           map[string]any       `json:"attrs"`
	Construct       string               `json:"construct"`
	ConstructRaises string               `json:"construct_raises"`
	Client          string               `json:"client"`
	Drive           string               `json:"drive"`
	Raises          string               `json:"raises"`
	Reply           string               `json:"reply"`
	ReplySize       *int                 `json:"reply_size"`
	ExitCode        *int                 `json:"exit_code"`
	LeftOpen        bool                 `json:"left_open"`
	StderrReport    bool                 `json:"stderr_report"`
	Collapse        []string             `json:"collapse"`
	Expected        map[string]string    `json:"expected"`
	// Differs311 concerns CPython 3.11's module only (pytest's
	// differs_311 mark).
	Differs311 map[string]string `json:"differs_311"`
	GoSkip     string            `json:"go_skip"`
}

// File is the whole scenarios.json.
type File struct {
	About  string            `json:"about"`
	Trace  string            `json:"trace"`
	Fields map[string]string `json:"fields"`
	// NotInScenarios maps the FEATURES rows no scenario covers to the
	// reason.
	NotInScenarios map[string]string `json:"not_in_scenarios"`
	Scenarios      []Scenario        `json:"scenarios"`
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Path finds tests/scenarios.json in the module root: the nearest
// directory, from the working directory upwards, holding go.mod.
func Path() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "tests", "scenarios.json"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scenario: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads and checks the scenarios file at path: unknown fields, a
// missing name, server or expected trace, and duplicate names are errors;
// Client defaults to "line", Drive to "handle_request" and Construct to
// "server_bind server_activate".
func Load(path string) ([]Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := strictUnmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		if sc.Name == "" || sc.Server == "" || len(sc.Expected) == 0 {
			return nil, fmt.Errorf("%s: scenario %d: name, server and expected are required", path, i)
		}
		if seen[sc.Name] {
			return nil, fmt.Errorf("%s: scenario %s defined twice", path, sc.Name)
		}
		seen[sc.Name] = true
		if sc.Client == "" {
			sc.Client = "line"
		}
		if sc.Drive == "" {
			sc.Drive = "handle_request"
		}
		if sc.Construct == "" {
			sc.Construct = "server_bind server_activate"
		}
	}
	return f.Scenarios, nil
}
