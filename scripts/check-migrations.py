#!/usr/bin/env python3
"""What `wrangler deploy --dry-run` does not check, and a real deploy refuses: every Durable
Object class that wrangler.toml binds in this worker must be created by a migration (and not
deleted or renamed away by a later one), and exported by the bundle; migration tags are
unique. scripts/sizes.sh runs it on the dry run's bundle; a failure names the class.

    python3 scripts/check-migrations.py wrangler.toml BUNDLE_JS
"""
import re
import sys
import tomllib


def created_classes(migrations):
    """The classes the migrations leave existing, in order; and the problems on the way."""
    classes, tags, problems = set(), set(), []
    for migration in migrations:
        tag = migration.get("tag")
        if tag in tags:
            problems.append(f"the migration tag {tag!r} is used twice")
        tags.add(tag)
        for name in migration.get("new_classes", []) + migration.get("new_sqlite_classes", []):
            if name in classes:
                problems.append(f"migration {tag!r} creates {name}, which exists already")
            classes.add(name)
        for rename in migration.get("renamed_classes", []):
            classes.discard(rename["from"])
            classes.add(rename["to"])
        classes -= set(migration.get("deleted_classes", []))
    return classes, problems


def exported_names(bundle):
    """The names the bundle's `export { ... }` statements export."""
    names = set()
    for block in re.findall(r"export\s*\{([^}]*)\}", bundle):
        for entry in block.split(","):
            names.add(entry.split(" as ")[-1].strip())
    return names


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    config_path, bundle_path = sys.argv[1:]
    with open(config_path, "rb") as config_file:
        config = tomllib.load(config_file)
    with open(bundle_path, encoding="utf-8") as bundle_file:
        exported = exported_names(bundle_file.read())
    classes, problems = created_classes(config.get("migrations", []))
    bindings = config.get("durable_objects", {}).get("bindings", [])
    for binding in bindings:
        if "script_name" in binding:
            continue  # another worker's class: its own migrations create it
        name = binding["class_name"]
        if name not in classes:
            problems.append(f"{binding['name']} binds {name}, which no migration creates: "
                            "add a [[migrations]] entry with new_sqlite_classes after the last")
        if name not in exported:
            problems.append(f"{binding['name']} binds {name}, which the bundle does not export")
    for problem in problems:
        print(f"{config_path}: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{config_path}: {len(bindings)} Durable Object classes, each created by a migration "
          "and exported")


if __name__ == "__main__":
    main()
