//! The dashboard's layout: the table in 3D beside "why this token" (the candidate table and
//! its bar charts), with the plan, the instruction and the outcomes under them.

use super::paths;
use rerun::blueprint::components::PanelState;
use rerun::blueprint::{
    BarChartView, Blueprint, BlueprintPanel, ContainerLike, Horizontal, SelectionPanel, TextDocumentView, TextLogView, TimePanel, Vertical,
};

pub(super) fn root(p: &str) -> String {
    format!("/{p}")
}

/// The layout of one run's recording around its domain's `scene` view (not used by `eval`,
/// whose episodes have their own subtrees and get rerun's automatic layout).
pub fn blueprint(scene: ContainerLike) -> Blueprint {
    let left: ContainerLike = Vertical::new([
        scene,
        Horizontal::new([
            TextDocumentView::new("instruction").with_origin(root(paths::INSTRUCTION)).into(),
            TextDocumentView::new("plan").with_origin(root(paths::PLAN)).into(),
            TextDocumentView::new("question to the operator").with_origin(root(paths::QUESTION)).into(),
        ])
        .into(),
    ])
    .with_row_shares([3.0, 1.2])
    .into();
    let right: ContainerLike = Vertical::new([
        TextDocumentView::new("why this token").with_origin(root(paths::CANDIDATES)).into(),
        Horizontal::new([
            BarChartView::new("combined score of each candidate").with_origin(root(paths::COMBINED)).into(),
            BarChartView::new("LM log p of each candidate").with_origin(root(paths::LM)).into(),
        ])
        .into(),
        TextLogView::new("outcomes").with_origin(root(paths::OUTCOMES)).into(),
    ])
    .with_row_shares([2.2, 1.0, 1.2])
    .into();
    Blueprint::new(Horizontal::new([left, right]).with_column_shares([3.0, 2.0]))
        .with_blueprint_panel(BlueprintPanel::new().with_state(PanelState::Collapsed))
        .with_selection_panel(SelectionPanel::new().with_state(PanelState::Collapsed))
        .with_time_panel(TimePanel::new().with_state(PanelState::Collapsed).with_timeline(paths::SIM_TIME))
}
