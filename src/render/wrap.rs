//! Word wrapping for the human renderings (plan summary, `status`, `diagnose`): a line
//! longer than the width breaks at spaces, and its continuation lines are indented
//! (a hanging indent) so each item still reads as one. A single word longer than the
//! width (a by-id path) is never cut; it overflows on a line of its own.
//!
//! Hand-made rather than the `textwrap` crate: this is the one rule we need, widths are
//! counted in `char`s (every character these renderings print is one column wide), and
//! it keeps the dependency list short.

/// The width used when the terminal's is unknown (a pipe, a file, the serial console).
pub const DEFAULT_WIDTH: usize = 80;

/// The width of the terminal on stdout, or [`DEFAULT_WIDTH`] when stdout is not one.
pub fn stdout_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w >= 20)
        .unwrap_or(DEFAULT_WIDTH)
}

/// `line` broken at spaces into lines of at most `width` columns; continuation lines
/// start with `hang` spaces more than the line's own indent.
pub fn wrap(line: &str, width: usize, hang: usize) -> Vec<String> {
    if line.chars().count() <= width {
        return vec![line.to_owned()];
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let cont = " ".repeat(indent + hang);
    let mut out = Vec::new();
    let mut cur = " ".repeat(indent);
    let mut cur_len = indent;
    let mut fresh = true;
    for word in line[indent..].split(' ') {
        let wlen = word.chars().count();
        if !fresh && cur_len + 1 + wlen > width {
            out.push(std::mem::replace(&mut cur, cont.clone()));
            cur_len = cont.len();
            fresh = true;
        }
        if !fresh {
            cur.push(' ');
            cur_len += 1;
        }
        cur.push_str(word);
        cur_len += wlen;
        fresh = false;
    }
    out.push(cur);
    out
}

/// Writes `line` wrapped (see [`wrap`]), each piece ending in a newline.
pub fn write_wrapped(
    out: &mut dyn std::io::Write,
    width: usize,
    hang: usize,
    line: &str,
) -> std::io::Result<()> {
    for l in wrap(line, width, hang) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_break_at_words_with_a_hanging_indent() {
        let l = "  vg main: nvme0n1, nvme1n1: 2 × 1.9 TB NVMe → RAID1 (careful mode mirrors solid-state disks)";
        let w = wrap(l, 40, 2);
        assert_eq!(
            w,
            [
                "  vg main: nvme0n1, nvme1n1: 2 × 1.9 TB",
                "    NVMe → RAID1 (careful mode mirrors",
                "    solid-state disks)",
            ]
        );
        assert!(w.iter().all(|l| l.chars().count() <= 40));
        assert_eq!(wrap("short", 40, 2), ["short"]);
    }

    #[test]
    fn a_word_longer_than_the_line_stays_whole() {
        let path = "/dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNE0R600000";
        let w = wrap(&format!("  disk {path} here"), 30, 2);
        assert_eq!(w, ["  disk", format!("    {path}").as_str(), "    here"]);
    }
}
