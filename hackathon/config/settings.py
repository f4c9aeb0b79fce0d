"""The platform's settings, read once from the environment (see the settings table in README.md)."""

from __future__ import annotations

from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured

from hackathon.config.env import (
    cache_from_url,
    database_from_url,
    development_secret,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_pairs,
    env_path,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository: hackathon/config/settings.py
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

PROFILE = env_str("HACKATHON_ENV", "development")
if PROFILE not in ("development", "production"):
    raise ImproperlyConfigured(f"HACKATHON_ENV={PROFILE!r}: use development or production.")
PRODUCTION = PROFILE == "production"


def _required_in_production(name: str) -> str:
    value = env_str(name)
    if PRODUCTION and not value:
        raise ImproperlyConfigured(
            f"{name} is required when HACKATHON_ENV=production. Set it in the environment; "
            "see the settings table in README.md."
        )
    return value


# --- Core -------------------------------------------------------------------------------------------------
SECRET_KEY = _required_in_production("SECRET_KEY") or development_secret(VAR_DIR, "secret_key")
DEBUG = env_bool("DEBUG", default=False) if PRODUCTION else env_bool("DEBUG", default=True)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when HACKATHON_ENV=production.")
_hosts = _required_in_production("ALLOWED_HOSTS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") if _hosts else ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    # Our apps come before allauth so that our templates override its layout.
    "exercises",
    "hackathon",
    "grading",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "hackathon.sign_on.IssuerUnreachableMiddleware",
    "hackathon.middleware.refuse_nul_characters",
]

if DEBUG:  # the demo's people meet the site's 404 page, not Django's debug page
    MIDDLEWARE.append("hackathon.middleware.FriendlyNotFoundMiddleware")

if PRODUCTION:  # runserver serves static files in development; WhiteNoise does it behind gunicorn.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "hackathon.config.urls"
WSGI_APPLICATION = "hackathon.config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Data -------------------------------------------------------------------------------------------------
_database_url = _required_in_production("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": database_from_url(_database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media/"
PRIVATE_DATA_ROOT = env_path("PRIVATE_DATA_ROOT", VAR_DIR / "private")
if PRIVATE_DATA_ROOT == MEDIA_ROOT or MEDIA_ROOT in PRIVATE_DATA_ROOT.parents:
    raise ImproperlyConfigured("PRIVATE_DATA_ROOT must not lie under MEDIA_ROOT: hidden test data is never served.")
# Seeds of the default hidden sets derive from this; events draw their own seeds into the database.
HIDDEN_SET_SECRET = _required_in_production("HIDDEN_SET_SECRET") or development_secret(VAR_DIR, "hidden_set_secret")
STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Accounts ---------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "hackathon:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "hackathon.forms.SignupNamesForm"  # names for organizers and boards
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_ADAPTER = "hackathon.account_adapter.AccountAdapter"
# Failed sign-ins: 5 in 5 minutes for one account from one address (hackathon/account_adapter.py), and 20 a minute
# from one client address in all. The account's limit is checked first, so that attempts it refuses do not count
# toward the address's: a locked person who keeps clicking must not lock out the room sharing their address.
# Sign-ins of any outcome: 120 a minute from one address (allauth's 30 would stop a room of 30-60 people signing in
# at the start of a session behind one address). The address is the real client's (TRUSTED_PROXIES).
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/key,20/m/ip", "login": "120/m/ip"}
# Proxies whose X-Forwarded-For is believed (hackathon/client_address.py): addresses or CIDR blocks. Empty: none,
# and every request's address is its peer's.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# A first sign-in through the provider opens the account that holds the same address when both the issuer
# (email_verified) and this site have confirmed it, and connects the provider to it, so the next sign-in finds the
# account even if either address changes. Anything less confirmed never opens an existing account
# (hackathon/sign_on.py; tests/e2e/test_single_sign_on_journey.py).
SOCIALACCOUNT_ADAPTER = "hackathon.sign_on.SignOnAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ONLY = False

OIDC_PROVIDER_ID = env_str("OIDC_PROVIDER_ID", "infn-aai")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "INFN AAI")
OIDC_ISSUER = env_str("OIDC_ISSUER")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {}
if OIDC_ISSUER:
    if not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
        raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": OIDC_PROVIDER_ID,
                "name": OIDC_PROVIDER_NAME,
                "client_id": OIDC_CLIENT_ID,
                "secret": OIDC_CLIENT_SECRET,
                "settings": {"server_url": OIDC_ISSUER},
            }
        ],
    }

# --- Email ------------------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
_email_backend = "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "hackathon.console_email.EmailBackend"
_email_port = env_int("EMAIL_PORT", 587, minimum=1)
_email_user = env_str("EMAIL_HOST_USER")
_email_password = env_str("EMAIL_HOST_PASSWORD")
_email_tls = env_bool("EMAIL_USE_TLS", default=True)
if django.VERSION >= (6, 1):
    _smtp = {"host": EMAIL_HOST, "port": _email_port, "username": _email_user, "password": _email_password}
    MAILERS = {
        "default": {
            "BACKEND": _email_backend,
            "OPTIONS": {**_smtp, "use_tls": _email_tls} if EMAIL_HOST else {},
        }
    }
    del EMAIL_HOST
else:  # Django 5.2 (on Python 3.11) knows only the EMAIL_* settings.
    EMAIL_BACKEND = _email_backend
    EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email_port, _email_user, _email_password
    EMAIL_USE_TLS = _email_tls
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ML_INFN hackathon <hackathon@localhost>")

# --- Celery -----------------------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = _required_in_production("CELERY_BROKER_URL") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default: a second of every submission's wait in `make run`.
        "polling_interval": 0.1,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200, minimum=60)}
)
# One cache shared by every web and worker process in production (the boards), so that a board is computed
# once per site and interval and a reveal or disqualification forgets it everywhere; per process otherwise.
# Give it a Redis database of its own (CACHE_URL=redis://redis:6379/1): clearing the cache empties that database.
CACHES = {"default": cache_from_url(env_str("CACHE_URL", "locmem://"))}
if CACHES["default"].get("LOCATION") == CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "CACHE_URL names the broker's Redis database, and clearing the cache would drop the queued submissions. "
        "Give the cache a database of its own, e.g. redis://host:6379/1 beside the broker's /0."
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Grading goes to its exercise's queue (cpu or gpu: grading.services.enqueue, grading.reference_gate,
# grading.bundle_builds name it on each message); the default stays "cpu", so a sandbox task that forgot its queue
# still lands where sandboxes run. Everything that neither runs a sandbox nor belongs to one host goes to "upkeep",
# consumed by a light worker of its own (docs/scaling.md, "Queues and who consumes them"): in a deadline rush the
# grading queues hold dozens of messages and every grading process is busy, and an announcement's emails or the
# reaper that requeues a dead worker's runs must not wait for them to drain.
UPKEEP_QUEUE = "upkeep"
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_ROUTES = {
    "hackathon.tasks.email_announcement_task": {"queue": UPKEEP_QUEUE},
    "hackathon.tasks.expire_offers_task": {"queue": UPKEEP_QUEUE},
    "grading.tasks.requeue_stuck_submissions_task": {"queue": UPKEEP_QUEUE},
    "grading.tasks.reveal_due_boards_task": {"queue": UPKEEP_QUEUE},
    # It only queues each check on its exercise's own queue; the checks themselves run sandboxes there.
    "grading.tasks.check_exercises_about_to_open_task": {"queue": UPKEEP_QUEUE},
    # No route for grading.tasks.remove_leftover_sandboxes_task: beat does not send it, since every sandbox worker
    # cleans its own host (SANDBOX_CLEANUP_SECONDS, grading.tasks.clean_leftovers_of_this_host); an operator who
    # sends it names the queue (or worker) of the host to clean, and without one it falls to `cpu`.
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Events -----------------------------------------------------------------------------------------------
REGISTRATION_OFFER_HOURS = env_int("REGISTRATION_OFFER_HOURS", 48, minimum=1)

# --- Sandbox and grading ---------------------------------------------------------------------------------
SANDBOX_BACKEND = env_str("SANDBOX_BACKEND")  # empty: the strongest available (docker > bwrap > process)
SANDBOX_ALLOW_PROCESS = env_bool("SANDBOX_ALLOW_PROCESS", default=False)
if PRODUCTION and (SANDBOX_ALLOW_PROCESS or SANDBOX_BACKEND == "process"):
    raise ImproperlyConfigured(
        "The unsandboxed process backend is refused when HACKATHON_ENV=production: use bwrap or docker."
    )
SANDBOX_STATE_DIR = env_path("SANDBOX_STATE_DIR", VAR_DIR / "sandbox")
SANDBOX_RUNTIME_PYTHON = env_path("SANDBOX_RUNTIME_PYTHON", BASE_DIR / ".venv" / "bin" / "python")
SANDBOX_DOCKER_IMAGE_CPU = env_str("SANDBOX_DOCKER_IMAGE_CPU", "ml-infn/runtime-cpu:latest")
SANDBOX_DOCKER_IMAGE_GPU = env_str("SANDBOX_DOCKER_IMAGE_GPU", "ml-infn/runtime-gpu:latest")
SANDBOX_GPUS = env_str("SANDBOX_GPUS")  # e.g. "T4:GPU-uuid-1,A100 MIG 1g.10gb:MIG-uuid-2"
SANDBOX_WARM_POOL = env_int("SANDBOX_WARM_POOL", 1, minimum=0)  # per worker process and runtime; 0: off
# Each sandbox worker (queue cpu or gpu) removes its host's leftover sandboxes at start and then this often.
SANDBOX_CLEANUP_SECONDS = env_int("SANDBOX_CLEANUP_SECONDS", 600, minimum=1)
# The kubernetes backend (deploy/k8s/README.md): read only when SANDBOX_BACKEND=kubernetes names it.
SANDBOX_KUBERNETES_CLAIM = env_str("SANDBOX_KUBERNETES_CLAIM")  # the ReadWriteMany claim workers and jobs share
SANDBOX_KUBERNETES_SHARED_PATH = env_str("SANDBOX_KUBERNETES_SHARED_PATH")  # where this worker mounts that claim
SANDBOX_KUBERNETES_NAMESPACE = env_str("SANDBOX_KUBERNETES_NAMESPACE")  # empty: the worker's own, else "default"
SANDBOX_KUBERNETES_GPU_RESOURCE = env_str("SANDBOX_KUBERNETES_GPU_RESOURCE", "nvidia.com/gpu")
SANDBOX_KUBERNETES_GPU_NODE_SELECTOR = env_pairs("SANDBOX_KUBERNETES_GPU_NODE_SELECTOR")
SANDBOX_KUBERNETES_RUNTIME_CLASS = env_str("SANDBOX_KUBERNETES_RUNTIME_CLASS")  # e.g. gvisor or kata
SANDBOX_KUBERNETES_SCHEDULE_SECONDS = env_float("SANDBOX_KUBERNETES_SCHEDULE_SECONDS", 300.0)
# The group the worker and the job pods share on the shared volume (deploy/k8s/README.md); 0: none.
SANDBOX_KUBERNETES_FILES_GROUP = env_int("SANDBOX_KUBERNETES_FILES_GROUP", 10002, minimum=0)
GRADING_WORK_DIR = env_path("GRADING_WORK_DIR", VAR_DIR / "work")
SUBMISSION_MAX_BYTES = env_int("SUBMISSION_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
SUBMISSIONS_PER_DAY = env_int("SUBMISSIONS_PER_DAY", 10, minimum=1)
GRADING_MAX_ATTEMPTS = env_int("GRADING_MAX_ATTEMPTS", 3, minimum=1)
GRADING_HEARTBEAT_SECONDS = env_int("GRADING_HEARTBEAT_SECONDS", 15, minimum=1)
GRADING_STALE_SECONDS = env_int("GRADING_STALE_SECONDS", 120, minimum=2)
GRADING_LOST_QUEUED_SECONDS = env_int("GRADING_LOST_QUEUED_SECONDS", 600, minimum=2)
GRADING_PICTURES_SECONDS = env_int("GRADING_PICTURES_SECONDS", 300, minimum=1)
BOARD_DECIMALS = env_int("BOARD_DECIMALS", 4, minimum=0)
BOARD_CACHE_SECONDS = env_int("BOARD_CACHE_SECONDS", 3, minimum=0)
GRADING_STUCK_MINUTES = env_int("GRADING_STUCK_MINUTES", 45, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-submissions": {"task": "grading.tasks.requeue_stuck_submissions_task", "schedule": 60.0},
    "expire-registration-offers": {"task": "hackathon.tasks.expire_offers_task", "schedule": 300.0},
    "reveal-due-boards": {"task": "grading.tasks.reveal_due_boards_task", "schedule": 60.0},
    "check-exercises-about-to-open": {"task": "grading.tasks.check_exercises_about_to_open_task", "schedule": 600.0},
}

# --- REST API (/api/v1/) ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: a request without credentials is answered 401 with `WWW-Authenticate: Bearer`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "grading.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the site's own pages; enforces CSRF on writes
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "grading.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "grading.api.parsers.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "grading.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ML_INFN hackathons API",
    "DESCRIPTION": "Events, registrations, exercises, submissions, boards and help requests of the ML_INFN "
    "hackathons. Errors are JSON: `detail` says what to do next, `errors` names bad fields.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # An event's compute and an exercise's device share the values cpu/gpu: one name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "DeviceEnum": "exercises.models.Exercise.Device",
        # Several models have a `status`: each its own name, so that clients see which choices are whose.
        "SubmissionStatusEnum": "grading.models.Submission.Status",
        "SubmissionKindEnum": "grading.models.Submission.Kind",
        "RegistrationStatusEnum": "hackathon.models.Registration.Status",
        "HelpRequestStatusEnum": "grading.models.HelpRequest.Status",
    },
    # Swagger UI from the installed sidecar package, served by this site: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Security ---------------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Pico CSS, htmx and Swagger UI are served from our own static files, and no template carries inline script or
# style: 'self' is enough. Notebook outputs show images as data: URIs. A hostile output that slipped past the
# sanitizer could then still neither run script nor load from elsewhere (tests/security/test_content_policy.py).
_form_targets = ["'self'"]
if OIDC_ISSUER:  # the sign-in form redirects to the identity provider, which form-action governs too
    _form_targets.append("/".join(OIDC_ISSUER.split("/")[:3]))
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": _form_targets,
}
if django.VERSION >= (6, 0):  # Django 5.2 (on Python 3.11) has no built-in CSP: the header is then left out.
    MIDDLEWARE.append("django.middleware.csp.ContentSecurityPolicyMiddleware")

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Rome")
USE_I18N = True
USE_TZ = True
