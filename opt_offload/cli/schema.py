"""``opt-offload schema KIND``: print the JSON Schema of an instance kind or of a solution."""

from __future__ import annotations

import argparse
import json

from ..schemas import INSTANCE_MODELS, SOLUTION
from .common import EXIT_OK

SCHEMAS = {kind: model.model_json_schema for kind, model in INSTANCE_MODELS.items()}
SCHEMAS["solution"] = SOLUTION.json_schema


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema", help="print a JSON Schema", description="Print the JSON Schema of a file kind."
    )
    parser.add_argument("kind", choices=sorted(SCHEMAS))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(SCHEMAS[args.kind](), indent=2))
    return EXIT_OK
