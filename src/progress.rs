//! Progress bars for one-shot commands an operator types (`extract`, `logs ship`) on a
//! terminal. Everywhere else (the daemon, containers, cron, pipes, the tests) there are none:
//! the log and the printed summary are the record, and a bar is only presentation.
//!
//! Global on purpose: the bars are a property of the process's terminal, and threading a
//! handle through every job for them would put presentation into the data path.

use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Turns the bars on for this process; `main` calls it for one-shot commands whose stderr
/// is a terminal with text logs.
pub fn enable() {
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
}

pub fn enabled() -> bool {
    BARS.get().is_some()
}

/// A bar, or nothing when bars are off. Cleared from the screen when dropped: the summary
/// printed afterwards says what was done.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    fn add(length: Option<u64>, template: &str, prefix: &str) -> Bar {
        Bar(BARS.get().map(|bars| {
            let bar = bars.add(match length {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            });
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .with_key(
                        "rate",
                        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", state.per_sec());
                        },
                    )
                    .progress_chars("=> "),
            );
            bar.set_prefix(prefix.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        }))
    }

    /// Rows of a table; `estimate` (InnoDB's approximate row count) gives a bar and an ETA.
    pub fn rows(table: &str, estimate: Option<u64>) -> Bar {
        match estimate {
            Some(n) if n > 0 => Bar::add(
                Some(n),
                "{prefix:.bold} [{bar:30}] ~{percent}% {human_pos} rows, {rate}, eta {eta} {msg}",
                table,
            ),
            _ => Bar::add(
                None,
                "{prefix:.bold} {spinner} {human_pos} rows, {rate} {msg}",
                table,
            ),
        }
    }

    /// Bytes of a file being read.
    pub fn bytes(label: &str, total: u64) -> Bar {
        Bar::add(
            Some(total),
            "{prefix:.bold} [{bar:30}] {bytes}/{total_bytes}, {binary_bytes_per_sec}, eta {eta} {msg}",
            label,
        )
    }

    /// Adds `n`; an estimate that proves low grows with the count.
    pub fn inc(&self, n: u64) {
        count(&self.0, n);
    }

    /// A handle that only counts into this bar, for a worker thread.
    pub fn counter(&self) -> Counter {
        Counter(self.0.clone())
    }

    /// What the work is doing now (`uploading 120 files`, `catalog`).
    pub fn stage(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_string());
        }
    }

    /// `reader`, counting what is read through it into the bar.
    pub fn wrap_read<R: Read + Send + 'static>(&self, reader: R) -> Box<dyn Read + Send> {
        match &self.0 {
            Some(bar) => Box::new(bar.wrap_read(reader)),
            None => Box::new(reader),
        }
    }
}

/// Counts into a [`Bar`] from another thread; the bar itself stays with its owner.
#[derive(Clone)]
pub struct Counter(Option<ProgressBar>);

impl Counter {
    pub fn inc(&self, n: u64) {
        count(&self.0, n);
    }
}

fn count(bar: &Option<ProgressBar>, n: u64) {
    if let Some(bar) = bar {
        bar.inc(n);
        if let Some(length) = bar.length() {
            if bar.position() > length {
                bar.set_length(bar.position());
            }
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
            if let Some(bars) = BARS.get() {
                bars.remove(&bar);
            }
        }
    }
}

/// The log's stderr: with bars on, each log line is written with the bars lifted, so the
/// two never interleave on the screen.
#[derive(Clone, Copy)]
pub struct Stderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stderr {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

/// One formatted log event, written out whole when the formatter drops it.
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let write = || {
            // Nowhere to report a failure to write the log itself.
            let _ = std::io::stderr().write_all(&self.0);
        };
        match BARS.get() {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_bars_everything_is_a_pass_through() {
        // `enable` is never called in unit tests: the bars are off.
        let bar = Bar::rows("t", Some(10));
        assert!(bar.0.is_none());
        bar.inc(20);
        bar.stage("uploading");
        let mut text = String::new();
        bar.wrap_read(&b"abc"[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "abc");
    }

    #[test]
    fn an_estimate_that_proves_low_grows_with_the_count() {
        let bar = Bar(Some(ProgressBar::hidden()));
        bar.0.as_ref().unwrap().set_length(10);
        bar.inc(25);
        assert_eq!(bar.0.as_ref().unwrap().length(), Some(25));
    }
}
