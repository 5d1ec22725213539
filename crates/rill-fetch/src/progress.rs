//! Progress bars on stderr (indicatif hides them when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

pub struct Bar(ProgressBar);

impl Bar {
    pub fn bytes(message: &str) -> Self {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_owned());
        Self(bar)
    }

    pub fn spinner(message: &str) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(bar)
    }

    pub fn set_len(&self, len: u64) {
        self.0.set_length(len);
    }

    pub fn inc(&self, delta: u64) {
        self.0.inc(delta);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }

    /// The same bar, as the Hub client's progress callback.
    pub fn hub(&self) -> HubProgress {
        HubProgress(self.0.clone())
    }
}

#[derive(Clone)]
pub struct HubProgress(ProgressBar);

impl hf_hub::api::tokio::Progress for HubProgress {
    async fn init(&mut self, size: usize, _filename: &str) {
        self.0.set_length(size as u64);
    }

    async fn update(&mut self, size: usize) {
        self.0.inc(size as u64);
    }

    async fn finish(&mut self) {}
}
