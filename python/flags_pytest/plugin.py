"""The fixtures, the marker and the option pytest loads through the
``pytest11`` entry point ``flags``."""

import pytest

from .scenario import ABILITIES, Scenario, cases
from .server import FlagServer, stop_reference


def pytest_addoption(parser):
    group = parser.getgroup("flags", "the flags server (flags-downloader)")
    group.addoption(
        "--flags-cases",
        metavar="PATTERNS",
        default=None,
        help="only these exam cases for `flags_case` tests (comma-separated, * any run: framing/*,tls/*)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "flags_cases(patterns='*', retries=False, several=False, h2=False, tls=False): the exam cases a "
        "`flags_case` test runs on, and what its client can do (a case that needs more is left out)",
    )


def pytest_unconfigure(config):
    stop_reference()


def pytest_generate_tests(metafunc):
    if "flags_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("flags_cases")
    patterns, can = "*", {}
    if marker is not None:
        patterns = marker.args[0] if marker.args else marker.kwargs.get("patterns", "*")
        can = {k: v for k, v in marker.kwargs.items() if k in ABILITIES}
    ids = cases(patterns, **can)
    narrowed = metafunc.config.getoption("flags_cases")
    if narrowed:
        ids = [i for i in ids if i in set(cases(narrowed, **{a: True for a in ABILITIES}))]
    metafunc.parametrize("flags_case", ids, indirect=True, ids=ids)


def _stopped_at_teardown(make):
    """A fixture's body: yields a factory of `make` (its arguments passed
    on), then stops everything it made once the test has ended."""
    started = []

    def start(*args, **options):
        made = make(*args, **options)
        started.append(made)
        return made

    yield start
    for made in started:
        made.stop()


@pytest.fixture
def flags_server():
    """A factory: ``flags_server(delay=None, error_rate=None, fault=None,
    seed=None, tls=False, dir=None, args=())`` starts ``flags serve`` on a
    free loopback port and returns a `FlagServer`; each is stopped when the
    test ends (SIGTERM, then SIGKILL)."""
    yield from _stopped_at_teardown(FlagServer)


@pytest.fixture
def flags_scenario():
    """A factory: ``flags_scenario(ID)`` serves that exam case and returns a
    `Scenario`; each is stopped when the test ends."""
    yield from _stopped_at_teardown(Scenario)


@pytest.fixture
def flags_case(request):
    """The `Scenario` of one exam case: a test that takes it runs once per
    case (see the ``flags_cases`` marker and ``--flags-cases``)."""
    scenario = Scenario(request.param)
    yield scenario
    scenario.stop()
