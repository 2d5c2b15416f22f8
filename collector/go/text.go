package covflush

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteText writes the legacy text profile for one meta-data file and one
// counter file, byte for byte as `go tool covdata textfmt` would: every unit
// of every function (0 when the function has no counters), packages sorted
// by import path, units by (file, start line, end line, start col, end col,
// statements).
func WriteText(w io.Writer, m *Meta, c *Counters) error {
	if c != nil && c.Hash != m.Hash {
		return fmt.Errorf("counter data is for meta-data %x, not %x", c.Hash, m.Hash)
	}
	type line struct {
		file string
		u    Unit
		n    uint32
	}
	// cformat keys a unit by (package, file, function, literal, unit):
	// repeats add up (saturating), or OR in set mode.
	type key struct {
		pkg, file, fn string
		lit           bool
		u             Unit
	}
	seen := map[key]int{}
	byPkg := map[string][]line{}
	var paths []string
	for pi, p := range m.Packages {
		if _, ok := byPkg[p.Path]; !ok {
			paths = append(paths, p.Path)
			byPkg[p.Path] = nil
		}
		for fi, f := range p.Funcs {
			var ctrs []uint32
			if c != nil {
				ctrs = c.Funcs[[2]uint32{uint32(pi), uint32(fi)}]
			}
			for ui, u := range f.Units {
				var n uint32
				if ui < len(ctrs) {
					n = ctrs[ui]
				}
				if m.Mode == "set" && n != 0 {
					n = 1
				}
				k := key{p.Path, f.Srcfile, f.Name, f.Lit, u}
				if i, ok := seen[k]; ok {
					l := &byPkg[p.Path][i]
					if m.Mode == "set" {
						l.n |= n
					} else if l.n+n < l.n {
						l.n = ^uint32(0)
					} else {
						l.n += n
					}
					continue
				}
				seen[k] = len(byPkg[p.Path])
				byPkg[p.Path] = append(byPkg[p.Path], line{f.Srcfile, u, n})
			}
		}
	}
	slices.Sort(paths)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "mode: %s\n", m.Mode)
	for _, path := range paths {
		lines := byPkg[path]
		slices.SortStableFunc(lines, func(a, b line) int {
			return cmp.Or(
				strings.Compare(a.file, b.file),
				cmp.Compare(a.u.StLine, b.u.StLine),
				cmp.Compare(a.u.EnLine, b.u.EnLine),
				cmp.Compare(a.u.StCol, b.u.StCol),
				cmp.Compare(a.u.EnCol, b.u.EnCol),
				cmp.Compare(a.u.NxStmts, b.u.NxStmts),
			)
		})
		for _, l := range lines {
			fmt.Fprintf(bw, "%s:%d.%d,%d.%d %d %d\n", l.file,
				l.u.StLine, l.u.StCol, l.u.EnLine, l.u.EnCol, l.u.NxStmts, l.n)
		}
	}
	return bw.Flush()
}
