"""A corpus of secrets in files with innocent names, and of innocent text that looks like
secrets, made when the tests run (no real-looking credential is committed to the repository).

Each secret case is (file name, content, the secret values that must not survive).
"""

from __future__ import annotations

import base64
import random
import string

_rng = random.Random(1404)
UPPER = string.ascii_uppercase
ALNUM = string.ascii_letters + string.digits
LOWER_HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"


def r(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def pem(kind: str, lines: int = 6) -> tuple[str, list[str]]:
    body = [r(ALNUM + "+/", 64) for _ in range(lines)]
    label = f"{kind} PRIVATE KEY" if kind else "PRIVATE KEY"
    return f"-----BEGIN {label}-----\n" + "\n".join(body) + f"\n-----END {label}-----\n", body


def secret_cases() -> list[tuple[str, str, list[str]]]:
    cases: list[tuple[str, str, list[str]]] = []

    def add(name: str, content: str, *secrets: str) -> None:
        cases.append((name, content, list(secrets)))

    rsa, rsa_body = pem("RSA")
    add("readme_key.txt", "the deploy key, keep it safe:\n" + rsa, *rsa_body)
    ossh, ossh_body = pem("OPENSSH")
    add("notes_backup.md", "# backup\n\n```\n" + ossh + "```\n", *ossh_body)
    ec, ec_body = pem("EC", 3)
    add("server_setup.txt", ec, *ec_body)
    pkcs8, pkcs8_body = pem("", 4)
    # A service account file under another name: the key sits in JSON with escaped newlines.
    escaped = pkcs8.replace("\n", "\\n")
    add("gcp.json", '{\n  "type": "service_account",\n  "private_key": "' + escaped + '",\n  "client_email": "x@y.iam.gserviceaccount.com"\n}\n',
        *pkcs8_body)
    pgp, pgp_body = pem("PGP", 4)
    add("mail.asc.txt", pgp.replace("PRIVATE KEY-----", "PRIVATE KEY BLOCK-----"), *pgp_body)
    # A private key whose file was cut before its END line.
    cut, cut_body = pem("DSA", 5)
    add("fragment.txt", cut.split("-----END")[0], *cut_body)

    aws_id, aws_secret = "AKIA" + r(UPPER + "234567", 16), r(ALNUM + "/+", 40)
    add("deploy_notes.txt", f"[default]\naws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n", aws_id, aws_secret)
    sess = "ASIA" + r(UPPER + "234567", 16)
    add("ci.yml", f"env:\n  AWS_ACCESS_KEY_ID: {sess}\n  region: eu-west-1\n", sess)
    settings_pw = r(ALNUM, 14)
    add("settings.py", f'DB_PASSWORD = "{settings_pw}"\nDEBUG = False\n', settings_pw)
    pw = r(ALNUM + "!#%", 12)
    add("notes.txt", f"staging box\nDB_PASSWORD={pw}\nthen restart\n", pw)
    pw2 = r(ALNUM, 10)
    add("config.ini", f"[database]\nhost = db.internal\nuser = app\npassword = {pw2}\n", pw2)
    pw3 = r(ALNUM, 11)
    add("docker-compose.override.yml", f"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {pw3}\n", pw3)
    pw4 = r(ALNUM, 9)
    add("app.properties", f"spring.datasource.password={pw4}\nspring.datasource.url=jdbc:postgresql://db/app\n", pw4)
    pw5 = r(ALNUM, 13)
    add("db.js", f'const pool = new Pool({{ user: "app", password: "{pw5}", host: "db" }});\n', pw5)
    pw6 = r(ALNUM, 12)
    add("conn.txt", f"postgres://app:{pw6}@db.example.com:5432/prod\n", pw6)
    gh = "ghp_" + r(ALNUM, 36)
    add("todo.md", f"- rotate the token {gh} next week\n", gh)
    ghpat = "github_pat_" + r(ALNUM + "_", 82)
    add("script.sh", f'curl -H "Authorization: token {ghpat}" https://api.github.com/user\n', ghpat)
    gl = "glpat-" + r(URLSAFE, 20)
    add("gitlab.txt", f"use {gl} for the runner\n", gl)
    slack = "xoxb-" + r(string.digits, 12) + "-" + r(string.digits, 13) + "-" + r(ALNUM, 24)
    add("bot.py", f'client = WebClient("{slack}")\n', slack)
    hook = "https://hooks.slack.com/services/T" + r(UPPER, 8) + "/B" + r(UPPER, 8) + "/" + r(ALNUM, 24)
    add("alerts.yaml", f"webhook: {hook}\n", hook)
    stripe = "sk_live_" + r(ALNUM, 24)
    add("billing.rb", f'Stripe.api_key = "{stripe}"\n', stripe)
    oa = "sk-proj-" + r(URLSAFE, 48)
    add("llm.py", f'client = OpenAI(api_key="{oa}")\n', oa)
    ant = "sk-ant-api03-" + r(URLSAFE, 60)
    add("claude.ts", f'const anthropic = new Anthropic({{ apiKey: "{ant}" }});\n', ant)
    goog = "AIza" + r(URLSAFE, 35)
    add("maps.html", f'<script src="https://maps.googleapis.com/maps/api/js?key={goog}"></script>\n', goog)
    sg = "SG." + r(URLSAFE, 22) + "." + r(URLSAFE, 43)
    add("mailer.go", f'const sendgridKey = "{sg}"\n', sg)
    tw = "SK" + r(LOWER_HEX, 32)
    add("sms.php", f'$client = new Client("AC{r(LOWER_HEX, 32)}", "{tw}");\n', tw)
    pypi = "pypi-AgEIcHlwaS5vcmc" + r(URLSAFE, 70)
    add("release.cfg", f"[pypi]\nusername = __token__\npassword = {pypi}\n", pypi)
    npm = "npm_" + r(ALNUM, 36)
    add("registry.conf", f"//registry.npmjs.org/:_authToken={npm}\n", npm)
    hf = "hf_" + r(ALNUM, 34)
    add("train.py", f'login(token="{hf}")\n', hf)
    jwt = "eyJ" + r(URLSAFE, 30) + ".eyJ" + r(URLSAFE, 60) + "." + r(URLSAFE, 43)
    add("request.http", f"GET /api/me\nAuthorization: Bearer {jwt}\n", jwt)
    azure = r(ALNUM + "+/", 86) + "=="
    add("storage.txt", f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={azure};EndpointSuffix=core.windows.net\n", azure)
    netrc_pw = r(ALNUM, 14)
    add("machines.txt", f"machine api.example.com login deploy password {netrc_pw}\n", netrc_pw)
    pg = r(ALNUM, 12)
    add("hosts.list", f"db.internal:5432:app:app:{pg}\n", pg)
    bcrypt = "$2y$10$" + r(ALNUM + "./", 53)
    add("users.txt", f"admin:{bcrypt}\n", bcrypt)
    apr = "$apr1$" + r(ALNUM, 8) + "$" + r(ALNUM + "./", 22)
    add("web_users", f"deploy:{apr}\n", apr)
    dauth = base64.b64encode(f"me:{r(ALNUM, 16)}".encode()).decode()
    add("registry.json", '{"auths": {"ghcr.io": {"auth": "' + dauth + '"}}}\n', dauth)
    ent = r(ALNUM, 40)
    add("constants.py", f'WEBHOOK_SIGNING_KEY = "{ent}"\n', ent)
    ent2 = r(LOWER_HEX, 64)
    add("settings.toml", f'[server]\nsession_token = "{ent2}"\n', ent2)
    django = "django-insecure-" + r(ALNUM + "!@#%^&*(-_=+)", 50)
    add("base_settings.py", f"SECRET_KEY = '{django}'\n", django)
    vault = "hvs." + r(ALNUM, 24)
    add("vault.txt", f"export VAULT_TOKEN={vault}\n", vault)
    ado = "dop_v1_" + r(LOWER_HEX, 64)
    add("infra.tf", f'provider "digitalocean" {{\n  token = "{ado}"\n}}\n', ado)
    ssh_host = "bastion-" + r(string.ascii_lowercase, 6) + ".corp.example"
    add("ssh_settings.txt", f"Host prod\n  HostName {ssh_host}\n  User deploy\n  IdentityFile ~/.ssh/prod_ed25519\n", ssh_host,
        "~/.ssh/prod_ed25519")
    pw7 = r(ALNUM, 10)
    add("run.sh", f"export MYSQL_ROOT_PASSWORD='{pw7}'\n", pw7)
    pw8 = r(ALNUM, 15)
    add("Config.java", f'private static final String dbPassword = "{pw8}";\n', pw8)
    return cases


def lookalike_cases() -> list[tuple[str, str]]:
    """Innocent text a careless scanner would mask."""
    sha = r(LOWER_HEX, 40)
    uuid = "-".join(r(LOWER_HEX, n) for n in (8, 4, 4, 4, 12))
    integrity = "sha512-" + base64.b64encode(bytes(_rng.randrange(256) for _ in range(64))).decode()
    return [
        ("auth.py", "import os\n\npassword = os.environ['DB_PASSWORD']\ntoken = request.headers.get('X-Token')\n"),
        ("login.py", "def login(user, password):\n    if not check_password(password, user.password_hash):\n        raise Denied\n"),
        ("forms.py", 'password = forms.CharField(widget=forms.PasswordInput)\npassword_field = "password"\n'),
        ("limits.py", "PASSWORD_MIN_LENGTH = 8\nTOKEN_TTL = 3600\nMAX_TOKENS = 4096\n"),
        ("docs.md", "Set `DB_PASSWORD` in your environment. The password must be 12 characters.\n"),
        ("compose.yml", "environment:\n  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n  API_KEY: ${API_KEY:-}\n"),
        ("template.env.txt", "DB_PASSWORD=<your password here>\nAPI_KEY=changeme\nSECRET_KEY=xxxxxxxx\n"),
        ("CHANGELOG.md", f"* fix token refresh ({sha})\n* bump version to 2.4.1\n"),
        ("package-lock.json", '{"integrity": "' + integrity + '", "resolved": "https://registry.npmjs.org/x/-/x-1.0.0.tgz"}\n'),
        ("ids.py", f'REQUEST_ID = "{uuid}"\nCOMMIT = "{sha}"\n'),
        ("tokenizer.py", "def tokenize(text):\n    tokens = text.split()\n    return tokens\n"),
        ("sort.py", 'items.sort(key=lambda x: x.name)\nsort_key = "created_at"\n'),
        ("keys.py", 'KEY_UP = "up"\nprimary_key = "id"\ncache_key = f"user:{uid}"\n'),
        ("crypto.md", "Generate a key with `ssh-keygen -t ed25519` and keep the private key in ~/.ssh.\n"),
        ("pem_docs.md", "A PEM file starts with a line like BEGIN CERTIFICATE.\n"),
        ("cert.txt", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"),
        ("url.py", 'BASE_URL = "https://api.example.com/v1"\nDOCS = "https://user@example.com/docs"\n'),
        ("db_url.py", 'DATABASE_URL = "postgres://${DB_USER}:${DB_PASS}@db:5432/app"\n'),
        ("colors.css", ".btn { color: #a1b2c3; background: #ffffff; }\n"),
        ("image.txt", "data:image/png;base64," + base64.b64encode(b"\x89PNG" + bytes(range(60))).decode() + "\n"),
        ("versions.txt", "numpy==2.1.3\nrequests==2.32.3\npassword-strength==0.0.3\n"),
        ("test_auth.py", 'def test_wrong_password(client):\n    assert client.login("bob", password=wrong) is False\n'),
        ("config_schema.py", "class Config:\n    api_key: str | None = None\n    api_key_env: str = \"OPENAI_API_KEY\"\n"),
        ("README.md", "Pass your key with `--api-key` or set `api_key` in the config.\n"),
        ("session.py", 'SESSION_COOKIE_NAME = "sessionid"\nCSRF_HEADER_NAME = "HTTP_X_CSRFTOKEN"\n'),
        ("oauth.py", 'TOKEN_URL = "https://oauth2.googleapis.com/token"\nAUTH_URL = "https://accounts.google.com/o/oauth2/auth"\n'),
        ("hashes.txt", f"md5 of the release: {r(LOWER_HEX, 32)}\n"),
        ("translations.po", 'msgid "Password"\nmsgstr "Passwort"\n'),
        ("regex.py", 'PASSWORD_PATTERN = r"^(?=.*[A-Z])(?=.*\\d).{12,}$"\n'),
        ("types.ts", "interface Credentials { username: string; password: string; }\n"),
        ("seed.sql", "INSERT INTO users (name, password_hash) VALUES ('ann', NULL);\n"),
        ("api.go", 'token := r.Header.Get("Authorization")\nkey := cfg.APIKey\n'),
        ("http.md", "Send `Authorization: Bearer <token>` with each request.\n"),
        ("lorem.txt", "The secret of good code is reading it twice. Keys on the keyboard.\n"),
    ]
