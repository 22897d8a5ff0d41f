//! An I/O stream that tells an observer how many bytes passed each way: the public port's
//! byte counters and a websocket's route activity both watch their connections through it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What to do when bytes pass. Called only for transfers of at least one byte.
pub trait Observer {
    fn read(&self, n: usize);
    fn wrote(&self, n: usize);
}

pub struct Tap<T, O> {
    inner: T,
    pub observer: O,
}

impl<T, O> Tap<T, O> {
    pub fn new(inner: T, observer: O) -> Self {
        Tap { inner, observer }
    }
}

impl<T: AsyncRead + Unpin, O: Observer + Unpin> AsyncRead for Tap<T, O> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.observer.read(n);
        }
        res
    }
}

impl<T: AsyncWrite + Unpin, O: Observer + Unpin> AsyncWrite for Tap<T, O> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n @ 1..)) = res {
            self.observer.wrote(n);
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n @ 1..)) = res {
            self.observer.wrote(n);
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
