//! The TUI's state and what each key does to it, with no terminal and no host: every
//! screen is a value of [`App`], every key a call to [`App::key`], which returns the
//! [`Action`] the event loop must carry out (re-plan, save, load, apply…). The loop
//! does the I/O and hands the results back ([`App::set_plan`], [`App::applied`]); the
//! view only reads. So a keystroke script is a test of the whole UI logic.

use std::collections::{BTreeMap, BTreeSet};

use crate::inventory::{Disk, Inventory};
use crate::kcmdline::{WipeMethod, WipeSpec};
use crate::plan::{Decision, Mode, Plan, PlanOptions};
use crate::state::status::{NetworkStatus, StorageStatus};
use crate::storage::detect::DiskReport;

/// A key, as the model sees it (the loop maps crossterm's events onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Up,
    Down,
    Left,
    Right,
    Enter,
    Esc,
    Backspace,
    Tab,
}

/// What the loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Plan again with these options (the planner is pure; the loop calls it).
    Replan(PlanOptions),
    /// Write the plan to the state directory's `storage-plan.json`.
    Save,
    /// Read the state directory's `storage-plan.json` instead of the plan made here.
    Load,
    /// Read the disks again (inventory, detection).
    Rescan,
    /// Run the apply with this consent.
    Apply(Consent),
    /// Fill the status view (what `pre-nixos status` prints).
    Status,
    /// Write a diagnose bundle and show what `pre-nixos diagnose` prints.
    Diagnose,
}

/// What the operator agreed to on the confirmation screen: the wipe switch and the
/// method for each disk it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub wipe: Option<WipeSpec>,
    /// Stable path → method, for every disk the switch names.
    pub methods: BTreeMap<String, WipeMethod>,
}

/// One row of the plan tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Disk(usize),
    Partition(usize, usize),
    Array(usize),
    Member(usize, usize),
    Vg(usize),
    Lv(usize, usize),
    ExcludedHead,
    Excluded(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Plan,
    /// Typing a swap size (`8G`, `0`, empty for the default).
    Swap {
        input: String,
    },
    /// Marking the disks that hold data, each with a method.
    Wipe {
        cursor: usize,
    },
    /// Typing each marked disk's serial (or `wipe all`); `confirmed` disks done.
    Confirm {
        input: String,
        confirmed: usize,
    },
    /// The apply ran (or runs): its progress lines and its outcome.
    Progress,
    /// A text view: status or diagnose output, scrolled down `scroll` lines.
    Text {
        title: String,
        lines: Vec<String>,
        scroll: usize,
    },
    Help,
}

/// One line of apply progress (`[2/9] partitioning /dev/sda … done in 0.4 s`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressLine {
    pub text: String,
}

/// Everything on screen.
#[derive(Debug, Clone)]
pub struct App {
    pub inventory: Inventory,
    pub options: PlanOptions,
    pub plan: Result<Plan, String>,
    /// Where the plan came from (`planned here`, `loaded from …`).
    pub plan_source: String,
    /// What detection found on each planned disk (by stable path).
    pub detection: BTreeMap<String, DiskReport>,
    pub network: Option<NetworkStatus>,
    pub storage: Option<StorageStatus>,
    /// State files that could not be read (the header says so instead of "not yet").
    pub state_problems: Vec<String>,
    pub screen: Screen,
    pub cursor: usize,
    pub expanded: BTreeSet<String>,
    /// Stable path → method, for the disks marked for wiping.
    pub marks: BTreeMap<String, WipeMethod>,
    /// The last re-plan's differences, or a message for the operator.
    pub message: Vec<String>,
    pub progress: Vec<ProgressLine>,
    /// The apply's final line (`storage: applied/wiped-and-applied`).
    pub outcome: Option<String>,
    /// The apply has run; a second one needs a rescan first.
    pub applied_once: bool,
    /// The plan is of a saved inventory, not of this machine: nothing to apply here.
    pub review_only: bool,
}

/// The lowest swap size the planner takes (below it is an error).
const GIB: u64 = crate::units::GIB;

impl App {
    pub fn new(inventory: Inventory, options: PlanOptions, plan: Result<Plan, String>) -> App {
        App {
            inventory,
            options,
            plan,
            plan_source: "planned here".into(),
            detection: BTreeMap::new(),
            network: None,
            storage: None,
            state_problems: Vec::new(),
            screen: Screen::Plan,
            cursor: 0,
            expanded: BTreeSet::new(),
            marks: BTreeMap::new(),
            message: Vec::new(),
            progress: Vec::new(),
            outcome: None,
            applied_once: false,
            review_only: false,
        }
    }

    /// The plan tree as shown: each disk, array and VG, their children when expanded,
    /// and the excluded devices under one heading.
    pub fn rows(&self) -> Vec<Node> {
        let mut out = Vec::new();
        let Ok(plan) = &self.plan else {
            return out;
        };
        let l = &plan.layout;
        for (i, d) in l.disks.iter().enumerate() {
            out.push(Node::Disk(i));
            if self.expanded.contains(&node_key(&Node::Disk(i), plan)) {
                out.extend((0..d.partitions.len()).map(|p| Node::Partition(i, p)));
            }
        }
        for (i, a) in l.arrays.iter().enumerate() {
            out.push(Node::Array(i));
            if self.expanded.contains(&node_key(&Node::Array(i), plan)) {
                out.extend((0..a.members.len()).map(|m| Node::Member(i, m)));
            }
        }
        for (i, v) in l.vgs.iter().enumerate() {
            out.push(Node::Vg(i));
            if self.expanded.contains(&node_key(&Node::Vg(i), plan)) {
                out.extend((0..v.lvs.len()).map(|x| Node::Lv(i, x)));
            }
        }
        if !plan.excluded.is_empty() {
            out.push(Node::ExcludedHead);
            if self.expanded.contains("excluded") {
                out.extend((0..plan.excluded.len()).map(Node::Excluded));
            }
        }
        out
    }

    pub fn focused(&self) -> Option<Node> {
        self.rows().get(self.cursor).cloned()
    }

    /// The planned disks detection found something on, in plan order.
    pub fn dirty_disks(&self) -> Vec<&crate::plan::PlannedDisk> {
        let Ok(plan) = &self.plan else {
            return Vec::new();
        };
        plan.layout
            .disks
            .iter()
            .filter(|d| {
                self.detection
                    .get(&d.stable_path)
                    .is_some_and(|r| !r.clean())
            })
            .collect()
    }

    /// The inventory's record of a planned disk (model, bus), found by stable path.
    pub fn inventory_disk(&self, stable_path: &str) -> Option<&Disk> {
        self.inventory
            .disks
            .iter()
            .find(|d| d.stable_path == stable_path)
    }

    /// The marked disks, in plan order: what the confirmation names.
    pub fn marked_disks(&self) -> Vec<&crate::plan::PlannedDisk> {
        self.dirty_disks()
            .into_iter()
            .filter(|d| self.marks.contains_key(&d.stable_path))
            .collect()
    }

    /// The decisions about the focused item: "why RAID5", in the planner's words.
    pub fn decisions_for(&self, node: &Node) -> Vec<&Decision> {
        let Ok(plan) = &self.plan else {
            return Vec::new();
        };
        let l = &plan.layout;
        let by_subject = |s: String| -> Vec<&Decision> {
            plan.decisions.iter().filter(|d| d.subject == s).collect()
        };
        match node {
            Node::Disk(i) | Node::Partition(i, _) => {
                let name = &l.disks[*i].name;
                plan.decisions
                    .iter()
                    .filter(|d| {
                        d.reason
                            .split_once(':')
                            .is_some_and(|(who, _)| who.split(", ").any(|w| w == name))
                    })
                    .collect()
            }
            Node::Array(i) | Node::Member(i, _) => by_subject(format!("vg {}", l.arrays[*i].vg)),
            Node::Vg(i) => {
                let vg = &l.vgs[*i].name;
                plan.decisions
                    .iter()
                    .filter(|d| {
                        d.subject == format!("vg {vg}")
                            || d.subject.starts_with(&format!("lv {vg}/"))
                    })
                    .collect()
            }
            Node::Lv(v, x) => {
                let vg = &l.vgs[*v];
                by_subject(format!("lv {}/{}", vg.name, vg.lvs[*x].name))
            }
            Node::ExcludedHead | Node::Excluded(_) => Vec::new(),
        }
    }

    /// Handles one key on the current screen.
    pub fn key(&mut self, k: Key) -> Action {
        match self.screen.clone() {
            Screen::Plan => self.key_plan(k),
            Screen::Swap { input } => self.key_swap(k, input),
            Screen::Wipe { cursor } => self.key_wipe(k, cursor),
            Screen::Confirm { input, confirmed } => self.key_confirm(k, input, confirmed),
            Screen::Text {
                title,
                lines,
                scroll,
            } if matches!(k, Key::Up | Key::Down | Key::Char('j') | Key::Char('k')) => {
                let scroll = if matches!(k, Key::Up | Key::Char('k')) {
                    scroll.saturating_sub(1)
                } else {
                    (scroll + 1).min(lines.len().saturating_sub(1))
                };
                self.screen = Screen::Text {
                    title,
                    lines,
                    scroll,
                };
                Action::None
            }
            Screen::Progress | Screen::Text { .. } | Screen::Help => {
                if matches!(k, Key::Esc | Key::Enter | Key::Char('q')) {
                    self.screen = Screen::Plan;
                }
                Action::None
            }
        }
    }

    fn key_plan(&mut self, k: Key) -> Action {
        let rows = self.rows();
        match k {
            Key::Char('q') => return Action::Quit,
            Key::Up | Key::Char('k') => self.cursor = self.cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => {
                self.cursor = (self.cursor + 1).min(rows.len().saturating_sub(1));
            }
            Key::Enter | Key::Right | Key::Char('l') | Key::Left | Key::Char('h') => {
                if let (Some(n), Ok(plan)) = (rows.get(self.cursor), &self.plan) {
                    let key = node_key(n, plan);
                    // Enter toggles; Right/l open; Left/h close.
                    let close = matches!(k, Key::Left | Key::Char('h'))
                        || (k == Key::Enter && self.expanded.contains(&key));
                    let open = !close;
                    if open {
                        self.expanded.insert(key);
                    } else {
                        self.expanded.remove(&key);
                    }
                }
            }
            Key::Char('m') => {
                let mut o = self.options.clone();
                o.mode = match o.mode {
                    Mode::Fast => Mode::Careful,
                    Mode::Careful => Mode::Fast,
                };
                return Action::Replan(o);
            }
            Key::Char('s') => {
                let input = self
                    .options
                    .swap_size_bytes
                    .map(|b| format!("{}G", b / GIB))
                    .unwrap_or_default();
                self.screen = Screen::Swap { input };
            }
            Key::Char('a') => return self.start_apply(),
            Key::Char('S') => return Action::Save,
            Key::Char('L') => return Action::Load,
            Key::Char('r') => return Action::Rescan,
            Key::Char('t') => return Action::Status,
            Key::Char('d') => return Action::Diagnose,
            Key::Char('?') => self.screen = Screen::Help,
            _ => {}
        }
        Action::None
    }

    fn key_swap(&mut self, k: Key, mut input: String) -> Action {
        match k {
            Key::Esc => self.screen = Screen::Plan,
            Key::Backspace => {
                input.pop();
                self.screen = Screen::Swap { input };
            }
            Key::Char(c) if input.len() < 16 => {
                input.push(c);
                self.screen = Screen::Swap { input };
            }
            Key::Enter => {
                let size = if input.trim().is_empty() {
                    None
                } else {
                    match crate::units::parse_size(input.trim()) {
                        Ok(b) => Some(b),
                        Err(e) => {
                            self.message = vec![format!("swap size {input:?}: {e}")];
                            return Action::None;
                        }
                    }
                };
                self.screen = Screen::Plan;
                let mut o = self.options.clone();
                o.swap_size_bytes = size;
                return Action::Replan(o);
            }
            _ => {}
        }
        Action::None
    }

    fn start_apply(&mut self) -> Action {
        if self.plan.is_err() {
            self.message = vec!["there is no plan to apply".into()];
            return Action::None;
        }
        if self.review_only {
            self.message = vec![
                "this plan is of a saved inventory (--inventory); apply it on its machine".into(),
            ];
            return Action::None;
        }
        if self.applied_once {
            self.message = vec!["this plan was applied already; `r` reads the disks again".into()];
            return Action::None;
        }
        self.message.clear();
        self.screen = if self.dirty_disks().is_empty() {
            Screen::Confirm {
                input: String::new(),
                confirmed: 0,
            }
        } else {
            Screen::Wipe { cursor: 0 }
        };
        Action::None
    }

    fn key_wipe(&mut self, k: Key, cursor: usize) -> Action {
        let dirty: Vec<String> = self
            .dirty_disks()
            .iter()
            .map(|d| d.stable_path.clone())
            .collect();
        let mut cursor = cursor.min(dirty.len().saturating_sub(1));
        match k {
            Key::Esc => {
                self.screen = Screen::Plan;
                return Action::None;
            }
            Key::Up | Key::Char('k') => cursor = cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => cursor = (cursor + 1).min(dirty.len() - 1),
            Key::Char(' ') | Key::Char('x') => {
                let p = &dirty[cursor];
                if self.marks.remove(p).is_none() {
                    self.marks.insert(p.clone(), WipeMethod::Signatures);
                }
            }
            Key::Right | Key::Left | Key::Tab | Key::Char('l') | Key::Char('h') => {
                let p = &dirty[cursor];
                let now = self.marks.get(p).copied().unwrap_or_default();
                let i = WipeMethod::ALL.iter().position(|m| *m == now).unwrap_or(0);
                let step = if matches!(k, Key::Left | Key::Char('h')) {
                    2
                } else {
                    1
                };
                self.marks
                    .insert(p.clone(), WipeMethod::ALL[(i + step) % 3]);
            }
            Key::Enter => {
                let unmarked: Vec<&str> = self
                    .dirty_disks()
                    .iter()
                    .filter(|d| !self.marks.contains_key(&d.stable_path))
                    .map(|d| d.name.as_str())
                    .collect();
                if !unmarked.is_empty() {
                    self.message = vec![format!(
                        "{} still hold data: mark each (space) to go on, or Esc",
                        unmarked.join(", ")
                    )];
                } else {
                    self.message.clear();
                    self.screen = Screen::Confirm {
                        input: String::new(),
                        confirmed: 0,
                    };
                    return Action::None;
                }
            }
            _ => {}
        }
        self.screen = Screen::Wipe { cursor };
        Action::None
    }

    /// What the operator must type next: the serial of the next marked disk, or
    /// `apply` when no disk is to be wiped.
    pub fn expected_word(&self, confirmed: usize) -> String {
        let marked = self.marked_disks();
        match marked.get(confirmed) {
            Some(d) => d.serial.clone().unwrap_or_else(|| "wipe all".into()),
            None => "apply".into(),
        }
    }

    fn key_confirm(&mut self, k: Key, mut input: String, mut confirmed: usize) -> Action {
        match k {
            Key::Esc => {
                self.message = vec!["nothing was done".into()];
                self.screen = Screen::Plan;
                return Action::None;
            }
            Key::Backspace => {
                input.pop();
            }
            Key::Char(c) if input.len() < 64 => input.push(c),
            Key::Enter => {
                let marked = self.marked_disks().len();
                let typed = input.trim().to_owned();
                input.clear();
                if marked > 0 && typed == "wipe all" {
                    confirmed = marked;
                } else if typed == self.expected_word(confirmed) {
                    confirmed += 1;
                } else {
                    self.message = vec![format!(
                        "{typed:?} is not {:?}; type it exactly, or Esc to back out",
                        self.expected_word(confirmed)
                    )];
                }
                // No disk to wipe: one word (`apply`) is the whole consent.
                if confirmed >= marked.max(1) {
                    self.message.clear();
                    self.screen = Screen::Progress;
                    self.progress.clear();
                    self.outcome = None;
                    return Action::Apply(self.consent());
                }
            }
            _ => {}
        }
        self.screen = Screen::Confirm { input, confirmed };
        Action::None
    }

    /// The consent the confirmation gave: the marked disks by serial (a disk without
    /// one only through `wipe all`, which then names every planned disk).
    pub fn consent(&self) -> Consent {
        let marked = self.marked_disks();
        let methods: BTreeMap<String, WipeMethod> = marked
            .iter()
            .map(|d| (d.stable_path.clone(), self.marks[&d.stable_path]))
            .collect();
        let wipe = if marked.is_empty() {
            None
        } else if marked.iter().all(|d| d.serial.is_some()) {
            Some(WipeSpec::Serials(
                marked.iter().filter_map(|d| d.serial.clone()).collect(),
            ))
        } else {
            Some(WipeSpec::All)
        };
        Consent { wipe, methods }
    }

    /// A new plan (from a re-plan or a file): the tree keeps its place where it can,
    /// and the message says what changed.
    pub fn set_plan(&mut self, options: PlanOptions, plan: Result<Plan, String>, source: &str) {
        self.message = changes(&self.plan, &plan);
        self.options = options;
        self.plan = plan;
        self.plan_source = source.to_owned();
        self.cursor = self.cursor.min(self.rows().len().saturating_sub(1));
    }

    pub fn progress_line(&mut self, text: String) {
        self.progress.push(ProgressLine { text });
    }
}

/// A stable name for a tree node, so expansion survives a re-plan.
pub fn node_key(n: &Node, plan: &Plan) -> String {
    let l = &plan.layout;
    match n {
        Node::Disk(i) | Node::Partition(i, _) => format!("disk {}", l.disks[*i].stable_path),
        Node::Array(i) | Node::Member(i, _) => format!("array {}", l.arrays[*i].name),
        Node::Vg(i) | Node::Lv(i, _) => format!("vg {}", l.vgs[*i].name),
        Node::ExcludedHead | Node::Excluded(_) => "excluded".into(),
    }
}

/// What differs between two plans, in the planner's own words: decisions that went
/// and came, and the options.
pub fn changes(old: &Result<Plan, String>, new: &Result<Plan, String>) -> Vec<String> {
    match (old, new) {
        (_, Err(e)) => vec![format!("no plan: {e}")],
        (Err(_), Ok(_)) => vec!["a plan again".into()],
        (Ok(a), Ok(b)) => {
            let mut out = Vec::new();
            if a.options != b.options {
                out.push(format!(
                    "mode {} → {}, swap {} → {}",
                    a.options.mode.as_str(),
                    b.options.mode.as_str(),
                    swap_text(a.options.swap_size_bytes),
                    swap_text(b.options.swap_size_bytes)
                ));
            }
            // A subject in both plans with a new reason is one line, the new reason
            // (a serial console has three lines for this).
            let reason = |p: &Plan, s: &str| {
                p.decisions
                    .iter()
                    .find(|d| d.subject == s)
                    .map(|d| d.reason.clone())
            };
            for d in &a.decisions {
                match reason(b, &d.subject) {
                    None => out.push(format!("- {}: {}", d.subject, d.reason)),
                    Some(r) if r != d.reason => out.push(format!("{} now: {r}", d.subject)),
                    Some(_) => {}
                }
            }
            for d in &b.decisions {
                if reason(a, &d.subject).is_none() {
                    out.push(format!("+ {}: {}", d.subject, d.reason));
                }
            }
            if out.is_empty() {
                out.push("the plan did not change".into());
            }
            out
        }
    }
}

pub fn swap_text(s: Option<u64>) -> String {
    match s {
        None => "auto".into(),
        Some(0) => "none".into(),
        Some(b) => crate::units::human_binary(b),
    }
}

#[cfg(test)]
mod tests;
