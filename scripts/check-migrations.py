#!/usr/bin/env python3
"""What `wrangler deploy --dry-run` does not check, and a real deploy refuses: every Durable
Object class that the objects' Worker (wrangler.objects.toml) binds must be created by a
migration (and not deleted or renamed away by a later one), and exported by its bundle;
migration tags are unique; and every binding of the front (wrangler.toml) must name that Worker
and one of those classes. scripts/sizes.sh runs it on the dry run's bundle; a failure names the
class.

    python3 scripts/check-migrations.py wrangler.objects.toml OBJECTS_BUNDLE_JS wrangler.toml
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


def front_problems(front, objects_name, classes):
    """The front's bindings that do not reach a class of the objects' Worker."""
    problems = []
    for binding in front.get("durable_objects", {}).get("bindings", []):
        if binding.get("script_name") != objects_name:
            problems.append(f"{binding['name']} must name script_name = {objects_name!r}, whose "
                            "objects these are")
        elif binding["class_name"] not in classes:
            problems.append(f"{binding['name']} binds {binding['class_name']}, which "
                            f"{objects_name} does not have")
    return problems


def load(path):
    with open(path, "rb") as config_file:
        return tomllib.load(config_file)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    config_path, bundle_path, front_path = sys.argv[1:]
    config = load(config_path)
    with open(bundle_path, encoding="utf-8") as bundle_file:
        exported = exported_names(bundle_file.read())
    classes, problems = created_classes(config.get("migrations", []))
    bindings = config.get("durable_objects", {}).get("bindings", [])
    for binding in bindings:
        name = binding["class_name"]
        if name not in classes:
            problems.append(f"{binding['name']} binds {name}, which no migration creates: "
                            "add a [[migrations]] entry with new_sqlite_classes after the last")
        if name not in exported:
            problems.append(f"{binding['name']} binds {name}, which the bundle does not export")
    for problem in problems:
        print(f"{config_path}: {problem}", file=sys.stderr)
    bound = {binding["class_name"] for binding in bindings} & classes
    front = front_problems(load(front_path), config["name"], bound)
    for problem in front:
        print(f"{front_path}: {problem}", file=sys.stderr)
    if problems or front:
        sys.exit(1)
    print(f"{config_path}: {len(bindings)} Durable Object classes, each created by a migration "
          f"and exported; {front_path} binds each in {config['name']}")


if __name__ == "__main__":
    main()
