#!/usr/bin/env python3
"""Validates FHIR R4 Bundles against HL7's JSON schema with python3-jsonschema.

usage: validate_bundles.py SCHEMA BUNDLE.json...

Each Bundle is checked as HL7 advises: the Bundle shell against
#/definitions/Bundle, and each entry[].resource against the definition named
by its resourceType. Prints one line per Bundle ("PATH: N errors") and the
first errors of each; exits 1 when any Bundle has an error.
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validators = {}

    def validator(name):
        if name not in validators:
            validators[name] = jsonschema.Draft6Validator({**schema, "$ref": "#/definitions/" + name})
        return validators[name]

    failed = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            bundle = json.load(f)
        errors = []
        shell = dict(bundle)
        shell["entry"] = []
        errors += [("", e.message) for e in validator("Bundle").iter_errors(shell)]
        for i, entry in enumerate(bundle.get("entry", [])):
            resource = entry.get("resource", {})
            kind = resource.get("resourceType")
            if kind not in schema["definitions"]:
                errors.append(("entry[%d]" % i, "unknown resourceType %r" % kind))
                continue
            for e in validator(kind).iter_errors(resource):
                where = "entry[%d].resource" % i + "".join(
                    "[%d]" % p if isinstance(p, int) else "." + p for p in e.absolute_path)
                errors.append((where, e.message[:200]))
        print("%s: %d errors" % (path, len(errors)))
        for where, message in errors[:10]:
            print("  %s: %s" % (where, message))
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
