//! An MCP server's event stream (`text/event-stream`, the WHATWG server-sent events
//! format) read with the `sse-stream` crate, bounded: no event may take more than
//! `limit` bytes of the body, so a server that never ends an event cannot exhaust memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Buf;
use futures_util::{Stream, StreamExt};
use sse_stream::{Sse, SseByteStream};

/// The largest event (and the largest JSON answer) the bridge accepts.
pub const EVENT_LIMIT: usize = 16 * 1024 * 1024;

/// Why an event stream stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("an event was larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Broken(String),
}

/// One event: the JSON-RPC message it carries (if any), and what a reconnection needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// The data of a `message` event; None for other event types and for events with
    /// no or empty data (a priming event that only sets an id).
    pub message: Option<String>,
    pub id: Option<String>,
    pub retry: Option<Duration>,
}

impl From<Sse> for Event {
    fn from(sse: Sse) -> Self {
        let is_message = sse.event.as_deref().is_none_or(|kind| kind == "message");
        Event {
            message: sse.data.filter(|data| is_message && !data.is_empty()),
            // An empty id resets the last event id (WHATWG §9.2.6); no id keeps it.
            id: sse.id,
            retry: sse.retry.map(Duration::from_millis),
        }
    }
}

/// The events of `body`, a stream of byte chunks (`reqwest::Response::bytes_stream`).
pub fn events<S, B, E>(body: S, limit: usize) -> impl Stream<Item = Result<Event, SseError>> + Send
where
    S: Stream<Item = Result<B, E>> + Send,
    B: Buf + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    // Bytes read since the last complete event.
    let unread = Arc::new(AtomicUsize::new(0));
    let counted = {
        let unread = unread.clone();
        body.map(move |chunk| {
            let chunk = chunk.map_err(|e| std::io::Error::other(Box::new(e)))?;
            let total = unread.fetch_add(chunk.remaining(), Ordering::Relaxed) + chunk.remaining();
            if total > limit {
                return Err(std::io::Error::other("too large"));
            }
            Ok(chunk)
        })
    };
    SseByteStream::new(counted).map(move |item| {
        let over = unread.load(Ordering::Relaxed) > limit;
        unread.store(0, Ordering::Relaxed);
        match item {
            Ok(sse) => Ok(Event::from(sse)),
            Err(_) if over => Err(SseError::TooLarge(limit)),
            Err(sse_stream::Error::Body(e)) => Err(SseError::Broken(error_chain(e.as_ref()))),
            Err(e) => Err(SseError::Broken(e.to_string())),
        }
    })
}

/// An error and its causes on one line ("error sending request: connection reset").
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    /// The events of `body` split into chunks of `width` bytes.
    async fn parse(body: &str, width: usize, limit: usize) -> Vec<Result<Event, String>> {
        let chunks: Vec<Result<bytes::Bytes, Infallible>> =
            body.as_bytes().chunks(width).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
        events(futures_util::stream::iter(chunks), limit)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
            .await
    }

    fn message(data: &str) -> Result<Event, String> {
        Ok(Event { message: Some(data.into()), ..Event::default() })
    }

    #[tokio::test]
    async fn data_lines_join_and_comments_are_skipped_in_any_chunking() {
        let body = ": keep-alive\n\ndata: {\"a\":\ndata:1}\n\n:comment\ndata:{\"b\":2}\n\n";
        for width in [1, 2, 3, 7, body.len()] {
            let got = parse(body, width, EVENT_LIMIT).await;
            assert_eq!(got, [message("{\"a\":\n1}"), message("{\"b\":2}")], "width {width}");
        }
    }

    #[tokio::test]
    async fn crlf_and_cr_end_lines_too() {
        let body = "data: one\r\n\r\ndata: two\r\rdata: three\n\n";
        for width in [1, 4, body.len()] {
            let got = parse(body, width, EVENT_LIMIT).await;
            assert_eq!(got, [message("one"), message("two"), message("three")], "width {width}");
        }
    }

    #[tokio::test]
    async fn priming_events_and_other_types_carry_no_message() {
        let body = "id: 7\nretry: 1500\ndata:\n\nevent: endpoint\ndata: /messages\n\nevent: message\nid: 8\ndata: {}\n\n";
        let got = parse(body, 5, EVENT_LIMIT).await;
        assert_eq!(
            got,
            [
                Ok(Event { message: None, id: Some("7".into()), retry: Some(Duration::from_millis(1500)) }),
                Ok(Event::default()),
                Ok(Event { message: Some("{}".into()), id: Some("8".into()), retry: None }),
            ]
        );
    }

    #[tokio::test]
    async fn an_unfinished_last_event_is_dropped() {
        assert_eq!(parse("data: {}\n\ndata: {\"cut", 3, EVENT_LIMIT).await, [message("{}")]);
    }

    #[tokio::test]
    async fn an_event_over_the_limit_ends_the_stream() {
        let small = "data: 0123456789\n\n";
        let big = format!("{small}data: {}\n\n{small}", "x".repeat(100));
        let got = parse(&big, 16, 64).await;
        assert_eq!(got, [message("0123456789"), Err("an event was larger than 64 bytes".into())]);
        // Many small events add up to more than the limit without tripping it.
        assert_eq!(parse(&small.repeat(20), 16, 64).await.len(), 20);
        // A line that never ends trips it too.
        let endless = format!("data: {}", "y".repeat(1000));
        assert_eq!(parse(&endless, 10, 64).await, [Err("an event was larger than 64 bytes".into())]);
    }

    #[tokio::test]
    async fn a_broken_body_is_reported() {
        let chunks =
            vec![Ok(bytes::Bytes::from_static(b"data: {}\n\n")), Err(std::io::Error::other("reset"))];
        let got: Vec<_> = events(futures_util::stream::iter(chunks), EVENT_LIMIT).collect().await;
        assert!(
            matches!(&got[..], [Ok(_), Err(SseError::Broken(text))] if text.contains("reset")),
            "{got:?}"
        );
    }
}
