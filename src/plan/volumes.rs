//! Logical volumes (SPEC §2.4): `slash` and `home` on `main`; `swap` on `swap`, else
//! `large`, else `main` (only if it fits in a quarter of main's free space after
//! `slash` and `home`); `var_tmp` and `var_log` on `swap`; `data` on `large`.
//! Sizes are whole 4 MiB extents; the last two extents of a VG are never allocated.
//! Every LV placed or left out gets a [`Decision`] saying why.

use crate::plan::capacity::{extents_for, VG_SPARE_EXTENTS};
use crate::plan::groups::Role;
use crate::plan::types::{Decision, LogicalVolume, LvContent, PlanOptions, EXTENT_BYTES};
use crate::units::{human_binary, GIB};

pub const SLASH_BYTES: u64 = 50 * GIB;
pub const HOME_BYTES: u64 = 16 * GIB;
pub const SWAP_CAP_BYTES: u64 = 64 * GIB;
pub const SWAP_MIN_BYTES: u64 = GIB;
pub const VAR_LOG_BYTES: u64 = 4 * GIB;
pub const DATA_BYTES: u64 = 100 * GIB;
/// `mkfs.ext4 -i` for `data`: one inode per 2 KiB (hard-link heavy backups).
pub const DATA_BYTES_PER_INODE: u64 = 2048;
pub const RELATIME: &str = "relatime";

/// One VG as the sizer sees it.
#[derive(Debug, Clone)]
pub struct VgSpace {
    pub role: Role,
    pub name: String,
    pub extents: u64,
}

fn size(extents: u64) -> String {
    human_binary(extents.saturating_mul(EXTENT_BYTES))
}

/// An ext4 LV labelled with its name, mounted `relatime`.
pub(crate) fn ext4(name: &str, mountpoint: &str, extents: u64) -> LogicalVolume {
    LogicalVolume {
        name: name.into(),
        extents,
        size_bytes: extents.saturating_mul(EXTENT_BYTES),
        content: LvContent::Ext4 {
            label: name.into(),
            mountpoint: mountpoint.into(),
            mount_options: vec![RELATIME.into()],
            bytes_per_inode: None,
            mode: None,
        },
    }
}

/// The swap LV, labelled `swap`.
pub(crate) fn swap_lv(extents: u64) -> LogicalVolume {
    LogicalVolume {
        name: "swap".into(),
        extents,
        size_bytes: extents.saturating_mul(EXTENT_BYTES),
        content: LvContent::Swap {
            label: "swap".into(),
        },
    }
}

/// Tracks what is left of one VG.
struct Space {
    free: u64,
}

impl Space {
    fn new(extents: u64) -> Self {
        Space {
            free: extents.saturating_sub(VG_SPARE_EXTENTS),
        }
    }
    fn take(&mut self, n: u64) -> u64 {
        let n = n.min(self.free);
        self.free -= n;
        n
    }
}

/// The swap the operator asked for (or 2 × RAM, capped) and how that was derived.
pub fn requested_swap(ram_bytes: u64, opts: &PlanOptions) -> (u64, String) {
    match opts.swap_size_bytes {
        Some(0) => (0, "the requested size is 0".into()),
        // no token swap volumes: a request below the minimum gets none, and says so
        Some(b) if b < SWAP_MIN_BYTES => (
            0,
            format!(
                "the requested {} is below the {} minimum",
                human_binary(b),
                human_binary(SWAP_MIN_BYTES)
            ),
        ),
        Some(b) => (extents_for(b), format!("{} as requested", human_binary(b))),
        None if ram_bytes.saturating_mul(2) > SWAP_CAP_BYTES => (
            extents_for(SWAP_CAP_BYTES),
            format!(
                "2 × {} RAM, capped at {}",
                human_binary(ram_bytes),
                human_binary(SWAP_CAP_BYTES)
            ),
        ),
        None => (
            extents_for(ram_bytes.saturating_mul(2)),
            format!("2 × {} RAM", human_binary(ram_bytes)),
        ),
    }
}

/// How far the plan falls short of an explicit swap request: `(requested bytes, planned
/// bytes, the planner's reason)`, or `None` when the request was met (or there was
/// none). The summary shows it first; a `--swap-size` that falls short is an error.
pub fn swap_shortfall(plan: &crate::plan::Plan) -> Option<(u64, u64, String)> {
    let requested = plan.options.swap_size_bytes.filter(|b| *b > 0)?;
    let planned: u64 = plan
        .layout
        .vgs
        .iter()
        .flat_map(|vg| &vg.lvs)
        .filter(|lv| matches!(lv.content, LvContent::Swap { .. }))
        .map(|lv| lv.size_bytes)
        .sum();
    if planned >= requested {
        return None;
    }
    let reason = plan
        .decisions
        .iter()
        .find(|d| d.subject == "lv swap" || d.subject.ends_with("/swap"))
        .map(|d| d.reason.clone())
        .unwrap_or_default();
    Some((requested, planned, reason))
}

/// Sizes every LV. Returns the LVs of each VG (same order as `vgs`) and the decisions.
/// Reads as the rule does: main (slash, home), the swap LV, the swap VG's var_tmp and
/// var_log (their sizes follow the swap), then large's data.
pub fn size_volumes(
    vgs: &[VgSpace],
    ram_bytes: u64,
    opts: &PlanOptions,
) -> (Vec<Vec<LogicalVolume>>, Vec<Decision>) {
    let mut s = Sizer {
        vgs,
        lvs: vec![Vec::new(); vgs.len()],
        space: vgs.iter().map(|v| Space::new(v.extents)).collect(),
        decisions: Vec::new(),
    };
    let (want_swap, swap_source) = requested_swap(ram_bytes, opts);
    if let Some(m) = s.find(Role::Main) {
        s.main(m);
    }
    let swap_on_swap_vg = s.swap(want_swap, &swap_source);
    if let Some(v) = s.find(Role::Swap) {
        s.swap_vg(v, swap_on_swap_vg);
    }
    if let Some(l) = s.find(Role::Large) {
        s.large(l);
    }
    (s.lvs, s.decisions)
}

/// The LVs and free extents of every VG while [`size_volumes`] works through them.
struct Sizer<'a> {
    vgs: &'a [VgSpace],
    lvs: Vec<Vec<LogicalVolume>>,
    space: Vec<Space>,
    decisions: Vec<Decision>,
}

impl Sizer<'_> {
    fn find(&self, role: Role) -> Option<usize> {
        self.vgs.iter().position(|v| v.role == role)
    }

    fn say(&mut self, subject: String, reason: String) {
        self.decisions.push(Decision { subject, reason });
    }

    /// main: slash, home.
    fn main(&mut self, m: usize) {
        let slash_want = extents_for(SLASH_BYTES);
        let slash = self.space[m].take(slash_want);
        if slash == slash_want {
            self.say(
                "lv main/slash".into(),
                format!("{} for / on VG main", size(slash)),
            );
        } else {
            self.say(
                "lv main/slash".into(),
                format!(
                    "{} for / on VG main: all it has (less than {})",
                    size(slash),
                    human_binary(SLASH_BYTES)
                ),
            );
        }
        self.lvs[m].push(ext4("slash", "/", slash));

        let after_slash = self.space[m].free;
        let home = extents_for(HOME_BYTES).min(after_slash / 4);
        if home > 0 {
            self.space[m].take(home);
            self.say(
                "lv main/home".into(),
                format!(
                    "{} for /home: min({}, ¼ of the {} left on main after slash)",
                    size(home),
                    human_binary(HOME_BYTES),
                    size(after_slash)
                ),
            );
            self.lvs[m].push(ext4("home", "/home", home));
        } else {
            self.say(
                "lv main/home".into(),
                "no /home volume: main has no room left after slash; /home stays on /".into(),
            );
        }
    }

    /// The swap LV: on swap, else large, else main. Returns its size when it went to
    /// the swap VG (which sizes var_tmp and var_log), else 0.
    fn swap(&mut self, want_swap: u64, swap_source: &str) -> u64 {
        let swap_vg = self
            .find(Role::Swap)
            .or(self.find(Role::Large))
            .or(self.find(Role::Main));
        let mut swap_on_swap_vg = 0;
        match swap_vg {
            _ if want_swap == 0 => self.say("lv swap".into(), format!("no swap: {swap_source}")),
            None => {}
            Some(i) if self.vgs[i].role == Role::Main => {
                let free = self.space[i].free;
                if want_swap <= free / 4 {
                    self.space[i].take(want_swap);
                    self.say(
                        "lv main/swap".into(),
                        format!(
                            "{} ({swap_source}) on VG main: no swap or large VG, and it fits in a quarter of main's {} free after slash and home",
                            size(want_swap),
                            size(free)
                        ),
                    );
                    self.lvs[i].push(swap_lv(want_swap));
                } else {
                    self.say(
                        "lv swap".into(),
                        format!(
                            "no swap: {} ({swap_source}) does not fit in a quarter of main's {} free after slash and home, and there is no swap or large VG",
                            size(want_swap),
                            size(free)
                        ),
                    );
                }
            }
            Some(i) => {
                let vg = self.vgs[i].name.clone();
                let why_here = if self.vgs[i].role == Role::Swap {
                    "the two-disk rotating VG"
                } else {
                    "no swap VG; large is the next choice"
                };
                let free = self.space[i].free;
                if want_swap <= free {
                    self.space[i].take(want_swap);
                    self.say(
                        format!("lv {vg}/swap"),
                        format!(
                            "{} ({swap_source}) on VG {vg} ({why_here})",
                            size(want_swap)
                        ),
                    );
                    self.lvs[i].push(swap_lv(want_swap));
                    swap_on_swap_vg = if self.vgs[i].role == Role::Swap {
                        want_swap
                    } else {
                        0
                    };
                } else if free >= extents_for(SWAP_MIN_BYTES) {
                    self.space[i].take(free);
                    self.say(
                        format!("lv {vg}/swap"),
                        format!(
                            "{} on VG {vg} ({why_here}): shrunk from {} ({swap_source}) to what fits",
                            size(free),
                            size(want_swap)
                        ),
                    );
                    self.lvs[i].push(swap_lv(free));
                    swap_on_swap_vg = if self.vgs[i].role == Role::Swap {
                        free
                    } else {
                        0
                    };
                } else {
                    self.say(
                        "lv swap".into(),
                        format!(
                            "no swap: only {} free on VG {vg}, below the {} minimum",
                            size(free),
                            human_binary(SWAP_MIN_BYTES)
                        ),
                    );
                }
            }
        }
        swap_on_swap_vg
    }

    /// The swap VG: var_tmp (= swap size) and var_log (min(4 GiB, swap size)) if there
    /// is room.
    fn swap_vg(&mut self, s: usize, swap_on_swap_vg: u64) {
        if swap_on_swap_vg == 0 {
            self.say(
                "lv swap/var_tmp".into(),
                "no /var/tmp or /var/log volume: their sizes follow the swap, and VG swap has none"
                    .into(),
            );
        } else {
            let var_tmp = swap_on_swap_vg;
            if self.space[s].free >= var_tmp {
                self.space[s].take(var_tmp);
                let mut lv = ext4("var_tmp", "/var/tmp", var_tmp);
                if let LvContent::Ext4 { mode, .. } = &mut lv.content {
                    *mode = Some(0o1777);
                }
                self.lvs[s].push(lv);
                self.say(
                    "lv swap/var_tmp".into(),
                    format!("{} for /var/tmp (mode 1777): the swap size", size(var_tmp)),
                );
            } else {
                self.say(
                    "lv swap/var_tmp".into(),
                    format!(
                        "no /var/tmp volume: only {} left on VG swap after swap, {} needed",
                        size(self.space[s].free),
                        size(var_tmp)
                    ),
                );
            }
            let var_log = extents_for(VAR_LOG_BYTES).min(swap_on_swap_vg);
            if self.space[s].free >= var_log {
                self.space[s].take(var_log);
                self.lvs[s].push(ext4("var_log", "/var/log", var_log));
                self.say(
                    "lv swap/var_log".into(),
                    format!(
                        "{} for /var/log: min({}, swap size)",
                        size(var_log),
                        human_binary(VAR_LOG_BYTES)
                    ),
                );
            } else {
                self.say(
                    "lv swap/var_log".into(),
                    format!(
                        "no /var/log volume: only {} left on VG swap, {} needed",
                        size(self.space[s].free),
                        size(var_log)
                    ),
                );
            }
        }
    }

    /// large: data.
    fn large(&mut self, l: usize) {
        let want = extents_for(DATA_BYTES);
        let data = self.space[l].take(want);
        if data == 0 {
            self.say(
                "lv large/data".into(),
                "no /data volume: VG large has no room left".into(),
            );
        } else {
            let mut lv = ext4("data", "/data", data);
            if let LvContent::Ext4 {
                bytes_per_inode, ..
            } = &mut lv.content
            {
                *bytes_per_inode = Some(DATA_BYTES_PER_INODE);
            }
            self.lvs[l].push(lv);
            let how = if data == want {
                String::new()
            } else {
                format!(
                    " (all that is left, less than {})",
                    human_binary(DATA_BYTES)
                )
            };
            self.say(
                "lv large/data".into(),
                format!(
                    "{}{how} for /data, one inode per {} bytes",
                    size(data),
                    DATA_BYTES_PER_INODE
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_ram_and_space_do_not_overflow() {
        let (want, _) = requested_swap(u64::MAX, &PlanOptions::default());
        assert_eq!(want, extents_for(SWAP_CAP_BYTES));
        assert_eq!(size(u64::MAX), human_binary(u64::MAX));
        assert_eq!(ext4("data", "/data", u64::MAX).size_bytes, u64::MAX);
    }

    fn vgs(swap_extents: u64) -> Vec<VgSpace> {
        vec![
            VgSpace {
                role: Role::Main,
                name: "main".into(),
                extents: 100_000,
            },
            VgSpace {
                role: Role::Swap,
                name: "swap".into(),
                extents: swap_extents,
            },
        ]
    }

    #[test]
    fn no_token_swap_below_1_gib() {
        let (lvs, d) = size_volumes(&vgs(257), 8 * GIB, &PlanOptions::default());
        assert!(lvs[1].is_empty());
        assert!(d.iter().any(|d| d.subject == "lv swap"
            && d.reason == "no swap: only 1020.0 MiB free on VG swap, below the 1.0 GiB minimum"));
        // exactly 1 GiB usable: shrunk swap of 256 extents, nothing else
        let (lvs, _) = size_volumes(&vgs(258), 8 * GIB, &PlanOptions::default());
        let names: Vec<(&str, u64)> = lvs[1]
            .iter()
            .map(|l| (l.name.as_str(), l.extents))
            .collect();
        assert_eq!(names, vec![("swap", 256)]);
    }

    #[test]
    fn zero_swap_requested() {
        let opts = PlanOptions {
            swap_size_bytes: Some(0),
            ..PlanOptions::default()
        };
        let (lvs, d) = size_volumes(&vgs(100_000), 8 * GIB, &opts);
        assert!(lvs[1].is_empty());
        assert!(d
            .iter()
            .any(|d| d.reason.starts_with("no swap: the requested size is 0")));
    }
}
