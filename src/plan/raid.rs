//! The RAID level table (SPEC §2.2): which md level a bucket gets, over how many of
//! its disks, and why. Only levels 0, 1, 5, 6 and 10 exist; one disk is no array.

use crate::plan::buckets::Tier;
use crate::plan::types::{Mode, RaidLevel};

/// What to build from one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaidChoice {
    /// `None`: a single disk, no array.
    pub level: Option<RaidLevel>,
    /// How many of the bucket's disks (in stable-path order) take part; the rest stay unused.
    pub members: usize,
    /// Why, for the decision text.
    pub why: &'static str,
}

pub fn choose(tier: Tier, disks: usize, mode: Mode) -> RaidChoice {
    let all = |level, why| RaidChoice {
        level: Some(level),
        members: disks,
        why,
    };
    match (tier, disks, mode) {
        (_, 0 | 1, _) => RaidChoice {
            level: None,
            members: disks,
            why: "single disk",
        },
        (Tier::Solid, _, Mode::Fast) => {
            all(RaidLevel::Raid0, "fast mode stripes solid-state disks")
        }
        (Tier::Solid, 2, Mode::Careful) => {
            all(RaidLevel::Raid1, "careful mode mirrors solid-state disks")
        }
        (Tier::Solid, n, Mode::Careful) if n % 2 == 0 => all(
            RaidLevel::Raid10,
            "careful mode, even count: striped mirrors",
        ),
        (Tier::Solid, _, Mode::Careful) => RaidChoice {
            level: Some(RaidLevel::Raid1),
            members: 2,
            why: "careful mode, odd count: a mirror of two",
        },
        (Tier::Rotating, 2, _) => all(RaidLevel::Raid1, "two rotating disks are mirrored"),
        (Tier::Rotating, 3, _) => all(RaidLevel::Raid5, "single parity over three rotating disks"),
        (Tier::Rotating, 4, Mode::Fast) => all(
            RaidLevel::Raid5,
            "fast mode, four rotating disks: single parity",
        ),
        (Tier::Rotating, 4, Mode::Careful) => all(
            RaidLevel::Raid6,
            "careful mode, four rotating disks: double parity",
        ),
        (Tier::Rotating, _, _) => all(
            RaidLevel::Raid6,
            "double parity over five or more rotating disks",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RaidLevel::*;

    fn lv(tier: Tier, n: usize, mode: Mode) -> (Option<RaidLevel>, usize) {
        let c = choose(tier, n, mode);
        (c.level, c.members)
    }

    #[test]
    fn the_spec_table() {
        use Mode::*;
        use Tier::*;
        let table = [
            (Solid, 1, Fast, None, 1),
            (Solid, 1, Careful, None, 1),
            (Solid, 2, Fast, Some(Raid0), 2),
            (Solid, 2, Careful, Some(Raid1), 2),
            (Solid, 3, Fast, Some(Raid0), 3),
            (Solid, 3, Careful, Some(Raid1), 2),
            (Solid, 4, Careful, Some(Raid10), 4),
            (Solid, 5, Careful, Some(Raid1), 2),
            (Solid, 6, Careful, Some(Raid10), 6),
            (Rotating, 1, Fast, None, 1),
            (Rotating, 2, Fast, Some(Raid1), 2),
            (Rotating, 2, Careful, Some(Raid1), 2),
            (Rotating, 3, Fast, Some(Raid5), 3),
            (Rotating, 3, Careful, Some(Raid5), 3),
            (Rotating, 4, Fast, Some(Raid5), 4),
            (Rotating, 4, Careful, Some(Raid6), 4),
            (Rotating, 5, Fast, Some(Raid6), 5),
            (Rotating, 12, Careful, Some(Raid6), 12),
        ];
        for (tier, n, mode, level, members) in table {
            assert_eq!(lv(tier, n, mode), (level, members), "{tier:?} {n} {mode:?}");
        }
    }
}
