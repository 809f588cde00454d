//! The human-readable inventory (`pre-nixos inventory`): disks, NICs, excluded
//! devices with their reasons, RAM. Rendered from the same [`Inventory`] as the JSON,
//! into any writer, so tests compare it exactly.

use std::io::{self, Write};

use super::Inventory;
use crate::units::{human_binary, human_bytes};

/// Writes the inventory as aligned tables.
pub fn write_human(inv: &Inventory, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Disks ({}):", inv.disks.len())?;
    let mut rows = vec![row(&[
        "NAME",
        "STABLE PATH",
        "SIZE",
        "KIND",
        "BUS",
        "SERIAL",
        "MODEL",
        "SIGNATURES",
    ])];
    for d in &inv.disks {
        let mut found: Vec<String> = d.partition_table.iter().cloned().collect();
        found.extend(d.signatures.iter().cloned());
        found.extend(d.partitions.iter().cloned());
        found.extend(d.holders.iter().map(|h| format!("held by {h}")));
        if d.probe_error.is_some() {
            found.push("unknown (probe failed)".into());
        }
        rows.push(vec![
            d.name.clone(),
            d.stable_path.clone(),
            human_bytes(d.size_bytes),
            d.kind.as_str().to_owned(),
            or_dash(d.bus.as_deref()),
            or_dash(d.serial.as_deref()),
            or_dash(d.model.as_deref()),
            if found.is_empty() {
                "none".into()
            } else {
                found.join(",")
            },
        ]);
    }
    table(out, &rows)?;
    for d in &inv.disks {
        if let Some(e) = &d.probe_error {
            writeln!(
                out,
                "  {}: {e}; its signatures are unknown, not absent: run as root, and see \
                 `pre-nixos detect-storage`",
                d.name
            )?;
        }
    }

    writeln!(out, "\nNICs ({}):", inv.nics.len())?;
    let mut rows = vec![row(&[
        "NAME", "MAC", "DRIVER", "SPEED", "CARRIER", "EXCLUDED",
    ])];
    for n in &inv.nics {
        rows.push(vec![
            n.name.clone(),
            n.mac.clone(),
            or_dash(n.driver.as_deref()),
            n.speed_mbps
                .map(|s| format!("{s} Mb/s"))
                .unwrap_or_else(|| "unknown".into()),
            match n.carrier {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => "unknown".into(),
            },
            n.excluded.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    table(out, &rows)?;

    writeln!(out, "\nExcluded ({}):", inv.excluded.len())?;
    let mut rows = vec![row(&["NAME", "REASON"])];
    rows.extend(
        grouped_excluded(&inv.excluded)
            .into_iter()
            .map(|(names, reason)| vec![names, reason]),
    );
    table(out, &rows)?;

    writeln!(out, "\nRAM: {}", human_binary(inv.ram_bytes))
}

/// The excluded devices as rows, those sharing a reason with two or more others in one
/// row (`loop0 … loop7 (8)`): a live ISO has a loop device per squashfs and a dozen
/// `ram*` devices, which would push the disks off the screen.
fn grouped_excluded(excluded: &[super::Excluded]) -> Vec<(String, String)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for x in excluded {
        match groups.iter_mut().find(|(r, _)| *r == x.reason) {
            Some((_, names)) => names.push(&x.name),
            None => groups.push((&x.reason, vec![&x.name])),
        }
    }
    let mut rows = Vec::new();
    for (reason, names) in groups {
        let reason: &str = reason;
        if names.len() >= 3 {
            let first = names[0];
            let last = names[names.len() - 1];
            rows.push((
                format!("{first} … {last} ({})", names.len()),
                reason.to_owned(),
            ));
        } else {
            rows.extend(names.iter().map(|n| {
                let x = excluded.iter().find(|x| x.name == *n && x.reason == reason);
                ((*n).to_owned(), with_identity(reason, x))
            }));
        }
    }
    rows
}

/// `reason — 32.0 GB SanDisk Ultra, serial 4C530001` when the device's identity is known.
fn with_identity(reason: &str, x: Option<&super::Excluded>) -> String {
    let Some(x) = x else {
        return reason.to_owned();
    };
    let mut what: Vec<String> = Vec::new();
    what.extend(x.size_bytes.map(human_bytes));
    what.extend(x.model.clone());
    let mut id = what.join(" ");
    if let Some(s) = &x.serial {
        if !id.is_empty() {
            id.push_str(", ");
        }
        id.push_str(&format!("serial {s}"));
    }
    if id.is_empty() {
        reason.to_owned()
    } else {
        format!("{reason} — {id}")
    }
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(ToString::to_string).collect()
}

fn or_dash(v: Option<&str>) -> String {
    v.unwrap_or("-").to_owned()
}

/// Columns padded to their widest cell; the last column is not padded. A table with
/// only its header row prints `none`.
fn table(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    if rows.len() <= 1 {
        return writeln!(out, "  none");
    }
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::from(" ");
        for (i, cell) in r.iter().enumerate() {
            line.push(' ');
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}", w = widths[i]));
                line.push(' ');
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Excluded;

    #[test]
    fn a_device_left_out_says_what_it_is() {
        let ex = [Excluded {
            name: "sdd".into(),
            reason: "USB-attached (ID_BUS=usb)".into(),
            size_bytes: Some(32_000_000_000),
            model: Some("SanDisk Ultra".into()),
            serial: Some("4C530001".into()),
        }];
        assert_eq!(
            grouped_excluded(&ex),
            [(
                "sdd".to_owned(),
                "USB-attached (ID_BUS=usb) — 32.0 GB SanDisk Ultra, serial 4C530001".to_owned()
            )]
        );
    }

    #[test]
    fn many_devices_left_out_for_one_reason_take_one_row() {
        let mut ex: Vec<Excluded> = (0..8)
            .map(|i| Excluded {
                name: format!("loop{i}"),
                reason: "loop device".into(),
                ..Excluded::default()
            })
            .collect();
        ex.push(Excluded {
            name: "sr0".into(),
            reason: "optical drive".into(),
            ..Excluded::default()
        });
        ex.push(Excluded {
            name: "ram0".into(),
            reason: "ram disk".into(),
            ..Excluded::default()
        });
        ex.push(Excluded {
            name: "ram1".into(),
            reason: "ram disk".into(),
            ..Excluded::default()
        });
        assert_eq!(
            grouped_excluded(&ex),
            [
                ("loop0 … loop7 (8)".to_owned(), "loop device".to_owned()),
                ("sr0".to_owned(), "optical drive".to_owned()),
                ("ram0".to_owned(), "ram disk".to_owned()),
                ("ram1".to_owned(), "ram disk".to_owned()),
            ]
        );
    }
}
