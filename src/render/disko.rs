//! `disko-config.nix`: the plan as a disko configuration, from `disko-templates/`.

use crate::plan::Plan;

pub fn render_disko(plan: &Plan) -> String {
    let _ = plan;
    String::new()
}
