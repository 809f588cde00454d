//! The status report for people: one line per subject, rendered from the report value.

use std::io::Write;

use super::*;

/// `active (running) as sshd.service, hardened`.
pub fn sshd_summary(s: &SshdReport) -> String {
    let mut parts = Vec::new();
    match (&s.unit, &s.active_state) {
        (Some(unit), Some(active)) => {
            let sub = s.sub_state.as_deref().unwrap_or("?");
            parts.push(format!("{active} ({sub}) as {unit}"));
        }
        _ => parts.push("unknown".to_owned()),
    }
    if let (Some(sock), Some(state)) = (&s.socket, &s.socket_state) {
        if state == "active" {
            parts.push(format!("{sock} listening"));
        }
    }
    match s.hardened {
        Some(true) => parts.push("hardened".into()),
        Some(false) => parts.push(format!("NOT hardened: {}", s.hardening_problems.join("; "))),
        None => parts.push("hardening unknown".into()),
    }
    parts.join(", ")
}

/// `none pending` or `2 pending: 500 sshd.service start waiting, …`.
pub fn jobs_summary(j: &JobsReport) -> String {
    if let Some(e) = &j.error {
        return format!("unknown ({e})");
    }
    if j.jobs.is_empty() {
        return "none pending".into();
    }
    let list: Vec<String> = j
        .jobs
        .iter()
        .map(|job| format!("{} {} {} {}", job.id, job.unit, job.job_type, job.state))
        .collect();
    format!("{} pending: {}", j.jobs.len(), list.join(", "))
}

/// `inactive (dead), result success`.
pub fn unit_summary(u: &UnitReport) -> String {
    if let Some(e) = &u.error {
        return format!("unknown ({e})");
    }
    if u.load_state.as_deref() == Some("not-found") {
        return "not installed on this system".into();
    }
    let mut s = format!(
        "{} ({})",
        u.active_state.as_deref().unwrap_or("?"),
        u.sub_state.as_deref().unwrap_or("?")
    );
    if let Some(r) = &u.result {
        s.push_str(&format!(", result {r}"));
    }
    if let Some(code) = u.exec_main_status.as_deref().filter(|c| *c != "0") {
        s.push_str(&format!(", exit status {code}"));
    }
    s
}

/// The plan's exclusions on one line, grouped by reason in first-seen order
/// (`loop0 loop1 (loop device); sdc (USB-attached)`): a machine has many loop devices.
pub(super) fn left_out_line(excluded: &[String]) -> Option<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for e in excluded {
        let (name, reason) = e.split_once(": ").unwrap_or((e.as_str(), ""));
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, names)) => names.push(name),
            None => groups.push((reason, vec![name])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    Some(
        groups
            .iter()
            .map(|(reason, names)| format!("{} ({reason})", names.join(" ")))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Renders the report for people, wrapped at 80 columns.
pub fn write_human(r: &StatusReport, out: &mut dyn Write) -> std::io::Result<()> {
    write_human_width(r, crate::render::wrap::DEFAULT_WIDTH, out)
}

/// Renders the report for people at `width` columns: a long line breaks at words,
/// continuing under its value (`storage:  …` lines continue 10 columns in).
pub fn write_human_width(
    r: &StatusReport,
    width: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut text = Vec::new();
    write_lines(r, &mut text)?;
    for line in String::from_utf8_lossy(&text).lines() {
        let hang = if line.starts_with(' ') { 2 } else { 10 };
        crate::render::wrap::write_wrapped(out, width, hang, line)?;
    }
    Ok(())
}

/// The report one line per subject, however long.
///
/// Long on purpose: one block per line of the screen, in screen order, so the code
/// reads as what the operator sees.
fn write_lines(r: &StatusReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "pre-nixos {} status (state directory {})",
        r.version, r.state_dir
    )?;
    if r.nothing_run_yet {
        writeln!(
            out,
            "nothing has run yet: no storage-status or network-status in {} \
             (`pre-nixos boot` writes them; see the unit line below)",
            r.state_dir
        )?;
    }
    // Storage.
    match &r.storage {
        Some(s) => {
            writeln!(
                out,
                "storage:  {}/{}  (updated {}, pre-nixos {})",
                s.state,
                s.detail,
                if s.updated.is_empty() {
                    "?"
                } else {
                    &s.updated
                },
                if s.version.is_empty() {
                    "?"
                } else {
                    &s.version
                },
            )?;
            if let Some(e) = &s.error {
                let label = if s.state == State::Failed {
                    "error"
                } else {
                    "why"
                };
                writeln!(out, "          {label}: {e}")?;
            }
            if !s.disks.is_empty() {
                writeln!(out, "          disks: {}", s.disks.join(" "))?;
            }
            if s.state == State::Running && !r.unit.still_running() {
                if let Some(active) = &r.unit.active_state {
                    writeln!(
                        out,
                        "          note: STATE=running but {} is {active}: the run was interrupted",
                        r.unit.unit
                    )?;
                }
            }
        }
        None if !r.nothing_run_yet => match r
            .problems
            .iter()
            .find(|p| p.file.ends_with(status::STORAGE_STATUS))
        {
            // The file is there but says nothing usable: that is not "not written yet".
            Some(p) => writeln!(
                out,
                "storage:  unknown: {} {} (see PROBLEM)",
                status::STORAGE_STATUS,
                p.problem.split(':').next().unwrap_or(&p.problem)
            )?,
            None => writeln!(out, "storage:  no storage-status written yet")?,
        },
        None => {}
    }
    // Plan.
    match &r.plan.path {
        Some(p) => {
            writeln!(out, "plan:     {p}")?;
            for vg in &r.plan.vgs {
                writeln!(out, "          {}", vg.line())?;
            }
            if let Some(line) = left_out_line(&r.plan.excluded) {
                writeln!(out, "          left out: {line}")?;
            }
        }
        None => writeln!(
            out,
            "plan:     {}",
            r.plan.missing.as_deref().unwrap_or("none")
        )?,
    }
    // Verify.
    match &r.verify {
        VerifyReport::Skipped { reason } => writeln!(out, "verify:   skipped: {reason}")?,
        VerifyReport::Matches => writeln!(out, "verify:   the disks match the plan")?,
        VerifyReport::Differs { differences } => {
            let applied = r.storage.as_ref().map(|s| s.state) == Some(State::Applied);
            writeln!(
                out,
                "verify:   {} difference(s) from the plan{}:",
                differences.len(),
                if applied {
                    ""
                } else {
                    " (the plan was not applied, so the disks are expected to differ)"
                }
            )?;
            for d in differences.iter().take(MAX_SHOWN_DIFFERENCES) {
                writeln!(
                    out,
                    "          {}: expected {}, found {}",
                    d.subject, d.expected, d.found
                )?;
            }
            if differences.len() > MAX_SHOWN_DIFFERENCES {
                writeln!(
                    out,
                    "          … {} more (pre-nixos status --json lists all)",
                    differences.len() - MAX_SHOWN_DIFFERENCES
                )?;
            }
        }
        VerifyReport::Error { message } => {
            writeln!(out, "verify:   could not read disks: {message}")?;
        }
    }
    // Network.
    match &r.network {
        Some(n) => writeln!(
            out,
            "lan:      {} {} {}  (ssh: {})",
            n.lan_iface.as_deref().unwrap_or("no interface"),
            n.lan_mac.as_deref().unwrap_or("no MAC"),
            n.lan_ipv4.as_deref().unwrap_or("no IPv4 address"),
            n.ssh
        )
        .and_then(|()| {
            for k in &n.ssh_host_keys {
                writeln!(out, "host key: {k}")?;
            }
            Ok(())
        })?,
        None if !r.nothing_run_yet => writeln!(out, "lan:      no network-status written yet")?,
        None => {}
    }
    writeln!(out, "sshd:     {}", sshd_summary(&r.sshd))?;
    for e in &r.sshd.errors {
        writeln!(out, "          {e}")?;
    }
    if let Some(rep) = &r.report {
        writeln!(out, "report:   {}", rep.line())?;
    }
    writeln!(out, "jobs:     {}", jobs_summary(&r.jobs))?;
    writeln!(out, "unit:     {} {}", r.unit.unit, unit_summary(&r.unit))?;
    for p in &r.problems {
        writeln!(out, "PROBLEM:  {} {} ({})", p.file, p.problem, p.hint)?;
    }
    if let Some(next) = &r.next {
        writeln!(out, "next:     {next}")?;
    }
    Ok(())
}
