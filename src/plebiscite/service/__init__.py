"""The domain layer: elections and referendums as state machines over the board and the
server's private records, with no HTTP in it (the server is thin routes over it)."""
