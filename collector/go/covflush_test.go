package covflush

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	serverBin string
	buildErr  error
)

// server builds testdata/server with -cover -covermode=atomic once.
func server(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "covflush-server")
		if err != nil {
			buildErr = err
			return
		}
		serverBin = filepath.Join(dir, "server")
		cmd := exec.Command("go", "build", "-cover", "-covermode=atomic", "-o", serverBin, "./testdata/server")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return serverBin
}

type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
}

func startServer(t *testing.T, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(server(t))
	cmd.Env = append(os.Environ(), "GOCOVERDIR=", "KUBE_COVERAGE_FILE=", "COVFLUSH_INTERVAL=", "KUBE_COVERAGE_FLUSH_INTERVAL=")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start: %v", err)
	}
	p := &proc{t: t, cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "listening "))}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

func (p *proc) get(path string) {
	p.t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		p.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		p.t.Fatalf("GET %s: %s", path, resp.Status)
	}
}

// signal sends sig and returns the process's exit state.
func (p *proc) signal(sig syscall.Signal) *os.ProcessState {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	_ = p.cmd.Wait()
	return p.cmd.ProcessState
}

func counterFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "covcounters.") {
			out = append(out, e.Name())
		}
	}
	// Sort by the nanos field, the readers' "newest" rule.
	sort.Slice(out, func(i, j int) bool { return nanos(out[i]) < nanos(out[j]) })
	return out
}

func nanos(name string) int64 {
	n, _ := strconv.ParseInt(name[strings.LastIndexByte(name, '.')+1:], 10, 64)
	return n
}

// textfmt runs `go tool covdata textfmt` on the meta file(s) of dir plus the
// given counter files only (nil: every file of dir).
func textfmt(t *testing.T, dir string, counters []string) string {
	t.Helper()
	in := dir
	if counters != nil {
		in = t.TempDir()
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "covmeta.") {
				copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(in, e.Name()))
			}
		}
		for _, c := range counters {
			copyFile(t, filepath.Join(dir, c), filepath.Join(in, c))
		}
	}
	out := filepath.Join(t.TempDir(), "p.txt")
	cmd := exec.Command("go", "tool", "covdata", "textfmt", "-i", in, "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("covdata textfmt: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// oddCount is the count of classify's `default:` (odd) block in a profile.
func oddCount(t *testing.T, profile string) int {
	t.Helper()
	src, err := os.ReadFile("testdata/server/main.go")
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, `return "odd"`) {
			line = i // the `default:` line, 1-based
		}
	}
	prefix := fmt.Sprintf("/testdata/server/main.go:%d.", line)
	for _, l := range strings.Split(profile, "\n") {
		if strings.Contains(l, prefix) {
			n, err := strconv.Atoi(l[strings.LastIndexByte(l, ' ')+1:])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no block at %s in profile:\n%s", prefix, profile)
	return 0
}

func hits(p *proc, n int) {
	for i := 0; i < n; i++ {
		p.get("/classify?n=7")
	}
}

func TestCumulativeSnapshotsAndSIGTERMFlush(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 3)
	p.get("/flush")
	files := counterFiles(t, dir)
	if got := oddCount(t, textfmt(t, dir, files[len(files)-1:])); got != 3 {
		t.Fatalf("after 3 requests the newest snapshot says %d", got)
	}
	hits(p, 2)
	p.get("/flush")
	files = counterFiles(t, dir)
	if got := oddCount(t, textfmt(t, dir, files[len(files)-1:])); got != 5 {
		t.Fatalf("snapshots are not cumulative: newest says %d, want 5", got)
	}
	// Summing every file over-counts (the trap readers must avoid).
	if got := oddCount(t, textfmt(t, dir, nil)); got != 3+5 {
		t.Fatalf("sum over the kept files = %d, want 8", got)
	}
	if len(files) != 2 {
		t.Fatalf("Keep=2 default: %d counter files %v", len(files), files)
	}
	// No interval flush can happen (1h): only the SIGTERM handler can have
	// written these 4 requests.
	hits(p, 4)
	st := p.signal(syscall.SIGTERM)
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("exit status %v: want death by re-raised SIGTERM", st)
	}
	files = counterFiles(t, dir)
	if got := oddCount(t, textfmt(t, dir, files[len(files)-1:])); got != 9 {
		t.Fatalf("SIGTERM flush: newest says %d, want 9", got)
	}
	out, err := exec.Command("go", "tool", "covdata", "percent", "-i", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "testdata/server") {
		t.Fatalf("covdata percent: %v\n%s", err, out)
	}
	for _, e := range mustReadDir(t, dir) {
		if strings.HasPrefix(e, "tmp.") {
			t.Fatalf("temporary file left after a clean flush: %s", e)
		}
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestSIGINTAlsoFlushes(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 2)
	st := p.signal(syscall.SIGINT)
	if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("exit status %v", st)
	}
	files := counterFiles(t, dir)
	if got := oddCount(t, textfmt(t, dir, files[len(files)-1:])); got != 2 {
		t.Fatalf("SIGINT flush: %d", got)
	}
}

func TestSIGKILLLeavesOnlyCompleteFiles(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for cycle := 0; cycle < 5; cycle++ {
		// Flush as often as possible so the kill lands mid-write sometimes.
		p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1ms")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get("http://" + p.addr + "/classify?n=3")
				if err != nil {
					return
				}
				resp.Body.Close()
			}
		}()
		time.Sleep(time.Duration(20+rng.Intn(200)) * time.Millisecond)
		p.signal(syscall.SIGKILL)
		close(stop)
		wg.Wait()
	}
	var tmps []string
	for _, name := range mustReadDir(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(name, "tmp."):
			tmps = append(tmps, name)
		case strings.HasPrefix(name, "covcounters."):
			if _, err := DecodeCounters(b); err != nil {
				t.Fatalf("published counter file %s is not complete: %v", name, err)
			}
		case strings.HasPrefix(name, "covmeta."):
			if _, err := DecodeMeta(b); err != nil {
				t.Fatalf("meta file %s: %v", name, err)
			}
		}
	}
	t.Logf("%d temporary leftovers after 5 SIGKILLs", len(tmps))
	// Leftovers must not count: covdata over the directory equals covdata
	// over the published files alone.
	with := textfmt(t, dir, nil)
	without := textfmt(t, dir, counterFiles(t, dir))
	if with != without {
		t.Fatal("temporary files changed covdata's result")
	}
	// Newest per pid is a valid profile and each process contributes once.
	perPid := map[string]string{}
	for _, f := range counterFiles(t, dir) {
		parts := strings.Split(f, ".")
		perPid[parts[2]] = f
	}
	if len(perPid) != 5 {
		t.Fatalf("want 5 processes, got %d", len(perPid))
	}
	var newest []string
	for _, f := range perPid {
		newest = append(newest, f)
	}
	if n := oddCount(t, textfmt(t, dir, newest)); n < 0 {
		t.Fatal(n)
	}
}

func TestTextModeMatchesCovdata(t *testing.T) {
	dir := t.TempDir()
	textDir := t.TempDir()
	text := filepath.Join(textDir, "k8s-server.cov")
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h",
		"KUBE_COVERAGE_FILE="+text, "KUBE_COVERAGE_FLUSH_INTERVAL=1h")
	hits(p, 4)
	p.get("/classify?n=0")
	p.get("/flush")
	check := func(want int) {
		t.Helper()
		b, err := os.ReadFile(text)
		if err != nil {
			t.Fatal(err)
		}
		files := counterFiles(t, dir)
		ref := textfmt(t, dir, files[len(files)-1:])
		if string(b) != ref {
			t.Fatalf("text snapshot differs from covdata textfmt of the same snapshot:\n--- text\n%s\n--- covdata\n%s", b, ref)
		}
		if got := oddCount(t, ref); got != want {
			t.Fatalf("odd count %d, want %d", got, want)
		}
	}
	check(4)
	hits(p, 1)
	p.signal(syscall.SIGTERM)
	check(5)
	if names := mustReadDir(t, textDir); len(names) != 1 {
		t.Fatalf("text directory holds %v, want only the profile", names)
	}
}

func TestTextModeFlushesPeriodically(t *testing.T) {
	text := filepath.Join(t.TempDir(), "k.cov")
	p := startServer(t, "KUBE_COVERAGE_FILE="+text, "KUBE_COVERAGE_FLUSH_INTERVAL=50ms")
	hits(p, 6)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(text)
		if len(b) > 0 && oddCount(t, string(b)) == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("text profile never showed 6 hits:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// SIGKILL between rewrites: the file stays a complete profile.
	p.signal(syscall.SIGKILL)
	b, _ := os.ReadFile(text)
	if !bytes.HasPrefix(b, []byte("mode: atomic\n")) || !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatal("text profile incomplete after SIGKILL")
	}
}

func TestInvalidFlushInterval(t *testing.T) {
	cmd := exec.Command(server(t))
	cmd.Env = append(os.Environ(), "GOCOVERDIR=", "KUBE_COVERAGE_FILE="+filepath.Join(t.TempDir(), "x"), "KUBE_COVERAGE_FLUSH_INTERVAL=soon")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "invalid KUBE_COVERAGE_FLUSH_INTERVAL") {
		t.Fatalf("want a start error, got %v: %s", err, out)
	}
}

func TestNoOutputConfigured(t *testing.T) {
	cmd := exec.Command(server(t))
	cmd.Env = append(os.Environ(), "GOCOVERDIR=", "KUBE_COVERAGE_FILE=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no output") {
		t.Fatalf("want a start error, got %v: %s", err, out)
	}
}

func TestRestartWithSamePidGetsOwnKey(t *testing.T) {
	dir := t.TempDir()
	f := &Flusher{opts: Options{Dir: dir}}
	f.hash[0] = 0xab
	pid := os.Getpid()
	h := fmt.Sprintf("%x", f.hash)
	if k := f.pickKey(); k != int64(pid) {
		t.Fatalf("fresh dir: key %d, want pid %d", k, pid)
	}
	for _, name := range []string{
		fmt.Sprintf("covcounters.%s.%d.1", h, pid),
		fmt.Sprintf("covcounters.%s.%d.2", h, pid+pidSpace),
		fmt.Sprintf("covcounters.%x.%d.3", [16]byte{1}, pid+2*pidSpace), // other binary
	} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if k := f.pickKey(); k != int64(pid)+2*pidSpace {
		t.Fatalf("key %d, want pid+2*%d", k, pidSpace)
	}
}

func TestDecodersRejectTruncation(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 1)
	p.signal(syscall.SIGTERM)
	files := counterFiles(t, dir)
	ctr, _ := os.ReadFile(filepath.Join(dir, files[len(files)-1]))
	if _, err := DecodeCounters(ctr); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(ctr); n++ {
		if _, err := DecodeCounters(ctr[:n]); err == nil {
			t.Fatalf("counter file cut at %d/%d bytes was accepted", n, len(ctr))
		}
	}
	var meta []byte
	for _, name := range mustReadDir(t, dir) {
		if strings.HasPrefix(name, "covmeta.") {
			meta, _ = os.ReadFile(filepath.Join(dir, name))
		}
	}
	if _, err := DecodeMeta(meta); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(meta); n++ {
		if _, err := DecodeMeta(meta[:n]); err == nil {
			t.Fatalf("meta file cut at %d/%d bytes was accepted", n, len(meta))
		}
	}
}

func TestStaleTempsRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	p.signal(syscall.SIGTERM)
	files := counterFiles(t, dir)
	h := strings.Split(files[0], ".")[1]
	old := filepath.Join(dir, "tmp.covcounters."+h+".1.1")
	fresh := filepath.Join(dir, "tmp.covcounters."+h+".1.2")
	for _, f := range []string{old, fresh} {
		if err := os.WriteFile(f, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	p = startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	p.signal(syscall.SIGTERM)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatal("stale temp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("recent temp file (maybe a live writer's) removed")
	}
}

// marks returns, per counter file of dir (oldest first), the process id it
// is marked with ("" for an unmarked file).
func marks(t *testing.T, dir string) (names, ids []string) {
	t.Helper()
	for _, name := range counterFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := SnapshotProcess(b)
		names = append(names, name)
		ids = append(ids, id)
	}
	return names, ids
}

func TestSnapshotsAreMarkedPerProcessAndGoReadsThem(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 2)
	p.get("/flush")
	p.signal(syscall.SIGTERM)
	_, first := marks(t, dir)
	if len(first) != 2 || first[0] == "" || first[0] != first[1] || len(first[0]) != 32 {
		t.Fatalf("one process's snapshots: marks %q, want one 32-digit id twice", first)
	}
	// A restart (a new process, maybe with the same pid) gets a new id.
	p = startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 1)
	p.signal(syscall.SIGTERM)
	_, ids := marks(t, dir)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	if len(ids) != 4 || len(seen) != 2 || seen[""] != 0 {
		t.Fatalf("two processes: marks %q", ids)
	}
	// Go's tools read marked files (they ignore the extra args key) and,
	// as ever, sum the snapshots kept (Keep=2): 2 + 2 of the first process,
	// 0 (at Start) + 1 of the second.
	if got := oddCount(t, textfmt(t, dir, nil)); got != 5 {
		t.Fatalf("go tool covdata textfmt over all snapshots: odd count %d, want 5", got)
	}
	for _, cmd := range []string{"percent", "func", "pkglist", "debugdump"} {
		out, err := exec.Command("go", "tool", "covdata", cmd, "-i", dir).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "testdata/server") {
			t.Fatalf("covdata %s: %v\n%s", cmd, err, out)
		}
	}
}

func TestMarkKeepsCountersAndArgs(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 3)
	p.signal(syscall.SIGTERM)
	names, _ := marks(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, names[len(names)-1]))
	if err != nil {
		t.Fatal(err)
	}
	// Marking again replaces the id and leaves everything else alone.
	again, err := markSnapshot(b, "other")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := SnapshotProcess(again); !ok || id != "other" {
		t.Fatalf("re-marked: %q %v", id, ok)
	}
	c1, err1 := DecodeCounters(b)
	c2, err2 := DecodeCounters(again)
	if err1 != nil || err2 != nil || fmt.Sprint(c1) != fmt.Sprint(c2) {
		t.Fatalf("counters changed by marking: %v %v", err1, err2)
	}
	l1, _ := parseLayout(b)
	l2, _ := parseLayout(again)
	args := func(l *counterLayout) map[string]string {
		m := map[string]string{}
		for _, p := range l.pairs {
			if k := l.strtab[p[0]]; k != SnapshotKey {
				m[k] = l.strtab[p[1]]
			}
		}
		return m
	}
	if a1, a2 := args(l1), args(l2); fmt.Sprint(a1) != fmt.Sprint(a2) || a1["argc"] == "" || a1["GOOS"] == "" {
		t.Fatalf("args changed by marking: %v, %v", a1, a2)
	}
	if _, err := markSnapshot(b[:len(b)-1], "x"); err == nil {
		t.Fatal("a truncated file was marked")
	}
}

// A process that stops covflush and exits normally also gets the Go
// runtime's own counter file at exit (unmarked). Stop cleared the counters,
// so that file holds only what ran after Stop: the newest snapshot plus the
// runtime's file is the process's coverage, counted once.
func TestNormalExitAddsOnlyWhatRanAfterStop(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, "GOCOVERDIR="+dir, "COVFLUSH_INTERVAL=1h")
	hits(p, 3)
	// The server exits while answering: no response to check.
	if resp, err := http.Get("http://" + p.addr + "/exit?code=0"); err == nil {
		resp.Body.Close()
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	names, ids := marks(t, dir)
	var newest, exit []string
	for i, id := range ids {
		if id == "" {
			exit = append(exit, names[i])
		} else {
			newest = []string{names[i]}
		}
	}
	if len(exit) != 1 || len(newest) != 1 {
		t.Fatalf("want marked snapshots and one runtime file: %v %q", names, ids)
	}
	if got := oddCount(t, textfmt(t, dir, append(newest, exit...))); got != 3 {
		t.Fatalf("newest snapshot + exit file: odd count %d, want 3", got)
	}
	if got := oddCount(t, textfmt(t, dir, exit)); got != 0 {
		t.Fatalf("the exit file counts %d odd calls from before Stop", got)
	}
}

func TestFlushAfterStopFails(t *testing.T) {
	f := &Flusher{opts: Options{Dir: "-", TextFile: "-"}, stopped: true}
	if err := f.Flush(); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("Flush after Stop: %v", err)
	}
}
