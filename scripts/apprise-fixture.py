#!/usr/bin/env python3
"""Build a JSON fixture of notification URLs from Apprise's own test tables.

Reads the `tests/test_plugin_<kind>.py` files of an extracted Apprise source
distribution WITHOUT importing them (``ast``), finds every module-level table
of ``(url, {"instance": ...})`` entries and prints one JSON object per entry:

    {"file": "bark", "url": "bark://...", "apprise": "accept"|"refuse",
     "instance": "NotifyBark"}

``instance`` is the class/exception named by the test (``"None"`` / ``"False"``
when the test says the URL is not recognised at all).  A plugin class
(``Notify*``) means Apprise accepts the URL; anything else means it refuses it.

With ``--parse`` (run with a Python that has ``apprise`` installed, e.g.
``/tmp/appenv/bin/python``) every accepted URL is additionally instantiated
with ``apprise.Apprise.instantiate(url)`` and the attributes that matter for
delivery are recorded under ``"parsed"`` (``null`` if Apprise returned None).

Usage:
    python3 scripts/apprise-fixture.py [--src DIR] [--parse] [--out FILE]

Only the standard library is needed without ``--parse``.
"""

import argparse
import ast
import enum
import json
import logging
import os
import re
import sys

DEFAULT_SRC = "/tmp/apprise/apprise-2.3.0"

# Test files to read; fixture "file" is the plugin kind (email_smtp -> email).
FILES = [
    "bark",
    "dingtalk",
    "email",
    "email_smtp",
    "feishu",
    "gotify",
    "ntfy",
    "pushplus",
    "serverchan",
    "wecombot",
    "wxpusher",
]
KIND_OF = {"email_smtp": "email"}


class Unevaluable(Exception):
    pass


# --------------------------------------------------------------------------
# Static evaluation of URL expressions
# --------------------------------------------------------------------------
class ModuleEnv:
    """Lazily resolves module-level constants of one test module."""

    def __init__(self, tree):
        self.tree = tree
        self.assigns = {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for tgt in node.targets:
                    if isinstance(tgt, ast.Name):
                        self.assigns[tgt.id] = node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                if isinstance(node.target, ast.Name):
                    self.assigns[node.target.id] = node.value
        self.cache = {}
        self.resolving = set()
        self._exec_ns = None

    def lookup(self, name):
        if name in self.cache:
            return self.cache[name]
        if name not in self.assigns or name in self.resolving:
            raise Unevaluable(name)
        self.resolving.add(name)
        try:
            value = evaluate(self.assigns[name], self)
        finally:
            self.resolving.discard(name)
        self.cache[name] = value
        return value

    def exec_namespace(self):
        """Fallback: exec the module-level imports/constant assignments only
        (never test functions), ignoring the ones that fail."""
        if self._exec_ns is not None:
            return self._exec_ns
        ns = {"__name__": "apprise_fixture_consts", "__file__": "test.py"}
        for node in self.tree.body:
            if not isinstance(
                node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)
            ):
                continue
            mod = ast.Module(body=[node], type_ignores=[])
            try:
                exec(compile(mod, "<apprise-test-consts>", "exec"), ns)
            except Exception:  # noqa: BLE001 - best effort only
                pass
        self._exec_ns = ns
        return ns


_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Mult: lambda a, b: a * b,
    ast.Mod: lambda a, b: a % b,
}


def evaluate(node, env):
    """Evaluate a small, side-effect free subset of Python expressions."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env.lookup(node.id)
    if isinstance(node, (ast.Tuple, ast.List)):
        vals = [evaluate(e, env) for e in node.elts]
        return tuple(vals) if isinstance(node, ast.Tuple) else vals
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](
            evaluate(node.left, env), evaluate(node.right, env)
        )
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(part.value)
            elif isinstance(part, ast.FormattedValue):
                val = evaluate(part.value, env)
                if part.conversion == ord("r"):
                    val = repr(val)
                elif part.conversion == ord("s"):
                    val = str(val)
                elif part.conversion == ord("a"):
                    val = ascii(val)
                spec = (
                    evaluate(part.format_spec, env) if part.format_spec else ""
                )
                out.append(format(val, spec))
            else:
                raise Unevaluable(ast.unparse(part))
        return "".join(out)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    ):
        base = evaluate(node.func.value, env)
        if not isinstance(base, str):
            raise Unevaluable(ast.unparse(node))
        args = [evaluate(a, env) for a in node.args]
        kwargs = {k.arg: evaluate(k.value, env) for k in node.keywords}
        return getattr(base, node.func.attr)(*args, **kwargs)
    raise Unevaluable(ast.unparse(node))


def evaluate_url(node, env):
    try:
        return evaluate(node, env)
    except Unevaluable:
        pass
    # Fallback: evaluate against the exec'ed module-level constants
    ns = env.exec_namespace()
    return eval(  # noqa: S307 - test constants only
        compile(ast.Expression(body=node), "<apprise-test-url>", "eval"), ns
    )


# --------------------------------------------------------------------------
# Table discovery
# --------------------------------------------------------------------------
def dict_get(node, key):
    for k, v in zip(node.keys, node.values):
        if isinstance(k, ast.Constant) and k.value == key:
            return v
    return None


def is_entry(node):
    return (
        isinstance(node, ast.Tuple)
        and len(node.elts) >= 2
        and isinstance(node.elts[1], ast.Dict)
        and dict_get(node.elts[1], "instance") is not None
    )


def find_tables(tree):
    """Every module-level tuple/list whose elements are (url, {instance})."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            value = node.value
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            value = node.value
            names = [getattr(node.target, "id", "?")]
        else:
            continue
        if isinstance(value, (ast.Tuple, ast.List)) and value.elts and any(
            is_entry(e) for e in value.elts
        ):
            yield (names[0] if names else "?"), value


def instance_name(node):
    if isinstance(node, ast.Constant):
        return repr(node.value) if not isinstance(node.value, str) else node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ast.unparse(node)


def verdict(instance):
    return "accept" if re.match(r"^Notify[A-Za-z0-9_]+$", instance) else "refuse"


def collect(src):
    entries = []
    problems = []
    seen = set()
    tables = []
    for name in FILES:
        path = os.path.join(src, "tests", f"test_plugin_{name}.py")
        if not os.path.exists(path):
            problems.append(f"{path}: missing")
            continue
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=path)
        env = ModuleEnv(tree)
        kind = KIND_OF.get(name, name)
        found = False
        for var, table in find_tables(tree):
            found = True
            tables.append(f"{os.path.basename(path)}:{var}")
            for elt in table.elts:
                if not is_entry(elt):
                    problems.append(
                        f"{name}:{elt.lineno}: not a (url, dict) entry"
                    )
                    continue
                try:
                    url = evaluate_url(elt.elts[0], env)
                except Exception as exc:  # noqa: BLE001
                    problems.append(
                        f"{name}:{elt.lineno}: cannot evaluate "
                        f"{ast.unparse(elt.elts[0])!r} ({exc})"
                    )
                    continue
                if not isinstance(url, str):
                    problems.append(
                        f"{name}:{elt.lineno}: url is not a str: {url!r}"
                    )
                    continue
                inst = instance_name(dict_get(elt.elts[1], "instance"))
                key = (kind, url)
                if key in seen:
                    continue
                seen.add(key)
                entries.append(
                    {
                        "file": kind,
                        "url": url,
                        "apprise": verdict(inst),
                        "instance": inst,
                    }
                )
        if not found:
            tables.append(f"{os.path.basename(path)}:(no URL table)")
    return entries, problems, tables


# --------------------------------------------------------------------------
# Optional: what Apprise actually parses out of each accepted URL
# --------------------------------------------------------------------------
HOST_COMMON = ["secure", "host", "port", "user"]

# notify_format: the plugin's declared format(s); format_override: an
# explicit ?format= on a multi-format plugin (else applied to notify_format)
FORMAT_ATTRS = ["notify_format", ("format_override", "_format_override")]

ATTRS = {
    "NotifyBark": HOST_COMMON
    + [
        "password",
        "targets",
        "sound",
        "level",
        "volume",
        "group",
        "click",
        "badge",
        "category",
        "call",
        "icon",
        "include_image",
        "subtitle",
        "copy",
        "action",
        "archive",
        "ttl",
        "notification_id",
        "delete",
        "encryption_key",
        "notify_url",
    ],
    "NotifyNtfy": HOST_COMMON
    + [
        "password",
        "topics",
        ("tags", "_NotifyNtfy__tags"),
        ("actions", "_NotifyNtfy__actions"),
        "priority",
        "click",
        "attach",
        "filename",
        "mode",
        "auth",
        "token",
        "email",
        "delay",
        "avatar_url",
        "include_image",
    ],
    "NotifyGotify": HOST_COMMON
    + ["token", "priority", "fullpath", ("scheme", "schema")],
    "NotifyEmail": HOST_COMMON
    + [
        "smtp_host",
        "secure_mode",
        "from_addr",
        "targets",
        "cc",
        "bcc",
        "reply_to",
        "headers",
        "pgp_mode",
        "use_wkd",
        "inline",
    ],
    "NotifyDingTalk": ["token", "secret", "targets"],
    "NotifyFeishu": ["token"],
    "NotifyLark": ["token", "webhook_url"],
    "NotifyWeComBot": ["key", "api_url"],
    "NotifyPushplus": [
        "token",
        "channel",
        "topics",
        "friends",
        "invalid_targets",
        "option",
        "webhook",
        "template",
        "callback_url",
    ],
    "NotifyServerChan": ["token"],
    "NotifyWxPusher": [
        "token",
        ("topics", "_topics"),
        ("users", "_users"),
        ("invalid_targets", "_invalid_targets"),
    ],
}

_MISSING = object()


def normalise(value):
    if isinstance(value, enum.Enum):
        return normalise(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [normalise(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return str(value)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=1)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append(record.getMessage())
        except Exception:  # noqa: BLE001
            pass


def parse_with_apprise(entries):
    import apprise  # only needed for --parse

    log = logging.getLogger("apprise")
    cap = _Capture()
    log.addHandler(cap)
    log.setLevel(1)
    log.propagate = False

    mismatches = []
    for entry in entries:
        cap.messages.clear()
        try:
            obj = apprise.Apprise.instantiate(entry["url"])
        except Exception as exc:  # noqa: BLE001
            obj = None
            err = f"{type(exc).__name__}: {exc}"
        else:
            err = None

        if entry["apprise"] != "accept":
            if obj is not None:
                mismatches.append(
                    f"refuse-in-table but instantiated: {entry['file']} "
                    f"{entry['url']} -> {type(obj).__name__}"
                )
            continue

        if obj is None:
            entry["parsed"] = None
            mismatches.append(
                f"accept-in-table but instantiate() gave None: "
                f"{entry['file']} {entry['url']}"
                + (f" ({err})" if err else "")
            )
            continue

        cls = type(obj).__name__
        parsed = {"plugin": cls}
        for spec in ATTRS.get(cls, HOST_COMMON) + FORMAT_ATTRS:
            key, attr = spec if isinstance(spec, tuple) else (spec, spec)
            value = getattr(obj, attr, _MISSING)
            if value is _MISSING:
                continue
            parsed[key] = normalise(value)
        if cls == "NotifyEmail":
            provider = None
            for msg in cap.messages:
                m = re.match(r"^Applying (.+) Defaults$", msg)
                if m:
                    provider = m.group(1)
            parsed["provider"] = provider
            parsed["smtp_explicit"] = "smtp=" in entry["url"]
        entry["parsed"] = parsed

    log.removeHandler(cap)
    return mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=DEFAULT_SRC, help="apprise sdist dir")
    ap.add_argument(
        "--parse",
        action="store_true",
        help="also instantiate accepted URLs with the installed apprise",
    )
    ap.add_argument("--out", help="write JSON here instead of stdout")
    args = ap.parse_args()

    entries, problems, tables = collect(args.src)
    mismatches = parse_with_apprise(entries) if args.parse else []

    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(entries, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    else:
        json.dump(entries, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")

    # Summary on stderr
    counts = {}
    for e in entries:
        c = counts.setdefault(e["file"], [0, 0])
        c[0 if e["apprise"] == "accept" else 1] += 1
    print("tables: " + ", ".join(tables), file=sys.stderr)
    for kind, (acc, ref) in counts.items():
        print(f"{kind:12s} accept={acc:3d} refuse={ref:3d}", file=sys.stderr)
    for p in problems:
        print("PROBLEM: " + p, file=sys.stderr)
    for m in mismatches:
        print("MISMATCH: " + m, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
