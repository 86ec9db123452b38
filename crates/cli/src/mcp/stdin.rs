//! What the AI client writes (stdin): newline-delimited JSON-RPC messages, read on a
//! thread of its own (a blocking read cannot be cancelled, and must not keep the process
//! from exiting), each line at most `limit` bytes.

use std::io::{BufRead, BufReader, Read};

use tokio::sync::mpsc;

use super::jsonrpc::{request_id, Id};

#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// One line, without its line ending; never empty or blank.
    Message(Vec<u8>),
    /// A line longer than the limit, skipped; the id of the request it held, where one
    /// could be read.
    TooLong { id: Option<Id> },
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
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            // The last line may lack its newline.
            return Ok(finish(line));
        }
        let (taken, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at, true),
            None => (available.len(), false),
        };
        if line.len() + taken > limit {
            return skip_long_line(line, reader).map(Some);
        }
        line.extend_from_slice(&available[..taken]);
        reader.consume(taken + usize::from(ends));
        if ends {
            match finish(std::mem::take(&mut line)) {
                Some(message) => return Ok(Some(message)),
                None => continue, // a blank line
            }
        }
    }
}

/// Reads the rest of a line over the limit without keeping it, and the id of the request
/// it holds: the client is still owed an answer.
fn skip_long_line(head: Vec<u8>, reader: &mut impl BufRead) -> std::io::Result<Line> {
    let mut rest = RestOfLine { reader, ended: false };
    let id = request_id(std::io::Cursor::new(head).chain(&mut rest));
    std::io::copy(&mut rest, &mut std::io::sink())?;
    Ok(Line::TooLong { id })
}

/// The rest of the current line, its newline consumed but not given.
struct RestOfLine<'a, R> {
    reader: &'a mut R,
    ended: bool,
}

impl<R: BufRead> Read for RestOfLine<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.ended {
            return Ok(0);
        }
        let available = self.reader.fill_buf()?;
        let (taken, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at, true),
            None => (available.len(), false),
        };
        let given = taken.min(out.len());
        out[..given].copy_from_slice(&available[..given]);
        self.ended = available.is_empty() || (ends && given == taken);
        self.reader.consume(given + usize::from(ends && given == taken));
        Ok(given)
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
            [Line::TooLong { id: None }, message("abc"), Line::TooLong { id: None }]
        );
        assert_eq!(lines("12345\n", 5).await, [message("12345")]);
    }

    #[tokio::test]
    async fn a_request_over_the_limit_keeps_its_id_wherever_it_stands() {
        let big = "x".repeat(300);
        let input = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{{\"a\":\"{big}\"}}}}\n\
             {{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":[\"{big}\"],\"id\":\"late\"}}\n\
             {{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":\"{big}\"}}\n\
             [{{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"m\",\"params\":\"{big}\"}}]\n\
             {{\"id\":10,\"method\":\"m\",\"params\":\"{big}\n\
             {{}}\n"
        );
        let input: &'static str = Box::leak(input.into_boxed_str());
        let id = |json: &str| Line::TooLong { id: Some(Id::from_json(json)) };
        assert_eq!(
            lines(input, 64).await,
            [
                id("7"),
                id("\"late\""),
                Line::TooLong { id: None }, // an answer to the server: nobody waits for it
                Line::TooLong { id: None }, // a batch
                Line::TooLong { id: None }, // cut short by its line's end
                message("{}"),
            ]
        );
    }
}
