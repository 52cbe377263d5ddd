import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from services.kit.errors import install_error_handlers

pytestmark = pytest.mark.unit


class Body(BaseModel):
    name: str = Field(min_length=1)
    score: int = Field(ge=1, le=5)


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/x")
    async def x(body: Body) -> dict:
        return {}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_validation_errors_are_chinese_with_stable_types():
    async with _client() as client:
        resp = await client.post("/x", json={"score": 9})
    assert resp.status_code == 422
    data = resp.json()
    assert data["code"] == "VALIDATION_FAILED" and "请求内容" in data["message"]
    problems = {d["field"]: (d["type"], d["problem"]) for d in data["details"]}
    assert problems == {"name": ("missing", "缺少必填字段"), "score": ("less_than_equal", "数值过大")}


async def test_unknown_route_is_a_chinese_404():
    async with _client() as client:
        resp = await client.get("/nope")
    assert resp.status_code == 404 and resp.json() == {"code": "NOT_FOUND", "message": "请求的资源不存在"}
