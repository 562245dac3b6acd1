"""Reading instance files and writing results (design §9).

Bad input never escapes as a traceback: every problem becomes one line that names the file and
the JSON path of the field, collected in an :class:`~opt_offload.errors.InputError`.

Reading agrees with the published JSON Schema (``opt-offload schema KIND``): strict types
(``true`` is not 1, ``"9"`` is not a number), no NaN or Infinity (RFC 8259 has neither; the
schemas' numbers are finite), no duplicate keys, bounded size and nesting. Writing goes
through one function, :func:`write_output`, for every file the package writes.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError
from .schemas import INSTANCE_MODELS, Instance, Solution, parse_solution
from .schemas.base import CROSS_FIELD

# Limits of what a file may hold (docs/robustness.md). The largest shipped-style instance at
# 10^5 tasks is ~40 MB; the limits leave room for that and stop /dev/zero or a billion-laughs
# YAML before they take the machine's memory.
MAX_INPUT_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64  # instances nest 5 levels deep; JSON parsers recurse, so this bounds the stack
MAX_NODES = 20_000_000  # values after YAML aliases are expanded
STDOUT = "-"


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


class _Mapping(dict):
    """A parsed object that had repeated keys (they are reported, never silently merged)."""

    repeated: list[str]


def _mapping(pairs: Iterable[tuple[Any, Any]]) -> dict:
    result: dict = {}
    repeated = []
    for key, value in pairs:
        if key in result:
            repeated.append(key)
        result[key] = value
    if repeated:
        result = _Mapping(result)
        result.repeated = repeated
    return result


class _StrictYamlLoader(yaml.SafeLoader):
    """Safe YAML whose mappings keep their repeated keys for :func:`_structure_problems`."""

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        pairs = [
            (self.construct_object(k, deep=deep), self.construct_object(v, deep=deep))
            for k, v in node.value
        ]
        for key, _ in pairs:
            if not isinstance(key, str | int | float | bool | type(None)):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a scalar", node.start_mark
                )
        return _mapping(pairs)


_StrictYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictYamlLoader.construct_mapping
)


def read_bounded(path: Path, source: str) -> bytes:
    """The file's bytes, refusing more than MAX_INPUT_BYTES (also from pipes and devices)."""
    try:
        with open(path, "rb") as handle:
            if stat.S_ISDIR(os.fstat(handle.fileno()).st_mode):
                raise IsADirectoryError
            data = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError("file not found", source) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", source) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"larger than the limit of {MAX_INPUT_BYTES} bytes", source)
    return data


def _structure_problems(data: Any) -> list[str]:
    """Repeated keys (with their path), nesting beyond MAX_DEPTH, recursive or exponential YAML
    aliases, non-string keys and unprintable strings, in one walk without recursion. Shared
    containers (YAML aliases) are measured once; ``size`` counts values as if expanded."""
    problems: list[str] = []
    size: dict[int, int] = {}
    open_ids: set[int] = set()
    stack: list[tuple[Any, str, int, bool]] = [(data, "", 0, False)]
    while stack:
        value, path, depth, done = stack.pop()
        if not isinstance(value, dict | list):
            if isinstance(value, str) and not _encodable(value):
                problems.append(f"{path or 'top level'}: a string that is not valid Unicode")
            continue
        ident = id(value)
        if done:
            items = value.values() if isinstance(value, dict) else value
            size[ident] = 1 + sum(size.get(id(v), 1) for v in items)
            open_ids.discard(ident)
            if size[ident] > MAX_NODES:
                return [f"{path or 'top level'}: more than {MAX_NODES} values (YAML aliases?)"]
            continue
        if ident in size:
            continue
        if ident in open_ids:
            return [f"{path or 'top level'}: a YAML alias that contains itself"]
        if depth >= MAX_DEPTH:
            return [f"{path or 'top level'}: nested deeper than the limit of {MAX_DEPTH} levels"]
        open_ids.add(ident)
        stack.append((value, path, depth, True))
        if isinstance(value, dict):
            problems += [
                f"{_join(path, key)}: duplicate key {key!r}"
                for key in getattr(value, "repeated", [])
            ]
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(f"{_join(path, key)}: keys must be strings, got {key!r}")
                stack.append((item, _join(path, key), depth + 1, False))
        else:
            stack.extend((item, f"{path}[{i}]", depth + 1, False) for i, item in enumerate(value))
    return problems


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        return False
    return True


def parse_document(raw: bytes, source: str, *, yaml_syntax: bool) -> dict[str, Any]:
    """Parse JSON (strict RFC 8259) or YAML (safe) bytes into a checked mapping."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source) from None
    try:
        if yaml_syntax:
            data = yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 (a SafeLoader)
        else:
            data = json.loads(text, object_pairs_hook=_mapping)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {' '.join(str(exc).split())}", source) from None
    except RecursionError:
        raise InputError(f"nested deeper than the limit of {MAX_DEPTH} levels", source) from None
    except ValueError as exc:  # Python's limit on int("...") digits (no schema number has them)
        syntax = "YAML" if yaml_syntax else "JSON"
        limit = sys.get_int_max_str_digits()
        reason = f"an integer of more than {limit} digits" if "digits" in str(exc) else exc
        raise InputError(f"invalid {syntax}: {reason}", source) from None
    if not isinstance(data, dict):
        raise InputError(f"expected an object at the top level, got {type(data).__name__}", source)
    problems = _structure_problems(data)
    if problems:
        raise InputError(problems, source)
    return data


def read_document(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a JSON or YAML file (by suffix; JSON otherwise) into a mapping."""
    path = Path(path)
    source = str(path)
    raw = read_bounded(path, source)
    return parse_document(raw, source, yaml_syntax=path.suffix.lower() in (".yaml", ".yml"))


def parse_instance(
    data: dict[str, Any], source: str | None = None, *, strict: bool = True
) -> Instance:
    """Validate a mapping as the instance kind it names. ``strict`` (files): the types of the
    published JSON Schema exactly; generators building documents in Python may relax it."""
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in INSTANCE_MODELS:
        kinds = ", ".join(INSTANCE_MODELS)
        got = "missing" if kind is None else f"got {kind!r}"
        raise InputError(f"kind: must be one of {kinds} ({got})", source)
    try:
        return INSTANCE_MODELS[kind].model_validate(data, strict=strict)
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


def dumps_strict(document: Any, **options: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (RFC 8259): they become null."""
    return json.dumps(_finite(document), allow_nan=False, **options)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


# Writing. Every file the package writes goes through write_output: results, CSV tables,
# figures (save_figure) and trained predictors.

PLOT_FORMATS = ("png", "pdf", "svg", "eps", "ps", "jpg", "jpeg")


def check_output(
    path: str | os.PathLike,
    *,
    flag: str = "--out",
    inputs: Sequence[str | os.PathLike] = (),
    formats: Sequence[str] | None = None,
) -> None:
    """Refuse, before any work is done, an output that cannot be written: a missing folder,
    a directory or other non-regular file (character devices and pipes are written through,
    as ``cp`` does), one of the command's ``inputs`` (same file, by device and inode), or a
    suffix outside ``formats``. ``-`` is standard output."""
    if str(path) == STDOUT:
        return
    where = f"{flag} {path}"
    target = Path(path)
    if formats is not None and target.suffix.lower().lstrip(".") not in formats:
        raise InputError(
            f"{where}: unknown format; the suffix must be one of .{', .'.join(formats)}"
        )
    status = _stat(target, where)
    if status is None:
        folder = Path(os.path.realpath(target)).parent
        if not folder.is_dir():
            raise InputError(f"{where}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(f"{where}: the folder {folder} is not writable")
        return
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        raise InputError(f"{where}: is a directory")
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise InputError(f"{where}: not a regular file, character device or pipe")
    for source in inputs:
        other = _stat(Path(source), where)
        if other is not None and (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino):
            raise InputError(f"{where}: is the input {source}; refusing to overwrite it")
    if stat.S_ISREG(mode) and not _streamed(target):
        folder = Path(os.path.realpath(target)).parent
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(f"{where}: the folder {folder} is not writable")


def write_output(
    path: str | os.PathLike,
    data: str | bytes,
    *,
    flag: str = "--out",
    inputs: Sequence[str | os.PathLike] = (),
) -> None:
    """Write ``data`` to ``path`` after :func:`check_output`.

    A regular file is replaced atomically (a temporary file in the same folder, then a rename,
    so that readers never see a partial file and a failure leaves nothing behind); a symbolic
    link keeps pointing where it did and its target is replaced; an existing file keeps its
    permissions, a new one gets 0666 less the umask. Character devices, pipes and the
    ``/dev/stdout``-like paths are written through; ``-`` is standard output.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if str(path) == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    check_output(path, flag=flag, inputs=inputs)
    target = Path(path)
    status = _stat(target, f"{flag} {path}")
    try:
        if status is not None and (not stat.S_ISREG(status.st_mode) or _streamed(target)):
            with open(target, "wb") as handle:
                handle.write(raw)
        else:
            mode = stat.S_IMODE(status.st_mode) if status is not None else 0o666 & ~_umask()
            _replace_atomically(Path(os.path.realpath(target)), raw, mode)
    except OSError as exc:
        raise InputError(f"{flag} {path}: cannot write: {exc.strerror or exc}") from None


def save_figure(
    figure: Any, path: str | os.PathLike | BinaryIO, *, dpi: int, flag: str = "--plot"
) -> None:
    """A matplotlib figure in the format of the path's suffix, through :func:`write_output`;
    a binary file object (``io.BytesIO``, an open file) is written into as PNG."""
    import io

    if hasattr(path, "write"):
        figure.savefig(path, format="png", dpi=dpi)
        return
    check_output(path, flag=flag, formats=PLOT_FORMATS)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lower().lstrip("."), dpi=dpi)
    write_output(path, buffer.getvalue(), flag=flag)


def _stat(path: Path, where: str) -> os.stat_result | None:
    """The status of what ``path`` names (through links); None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{where}: cannot write: {exc.strerror or exc}") from None


def _streamed(path: Path) -> bool:
    """/dev/stdout, /dev/fd/N, /proc/self/fd/N: a descriptor some other process opened, which
    may be a regular file (a shell redirection) that must be written into, not replaced."""
    return os.path.abspath(path).startswith(("/dev/", "/proc/"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace_atomically(target: Path, raw: bytes, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def csv_text(rows: list[dict]) -> str:
    """Rows of equal keys as CSV text with a header line (every ``--csv`` option writes this)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
