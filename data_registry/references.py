"""Resolve the ``"module:function"`` references of a registry record (its reader and its twin).

The registry table names code by reference, not by import, so that ``import
data_registry.registry`` stays cheap and a dataset added by another package (see
:func:`data_registry.registry.plugin_datasets`) names its own functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from data_registry.errors import ConfigurationError


def resolve_reference(reference: str, *, what: str = "reference") -> Callable:
    """Import ``"package.module:function"`` and return the function.

    Parameters
    ----------
    reference : str
        Module path and attribute, separated by one ``:``.
    what : str
        What the reference is for, used in the error message (``"reader of bbbc039"``).

    Raises
    ------
    ConfigurationError
        If the reference is malformed, its module cannot be imported, or it does not name a
        callable.

    Examples
    --------
    >>> resolve_reference("os.path:join")("a", "b")
    'a/b'
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(
            f"the {what} {reference!r} is not of the form 'package.module:function'"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise ConfigurationError(
                f"the {what} {reference!r} names a module that is not installed ({error.name})"
            ) from error
        raise  # the module exists but imports something missing: that error is the news
    target = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ConfigurationError(f"the {what} {reference!r}: {module_name} has no {attribute}")
    if not callable(target):
        raise ConfigurationError(f"the {what} {reference!r} is not a function")
    return target
