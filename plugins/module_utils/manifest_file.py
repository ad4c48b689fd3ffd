# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A manifest file of directory mode: the objects as YAML documents, written only when it differs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

MODE = re.compile(r"^0?[0-7]{3}$")


def _represent_str(dumper, value):
    # A multi-line string (a ConfigMap's file) as a literal block, so the file reads as the pod will see it.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


if HAS_YAML:
    class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # pylint: disable=too-many-ancestors
        pass

    _Dumper.add_representer(str, _represent_str)


class ManifestFileError(Exception):
    """The file cannot be written as asked."""


def manifest_text(objects, header=""):
    """`header` as comment lines, then each object as a YAML document, its keys sorted."""
    lines = ["# %s\n" % line if line else "#\n" for line in header.splitlines()]
    for obj in objects:
        lines.append("---\n")
        lines.append(yaml.dump(obj, Dumper=_Dumper, indent=2, width=1000, default_flow_style=False, allow_unicode=True))
    return "".join(lines)


def parse_mode(mode):
    if not MODE.match(mode or ""):
        raise ManifestFileError("mode=%r is not valid: use three octal digits, such as 0644" % (mode,))
    return int(mode, 8)


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None, None


def write_manifest_file(path, text, mode, check_mode=False):
    """Write `text` to `path` (its directory made 0755 when missing) unless it is there already with
    `mode`. Returns (changed, the text before or None)."""
    try:
        before, before_mode = _read(path)
        if before == text and before_mode == mode:
            return False, before
        if check_mode:
            return True, before
        os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
        if before != text:
            _replace(path, text)
        os.chmod(path, mode)
    except OSError as error:
        raise ManifestFileError("cannot write %s: %s" % (path, error))
    return True, before


def _replace(path, text):
    # A reader (kubectl apply -f <dir>) sees the old file or the new one, never half of one.
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
