"""The `flags_server` fixture: a real `flags serve` per test."""

import urllib.error
import urllib.request

import pytest

from clients import careful, careless


def test_it_serves_the_flags_and_knows_their_bytes(flags_server, tmp_path):
    server = flags_server()
    assert server.base_url == f"http://127.0.0.1:{server.port}/flags"
    assert server.flag_url("BR") == server.base_url + "/br/br.gif"
    careful(server.flag_url("br"), tmp_path)
    assert (tmp_path / "br.gif").read_bytes() == server.flag_bytes("br")
    (seen,) = server.wait_for_requests(1)
    assert server.stats()["by_status"] == {"200": 1}
    size = len(server.flag_bytes("br"))
    assert (seen["request"], seen["status"], seen["bytes"]) == ("GET /flags/br/br.gif", 200, size)


def test_a_delay_holds_each_answer(flags_server, tmp_path):
    server = flags_server(delay=0.3)
    careful(server.flag_url("fr"), tmp_path)
    (seen,) = server.wait_for_requests(1)
    assert seen["first_byte_ms"] - seen["head_ms"] >= 300


def test_a_fault_cuts_the_body_and_a_careless_client_keeps_the_rest(flags_server, tmp_path):
    server = flags_server(fault="truncate")
    careless(server.flag_url("br"), tmp_path)
    kept = (tmp_path / "br.gif").read_bytes()
    assert 0 < len(kept) < len(server.flag_bytes("br"))
    assert server.flag_bytes("br").startswith(kept)


def test_the_same_seed_gives_the_same_errors(flags_server):
    def statuses(server):
        got = []
        for cc in ["br", "fr", "jp", "cn", "in", "us", "id", "pk"]:
            try:
                urllib.request.urlopen(server.flag_url(cc), timeout=5).read()
                got.append(200)
            except urllib.error.HTTPError as error:
                got.append(error.code)
        return got

    first = statuses(flags_server(error_rate=0.5, seed=7))
    assert 418 in first and 200 in first
    assert statuses(flags_server(error_rate=0.5, seed=7)) == first


def test_tls_gives_a_ca_to_trust(flags_server, tmp_path):
    server = flags_server(tls=True)
    assert server.base_url.startswith("https://") and server.ca_file.is_file()
    with pytest.raises(urllib.error.URLError):
        careful(server.flag_url("br"), tmp_path)  # without the CA: refused
    careful(server.flag_url("br"), tmp_path, cafile=str(server.ca_file))
    assert (tmp_path / "br.gif").read_bytes() == server.flag_bytes("br")
    assert server.stats()["tls_handshakes"] >= 1


def test_stop_ends_the_process_and_removes_the_ca(flags_server):
    server = flags_server(tls=True)
    assert server.stop() == 0  # a clean stop (docs/signals.md)
    assert not server.process.running and not server.ca_file.exists()
    assert server.output[-1] == "flag server stopped."
