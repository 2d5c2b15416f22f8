//! Arbitrary bytes as a Go source, through tree-sitter-go and the readings
//! covlens makes of it: function extents (`covlens func`) and
//! `// coverage-ignore` annotations (`covlens filter --ignore-annotations`).
//!
//! Neither may panic or hang. When the source parses and has no `//line`
//! directive (which may move positions backwards), every function ends
//! after it starts, every annotated range too, ranges are sorted, and each
//! range's start is a position the annotations leave out.

#![no_main]

use std::sync::Mutex;

use covlens_core::FuncFinder;
use libfuzzer_sys::fuzz_target;

// One parser for the whole run: loading the grammar costs more than a
// small parse.
static FINDER: Mutex<Option<FuncFinder>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = FINDER.lock().unwrap_or_else(|e| e.into_inner());
    let finder = guard.get_or_insert_with(|| FuncFinder::new().expect("the Go grammar loads"));
    let plain = !data.windows(5).any(|w| w == b"line ");
    if let Ok(funcs) = finder.find(data, "f.go")
        && plain
    {
        for f in &funcs {
            assert!(
                (f.start_line, f.start_col) <= (f.end_line, f.end_col),
                "{f:?}"
            );
        }
    }
    if let Ok(a) = finder.annotations(data, "f.go") {
        assert!(a.ranges.windows(2).all(|w| w[0].start <= w[1].start));
        if plain {
            for r in &a.ranges {
                assert!(r.start <= r.last, "{r:?}");
                assert!(a.ignores(r.start) && a.ignores(r.last), "{r:?}");
            }
        }
    }
});
