//! Progress bars on a terminal (indicatif) for imports and pulls; nothing when standard
//! error is not a terminal (scripts, CI, `--json` consumers reading stdout are unaffected:
//! bars go to stderr).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tipline_feeds::Progress;

/// A bar (or spinner, when the size is unknown) labelled with the current stage.
#[derive(Debug)]
pub struct Bar {
    label: String,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// Progress of `label` (a file or feed name); drawn only on a terminal.
    pub fn for_terminal(label: impl Into<String>) -> Box<dyn Progress> {
        if std::io::stderr().is_terminal() {
            Box::new(Bar { label: label.into(), bar: Mutex::new(None) })
        } else {
            Box::new(tipline_feeds::Silent)
        }
    }
}

impl Progress for Bar {
    fn stage(&self, name: &str, total: Option<u64>) {
        let mut slot = self.bar.lock().expect("progress lock");
        if let Some(bar) = slot.take() {
            bar.finish_and_clear();
        }
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{prefix} {msg:>10} [{bar:30}] {pos}/{len} ({eta})",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                ),
            None => {
                let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template("{prefix} {spinner} {msg} {pos}")
                            .expect("valid template"),
                    );
                spinner.enable_steady_tick(Duration::from_millis(120));
                spinner
            }
        };
        bar.set_prefix(self.label.clone());
        bar.set_message(name.to_string());
        *slot = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}
