// Package covflush flushes the coverage counters of a long-running
// `go build -cover -covermode=atomic` binary while it runs, so that a server
// killed by its orchestrator still leaves its coverage behind.
//
// Two outputs, usable together:
//
//   - binary: every interval a cumulative counter snapshot
//     covcounters.<H>.<pid>.<nanos> is published in Dir (default $GOCOVERDIR)
//     by writing tmp.covcounters.… and renaming it, so readers never see a
//     partial file. Counters are never cleared: each file is the complete
//     state of the process, so a reader must take only the newest snapshot
//     of a process — never sum them. Each file says so in its args:
//     SnapshotKey = a random id of the process; covlens counts the newest
//     snapshot of each process, and every unmarked file in full, as Go
//     does (`go tool covdata` ignores the mark and sums all).
//   - text (Kubernetes' KUBE_COVERAGE_FILE convention): every interval
//     (KUBE_COVERAGE_FLUSH_INTERVAL, default 5s) the same snapshot as a text
//     profile, identical to what `go tool covdata textfmt` would print,
//     written to a temporary file in the same directory and renamed.
//
// On SIGTERM or SIGINT a last snapshot is written, then the signal is
// re-raised so the process exits with the conventional status.
//
// A process that exits normally (return from main, os.Exit) also gets the Go
// runtime's own counter file, unmarked, written at exit into $GOCOVERDIR.
// So that it does not count the process twice, Stop clears the counters
// after its last snapshot when that went to $GOCOVERDIR: the runtime's file
// then holds only what ran after Stop, which adds up with the snapshot.
package covflush

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/coverage"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SignalMode says what happens on SIGTERM/SIGINT.
type SignalMode int

const (
	// ExitOnSignal flushes, then re-raises the signal with its default
	// action (exit status 128+signal, as without covflush).
	ExitOnSignal SignalMode = iota
	// FlushOnSignal flushes and leaves the exit to the program, which must
	// handle the signal itself (signal.Notify disables the default action).
	FlushOnSignal
	// NoSignals installs no handler; call Stop before exiting.
	NoSignals
)

// Options configures Start. Zero values take the environment defaults.
type Options struct {
	// Dir receives binary snapshots. "" means $GOCOVERDIR; "-" disables.
	Dir string
	// Interval between binary snapshots. 0 means $COVFLUSH_INTERVAL, else 10s.
	Interval time.Duration
	// TextFile receives text snapshots. "" means $KUBE_COVERAGE_FILE; "-"
	// disables.
	TextFile string
	// TextInterval between text snapshots. 0 means
	// $KUBE_COVERAGE_FLUSH_INTERVAL, else 5s.
	TextInterval time.Duration
	// Keep is how many of this process's newest binary snapshots stay in
	// Dir; older ones are redundant (snapshots are cumulative). 0 means 2,
	// so a collector copying the newest file never races its deletion;
	// negative keeps all.
	Keep int
	// Signals selects the SIGTERM/SIGINT behaviour.
	Signals SignalMode
	// Logf reports flush errors of the background loop; default stderr.
	Logf func(format string, args ...any)
}

// Flusher writes snapshots until stopped.
type Flusher struct {
	opts     Options
	mu       sync.Mutex // serialises flushes
	meta     []byte
	hash     [16]byte
	decoded  *Meta
	key      int64  // pid, or a synthetic id when this pid was seen before
	process  string // random id of this process, in the snapshot mark
	stopped  bool   // Stop ran: no more snapshots
	lastNano int64
	written  []string // our binary snapshots, oldest first
	ctrBuf   bytes.Buffer

	stopOnce sync.Once
	stopErr  error
	quit     chan struct{}
	done     chan struct{}
	sigs     chan os.Signal
}

// pidSpace is PID_MAX_LIMIT on 64-bit Linux: synthetic ids start above any
// real pid.
const pidSpace = 1 << 22

var (
	stdMu sync.Mutex
	std   *Flusher
)

// Start checks that the binary can be flushed, writes the meta-data file and
// a first snapshot, and starts the background loop and signal handler.
func Start(opts Options) (*Flusher, error) {
	f := &Flusher{opts: opts, key: int64(os.Getpid())}
	if err := f.resolve(); err != nil {
		return nil, err
	}
	id, err := newProcessID()
	if err != nil {
		return nil, fmt.Errorf("covflush: %w", err)
	}
	f.process = id
	if f.opts.Dir == "" && f.opts.TextFile == "" {
		return nil, errors.New("covflush: no output: set GOCOVERDIR or KUBE_COVERAGE_FILE (or Options.Dir/TextFile)")
	}
	var buf bytes.Buffer
	if err := coverage.WriteMeta(&buf); err != nil {
		return nil, fmt.Errorf("covflush: %w", err)
	}
	f.meta = buf.Bytes()
	if len(f.meta) < metaHeaderSize {
		return nil, errors.New("covflush: meta-data too short")
	}
	copy(f.hash[:], f.meta[24:40])
	if f.opts.TextFile != "" {
		m, err := DecodeMeta(f.meta)
		if err != nil {
			return nil, fmt.Errorf("covflush: decoding own meta-data: %w", err)
		}
		f.decoded = m
	}
	if f.opts.Dir != "" {
		if err := coverage.WriteMetaDir(f.opts.Dir); err != nil {
			return nil, fmt.Errorf("covflush: %w", err)
		}
		f.key = f.pickKey()
		f.removeStaleTemps()
	}
	// The first snapshot also proves the mode is atomic.
	if err := f.Flush(); err != nil {
		return nil, err
	}
	f.quit = make(chan struct{})
	f.done = make(chan struct{})
	go f.loop()
	if f.opts.Signals != NoSignals {
		f.sigs = make(chan os.Signal, 1)
		signal.Notify(f.sigs, syscall.SIGTERM, syscall.SIGINT)
		go f.onSignal()
	}
	stdMu.Lock()
	std = f
	stdMu.Unlock()
	return f, nil
}

func (f *Flusher) resolve() error {
	o := &f.opts
	if o.Dir == "" {
		o.Dir = os.Getenv("GOCOVERDIR")
	} else if o.Dir == "-" {
		o.Dir = ""
	}
	if o.TextFile == "" {
		o.TextFile = os.Getenv("KUBE_COVERAGE_FILE")
	} else if o.TextFile == "-" {
		o.TextFile = ""
	}
	var err error
	if o.Interval <= 0 {
		if o.Interval, err = envDuration("COVFLUSH_INTERVAL", 10*time.Second); err != nil {
			return err
		}
	}
	if o.TextInterval <= 0 {
		if o.TextInterval, err = envDuration("KUBE_COVERAGE_FLUSH_INTERVAL", 5*time.Second); err != nil {
			return err
		}
	}
	if o.Keep == 0 {
		o.Keep = 2
	}
	if o.Logf == nil {
		o.Logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "covflush: "+format+"\n", args...)
		}
	}
	return nil
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("covflush: invalid %s value %q; try something like '30s'", name, v)
	}
	return d, nil
}

// pickKey returns the pid, unless counter files of this binary with this pid
// already exist (a restarted container is usually pid 1 again): then a
// synthetic id above the pid range is used instead, so that file names of
// different processes stay apart (the collector tracks processes by name,
// and covlens releases before the snapshot mark took the newest file per
// pid).
func (f *Flusher) pickKey() int64 {
	pid := int64(os.Getpid())
	entries, err := os.ReadDir(f.opts.Dir)
	if err != nil {
		return pid
	}
	prefix := fmt.Sprintf("covcounters.%x.", f.hash)
	used := map[int64]bool{}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		if k, _, ok := strings.Cut(rest, "."); ok {
			if n, err := strconv.ParseInt(k, 10, 64); err == nil {
				used[n] = true
			}
		}
	}
	key := pid
	for i := int64(1); used[key]; i++ {
		key = pid + i*pidSpace
	}
	return key
}

// removeStaleTemps deletes temporary counter files of this binary left by
// processes killed mid-write. A live writer holds its temp file for
// milliseconds, so anything a minute old is dead.
func (f *Flusher) removeStaleTemps() {
	entries, err := os.ReadDir(f.opts.Dir)
	if err != nil {
		return
	}
	prefix := fmt.Sprintf("tmp.covcounters.%x.", f.hash)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
			_ = os.Remove(filepath.Join(f.opts.Dir, e.Name()))
		}
	}
}

func (f *Flusher) loop() {
	defer close(f.done)
	var bin, text <-chan time.Time
	if f.opts.Dir != "" {
		t := time.NewTicker(f.opts.Interval)
		defer t.Stop()
		bin = t.C
	}
	if f.opts.TextFile != "" {
		t := time.NewTicker(f.opts.TextInterval)
		defer t.Stop()
		text = t.C
	}
	for {
		var err error
		select {
		case <-f.quit:
			return
		case <-bin:
			err = f.flush(true, false)
		case <-text:
			err = f.flush(false, true)
		}
		if err != nil {
			f.opts.Logf("%v", err)
		}
	}
}

func (f *Flusher) onSignal() {
	sig, ok := <-f.sigs
	if !ok {
		return
	}
	if f.opts.Signals == FlushOnSignal {
		if err := f.Flush(); err != nil {
			f.opts.Logf("flush on %v: %v", sig, err)
		}
		return
	}
	if err := f.Stop(); err != nil {
		f.opts.Logf("final flush on %v: %v", sig, err)
	}
	// Re-raise with the default action so the exit status says "killed by
	// SIGTERM", as it would without us.
	signal.Reset(sig)
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(os.Getpid(), s)
		time.Sleep(time.Second)
		os.Exit(128 + int(s))
	}
	os.Exit(1)
}

// Flush writes a snapshot to every configured output now.
func (f *Flusher) Flush() error {
	return f.flush(f.opts.Dir != "", f.opts.TextFile != "")
}

// Stop ends the background loop and the signal handler, then writes a last
// snapshot. Later calls return the first result, and Flush fails.
//
// When the snapshot went to $GOCOVERDIR, the counters are cleared after it,
// so that the counter file the Go runtime writes there at a normal exit
// holds only what ran after Stop (covlens adds it to the snapshot; were it
// cumulative, the process would count twice). If that last snapshot could
// not be written, this process's snapshots are removed instead: the
// runtime's file at exit, complete, replaces them.
func (f *Flusher) Stop() error {
	f.stopOnce.Do(func() {
		if f.quit != nil {
			close(f.quit)
			<-f.done
		}
		if f.sigs != nil && f.opts.Signals != ExitOnSignal {
			signal.Stop(f.sigs)
		}
		f.stopErr = f.Flush()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stopped = true
		if f.opts.Dir == "" || !sameDir(f.opts.Dir, os.Getenv("GOCOVERDIR")) {
			return
		}
		if f.stopErr != nil {
			for _, w := range f.written {
				_ = os.Remove(w)
			}
			f.written = nil
			return
		}
		if err := coverage.ClearCounters(); err != nil {
			f.stopErr = fmt.Errorf("covflush: %w", err)
		}
	})
	return f.stopErr
}

// sameDir says whether a and b name the same directory.
func sameDir(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// Flush flushes the most recently started Flusher.
func Flush() error {
	stdMu.Lock()
	f := std
	stdMu.Unlock()
	if f == nil {
		return errors.New("covflush: not started")
	}
	return f.Flush()
}

// Stop stops the most recently started Flusher.
func Stop() error {
	stdMu.Lock()
	f := std
	stdMu.Unlock()
	if f == nil {
		return errors.New("covflush: not started")
	}
	return f.Stop()
}

func (f *Flusher) flush(bin, text bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return errors.New("covflush: stopped")
	}
	f.ctrBuf.Reset()
	if err := coverage.WriteCounters(&f.ctrBuf); err != nil {
		return fmt.Errorf("covflush: %w", err)
	}
	// One read of the counters feeds both outputs, so they agree.
	ctrs := f.ctrBuf.Bytes()
	var errs []error
	if bin {
		errs = append(errs, f.writeBinary(ctrs))
	}
	if text {
		errs = append(errs, f.writeText(ctrs))
	}
	return errors.Join(errs...)
}

// writeBinary publishes one counter file. runtime/coverage.WriteCountersDir
// also writes tmp.* and renames (Go ≥1.21), but names files by wall-clock
// nanos (a clock step back would make an older snapshot look newest), does
// not fsync, and cannot use a synthetic pid; so we name and write it here.
func (f *Flusher) writeBinary(ctrs []byte) error {
	nanos := time.Now().UnixNano()
	if nanos <= f.lastNano {
		nanos = f.lastNano + 1
	}
	name := fmt.Sprintf("covcounters.%x.%d.%d", f.hash, f.key, nanos)
	final := filepath.Join(f.opts.Dir, name)
	marked, err := markSnapshot(ctrs, f.process)
	if err != nil {
		return fmt.Errorf("covflush: %w", err)
	}
	// "tmp." names are ignored by cmd/covdata and by the collector.
	if err := writeAtomic(filepath.Join(f.opts.Dir, "tmp."+name), final, marked); err != nil {
		return err
	}
	f.lastNano = nanos
	f.written = append(f.written, final)
	for f.opts.Keep > 0 && len(f.written) > f.opts.Keep {
		if err := os.Remove(f.written[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			f.opts.Logf("removing superseded snapshot: %v", err)
		}
		f.written = f.written[1:]
	}
	return nil
}

func (f *Flusher) writeText(ctrs []byte) error {
	c, err := DecodeCounters(ctrs)
	if err != nil {
		return fmt.Errorf("covflush: decoding own counters: %w", err)
	}
	var out bytes.Buffer
	if err := WriteText(&out, f.decoded, c); err != nil {
		return fmt.Errorf("covflush: %w", err)
	}
	dir, base := filepath.Split(f.opts.TextFile)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.tmp.%d", base, os.Getpid()))
	return writeAtomic(tmp, f.opts.TextFile, out.Bytes())
}

// writeAtomic writes data to tmp, syncs it and renames it to final, so a
// reader sees either the old or the new complete file.
func writeAtomic(tmp, final string, data []byte) error {
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("covflush: %w", err)
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("covflush: writing %s: %w", final, err)
	}
	// Persist the rename too (best effort: not every filesystem allows it).
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
