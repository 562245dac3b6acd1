"""The docs' build-time steps (a local Sphinx extension, see conf.py).

- The notebooks (notebooks/*.ipynb) are copied into tutorials/notebooks/, their links to the
  repository's docs folder rewritten for the site; they are rendered from their stored outputs.
- The file-format pages (formats/KIND.md) are written from `opt-offload schema KIND`, so the
  reference cannot drift from the schemas the command line validates against.
- The index lists the measured-results pages that exist (each is written on its own; a page not
  there yet is left out rather than failing the build).
- Measured results are rendered from the saved outputs of `make docs-data` (_generated/NAME.json,
  see docs_data.py): ``{measured-table} NAME`` renders a table the command printed,
  ``{measured-output} NAME`` its whole console output, ``{measured-index}`` the list of every
  entry; each with the command and a "measured on" note. The build fails when a saved output is
  missing or stale (other command, version or inputs) or lacks the table or column a page asks
  for. docs/maintaining.md says how numbers get into the docs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import docs_data
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

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
    """A warning (an error under -W) per saved output that is missing or stale."""
    for problem in docs_data.stale_results():
        logger.warning(f"saved results out of date: {problem}")


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


class Unsaved(LookupError):
    """A page asks for an entry that docs_data.py does not have, or that was never saved."""


def saved_output(name: str) -> dict:
    if name not in docs_data.RESULTS:
        raise Unsaved(f"no docs-data entry {name!r} (docs/_ext/docs_data.py RESULTS)")
    saved = docs_data.load(name)
    if saved is None:
        raise Unsaved(f"{name}: no saved output (run `make docs-data ONLY={name}`)")
    return saved


class SavedDirective(SphinxDirective):
    def saved(self, name: str) -> dict:
        try:
            return saved_output(name)
        except Unsaved as error:
            raise self.error(str(error)) from None


def paragraph(*parts: nodes.Node | str) -> nodes.paragraph:
    para = nodes.paragraph()
    for part in parts:
        para += nodes.Text(part) if isinstance(part, str) else part
    return para


def provenance(name: str, saved: dict, timing: list[str]) -> nodes.paragraph:
    """Where the numbers come from: the command, the checkout and, for the timings, the
    machine they were measured on."""
    where = saved["machine"]
    parts: list[nodes.Node | str] = [
        "Output of ",
        nodes.literal(text=saved["command"]),
        f" (saved in docs/_generated/{name}.json by ",
        nodes.literal(text="make docs-data"),
        f": opt_offload {saved['version']}, commit {saved['commit']}, {saved['generated']}, "
        f"{saved['wall_s']:g} s).",
    ]
    if timing:
        parts += [
            " The values of ",
            ", ".join(f'"{c}"' for c in timing),
            f" are times measured on {where['cpus']} cores ({where['system']}) at a load "
            f"average of {where['load_average']:g}-{where['load_average_after']:g}: expect "
            "them to differ from run to run by tens of per cent, and more on another machine; "
            "compare ratios within one run.",
        ]
    if docs_data.RESULTS[name].check:
        parts.append(" The test suite re-runs this command and compares them.")
    return paragraph(*parts)


def table_node(columns: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=["measured"])
    group = nodes.tgroup(cols=len(columns))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in columns]

    def row_node(values: list[str]) -> nodes.row:
        row = nodes.row()
        for value in values:
            entry = nodes.entry()
            entry += nodes.paragraph(text=value)
            row += entry
        return row

    head = nodes.thead()
    head += row_node(columns)
    body = nodes.tbody()
    body += [row_node(r) for r in rows]
    group += [head, body]
    return table


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def pivot(
    table: docs_data.Table, rows: list[list[str]], spec: list[str]
) -> tuple[list[str], list[list[str]], str]:
    """(columns, rows, value column) of ``rows`` pivoted by ``spec`` = [ROW, COLUMN, VALUE]."""
    if len(spec) != 3:
        raise ValueError(f":pivot: takes ROW, COLUMN, VALUE, got {', '.join(spec)}")
    row_at, column_at, value_at = (table.column(c) for c in spec)
    keys = list(dict.fromkeys(r[row_at] for r in rows))
    heads = list(dict.fromkeys(r[column_at] for r in rows))
    cells = {(r[row_at], r[column_at]): r[value_at] for r in rows}
    out = [[key, *(cells.get((key, head), "") for head in heads)] for key in keys]
    return [spec[0], *heads], out, spec[2]


class MeasuredTable(SavedDirective):
    """``{measured-table} NAME``: a table NAME's command printed, from its saved output.

    Options: ``:table: N`` (the N-th printed table, 1 by default), ``:columns: a, b`` (these
    columns, in this order), ``:where: column=value|value, ...`` (only the rows that match),
    ``:pivot: ROW, COLUMN, VALUE`` (one row per value of ROW, one column per value of COLUMN,
    VALUE in the cells: a long table as the reader compares it)."""

    required_arguments = 1
    option_spec = {
        "table": directives.positive_int,
        "columns": directives.unchanged,
        "where": directives.unchanged,
        "pivot": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        saved = self.saved(name)
        printed = docs_data.tables(saved["stdout"])
        index = self.options.get("table", 1)
        if index > len(printed):
            raise self.error(f"{name}: the command printed {len(printed)} tables, not {index}")
        table = printed[index - 1]
        try:
            where = [item.split("=", 1) for item in comma_list(self.options.get("where", ""))]
            tests = [(table.column(c.strip()), v.strip().split("|")) for c, v in where]
            kept = [r for r in table.rows if all(r[i] in values for i, values in tests)]
            if "pivot" in self.options:
                shown, rows, value = pivot(table, kept, comma_list(self.options["pivot"]))
                measured = [value]
            else:
                shown = comma_list(self.options.get("columns", "")) or table.columns
                picks = [table.column(c) for c in shown]
                rows, measured = [[r[i] for i in picks] for r in kept], shown
        except (KeyError, ValueError) as error:
            raise self.error(f"{name}, table {index}: {error}") from None
        if not rows:
            raise self.error(f"{name}, table {index}: no row matches {self.options['where']!r}")
        timing = [c for c in measured if c in docs_data.RESULTS[name].timing]
        nodes_out: list[nodes.Node] = []
        if table.title:
            nodes_out.append(paragraph(nodes.emphasis(text=table.title)))
        return [*nodes_out, table_node(shown, rows), provenance(name, saved, timing)]


class MeasuredOutput(SavedDirective):
    """``{measured-output} NAME``: the whole console output of NAME's command, as saved."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        saved = self.saved(name)
        text = f"$ {saved['command']}\n{saved['stdout'].rstrip()}"
        block = nodes.literal_block(text, text, language="text")
        timing = list(docs_data.RESULTS[name].timing)
        return [block, provenance(name, saved, timing)]


class MeasuredCommands(SphinxDirective):
    """``{measured-commands} NAME ...``: the commands of these entries, as a recipe block
    (taken from docs_data.py, so that a recipe cannot drift from what produced the tables)."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        names = self.arguments[0].split()
        unknown = [n for n in names if n not in docs_data.RESULTS]
        if unknown:
            raise self.error(f"no docs-data entries {', '.join(unknown)}")
        text = "\n".join(f"$ {docs_data.RESULTS[n].command}" for n in names)
        return [nodes.literal_block(text, text, language="sh")]


class MeasuredValue:
    """``{measured}`NAME: COLUMN [column=value, ...]```: one cell of a saved table, for
    numbers quoted in prose (``NAME#2`` for the second printed table). The filters must pick
    exactly one row."""

    pattern = re.compile(r"^([\w-]+)(?:#(\d+))?:\s*(.+?)\s*(?:\[(.*)\])?$")

    def __call__(self, role, rawtext, text, lineno, inliner, options=None, content=None):
        try:
            value = self.lookup(text)
        except (KeyError, ValueError, IndexError, Unsaved) as error:
            message = inliner.reporter.error(f"{{measured}}`{text}`: {error}", line=lineno)
            return [inliner.problematic(rawtext, rawtext, message)], [message]
        return [nodes.Text(value)], []

    def lookup(self, text: str) -> str:
        match = self.pattern.match(text)
        if not match:
            raise ValueError("expected NAME: COLUMN [column=value, ...]")
        name, index, column, filters = match.groups()
        printed = docs_data.tables(saved_output(name)["stdout"])
        table = printed[int(index or 1) - 1]
        tests = [item.split("=", 1) for item in comma_list(filters or "")]
        tests = [(table.column(c.strip()), v.strip()) for c, v in tests]
        rows = [r for r in table.rows if all(r[i] == v for i, v in tests)]
        if len(rows) != 1:
            raise ValueError(f"the filters pick {len(rows)} rows, not one")
        return rows[0][table.column(column)]


class MeasuredIndex(SavedDirective):
    """``{measured-index}``: every docs-data entry, its command and its saved output."""

    def run(self) -> list[nodes.Node]:
        rows = []
        for name, result in docs_data.RESULTS.items():
            saved = self.saved(name)
            rows.append(
                [
                    name,
                    result.command,
                    f"{saved['generated']}, {saved['commit']}",
                    f"{saved['wall_s']:g}",
                    ", ".join(result.timing) or "-",
                    "yes" if result.check else "no",
                ]
            )
        columns = ["entry", "command", "saved", "wall s", "timing columns", "re-run by tests"]
        return [table_node(columns, rows)]


def setup(app):
    app.connect("builder-inited", on_builder_inited)
    app.connect("source-read", on_source_read)
    app.add_directive("measured-table", MeasuredTable)
    app.add_directive("measured-output", MeasuredOutput)
    app.add_directive("measured-index", MeasuredIndex)
    app.add_directive("measured-commands", MeasuredCommands)
    app.add_role("measured", MeasuredValue())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
