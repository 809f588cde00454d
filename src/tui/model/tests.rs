use super::*;
use crate::storage::detect::DiskReport;

/// The bundled example server (NVMe + 4 HDD in RAID5) with its first two disks
/// holding data.
fn app() -> App {
    let inv: Inventory =
        serde_json::from_str(include_str!("../../../examples/server-ssd-4hdd.json")).unwrap();
    let plan = crate::plan::plan(&inv, &PlanOptions::default()).unwrap();
    let mut app = App::new(inv, plan.options.clone(), Ok(plan.clone()));
    for (i, d) in plan.layout.disks.iter().enumerate() {
        app.detection.insert(
            d.stable_path.clone(),
            DiskReport {
                key: d.key.clone(),
                stable_path: d.stable_path.clone(),
                name: Some(d.name.clone()),
                serial: d.serial.clone(),
                reasons: if i < 2 {
                    vec!["partition-table".into(), "signature:ext4".into()]
                } else {
                    vec![]
                },
                error: None,
                ptuuid: None,
                names: Vec::new(),
            },
        );
    }
    app
}

fn press(app: &mut App, s: &str) -> Vec<Action> {
    s.chars()
        .map(|c| {
            app.key(match c {
                '\n' => Key::Enter,
                '\x1b' => Key::Esc,
                '\t' => Key::Tab,
                c => Key::Char(c),
            })
        })
        .filter(|a| *a != Action::None)
        .collect()
}

#[test]
fn marking_choosing_and_typing_each_serial_gives_the_consent() {
    let mut a = app();
    let dirty: Vec<_> = a.dirty_disks().iter().map(|d| (*d).clone()).collect();
    assert_eq!(dirty.len(), 2);
    // Mark the first with discard (space, then Tab once), the second with signatures.
    press(&mut a, "a \tj ");
    // A wrong serial is refused and says so.
    assert!(press(&mut a, "\nnope\n").is_empty());
    assert!(a.message[0].contains("is not"), "{:?}", a.message);
    let s0 = dirty[0].serial.clone().unwrap();
    let s1 = dirty[1].serial.clone().unwrap();
    assert!(press(&mut a, &format!("{s0}\n")).is_empty());
    let actions = press(&mut a, &format!("{s1}\n"));
    assert_eq!(
        actions,
        [Action::Apply(Consent {
            wipe: Some(WipeSpec::Serials(vec![s0, s1])),
            methods: [
                (dirty[0].stable_path.clone(), WipeMethod::Discard),
                (dirty[1].stable_path.clone(), WipeMethod::Signatures),
            ]
            .into(),
        })]
    );
    assert_eq!(a.screen, Screen::Progress);
}

#[test]
fn esc_backs_out_of_every_apply_screen_with_nothing_done() {
    for script in ["a\x1b", "a \x1b", "a j \n\x1b", "a j \nwipe al\x1b"] {
        let mut a = app();
        assert_eq!(press(&mut a, script), [], "{script:?}");
        assert_eq!(a.screen, Screen::Plan, "{script:?}");
    }
}

#[test]
fn an_unmarked_disk_holding_data_keeps_the_confirmation_closed() {
    let mut a = app();
    press(&mut a, "a \n");
    assert!(matches!(a.screen, Screen::Wipe { .. }));
    assert!(a.message[0].contains("still hold data"), "{:?}", a.message);
    // `wipe all` confirms every marked disk at once.
    let mut a = app();
    let actions = press(&mut a, "a j \nwipe all\n");
    assert!(matches!(&actions[..], [Action::Apply(c)] if c.methods.len() == 2));
}

#[test]
fn mode_and_swap_keys_ask_for_a_replan_and_the_changes_are_named() {
    let mut a = app();
    let before = a.options.mode;
    let acts = press(&mut a, "m");
    let Action::Replan(o) = &acts[0] else {
        panic!("{acts:?}")
    };
    assert_ne!(o.mode, before);
    let acts = press(&mut a, "s16G\n");
    let Action::Replan(o) = &acts[0] else {
        panic!("{acts:?}")
    };
    assert_eq!(o.swap_size_bytes, Some(16 * GIB));
    let mut other = a.plan.clone().unwrap();
    other.decisions[0].reason = "something else".into();
    let old = a.plan.clone();
    let ch = changes(&old, &Ok(other));
    assert_eq!(
        ch,
        [format!(
            "{} now: something else",
            old.as_ref().unwrap().decisions[0].subject
        )]
    );
    let mut fewer = old.clone().unwrap();
    let gone = fewer.decisions.pop().unwrap();
    assert_eq!(
        changes(&old, &Ok(fewer.clone())),
        [format!("- {}: {}", gone.subject, gone.reason)]
    );
    assert_eq!(
        changes(&Ok(fewer), &old),
        [format!("+ {}: {}", gone.subject, gone.reason)]
    );
    assert_eq!(changes(&old, &old), ["the plan did not change"]);
}

#[test]
fn the_tree_expands_and_the_focused_array_says_why() {
    let mut a = app();
    let disks = a.plan.as_ref().unwrap().layout.disks.len();
    let before = a.rows().len();
    // Down to the first array, expand it.
    press(&mut a, &"j".repeat(disks));
    assert!(matches!(a.focused(), Some(Node::Array(0))));
    press(&mut a, "\n");
    assert!(a.rows().len() > before);
    let why = a.decisions_for(&Node::Array(0));
    assert!(!why.is_empty());
    assert!(why.iter().all(|d| d.subject.starts_with("vg ")));
    press(&mut a, "\n");
    assert_eq!(a.rows().len(), before);
}
