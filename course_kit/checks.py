"""Feedback for exercise answers: the building blocks of the ``check_…()`` functions.

Every exercise in ``exercises/`` ends with a call such as ``check_bit_depth(answer_bits,
image)``. A check prints exactly one status line (and returns None, so nothing else is shown
under the cell); ``check_bit_depth.evaluate(...)`` returns the :class:`Feedback` instead of
printing it. The line is one of:

* ``⏳ <exercise>: not done yet`` when the answer is still the placeholder (``None``,
  ``...`` or ``NotImplemented``), as in a freshly generated student notebook;
* ``❌ <exercise>: <what is wrong>`` with a hint that points at the mistake without giving
  the answer away (for example "your mask has 12 objects but the image has about 30;
  touching nuclei seem merged: try a watershed");
* ``✅ <exercise>: passed`` (plus an optional remark) when the answer is right.

A check never crashes on a strange answer: anything unexpected becomes a ``❌`` line that
says what kind of value was expected.

Set the environment variable ``COURSE_KIT_CHECKS_STRICT=1`` to make a failing (or unfinished)
check raise :class:`CheckFailed`; instructors use it to verify that the solutions pass.

Grading never reads the printed line (a ``print("✅ …")`` would fake it). When
``COURSE_KIT_RESULTS`` names a file, every check also appends one JSON record to it: the
exercise, the status, the message and a digest of the record keyed with
``COURSE_KIT_GRADING_KEY``. ``course-kit exercises grade`` executes submitted notebooks with a
fresh key and reads only those records.

Answers that are functions are run again on hidden inputs the student's code never saw
(:func:`hidden_rng`), so copying the ground truth or hard-coding a value cannot pass;
:func:`forbid_calls` refuses a function that calls the course helper it was asked to write.

The exercise-specific checks live in :mod:`course_kit.exercise_checks`; they are built
from :func:`check` and the small ``require_…`` helpers here.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import time
import types
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FAILED",
    "NOT_DONE",
    "PASSED",
    "CheckFailed",
    "Feedback",
    "Wrong",
    "check",
    "forbid_calls",
    "hidden_rng",
    "is_placeholder",
    "record_digest",
    "require",
    "require_array",
    "require_function",
    "require_number",
]

PASSED = "passed"
FAILED = "failed"
NOT_DONE = "not done yet"

_SYMBOLS = {PASSED: "✅", FAILED: "❌", NOT_DONE: "⏳"}

#: Environment variable: when "1", failed or unfinished checks raise CheckFailed.
STRICT_VARIABLE = "COURSE_KIT_CHECKS_STRICT"
#: Environment variable: a file to which every check appends a JSON record (grading).
RESULTS_VARIABLE = "COURSE_KIT_RESULTS"
#: Environment variable: the key of the records' digests (set by the grader for each run).
KEY_VARIABLE = "COURSE_KIT_GRADING_KEY"
#: Fields of a record covered by its digest, in this order.
RECORD_FIELDS = ("exercise", "status", "message", "time")


class CheckFailed(AssertionError):
    """Raised by a check in strict mode (``COURSE_KIT_CHECKS_STRICT=1``) unless it passed."""


class Wrong(Exception):
    """Raised inside a check body to report what is wrong with the answer (one message)."""


@dataclass(frozen=True)
class Feedback:
    """The result of one check.

    Attributes
    ----------
    exercise : str
        Exercise title, e.g. ``"Exercise 1.2 (background subtraction)"``.
    status : {"passed", "failed", "not done yet"}
        Outcome.
    message : str
        What is wrong (failed), what to do (not done yet) or a remark (passed).
    """

    exercise: str
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        """True when the answer is right."""
        return self.status == PASSED

    def __bool__(self) -> bool:
        return self.passed

    def line(self) -> str:
        """The one-line report printed by the check."""
        text = f"{_SYMBOLS[self.status]} {self.exercise}: {self.status}"
        return f"{text} — {self.message}" if self.message else text

    def __repr__(self) -> str:
        return self.line()


def is_placeholder(value) -> bool:
    """Return True if ``value`` is an untouched placeholder (None, ``...``, NotImplemented)."""
    return value is None or value is Ellipsis or value is NotImplemented


def require_function(value, what: str) -> None:
    """Raise :class:`Wrong` unless ``value`` is a function the check can call."""
    if not callable(value):
        raise Wrong(
            f"{what} should be a function (def {what}(...): ... return ...), "
            f"but it is a {type(value).__name__}"
        )


def _called_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _called_names(constant)
    return names


def forbid_calls(function, names, why: str) -> None:
    """Refuse a student function that calls one of ``names`` (the step it was asked to write).

    Parameters
    ----------
    function : callable
        The student's function.
    names : iterable of str
        Names the function's code (and the functions nested in it) must not use.
    why : str
        The hint: what to write instead.
    """
    code = getattr(function, "__code__", None)
    if code is None:
        return
    used = sorted(_called_names(code) & set(names))
    if used:
        raise Wrong(f"your function calls {', '.join(used)}: {why}")


def hidden_rng(exercise: str) -> np.random.Generator:
    """A random generator for an exercise's hidden inputs (deterministic, never shown)."""
    seed = int.from_bytes(hashlib.sha256(f"hidden:{exercise}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def record_digest(record: dict, key: str) -> str:
    """HMAC-SHA256 of a check record's fields, keyed with the grading key."""
    payload = json.dumps([record.get(field) for field in RECORD_FIELDS], ensure_ascii=False)
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _write_record(feedback: Feedback) -> None:
    path = os.environ.get(RESULTS_VARIABLE, "")
    if not path:
        return
    record = {
        "exercise": feedback.exercise,
        "status": feedback.status,
        "message": feedback.message,
        "time": round(time.time(), 3),
    }
    record["digest"] = record_digest(record, os.environ.get(KEY_VARIABLE, ""))
    with open(path, "a", encoding="utf-8") as handle:  # one line per record, appended
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def require(condition: bool, message: str) -> None:
    """Raise :class:`Wrong` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Wrong(message)


def require_number(value, what: str = "the answer") -> float:
    """Return ``value`` as a float, or explain that a single number was expected.

    Parameters
    ----------
    value : object
        The student's answer.
    what : str
        How to call the value in the message.

    Returns
    -------
    float
    """
    if isinstance(value, bool):
        raise Wrong(f"{what} should be a number, not True/False")
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise Wrong(f"{what} should be a single number, but it is a {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number):
        raise Wrong(f"{what} is {number}; expected a finite number")
    return number


def require_array(value, shape=None, what: str = "the answer", ndim: int | None = None):
    """Return ``value`` as a numpy array after checking its kind and shape.

    Parameters
    ----------
    value : object
        The student's answer.
    shape : tuple of int, optional
        Required shape.
    what : str
        How to call the value in the message.
    ndim : int, optional
        Required number of dimensions (when ``shape`` is not given).

    Returns
    -------
    numpy.ndarray
    """
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # torch tensors
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else value.numpy()
    if not isinstance(value, np.ndarray):
        raise Wrong(f"{what} should be a numpy array, but it is a {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise Wrong(
            f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)} "
            "(the same shape as the input image)"
            if len(shape) == 2
            else f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)}"
        )
    if ndim is not None and value.ndim != ndim:
        raise Wrong(f"{what} should have {ndim} dimension(s), it has {value.ndim}")
    return value


def _strict() -> bool:
    return os.environ.get(STRICT_VARIABLE, "") == "1"


def check(exercise: str, n_answers: int = 1):
    """Decorate a check body into a ``check_…()`` function with uniform feedback.

    The decorated function receives the answer(s) first. If any answer is a placeholder
    the result is "not done yet" and the body does not run. The body raises :class:`Wrong`
    to report a mistake; it returns None or a remark string when the answer is right.
    Any other exception inside the body becomes a "failed" report that names the error,
    so a strange answer never crashes the notebook.

    Parameters
    ----------
    exercise : str
        Title printed in the report, e.g. ``"Exercise 3.1 (Otsu mask)"``.
    n_answers : int
        How many leading arguments are answers (default 1).

    Returns
    -------
    callable
        Decorator. The decorated function prints the report line; its ``.evaluate``
        attribute returns the :class:`Feedback` without printing.
    """

    def decorate(body):
        def evaluate(*args, **kwargs) -> Feedback:
            if any(is_placeholder(value) for value in args[:n_answers]):
                return Feedback(
                    exercise,
                    NOT_DONE,
                    "write your code in place of `# YOUR CODE HERE` and the `answer… = None` "
                    "line above this check, then run both cells again",
                )
            try:
                remark = body(*args, **kwargs)
            except Wrong as wrong:
                return Feedback(exercise, FAILED, str(wrong))
            except Exception as error:  # a strange answer must not crash the notebook
                return Feedback(
                    exercise,
                    FAILED,
                    f"the check could not use your answer ({type(error).__name__}: {error}); "
                    "look at its type and shape",
                )
            return Feedback(exercise, PASSED, remark or "")

        @functools.wraps(body)
        def run(*args, **kwargs) -> None:
            feedback = evaluate(*args, **kwargs)
            _write_record(feedback)
            print(feedback.line())
            if _strict() and not feedback.passed:
                raise CheckFailed(feedback.line())

        run.exercise = exercise
        run.evaluate = evaluate
        return run

    return decorate
