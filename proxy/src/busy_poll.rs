//! Keeping a websocket's worker awake for a moment after traffic. A message through the proxy
//! costs two thread wake-ups per round trip when the worker sleeps between messages, and on
//! virtual machines a wake-up can cost more than the forwarding itself. Interactive traffic
//! (a kernel's replies, a desktop's frames) comes in bursts, so for `window` after each
//! transfer the worker keeps polling its sockets instead of sleeping; then it sleeps as usual.
//! The cost is bounded: at most `window` of one core per burst, nothing while idle.

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Counts transfers; the I/O wrapper of a spliced connection bumps it.
#[derive(Debug, Default)]
pub struct Progress(AtomicU64);

impl Progress {
    pub fn moved(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    fn count(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Drive `fut` to completion, polling without sleeping for `window` after each transfer
/// that `progress` records. A zero `window` is plain `fut.await`.
pub async fn run<F: Future>(fut: F, progress: &Progress, window: Duration) -> F::Output {
    if window.is_zero() {
        return fut.await;
    }
    let mut fut = std::pin::pin!(fut);
    let mut seen = progress.count();
    let mut last = Instant::now();
    loop {
        if last.elapsed() < window {
            // Hot: poll once, then let the runtime take a non-blocking look at the sockets
            // (tokio polls its I/O driver before running a task that yielded) and come back.
            if let Poll::Ready(out) = poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
                return out;
            }
            tokio::task::yield_now().await;
        } else {
            // Cold: sleep until the sockets wake the copy and it moves something.
            let done = poll_fn(|cx| match fut.as_mut().poll(cx) {
                Poll::Ready(out) => Poll::Ready(Some(out)),
                Poll::Pending if progress.count() != seen => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            })
            .await;
            if let Some(out) = done {
                return out;
            }
        }
        let now = progress.count();
        if now != seen {
            seen = now;
            last = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_future_completes_hot_or_cold() {
        let progress = Arc::new(Progress::default());
        let (mut a, mut b) = tokio::io::duplex(64);
        let p = progress.clone();
        let copy = async move {
            let mut buf = [0u8; 4];
            for _ in 0..3 {
                a.read_exact(&mut buf).await.unwrap();
                p.moved();
            }
            buf
        };
        let feeder = tokio::spawn(async move {
            for msg in [b"one.", b"two.", b"thr."] {
                b.write_all(msg).await.unwrap();
                // Long enough for the loop to go cold between messages.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let out = run(copy, &progress, Duration::from_millis(1)).await;
        assert_eq!(&out, b"thr.");
        assert_eq!(progress.count(), 3);
        feeder.await.unwrap();
    }
}
