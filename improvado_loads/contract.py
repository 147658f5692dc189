"""Every point of the Improvado Loads API contract that this project *assumes*.

Improvado documents the field names and the operations of its Loads API but not
every value, path or limit. Each assumption lives here, once, so that it can be
corrected in one line when the real service is seen to differ. The client, the
provider and the emulator all read these names.
"""

from __future__ import annotations

import json
import re
from typing import Final

#: Documented (endpoint index): the production host.
DEFAULT_BASE_URL: Final = "https://embedded.improvado.io"
API_PREFIX: Final = "/api/v3"

#: The environment variables that the client (``ImprovadoClient.from_env``), the
#: Pulumi provider and the command line read, by client argument.
ENV_VARS: Final = {
    "base_url": "IMPROVADO_API_URL",
    "token": "IMPROVADO_API_TOKEN",
    "username": "IMPROVADO_USERNAME",
    "password": "IMPROVADO_PASSWORD",
    "workspace_id": "IMPROVADO_WORKSPACE_ID",
}

# --- paths (documented by the endpoint index unless marked) -----------------
TOKEN_PATH: Final = f"{API_PREFIX}/token"
LOADS_PATH: Final = f"{API_PREFIX}/loads"
DATA_TABLES_PATH: Final = f"{API_PREFIX}/data-tables"
#: Destination connections are listed per destination type ("destination_name").
DESTINATION_CONNECTIONS_PATH: Final = f"{API_PREFIX}/destinations/{{destination_name}}/connections"


def destination_connections_path(destination_name: str) -> str:
    """Path of the connections of one destination type (list ``GET``, create ``POST``)."""
    return DESTINATION_CONNECTIONS_PATH.format(destination_name=destination_name)


def destination_connection_path(destination_name: str, connection_id: int) -> str:
    """Path of one connection (``GET``, ``PATCH`` title, ``PUT`` reauthorize, ``DELETE``)."""
    return f"{destination_connections_path(destination_name)}/{connection_id}"


def destination_connection_recheck_path(destination_name: str, connection_id: int) -> str:
    """Path that tests a connection again (``PUT``)."""
    return f"{destination_connection_path(destination_name, connection_id)}/recheck"


def load_path(load_id: int) -> str:
    """Path of one load."""
    return f"{LOADS_PATH}/{load_id}"


def load_action_path(load_id: int, action: str) -> str:
    """Path of a load action: ``run``, ``pause`` or ``unpause`` (all ``PUT``)."""
    return f"{LOADS_PATH}/{load_id}/{action}"


# --- pagination (documented: page/page_size, sorted by id) ------------------
PAGE_PARAM: Final = "page"
PAGE_SIZE_PARAM: Final = "page_size"
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 100

# --- enumerations (assumed: the docs give no values) ------------------------
RUN_POLICIES: Final = ("manual", "after_extraction", "hourly", "daily", "weekly")
LOAD_STATUSES: Final = ("new", "queued", "running", "success", "failed", "paused")
#: Statuses in which a run is over.
FINAL_STATUSES: Final = ("new", "success", "failed", "paused")
DATA_CLASSES: Final = (
    "daily",
    "weekly",
    "monthly",
    "lifetime",
    "lifetime incremental",
    "default",
)
#: Data classes whose tables are reloaded whole on every run: a date range means nothing
#: for them (nor for a ``by_accounts`` table). See "load modes" in docs/api-contract.md.
FULL_REFRESH_DATA_CLASSES: Final = ("lifetime",)
DESTINATION_STATUSES: Final = ("active", "initializing", "error")
#: Destination types ("destination_name" in paths) that `list_all` walks.
DESTINATION_NAMES: Final = ("postgresql", "sqlite", "bigquery", "snowflake")
#: What removing a load from a Pulumi program does (documented by the
#: endpoint index: delete, pause and unpause exist).
DELETION_POLICIES: Final = ("delete", "pause", "retain")
DEFAULT_DELETION_POLICY: Final = "delete"

# --- bodies (assumed) -------------------------------------------------------
#: Fields that an update may carry; any other is a 400 naming it.
UPDATABLE_FIELDS: Final = ("run_policy",)
#: Key of the 409 body that names the existing load.
CONFLICT_LOAD_ID_KEY: Final = "load_id"
#: Key of a 409 body saying which conflict it is (absent: the same load exists).
CONFLICT_CODE_KEY: Final = "code"
#: The 409 code of a create into a (connection, table) that another load of the
#: workspace already targets: two loads into one table overwrite each other's rows.
TABLE_IN_USE_CODE: Final = "destination_table_in_use"
#: The create field that allows a second load into a table already targeted
#: (sent only when true, so that a body without it means "refuse").
ALLOW_SHARED_TABLE_FIELD: Final = "allow_shared_table"
#: Error bodies: ``{"detail": ..., "errors": {field: [msg]}}``; one secondary
#: source shows ``{"details": ...}``, so both keys are read.
ERROR_DETAIL_KEYS: Final = ("detail", "details")
ERROR_FIELDS_KEY: Final = "errors"
#: Destination table names: ``table`` or ``schema.table``, SQL identifiers.
DESTINATION_TABLE_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$"


#: Destinations without schemas store ``schema.table`` as one table named ``schema__table``.
FLAT_SCHEMA_DESTINATIONS: Final = ("sqlite",)
#: What joins schema and table in that one table's name.
FLAT_SCHEMA_SEPARATOR: Final = "__"


def flat_table_name(name: str) -> str:
    """The one table a name is on a destination without schemas: ``s.t`` is ``s__t`` (case kept)."""
    schema, _, table = name.rpartition(".")
    return f"{schema}{FLAT_SCHEMA_SEPARATOR}{table}" if schema else table


def same_destination_table(a: str, b: str, *, flat_schemas: bool = False) -> bool:
    """Whether two destination table names may be one table of a connection (for "one table, one load").

    Compared without case, and a bare ``name`` is the same as ``schema.name`` in any schema
    (the connection's default schema is not known to the client): ``ads``, ``ADS`` and
    ``public.ads`` are one table; ``s1.ads`` and ``s2.ads`` are two. With ``flat_schemas``
    (a destination of :data:`FLAT_SCHEMA_DESTINATIONS`) ``s1.ads`` and ``s1__ads`` are one
    table too. Erring towards "the same" costs a refusal that ``allow_shared_table`` lifts;
    erring the other way costs rows.
    """
    if flat_schemas and flat_table_name(a.lower()) == flat_table_name(b.lower()):
        return True
    schema_a, _, table_a = a.lower().rpartition(".")
    schema_b, _, table_b = b.lower().rpartition(".")
    return table_a == table_b and (not schema_a or not schema_b or schema_a == schema_b)

# --- ids and bodies (assumed: the docs are silent) ---------------------------
#: Every id (load, data table, connection, workspace) is a positive signed
#: 64-bit integer: 1..MAX_ID. Anything else, in a path, a query filter or a
#: body, is a 400 naming the field.
MAX_ID: Final = 2**63 - 1
#: JSON bodies nest at most this deep (the API's bodies nest two levels);
#: deeper is a 400, never a server error.
MAX_JSON_DEPTH: Final = 32

# --- credentials in stack config (chosen) ------------------------------------
#: Words that make a stack config key a credential: such a key is always stored
#: as a secret (``improvado:token``, ``improvado:password``, ``db:dbPassword``…),
#: even when given as plain ``--config``.
CREDENTIAL_KEY_WORDS: Final = ("token", "password", "passwd", "secret", "credential", "apikey", "api_key", "dsn")


def is_credential_key(key: str) -> bool:
    """Whether a stack config key (``namespace:name``) holds a credential."""
    name = key.rsplit(":", 1)[-1].lower().replace("-", "_")
    return any(word in name or word.replace("_", "") in name for word in CREDENTIAL_KEY_WORDS)


def holds_credential(key: str, value: str) -> bool:
    """Whether stack config ``key=value`` holds a credential: by its key, or a JSON value with one inside.

    ``-c 'app:warehouse={"host": "h", "password": "p"}'`` is a secret too: a non-empty string
    under a credential-like key anywhere in a JSON object or list; and so is any value holding
    a URL with a password (``improvado:apiUrl=http://user:pw@host``, a DSN under any key).
    """
    if is_credential_key(key) or _URL_WITH_PASSWORD.search(value):
        return True
    try:
        document = json.loads(value)
    except ValueError:
        return False
    pending, seen = [document], 0
    while pending and seen < 10_000:  # bounded walk of the document
        item, seen = pending.pop(), seen + 1
        if isinstance(item, dict):
            for name, inner in item.items():
                if isinstance(inner, str) and inner and is_credential_key(str(name)):
                    return True
                pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)
    return False


#: A URL holding a password (``scheme://user:password@host``): an API URL or a DSN with its credentials.
_URL_WITH_PASSWORD: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s\"]*:[^/?#@\s\"]+@")


# --- tokens (documented: 30 minutes, renewed by each use) -------------------
TOKEN_TTL_SECONDS: Final = 30 * 60
#: Failed ``POST /token`` attempts (wrong Basic credentials) from one client
#: address within the window, after which further attempts are a 429 with
#: ``Retry-After`` until the oldest failure leaves the window (assumed).
TOKEN_FAILURES_ALLOWED: Final = 10
TOKEN_FAILURE_WINDOW_SECONDS: Final = 60

# --- load modes (assumed) ---------------------------------------------------
#: An incremental run without a date range reloads from the last loaded date;
#: on its very first run (without historical data) it loads this many days.
FIRST_RUN_WINDOW_DAYS: Final = 7

# --- destination connections (paths documented; the rest assumed) ----------
#: The key of the connection params that the client sends (create and
#: reauthorize). Documented: the reauthorize body says ``connection_params``.
CONNECTION_PARAMS_KEY: Final = "connection_params"
#: Every spelling the emulator accepts: the create page of the reference
#: spells the key ``conenctions_params``. Giving both in one body is a 400.
CONNECTION_PARAMS_KEYS: Final = (CONNECTION_PARAMS_KEY, "conenctions_params")
#: Destination types that the emulator can really connect to, and their params.
CONNECTABLE_DESTINATIONS: Final = ("postgresql", "sqlite")
#: Param fields that are secret per destination type: never returned by the
#: API, never shown in a repr, a log line or an error.
SECRET_PARAM_FIELDS: Final[dict[str, tuple[str, ...]]] = {"postgresql": ("password",), "sqlite": ()}
#: PostgreSQL param defaults.
POSTGRES_DEFAULT_PORT: Final = 5432
POSTGRES_DEFAULT_SCHEMA: Final = "public"
#: A SQLite destination's ``database``: a file name inside the emulator's data
#: dir (no ``/``, no ``\\``, not ``.`` or ``..``).
SQLITE_DATABASE_PATTERN: Final = r"^(?!\.{1,2}$)[^/\\\x00]{1,255}$"
#: Connection fields that ``PATCH`` may change; any other key is a 400 naming it.
CONNECTION_UPDATABLE_FIELDS: Final = ("title", "create_load_for_new_tables")
#: Longest connection title.
CONNECTION_TITLE_MAX: Final = 255
#: How long the connection test waits for the destination to answer.
CONNECTION_CHECK_TIMEOUT_SECONDS: Final = 5
#: The status a connection has after a passed / failed test; ``initializing``
#: is seen on connections never tested, and while a create's first test runs
#: (the connection exists from the start, so a create whose answer was lost finds it).
CONNECTION_ACTIVE: Final = "active"
CONNECTION_ERROR: Final = "error"
CONNECTION_INITIALIZING: Final = "initializing"
#: What a load's run says (``error_text``) when its connection was deleted.
DELETED_CONNECTION_ERROR: Final = (
    "destination connection {connection_id} was deleted ('{title}'): this load cannot run; "
    "no data was deleted"
)
