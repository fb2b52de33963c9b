"""Web pages. For now a landing page; the operations dashboard comes with the vital signs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from cityos import __version__

router = APIRouter(tags=["web"], include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>cityos 城市数字底座</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:46rem;margin:3rem auto;
 padding:0 1rem;
 color:#1c2733;line-height:1.6}} h1{{margin-bottom:0}} .en{{color:#5b6b7b}} code{{background:#eef2f6;padding:0 .3rem}}
 li{{margin:.3rem 0}}
</style></head><body>
<h1>cityos 城市数字底座</h1><p class="en">The city digital base · version {version}</p>
<p>城市智能中枢已运行：城市的所有实体（街道、网格、最小管理单元、建筑、传感器）通过 ETSI NGSI-LD 接口读写。
运行体征大屏尚在建设中。</p>
<p class="en">The city data hub is running: every city thing (streets, grids, minimum management units, buildings,
sensors) is read and written through the ETSI NGSI-LD API. The operations dashboard is not built yet.</p>
<ul>
 <li><a href="/docs">接口文档 API documentation</a> (OpenAPI: <a href="/openapi.json">/openapi.json</a>)</li>
 <li>NGSI-LD: <code>/ngsi-ld/v1/entities?type=ManagementUnit</code> — 需要令牌 needs a bearer token
   (<code>cityos token create NAME --role reader</code>)</li>
 <li><a href="/health">/health</a></li>
</ul></body></html>"""


@router.get("/", response_class=HTMLResponse)
def home() -> str:
    return _PAGE.format(version=__version__)
