"""Every point of the Improvado Loads API contract that this project *assumes*.

Improvado documents the field names and the operations of its Loads API but not
every value, path or limit. Each assumption lives here, once, so that it can be
corrected in one line when the real service is seen to differ. The client, the
provider and the emulator all read these names.
"""

from __future__ import annotations

from typing import Final

#: Documented (endpoint index): the production host.
DEFAULT_BASE_URL: Final = "https://embedded.improvado.io"
API_PREFIX: Final = "/api/v3"

# --- paths (documented by the endpoint index unless marked) -----------------
TOKEN_PATH: Final = f"{API_PREFIX}/token"
LOADS_PATH: Final = f"{API_PREFIX}/loads"
DATA_TABLES_PATH: Final = f"{API_PREFIX}/data-tables"
#: Destination connections are listed per destination type ("destination_name").
DESTINATION_CONNECTIONS_PATH: Final = f"{API_PREFIX}/destinations/{{destination_name}}/connections"


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
#: Error bodies: ``{"detail": ..., "errors": {field: [msg]}}``; one secondary
#: source shows ``{"details": ...}``, so both keys are read.
ERROR_DETAIL_KEYS: Final = ("detail", "details")
ERROR_FIELDS_KEY: Final = "errors"
#: Destination table names: ``table`` or ``schema.table``, SQL identifiers.
DESTINATION_TABLE_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$"

# --- tokens (documented: 30 minutes, renewed by each use) -------------------
TOKEN_TTL_SECONDS: Final = 30 * 60

# --- load modes (assumed) ---------------------------------------------------
#: An incremental run without a date range reloads from the last loaded date;
#: on its very first run (without historical data) it loads this many days.
FIRST_RUN_WINDOW_DAYS: Final = 7
