//! HTTP/1.1 on the upstream side, without I/O: the response head we parse, how the response body is delimited (RFC 9112 section 6.3), and a chunked decoder
//! that works on the bytes already read.

use crate::outgoing::tokens;
use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

/// A response head larger than this is refused (502): no sane server sends one, and it bounds
/// what one upstream can make us buffer.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// More header lines than this are refused (502), as hyper's client does by default.
const MAX_HEADERS: usize = 128;
/// Most heads have fewer header lines than this; they are parsed without preparing room for
/// [`MAX_HEADERS`].
const USUAL_HEADERS: usize = 24;

/// What the upstream said that we cannot forward.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the response head is larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("the response head is malformed: {0}")]
    BadHead(#[from] httparse::Error),
    #[error("the response head has a header value that is not allowed: {0}")]
    BadHeader(String),
    #[error("the response has conflicting or invalid Content-Length headers")]
    BadLength,
    #[error("a chunk of the chunked body is malformed")]
    BadChunk,
}

/// A parsed response head: the head as received, where each header line sits in it, and
/// what the proxy decides by (status, framing, keep-alive). Lines are forwarded from the
/// received bytes ([`Head::lines`]); a `HeaderMap` is built only where one is needed.
#[derive(Debug)]
pub struct Head {
    pub status: StatusCode,
    pub version: Version,
    raw: Bytes,
    spans: Vec<Span>,
    /// `Transfer-Encoding` was sent: whether its last coding is `chunked`.
    transfer_encoding: Option<bool>,
    /// The `Content-Length`, if one was sent; `Err` if its values are invalid or disagree.
    length: Result<Option<u64>, ()>,
    keep_alive: bool,
}

/// Where one header line's name and value sit in the head.
#[derive(Debug, Clone, Copy)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

impl Head {
    /// Whether the connection may carry another request after this response.
    pub fn keeps_alive(&self) -> bool {
        self.keep_alive
    }

    /// The header lines to forward, as received, in order. A `Content-Length` sent with a
    /// `Transfer-Encoding` is left out, so the client sees one framing.
    pub fn lines(&self) -> impl Iterator<Item = (&str, &[u8])> + Clone {
        let te = self.transfer_encoding.is_some();
        self.spans
            .iter()
            .map(|s| {
                let name = &self.raw[s.name.0 as usize..s.name.1 as usize];
                let value = &self.raw[s.value.0 as usize..s.value.1 as usize];
                // httparse let only token characters into a name.
                (std::str::from_utf8(name).unwrap_or(""), value)
            })
            .filter(move |(name, _)| !(te && name.eq_ignore_ascii_case("content-length")))
    }

    /// The first value of header `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.lines()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// [`Head::lines`] as a `HeaderMap`, whose values share the head's memory.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.spans.len());
        let base = self.raw.as_ptr() as usize;
        for (name, value) in self.lines() {
            // The parser admitted only what these accept; anything else is skipped, not fatal.
            let start = value.as_ptr() as usize - base;
            let value = HeaderValue::from_maybe_shared(self.raw.slice(start..start + value.len()));
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), value) {
                headers.append(name, value);
            }
        }
        headers
    }

    /// How the body ends (RFC 9112 section 6.3, in order), for a response to `method`.
    pub fn framing(&self, method: &Method) -> Result<Framing, WireError> {
        let s = self.status.as_u16();
        if method == Method::HEAD || (100..200).contains(&s) || s == 204 || s == 304 {
            return Ok(Framing::Empty);
        }
        match (self.transfer_encoding, self.length) {
            (Some(true), _) => Ok(Framing::Chunked),
            (Some(false), _) | (None, Ok(None)) => Ok(Framing::UntilClose),
            (None, Ok(Some(n))) => Ok(Framing::Length(n)),
            (None, Err(())) => Err(WireError::BadLength),
        }
    }
}

/// Parse a response head from the front of `buf`, removing it. `Ok(None)`: incomplete, read
/// more.
pub fn parse_head(buf: &mut BytesMut) -> Result<Option<Head>, WireError> {
    match parse_head_with::<USUAL_HEADERS>(buf) {
        Err(WireError::BadHead(httparse::Error::TooManyHeaders)) => {
            parse_head_with::<MAX_HEADERS>(buf)
        }
        other => other,
    }
}

fn parse_head_with<const N: usize>(buf: &mut BytesMut) -> Result<Option<Head>, WireError> {
    let mut slots = [httparse::EMPTY_HEADER; N];
    let mut resp = httparse::Response::new(&mut slots);
    let len = match resp.parse(buf)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() >= MAX_HEAD_BYTES => {
            return Err(WireError::HeadTooLarge)
        }
        httparse::Status::Partial => return Ok(None),
    };
    let status = resp
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or(WireError::BadHead(httparse::Error::Status))?;
    let version = if resp.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let start = (s.as_ptr() as usize - base) as u32;
        (start, start + s.len() as u32)
    };
    let mut spans = Vec::with_capacity(resp.headers.len());
    let mut transfer_encoding = None;
    let mut length = Ok(None);
    let (mut close, mut keep_alive) = (false, false);
    for h in resp.headers.iter() {
        spans.push(Span {
            name: at(h.name.as_bytes()),
            value: at(h.value),
        });
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = tokens(h.value).next_back().unwrap_or_default();
            transfer_encoding = Some(last.eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("content-length") {
            // Repeated values must agree (a list such as "42, 42" is allowed).
            for v in tokens(h.value) {
                let n = std::str::from_utf8(v)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok());
                length = match (length, n) {
                    (Ok(None), Some(n)) => Ok(Some(n)),
                    (Ok(Some(m)), Some(n)) if m == n => Ok(Some(n)),
                    _ => Err(()),
                };
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            close |= tokens(h.value).any(|t| t.eq_ignore_ascii_case(b"close"));
            keep_alive |= tokens(h.value).any(|t| t.eq_ignore_ascii_case(b"keep-alive"));
        }
    }
    let raw = buf.split_to(len).freeze();
    Ok(Some(Head {
        status,
        version,
        raw,
        spans,
        transfer_encoding,
        length,
        keep_alive: match version {
            Version::HTTP_11 => !close,
            _ => keep_alive,
        },
    }))
}

/// How the body of a response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    Chunked,
    /// Until the upstream closes; the connection cannot be reused.
    UntilClose,
}

/// Decodes a chunked body from a buffer that the caller refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk with this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last (empty) chunk: skipping trailer lines up to the empty line.
    Trailers,
    Done,
}

/// What the decoder made of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    Data(Bytes),
    /// The buffer holds no complete next element; read more.
    NeedMore,
    Done,
}

/// A chunk-size line may carry extensions; this bounds how long we wait for its end.
const MAX_CHUNK_LINE: usize = 4096;

impl Chunked {
    /// Take the next piece of body data from the front of `buf`, or say what is missing.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, WireError> {
        loop {
            match *self {
                Chunked::Done => return Ok(Decoded::Done),
                Chunked::Size => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    let hex = line.split(|&b| b == b';').next().unwrap_or(&[]);
                    let hex = std::str::from_utf8(hex).map_err(|_| WireError::BadChunk)?;
                    let size =
                        u64::from_str_radix(hex.trim(), 16).map_err(|_| WireError::BadChunk)?;
                    *self = if size == 0 {
                        Chunked::Trailers
                    } else {
                        Chunked::Data(size)
                    };
                }
                Chunked::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let left = left - n as u64;
                    *self = if left == 0 {
                        Chunked::DataEnd
                    } else {
                        Chunked::Data(left)
                    };
                    return Ok(Decoded::Data(buf.split_to(n).freeze()));
                }
                Chunked::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(WireError::BadChunk);
                    }
                    buf.advance(2);
                    *self = Chunked::Size;
                }
                Chunked::Trailers => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    if line.is_empty() {
                        *self = Chunked::Done;
                    }
                }
            }
        }
    }
}

/// One CRLF-terminated line from the front of `buf`, without its CRLF.
fn take_line(buf: &mut BytesMut) -> Result<Option<Bytes>, WireError> {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(i) => {
            let line = buf.split_to(i).freeze();
            buf.advance(2);
            Ok(Some(line))
        }
        None if buf.len() > MAX_CHUNK_LINE => Err(WireError::BadChunk),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Head {
        let mut buf = BytesMut::from(raw);
        parse_head(&mut buf).unwrap().unwrap()
    }

    #[test]
    fn parses_a_head_and_leaves_the_body() {
        let mut buf = BytesMut::from(
            "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello",
        );
        let h = parse_head(&mut buf).unwrap().unwrap();
        assert_eq!(h.status, 201);
        assert_eq!(h.headers().get_all("x-a").iter().count(), 2);
        let lines: Vec<_> = h.lines().collect();
        assert_eq!(
            lines,
            [("Content-Length", &b"5"[..]), ("X-A", b"1"), ("X-A", b"2")]
        );
        assert_eq!(&buf[..], b"hello");
        assert!(h.keeps_alive());
        let mut partial = BytesMut::from("HTTP/1.1 200 OK\r\nContent-");
        assert!(parse_head(&mut partial).unwrap().is_none());
        assert_eq!(partial.len(), 25, "an incomplete head stays in the buffer");
    }

    #[test]
    fn refuses_garbage_and_endless_heads() {
        let mut buf = BytesMut::from("SSH-2.0-OpenSSH\r\n\r\n");
        assert!(parse_head(&mut buf).is_err());
        let mut big = BytesMut::from("HTTP/1.1 200 OK\r\n");
        big.extend_from_slice(&vec![b'a'; MAX_HEAD_BYTES]);
        assert!(matches!(parse_head(&mut big), Err(WireError::HeadTooLarge)));
    }

    #[test]
    fn many_headers_parse_and_too_many_are_refused() {
        let many = |n: usize| {
            let mut raw = String::from("HTTP/1.1 200 OK\r\n");
            for i in 0..n {
                raw.push_str(&format!("X-{i}: {i}\r\n"));
            }
            raw.push_str("\r\n");
            BytesMut::from(raw.as_str())
        };
        let h = parse_head(&mut many(USUAL_HEADERS + 10)).unwrap().unwrap();
        assert_eq!(h.headers().len(), USUAL_HEADERS + 10);
        assert!(parse_head(&mut many(MAX_HEADERS + 1)).is_err());
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        assert!(!head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keeps_alive());
        assert!(!head("HTTP/1.0 200 OK\r\n\r\n").keeps_alive());
        assert!(head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").keeps_alive());
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let f = |m: Method, raw: &str| head(raw).framing(&m);
        assert_eq!(
            f(Method::HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n").unwrap(),
            Framing::Empty
        );
        assert_eq!(
            f(Method::GET, "HTTP/1.1 304 Not Modified\r\n\r\n").unwrap(),
            Framing::Empty
        );
        assert_eq!(
            f(
                Method::GET,
                "HTTP/1.1 200 OK\r\nContent-Length: 42, 42\r\n\r\n"
            )
            .unwrap(),
            Framing::Length(42)
        );
        assert_eq!(
            f(Method::GET, "HTTP/1.1 200 OK\r\n\r\n").unwrap(),
            Framing::UntilClose
        );
        let h = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        );
        assert_eq!(h.framing(&Method::GET).unwrap(), Framing::Chunked);
        assert!(!h.headers().contains_key(http::header::CONTENT_LENGTH));
        assert_eq!(h.get("content-length"), None);
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!(h.framing(&Method::GET).unwrap(), Framing::UntilClose);
        for bad in ["1, 2", "-1", "x", ""] {
            let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n");
            assert!(f(Method::GET, &raw).is_err(), "{bad}");
        }
    }

    #[test]
    fn decodes_chunks_across_reads() {
        let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        // Feed the decoder one byte at a time: every split point must work.
        let mut dec = Chunked::Size;
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for &b in wire.iter() {
            buf.extend_from_slice(&[b]);
            while let Decoded::Data(d) = dec.decode(&mut buf).unwrap() {
                body.extend_from_slice(&d);
            }
        }
        assert_eq!(body, b"hello world");
        assert_eq!(dec, Chunked::Done);
        assert_eq!(&buf[..], b"NEXT", "bytes after the body are left alone");
    }

    #[test]
    fn refuses_bad_chunks() {
        for wire in ["zz\r\n", "3\r\nabcX\r\n"] {
            let mut buf = BytesMut::from(wire);
            let mut dec = Chunked::Size;
            let r = (0..4).try_for_each(|_| dec.decode(&mut buf).map(|_| ()));
            assert!(r.is_err(), "{wire:?}");
        }
    }
}
