"""`/healthz` and `/readyz`, reusable by any Starlette (or ASGI) front: the dashboard mounts
them, a webhook worker can too (`health_routes(db)`), and a non-Starlette server can answer
with `storage.health.readiness(db).to_json()`.

- `/healthz`: the process is alive and serving (no database call): 200 `{"ok": true}`.
- `/readyz`: the database answers and its schema is the newest migration: 200, else 503,
  `{"ready", "database", "migrations"}` (an error names its type only, never the URL).
Neither needs a login nor says anything about cases.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from storage import Database, readiness

__all__ = ["health_routes"]


def health_routes(db: Database) -> list[Route]:
    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def readyz(_request: Request) -> JSONResponse:
        ready = await run_in_threadpool(readiness, db)
        return JSONResponse(ready.to_json(), status_code=200 if ready.ready else 503)

    return [Route("/healthz", healthz), Route("/readyz", readyz)]
