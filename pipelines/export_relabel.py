"""`labelmill export-relabel DIR OUT`: built label maps to the "Re-labeling ImageNet" layout.

Writes one `{key}.npy` float32 `[2, k, H, W]` (logits, class ids) per sample, which ReLabel's
training code reads as it reads its own release. The class count comes from the class list the
build stored in run.json, or from `--num-classes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def find_classes(node: Any) -> list[str] | None:
    """The first `"classes"` list anywhere in a run.json document."""
    if isinstance(node, dict):
        if isinstance(node.get("classes"), list):
            return node["classes"]
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = find_classes(child)
            if found is not None:
                return found
    return None


def register(app: typer.Typer) -> None:
    """Add the `export-relabel` command to the CLI."""

    @app.command("export-relabel")
    def export_relabel(
        built: Annotated[
            Path, typer.Argument(exists=True, file_okay=False, help="Built dataset folder.")
        ],
        out: Annotated[Path, typer.Argument(help="Folder for the ReLabel-layout .npy files.")],
        num_classes: Annotated[
            int | None,
            typer.Option(help="Classes of the labeling model; default: the list in DIR/run.json."),
        ] = None,
    ) -> None:
        """Convert the dense label maps of a build to ReLabel's [2, k, H, W] files."""
        from labelmill.labelers.images.relabel_export import export_dir
        from labelmill.pipelines.shard_reader import UnsafeShardError

        if num_classes is None:
            from labelmill.pipelines.verify import read_small_json

            run_json = built / "run.json"
            try:
                classes = find_classes(read_small_json(str(run_json)))
            except (OSError, ValueError):
                classes = None
            if classes is None:
                raise typer.BadParameter("no class list in DIR/run.json; pass --num-classes")
            num_classes = len(classes)
        try:
            count = export_dir(built, out, num_classes)
        except UnsafeShardError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        if count == 0:
            raise typer.BadParameter(f"no label maps found under {built}")
        typer.echo(f"wrote {count} ReLabel maps to {out}")
