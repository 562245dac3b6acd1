"""The docs' build-time steps (a local Sphinx extension, see conf.py).

- The notebooks (notebooks/*.ipynb) are copied into tutorials/notebooks/, their links to the
  repository's docs folder rewritten for the site; they are rendered from their stored outputs.
- The file-format pages (formats/KIND.md) are written from `opt-offload schema KIND`, so the
  reference cannot drift from the schemas the command line validates against.
- The index lists the measured-results pages that exist (each is written on its own; a page not
  there yet is left out rather than failing the build).
- The saved results of `make docs-data` (_generated/) must match the settings docs_data.py
  documents, else the build fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from docs_data import stale_results
from sphinx.errors import ExtensionError

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
SCHEMA_KINDS = ("admission", "assignment", "placement", "solution")
# pages of measured results, each written separately; listed in this order when present
MEASURED_PAGES = (
    "results",
    "robustness",
    "prada-physics",
    "simulation",
    "scale",
    "backends",
    "real-traffic",
)


def copy_notebooks() -> None:
    target = DOCS / "tutorials" / "notebooks"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        # from docs/tutorials/notebooks/, the repository's docs/ folder is ../../
        text = path.read_text(encoding="utf-8").replace("](../docs/", "](../../")
        (target / path.name).write_text(text, encoding="utf-8")


def schema_of(kind: str) -> dict:
    done = subprocess.run(
        ["opt-offload", "schema", kind], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def type_text(spec: dict) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        return " or ".join(type_text(s) for s in spec["anyOf"])
    if "enum" in spec:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {type_text(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec:
        values = spec["additionalProperties"]
        return f"map to {type_text(values)}" if isinstance(values, dict) else "object"
    return str(kind)


RANGE_KEYS = {
    "minimum": ">=",
    "exclusiveMinimum": ">",
    "maximum": "<=",
    "exclusiveMaximum": "<",
    "minLength": "length >=",
    "maxLength": "length <=",
    "minItems": "items >=",
    "maxItems": "items <=",
}


def ranges(spec: dict) -> str:
    found = [f"{op} {spec[key]}" for key, op in RANGE_KEYS.items() if key in spec]
    for option in spec.get("anyOf", []):
        found += [f"{op} {option[key]}" for key, op in RANGE_KEYS.items() if key in option]
    return ", ".join(found)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_table(name: str, model: dict) -> list[str]:
    required = set(model.get("required", []))
    lines = [f"## {name}", ""]
    if model.get("description"):
        lines += [cell(model["description"]), ""]
    lines += [
        "| field | type | required / default | range | description |",
        "|---|---|---|---|---|",
    ]
    for field, spec in model.get("properties", {}).items():
        if field in required:
            need = "required"
        elif "default" in spec:
            need = f"`{json.dumps(spec['default'])}`"
        else:
            need = "optional"
        type_cell = cell(type_text(spec)).replace("\\\\|", "\\|")
        lines.append(
            f"| `{field}` | {type_cell} | {need} | {cell(ranges(spec))} | "
            f"{cell(spec.get('description', ''))} |"
        )
    return lines + [""]


def format_page(kind: str, schema: dict) -> str:
    title = schema.get("title", kind)
    lines = [
        f"# {kind}",
        "",
        f"Generated at build time from `opt-offload schema {kind}` (the `{title}` model).",
        "Unknown fields are errors.",
        "",
    ]
    lines += model_table(title, schema)
    for name, model in sorted(schema.get("$defs", {}).items()):
        if "properties" in model:
            lines += model_table(name, model)
        elif "enum" in model:
            values = ", ".join(f"`{json.dumps(v)}`" for v in model["enum"])
            lines += [f"## {name}", "", f"One of {values}.", ""]
    return "\n".join(lines)


def write_format_pages() -> None:
    target = DOCS / "formats"
    target.mkdir(exist_ok=True)
    for kind in SCHEMA_KINDS:
        page = format_page(kind, schema_of(kind))
        path = target / f"{kind}.md"
        if not path.exists() or path.read_text() != page:
            path.write_text(page)


def check_saved_results() -> None:
    problems = stale_results()
    if problems:
        raise ExtensionError("saved results out of date:\n" + "\n".join(problems))


def on_builder_inited(app) -> None:
    check_saved_results()
    copy_notebooks()
    write_format_pages()


def measured_toctree() -> str:
    present = [name for name in MEASURED_PAGES if (DOCS / f"{name}.md").exists()]
    if not present:
        return ""
    return "\n".join(
        ["```{toctree}", ":caption: Measured results", ":maxdepth: 1", "", *present, "```"]
    )


def on_source_read(app, docname: str, source: list[str]) -> None:
    if docname == "index":
        source[0] = source[0].replace("<!-- measured pages -->", measured_toctree())


def setup(app):
    app.connect("builder-inited", on_builder_inited)
    app.connect("source-read", on_source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
