"""Reading instance files and writing results (design §9).

Bad input never escapes as a traceback: every problem becomes one line that names the file and
the JSON path of the field, collected in an :class:`~opt_offload.errors.InputError`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError
from .schemas import INSTANCE_MODELS, Instance, Solution, parse_solution
from .schemas.base import CROSS_FIELD


def json_path(loc: tuple[str | int, ...]) -> str:
    """('candidates', 3, 'snr_db') -> 'candidates[3].snr_db'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def validation_problems(error: ValidationError) -> list[str]:
    """One ``path: message`` line per problem pydantic found."""
    problems = []
    for item in error.errors(include_url=False):
        path = json_path(item["loc"])
        if item["type"] == CROSS_FIELD:
            # Cross-field checks report paths relative to the model that raised them.
            for line in item["msg"].splitlines():
                problems.append(f"{path}.{line}" if path else line)
        else:
            problems.append(f"{path}: {item['msg']}" if path else item["msg"])
    return problems


def read_document(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a JSON or YAML file (by suffix; JSON otherwise) into a mapping."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", source) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"invalid YAML: {' '.join(str(exc).split())}", source) from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source
            ) from None
    if not isinstance(data, dict):
        raise InputError(f"expected an object at the top level, got {type(data).__name__}", source)
    return data


def parse_instance(data: dict[str, Any], source: str | None = None) -> Instance:
    """Validate a mapping as the instance kind it names."""
    kind = data.get("kind")
    if kind not in INSTANCE_MODELS:
        kinds = ", ".join(INSTANCE_MODELS)
        got = "missing" if kind is None else f"got {kind!r}"
        raise InputError(f"kind: must be one of {kinds} ({got})", source)
    try:
        return INSTANCE_MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc), source) from None


def load_instance(path: str | os.PathLike) -> Instance:
    """Read and validate an instance file; raises InputError with one line per problem."""
    return parse_instance(read_document(path), str(path))


def load_solution(path: str | os.PathLike) -> Solution:
    try:
        return parse_solution(read_document(path))
    except ValidationError as exc:
        raise InputError(validation_problems(exc), str(path)) from None


def to_json(model: BaseModel) -> str:
    """Canonical JSON text of a schema model: fields in schema order, two-space indent."""
    return model.model_dump_json(indent=2) + "\n"


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write via a temporary file in the same folder and rename, so that readers never see a
    partial file and a failure leaves no file behind."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike, model: BaseModel) -> None:
    write_text_atomic(path, to_json(model))


def csv_text(rows: list[dict]) -> str:
    """Rows of equal keys as CSV text with a header line (every ``--csv`` option writes this)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
