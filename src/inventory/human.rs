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
        inv.excluded
            .iter()
            .map(|x| vec![x.name.clone(), x.reason.clone()]),
    );
    table(out, &rows)?;

    writeln!(out, "\nRAM: {}", human_binary(inv.ram_bytes))
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
