//! What the AI client writes (stdin): newline-delimited JSON-RPC messages, read on a
//! thread of its own (a blocking read cannot be cancelled, and must not keep the process
//! from exiting), each line at most `limit` bytes.

use std::io::{BufRead, BufReader, Read};

use tokio::sync::mpsc;

#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// One line, without its line ending; never empty or blank.
    Message(Vec<u8>),
    /// A line longer than the limit, skipped.
    TooLong,
}

/// Lines of `input` as they come; the channel ends at end of input (or a read error,
/// sent first).
pub fn read_lines<R: Read + Send + 'static>(input: R, limit: usize) -> mpsc::Receiver<std::io::Result<Line>> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("mcp-stdin".into())
        .spawn(move || {
            let mut reader = BufReader::with_capacity(64 * 1024, input);
            loop {
                let line = next_line(&mut reader, limit);
                let end = !matches!(line, Ok(Some(_)));
                if let Some(line) = line.transpose() {
                    if sender.blocking_send(line).is_err() {
                        return;
                    }
                }
                if end {
                    return;
                }
            }
        })
        .expect("a thread for stdin");
    receiver
}

fn next_line(reader: &mut impl BufRead, limit: usize) -> std::io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            // The last line may lack its newline.
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Some(Line::TooLong),
                (false, true) => None,
                (false, false) => finish(line),
            });
        }
        let (taken, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at, true),
            None => (available.len(), false),
        };
        if !too_long {
            if line.len() + taken > limit {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&available[..taken]);
            }
        }
        reader.consume(taken + usize::from(ends));
        if ends {
            if too_long {
                return Ok(Some(Line::TooLong));
            }
            match finish(std::mem::take(&mut line)) {
                Some(message) => return Ok(Some(message)),
                None => continue, // a blank line
            }
        }
    }
}

fn finish(mut line: Vec<u8>) -> Option<Line> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    (!line.iter().all(u8::is_ascii_whitespace)).then_some(Line::Message(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &'static str, limit: usize) -> Vec<Line> {
        let mut receiver = read_lines(std::io::Cursor::new(input.as_bytes()), limit);
        let mut lines = Vec::new();
        while let Some(line) = receiver.recv().await {
            lines.push(line.unwrap());
        }
        lines
    }

    fn message(text: &str) -> Line {
        Line::Message(text.as_bytes().to_vec())
    }

    #[tokio::test]
    async fn splits_on_newlines_and_skips_blank_lines() {
        assert_eq!(
            lines("{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}", 100).await,
            [message("{\"a\":1}"), message("{\"b\":2}"), message("{\"c\":3}")]
        );
        assert_eq!(lines("", 100).await, []);
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_skipped_whole() {
        assert_eq!(
            lines("0123456789\nabc\n0123456789abc", 5).await,
            [Line::TooLong, message("abc"), Line::TooLong]
        );
        assert_eq!(lines("12345\n", 5).await, [message("12345")]);
    }
}
