//! Progress of a spawn, as the events `GET .../server/progress` streams: a growing list that
//! late subscribers read from the start, ending with a `ready` or `failed` event.

use serde::Serialize;
use tokio::sync::watch;

/// One progress event, in JupyterHub's JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressEvent {
    pub progress: u8,
    pub message: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ready: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_message: Option<String>,
}

impl ProgressEvent {
    pub fn step(progress: u8, message: impl Into<String>) -> Self {
        ProgressEvent {
            progress,
            message: message.into(),
            ready: false,
            failed: false,
            url: None,
            html_message: None,
        }
    }

    pub fn ready(url: &str) -> Self {
        let escaped = crate::pages::escape(url);
        ProgressEvent {
            ready: true,
            url: Some(url.to_owned()),
            html_message: Some(format!(
                "Server ready at <a href=\"{escaped}\">{escaped}</a>"
            )),
            ..ProgressEvent::step(100, format!("Server ready at {url}"))
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        ProgressEvent {
            failed: true,
            ..ProgressEvent::step(100, message)
        }
    }

    /// Whether this event ends the stream.
    pub fn is_final(&self) -> bool {
        self.ready || self.failed
    }
}

/// The events of one spawn so far. Cloning is shallow.
#[derive(Clone)]
pub struct Progress(watch::Sender<Vec<ProgressEvent>>);

impl Default for Progress {
    fn default() -> Self {
        Progress(watch::Sender::new(Vec::new()))
    }
}

impl Progress {
    pub fn report(&self, event: ProgressEvent) {
        tracing::debug!(progress = event.progress, "{}", event.message);
        self.0.send_modify(|events| events.push(event));
    }

    /// A reader that sees every event, from the first.
    pub fn subscribe(&self) -> ProgressReader {
        ProgressReader {
            rx: self.0.subscribe(),
            seen: 0,
        }
    }

    pub fn last(&self) -> Option<ProgressEvent> {
        self.0.borrow().last().cloned()
    }
}

/// Reads a [`Progress`] in order.
pub struct ProgressReader {
    rx: watch::Receiver<Vec<ProgressEvent>>,
    seen: usize,
}

impl ProgressReader {
    /// The next event; `None` once the final event was read or the spawn went away.
    pub async fn next(&mut self) -> Option<ProgressEvent> {
        loop {
            {
                let events = self.rx.borrow_and_update();
                if self.seen > 0
                    && events
                        .get(self.seen - 1)
                        .is_some_and(ProgressEvent::is_final)
                {
                    return None;
                }
                if let Some(event) = events.get(self.seen) {
                    self.seen += 1;
                    return Some(event.clone());
                }
            }
            self.rx.changed().await.ok()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn late_readers_see_every_event_and_stop_after_the_last() {
        let progress = Progress::default();
        progress.report(ProgressEvent::step(10, "one"));
        let mut reader = progress.subscribe();
        let writer = progress.clone();
        tokio::spawn(async move {
            writer.report(ProgressEvent::step(50, "two"));
            writer.report(ProgressEvent::ready("/user/a/"));
        });
        let mut got = Vec::new();
        while let Some(e) = reader.next().await {
            got.push(e.message);
        }
        assert_eq!(got, ["one", "two", "Server ready at /user/a/"]);
    }
}
