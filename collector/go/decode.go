package covflush

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// A small decoder for the two binary files the runtime hands us through
// runtime/coverage.WriteMeta and WriteCounters (layouts: Go's
// internal/coverage/defs.go). It exists because there is no public API that
// turns them into a text profile, and the Kubernetes mode needs one.

var (
	metaMagic    = [4]byte{0x00, 0x63, 0x76, 0x6d} // "\0cvm"
	counterMagic = [4]byte{0x00, 0x63, 0x77, 0x6d} // "\0cwm"
)

const (
	metaHeaderSize    = 56
	pkgHeaderSize     = 44
	counterHeaderSize = 32
	segmentHeaderSize = 16
	footerSize        = 16

	flavorRaw  = 1
	flavorULEB = 2
)

// Unit is one coverable block of a function.
type Unit struct {
	StLine, StCol, EnLine, EnCol, NxStmts uint32
}

// Func is one instrumented function from the meta-data file.
type Func struct {
	Name    string
	Srcfile string
	Lit     bool
	Units   []Unit
}

// Package is one instrumented package from the meta-data file.
type Package struct {
	Path  string
	Name  string
	Funcs []Func
}

// Meta is a decoded meta-data file.
type Meta struct {
	Hash     [16]byte
	Mode     string // "set", "count" or "atomic"
	Packages []Package
}

// Counters maps (package index, function index) to that function's counters.
type Counters struct {
	Hash  [16]byte
	Funcs map[[2]uint32][]uint32
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) uleb() uint64 {
	var v uint64
	var shift uint
	for {
		if r.off >= len(r.b) {
			r.fail("truncated ULEB128 at offset %d", r.off)
			return 0
		}
		c := r.b[r.off]
		r.off++
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v
		}
		shift += 7
		if shift > 70 {
			r.fail("overlong ULEB128 at offset %d", r.off)
			return 0
		}
	}
}

func (r *reader) u32() uint32 {
	if r.off+4 > len(r.b) {
		r.fail("truncated u32 at offset %d", r.off)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)-r.off) {
		r.fail("truncated data at offset %d (want %d bytes)", r.off, n)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) strtab() []string {
	n := r.uleb()
	if n > uint64(len(r.b)) {
		r.fail("string table too long (%d entries)", n)
		return nil
	}
	out := make([]string, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		out = append(out, string(r.bytes(r.uleb())))
	}
	return out
}

func str(tab []string, idx uint64) (string, error) {
	if idx >= uint64(len(tab)) {
		return "", fmt.Errorf("string index %d out of range (%d strings)", idx, len(tab))
	}
	return tab[idx], nil
}

func modeName(m byte) (string, error) {
	switch m {
	case 1:
		return "set", nil
	case 2:
		return "count", nil
	case 3:
		return "atomic", nil
	}
	return "", fmt.Errorf("unsupported counter mode %d", m)
}

// DecodeMeta decodes a covmeta file.
func DecodeMeta(b []byte) (*Meta, error) {
	if len(b) < metaHeaderSize || !bytes.Equal(b[:4], metaMagic[:]) {
		return nil, errors.New("not a coverage meta-data file")
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[4:]); v != 1 {
		return nil, fmt.Errorf("meta-data file version %d, want 1", v)
	}
	if tl := le.Uint64(b[8:]); tl != uint64(len(b)) {
		return nil, fmt.Errorf("meta-data file length %d, header says %d", len(b), tl)
	}
	n := le.Uint64(b[16:])
	if n > uint64(len(b))/16 {
		return nil, fmt.Errorf("insane package count %d", n)
	}
	if g := b[49]; g != 1 {
		return nil, fmt.Errorf("unsupported counter granularity %d", g)
	}
	m := &Meta{}
	copy(m.Hash[:], b[24:40])
	var err error
	if m.Mode, err = modeName(b[48]); err != nil {
		return nil, err
	}
	if uint64(len(b)) < metaHeaderSize+16*n {
		return nil, errors.New("truncated package table")
	}
	for i := uint64(0); i < n; i++ {
		off := le.Uint64(b[metaHeaderSize+8*i:])
		ln := le.Uint64(b[metaHeaderSize+8*n+8*i:])
		if off > uint64(len(b)) || ln > uint64(len(b))-off {
			return nil, fmt.Errorf("package %d out of bounds (off %d len %d)", i, off, ln)
		}
		p, err := decodePackage(b[off : off+ln])
		if err != nil {
			return nil, fmt.Errorf("package %d: %w", i, err)
		}
		m.Packages = append(m.Packages, p)
	}
	return m, nil
}

func decodePackage(b []byte) (Package, error) {
	var p Package
	if len(b) < pkgHeaderSize {
		return p, errors.New("truncated package header")
	}
	le := binary.LittleEndian
	nfuncs := uint64(le.Uint32(b[40:]))
	if pkgHeaderSize+4*nfuncs > uint64(len(b)) {
		return p, fmt.Errorf("insane function count %d", nfuncs)
	}
	r := &reader{b: b, off: int(pkgHeaderSize + 4*nfuncs)}
	tab := r.strtab()
	if r.err != nil {
		return p, r.err
	}
	var err error
	if p.Name, err = str(tab, uint64(le.Uint32(b[4:]))); err != nil {
		return p, err
	}
	if p.Path, err = str(tab, uint64(le.Uint32(b[8:]))); err != nil {
		return p, err
	}
	p.Funcs = make([]Func, 0, nfuncs)
	for f := uint64(0); f < nfuncs; f++ {
		foff := le.Uint32(b[pkgHeaderSize+4*f:])
		if uint64(foff) < pkgHeaderSize+4*f || int(foff) > len(b) {
			return p, fmt.Errorf("malformed func offset %d", foff)
		}
		r.off = int(foff)
		nunits := r.uleb()
		fn := Func{}
		name, file := r.uleb(), r.uleb()
		if nunits > uint64(len(b)) {
			return p, fmt.Errorf("insane unit count %d", nunits)
		}
		fn.Units = make([]Unit, 0, nunits)
		for u := uint64(0); u < nunits; u++ {
			fn.Units = append(fn.Units, Unit{
				StLine: uint32(r.uleb()), StCol: uint32(r.uleb()),
				EnLine: uint32(r.uleb()), EnCol: uint32(r.uleb()),
				NxStmts: uint32(r.uleb()),
			})
		}
		fn.Lit = r.uleb() != 0
		if r.err != nil {
			return p, r.err
		}
		if fn.Name, err = str(tab, name); err != nil {
			return p, err
		}
		if fn.Srcfile, err = str(tab, file); err != nil {
			return p, err
		}
		p.Funcs = append(p.Funcs, fn)
	}
	return p, nil
}

// DecodeCounters decodes a covcounters file (segment 0, as cmd/covdata does)
// and checks that it is complete: the footer must follow the last record.
func DecodeCounters(b []byte) (*Counters, error) {
	if len(b) < counterHeaderSize+segmentHeaderSize+footerSize || !bytes.Equal(b[:4], counterMagic[:]) {
		return nil, errors.New("not a coverage counter file")
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[4:]); v != 1 {
		return nil, fmt.Errorf("counter file version %d, want 1", v)
	}
	foot := b[len(b)-footerSize:]
	if !bytes.Equal(foot[:4], counterMagic[:]) || le.Uint32(foot[8:]) == 0 {
		return nil, errors.New("counter file has no valid footer (truncated?)")
	}
	c := &Counters{Funcs: map[[2]uint32][]uint32{}}
	copy(c.Hash[:], b[8:24])
	flavor := b[24]
	if flavor != flavorRaw && flavor != flavorULEB {
		return nil, fmt.Errorf("unknown counter flavor %d", flavor)
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if b[25] != 0 {
		order = binary.BigEndian
	}
	nfuncs := le.Uint64(b[32:])
	strLen := uint64(le.Uint32(b[40:]))
	argsLen := uint64(le.Uint32(b[44:]))
	r := &reader{b: b[:len(b)-footerSize], off: counterHeaderSize + segmentHeaderSize}
	r.bytes(strLen)
	r.bytes(argsLen)
	val := func() uint32 {
		if flavor == flavorULEB {
			return uint32(r.uleb())
		}
		if r.off+4 > len(r.b) {
			r.fail("truncated counter at offset %d", r.off)
			return 0
		}
		v := order.Uint32(r.b[r.off:])
		r.off += 4
		return v
	}
	for i := uint64(0); i < nfuncs && r.err == nil; i++ {
		n := uint64(val())
		pk, fn := val(), val()
		if n > uint64(len(r.b)) {
			return nil, fmt.Errorf("insane counter count %d", n)
		}
		ctrs := make([]uint32, n)
		for j := range ctrs {
			ctrs[j] = val()
		}
		c.Funcs[[2]uint32{pk, fn}] = ctrs
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(r.b) {
		return nil, fmt.Errorf("counter file has %d stray bytes before the footer", len(r.b)-r.off)
	}
	return c, nil
}
