//! Text from the MCP server made safe for a terminal: control characters (terminal escape
//! sequences, line breaks) and bidirectional overrides are removed, and the length is
//! bounded, so a hostile server cannot rewrite or flood the person's screen.

/// The most characters of a server's text shown in one message.
pub const SHOWN_CHARS: usize = 300;

/// `text` on one line, at most `max_chars` characters (then "…").
pub fn for_terminal(text: &str, max_chars: usize) -> String {
    let mut shown = String::new();
    let mut count = 0;
    let mut space = false;
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() || is_bidi_control(c) {
            space = !shown.is_empty();
            continue;
        }
        if count + usize::from(space) >= max_chars {
            shown.push('…');
            return shown;
        }
        if space {
            shown.push(' ');
            count += 1;
            space = false;
        }
        shown.push(c);
        count += 1;
    }
    shown
}

/// Marks that reorder what a terminal shows (Unicode bidirectional embeddings,
/// overrides and isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A connection's name as one shell word, for a command a person can paste.
pub fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-+:@/".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_line_breaks_are_removed() {
        assert_eq!(
            for_terminal("\u{1b}[2J\u{1b}]0;owned\u{7}bad\r\ngateway\t!", 100),
            "[2J ]0;owned bad gateway !"
        );
        assert_eq!(for_terminal("a\u{202E}b\u{9b}c", 100), "a b c");
        assert_eq!(for_terminal("  \n  ", 100), "");
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(for_terminal(&"é".repeat(10), 4), "éééé…");
        assert_eq!(for_terminal("abcd", 4), "abcd");
        assert!(for_terminal(&"x ".repeat(100_000), SHOWN_CHARS).chars().count() <= SHOWN_CHARS + 1);
    }

    #[test]
    fn names_become_one_shell_word() {
        assert_eq!(shell_word("Example-MCP"), "Example-MCP");
        assert_eq!(shell_word("Ada's MCP"), r"'Ada'\''s MCP'");
        assert_eq!(shell_word(""), "''");
    }
}
