//! Renders an [`App`] into a ratatui frame: a pure function of the state, the size and
//! the [`Look`] (colour or not, Unicode or ASCII), so the snapshots in
//! `tests/golden/tui/` are the screens an operator sees.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::model::{swap_text, App, Node, Screen};
use crate::plan::{LvContent, PartitionRole};
use crate::render::wrap::wrap;
use crate::units::{human_binary, human_bytes};

/// How the terminal can draw: colour (off under `NO_COLOR` or `TERM=dumb`) and Unicode
/// (off on a `linux`/`vt100` console or a non-UTF-8 locale, where box drawing and
/// arrows come out as garbage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub color: bool,
    pub unicode: bool,
}

const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Look {
    /// Text as this terminal can show it: the planner's `×`, `→`, `¼` and friends
    /// spelled in ASCII where Unicode is off.
    pub fn text(&self, s: &str) -> String {
        if self.unicode {
            return s.to_owned();
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '×' => out.push('x'),
                '→' => out.push_str("->"),
                '←' => out.push_str("<-"),
                '¼' => out.push_str("1/4"),
                '½' => out.push_str("1/2"),
                '…' => out.push_str("..."),
                '—' | '–' => out.push('-'),
                '·' => out.push('-'),
                '≥' => out.push_str(">="),
                '≤' => out.push_str("<="),
                '▸' => out.push('>'),
                '▾' => out.push('v'),
                '↑' => out.push('^'),
                '↓' => out.push('v'),
                c if c.is_ascii() => out.push(c),
                _ => out.push('?'),
            }
        }
        out
    }

    fn block<'a>(&self, title: &str) -> Block<'a> {
        Block::default()
            .borders(Borders::ALL)
            .border_set(if self.unicode {
                border::PLAIN
            } else {
                ASCII_BORDER
            })
            .title(format!(" {} ", self.text(title)))
    }

    fn focus(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    fn warn(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }

    fn line(&self, s: &str) -> Line<'static> {
        Line::from(self.text(s))
    }
}

/// Draws the whole screen.
pub fn render(app: &App, look: Look, f: &mut Frame) {
    let area = f.area();
    let message_lines = if area.height >= 40 { 6 } else { 3 };
    let header_lines = header_lines(app, look, usize::from(area.width));
    let [header, body, message, footer] = Layout::vertical([
        // Two rows, more when a long address or reason wraps (never cut: the IP and the
        // `ssh root@…` line are what the operator came for).
        Constraint::Length(u16::try_from(header_lines.len()).unwrap_or(2)),
        Constraint::Min(5),
        Constraint::Length(message_lines),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(header_lines), header);
    match &app.screen {
        Screen::Plan | Screen::Swap { .. } => render_plan(app, look, f, body),
        Screen::Wipe { cursor } => render_wipe(app, look, f, body, *cursor),
        Screen::Confirm { input, confirmed } => {
            render_confirm(app, look, f, body, input, *confirmed);
        }
        Screen::Progress => render_progress(app, look, f, body),
        Screen::Text {
            title,
            lines,
            scroll,
        } => {
            let text: Vec<Line> = lines.iter().map(|l| look.line(l)).collect();
            f.render_widget(
                Paragraph::new(text)
                    .block(look.block(title))
                    .wrap(Wrap { trim: false })
                    .scroll((u16::try_from(*scroll).unwrap_or(u16::MAX), 0)),
                body,
            );
        }
        Screen::Help => render_help(look, f, body),
    }
    let msg: Vec<Line> = match &app.screen {
        Screen::Swap { input } => vec![
            look.line("swap size: 8G, 16GB, 0 for none, empty for 2 x RAM (capped); Enter, Esc"),
            Line::from(Span::styled(format!("swap> {input}_"), look.warn())),
        ],
        _ => app.message.iter().map(|m| look.line(m)).collect(),
    };
    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), message);
    f.render_widget(
        Paragraph::new(look.line(footer_text(&app.screen, area.width))).style(look.focus()),
        footer,
    );
}

fn footer_text(s: &Screen, width: u16) -> &'static str {
    match s {
        // Every key of the plan view on an 80-column console (79 columns).
        Screen::Plan if width < 110 => {
            "j/k Enter m:mode s:swap a:apply S/L:save/load r:rescan t:status d:diag ?:help q"
        }
        Screen::Plan => {
            "j/k move  Enter expand  m mode  s swap  a apply  S save  L load  r rescan  t status  d diag  ? help  q quit"
        }
        Screen::Swap { .. } => "type a size  Enter re-plan  Esc back",
        Screen::Wipe { .. } => {
            "j/k move  space mark  Tab/Right method  Enter confirm  Esc back (nothing done)"
        }
        Screen::Confirm { .. } => "type as asked, Enter  Esc back out (nothing done)",
        Screen::Text { .. } => "j/k scroll  Esc/Enter/q back",
        Screen::Progress | Screen::Help => "Esc/Enter/q back",
    }
}

/// The header's rows at this width: what the LAN and sshd are, then the storage state
/// and the plan's options, each wrapped at its ` · ` separators' spaces, at most four rows.
fn header_lines(app: &App, look: Look, width: usize) -> Vec<Line<'static>> {
    let net = match &app.network {
        None => "lan: not up yet (no network-status)".to_owned(),
        Some(n) => {
            let ssh = match (&n.lan_ipv4, n.ssh.as_str()) {
                (Some(ip), "ready") => format!("ssh root@{ip} (sshd up)"),
                (_, "ready") => "sshd up, no address".to_owned(),
                (_, why) => format!("sshd not started: {why}"),
            };
            format!(
                "{} {} {} · {ssh}",
                n.lan_iface.as_deref().unwrap_or("no lan"),
                n.lan_mac.as_deref().unwrap_or("-"),
                n.lan_ipv4.as_deref().unwrap_or("no address"),
            )
        }
    };
    let storage = match &app.storage {
        None if !app.state_problems.is_empty() => app.state_problems.join("; "),
        None => "storage: no status yet".to_owned(),
        Some(s) if s.detail.is_empty() => format!("storage: {}", s.state),
        Some(s) => format!("storage: {}/{}", s.state, s.detail),
    };
    let line2 = format!(
        "{storage} · mode {} · swap {} · {}",
        app.options.mode.as_str(),
        swap_text(app.options.swap_size_bytes),
        app.plan_source
    );
    let mut rows = wrapped(
        &look.text(&format!("pre-nixos · {net}")),
        width,
        2,
        look.warn(),
    );
    rows.truncate(2);
    let mut second = wrapped(&look.text(&line2), width, 2, Style::default());
    second.truncate(2);
    rows.extend(second);
    rows
}

/// `text` (already in this terminal's characters) broken at spaces into rows of `width`
/// columns, continuation rows indented by `hang`, each in `style`. Pre-wrapped rather
/// than left to the `Paragraph`: the screens that scroll must know how many rows an item
/// takes to keep it in view.
fn wrapped(text: &str, width: usize, hang: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width.max(20), hang)
        .into_iter()
        .map(|r| Line::from(Span::styled(r, style)))
        .collect()
}

/// A box whose first `top` and last `bottom` rows always show and whose middle scrolls
/// so that rows `focus` (a range of the middle) are in view; a row saying how many rows
/// are out of view takes the place of the first or last visible one. Used where a list
/// of disks can outgrow an 80×24 console (the wipe marks, the confirmation).
fn scrolled<'a>(
    top: Vec<Line<'a>>,
    middle: Vec<Line<'a>>,
    bottom: Vec<Line<'a>>,
    focus: std::ops::Range<usize>,
    height: usize,
    look: Look,
) -> Vec<Line<'a>> {
    let room = height.saturating_sub(top.len() + bottom.len());
    let mut out = top;
    if middle.len() <= room {
        out.extend(middle);
    } else {
        // Room for the focus and the two "more" rows, whatever the terminal's size.
        let window = room.max(3);
        let mut start = focus.start.saturating_sub(1);
        if focus.end + 1 > start + window {
            start = (focus.end + 1).saturating_sub(window);
        }
        let start = start.min(middle.len().saturating_sub(window));
        let end = (start + window).min(middle.len());
        let mut shown: Vec<Line<'a>> = middle[start..end].to_vec();
        if start > 0 {
            shown[0] = look.line(&format!("  ↑ {} more rows above", start + 1));
        }
        if end < middle.len() {
            let last = shown.len() - 1;
            shown[last] = look.line(&format!("  ↓ {} more rows below", middle.len() - end + 1));
        }
        out.extend(shown);
    }
    out.extend(bottom);
    out
}

fn row_text(app: &App, n: &Node, look: Look) -> String {
    let Ok(plan) = &app.plan else {
        return String::new();
    };
    let l = &plan.layout;
    let mark = |open: bool| if open { "▾" } else { "▸" };
    let open = |n: &Node| app.expanded.contains(&super::model::node_key(n, plan));
    let s = match n {
        Node::Disk(i) => {
            let d = &l.disks[*i];
            let state = match app.detection.get(&d.stable_path) {
                None => "?",
                Some(r) if r.error.is_some() => "unreadable",
                Some(r) if r.clean() => "clean",
                Some(_) => "HOLDS DATA",
            };
            format!(
                "{} {} {} {} {}",
                mark(open(n)),
                d.name,
                human_bytes(d.size_bytes),
                d.kind.as_str(),
                state
            )
        }
        Node::Partition(i, p) => {
            let p = &l.disks[*i].partitions[*p];
            let role = match &p.role {
                PartitionRole::Esp { label, .. } => format!("ESP {label}"),
                PartitionRole::RaidMember { array } => format!("md {array}"),
                PartitionRole::Pv { vg } => format!("PV of {vg}"),
            };
            format!(
                "    {} {} {}",
                p.number,
                role,
                p.size_bytes.map_or("rest".to_owned(), human_binary)
            )
        }
        Node::Array(i) => {
            let a = &l.arrays[*i];
            format!(
                "{} md/{} {} {} → VG {}",
                mark(open(n)),
                a.name,
                a.level.name(),
                human_bytes(a.size_bytes),
                a.vg
            )
        }
        Node::Member(i, m) => format!(
            "    {}",
            l.arrays[*i].members[*m].trim_start_matches("/dev/disk/by-partlabel/")
        ),
        Node::Vg(i) => {
            let v = &l.vgs[*i];
            format!(
                "{} VG {} {} ({} LV)",
                mark(open(n)),
                v.name,
                human_binary(v.extents * v.extent_bytes),
                v.lvs.len()
            )
        }
        Node::Lv(v, x) => {
            let lv = &l.vgs[*v].lvs[*x];
            let what = match &lv.content {
                LvContent::Ext4 { mountpoint, .. } => format!("ext4 {mountpoint}"),
                LvContent::Swap { .. } => "swap".to_owned(),
            };
            format!("    {} {} {what}", lv.name, human_binary(lv.size_bytes))
        }
        Node::ExcludedHead => format!("{} excluded ({})", mark(open(n)), plan.excluded.len()),
        Node::Excluded(i) => {
            let x = &plan.excluded[*i];
            format!("    {}: {}", x.name, x.reason)
        }
    };
    look.text(&s)
}

fn render_plan(app: &App, look: Look, f: &mut Frame, area: Rect) {
    let Ok(plan) = &app.plan else {
        let e = app.plan.as_ref().err().cloned().unwrap_or_default();
        f.render_widget(
            Paragraph::new(look.line(&format!("no plan: {e}")))
                .block(look.block("plan"))
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
    let rows = app.rows();
    let height = usize::from(left.height.saturating_sub(2)).max(1);
    let skip = app.cursor.saturating_sub(height - 1);
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(skip)
        .take(height)
        .map(|(i, n)| {
            let t = row_text(app, n, look);
            if i == app.cursor {
                Line::from(Span::styled(t, look.focus()))
            } else {
                Line::from(t)
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(look.block(&format!(
            "plan: {} disks, {} arrays, {} VGs",
            plan.layout.disks.len(),
            plan.layout.arrays.len(),
            plan.layout.vgs.len()
        ))),
        left,
    );
    let details = app.focused().map(|n| details(app, &n)).unwrap_or_default();
    let lines: Vec<Line> = details.iter().map(|l| look.line(l)).collect();
    f.render_widget(
        Paragraph::new(lines)
            .block(look.block("details"))
            .wrap(Wrap { trim: false }),
        right,
    );
}

/// The focused item's facts, then the planner's decisions about it.
pub fn details(app: &App, n: &Node) -> Vec<String> {
    let Ok(plan) = &app.plan else {
        return Vec::new();
    };
    let l = &plan.layout;
    let mut out = Vec::new();
    match n {
        Node::Disk(i) | Node::Partition(i, _) => {
            let d = &l.disks[*i];
            out.push(d.stable_path.clone());
            out.push(format!(
                "/dev/{} · {} ({}) · {}",
                d.name,
                human_bytes(d.size_bytes),
                human_binary(d.size_bytes),
                d.kind.as_str()
            ));
            let model = app
                .inventory_disk(&d.stable_path)
                .and_then(|x| x.model.clone())
                .or_else(|| d.model.clone());
            out.push(format!(
                "serial {} · model {}",
                d.serial.as_deref().unwrap_or("none"),
                model.as_deref().unwrap_or("unknown")
            ));
            out.push(match app.detection.get(&d.stable_path) {
                None => "found: not examined".into(),
                Some(r) => match (&r.error, r.reasons.is_empty()) {
                    (Some(e), _) => format!("found: could not examine: {e}"),
                    (None, true) => "found: clean".into(),
                    (None, false) => format!("found: {}", r.reasons.join(", ")),
                },
            });
            if let Node::Partition(_, p) = n {
                let p = &d.partitions[*p];
                out.push(format!(
                    "partition {}: {} ({})",
                    p.number, p.partlabel, p.type_code
                ));
            }
        }
        Node::Array(i) | Node::Member(i, _) => {
            let a = &l.arrays[*i];
            out.push(format!(
                "{} {} of {} members, {} usable, metadata {}",
                a.device(),
                a.level.name(),
                a.members.len(),
                human_bytes(a.size_bytes),
                a.metadata
            ));
            out.push(format!("PV of VG {}", a.vg));
        }
        Node::Vg(i) => {
            let v = &l.vgs[*i];
            out.push(format!(
                "VG {}: {} extents of {}",
                v.name,
                v.extents,
                human_binary(v.extent_bytes)
            ));
            out.push(format!("PVs: {}", v.pvs.join(", ")));
        }
        Node::Lv(v, x) => {
            let vg = &l.vgs[*v];
            let lv = &vg.lvs[*x];
            out.push(format!(
                "{}: {} ({} extents)",
                lv.device(&vg.name),
                human_binary(lv.size_bytes),
                lv.extents
            ));
            out.push(match &lv.content {
                LvContent::Ext4 {
                    label, mountpoint, ..
                } => format!("ext4 label {label} on {mountpoint}"),
                LvContent::Swap { label } => format!("swap label {label}"),
            });
        }
        Node::ExcludedHead => {
            out.push("devices the planner never uses, and why".into());
        }
        Node::Excluded(i) => {
            let x = &plan.excluded[*i];
            out.push(format!("{}: {}", x.name, x.reason));
            if let Some(s) = x.size_bytes {
                out.push(format!("size {}", human_bytes(s)));
            }
            if let Some(m) = &x.model {
                out.push(format!("model {m}"));
            }
            if let Some(s) = &x.serial {
                out.push(format!("serial {s}"));
            }
        }
    }
    let decisions = app.decisions_for(n);
    if !decisions.is_empty() {
        out.push("why:".into());
        out.extend(
            decisions
                .iter()
                .map(|d| format!("{}: {}", d.subject, d.reason)),
        );
    }
    out
}

fn disk_identity(app: &App, d: &crate::plan::PlannedDisk) -> String {
    let model = app
        .inventory_disk(&d.stable_path)
        .and_then(|x| x.model.clone())
        .or_else(|| d.model.clone());
    format!(
        "{} · {} · serial {} · {}",
        d.stable_path,
        model.as_deref().unwrap_or("unknown model"),
        d.serial.as_deref().unwrap_or("none"),
        human_bytes(d.size_bytes)
    )
}

fn render_wipe(app: &App, look: Look, f: &mut Frame, area: Rect, cursor: usize) {
    let width = usize::from(area.width.saturating_sub(2));
    let mut top = Vec::new();
    for t in [
        "These planned disks hold data. Mark each to DESTROY what is on it,",
        "and choose how: signatures (fast), discard (SSD/NVMe), overwrite (slow).",
    ] {
        top.extend(wrapped(&look.text(t), width, 0, Style::default()));
    }
    top.push(Line::from(""));
    let mut middle = Vec::new();
    let mut focus = 0..0;
    for (i, d) in app.dirty_disks().iter().enumerate() {
        let m = app.marks.get(&d.stable_path);
        let head = format!(
            "[{}] {} {} {}",
            if m.is_some() { "x" } else { " " },
            d.name,
            d.serial.as_deref().unwrap_or("no serial"),
            m.map_or("(not marked)".to_owned(), |m| format!("wipe: {m}"))
        );
        let style = if i == cursor {
            look.focus()
        } else {
            Style::default()
        };
        let start = middle.len();
        middle.extend(wrapped(&look.text(&head), width, 4, style));
        middle.extend(wrapped(
            &look.text(&format!("    {}", d.stable_path)),
            width,
            4,
            Style::default(),
        ));
        if let Some(r) = app.detection.get(&d.stable_path) {
            middle.extend(wrapped(
                &look.text(&format!("    found: {}", r.reasons.join(", "))),
                width,
                4,
                Style::default(),
            ));
        }
        if i == cursor {
            focus = start..middle.len();
        }
    }
    let height = usize::from(area.height.saturating_sub(2));
    let lines = scrolled(top, middle, Vec::new(), focus, height, look);
    f.render_widget(
        Paragraph::new(lines).block(look.block("apply: disks that hold data")),
        area,
    );
}

fn render_confirm(app: &App, look: Look, f: &mut Frame, area: Rect, input: &str, done: usize) {
    let width = usize::from(area.width.saturating_sub(2));
    let marked = app.marked_disks();
    let mut top = Vec::new();
    let mut middle = Vec::new();
    let mut bottom = Vec::new();
    let mut focus = 0..0;
    if marked.is_empty() {
        top.extend(wrapped(
            &look.text("Every planned disk is clean. The plan will be written to:"),
            width,
            0,
            Style::default(),
        ));
        for d in &app
            .plan
            .as_ref()
            .map(|p| p.layout.disks.clone())
            .unwrap_or_default()
        {
            middle.extend(wrapped(
                &look.text(&format!("  {}", disk_identity(app, d))),
                width,
                2,
                Style::default(),
            ));
        }
        bottom.push(Line::from(""));
        bottom.extend(wrapped(
            &look.text("Type apply and Enter to go on."),
            width,
            0,
            Style::default(),
        ));
    } else {
        top.extend(wrapped(
            &look.text("EVERYTHING on these disks will be DESTROYED:"),
            width,
            0,
            look.warn(),
        ));
        for (i, d) in marked.iter().enumerate() {
            let start = middle.len();
            middle.extend(wrapped(
                &look.text(&format!(
                    "{} {} [{}]",
                    if i < done { "ok" } else { "  " },
                    disk_identity(app, d),
                    app.marks[&d.stable_path]
                )),
                width,
                // Continuation rows line up under the path: "ok " has no indent of its
                // own, the pending rows' three spaces count as one.
                if i < done { 3 } else { 0 },
                Style::default(),
            ));
            if i == done {
                focus = start..middle.len();
            }
        }
        bottom.push(Line::from(""));
        if let Some(d) = marked.get(done) {
            bottom.extend(wrapped(
                &look.text(&format!(
                    "Type the serial of {} ({}), or wipe all for every disk above:",
                    d.name, d.stable_path
                )),
                width,
                0,
                Style::default(),
            ));
        }
    }
    bottom.push(Line::from(Span::styled(format!("> {input}_"), look.warn())));
    let height = usize::from(area.height.saturating_sub(2));
    let lines = scrolled(top, middle, bottom, focus, height, look);
    f.render_widget(
        Paragraph::new(lines).block(look.block("apply: confirm")),
        area,
    );
}

fn render_progress(app: &App, look: Look, f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = app.progress.iter().map(|p| look.line(&p.text)).collect();
    match &app.outcome {
        Some(o) => lines.push(Line::from(Span::styled(look.text(o), look.warn()))),
        None => lines.push(look.line("working …")),
    }
    let height = usize::from(area.height.saturating_sub(2));
    let skip = lines.len().saturating_sub(height);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    f.render_widget(Paragraph::new(lines).block(look.block("apply")), area);
}

const HELP: &[&str] = &[
    "Plan view",
    "  Up/Down, j/k   move            Enter, Right/l  expand   Left/h  collapse",
    "  m  switch mode fast/careful    s  swap size (re-plans at once)",
    "  a  apply: mark the disks that hold data, choose a method, confirm",
    "  S  save the plan to storage-plan.json    L  load it from there",
    "  r  read the disks again   t  status   d  diagnose bundle   q  quit",
    "Apply",
    "  space marks a disk, Tab/Right/Left choose signatures, discard, overwrite;",
    "  the confirmation asks for each disk's serial (or: wipe all).",
    "  Esc always goes back with nothing done.",
];

fn render_help(look: Look, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = HELP.iter().map(|l| look.line(l)).collect();
    f.render_widget(
        Paragraph::new(lines)
            .block(look.block("help"))
            .wrap(Wrap { trim: false }),
        area,
    );
}
