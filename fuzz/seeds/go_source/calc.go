// Package calc has code that `// coverage-ignore` comments mark, in every
// place such a comment can stand, and some that only look like one.
package calc

import (
	"errors"
	"fmt"
)

// Must panics on an error; never called by the tests.
func Must(v int, err error) int { // coverage-ignore: a panic helper
	if err != nil {
		panic(err)
	}
	return v
}

// Div divides, refusing zero.
func Div(a, b int) (int, error) {
	if b == 0 { // coverage-ignore
		return 0, errors.New("division by zero")
	}
	return a / b, nil
}

// Sign says what sign x has.
func Sign(x int) string {
	if x > 0 {
		return "positive"
	} else if x < 0 { // coverage-ignore
		return "negative"
	} else { // coverage-ignore
		return "zero"
	}
}

// Kind names a value's type.
func Kind(v any) string {
	switch v.(type) {
	case int:
		return "int"
	case string: // coverage-ignore
		return "string"
	default:
		return "other"
	}
}

// Day names a weekday number.
func Day(n int) string {
	switch n { // coverage-ignore
	case 0:
		return "Sunday"
	case 6:
		return "Saturday"
	}
	switch {
	case n < 0:
		return "negative"
	case n > 6: // coverage-ignore
		return "too big"
	default:
	}
	return "weekday"
}

// Poll reads a channel without blocking.
func Poll(c chan int) (int, bool) {
	select {
	case v := <-c:
		return v, true
	default: // coverage-ignore
	}
	return 0, false
}

// Apply calls f on every element.
func Apply(xs []int, f func(int) int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	double := func(x int) int { // coverage-ignore
		return 2 * x
	}
	_ = double
	return out
}

// Looks reports text that only looks like an annotation.
func Looks(x int) string {
	s := "{ // coverage-ignore"
	if x > 0 { /* coverage-ignore */
		s += "!"
	}
	if x > 1 { // not coverage-ignore
		s += "?"
	}
	if x > 2 { // coverage-ignored is another word
		s += "."
	}
	if x > 3 {
		// coverage-ignore on its own line marks nothing
		s += fmt.Sprint(x)
	}
	return s
}
