"""The centre's figures over a period, from the catalog (a few aggregate queries) or, without one,
from the stored manifests (reads every manifest).

Dossiers received and digitised, the share with all components attached, documents reused and the
reuse rate, pages, failures and the review queue — as a dict (JSON), text rows, and a PNG chart for
the monthly report.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from pipeline.catalog.base import Catalog, figures_dict
from pipeline.manifest import Manifest
from pipeline.store.base import ObjectStore


def manifests(store: ObjectStore, since: date | None = None, until: date | None = None):
    for key in store.list("dossiers/"):
        if not key.endswith("/manifest.json"):
            continue
        m = Manifest.model_validate(json.loads(store.get_bytes(key)))
        when = datetime.fromisoformat(m.created_at).date() if m.created_at else None
        if since and (when is None or when < since):
            continue
        if until and (when is None or when > until):
            continue
        yield m


def figures(store: ObjectStore, since: date | None = None, until: date | None = None,
            catalog: Catalog | None = None) -> dict:
    """The period's figures; with a catalog they are counted there (`Catalog.figures`, the same
    answer) instead of from every stored manifest."""
    if catalog is not None:
        return catalog.figures(since, until)
    received = digitised = complete = pages = documents = reused = review = 0
    failures: list[tuple] = []
    for m in manifests(store, since, until):
        received += 1
        if m.status != "done":
            failures.append((m.dossier_id, m.error))
            continue
        digitised += 1
        pages += m.source.pages
        documents += len(m.components)
        reused += sum(c.reused_from is not None for c in m.components)
        review += sum(c.needs_review for c in m.components)
        if m.components and all(c.object is not None for c in m.components):
            complete += 1
    return figures_dict(since, until, (received, digitised, pages, complete), (documents, reused, review), failures)


ROWS = [
    ("dossiers_received", "Hồ sơ tiếp nhận (dossiers received)"),
    ("dossiers_digitised", "Hồ sơ đã số hóa (digitised)"),
    ("dossiers_failed", "Hồ sơ lỗi (failed)"),
    ("share_all_components_attached", "Tỷ lệ đủ thành phần (all components attached)"),
    ("documents", "Tài liệu (documents)"),
    ("documents_reused", "Tài liệu tái sử dụng (reused)"),
    ("reuse_rate", "Tỷ lệ tái sử dụng (reuse rate)"),
    ("pages", "Trang (pages)"),
    ("review_queue", "Chờ kiểm tra (review queue)"),
]


def chart(fig: dict, out: Path) -> Path:
    """A small bar chart of the period's counts with the two rates in the title, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["dossiers_received", "dossiers_digitised", "dossiers_failed", "documents", "documents_reused",
            "review_queue"]
    labels = ["tiếp nhận", "đã số hóa", "lỗi", "tài liệu", "tái sử dụng", "chờ kiểm tra"]
    values = [fig[k] for k in keys]
    period = f"{fig['since'] or '…'} → {fig['until'] or 'nay'}"
    figure, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    bars = ax.bar(labels, values, color=["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#ff7f0e"])
    ax.bar_label(bars)
    ax.set_title(f"sohoa — {period}\nđủ thành phần {fig['share_all_components_attached']:.0%}, "
                 f"tái sử dụng {fig['reuse_rate']:.0%}, {fig['pages']} trang")
    ax.set_ylabel("số lượng")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png")
    plt.close(figure)
    return out
