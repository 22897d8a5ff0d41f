//! A response body read straight from the upstream connection, which goes back to the pool
//! the moment the body's last byte has been read.

use super::conn::Conn;
use super::pool::Pool;
use super::wire::{Chunked, Decoded, Framing};
use crate::state::BoxError;
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{ready, Context, Poll};

pub struct UpstreamBody {
    /// `None` once the body has ended (or failed).
    conn: Option<Conn>,
    left: Left,
    pool: Weak<Pool>,
    keep_alive: bool,
}

enum Left {
    Bytes(u64),
    Chunked(Chunked),
    UntilClose,
}

/// The target closed the connection before the body it announced was complete.
#[derive(Debug, thiserror::Error)]
#[error("the target closed the connection in the middle of the response body")]
pub struct Truncated;

impl UpstreamBody {
    /// The body of a response framed by `framing` on `conn`, which goes back to `pool` once
    /// the body is read if `keep_alive`.
    pub fn new(conn: Conn, framing: Framing, pool: Weak<Pool>, keep_alive: bool) -> Self {
        let left = match framing {
            Framing::Empty => Left::Bytes(0),
            Framing::Length(n) => Left::Bytes(n),
            Framing::Chunked => Left::Chunked(Chunked::Size),
            Framing::UntilClose => Left::UntilClose,
        };
        let keep_alive = keep_alive && !matches!(left, Left::UntilClose);
        let mut body = UpstreamBody {
            conn: Some(conn),
            left,
            pool,
            keep_alive,
        };
        if matches!(body.left, Left::Bytes(0)) {
            body.finish();
        }
        body
    }

    /// The body is complete: the connection goes back to the pool if it is clean.
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.keep_alive && conn.buf.is_empty() {
                if let Some(pool) = self.pool.upgrade() {
                    pool.put(conn);
                }
            }
        }
    }

    /// The next piece of the body from what has been read already, if there is one.
    fn take_buffered(&mut self) -> Result<Option<Frame<Bytes>>, BoxError> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        let data = match &mut self.left {
            Left::Bytes(left) => {
                if conn.buf.is_empty() {
                    return Ok(None);
                }
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(conn.buf.len());
                *left -= n as u64;
                let data = conn.buf.split_to(n).freeze();
                if *left == 0 {
                    self.finish();
                }
                data
            }
            Left::Chunked(decoder) => match decoder.decode(&mut conn.buf)? {
                Decoded::Data(d) => d,
                Decoded::NeedMore => return Ok(None),
                Decoded::Done => {
                    self.finish();
                    return Ok(None);
                }
            },
            Left::UntilClose => {
                if conn.buf.is_empty() {
                    return Ok(None);
                }
                conn.buf.split().freeze()
            }
        };
        Ok(Some(Frame::data(data)))
    }
}

impl hyper::body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            match this.take_buffered() {
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(conn.poll_fill(cx)) {
                Ok(0) => {
                    this.conn = None;
                    if matches!(this.left, Left::UntilClose) {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(Box::new(Truncated))));
                }
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(Box::new(e) as Box<io::Error>)));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.left {
            Left::Bytes(n) => SizeHint::with_exact(n),
            _ => SizeHint::default(),
        }
    }
}
