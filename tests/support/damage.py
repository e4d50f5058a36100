"""A seeded mutation harness: real WFDB trees with random damage of many kinds.

:func:`damaged_tree` copies one real group (the PhysioNet records arranged as
groups, or a group of the bundled sample) and applies one to four damage kinds
chosen by the seed, so every seed gives the same tree on every machine. The
kinds are what turns up in multi-terabyte copies of MIMIC-III: truncated, empty,
missing or folder-shaped data files; garbage, NUL-filled, huge, CRLF and BOM
headers; zero, negative, absent and absurd numeric fields; unknown formats;
absolute and ``../`` file names; masters listing absent or foreign segments;
symbolic link loops and links out of the group; stray files.

Two sentinel files sit outside the group folder (one in the raw root beside the
group, one beside the raw root) for the ``../`` and absolute-path kinds to aim
at; :class:`OpenAudit` records every file the code under test opens, so a test
can prove that neither was ever opened.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from tests.support.paths import PHYSIONET, PHYSIONET_LAYOUT, SAMPLE_RAW

#: Sources of a damaged tree: a name and the group folders' records to copy.
_PHYSIONET_GROUPS = sorted({target.split("/")[0] for target in PHYSIONET_LAYOUT})
SOURCES = [f"physionet/{g}" for g in _PHYSIONET_GROUPS] + [
    f"sample/{p.name}" for p in sorted(SAMPLE_RAW.iterdir()) if p.is_dir()
]


def _link(source: str, dest: str) -> None:
    """A hard link where the file system allows one (fast), else a copy.

    Safe because every damage kind replaces a file (unlink, then write) and
    never writes into one: the project's own copy is never touched.
    """
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def copy_source(source: str, group_dir: Path) -> None:
    """Copy one source group into ``group_dir`` (``<group>/<record>/<files>``)."""
    kind, group = source.split("/")
    if kind == "sample":
        shutil.copytree(SAMPLE_RAW / group, group_dir, copy_function=_link)
        return
    for target, origin in PHYSIONET_LAYOUT.items():
        if target.split("/")[0] != group:
            continue
        dest = group_dir / target.split("/", 1)[1]
        if isinstance(origin, list):
            dest.mkdir(parents=True)
            for name in origin:
                _link(str(PHYSIONET / name), str(dest / name))
        else:
            shutil.copytree(PHYSIONET / origin, dest, copy_function=_link)


# --------------------------------------------------------------- header editing
def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("ascii", errors="replace").splitlines()


def _content_index(lines: list[str]) -> list[int]:
    """Positions of the lines that are neither comments nor blank."""
    return [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]


def _write(path: Path, lines: list[str]) -> None:
    _replace(path, ("\n".join(lines) + "\n").encode("ascii", errors="replace"))


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path`` (whatever was there: file, link, folder)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.write_bytes(data)


def _edit_record_line(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    lines = _lines(path)
    first = _content_index(lines)[0]
    lines[first] = " ".join(edit(lines[first].split()))
    _write(path, lines)


def _edit_signal_line(path: Path, rng: random.Random, edit: Callable[[list[str]], None]) -> None:
    lines = _lines(path)
    index = _content_index(lines)[1:]
    target = rng.choice(index)
    tokens = lines[target].split(maxsplit=8)
    edit(tokens)
    lines[target] = " ".join(tokens)
    _write(path, lines)


def _gain_parts(token: str) -> tuple[str, str, str]:
    """``"1.25(-100)/mmHg"`` → ``("1.25", "(-100)", "/mmHg")``."""
    match = re.match(r"([^(/]*)(\([^)]*\))?(/.*)?$", token)
    assert match is not None, token
    return match.group(1), match.group(2) or "", match.group(3) or ""


# ----------------------------------------------------------------- the tree
@dataclass
class Group:
    """One group folder being damaged, and what is in it."""

    root: Path
    rng: random.Random
    outside: list[Path]

    def files(self, suffix: str) -> list[Path]:
        return sorted(
            p
            for p in self.root.rglob(f"*{suffix}")
            if p.is_file() and not p.is_symlink() and p.name.endswith(suffix)
        )

    def segment_headers(self) -> list[Path]:
        """Headers with signal lines that name data files (not masters, not layouts)."""
        found = []
        for path in self.files(".hea"):
            lines = _lines(path)
            index = _content_index(lines)
            if not index or "/" in lines[index[0]].split()[0]:
                continue
            names = [lines[i].split()[0] for i in index[1:] if lines[i].split()]
            if names and any(name != "~" for name in names):
                found.append(path)
        return found

    def masters(self) -> list[Path]:
        return [
            p
            for p in self.files(".hea")
            if (index := _content_index(lines := _lines(p))) and "/" in lines[index[0]].split()[0]
        ]

    def referenced_dat(self) -> list[Path]:
        found = set()
        for header in self.segment_headers():
            lines = _lines(header)
            for i in _content_index(lines)[1:]:
                name = lines[i].split()[0]
                if _plain(name) and _is_file(header.parent / name):
                    found.add(header.parent / name)
        return sorted(found)

    def pick(self, items: list[Path]) -> Path | None:
        return self.rng.choice(items) if items else None


Damage = Callable[[Group], str | None]
KINDS: dict[str, Damage] = {}


def damage(name: str) -> Callable[[Damage], Damage]:
    def register(fn: Damage) -> Damage:
        KINDS[name] = fn
        return fn

    return register


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, say
        return False


def _plain(name: str) -> bool:
    """A data file name that could be one (damage can make it a megabyte of junk)."""
    return name != "~" and len(name) < 200 and "/" not in name and name not in (".", "..")


def _rel(group: Group, path: Path) -> str:
    return path.relative_to(group.root).as_posix()


@damage("dat_truncated")
def _dat_truncated(g: Group) -> str | None:
    dat = g.pick([p for p in g.referenced_dat() if p.stat().st_size > 1])
    if dat is None:
        return None
    data = dat.read_bytes()
    _replace(dat, data[: g.rng.randrange(1, len(data))])
    return _rel(g, dat)


@damage("dat_empty")
def _dat_empty(g: Group) -> str | None:
    dat = g.pick(g.referenced_dat())
    if dat is None:
        return None
    _replace(dat, b"")
    return _rel(g, dat)


@damage("dat_missing")
def _dat_missing(g: Group) -> str | None:
    dat = g.pick(g.referenced_dat())
    if dat is None:
        return None
    dat.unlink()
    return _rel(g, dat)


@damage("dat_is_a_folder")
def _dat_is_a_folder(g: Group) -> str | None:
    dat = g.pick(g.referenced_dat())
    if dat is None:
        return None
    dat.unlink()
    dat.mkdir()
    if g.rng.random() < 0.5:
        (dat / "inside.dat").write_bytes(b"\x01" * 64)
    return _rel(g, dat)


@damage("dat_longer")
def _dat_longer(g: Group) -> str | None:
    dat = g.pick(g.referenced_dat())
    if dat is None:
        return None
    _replace(dat, dat.read_bytes() + g.rng.randbytes(g.rng.randrange(1, 4096)))
    return _rel(g, dat)


@damage("header_garbage")
def _header_garbage(g: Group) -> str | None:
    header = g.pick(g.files(".hea"))
    if header is None:
        return None
    _replace(header, g.rng.randbytes(g.rng.randrange(1, 4096)))
    return _rel(g, header)


@damage("header_nul")
def _header_nul(g: Group) -> str | None:
    header = g.pick(g.files(".hea"))
    if header is None:
        return None
    if g.rng.random() < 0.5:
        _replace(header, b"\x00" * g.rng.randrange(1, 4096))
    else:  # NULs where the record line's numbers were
        data = bytearray(header.read_bytes())
        for i in range(min(len(data), g.rng.randrange(4, 40))):
            data[i] = 0
        _replace(header, bytes(data))
    return _rel(g, header)


@damage("header_huge")
def _header_huge(g: Group) -> str | None:
    header = g.pick(g.files(".hea"))
    if header is None:
        return None
    size = g.rng.randrange(1 << 20, 3 << 19)
    choice = g.rng.randrange(3)
    if choice == 0:  # a megabyte of garbage (its message must stay short)
        _replace(header, g.rng.randbytes(size))
    elif choice == 1:  # a valid header followed by a megabyte of comments
        comment = b"# " + b"x" * 200 + b"\n"
        _replace(header, header.read_bytes() + comment * (size // len(comment)))
    else:  # a valid header followed by one huge line of junk
        _replace(header, header.read_bytes() + b"j" * size + b"\n")
    return _rel(g, header)


@damage("header_crlf")
def _header_crlf(g: Group) -> str | None:
    header = g.pick(g.files(".hea"))
    if header is None:
        return None
    _replace(header, header.read_bytes().replace(b"\n", b"\r\n"))
    return _rel(g, header)


@damage("header_bom")
def _header_bom(g: Group) -> str | None:
    header = g.pick(g.files(".hea"))
    if header is None:
        return None
    _replace(header, b"\xef\xbb\xbf" + header.read_bytes())
    return _rel(g, header)


@damage("header_truncated")
def _header_truncated(g: Group) -> str | None:
    header = g.pick(g.files(".hea"))
    if header is None:
        return None
    data = header.read_bytes()
    _replace(header, data[: g.rng.randrange(0, len(data))])
    return _rel(g, header)


_ABSURD = ["9" * 400, "1e400", "99999999999999999999", "1e-9", "0.0000000001"]


@damage("fs_field")
def _fs_field(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None
    value = g.rng.choice(["0", "-125", None, *_ABSURD])

    def edit(tokens: list[str]) -> list[str]:
        if value is None:  # absent: WFDB fields are positional, so the rest goes too
            return tokens[:2]
        return [*tokens[:2], value, *tokens[3:]]

    _edit_record_line(header, edit)
    return f"{_rel(g, header)} fs={value}"


@damage("sig_len_field")
def _sig_len_field(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None

    def edit(tokens: list[str]) -> list[str]:
        if len(tokens) < 4:
            return tokens
        length = int(tokens[3]) if tokens[3].isdigit() else 0
        value = g.rng.choice(
            ["0", "-5", f"-{length}", None, "9" * 30, str(length + 1), str(max(length - 3, 0))]
        )
        if value is None:
            return tokens[:3]
        return [*tokens[:3], value, *tokens[4:]]

    _edit_record_line(header, edit)
    return _rel(g, header)


@damage("n_sig_field")
def _n_sig_field(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None

    def edit(tokens: list[str]) -> list[str]:
        n = int(tokens[1]) if tokens[1].isdigit() else 1
        return [tokens[0], g.rng.choice(["0", str(n - 1), str(n + 1), "9" * 12]), *tokens[2:]]

    _edit_record_line(header, edit)
    return _rel(g, header)


@damage("gain_field")
def _gain_field(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None
    value = g.rng.choice(["0", "-1.5", "", "1e400", "1e-400", "e", "-0"])

    def edit(tokens: list[str]) -> None:
        if len(tokens) > 2:
            _, baseline, units = _gain_parts(tokens[2])
            tokens[2] = value + baseline + (units or "/mV")

    _edit_signal_line(header, g.rng, edit)
    return f"{_rel(g, header)} gain={value!r}"


@damage("baseline_field")
def _baseline_field(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None
    value = g.rng.choice(["(-50)", "", "(99999999999999999999)", "(" + "9" * 400 + ")", "(0)"])

    def edit(tokens: list[str]) -> None:
        if len(tokens) > 2:
            gain, _, units = _gain_parts(tokens[2])
            tokens[2] = (gain or "1") + value + (units or "/mV")

    _edit_signal_line(header, g.rng, edit)
    return f"{_rel(g, header)} baseline={value!r}"


@damage("format_field")
def _format_field(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None
    value = g.rng.choice(["999", "0", "16", "80", "212", "310", "8", "61", "24", "160"])
    lines = _lines(header)
    for i in _content_index(lines)[1:]:  # every signal of the file, as a re-encoding would
        tokens = lines[i].split(maxsplit=2)
        if len(tokens) > 1:
            tokens[1] = re.sub(r"^\d+", value, tokens[1])
            lines[i] = " ".join(tokens)
    _write(header, lines)
    return f"{_rel(g, header)} fmt={value}"


@damage("frame_field")
def _frame_field(g: Group) -> str | None:
    """Samples per frame (0 or 2) or a byte offset on one signal."""
    header = g.pick(g.segment_headers())
    if header is None:
        return None
    value = g.rng.choice(["x0", "x2", f"+{g.rng.randrange(1, 5000)}"])

    def edit(tokens: list[str]) -> None:
        if len(tokens) > 1:
            tokens[1] = re.sub(r"^(\d+)", lambda m: m.group(1) + value, tokens[1])

    _edit_signal_line(header, g.rng, edit)
    return f"{_rel(g, header)} {value}"


@damage("unsafe_file_name")
def _unsafe_file_name(g: Group) -> str | None:
    header = g.pick(g.segment_headers())
    if header is None:
        return None
    depth = len(header.relative_to(g.root).parts)
    outside = g.rng.choice(g.outside)
    name = g.rng.choice(
        [
            str(outside),  # an absolute path
            "../" * depth + "secret.dat",  # up into the raw root
            "../" * (depth + 1) + "outside/secret.dat",  # out of the raw root
            "..\\" * depth + "secret.dat",
            "..",
        ]
    )

    def edit(tokens: list[str]) -> None:
        tokens[0] = name

    _edit_signal_line(header, g.rng, edit)
    return f"{_rel(g, header)} file={name}"


@damage("master_absent_segment")
def _master_absent_segment(g: Group) -> str | None:
    master = g.pick(g.masters())
    if master is None:
        return None
    lines = _lines(master)
    index = _content_index(lines)
    lines.insert(index[-1] + 1, f"ghost_{g.rng.randrange(10**6):06d} {g.rng.randrange(1, 9999)}")

    def bump(tokens: list[str]) -> list[str]:
        name, _, n_seg = tokens[0].partition("/")
        return [f"{name}/{int(n_seg or 0) + 1}", *tokens[1:]]

    first = index[0]
    lines[first] = " ".join(bump(lines[first].split()))
    _write(master, lines)
    return _rel(g, master)


@damage("master_foreign_segment")
def _master_foreign_segment(g: Group) -> str | None:
    """A master lists a segment of another record (listed twice, or in another folder)."""
    master = g.pick(g.masters())
    if master is None:
        return None
    listed = master.read_text(errors="ignore")
    foreign = g.pick([h for h in g.segment_headers() if h.stem not in listed])
    if foreign is None:
        return None
    lines = _lines(master)
    index = _content_index(lines)
    lines.insert(index[-1] + 1, f"{foreign.stem} 10")
    name, _, n_seg = lines[index[0]].split()[0].partition("/")
    tokens = lines[index[0]].split()
    lines[index[0]] = " ".join([f"{name}/{int(n_seg or 0) + 1}", *tokens[1:]])
    _write(master, lines)
    return f"{_rel(g, master)} lists {_rel(g, foreign)}"


@damage("symlink_loop")
def _symlink_loop(g: Group) -> str | None:
    choice = g.rng.randrange(3)
    if choice == 0:
        target = g.pick(g.referenced_dat())
    elif choice == 1:
        target = g.pick(g.files(".hea"))
    else:  # a folder that contains itself
        folder = g.pick([p for p in g.root.iterdir() if p.is_dir()])
        if folder is None:
            return None
        (folder / "loop").symlink_to(".", target_is_directory=True)
        return _rel(g, folder / "loop")
    if target is None:
        return None
    target.unlink()
    if g.rng.random() < 0.5:
        target.symlink_to(target.name)  # itself
    else:  # two links pointing at each other
        other = target.with_name(target.name + ".other")
        other.symlink_to(target.name)
        target.symlink_to(other.name)
    return _rel(g, target)


@damage("symlink_out_of_group")
def _symlink_out_of_group(g: Group) -> str | None:
    target = g.pick(g.referenced_dat() + g.segment_headers())
    if target is None:
        return None
    target.unlink()
    target.symlink_to(g.rng.choice(g.outside))
    return _rel(g, target)


@damage("stray_files")
def _stray_files(g: Group) -> str | None:
    folder = g.pick([g.root, *[p for p in g.root.iterdir() if p.is_dir()]])
    assert folder is not None
    _replace(folder / "RECORDS", b"a/\nb/\n")
    _replace(folder / ".DS_Store", g.rng.randbytes(64))
    _replace(folder / "notes.txt", b"copied from the cluster\n")
    _replace(folder / "stray_0001.dat", g.rng.randbytes(256))
    _replace(folder / "backup.hea.bak", b"3000001 2 125 10\n")
    if hasattr(os, "mkfifo") and not (folder / "pipe.dat").exists():
        os.mkfifo(folder / "pipe.dat")  # reading a FIFO would block forever
    return _rel(g, folder) or "."


@dataclass
class DamagedTree:
    """A raw root with one damaged group folder, and what was done to it."""

    seed: int
    root: Path
    group: str
    source: str
    outside: list[Path]
    applied: list[tuple[str, str]] = field(default_factory=list)

    @property
    def group_dir(self) -> Path:
        return self.root / self.group


def damaged_tree(seed: int, workdir: Path, kinds: int | None = None) -> DamagedTree:
    """A fresh damaged tree for ``seed`` under ``workdir`` (which must not exist).

    The seed decides the source group, the first damage kind (round robin over
    :data:`KINDS`, so consecutive seeds cover every kind) and one to three more.
    """
    rng = random.Random(seed)
    source = SOURCES[rng.randrange(len(SOURCES))]
    group = source.split("/")[1]
    root = workdir / "raw"
    copy_source(source, root / group)
    outside = [root / "secret.dat", workdir / "outside" / "secret.dat"]
    for sentinel in outside:
        sentinel.parent.mkdir(parents=True, exist_ok=True)
        sentinel.write_bytes(b"\x7f" * 4096)  # would read as valid format-80 samples
    tree = DamagedTree(seed, root, group, source, outside)
    names = sorted(KINDS)
    chosen = [names[seed % len(names)]]
    chosen += rng.sample(names, kinds if kinds is not None else rng.randrange(0, 4))
    target = Group(root / group, rng, outside)
    for name in chosen:
        where = KINDS[name](target)
        if where is not None:
            tree.applied.append((name, where[:120]))
    return tree


# ----------------------------------------------------------- auditing opens
class OpenAudit:
    """Every path opened (or listed) in this process while :meth:`recording`.

    Python's audit hooks see ``open`` (built-in ``open``, ``os.open``, numpy and
    fsspec reads) and folder listings; a hook cannot be removed, so one hook is
    installed per process and records only while a recording is active.
    """

    _installed: ClassVar[bool] = False
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _active: ClassVar[list[list[str]]] = []
    _EVENTS: ClassVar[frozenset[str]] = frozenset({"open", "os.listdir", "os.scandir"})

    @classmethod
    def _hook(cls, event: str, args: tuple) -> None:
        if event in cls._EVENTS and cls._active and args:
            path = args[0]
            if isinstance(path, (str, bytes, os.PathLike)):
                cls._active[-1].append(os.fsdecode(path))

    @classmethod
    @contextmanager
    def recording(cls) -> Iterator[list[str]]:
        with cls._lock:
            if not cls._installed:
                sys.addaudithook(cls._hook)
                cls._installed = True
        opened: list[str] = []
        cls._active.append(opened)
        try:
            yield opened
        finally:
            cls._active.remove(opened)


def opened_outside(opened: list[str], allowed: Path, watched: Path) -> list[str]:
    """Paths in ``opened`` that lead into ``watched`` but not into ``allowed``."""
    allowed_real, watched_real = os.path.realpath(allowed), os.path.realpath(watched)
    bad = []
    for path in opened:
        real = os.path.realpath(path)
        inside = os.path.commonpath([real, allowed_real]) == allowed_real
        watched_here = os.path.commonpath([real, watched_real]) == watched_real
        if watched_here and not inside:
            bad.append(path)
    return bad
