"""One error tree: the CLI prints the message of a TelcoError as one line and exits non-zero."""


class TelcoError(Exception):
    """Base of every error the product reports to a user (message: what, where, expected, found)."""

    exit_code = 2


class InputError(TelcoError):
    """The input file is missing, empty, unreadable or not an xDR extract."""


class SchemaError(InputError):
    """The input lacks required columns or holds values of the wrong type."""


class ConfigError(TelcoError):
    """A run parameter is invalid."""


class DatabaseError(TelcoError):
    """The database is unreachable, refuses the credentials or rejects the export."""


class EngineError(TelcoError):
    """The engine stopped before finishing its steps (for instance, killed for memory)."""


class OutputError(TelcoError):
    """The output location cannot be written (read-only, full, a file-size limit)."""


class BusyError(TelcoError):
    """Another run is writing the same run folder."""
