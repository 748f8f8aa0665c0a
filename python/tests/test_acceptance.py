"""The acceptance test: a test written as a user writes one, run against a
client that keeps a truncated file (it must fail) and against one that
does not (it must pass). pytester runs it in a pytest of its own, which
loads the plugin through its entry point, as a user's does."""

USER_TEST = '''
import urllib.request

def download(url, dest):
    name = dest / url.rsplit("/", 1)[1]
{body}

def test_my_client_survives_truncation(flags_scenario, tmp_path):
    case = flags_scenario("framing/length-longer-close")
    with case.client(tmp_path):
        download(case.url, tmp_path)
'''

# Streams the body into the file: a body cut short stays on disk.
KEEPS_TRUNCATED = '''
    with urllib.request.urlopen(url, timeout=5) as answer, open(name, "wb") as out:
        while chunk := answer.read(4096):
            out.write(chunk)
'''

# Reads the whole body (read() raises IncompleteRead on a short one), then writes.
KEEPS_ONLY_WHOLE = '''
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = answer.read()
    name.write_bytes(body)
'''


def run_user_test(pytester, body):
    pytester.makepyfile(test_user=USER_TEST.format(body=body.strip("\n")))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)


def test_a_client_that_keeps_a_truncated_file_fails(pytester):
    result = run_user_test(pytester, KEEPS_TRUNCATED)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: framing/length-longer-close: left a partial file br.gif (the first 5 811 of 11 623 bytes)*"]
    )


def test_a_client_that_keeps_only_whole_files_passes(pytester):
    result = run_user_test(pytester, KEEPS_ONLY_WHOLE)
    result.assert_outcomes(passed=1)

