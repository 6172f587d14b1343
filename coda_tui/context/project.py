"""The project: where it is, which of its files exist for coda, and which may be read.

The sandbox lives here, so the index, attachments from the CLI and from the app all pass
the same checks: paths must resolve inside the project (a symlink pointing out is not
followed), and files matching the deny patterns (.env, keys, secrets) are never read into
a prompt unless the configuration allows them by name. Names are matched without regard to
case (.ENV is .env), and a link is judged by its target's name as well as its own.

What a file says is checked too: `scrub` masks the secrets in its text (secrets.py) and the
API keys in force, before any of it is indexed or attached.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator

import pathspec

from coda_tui.config import ConfigError, ContextConfig
from coda_tui.context import secrets
from coda_tui.context.attachments import AttachmentError

ALWAYS_SKIP_DIRS = {".git", ".hg", ".svn"}
# Installed packages, build output and caches: never the project's own code, often most of
# its files. Skipped whether or not an ignore file says so.
DERIVED_DIRS = {"node_modules", "bower_components", "__pycache__", "site-packages", "dist-packages", ".venv",
                ".tox", ".nox", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".cache",
                ".gradle", ".next", ".nuxt", ".svelte-kit", ".parcel-cache", ".terraform", ".pnpm-store", ".yarn",
                "htmlcov", ".coverage_html", ".ipynb_checkpoints", ".cargo", ".rustup"}
# Outside a git repository the app indexes a folder on its own only below this many files.
AUTO_INDEX_MAX_FILES = 20_000
# Build output by its usual names: skipped outside a git repository, where no .gitignore
# speaks for the tree (inside one, a tracked build/ folder may well be source).
BUILD_DIRS = {"build", "dist", "target", "out", "_build", "cmake-build-debug", "cmake-build-release"}

# Never read into a prompt, whatever the config says, unless `[context] allow` names them;
# `[context] deny` adds to this list. Compared in lower case.
DEFAULT_DENY = [
    # environment and credential files
    ".env", ".env.*", "*.env", ".envrc", ".flaskenv", "*.secret", "*.secrets", "secrets.*", "secret.*",
    ".netrc", "_netrc", ".pgpass", ".my.cnf", ".git-credentials", ".gitcredentials", ".npmrc", ".yarnrc.yml",
    ".pypirc", ".gem/credentials", ".htpasswd", ".htdigest", "credentials", "credentials.*", "*credentials.json",
    "client_secret*.json", "service-account*.json", "*service_account*.json", "*-sa-key.json", "token.json",
    ".vault-token", "*.tfvars", "*.tfstate", "*.tfstate.*", "terraform.tfstate*", ".terraformrc",
    # cloud and tool configs that hold logins
    ".aws/", ".azure/", ".gcloud/", ".config/gcloud/", ".kube/", "kubeconfig", ".docker/config.json",
    ".dockercfg", ".boto", ".s3cfg", ".cargo/credentials*", ".composer/auth.json", "auth.json",
    ".ssh/", ".gnupg/", "known_hosts", "authorized_keys",
    # keys and certificates
    "*.pem", "*.key", "*.crt", "*.cer", "*.der", "*.csr", "*.p12", "*.pfx", "*.p8", "*.jks", "*.keystore",
    "*.kdbx", "*.gpg", "*.asc", "*.ppk", "*.ovpn", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    "*.keytab", "*.mobileprovision",
]

IGNORE_FILES = (".gitignore", ".codaignore")


class SandboxError(AttachmentError):
    """A path coda will not read; the message says why and what to do."""


@dataclass(frozen=True)
class FileEntry:
    rel: str  # posix path relative to the root
    path: Path
    size: int
    mtime: float


def find_root(start: Path) -> Path:
    """The git root above `start`, else `start` itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


class Project:
    def __init__(self, root: Path, config: ContextConfig | None = None, known_secrets: list[str] = ()) -> None:
        config = config or ContextConfig()
        self.root = root.resolve()
        self.max_bytes = config.max_file_bytes
        self.deny_patterns = list(dict.fromkeys(DEFAULT_DENY + list(config.deny)))
        self.allow_patterns = list(config.allow)
        self._deny = _Rules(p.lower() for p in self.deny_patterns)
        self._allow = _Rules(p.lower() for p in self.allow_patterns)
        # Documents the index reads as Markdown (context/documents.py), as the config names them.
        self._documents = pathspec.GitIgnoreSpec.from_lines(config.documents)
        self.in_git = (self.root / ".git").exists()
        # The API keys in force: masked in every file's text, whatever file holds them.
        self.known_secrets = [k for k in known_secrets if k]

    @classmethod
    def discover(cls, explicit: str | os.PathLike[str] | None, config: ContextConfig | None = None,
                 known_secrets: list[str] = ()) -> "Project":
        """--project DIR, else the git root above the working directory, else the working directory."""
        if explicit:
            root = Path(explicit).expanduser()
            if not root.is_dir():
                raise ConfigError(f"project directory {root} does not exist", key="--project", expected="a directory")
            return cls(root, config, known_secrets)
        return cls(find_root(Path.cwd()), config, known_secrets)

    def indexes_document(self, rel: str) -> bool:
        """Is this file one of the documents `[context] documents` names (and a kind coda converts)?"""
        from coda_tui.context.documents import is_document

        return is_document(rel) and self._documents.match_file(rel)

    def scrub(self, text: str, rel: str | None = None) -> str:
        """`text` of the file `rel` with its secrets masked (line numbers unchanged)."""
        return secrets.redact(text, rel, self.known_secrets)[0]

    # --- the sandbox -------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def is_denied(self, rel: str) -> bool:
        rel = rel.lower()
        if self._allow.match_file(rel):
            return False
        return self._deny.match_file(rel)

    def link_denied(self, path: Path) -> bool:
        """Does this symlink lead to a denied file (or out of the project, or nowhere)?"""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return True
        if not target.is_relative_to(self.root):
            return True
        return self.is_denied(self.rel(target))

    def is_derived(self, folder: Path) -> bool:
        """A virtualenv, installed packages, a cache or (outside git) build output?"""
        name = folder.name
        if name in DERIVED_DIRS or name.endswith(".egg-info") or (not self.in_git and name in BUILD_DIRS):
            return True
        try:
            return (folder / "pyvenv.cfg").is_file()  # a virtualenv, whatever it is called
        except OSError:
            return False

    def auto_index_refusal(self, limit: int = AUTO_INDEX_MAX_FILES) -> str | None:
        """Why the app should not index this folder unasked, or None: outside a git repository,
        a home folder, the file system's root, or a tree of more than `limit` files would
        cost minutes and gigabytes holding other people's files and virtualenvs."""
        if self.in_git:
            return None
        if self.root == Path(self.root.anchor):
            return f"{self.root} is the root of the file system"
        if self.root == Path.home().resolve():
            return f"{self.root} is your home folder"
        for count, _ in enumerate(self.walk(), 1):
            if count > limit:
                return f"{self.root} is not a git repository and holds over {limit:,} files"
        return None

    def still_admitted(self, rel: str) -> bool:
        """May a file the index holds still be sent? The rules may have changed since it was
        indexed (a pattern added to deny, a link pointed at a key): checked at each use."""
        if self.is_denied(rel):
            return False
        path = self.root / rel
        return not (path.is_symlink() and self.link_denied(path))

    def check(self, path: str | os.PathLike[str]) -> Path:
        """The resolved path of a file coda may read, or SandboxError saying why not."""
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = Path.cwd() / p
        try:
            resolved = p.resolve(strict=True)
        except FileNotFoundError:
            raise SandboxError(f"{path}: no such file") from None
        except (OSError, RuntimeError) as exc:
            raise SandboxError(f"{path}: cannot be resolved ({exc})") from None
        if not resolved.is_relative_to(self.root):
            via = " (it is a symlink that leads out of the project)" if p.is_symlink() else ""
            raise SandboxError(
                f"{path} is outside the project {self.root}{via}; "
                "run coda with --project pointing at a folder that contains it"
            )
        rel = self.rel(resolved)
        # A link inside the project pointing at a denied file is as denied as the file.
        lexical = p.absolute()
        names = [rel] + ([lexical.relative_to(self.root).as_posix()] if lexical.is_relative_to(self.root) else [])
        for name in names:
            if self.is_denied(name):
                raise SandboxError(
                    f"{name} matches a protected pattern (secrets, keys, .env) and is never sent to a model; "
                    f'to allow it, add it by name to the config: [context] allow = ["{name}"]'
                )
        if not resolved.is_file():
            raise SandboxError(f"{path}: not a regular file")
        return resolved

    # --- walking -----------------------------------------------------------------------

    def walk(self, unreadable: list[str] | None = None) -> Iterator[FileEntry]:
        """Every file coda may index: .gitignore and .codaignore honoured (nested ones too),
        denied and oversized files left out, symlinks out of the project not followed.
        Folders that cannot be read (a database's data folder owned by another user) are
        skipped; their paths are added to `unreadable` for the caller to mention once."""
        yield from self._walk(self.root, [], unreadable=unreadable)

    def admits(self, path: Path) -> bool:
        """Would the walk include this path (a file, or a folder to descend into)? For views
        such as the project tree, which list folders one at a time."""
        try:
            rel = self.rel(Path(path).absolute())
        except ValueError:
            return False
        parts = rel.split("/")
        specs = self._ignore_specs(self.root)
        for i, part in enumerate(parts):
            sub = "/".join(parts[: i + 1])
            is_dir = i < len(parts) - 1 or Path(path).is_dir()
            if part in ALWAYS_SKIP_DIRS or _ignored(specs, sub, is_dir) or self.is_denied(sub + ("/" if is_dir else "")):
                return False
            if is_dir and self.is_derived(self.root / sub):
                return False
            if i < len(parts) - 1:
                specs = specs + self._ignore_specs(self.root / sub)
        return True

    def walk_folders(self, folders: set[str]) -> Iterator[FileEntry]:
        """The files directly inside these folders (relative paths, "." for the root) that
        a full walk would yield: the same ignore files along the way, the same rules."""
        for rel_folder in sorted(folders):
            parts = [] if rel_folder in ("", ".") else rel_folder.split("/")
            folder, specs, admitted = self.root, self._ignore_specs(self.root), True
            for i, part in enumerate(parts):
                rel = "/".join(parts[: i + 1])
                if part in ALWAYS_SKIP_DIRS or _ignored(specs, rel, True) or self.is_denied(rel + "/"):
                    admitted = False
                    break
                folder = folder / part
                if self.is_derived(folder):
                    admitted = False
                    break
                if folder.is_symlink() or not folder.is_dir():
                    admitted = False
                    break
                specs = specs + self._ignore_specs(folder)
            if admitted:
                yield from self._walk(folder, specs, recurse=False, own_specs=False)

    def _walk(
        self, folder: Path, specs: list[tuple[str, _Rules]], *, recurse: bool = True, own_specs: bool = True,
        unreadable: list[str] | None = None,
    ) -> Iterator[FileEntry]:
        if own_specs:
            specs = specs + self._ignore_specs(folder)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            if unreadable is not None:
                unreadable.append(self.rel(folder) + "/" if folder != self.root else ".")
            return
        # Relative paths by joining names: Path.relative_to for each file cost more than its stat.
        prefix = "" if folder == self.root else self.rel(folder) + "/"
        for entry in entries:
            if entry.name in ALWAYS_SKIP_DIRS:
                continue
            path = Path(entry.path)
            rel = prefix + entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if recurse and not (_ignored(specs, rel, True) or self.is_denied(rel + "/") or self.is_derived(path)):
                    yield from self._walk(path, specs, unreadable=unreadable)
                continue
            if _ignored(specs, rel, False) or self.is_denied(rel):
                continue
            try:
                if is_link:
                    # Followed only while the target stays inside the project and is not
                    # itself denied (notes.txt -> .env); linked folders are not entered at
                    # all (no loops, no escapes).
                    target = path.resolve(strict=True)
                    if not target.is_relative_to(self.root) or not target.is_file() or self.is_denied(self.rel(target)):
                        continue
                    st = target.stat()
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_size > self._size_limit(rel):
                continue
            yield FileEntry(rel, path, st.st_size, st.st_mtime)

    def _size_limit(self, rel: str) -> int:
        if self.indexes_document(rel):
            from coda_tui.context.documents import MAX_BYTES

            return MAX_BYTES
        return self.max_bytes

    def _ignore_specs(self, folder: Path) -> list[tuple[str, _Rules]]:
        found = []
        for name in IGNORE_FILES:
            file = folder / name
            try:
                # Inside the try: is_file() raises on a folder that cannot be searched.
                if not file.is_file():
                    continue
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            prefix = "" if folder == self.root else self.rel(folder) + "/"
            found.append((prefix, _Rules(lines)))
        return found


# The pattern class GitIgnoreSpec compiles lines with (pathspec 0.12 and 1.x name it differently).
_PATTERN = type(pathspec.GitIgnoreSpec.from_lines(["*"]).patterns[0])


class _Rules:
    """Gitignore-style patterns, asked one question: does a path match? pathspec tries them
    one by one (some 90 regular expressions for each file and folder, most of a walk's time);
    without a '!' among them, the first match decides, so they are tried as one expression."""

    def __init__(self, lines) -> None:
        self._lines = list(lines)
        # The patterns' regular expressions as text: pathspec would compile each of them
        # (the 74 default deny patterns: ~10 ms of every start, before the app's first frame).
        patterns = [r for r in map(_PATTERN.pattern_to_regex, self._lines) if r[1] is not None]
        self._one = None
        if all(include for _, include in patterns):
            # Each has its own group named ps_d (a folder's slash): unnamed once they are joined.
            joined = "|".join(f"(?:{regex.replace('(?P<ps_d>', '(?:')})" for regex, _ in patterns)
            self._one = re.compile(joined or r"(?!)")

    @cached_property
    def _spec(self) -> pathspec.GitIgnoreSpec:
        return pathspec.GitIgnoreSpec.from_lines(self._lines)

    def match_file(self, path: str) -> bool:
        if self._one is not None:
            return self._one.search(path) is not None
        return self._spec.match_file(path)

    def check(self, path: str) -> bool | None:
        """True: ignored, False: re-included by a '!', None: no pattern speaks for it."""
        if self._one is not None:
            return True if self._one.search(path) is not None else None
        return self._spec.check_file(path).include


def _ignored(specs: list[tuple[str, _Rules]], rel: str, is_dir: bool) -> bool:
    """Each ignore file speaks for paths below its own folder; a later (deeper) one that
    re-includes a path with '!' wins, as in git."""
    ignored = False
    for prefix, spec in specs:
        if prefix and not rel.startswith(prefix):
            continue
        sub = rel[len(prefix):] + ("/" if is_dir else "")
        result = spec.check(sub)
        if result is not None:
            ignored = result
    return ignored


__all__ = ["DEFAULT_DENY", "FileEntry", "Project", "SandboxError", "find_root"]
