"""Matching: hard requirements, the score model, and the in-memory indexes that rank.

    writes ─triggers─▶ match_accounts / match_briefs ─change logs─▶ sync.py (FollowedCopy)
                                  │                                      │ COPY, reloads
                          features.py (rows as values)     creator_rows.py ─▶ creator_index.py
                                  │                         brief_index.py (open briefs)
     apply: requirements.py ─▶ apply.py ─┐                        │ columns (numpy)
                                         ▼                        ▼
          expressions.py ◀── model.py: the eight `Part`s (value, best, explain) + `score`
                                         │    (ranked: `requirements.eligible` first)
     ranking.py (page of ids, rows) ─▶ service.py (pages) ─▶ explain.py (Part.explain)
     directory.py: GET /v1/creators, filters over creator_index (no score)

`shared.py` keeps one copy of each index per host: the follower worker publishes it as a
segment of shared memory, every worker maps it, and `sync.py` follows the log from there.
One model (`model.py`) scores values (apply time, explanations) and vectors (a platform's
accounts, or every open brief) alike; `expressions.py` makes each operation work on both.
Each hard requirement is one `Requirement` (`requirements.py`: `met`, and `unmet`, the
422's message), each part of the score one `Part` (`model.py`: its value, its bound `best`
that the brief index prunes with, its reason `explain`); the indexes, the apply path and
the reasons only iterate `REQUIREMENTS` and `SCORE_PARTS`. The apply path (`requirements`,
`apply`) imports no index. The package imports no service except `directory.py`, which
shows public profiles through `api.services.creators`.

`registry.py` states each feature once (SQL, type, nullability, the source columns that feed
it); the match tables, the views and triggers (checked against the migrated database), the
COPY and its wire format, the index columns and the tests' random rows derive from it.
"""

# The models first: the feature registry (`registry`) reads their enums, and the match
# tables (`api.models.matching`) are built from the registry; imported the other way round
# the two would meet half-initialised.
import api.models  # noqa: F401
