package scenarios

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Problem is one thing wrong with a scenario file.
type Problem struct {
	Pos  Pos
	What string // what was wrong
	Want string // what was expected instead
}

// String renders the problem as `file:line: what was wrong; what was expected`.
func (p Problem) String() string {
	s := p.Pos.String() + ": " + p.What
	if p.Want != "" {
		s += "; " + p.Want
	}
	return s
}

// Error lists every problem found in one or more scenario files, in file and
// line order.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// newError sorts the problems and returns nil when there are none.
func newError(probs []Problem) error {
	if len(probs) == 0 {
		return nil
	}
	sort.SliceStable(probs, func(i, j int) bool {
		a, b := probs[i].Pos, probs[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &Error{Problems: probs}
}

// Problems returns the problems in err if it is (or wraps) an *Error.
func Problems(err error) []Problem {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}

// posError is returned from UnmarshalYAML methods so that goccy/go-yaml hands
// it back unchanged with its position.
type posError struct {
	tok  *token.Token
	what string
	want string
}

func (e *posError) Error() string { return e.what + "; " + e.want }

func positioned(node ast.Node, what, want string) error {
	return &posError{tok: node.GetToken(), what: what, want: want}
}

func posOfToken(file string, tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: tk.Position.Line, Column: tk.Position.Column}
}

func posOf(file string, node ast.Node) Pos {
	if node == nil {
		return Pos{File: file}
	}
	// A mapping's own token is its first ':'; point at the first key instead.
	switch n := node.(type) {
	case *ast.MappingNode:
		if len(n.Values) > 0 {
			return posOf(file, n.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return posOf(file, n.Key)
	}
	return posOfToken(file, node.GetToken())
}

// describeNode names what a YAML node holds, for messages.
func describeNode(node ast.Node) string {
	switch n := node.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return fmt.Sprintf("the text %q", n.Value)
	case *ast.IntegerNode:
		return "the number " + n.GetToken().Value
	case *ast.FloatNode:
		return "the number " + n.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + n.GetToken().Value
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.AliasNode:
		return "an alias"
	}
	return "a " + strings.ToLower(node.Type().String())
}

func oneOf(vals []string) string {
	return "expected one of: " + strings.Join(vals, ", ")
}
