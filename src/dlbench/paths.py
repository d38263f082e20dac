"""Where dlbench writes (the store, an export's file or folder), checked before anything is made: a path the file
system cannot hold, a read-only file system or a folder where a file belongs is refused in one line, and a refused
path leaves no folders behind."""
from __future__ import annotations

import os
from pathlib import Path


class PathError(Exception):
    """A path dlbench cannot write to: one line that says what to do."""


def make_parents(path, flag):
    """Create the missing folders above the file `path` (all of them or none), and check that a new file can be made
    there; `flag` is the option that named it. Returns `path`."""
    folder = make_folder(Path(path).absolute().parent, flag)
    if not os.path.exists(path) and not os.access(folder, os.W_OK):  # a read-only file system, or not ours
        raise PathError(f"cannot create files in {folder} (read-only or not yours): choose another {flag}")
    return path


def make_folder(folder, flag):
    """Create `folder` and its missing parents, all or none."""
    folder = Path(folder).absolute()
    missing = []
    existing = folder
    while not os.path.exists(existing):  # False, not an error, for a path too long to stat
        missing.append(existing)
        existing = existing.parent
    if not existing.is_dir():
        raise PathError(f"{existing} is a file, not a folder: choose another {flag}")
    longest, name_max = os.pathconf(existing, "PC_PATH_MAX"), os.pathconf(existing, "PC_NAME_MAX")
    if len(str(folder)) >= longest or any(len(f.name) > name_max for f in missing):
        raise PathError(f"{flag} is too long for this file system (paths up to {longest - 1} characters, names up to "
                        f"{name_max}): choose a shorter path")
    made = []
    try:
        for f in reversed(missing):
            f.mkdir()
            made.append(f)
    except OSError as exc:
        for f in reversed(made):
            f.rmdir()
        raise PathError(f"cannot create the folder {f} ({exc.strerror or exc}): choose another {flag}") from None
    return folder

