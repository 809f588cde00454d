//! A tiny template filler for the files in `disko-templates/`, and Nix string escaping.
//!
//! `{{name}}` is replaced by its value. A multi-line value continues at the
//! indentation of the line it was inserted into, so nested blocks stay aligned. A line
//! that held nothing but a placeholder whose value is empty disappears.

/// Fills `template`; every placeholder must have a value (a missing one is a bug in
/// the renderer, caught by the golden tests).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    for line in template.lines() {
        let indent: String = line.chars().take_while(|c| *c == ' ').collect();
        let sole = line.trim().starts_with("{{")
            && line.trim().ends_with("}}")
            && line.trim().matches("{{").count() == 1;
        let mut filled = String::new();
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            let end = rest[start..]
                .find("}}")
                .map(|e| start + e)
                .unwrap_or_else(|| panic!("unclosed placeholder in template line {line:?}"));
            let key = &rest[start + 2..end];
            let value = values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("template placeholder {{{{{key}}}}} has no value"));
            filled.push_str(&rest[..start]);
            filled.push_str(&value.replace('\n', &format!("\n{indent}")));
            rest = &rest[end + 2..];
        }
        filled.push_str(rest);
        if sole && filled.trim().is_empty() {
            continue;
        }
        out.push_str(filled.trim_end());
        out.push('\n');
    }
    out
}

/// Escapes `s` for the inside of a double-quoted Nix string: `\`, `"`, `${` and
/// control characters.
pub fn nix_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A double-quoted Nix string literal.
pub fn nix_str(s: &str) -> String {
    format!("\"{}\"", nix_escape(s))
}

/// Text safe inside a `#` comment: one line, no control characters.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// An attrset body `{ … }` from already-rendered `name = …;` blocks, or `{ }`.
pub fn attrset(blocks: &[String]) -> String {
    if blocks.is_empty() {
        return "{ }".into();
    }
    let mut s = String::from("{\n");
    for b in blocks {
        for line in b.lines() {
            if line.is_empty() {
                s.push('\n');
            } else {
                s.push_str("  ");
                s.push_str(line);
                s.push('\n');
            }
        }
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_nix_strings() {
        assert_eq!(nix_escape(r#"a"b\c${d}$e"#), r#"a\"b\\c\${d}$e"#);
        assert_eq!(nix_escape("x\ny"), "x\\ny");
        assert_eq!(nix_str("''"), "\"''\"");
    }

    #[test]
    fn fills_and_indents() {
        let t = "a = {{v}};\n  b = {{block}};\n  {{gone}}\nc;\n";
        let out = fill(t, &[("v", "1"), ("block", "{\n  x;\n}"), ("gone", "")]);
        assert_eq!(out, "a = 1;\n  b = {\n    x;\n  };\nc;\n");
    }

    #[test]
    #[should_panic(expected = "no value")]
    fn missing_values_are_bugs() {
        fill("{{nope}}", &[]);
    }
}
