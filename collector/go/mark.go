package covflush

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
)

// SnapshotKey is the args key that marks a counter file as a cumulative
// snapshot of a running process; its value is the process's id, random per
// process start (pids repeat: pid 1 in every restarted container). Of the
// files with one id, the one with the largest timestamp in its name is the
// newest and contains the others. A reader that knows the key (covlens)
// counts only the newest snapshot of each process, and every unmarked file
// (the Go runtime writes one per process exit) in full, as Go does. Go's
// own readers ignore args keys other than argc, argv*, GOOS and GOARCH, so
// `go tool covdata` reads marked files as before (and sums every snapshot).
const SnapshotKey = "covflush.process"

// newProcessID returns 32 random hex digits.
func newProcessID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// counterLayout locates the parts of a one-segment counter file.
type counterLayout struct {
	strtab  []string
	pairs   [][2]uint64 // args: (key index, value index)
	records []byte      // from the first record to the footer
	footer  []byte
}

func parseLayout(b []byte) (*counterLayout, error) {
	if len(b) < counterHeaderSize+segmentHeaderSize+footerSize || !bytes.Equal(b[:4], counterMagic[:]) {
		return nil, errors.New("not a coverage counter file")
	}
	le := binary.LittleEndian
	foot := b[len(b)-footerSize:]
	if !bytes.Equal(foot[:4], counterMagic[:]) || le.Uint32(foot[8:]) != 1 {
		return nil, errors.New("not a one-segment counter file")
	}
	strLen := uint64(le.Uint32(b[40:]))
	argsLen := uint64(le.Uint32(b[44:]))
	body := b[:len(b)-footerSize]
	start := uint64(counterHeaderSize + segmentHeaderSize)
	if strLen+argsLen > uint64(len(body))-start {
		return nil, errors.New("string and args tables overrun the file")
	}
	l := &counterLayout{footer: foot}
	r := &reader{b: body[start : start+strLen]}
	l.strtab = r.strtab()
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d stray bytes after the string table", len(r.b)-r.off)
	}
	if r.err != nil {
		return nil, r.err
	}
	if argsLen > 0 {
		r = &reader{b: body[start+strLen : start+strLen+argsLen]}
		n := r.uleb()
		if n > uint64(len(r.b)) {
			return nil, fmt.Errorf("args table too long (%d pairs)", n)
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			k, v := r.uleb(), r.uleb()
			if k >= uint64(len(l.strtab)) || v >= uint64(len(l.strtab)) {
				return nil, errors.New("args table refers outside the string table")
			}
			l.pairs = append(l.pairs, [2]uint64{k, v})
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	l.records = body[start+strLen+argsLen:]
	return l, nil
}

// markSnapshot returns the counter file ctrs (as runtime/coverage's
// WriteCounters wrote it) with SnapshotKey=process added to its args; the
// records and the footer are copied unchanged. Keys stay sorted and the
// args table padded to 4 bytes from the segment start, as Go writes them.
func markSnapshot(ctrs []byte, process string) ([]byte, error) {
	l, err := parseLayout(ctrs)
	if err != nil {
		return nil, fmt.Errorf("marking a snapshot: %w", err)
	}
	args := map[string]string{}
	for _, p := range l.pairs {
		args[l.strtab[p[0]]] = l.strtab[p[1]]
	}
	args[SnapshotKey] = process
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	strs := []string{""}
	index := map[string]uint64{"": 0}
	intern := func(s string) uint64 {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = uint64(len(strs))
		strs = append(strs, s)
		return index[s]
	}
	var argtab []byte
	argtab = binary.AppendUvarint(argtab, uint64(len(keys)))
	for _, k := range keys {
		argtab = binary.AppendUvarint(argtab, intern(k))
		argtab = binary.AppendUvarint(argtab, intern(args[k]))
	}
	var strtab []byte
	strtab = binary.AppendUvarint(strtab, uint64(len(strs)))
	for _, s := range strs {
		strtab = binary.AppendUvarint(strtab, uint64(len(s)))
		strtab = append(strtab, s...)
	}
	for (segmentHeaderSize+len(strtab)+len(argtab))%4 != 0 {
		argtab = append(argtab, 0)
	}

	out := make([]byte, 0, len(ctrs)+len(process)+64)
	out = append(out, ctrs[:counterHeaderSize+8]...) // header, function count
	out = binary.LittleEndian.AppendUint32(out, uint32(len(strtab)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(argtab)))
	out = append(out, strtab...)
	out = append(out, argtab...)
	out = append(out, l.records...)
	out = append(out, l.footer...)
	return out, nil
}

// SnapshotProcess returns the process id a counter file is marked with
// (see SnapshotKey); ok is false for a file without a mark.
func SnapshotProcess(ctrs []byte) (process string, ok bool) {
	l, err := parseLayout(ctrs)
	if err != nil {
		return "", false
	}
	for _, p := range l.pairs {
		if l.strtab[p[0]] == SnapshotKey && l.strtab[p[1]] != "" {
			return l.strtab[p[1]], true
		}
	}
	return "", false
}
