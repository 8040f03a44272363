"""The web chat's attack surface, probed over HTTP against a real running server.

No file outside Gradio's upload cache is served, only the `answer` event is public (and
callable by name), errors never carry a traceback to the client, uploads are capped in size,
and a caller who finds the queue full is told to try again while the server keeps serving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from gradio_client import Client
from gradio_client.utils import QueueError

from qa.config import Settings
from qa.ui import BUSY, free_port, start

from .conftest import ANSWERS, ROOT, SEED_ID

HOST = "127.0.0.1"
QUESTION = "講演したのは誰ですか？"
SECRET = "KOTAE_SECRET_TOKEN_do_not_serve"
RAW_DELAY = 1.0  # seconds: in every other burst, plain HTTP callers start this much later


@pytest.fixture(scope="module")
def served(seed_settings: Settings) -> Iterator[tuple[str, Settings]]:
    """A running chat (loopback only) and the settings it serves; a `.env` sits beside the data."""
    # The reader answers every question: these tests need answers, whatever its weights.
    settings = seed_settings.replace(host=HOST, port=free_port(HOST), **ANSWERS)
    env_file = Path(settings.docs_dir).parent / ".env"
    env_file.write_text(f"QA_SECRET={SECRET}\n", encoding="utf-8")
    app = start(settings)
    url = app.local_url.rstrip("/")
    assert url.startswith(f"http://{HOST}:")
    try:
        yield url, settings
    finally:
        app.close()
        env_file.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def http(served: tuple[str, Settings]) -> Iterator[httpx.Client]:
    # One connection per request: a probe the server drops must not break the next test.
    headers = {"connection": "close"}
    with httpx.Client(base_url=served[0], timeout=60, headers=headers) as client:
        yield client


def _private_files(settings: Settings) -> list[Path]:
    index = Path(settings.index_dir)
    docs = Path(settings.docs_dir)
    files = [index / "CURRENT", docs / SEED_ID, docs.parent / ".env"]
    manifests = sorted(index.rglob("manifest.json"))
    assert manifests, "the seed index should hold a generation manifest"
    files.append(manifests[0])
    for f in files:
        assert f.is_file(), f
    return files


def _fingerprint(path: Path) -> str:
    """A piece of the file's content that an error message naming the path would not hold."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    longest = max((line.strip() for line in lines), key=len)
    assert len(longest) >= 8, path
    return longest[:60]


FILE_ROUTES = ["/gradio_api/file=", "/gradio_api/file/", "/file=", "/file/"]
TRAVERSALS = [
    "/etc/passwd",
    "//etc/passwd",
    "../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "....//....//....//....//etc/passwd",
    "..\\..\\..\\..\\..\\..\\etc\\passwd",
    "%2fetc%2fpasswd",
    "file:///etc/passwd",
]


def _assert_not_served(http: httpx.Client, raw: str, secret: str) -> None:
    for route in FILE_ROUTES:
        # httpx would normalise "../" away; send the raw target as written.
        request = http.build_request("GET", route + raw)
        request.url = request.url.copy_with(raw_path=(route + raw).encode())
        response = http.send(request)
        assert response.status_code in (403, 404), (route + raw, response.status_code)
        assert secret not in response.text, route + raw


def test_index_docs_and_env_files_are_not_served(
    served: tuple[str, Settings], http: httpx.Client
) -> None:
    _, settings = served
    for path in _private_files(settings):
        secret = _fingerprint(path)
        for form in (str(path), quote(str(path), safe=""), quote(str(path))):
            _assert_not_served(http, form, secret)


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_system_files_and_traversal_are_not_served(http: httpx.Client, raw: str) -> None:
    _assert_not_served(http, raw, "root:")


def test_traversal_relative_to_the_docs_is_not_served(
    served: tuple[str, Settings], http: httpx.Client
) -> None:
    _, settings = served
    docs = Path(settings.docs_dir)
    depth = len(Path.cwd().resolve().parts) + 2
    up = "../" * depth
    for target in (docs / SEED_ID, docs.parent / ".env"):
        relative = up + str(target).lstrip("/")
        secret = _fingerprint(target)
        _assert_not_served(http, relative, secret)
        _assert_not_served(http, quote(relative, safe=""), secret)


def test_only_the_answer_endpoint_is_listed(http: httpx.Client) -> None:
    response = http.get("/gradio_api/info")
    assert response.status_code == 200
    info = response.json()
    assert list(info["named_endpoints"]) == ["/answer"]
    assert info["unnamed_endpoints"] == {}


def _call(http: httpx.Client, name: str, data: list[object]) -> str:
    """Call an event by name over raw HTTP; the POST's body plus its event stream, if any."""
    response = http.post(f"/gradio_api/call/{name}", json={"data": data})
    text = response.text
    if response.status_code == 200 and "event_id" in text:
        text += http.get(f"/gradio_api/call/{name}/{response.json()['event_id']}").text
    return text


def _post(http: httpx.Client, route: str, **kwargs: object) -> tuple[int, str]:
    """POST; a connection the server drops (an unhandled error there) counts as status 0."""
    try:
        response = http.post(route, **kwargs)  # type: ignore[arg-type]
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return 0, ""
    return response.status_code, response.text


def test_unknown_event_names_are_refused(http: httpx.Client) -> None:
    for name in ("nope", "reset_1", "predict", "..%2fanswer"):
        status, text = _post(http, f"/gradio_api/call/{name}", json={"data": []})
        assert status != 200, name
        assert "Traceback" not in text


NAMED_ROUTES = ["/gradio_api/call/", "/gradio_api/call/v2/", "/gradio_api/run/", "/gradio_api/api/"]


def _events(http: httpx.Client) -> dict[str, int]:
    """Every event of the page: api name -> fn_index (from /config, as the page reads them)."""
    deps = http.get("/config").json()["dependencies"]
    events = {d["api_name"]: d["id"] for d in deps}
    public = {d["api_name"] for d in deps if d["api_visibility"] == "public"}
    assert public == {"answer"}
    assert {"respond", "view", "build", "load_example"} <= set(events), events
    return events


def test_private_events_cannot_be_called_by_name(http: httpx.Client) -> None:
    for name in set(_events(http)) - {"answer"}:
        for route in NAMED_ROUTES:
            status, text = _post(http, route + name, json={"data": []})
            assert status == 404, (route + name, status, text[:200])
    # Well-formed calls too (read-only events only, in case the guard ever lets one through).
    assert "event: complete" not in _call(http, "view", [])
    assert "event: complete" not in _call(http, "respond", [QUESTION, [], []])


def test_no_queued_event_skips_the_queue_by_fn_index(http: httpx.Client) -> None:
    # /run/<name> with an fn_index in the body would run that event at once, past the queue.
    events = _events(http)
    del events["load_example"]  # the page's one unqueued event: it puts an example in the box
    for fn_index in events.values():
        for route in ("/gradio_api/run/answer", "/gradio_api/run/predict"):
            body = {"data": [], "fn_index": fn_index, "session_hash": "probe"}
            status, text = _post(http, route, json=body)
            assert status == 404, (route, fn_index, status, text[:200])


def test_the_public_event_is_callable_by_name(http: httpx.Client) -> None:
    body = _call(http, "answer", [QUESTION])
    assert "event: complete" in body
    data = body.split("event: complete", 1)[1].split("data:", 1)[1].strip()
    (result,) = json.loads(data)
    assert result["citations"][0]["doc_id"] == SEED_ID


def test_overlong_question_is_a_clean_error(served: tuple[str, Settings]) -> None:
    url, _ = served
    client = Client(url, verbose=False)
    result = client.predict("あ" * 10_000, api_name="/answer")
    assert isinstance(result, dict)
    assert set(result) == {"error"}
    assert "Traceback" not in result["error"]
    assert 'File "' not in result["error"]
    assert result["error"].strip()


def _sse_result(http: httpx.Client, payload: object) -> str:
    """POST to the simple call route; the body of the call and (if any) of its event stream."""
    response = http.post("/gradio_api/call/answer", json=payload)
    text = response.text
    if response.status_code == 200 and "event_id" in response.json():
        event_id = response.json()["event_id"]
        text += http.get(f"/gradio_api/call/answer/{event_id}").text
    return text


@pytest.mark.parametrize(
    "payload",
    [
        {"data": [{"not": "a string"}]},
        {"data": [["a", "list"]]},
        {"data": [12345]},
        {"data": [None]},
        {"data": "not a list"},
        {"data": []},
        {"nodata": 1},
        ["bare", "list"],
    ],
    ids=["dict", "list", "int", "none", "str-data", "empty", "missing", "bare-list"],
)
def test_malformed_call_payload_has_no_traceback(http: httpx.Client, payload: object) -> None:
    body = _sse_result(http, payload)
    assert "Traceback" not in body
    assert 'File "/' not in body
    assert "site-packages" not in body


def test_garbage_bodies_have_no_traceback(http: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    for route in ("/gradio_api/call/answer", "/gradio_api/queue/join", "/gradio_api/run/answer"):
        for body in (b"{not json", b"\xff\xfe\x00", b'{"data": [' * 2000):
            status, text = _post(http, route, content=body, headers=headers)
            assert status != 200, (route, body[:20])
            assert "Traceback" not in text
            assert "site-packages" not in text


def test_queue_join_with_unknown_fn_has_no_traceback(http: httpx.Client) -> None:
    body = {"data": ["x"], "fn_index": 9999, "session_hash": "abc123", "event_data": None}
    status, text = _post(http, "/gradio_api/queue/join", json=body)
    assert status != 200
    assert "Traceback" not in text
    assert "KeyError" not in text


def _upload(http: httpx.Client, size: int) -> httpx.Response:
    files = {"files": ("notes.txt", b"a" * size, "text/plain")}
    return http.post("/gradio_api/upload", files=files)


def test_small_upload_is_accepted(http: httpx.Client) -> None:
    response = _upload(http, 1_000)
    assert response.status_code == 200
    (stored,) = response.json()
    assert stored.endswith("notes.txt")
    served_back = http.get(f"/gradio_api/file={stored}")
    assert served_back.status_code == 200  # the cache is reachable; only the cache
    assert served_back.content == b"a" * 1_000


def test_upload_over_the_cap_is_rejected(served: tuple[str, Settings], http: httpx.Client) -> None:
    _, settings = served
    response = _upload(http, settings.max_upload_bytes + 1_000)
    assert response.status_code == 413
    assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def tiny_queue(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` answering one question at a time with room for one more to wait."""
    port = free_port(HOST)
    env = {
        **os.environ,
        "QA_DOCS_DIR": str(seed_settings.docs_dir),
        "QA_INDEX_DIR": str(seed_settings.index_dir),
        "QA_CACHE_DIR": str(seed_settings.cache_dir),
        "QA_HOST": HOST,
        "QA_PORT": str(port),
        "QA_CONCURRENCY_LIMIT": "1",
        "QA_QUEUE_SIZE": "1",
        **{f"QA_{name.upper()}": str(value) for name, value in ANSWERS.items()},
    }
    log = tmp_path_factory.mktemp("tiny-queue") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://{HOST}:{port}"
    try:
        _wait_until_served(url, proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wait_until_served(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until the page is served and a first question has loaded the model."""
    for _ in range(600):
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(url + "/", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    assert Client(url, verbose=False).predict(QUESTION, api_name="/answer")["citations"]


def _burst(url: str, clients: list[Client], raw: int, raw_delay: float = 0.0) -> list[object]:
    """Every client and `raw` plain HTTP callers (`raw_delay` seconds later) ask at the same
    moment; their outcomes.

    An outcome is the answer (a dict), the exception a client raised, or for plain HTTP the
    (status, body) of POST /gradio_api/call/answer.
    """
    start = threading.Barrier(len(clients) + raw)

    def ask(client: Client) -> object:
        start.wait()
        try:
            return client.predict(QUESTION, api_name="/answer")
        except Exception as exc:
            return exc

    def post(_: int) -> object:
        with httpx.Client(base_url=url, timeout=120) as http:
            start.wait()
            time.sleep(raw_delay)
            response = http.post("/gradio_api/call/answer", json={"data": [QUESTION]})
            if response.status_code == 200:  # queued: read the answer so the queue drains
                http.get(f"/gradio_api/call/answer/{response.json()['event_id']}")
            return response.status_code, response.text

    with ThreadPoolExecutor(len(clients) + raw) as pool:
        asked = pool.map(ask, clients)
        posted = pool.map(post, range(raw))
        return [*asked, *posted]


def test_a_full_queue_tells_callers_to_retry(tiny_queue: str) -> None:
    url = tiny_queue
    clients = [Client(url, verbose=False) for _ in range(20)]
    outcomes: list[object] = []
    # One burst nearly always fills the queue; a few make it certain. A plain POST joins
    # faster than a client's handshake, and took both places in every burst (no client was
    # answered), so in every other burst the plain callers come a moment after the clients.
    for i in range(6):
        outcomes += _burst(url, clients, raw=6, raw_delay=RAW_DELAY * (i % 2))
        answered = [o for o in outcomes if isinstance(o, dict)]
        busy = [o for o in outcomes if isinstance(o, QueueError)]
        busy_http = [o for o in outcomes if isinstance(o, tuple) and o[0] == 503]
        if answered and busy and busy_http:
            break
    assert answered and busy and busy_http, outcomes
    for result in answered:
        assert result["text"] and result["citations"], result
    for exc in busy:
        assert "try again" in str(exc)
    for status, body in [o for o in outcomes if isinstance(o, tuple)]:
        assert status in (200, 503), (status, body)
        if status == 503:
            assert json.loads(body) == {"detail": BUSY}
    others = [o for o in outcomes if not isinstance(o, dict | QueueError | tuple)]
    assert not others, others  # no raw error, no crash: an answer or "busy, try again"
    assert clients[0].predict(QUESTION, api_name="/answer")["citations"]  # still serving
    for client in clients:
        client.close()
