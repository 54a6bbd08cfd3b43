"""The server's paths as the client names them: each segment quoted, one path per route."""

from __future__ import annotations

import httpx

from plebiscite.client import routes


def test_segments_are_quoted():
    assert routes.region("r 1", "North/East") == "/api/referendums/r%201/regions/North%2FEast"
    assert routes.ballot("U", "a+b/c=") == "/api/elections/U/ballots/a%2Bb%2Fc%3D"
    assert routes.partial_decryption("r", 2, "Côte") == (
        "/api/referendums/r/trustees/2/regions/C%C3%B4te/partial-decryption"
    )


def test_the_ballot_box_paths():
    assert routes.ballot_box("U") == "/api/elections/U/ballot-box"
    assert routes.ballot_box("U", after=3, tracker="a+b/", before=None) == (
        "/api/elections/U/ballot-box?after=3&tracker=a%2Bb%2F"
    )
    assert routes.ballot_box_page("U", "a+b") == "/ballots/U?tracker=a%2Bb"
    assert routes.credential("U", "12") == "/api/elections/U/credentials/12"


def test_the_sign_in_paths():
    assert routes.sign_in("U/1") == "/signin/U%2F1"
    assert routes.sign_in_poll("tea-abc") == "/signin/poll/tea-abc"
    assert routes.sign_in_poll("a b") == "/signin/poll/a%20b"
    assert routes.SIGN_IN_CALLBACK == "/signin/callback"


def test_every_route_of_the_server_is_named(served):
    """Every API route of the running server's OpenAPI document is built by ``routes`` (the
    path parameters given as their own names)."""
    built = {
        routes.ELECTIONS,
        routes.SERVER_KEY,
        routes.SESSION,
        routes.SESSION_LOGOUT,
        routes.REFERENDUMS,
        routes.election("{uuid}"),
        routes.election_json("{uuid}"),
        routes.archive("{uuid}"),
        routes.ballots("{uuid}"),
        routes.ballots("{uuid}") + "/{tracker}",
        routes.close_election("{uuid}"),
        routes.ballot_box("{uuid}"),
        routes.credential("{uuid}", "{public}"),
        routes.voting("{uuid}"),
        routes.checkpoints("{uuid}"),
        routes.election_events("{uuid}"),
        routes.voter_authentication("{uuid}"),
        routes.login_code("{uuid}"),
        routes.voter_login("{uuid}"),
        routes.voter_logout("{uuid}"),
        routes.referendum("{rid}"),
        routes.referendum_record("{rid}"),
        routes.open_referendum("{rid}"),
        routes.close_referendum("{rid}"),
        routes.turnout("{rid}"),
        routes.card("{rid}"),
        routes.letters("{rid}"),
        routes.resend_failed("{rid}"),
        routes.reissue("{rid}"),
        routes.referendum_events("{rid}"),
        routes.region_election("{rid}", "{name}"),
        routes.region_tally("{rid}", "{name}"),
        routes.region_shuffle_input("{rid}", "{name}"),
        routes.region_voters("{rid}", "{name}"),
        routes.region_credentials("{rid}", "{name}"),
        routes.certificate("{rid}", "{index}"),
        routes.polynomial("{rid}", "{index}"),
        routes.vinput("{rid}", "{index}"),
        routes.voutput("{rid}", "{index}"),
        routes.dkey("{rid}", "{index}"),
        routes.shuffle("{rid}", "{index}", "{name}"),
        routes.partial_decryption("{rid}", "{index}", "{name}"),
        routes.POLLS,
        routes.poll("{pid}"),
        routes.close_poll("{pid}"),
        routes.poll_qr("{pid}"),
        routes.poll_card("{pid}"),
        routes.POLL_OPTIONS,
        routes.poll_letters("{pid}"),
        routes.poll_resend_failed("{pid}"),
        routes.poll_reissue("{pid}"),
    }
    built = {p.replace("%7B", "{").replace("%7D", "}") for p in built}
    paths = httpx.get(served.url + routes.OPENAPI, timeout=30).json()["paths"]
    assert {p for p in paths if p.startswith("/api/")} == built


def test_the_public_surface():
    import plebiscite.client

    assert plebiscite.client.__all__ == [
        "DEFAULT_TIMEOUT",
        "Administrator",
        "CredentialAuthority",
        "Observer",
        "Party",
        "PartyError",
        "Trustee",
        "Voter",
        "connect",
        "routes",
    ]
    assert all(getattr(routes, name) for name in routes.__all__)
