"""A pytest plugin around the `flags` binary installed with it.

Fixtures (registered by the ``pytest11`` entry point, nothing to import):

- ``flags_server``: a factory; ``flags_server(delay=0.35, fault="truncate")``
  starts ``flags serve`` on a free loopback port and returns a
  `FlagServer`, stopped when the test ends.
- ``flags_scenario``: a factory; ``flags_scenario("framing/length-longer-close")``
  serves one case of ``flags exam`` and returns a `Scenario` that grades
  what the client left.
- ``flags_case``: one `Scenario` per case, parametrized over the catalog
  (``@pytest.mark.flags_cases("framing/*", tls=True)`` to choose).

docs/python.md in the project has the whole API and an example.
"""

from .binary import DISTRIBUTION, FlagsNotFound, find_flags
from .grade import GradingError, Verdict
from .scenario import Scenario, cases, catalog
from .server import FlagServer, reference_flag

__all__ = [
    "DISTRIBUTION",
    "FlagServer",
    "FlagsNotFound",
    "GradingError",
    "Scenario",
    "Verdict",
    "cases",
    "catalog",
    "find_flags",
    "reference_flag",
]
