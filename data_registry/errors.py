"""Exceptions raised by data_registry.

Every error carries a message written for a student or an instructor: what went wrong, where,
and what to do next. The command line prints the message on one line and exits non-zero.
"""

from __future__ import annotations


class CourseDataError(Exception):
    """Base class of every error data_registry raises on purpose."""

    exit_code = 1


class UsageError(CourseDataError):
    """A command line that asks for something impossible (exit status 2, like argparse's)."""

    exit_code = 2


class UnknownDatasetError(CourseDataError, KeyError):
    """A dataset name that is not in the registry.

    Parameters
    ----------
    name : str
        The name that was asked for.
    suggestions : list of str
        Registered names that look close to ``name``.
    """

    exit_code = 2

    def __init__(self, name: str, suggestions: list[str] | None = None):
        self.name = name
        self.suggestions = list(suggestions or [])
        if self.suggestions:
            hint = "did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        else:
            hint = "run `course-data list` to see the registered datasets."
        super().__init__(f"unknown dataset {name!r}: {hint}")

    def __str__(self) -> str:  # KeyError would otherwise add quotes around the message
        return str(self.args[0])


class HashMismatchError(CourseDataError):
    """A downloaded or imported file whose hash differs from the registry (file removed)."""


class DownloadError(CourseDataError):
    """An HTTP error or an interrupted transfer that retries could not fix."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        self.status = status
        self.url = url
        super().__init__(message)


class OfflineError(DownloadError):
    """The host cannot be reached (no network, DNS failure, refused connection)."""


class CacheNotWritableError(CourseDataError):
    """The cache folder cannot be created or written."""


class CorruptArchiveError(CourseDataError):
    """A zip or tar archive that cannot be read (the bad file is removed from the cache)."""


class PackError(CourseDataError):
    """A classroom pack that is malformed or holds a file that fails verification."""


class ManualDownloadRequired(CourseDataError):
    """A dataset that must be downloaded by hand (for example from Kaggle) and imported."""


class WrongKindError(CourseDataError, ValueError):
    """A registered dataset used where another kind is needed (e.g. exporting a segmentation set)."""


class NotAvailableError(CourseDataError):
    """The requested source cannot provide this dataset (for example no twin exists)."""


class ConfigurationError(CourseDataError):
    """An environment setting (such as ``COURSE_DATA_MIRROR``) that cannot be used as given."""
