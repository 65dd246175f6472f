"""Panels of the ladder (autopsy page) and of the verdict (Home, the top of the report).

The figures, tables and readings are :mod:`analysis.present.ladder_panels`; this module only declares in
which order, under which heading, and when each is shown.
"""

from __future__ import annotations

from analysis.core.escape import markdown_text
from analysis.present import ladder_panels
from analysis.present.panels.spec import PageData, PanelSpec, Source, reference_rates

LADDER_HEADING = "Where the points go: a ladder of fixes"


def _oracle_note(ladder: dict) -> str:
    choice = ladder.get("prompt_choice", {})
    if not choice.get("oracle_prompt_set") or choice["oracle_prompt_set"] == choice.get("prompt_set"):
        return ""
    return (f"Zero-shot uses the prompt set chosen on the training images, *{markdown_text(choice['prompt_set'])}*. The best on the "
            f"held-out images, *{markdown_text(choice['oracle_prompt_set'])}* ({choice['oracle_accuracy']:.1%}), is an oracle: "
            "choosing it would be selection on the test images.")


# ``d`` is the autopsy page's data (``panels.AutopsyData``): ``d.ladder`` is ``ladder:{model key}``.
LADDER_PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("ladder", "ladder of fixes", LADDER_HEADING,
              lambda d: ladder_panels.waterfall_figure(d.ladder), lambda d: ladder_panels.read_ladder(d.ladder, d.learnt),
              lambda d: bool(d.ladder), missing="ladder"),
    PanelSpec("attribution", "why zero-shot fails", LADDER_HEADING,
              lambda d: ladder_panels.attribution_figure(d.ladder["attribution"]),
              lambda d: ladder_panels.read_attribution(d.ladder["attribution"]),
              lambda d: bool(d.ladder.get("attribution"))),
    PanelSpec("ladder_table", "ladder table", LADDER_HEADING, None, lambda d: _oracle_note(d.ladder),
              lambda d: bool(d.ladder.get("rungs")),
              table=lambda d: ladder_panels.ladder_table(d.ladder).drop(columns=["approach"])),
    PanelSpec("alignment", "alignment table", "Does each class prompt point at its own images?", None,
              lambda d: ladder_panels.read_alignment(d.ladder["alignment"], d.learnt),
              lambda d: bool(d.ladder.get("alignment")),
              table=lambda d: ladder_panels.alignment_frame(d.ladder["alignment"], d.classes)),
)


def verdict_data(source: Source) -> PageData:
    """The ``verdict`` diagnostics as a page's data."""
    return PageData(source.classes, reference_rates(source), source.diagnostics("verdict"), "verdict")


VERDICT_PANELS: tuple[PanelSpec[PageData], ...] = (
    PanelSpec("verdict", "verdict", "", None,
              lambda d: ladder_panels.verdict_markdown(d.diagnostics, warnings=False),
              lambda d: bool(d.diagnostics.get("rows")),
              warning=lambda d: "\n\n".join(map(markdown_text, d.diagnostics.get("warnings", [])))),
)
