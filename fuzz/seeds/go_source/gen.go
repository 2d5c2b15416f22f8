// Code generated for the fixture; left out as a whole.

// coverage-ignore-file

package calc

// Generated is never called by the tests.
func Generated(x int) int {
	if x > 0 {
		return x
	}
	return -x
}
