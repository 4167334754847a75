"""Run outbox deliveries the way several worker processes would: side by side, each with
its own app context (and so its own database session), until nothing is left."""

from __future__ import annotations

import threading
from collections.abc import Callable


def deliver_side_by_side(app, deliver: Callable[[], int], workers: int = 2) -> None:
    """Call ``deliver`` in ``workers`` threads until it returns 0; re-raise any error."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                while deliver():
                    pass
        except Exception as e:  # re-raised below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker did not finish"
    if errors:
        raise errors[0]
