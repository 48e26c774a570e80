"""The one settings module: everything comes from the environment, with embedded defaults that just work.

Every variable read here is listed in `.env.example` and docs/configuration.md (a test checks both).
"""

from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key

from lastweek.environment import env_bool, env_int, env_list, env_secret, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parents[1]
# In a source checkout the data lives beside the code (./var), where `make demo` users look for it;
# an installed package keeps it in the user's data directory.
_DEFAULT_DATA_DIR = (
    _CHECKOUT / "var" if (_CHECKOUT / "pyproject.toml").exists() else Path.home() / ".local/share/lastweek"
)
DATA_DIR = Path(env_str("LASTWEEK_DATA_DIR", str(_DEFAULT_DATA_DIR)))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    """A key generated once and kept in the data directory, for local use only."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'lastweek.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server, and a statement run five times on a connection is prepared
    # there: PostgreSQL then skips parsing and planning, which was half its CPU on an API submission.
    # Turn off behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
    # before 1.21).
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes; IMMEDIATE makes a writer take the lock at
    # BEGIN instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

REDIS_URL = env_str("REDIS_URL", "")
# The cache holds rate-limit counters: in Redis when REDIS_URL is set, so every web process shares them;
# else in each process's memory (the embedded set-up runs one).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# How many reverse proxies in front of the site append the client's address to X-Forwarded-For; 0 reads
# the connection's own address. Rate limits count per client address.
TRUSTED_PROXIES = env_int("LASTWEEK_TRUSTED_PROXIES", 0)

# Outgoing mail: Django's standard settings. Request mail goes through a backend that records, per
# message, how far the hand-over got (see lastweek/mail/transport.py), so a restart never sends twice.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# Replies come back to reply+TOKEN@LASTWEEK_MAIL_DOMAIN; requests are sent from its noreply address.
MAIL_DOMAIN = env_str("LASTWEEK_MAIL_DOMAIN", "lastweek.example.gov")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"lastweek@{MAIL_DOMAIN}")
# DKIM signing of outgoing mail, when a private key is configured (PEM file).
DKIM_PRIVATE_KEY_FILE = env_str("LASTWEEK_DKIM_PRIVATE_KEY_FILE", "")
DKIM_SELECTOR = env_str("LASTWEEK_DKIM_SELECTOR", "lastweek")
DKIM_DOMAIN = env_str("LASTWEEK_DKIM_DOMAIN", MAIL_DOMAIN)
# Messages per second handed to the mail server when sending requests (0: no limit).
SEND_RATE = env_int("LASTWEEK_SEND_RATE", 200)
# Compliance: reminders go this many hours before each person's deadline; the counts behind the
# dashboards are rebuilt in full this often (answers are counted within a minute in between).
REMINDER_HOURS = env_int("LASTWEEK_REMINDER_HOURS", 24)
COMPLIANCE_FULL_REFRESH_MINUTES = env_int("LASTWEEK_COMPLIANCE_FULL_REFRESH_MINUTES", 15)
# The worker recounts the units whose assignments changed this often (seconds).
COMPLIANCE_RECOUNT_SECONDS = env_int("LASTWEEK_COMPLIANCE_RECOUNT_SECONDS", 1)
# Incoming mail (`lastweek smtpd`): the largest message accepted, in bytes (larger ones get a 552).
SMTPD_MAX_SIZE = env_int("LASTWEEK_SMTPD_MAX_SIZE", 10 * 1024 * 1024)
# Back-pressure: messages waiting for their commit before new senders get a temporary 451, and messages
# a minute one client address may send (0: no limit; the agency's own gateways send most mail).
SMTPD_MAX_PENDING = env_int("LASTWEEK_SMTPD_MAX_PENDING", 5000)
SMTPD_CLIENT_RATE = env_int("LASTWEEK_SMTPD_CLIENT_RATE", 0)

# Background jobs and schedules: huey on SQLite in the data directory, or Redis when REDIS_URL is set.
HUEY = {
    "name": "lastweek",
    "immediate": env_bool("LASTWEEK_HUEY_IMMEDIATE", False),
    "consumer": {"workers": env_int("LASTWEEK_WORKERS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    HUEY |= {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
else:
    HUEY |= {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.sqlite3")}

# Personal API tokens (Authorization: Bearer …) last this many days at most; people may choose fewer.
API_TOKEN_DAYS = env_int("LASTWEEK_API_TOKEN_DAYS", 90)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "lastweek.audit",
    "lastweek.org",
    "lastweek.access",
    "lastweek.directives",
    "lastweek.reports",
    "lastweek.intake",
    "lastweek.goals",
    "lastweek.synth",
    "lastweek.compliance",
    "lastweek.dashboard",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lastweek.urls"
WSGI_APPLICATION = "lastweek.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "access:mine"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Vendored front-end assets (USWDS) shared by every app's templates.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
