"""The authenticated routes: reports, export artifacts and the Copyleaks page.

Mounted by the plugin at ``/copyleaks/ui`` on the api-server. Airflow does not authenticate
plugin apps, so every route declares Airflow's own dependencies: no valid login (bearer token or
the UI's session cookie) is a 401, no access to the DAG a 403. The page lists only the DAGs the
user may read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from airflow_copyleaks.ui import files
from airflow_copyleaks.ui.refusals import install_refusal_pages

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore

# Reports are static documents: no script runs in them, even if a title slipped through unescaped.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}
MAX_EXPORT_ID = 64  # the store's id column


def _served(item: files.Served) -> Response:
    disposition = f'inline; filename="{item.filename}"'
    return Response(
        item.data, media_type=item.media_type, headers={**SECURITY_HEADERS, "Content-Disposition": disposition}
    )


def create_ui_app(*, store: ScanStore | None = None, artifacts_url: str | None = None) -> FastAPI:
    """Build the app. Imports Airflow's API security lazily: only the api-server needs it."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag

    def get_store() -> ScanStore:
        from airflow_copyleaks.store import get_store as shared_store

        return store or shared_store()

    can_read_runs = [Depends(requires_access_dag("GET", DagAccessEntity.RUN))]
    app = FastAPI(title="Copyleaks reports", docs_url=None, redoc_url=None, openapi_url=None)
    install_refusal_pages(app, SECURITY_HEADERS)

    @app.get("/reports/{dag_id}/{run_id}/{name}", dependencies=can_read_runs)
    def report(dag_id: str, run_id: str, name: str) -> Response:
        """One audit report file of a run: report.html, report.csv or report.json."""
        try:
            return _served(files.read_report(dag_id, run_id, name, artifacts_url))
        except files.NotFound as err:
            raise HTTPException(404, str(err)) from err

    @app.get("/exports/{dag_id}/{export_id}/{artifact:path}", dependencies=can_read_runs)
    def export_artifact(dag_id: str, export_id: str, artifact: str) -> Response:
        """An export's PDF report (``pdf``), crawled version or one result (``results/<id>``)."""
        export = get_store().get_export(export_id) if len(export_id) <= MAX_EXPORT_ID else None
        # An export of another DAG is "not found", not "forbidden": ids are not to be probed.
        if export is None or export.meta.get("dag_id") != dag_id:
            raise HTTPException(404, f"No export {export_id!r} of {dag_id!r}")
        try:
            item = files.select_artifact(export, artifact)
            return _served(files.read_artifact(item["location"], item["kind"], artifacts_url))
        except files.NotFound as err:
            raise HTTPException(404, str(err)) from err

    @app.get("/", response_class=HTMLResponse)
    async def page(user: Any = Depends(get_user)) -> HTMLResponse:  # noqa: B008 - FastAPI's idiom
        """The Copyleaks page: recent audits, credits, waiting scans, the receiver's last webhook."""
        from airflow_copyleaks.ui import overview, page

        dag_ids = await run_in_threadpool(_readable_dag_ids, user)
        data = await run_in_threadpool(overview.collect, get_store(), dag_ids, artifacts_url)
        return HTMLResponse(page.render(data, user=user.get_name()), headers=SECURITY_HEADERS)

    return app


def _readable_dag_ids(user: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))
