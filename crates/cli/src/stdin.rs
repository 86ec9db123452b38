//! What is piped in, read whole (or up to a blank line that ends it): refused, not cut,
//! when it is longer than anything a command reads from stdin could be, so that its end
//! is never judged as the whole; or read line by line, for addresses pasted during a
//! sign-in.

use std::io::{BufRead, Read};

use grantkeeper_engine::{Error, Result};

/// Secrets and git's requests are at most a few KiB.
const LIMIT: u64 = 64 * 1024;

/// All of `input`; `what` names what it should hold ("the client secret", "git's request").
pub fn read_whole(input: impl Read, field: &'static str, what: &str) -> Result<String> {
    let mut text = String::new();
    input
        .take(LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid(field, format!("Could not read {what} from stdin: {e}")))?;
    within_limit(text, field, what)
}

/// The lines of `input` up to the first blank one, or to its end: a request that ends
/// with a blank line is answered without waiting for its writer to close the pipe, as
/// git's credential protocol has it. Refused past the limit, as [`read_whole`] is.
pub fn read_to_blank_line(input: impl Read, field: &'static str, what: &str) -> Result<String> {
    let mut reader = std::io::BufReader::new(input.take(LIMIT + 1));
    let mut text = String::new();
    loop {
        let start = text.len();
        let read = reader
            .read_line(&mut text)
            .map_err(|e| Error::invalid(field, format!("Could not read {what} from stdin: {e}")))?;
        if read == 0 || text[start..].trim_end_matches(['\r', '\n']).is_empty() {
            break;
        }
    }
    within_limit(text, field, what)
}

/// `text` unless it holds more than the limit, which is refused, not cut.
fn within_limit(text: String, field: &'static str, what: &str) -> Result<String> {
    if text.len() as u64 > LIMIT {
        return Err(Error::invalid(
            field,
            format!(
                "Stdin holds more than {} KiB, far more than {what} can be; check what you piped in.",
                LIMIT / 1024
            ),
        ));
    }
    Ok(text)
}

/// The lines typed or piped in, read on a thread of their own: a read of the terminal
/// cannot be cancelled, and one left waiting must not keep the program from ending.
/// A line that is not text, or longer than anything a person pastes, is skipped with
/// why (Err), and reading goes on; the channel ends at the end of stdin.
pub fn lines() -> tokio::sync::mpsc::Receiver<std::result::Result<String, &'static str>> {
    let (sender, lines) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        while let Ok(Some(line)) = next_line(&mut input) {
            if sender.blocking_send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// One line of `input`, or why it was skipped; None at its end.
fn next_line(input: &mut impl BufRead) -> std::io::Result<Option<std::result::Result<String, &'static str>>> {
    let mut line = Vec::new();
    let read = input.take(LIMIT).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") && read as u64 == LIMIT {
        skip_rest_of_line(input)?;
        return Ok(Some(Err(
            "that line is longer than any address; paste the address of the page the browser shows",
        )));
    }
    Ok(Some(
        String::from_utf8(line)
            .map_err(|_| "that line is not text; paste the address of the page the browser shows"),
    ))
}

fn skip_rest_of_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(end) => {
                input.consume(end + 1);
                return Ok(());
            }
            None => {
                let length = available.len();
                input.consume(length);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_past_it() {
        let most = vec![b'a'; LIMIT as usize];
        assert_eq!(read_whole(&most[..], "key", "the key").unwrap().len(), most.len());
        let over = vec![b'a'; LIMIT as usize + 1];
        let error = read_whole(&over[..], "key", "the key").unwrap_err();
        assert_eq!(error.field(), Some("key"));
        assert!(error.to_string().contains("more than 64 KiB, far more than the key"), "{error}");
        let not_text = read_whole(&[0xff, 0xfe][..], "stdin", "git's request").unwrap_err();
        assert!(not_text.to_string().starts_with("Could not read git's request from stdin"), "{not_text}");
    }

    #[test]
    fn a_pasted_line_that_is_not_text_or_too_long_is_skipped_and_reading_goes_on() {
        let long = vec![b'a'; LIMIT as usize + 10];
        let input = [&b"\xff\xfe not text\n"[..], &long, b"\nhttp://127.0.0.1:1/callback?code=c\n"].concat();
        let mut reader = std::io::BufReader::with_capacity(1024, &input[..]);
        let mut lines = Vec::new();
        while let Some(line) = next_line(&mut reader).unwrap() {
            lines.push(line.map_err(|why| why.split(';').next().unwrap().to_owned()));
        }
        assert_eq!(
            lines,
            [
                Err("that line is not text".to_owned()),
                Err("that line is longer than any address".to_owned()),
                Ok("http://127.0.0.1:1/callback?code=c\n".to_owned()),
            ]
        );
    }

    #[test]
    fn reads_to_a_blank_line_up_to_the_limit() {
        let text = read_to_blank_line(&b"a=1\r\n\r\nb=2\n"[..], "stdin", "git's request").unwrap();
        assert_eq!(text, "a=1\r\n\r\n");
        let over = format!("path={}\n", "a".repeat(LIMIT as usize));
        let error = read_to_blank_line(over.as_bytes(), "stdin", "git's request").unwrap_err();
        assert!(error.to_string().contains("more than 64 KiB"), "{error}");
        assert!(read_to_blank_line(&[0xff, b'\n'][..], "stdin", "git's request").is_err());
    }
}
