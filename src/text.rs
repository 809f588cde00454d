//! Text helpers every stage shares: one-line renderings of multi-line texts (status
//! values, error chains) and shell quoting (status files, command display).

/// Joins the non-empty lines of `text`, trimmed, with ` | `: one line for `ERROR=`, a
/// journal field or a console line, with nothing lost.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// An error with its whole context chain, on one line.
pub fn error_line(e: &anyhow::Error) -> String {
    one_line(&format!("{e:#}"))
}

/// Quotes `a` for `sh` only when it needs it, so a reader can paste a command line and
/// a status file stays plain where it can. The empty string is `''`.
///
/// Hand-made rather than `shlex::try_quote`: `storage-status` is read back by our own
/// parser (`state::status`), which takes exactly this one form (single quotes, `'\''`
/// for a quote), and the status files and dry-run listings are byte-exact goldens;
/// shlex picks its quoting style per input and refuses NUL, where this never fails.
pub fn shell_quote(a: &str) -> String {
    if !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_every_non_empty_line() {
        assert_eq!(one_line("a\n\n  b  \nc\n"), "a | b | c");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn shell_quote_quotes_only_what_needs_it() {
        assert_eq!(shell_quote("/dev/sda1"), "/dev/sda1");
        assert_eq!(shell_quote("LABEL=x"), "LABEL=x");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
