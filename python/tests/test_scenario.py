"""`flags_scenario` and `flags_case`: the exam's cases, graded in a test."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clients import careful, careless
from flags_pytest import GradingError, cases, catalog, find_flags


def test_the_catalog_comes_from_the_binary():
    ids = [case["id"] for case in catalog()]
    assert "framing/length-longer-close" in ids and len(ids) >= 40
    # A client that can do nothing special is not offered what needs more.
    plain = cases()
    assert "tls/expired" not in plain and "connection/closed-on-reuse" not in plain
    assert "tls/expired" in cases("tls/*", tls=True)
    assert cases("framing/length-longer-*") == ["framing/length-longer-close", "framing/length-longer-stall"]
    with pytest.raises(TypeError):
        cases(teleport=True)


def test_a_truncated_body_fails_the_careless_client_only(flags_scenario, tmp_path):
    case = flags_scenario("framing/length-longer-close")
    assert case.codes == ["br"] and case.url == case.base_url + "/br/br.gif"
    careless(case.url, tmp_path)
    verdict = case.grade(tmp_path, failed=False)
    assert not verdict and verdict.reason == "left a partial file br.gif (the first 5 811 of 11 623 bytes)"

    again = flags_scenario("framing/length-longer-close")
    with again.client(tmp_path / "careful") as c:
        (tmp_path / "careful").mkdir()
        careful(c.url, tmp_path / "careful")
    assert again.verdict.grade == "PASS" and again.verdict.reason == "reported it (exit 1), saved nothing"


def test_a_client_that_never_connects_does_not_pass(flags_scenario, tmp_path):
    case = flags_scenario("framing/length-longer-close")
    with pytest.raises(AssertionError, match="the server saw no request"):
        with case.client(tmp_path):
            raise OSError("gave up before trying")


def test_a_tls_case_gives_its_ca(flags_scenario, tmp_path):
    case = flags_scenario("tls/expired")
    assert case.url.startswith("https://") and Path(case.ca_file).is_file()
    with case.client(tmp_path):
        careful(case.url, tmp_path, cafile=case.ca_file)
    assert case.verdict.grade == "PASS"


@pytest.mark.flags_cases("framing/chunk*,content/html-page,connection/reset-mid-body")
def test_flags_case_runs_once_per_chosen_case(flags_case, tmp_path):
    assert flags_case.id.startswith(("framing/chunk", "content/", "connection/"))
    with flags_case.client(tmp_path):
        careful(flags_case.url, tmp_path)


def test_k_selects_cases_by_family(pytester):
    pytester.makepyfile(
        """
        def test_client(flags_case):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-k", "framing")
    ids = [line for line in result.outlines if "::test_client[" in line]
    assert ids and all("[framing/" in line for line in ids)
    assert len(ids) == len(cases("framing/*"))


# Cases where the careless client gets each grade.
AGREE = [
    "control/http1",
    "framing/length-longer-close",
    "framing/chunk-size-bad",
    "framing/length-conflict",
    "framing/length-twice-same",
    "status/not-found-gif",
    "content/html-page",
    "content/gzip",
    "connection/empty-answer",
    "redirect/to-html",
]


def test_the_plugins_verdicts_are_the_exams(flags_scenario, tmp_path):
    """One client, run in the test and graded by the plugin, and run as a
    command by `flags exam`, gets the same grade and reason on each case:
    the plugin hands the exam what it needs (the folder, the failure as an
    exit status, the server's record) and holds no rule of its own."""
    here = Path(__file__).parent
    command = (
        f"{sys.executable} -c 'import sys; sys.path.insert(0, \"{here}\"); import clients; "
        f"[clients.careless(u, \".\") for u in sys.argv[1:]]' {{urls}}"
    )
    exam = subprocess.run(
        [find_flags(), "exam", "--json", "--cases", ",".join(AGREE), "--client", f"careless={command}"],
        capture_output=True,
        timeout=120,
    )
    graded = {run["case"]: run["verdict"] for run in json.loads(exam.stdout)["runs"] if run["client"] == "careless"}
    grades = set()
    for case_id in AGREE:
        case = flags_scenario(case_id)
        dest = tmp_path / case_id.replace("/", "-")
        dest.mkdir()
        failed = False
        try:
            for url in case.urls:
                careless(url, dest)
        except Exception:
            failed = True
        ours, theirs = case.grade(dest, failed), graded[case_id]
        assert (ours.grade, ours.reason) == (theirs["grade"].upper(), theirs["reason"]), case_id
        grades.add(ours.grade)
    assert grades == {"PASS", "FAIL", "INFO"}, "the cases cover every grade"


def test_a_verdict_the_binary_cannot_give_is_an_error(flags_scenario, tmp_path):
    case = flags_scenario("control/http1")
    case.process.proc.kill()  # no clean stop: no record written
    with pytest.raises(GradingError, match="--record <FILE>"):
        case.grade(tmp_path, failed=False)
