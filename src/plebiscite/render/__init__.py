"""Pictures of a referendum's public status, drawn server-side: the result card
(:mod:`.card`, a 1200×630 PNG for link previews) from the counts and shares of
:mod:`.results`. Pillow draws; nothing here does I/O but reading the fonts."""
