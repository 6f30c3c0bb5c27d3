"""The Python SDK suites' share of tests/sdk/runner.mjs's convention:
assertions that fail a case with a message, and the run itself (named cases
one after another, one line per case, then exactly `N passed, M failed`;
1 if M > 0, to exit with). Suites import it from their parent directory."""

from __future__ import annotations

from typing import Callable


class AssertionFailed(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise AssertionFailed(message)


def equal(actual: object, expected: object, what: str) -> None:
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def raises(error_class: type[Exception], call: Callable[[], object], what: str) -> Exception:
    """Runs `call` expecting `error_class`; returns what it raised."""
    try:
        call()
    except AssertionFailed:
        raise
    except Exception as error:  # noqa: BLE001 - the class is the assertion
        check(
            isinstance(error, error_class),
            f"{what}: expected {error_class.__name__}, got {type(error).__name__}: {error}",
        )
        return error
    raise AssertionFailed(f"{what}: expected {error_class.__name__}, the call succeeded")


def run(cases: list[tuple[str, Callable[[], None]]]) -> int:
    """Every case in order; the exit status."""
    passed = failed = 0
    for name, case in cases:
        try:
            case()
        except AssertionFailed as error:
            failed += 1
            print(f"FAIL  {name}: {error}")
        except Exception as error:  # noqa: BLE001 - any error fails the case
            failed += 1
            print(f"FAIL  {name}: {type(error).__name__}: {error}")
        else:
            passed += 1
            print(f"ok    {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
