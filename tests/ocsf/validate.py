"""Validate OCSF events (one JSON object per line) against the OCSF 1.8.0 schema, offline.

Uses the PyPI package `ocsf-json-schema`, which embeds the OCSF schema and builds a JSON Schema per
class, and `jsonschema` (draft 2020-12). Exit 0 when every event is valid; prints one line per class.
"""

import collections
import json
import os
import sys

import jsonschema
import ocsf_json_schema
from ocsf_json_schema import OcsfJsonSchema, OcsfJsonSchemaEmbedded


def main(path: str) -> int:
    base = os.path.join(os.path.dirname(ocsf_json_schema.__file__), "ocsf", "1.8.0.json")
    with open(base, encoding="utf-8") as f:
        schema = OcsfJsonSchemaEmbedded(OcsfJsonSchema(json.load(f)))
    validators = {}
    counts = collections.Counter()
    errors = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            event = json.loads(line)
            uid = event.get("class_uid")
            if uid not in validators:
                name = schema.lookup_class_name_from_uid(uid)
                validators[uid] = jsonschema.Draft202012Validator(schema.get_class_schema(name))
            problems = sorted(validators[uid].iter_errors(event), key=lambda e: list(e.path))
            for p in problems[:5]:
                errors += 1
                where = "/".join(str(x) for x in p.path) or "(root)"
                print(f"line {n} class {uid}: {where}: {p.message[:300]}")
            counts[uid] += 1
    for uid, n in sorted(counts.items()):
        print(f"class {uid}: {n} events validated")
    print(f"{sum(counts.values())} events, {errors} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
