//! VG assignment (SPEC §2.3): which bucket becomes `main`, `swap`, `large`, and the
//! operator's `main_N` / `large_N`. Input buckets are already ranked per tier.

use crate::plan::buckets::Bucket;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Main,
    Swap,
    Large,
    /// `main_N`: a further solid-state bucket, PV and VG only.
    ExtraSolid(usize),
    /// `large_N`: a further rotating bucket, PV and VG only.
    ExtraRotating(usize),
}

impl Role {
    pub fn vg_name(self) -> String {
        match self {
            Role::Main => "main".into(),
            Role::Swap => "swap".into(),
            Role::Large => "large".into(),
            Role::ExtraSolid(n) => format!("main_{n}"),
            Role::ExtraRotating(n) => format!("large_{n}"),
        }
    }
}

/// A bucket with its role and the reason it got it.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub role: Role,
    pub bucket: Bucket<'a>,
    pub why: String,
}

/// Assigns roles. Output order: main, swap, large, main_N…, large_N….
pub fn assign<'a>(solid: Vec<Bucket<'a>>, rotating: Vec<Bucket<'a>>) -> Vec<Group<'a>> {
    let mut groups = Vec::new();
    let mut solid = solid.into_iter();
    let mut rotating: Vec<Option<Bucket>> = rotating.into_iter().map(Some).collect();

    if let Some(b) = solid.next() {
        groups.push(Group {
            role: Role::Main,
            bucket: b,
            why: "largest solid-state bucket".into(),
        });
    } else if let Some(b) = rotating.first_mut().and_then(Option::take) {
        groups.push(Group {
            role: Role::Main,
            bucket: b,
            why: "largest rotating bucket; no solid-state disk".into(),
        });
    }

    // swap: the smallest two-disk rotating bucket left (ties: first stable path)
    let pairs: Vec<usize> = (0..rotating.len())
        .filter(|&i| rotating[i].as_ref().is_some_and(|b| b.disks.len() == 2))
        .collect();
    let smallest_pair = pairs.iter().copied().min_by(|&i, &j| {
        let (a, b) = (rotating[i].as_ref().unwrap(), rotating[j].as_ref().unwrap());
        a.total_bytes()
            .cmp(&b.total_bytes())
            .then_with(|| a.first_path().cmp(b.first_path()))
    });
    if let Some(i) = smallest_pair {
        let why = if pairs.len() == 1 {
            "two-disk rotating bucket".to_string()
        } else {
            format!("smallest of {} two-disk rotating buckets", pairs.len())
        };
        groups.push(Group {
            role: Role::Swap,
            bucket: rotating[i].take().unwrap(),
            why,
        });
    }

    let mut rest = rotating.into_iter().flatten();
    if let Some(b) = rest.next() {
        groups.push(Group {
            role: Role::Large,
            bucket: b,
            why: "largest remaining rotating bucket".into(),
        });
    }
    for (i, b) in solid.enumerate() {
        groups.push(Group {
            role: Role::ExtraSolid(i + 1),
            bucket: b,
            why: "another solid-state bucket: PV and VG only, left for the operator".into(),
        });
    }
    for (i, b) in rest.enumerate() {
        groups.push(Group {
            role: Role::ExtraRotating(i + 1),
            bucket: b,
            why: "another rotating bucket: PV and VG only, left for the operator".into(),
        });
    }
    groups
}
