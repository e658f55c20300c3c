//! Progress output: an indicatif bar per epoch on a terminal, one summary line per epoch on
//! standard error, warnings.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where a run reports progress.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    bars: bool,
}

impl Progress {
    /// Bars only when `bars` and standard error is a terminal; lines always.
    pub(crate) fn new(bars: bool) -> Self {
        Self { bars }
    }

    /// A bar of `len` steps titled `title` (hidden when bars are off or not on a terminal).
    pub(crate) fn bar(&self, len: usize, title: &str) -> ProgressBar {
        if !self.bars {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(title.to_owned());
        bar
    }

    /// One line on standard error (the epoch summary).
    pub(crate) fn line(&self, text: &str) {
        eprintln!("{text}");
    }

    /// A warning on standard error.
    pub(crate) fn warn(&self, text: &str) {
        eprintln!("warning: {text}");
    }
}
