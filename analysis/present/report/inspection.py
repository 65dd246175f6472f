"""Report sections about single images: each approach's most confident mistakes beside their nearest
training images (what the model had seen that looks like them), and the images a person tagged."""

from __future__ import annotations

from markupsafe import Markup

from analysis.stats import neighbours
from analysis.core import tables, tags
from analysis.present.report.findings import KIND_ORDER, chosen_of_kind
from analysis.present.report.html import class_badge, details, inline_markdown, note, percent, table_html

MISTAKES_SHOWN = 4    # most confident mistakes per approach
NEIGHBOURS_SHOWN = 5  # nearest training images beside each
TAGGED_SHOWN = 24     # thumbnails per tag


def neighbours_body(builder) -> Markup:
    """``builder``: the :class:`~analysis.present.report.sections.ReportBuilder`. Per approach kind (its run chosen on the training part), the most confident held-out mistakes, each with its
    nearest training images in that model's embedding space and their vote."""
    bundle = builder.bundle
    if not neighbours.spaces(builder.manifest):
        return builder.missing("zeroshot")
    records = [record for kind in KIND_ORDER if kind != "baseline" and (record := chosen_of_kind(bundle, kind))]
    if not records:
        return builder.missing("approaches")
    found_of = confident_mistakes_by_space(builder, records)
    parts = [note(f"For the run of each kind chosen on the training images, its {MISTAKES_SHOWN} most confident mistakes on the held-out "
                  f"images, each followed by the {NEIGHBOURS_SHOWN} training images nearest to it (exact cosine "
                  "similarity in that model's embedding space) and what their labels say.")]
    for number, record in enumerate(records):
        space = neighbours.space_for(builder.manifest, tables.model_key(record))
        found = found_of[record["id"]]
        if not found:
            parts.append(details(builder.labels[record["id"]], note("No mistakes on the held-out images.")))
            continue
        invited = sum(item["vote"].agrees_with(item["prediction"]) for item in found)
        rows = [mistake_row(builder, item) for item in found]
        summary = (f"{builder.labels[record['id']]} — in {invited} of these {len(found)} mistakes most neighbours "
                   f"({space}) carry the predicted label")
        parts.append(details(summary, Markup("").join(rows), number == 0))
    return Markup("").join(parts)


def confident_mistakes_by_space(builder, records: list[dict]) -> dict[str, list[dict]]:
    """approach id → ``neighbours.confident_mistakes`` of each record, one embedding space at a time:
    only one index (a unit copy of a space's embeddings, ~400 MB for 100,000 ViT-H-14 images) is
    held at once."""
    by_space: dict[str, list[dict]] = {}
    for record in records:
        by_space.setdefault(neighbours.space_for(builder.manifest, tables.model_key(record)), []).append(record)
    found: dict[str, list[dict]] = {}
    for space, of_space in by_space.items():
        index = neighbours.build_index(space, builder.bundle.embeddings(space), builder.bundle.images())
        for record in of_space:
            found[record["id"]] = neighbours.confident_mistakes(builder.scored, record["id"], index, builder.classes,
                                                                MISTAKES_SHOWN, NEIGHBOURS_SHOWN)
        del index
    return found


def mistake_row(builder, item: dict) -> Markup:
    """One mistake: its card, the vote sentence, its neighbours' cards."""
    colours = builder.colours
    mistake = builder.image_card(item["image_id"], [
        Markup("true {}").format(class_badge(str(item["label"]), colours)),
        Markup("predicted {} {}").format(class_badge(str(item["prediction"]), colours), percent(item["confidence"]))])
    near = [builder.image_card(row.image_id, [Markup("{} · {}").format(class_badge(str(row.label), colours),
                                                                       f"{row.similarity:.3f}")])
            for row in item["neighbours"].itertuples()]
    return Markup('<div class="gallery">{}</div><p>{}</p><div class="gallery">{}</div><hr>').format(
        mistake, inline_markdown(item["vote"].sentence() + "."), Markup("").join(near))


def tagged_body(builder) -> Markup:
    """The images tagged in the dashboard (``tags.csv`` beside the bundle), by tag, with the export table."""
    try:
        frame = tags.read_tags(builder.bundle.path)
    except tags.TagError as error:
        return note(f"The tags cannot be read: {error}")
    if frame.empty:
        return note("No image is tagged yet. Tag images in the dashboard gallery's Details "
                    f"({', '.join(tags.TAGS)}); the tags are kept in {tags.TAGS_FILE} beside the bundle.")
    images = builder.bundle.images().set_index("image_id")["label"]
    counts = tags.summary(frame)
    parts = [Markup("<p>{}</p>").format(", ".join(f"{tag}: {count} images" for tag, count in counts.items()) + ".")]
    for tag in counts:
        ids = sorted(tags.tagged_ids(frame, [tag]))
        cards = [builder.image_card(image_id, [Markup("true {}").format(
            class_badge(str(images.get(image_id, "?")), builder.colours))]) for image_id in ids[:TAGGED_SHOWN]]
        parts.append(Markup('<h3>{}</h3><div class="gallery">{}</div>').format(
            f"{tag} ({min(len(ids), TAGGED_SHOWN)} of {len(ids)} shown)", Markup("").join(cards)))
    table = tags.export_table(frame, builder.bundle.images())
    parts.append(details(f"Every tag ({len(table)} rows, as the dashboard exports them)",
                         table_html(list(table.columns), table.itertuples(index=False), numeric_from=len(table.columns))))
    return Markup("").join(parts)
