//! Writing an answer to the client as HTTP/1.1 bytes: the status line, the headers less
//! hop-by-hop ones, the framing (the target's `Content-Length`, or chunked when the length
//! is not known), then the body as it arrives. What is at hand is written together, so a
//! small response is one system call; a body still arriving is written piece by piece, so
//! streams (server-sent events, progress) are not held back.

use crate::outgoing::{line, Listed};
use crate::state::BoxError;
use bytes::Bytes;
use http::StatusCode;
use hyper::body::Body;
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::SystemTime;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Body pieces larger than this are written on their own rather than copied after the head.
const COALESCE: usize = 16 * 1024;

/// One answer to write.
pub struct Answer<H> {
    pub status: StatusCode,
    /// Its header lines (`name`, `value`), hop-by-hop ones included: they are left out here.
    pub lines: H,
    /// The request was `HEAD`: the headers describe a body that is not sent.
    pub head_only: bool,
    /// The connection closes after this answer: say so.
    pub close: bool,
}

/// Write `answer` and its `body` to `io`, using `out` as scratch space. An error (the client
/// went away, the body failed midway) leaves the connection unusable: close it.
pub async fn write<'h, S, B, H>(
    io: &mut S,
    out: &mut Vec<u8>,
    answer: Answer<H>,
    body: B,
) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
    B: Body<Data = Bytes, Error = BoxError>,
    H: Iterator<Item = (&'h str, &'h [u8])> + Clone,
{
    let mut body = pin!(body);
    let code = answer.status.as_u16();
    let bodiless = answer.head_only || (100..200).contains(&code) || code == 204 || code == 304;
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(answer.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(answer.status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let listed = Listed::new(answer.lines.clone());
    let (mut has_date, mut has_length) = (false, false);
    for (name, value) in answer.lines.clone() {
        if listed.is_hop_by_hop(name, false) {
            continue;
        }
        has_date |= name.eq_ignore_ascii_case("date");
        has_length |= name.eq_ignore_ascii_case("content-length");
        line(out, name.as_bytes(), value);
    }
    drop(listed);
    if !has_date {
        line(
            out,
            b"date",
            httpdate::fmt_http_date(SystemTime::now()).as_bytes(),
        );
    }
    let mut chunked = false;
    if !bodiless && !has_length {
        match body.size_hint().exact() {
            Some(n) => line(out, b"content-length", n.to_string().as_bytes()),
            None => {
                line(out, b"transfer-encoding", b"chunked");
                chunked = true;
            }
        }
    }
    if answer.close {
        line(out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    if bodiless {
        return send(io, out).await;
    }
    loop {
        // Take what the body has at hand; before waiting for more, write what we hold.
        let frame = match std::future::poll_fn(|cx| Poll::Ready(body.as_mut().poll_frame(cx))).await
        {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                send(io, out).await?;
                std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await
            }
        };
        let Some(frame) = frame else { break };
        let Ok(data) = frame.map_err(io::Error::other)?.into_data() else {
            continue; // trailers are not forwarded
        };
        if data.is_empty() {
            continue;
        }
        if chunked {
            out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        }
        if out.len() + data.len() <= COALESCE {
            out.extend_from_slice(&data);
        } else {
            send(io, out).await?;
            io.write_all(&data).await?;
        }
        if chunked {
            out.extend_from_slice(b"\r\n");
        }
    }
    if chunked {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    send(io, out).await
}

/// Write and empty `out`, and flush (TLS holds what it has encrypted until then).
async fn send<S: AsyncWrite + Unpin>(io: &mut S, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        io.write_all(out).await?;
        out.clear();
    }
    io.flush().await
}
