"""Secrets in file contents, found and masked before a file's text goes anywhere a model can
see it: the index, attachments, search hits, review diffs.

The deny list keeps files out by name; this catches what names miss (a key in `notes.txt`,
a password in `settings.py`). A secret is replaced in place and the file is kept, so the
rest of it stays useful, and line numbers stay right: a masked span keeps its line breaks.

The token shapes are those of detect-secrets 1.5 (Yelp, Apache-2.0: its plugins' regular
expressions for AWS, GitHub, GitLab, Slack, Stripe, SendGrid, Twilio, PyPI, npm, JWT,
Azure, private keys…), with a few it lacks (Google, Anthropic, OpenAI project keys,
Hugging Face, bcrypt/htpasswd hashes). The library itself is not used: it pulls in
`requests` and YAML (88 ms of imports), reports a secret's value per line rather than its
place in the text, leaves a private key's body lines alone, and took 0.43 ms a line here,
which for an index of 5 million lines is half an hour. One combined pass of compiled
patterns costs a few microseconds a line.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from coda_tui.context.prefilter import LineFinder, Prefilter

MASK = "[REDACTED]"

# Multi-line blocks, masked whole: a key's body is the secret, not its header line. An
# unterminated block (a file cut short) is masked to the end.
_BLOCKS = [
    ("private key", re.compile(
        r"-----BEGIN[A-Z0-9 ]{0,30} PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]{0,30} PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.DOTALL)),
    ("private key", re.compile(r"PuTTY-User-Key-File-\d.*?(?:Private-MAC:[^\n]*|\Z)", re.DOTALL)),
    ("private key", re.compile(r"-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----.*?(?:-----END SSH2 ENCRYPTED PRIVATE KEY-----|\Z)", re.DOTALL)),
]

# Tokens recognisable by their shape alone, wherever they stand: not after a letter or
# digit. That is checked after a match rather than with a leading \b, which would keep
# the regular expression engine from jumping to each pattern's literal prefix (10x slower).
_TOKENS = [
    ("aws access key", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}\b|github_pat_[A-Za-z0-9_]{60,}"),
    ("gitlab token", r"(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas)-[A-Za-z0-9_\-]{20,}|GR1348941[A-Za-z0-9_\-]{20,50}"),
    ("slack token", r"xox[aboprs]-(?:\d+-)+[A-Za-z0-9-]+"),
    ("slack webhook", r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
    ("stripe key", r"[rsp]k_(?:live|test)_[0-9A-Za-z]{24,}"),
    ("anthropic key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    ("google api key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("google oauth secret", r"GOCSPX-[0-9A-Za-z_\-]{20,}"),
    ("sendgrid key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    ("twilio key", r"(?:AC|SK)[0-9a-f]{32}\b"),
    ("mailchimp key", r"[0-9a-f]{32}-us[0-9]{1,2}\b"),
    ("pypi token", r"pypi-AgE[A-Za-z0-9_\-]{50,}"),
    ("npm token", r"npm_[A-Za-z0-9]{36}\b"),
    ("hugging face token", r"hf_[A-Za-z0-9]{30,}\b"),
    ("digitalocean token", r"do[por]_v1_[a-f0-9]{64}\b"),
    ("shopify token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    ("databricks token", r"dapi[a-f0-9]{32}\b"),
    ("postman key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
    ("vault token", r"hv[sb]\.[A-Za-z0-9_\-]{24,}"),
    ("age secret key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
    ("square secret", r"sq0csp-[0-9A-Za-z\-_]{43}|EAAA[A-Za-z0-9_\-]{60}"),
    ("discord token", r"[MNO][A-Za-z\d_\-]{23,25}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27,}"),
    ("telegram token", r"\d{8,10}:AA[0-9A-Za-z_\-]{33}\b"),
    ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("azure storage key", r"AccountKey=(?P<v>[A-Za-z0-9+/=]{80,90})"),
    ("azure sas signature", r"[?&]sig=(?P<v>[A-Za-z0-9%+/=]{30,})"),
    ("password hash", r"\$(?:2[abxy]|apr1|argon2id?|[156])\$[./A-Za-z0-9$=,]{20,}"),
    ("ldap/sha hash", r"\{(?:SHA|SSHA|SHA256|SSHA512)\}[A-Za-z0-9+/=]{20,}"),
]
_TOKEN_RES = [(kind, re.compile(rx)) for kind, rx in _TOKENS]
# Patterns that cannot start with a literal (so the regular expression engine tries them at
# every position, or at every common letter) run only when the text passes their gate: fixed
# parts every match holds (substring tests, a fast search in C), or a short expression with
# a literal start that every match contains. A gate only skips texts the pattern cannot
# match, so what is found is unchanged; most source files pass none of them. Patterns that
# start with a literal need no gate: the engine already jumps from one occurrence to the next.
_TOKEN_GATES: dict[str, tuple[str, ...] | re.Pattern] = {
    "stripe key": ("k_live_", "k_test_"),
    "mailchimp key": re.compile(r"-us[0-9]"),
    "square secret": ("sq0csp-", "EAAA"),
    # A dot, six token characters and a dot, then 27 more: rare in code, unlike [MNO].
    "discord token": re.compile(r"\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27}"),
    "telegram token": re.compile(r":AA[0-9A-Za-z_\-]{33}"),
    "azure storage key": ("AccountKey=",),
    "azure sas signature": re.compile(r"sig=[A-Za-z0-9%+/=]{30}"),
}


def _passes(gate: tuple[str, ...] | re.Pattern | None, text: str) -> bool:
    if gate is None:
        return True
    if isinstance(gate, tuple):
        return any(part in text for part in gate)
    return gate.search(text) is not None


# A password in a URL: scheme://user:PASSWORD@host. References (${VAR}) are left alone.
_URL_PASSWORD = re.compile(r"://[^\s:/@'\"]{1,100}:(?P<v>[^\s@/'\"${}][^\s@'\"]{2,200})@[A-Za-z0-9\[]")

# Names that say their value is a secret. "Strong" ones (password, secret) are believed for
# any literal value; "key-like" ones (token, api_key) only when the value looks random.
_STRONG_WORDS = {"password", "passwd", "pwd", "pass", "passphrase", "secret", "credential", "credentials", "pw"}
_KEYLIKE_WORDS = {"token", "key", "apikey", "auth", "authtoken", "salt", "dsn", "sig", "signature", "accesskey",
                  "secretkey", "privatekey", "bearer"}
# A name that is about the secret rather than the secret itself: PASSWORD_MIN_LENGTH = 8.
_META_WORDS = {"len", "length", "min", "max", "count", "field", "fields", "name", "names", "prompt", "label", "file",
               "path", "dir", "env", "var", "help", "hint", "reset", "timeout", "ttl", "expiry", "expires",
               "expiration", "id", "type", "url", "uri", "header", "policy", "regex", "pattern", "rounds", "iterations",
               "algorithm", "hash", "hasher", "validator", "validators", "required", "enabled", "mode", "format",
               "column", "input", "limit", "size", "chars", "strength", "prefix", "suffix", "encoding", "class",
               "kind", "style", "index", "cache", "store", "backend", "manager", "provider", "sort", "lookup",
               "md5", "sha", "sha1", "sha256", "sha512", "digest", "checksum", "fingerprint", "date", "time"}
_NAME_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def name_kind(name: str) -> str | None:
    """"strong", "keylike" or None for an assigned name such as DB_PASSWORD or apiKey. The
    last word decides: PASSWORD_HASH and _PassArg.context are not passwords."""
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    if not words or words[-1] in _META_WORDS or words[0] in ("sort", "primary", "foreign", "cache", "lookup"):
        return None
    last = words[-1]
    if last in _STRONG_WORDS or any(w in last for w in ("password", "passwd", "passphrase")):
        return "strong"
    if last in ("key", "token") and len(words) > 1 and words[-2] in _STRONG_WORDS:
        return "strong"  # SECRET_KEY: Django's holds punctuation a random-looking test would refuse
    if last in _KEYLIKE_WORDS or any(w in last for w in ("token", "apikey", "secret")):
        return "keylike"
    return None


_ASSIGN = re.compile(
    r"""(?P<name>(?<![A-Za-z0-9])["']?[A-Za-z_][A-Za-z0-9_.\-]{0,60}["']?)"""
    # An optional annotation (password: str = "…") before the operator.
    r"""(?P<sep>[ \t]*(?::[ \t]*[A-Za-z_][\w\[\]., |]{0,40}?[ \t]*(?==))?(?::=|=>|==?|:)[ \t]*)"""
    r"""(?:(?P<q>["'`])(?P<qv>[^"'`\n]{1,400})(?P=q)|(?P<uv>[^\s"'`,;#]{1,400}))""",
)
# Values that are not secrets but where one would go.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        |none|null|nil|true|false|undefined|yes|no|on|off|required|optional|redacted|\[redacted\]|hidden|secret
        |password|passwd|token|changeme|example|placeholder|your[_\- ]?\w*|<[^>]*>|x{3,}|\*{3,}|\.{3}|…|-+|_+
        |\$\{?[A-Za-z_][A-Za-z0-9_]*\}?(?::-[^}]*\})?|\{\{[^}]*\}\}|%\([^)]*\)s|%s|\{\}|\{[A-Za-z_]\w*\}
    )$""")
# In code, an unquoted value is an expression (a variable, a call), not a literal.
_CODE_SUFFIXES = {".py", ".pyi", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".kts",
                  ".scala", ".cs", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".rb", ".php", ".swift", ".lua", ".dart",
                  ".ex", ".exs", ".erl", ".clj", ".hs", ".ml", ".r", ".jl", ".pl", ".m", ".vue", ".svelte"}
_EXPRESSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:[(\[{].*)?$|^[(\[{!&*@]")

# Line-shaped credential files, whatever they are called.
_LINES = [  # (kind, pattern, gate: see _TOKEN_GATES)
    # .netrc: machine HOST login USER password SECRET
    ("netrc password", re.compile(r"(?m)^[ \t]*(?:machine|default)\b[^\n]*?\bpassword[ \t]+(?P<v>\S+)"), ("password",)),
    # .pgpass: host:port:database:user:password
    ("pgpass password", re.compile(r"(?m)^[^\s:#]+:(?:\d+|\*):[^\s:]+:[^\s:]+:(?P<v>\S+)$"),
     re.compile(r":(?:\d+|\*):")),
    # htpasswd-like user:hash lines are caught by the hash shapes; .npmrc auth lines here.
    ("npm auth", re.compile(r"(?m)^[ \t]*(?:\S*:)?(?:_authToken|_auth|_password)[ \t]*=[ \t]*(?P<v>\S+)"),
     ("_auth", "_password")),
    # A Docker config's registry login.
    ("docker auth", re.compile(r"\"auth\"[ \t]*:[ \t]*\"(?P<v>[A-Za-z0-9+/=]{8,})\""), None),
]
# An ssh config says which hosts, users and key files reach where: the values are masked
# when the text is one (a Host line and host keywords), whatever the file is called.
_SSH_HOST = re.compile(r"(?m)^[ \t]*Host[ \t]+[^\s=]")
_SSH_KEYWORD = re.compile(r"(?m)^[ \t]*(?:HostName|IdentityFile)[ \t]+[^\s=]")
_SSH_VALUES = re.compile(r"(?mi)^[ \t]*(?:HostName|User|IdentityFile|CertificateFile|ProxyCommand|ProxyJump|Port|LocalForward|RemoteForward)[ \t]+(?P<v>[^\s=][^\n]*)$")


# The gates of one RE2 pass (prefilter.py), keyed by the Python pattern each lets run. A token
# pattern is its own gate once RE2 can read it: without its trailing \b (a gate may match
# more, never less) and with Python's Unicode \d spelled out. The others: the part of each
# match RE2 can express, with classes that exclude no more than Python's do.
_RE2_GATES = {rx.pattern: rx.pattern.replace(r"\b", "").replace(r"\d", r"\p{Nd}") for _, rx in _TOKEN_RES}
_RE2_GATES.update({
    _BLOCKS[0][1].pattern: r"-----BEGIN[A-Z0-9 ]{0,30} PRIVATE KEY",
    _BLOCKS[1][1].pattern: r"PuTTY-User-Key-File-\p{Nd}",
    _BLOCKS[2][1].pattern: r"-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----",
    _URL_PASSWORD.pattern: r"://[^/@\n]+:[^@\n]+@[A-Za-z0-9\[]",
    _LINES[0][1].pattern: r"(?:machine|default)[^\n]*password[ \t]",
    _LINES[1][1].pattern: r":(?:\p{Nd}+|\*):[^:\n]+:[^:\n]+:",
    _LINES[2][1].pattern: r"(?:_authToken|_auth|_password)[ \t]*=",
    _LINES[3][1].pattern: r"\"auth\"[ \t]*:[ \t]*\"[A-Za-z0-9+/=]{8,}\"",
    _SSH_KEYWORD.pattern: r"(?:HostName|IdentityFile)[ \t]",
})
_PREFILTER = Prefilter(_RE2_GATES)


def _may_match(rx: re.Pattern, candidates: frozenset[str] | None) -> bool:
    return candidates is None or rx.pattern in candidates


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def shannon_entropy(text: str) -> float:
    """Bits per character: ~3 for words, over 4 for random base64, up to 4 for hex."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def looks_random(value: str) -> bool:
    """A generated credential rather than a word, a path, a version or a sentence."""
    if len(value) < 16 or any(c in value for c in " :,|;()[]{}<>"):
        return False  # words, URIs, lists and expressions, not generated credentials
    if re.fullmatch(r"[0-9a-fA-F\-]{16,}", value):
        return len(re.sub("-", "", value)) >= 20 and shannon_entropy(value) >= 3.0
    classes = sum(bool(re.search(rx, value)) for rx in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2 and re.search(r"[0-9]", value) is not None and shannon_entropy(value) >= 3.5


def find(text: str, path: str | None = None, known: Iterable[str] = ()) -> list[Finding]:
    """Where the secrets in `text` are. `path` (the file's name) tells code from config:
    in code an unquoted value is an expression. `known`: exact values always masked."""
    found: list[Finding] = []
    for value in known:
        if len(value) >= 8:
            start = text.find(value)
            while start != -1:
                found.append(Finding("key in force", start, start + len(value)))
                start = text.find(value, start + len(value))
    candidates = _PREFILTER.candidates(text)
    for kind, rx in _BLOCKS:
        if _may_match(rx, candidates):
            found += [Finding(kind, m.start(), m.end()) for m in rx.finditer(text)]
    for kind, rx in _TOKEN_RES:
        if not _may_match(rx, candidates) or not _passes(_TOKEN_GATES.get(kind), text):
            continue
        for m in rx.finditer(text):
            if "v" in rx.groupindex:
                found.append(Finding(kind, m.start("v"), m.end("v")))
            elif not (m.start() and text[m.start() - 1].isalnum()):
                found.append(Finding(kind, m.start(), m.end()))
    for m in _URL_PASSWORD.finditer(text) if _may_match(_URL_PASSWORD, candidates) else ():
        if not _PLACEHOLDER.match(m.group("v")):
            found.append(Finding("password in url", m.start("v"), m.end("v")))
    for kind, rx, gate in _LINES:
        for m in rx.finditer(text) if _may_match(rx, candidates) and _passes(gate, text) else ():
            if not _PLACEHOLDER.match(m.group("v")):
                found.append(Finding(kind, m.start("v"), m.end("v")))
    if (_may_match(_SSH_KEYWORD, candidates) and ("HostName" in text or "IdentityFile" in text)
            and _SSH_HOST.search(text) and _SSH_KEYWORD.search(text)):
        found += [Finding("ssh config", m.start("v"), m.end("v")) for m in _SSH_VALUES.finditer(text)]
    in_code = bool(path) and any(path.lower().endswith(s) for s in _CODE_SUFFIXES)
    for m in _assignments(text):
        hit = _assigned_secret(m, in_code)
        if hit is not None:
            found.append(hit)
    return found


# Parts of the words that may name a secret. Assignments are looked for only on lines holding
# one: most lines of code assign something, few of them a secret. Found with str.find, which
# is several times faster here than one case-insensitive alternation.
_NAME_HINTS = ("pass", "pw", "secret", "token", "key", "auth", "salt", "dsn", "sig", "credential", "bearer")


# A line holds a hint with an operator after it: on ASCII texts, one RE2 pass instead of a
# str.find pass a hint (two thirds of the assignment scan's time on SQLAlchemy).
_HINT_LINES = LineFinder("(?i)(?:" + "|".join(_NAME_HINTS) + r")[^\n]*[=:]")


def _assignments(text: str):
    starts = _HINT_LINES.starts(text)
    for start in _hint_line_starts(text) if starts is None else starts:
        end = text.find("\n", start)
        yield from _ASSIGN.finditer(text, start, len(text) if end == -1 else end)


def _hint_line_starts(text: str) -> list[int]:
    low = text.lower()
    starts = set()
    for word in _NAME_HINTS:
        at = low.find(word)
        while at != -1:
            end = low.find("\n", at)
            end = len(low) if end == -1 else end
            # The name holding the word comes before the operator (every one holds "=" or
            # ":"): without one after the word, no assignment on this line names a secret
            # (the `pass` statement), and neither can a later occurrence on the same line.
            if low.find("=", at, end) != -1 or low.find(":", at, end) != -1:
                starts.add(low.rfind("\n", 0, at) + 1)
            at = low.find(word, end)
    return sorted(starts)


def _assigned_secret(m: re.Match, in_code: bool) -> Finding | None:
    name = m.group("name").strip("\"'")
    quoted = m.group("qv") is not None
    value = m.group("qv") if quoted else m.group("uv")
    group = "qv" if quoted else "uv"
    kind = name_kind(name)
    if kind is None or _PLACEHOLDER.match(value.strip()) or not any(c.isalnum() for c in value):
        return None
    strong = kind == "strong"
    if not quoted:
        # `password = user.password` in code, `password: ${DB_PASSWORD}` in YAML.
        if in_code and (_EXPRESSION.match(value) or not _env_style(m)):
            return None
        if value.startswith(("$", "%", "{", "<", "/", "./", "~")) or value.endswith(("(", ")")):
            return None
    if strong:
        if len(value) < 4 or value.lower() == name.lower() or re.fullmatch(r"\d{1,5}", value):
            return None
    elif not looks_random(value):
        return None
    return Finding("password assignment" if strong else "high-entropy value", m.start(group), m.end(group))


def _env_style(m: re.Match) -> bool:
    """NAME=value at the start of a line, as in .env files and shell scripts."""
    line_start = m.string.rfind("\n", 0, m.start()) + 1
    before = m.string[line_start:m.start()].strip()
    return before in ("", "export") and m.group("sep") == "=" and m.group("name").isupper()


def redact(text: str, path: str | None = None, known: Iterable[str] = ()) -> tuple[str, list[str]]:
    """`text` with every secret replaced by MASK (line breaks kept, so line numbers still
    hold), and the kinds of secret found."""
    found = find(text, path, known)
    if not found:
        return text, []
    found.sort(key=lambda f: (f.start, -f.end))
    out, pos, kinds = [], 0, []
    for f in found:
        if f.end <= pos:
            continue  # inside a span already masked
        start = max(f.start, pos)
        out.append(text[pos:start])
        out.append(MASK + "\n" * text.count("\n", start, f.end))
        pos = f.end
        kinds.append(f.kind)
    out.append(text[pos:])
    return "".join(out), kinds
