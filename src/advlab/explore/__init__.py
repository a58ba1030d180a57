"""``advlab explore``: the decision-region explorer in the browser (optional extra ``advlab[explore]``).

``Session`` holds the runs and the test images; ``create_app(session)`` is the Starlette
application; ``serve(app, port)`` runs it on 127.0.0.1 only.
"""

from __future__ import annotations

from advlab.explore.server import load_session, serve

__all__ = ["load_session", "serve"]
