//! The progress display on stderr. The core's loader reports each input
//! it reads ([`Progress`]); the display is drawn only when stderr is a
//! terminal, `--quiet` is not given, and the work lasts over a second, so
//! short runs, pipes and logs see nothing.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use covlens_core::input::Progress;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before the display appears.
const DELAY: Duration = Duration::from_secs(1);

static DISPLAY: OnceLock<Arc<Display>> = OnceLock::new();

/// One display for the whole process: commands that load several inputs
/// one by one add up in it.
struct Display {
    bar: ProgressBar,
    started: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    inputs: usize,
    total_inputs: usize,
    bytes: u64,
    total_bytes: u64,
    /// Set by [`finish`]: the bar is never shown after it.
    done: bool,
}

impl Display {
    fn show(&self, s: &State) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{}/{} inputs read, {} of {}, {}/s",
            s.inputs,
            s.total_inputs,
            HumanBytes(s.bytes),
            HumanBytes(s.total_bytes),
            HumanBytes((s.bytes as f64 / secs) as u64)
        ));
    }
}

impl Progress for Display {
    fn start(&self, inputs: usize, bytes: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.total_inputs += inputs;
        s.total_bytes += bytes;
        self.show(&s);
    }

    fn input_read(&self, _path: &str, bytes: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.inputs += 1;
        s.bytes += bytes;
        self.show(&s);
    }
}

/// Sets the display up when `enabled` (stderr is a terminal and no
/// `--quiet`); it appears after [`DELAY`] unless [`finish`] came first.
pub fn init(enabled: bool) {
    if !enabled {
        return;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    let d = Arc::new(Display {
        bar,
        started: Instant::now(),
        state: Mutex::new(State::default()),
    });
    if DISPLAY.set(d.clone()).is_err() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("progress".into())
        .spawn(move || {
            std::thread::sleep(DELAY);
            // Commands that read no profile (covdata) show nothing.
            loop {
                let s = d.state.lock().unwrap_or_else(|e| e.into_inner());
                if s.done {
                    return;
                }
                if s.total_inputs > 0 {
                    d.show(&s);
                    d.bar.set_draw_target(ProgressDrawTarget::stderr());
                    d.bar.enable_steady_tick(Duration::from_millis(120));
                    return;
                }
                drop(s);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
}

/// The loader's hook, when the display is set up.
pub fn hook() -> Option<Arc<dyn Progress>> {
    DISPLAY.get().map(|d| d.clone() as Arc<dyn Progress>)
}

/// Clears the display for good (before results and errors are printed).
pub fn finish() {
    if let Some(d) = DISPLAY.get() {
        let mut s = d.state.lock().unwrap_or_else(|e| e.into_inner());
        s.done = true;
        d.bar.finish_and_clear();
    }
}

/// Runs `f` (which prints on stderr) with the display out of the way.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match DISPLAY.get() {
        Some(d) => d.bar.suspend(f),
        None => f(),
    }
}
