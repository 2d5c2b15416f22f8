// Package lines uses line directives that keep the file name, so the
// profile and the extents both use the adjusted positions.
package lines

// A is before any directive.
func A(x int) int {
	if x > 0 {
		return 1
	}
	return 2
}

//line lines.go:100
func B(x int) int {
	if x > 0 {
		return 1
	}
	return 2
}

/*line lines.go:200:5*/ func C(x int) int {
	if x > 0 {
		return 1
	}
	return 2
}

//line :300:7
func D(x int) int {
	if x > 0 {
		return 1
	}
	return 2
}
