#!/usr/bin/env python3
"""Writes the configs of one `wrangler dev` instance of the test run or the bench, named NAME,
from the front's config BASE (wrangler.toml, or a test variant's JSONC): the front, named NAME,
and, if it binds the objects' Worker (wrangler.objects.toml: its classes, by its name or by
none), that Worker too, named NAME-objects, with those bindings pointed at it. Every instance
needs its own names: wrangler's dev registry, through which location B reaches location A's
objects, finds Workers by name, machine-wide. A binding that names another instance's objects
(location B's) is left as it is, and then no objects' Worker is started for that instance.

The front has no [build]: the test command and the bench build once before starting any
instance, since an instance that built would rewrite the bundles under the running ones. An
empty NAME keeps BASE's name. Prints the configs to pass to `wrangler dev -c`, the front's first; the files are JSON in
OUT_DIR, their paths made absolute (a config's paths are relative to its own directory).

    python3 scripts/dev-config.py BASE NAME OUT_DIR
"""
import json
import os
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBJECTS_CONFIG = os.path.join(ROOT, "wrangler.objects.toml")


def load(path):
    """A TOML config, or a JSONC one whose comments are whole lines (as ours are)."""
    with open(path, "rb") as file:
        if path.endswith(".toml"):
            return tomllib.load(file)
        lines = file.read().decode("utf-8").splitlines()
    return json.loads("\n".join(line for line in lines if not line.lstrip().startswith("//")))


def absolute(config, base_dir):
    """The config with its paths resolved against base_dir, the directory it was read from."""
    resolve = lambda path: os.path.normpath(os.path.join(base_dir, path))
    config["main"] = resolve(config["main"])
    if "assets" in config:
        config["assets"]["directory"] = resolve(config["assets"]["directory"])
    return config


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base_path, name, out_dir = sys.argv[1:]
    front = absolute(load(base_path), os.path.dirname(os.path.abspath(base_path)))
    front.pop("build", None)
    objects = absolute(load(OBJECTS_CONFIG), ROOT)
    object_classes = {b["class_name"] for b in objects["durable_objects"]["bindings"]}
    name = name or front["name"]
    objects_name = f"{name}-objects"
    front["name"] = name
    own_objects = False
    for binding in front.get("durable_objects", {}).get("bindings", []):
        script = binding.get("script_name", objects["name"])
        if binding["class_name"] in object_classes and script == objects["name"]:
            binding["script_name"] = objects_name
            own_objects = True
    os.makedirs(out_dir, exist_ok=True)
    configs = [("front.json", front)]
    if own_objects:
        objects["name"] = objects_name
        configs.append(("objects.json", objects))
    for file_name, config in configs:
        path = os.path.join(out_dir, file_name)
        with open(path, "w", encoding="utf-8") as file:
            json.dump(config, file, indent=1)
        print(path)


if __name__ == "__main__":
    main()
