"""Finding an input's files: its globs resolved to real paths, each once, sorted.

The common forms, `<folder>/<name>` and `<folder>/**/<name>` (no wildcard but in the name),
are listed with one scandir per folder, whose entries already tell a file from a folder: no
file is stat'ed (a tree of 100k+ status files is listed in a fraction of glob's time). Other
globs go through glob.glob, and their hits are told apart by the readers (`Hits.unchecked`).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

_MAGIC = re.compile(r"[*?[]")


@dataclass
class Hits:
    """What an input's globs found: real paths, sorted, each once; the globs that matched
    nothing; and the paths not yet known to be regular files, each with its glob (a folder
    or a vanished file among them leaves that glob unmatched if it found nothing else)."""

    paths: list[str]
    unmatched: list[str]
    unchecked: dict[str, str] = field(default_factory=dict)


class _Listed(NamedTuple):
    """The regular files a listed glob found (real paths), and whether a link was among
    them or their folders (without one, no file is found twice)."""

    files: list[str]
    linked: bool


def _listed_glob(pattern: str) -> _Listed | None:
    """The regular files glob.glob(pattern, recursive=True) finds, as real paths, for the
    forms `<folder>/<name>` and `<folder>/**/<name>` (a wildcard in the name only, not `**`).
    None for any other form (and for a name without wildcards: one path, glob's own)."""
    if "/**/" in pattern:
        folder, _, name = pattern.partition("/**/")
        recursive = True
    else:
        folder, _, name = pattern.rpartition("/")
        recursive = False
    if not name or "/" in name or "**" in name or _MAGIC.search(folder):
        return None
    if not recursive and not _MAGIC.search(name):
        return None
    return _scan(folder or "/", _name_test(name), name, recursive)


def _name_test(name: str) -> Callable[[str], object]:
    """fnmatch's test of a name against the pattern `name`: for the usual `<start>*<end>`,
    two string comparisons instead of a regular expression."""
    start, star, end = name.partition("*")
    if star and not _MAGIC.search(start + end):
        least = len(start) + len(end)
        return lambda entry: entry.startswith(start) and entry.endswith(end) and len(entry) >= least
    return re.compile(fnmatch.translate(name)).match


def _scan(folder: str, match: Callable[[str], object], name: str, recursive: bool) -> _Listed:
    """The regular files under `folder` (in it only, unless `recursive`) whose name matches,
    as real paths; a link is followed to its target, a hidden name skipped as glob skips it."""
    hidden_ok = name.startswith(".")
    found: list[str] = []
    linked = False
    stack = [(folder, os.path.realpath(folder))]
    while stack:
        listed, real = stack.pop()
        try:
            with os.scandir(listed) as listing:
                entries = list(listing)
        except OSError:
            continue  # as glob: a folder it cannot list has no matches
        prefix = real.rstrip("/") + "/"
        for entry in entries:
            entry_name = entry.name
            hidden = entry_name.startswith(".")
            if hidden and not hidden_ok:
                continue
            if match(entry_name):
                if entry.is_file(follow_symlinks=False):  # a regular file, the usual hit
                    found.append(prefix + entry_name)
                    continue
                if entry.is_symlink():
                    linked = True
                    target = os.path.realpath(entry.path)
                    if os.path.isfile(target):
                        found.append(target)
            if recursive and not hidden and entry.is_dir():  # glob walks into linked folders
                link = entry.is_symlink()
                linked = linked or link
                stack.append(
                    (entry.path, os.path.realpath(entry.path) if link else prefix + entry_name)
                )
    return _Listed(found, linked)


def _in_real_folder(hit: str, real_dirs: dict[str, str]) -> str:
    """A glob hit with its folder's symbolic links resolved (each folder looked up once:
    Path.resolve walks every component of every path, ten times slower on 100k+ files)."""
    head, _, tail = os.path.abspath(hit).rpartition("/")
    real_head = real_dirs.get(head)
    if real_head is None:
        real_head = real_dirs[head] = os.path.realpath(head or "/").rstrip("/")
    return f"{real_head}/{tail}"


def resolve_hits(fmt: str, patterns: tuple[str, ...], glob_of: Callable[[str], str]) -> Hits:
    """The files (folders for format `dir`) an input's globs match (InputSpec.resolve_hits):
    `glob_of` makes a pattern of the config absolute."""
    if fmt == "dir":
        return Hits(*resolve_checked(fmt, patterns, glob_of))
    listed: list[_Listed] = []
    unchecked: dict[str, str] = {}
    unmatched: list[str] = []
    real_dirs: dict[str, str] = {}
    for pattern in patterns:
        full = os.path.abspath(glob_of(pattern))  # glob's hits are then absolute, normal
        files = _listed_glob(full)
        if files is not None:
            if not files.files:
                unmatched.append(pattern)
            listed.append(files)
            continue
        matched = glob.glob(full, recursive=True)
        if not matched:
            unmatched.append(pattern)
        for hit in matched:
            unchecked.setdefault(_in_real_folder(hit, real_dirs), pattern)
    if len(listed) == 1 and not listed[0].linked and not unchecked:
        return Hits(sorted(listed[0].files), unmatched)  # each file once: no set needed
    paths = {path for found in listed for path in found.files}
    if unchecked:
        unchecked = {path: glob_ for path, glob_ in unchecked.items() if path not in paths}
        paths.update(unchecked)
    return Hits(sorted(paths), unmatched, unchecked)


def resolve_checked(
    fmt: str, patterns: tuple[str, ...], glob_of: Callable[[str], str]
) -> tuple[list[str], list[str]]:
    """The real paths of the regular files (folders for `dir`) the globs match, sorted,
    each told apart by one lstat (a link: stat of its target), and the globs matching none.
    A folder inside another matched folder is left to the outer one's walk."""
    found: set[str] = set()
    unmatched: list[str] = []
    real_dirs: dict[str, str] = {}
    want = stat.S_ISDIR if fmt == "dir" else stat.S_ISREG
    for pattern in patterns:
        matched = False
        for hit in glob.glob(glob_of(pattern), recursive=True):
            path = _in_real_folder(hit, real_dirs)
            try:
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode):
                    path = os.path.realpath(path)
                    mode = os.stat(path).st_mode
            except OSError:
                continue  # vanished, or a dangling link
            if want(mode):
                found.add(path)
                matched = True
        if not matched:
            unmatched.append(pattern)
    if fmt == "dir":
        found = {
            p for p in found if not any(p.startswith(q.rstrip("/") + "/") for q in found if q != p)
        }
    return sorted(found), unmatched
