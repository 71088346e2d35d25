"""A small Chrome DevTools Protocol client (standard library only) for the field app's cases.

Why not Playwright's CDP sessions: they reach pages and frames only, while the field app's
service worker fetches on its own (the precache at install, possibly tiles): on a 3G profile
those fetches must be throttled and counted as well. Here the browser session auto-attaches
to every service worker (paused until it is throttled and its Network domain is on), and
every page and its dedicated workers are attached the same way, so every byte the phone
would download is seen, once, with CDP's `encodedDataLength`.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import queue
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The 3G profile, exactly: 1.6 Mbps down, 750 kbps up, 150 ms round trip. CDP's
# `latency` is the minimum added to each request (ms); throughputs are bytes per second.
PROFILE_3G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
    "connectionType": "cellular3g",
}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Mobile Safari/537.36"
)


class CDPError(RuntimeError):
    pass


class _Socket:
    """A client WebSocket (RFC 6455) over a plain TCP socket: text frames out (masked),
    frames in (unmasked), pings answered."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise CDPError("the browser closed the DevTools connection")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise CDPError(f"no WebSocket upgrade: {head[:200]!r}")
        self.sock.settimeout(None)
        self.lock = threading.Lock()

    def _exactly(self, n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return bytes(data)

    def send(self, text: str, opcode: int = 0x1) -> None:
        payload = text.encode() if isinstance(text, str) else text
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        repeated = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
            n, "big"
        )
        with self.lock:
            self.sock.sendall(header + mask + masked)

    def receive(self) -> str:
        message = bytearray()
        while True:
            b0, b1 = self._exactly(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exactly(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exactly(8))[0]
            payload = self._exactly(n)
            if opcode == 0x8:
                raise EOFError
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass
class Request:
    """One request as CDP reported it (the target that made it, the answer, the bytes)."""

    request_id: str
    url: str
    method: str
    target: str  # "page", "service_worker", "worker"
    started: float  # CDP monotonic seconds
    status: int | None = None
    from_sw: bool = False
    from_cache: bool = False
    encoding: str = ""
    finished: float | None = None
    encoded_bytes: int = 0
    received: int = 0  # dataReceived's encoded bytes, for a request that ends failed
    failed: str | None = None

    @property
    def network(self) -> bool:
        """Went over the (emulated) network: not answered by the service worker or a cache.
        A response whose body the page never read (a 304 to fetch()) ends as "failed"
        (net::ERR_ABORTED) after its bytes came: counted."""
        return (
            self.url.startswith("http")
            and not self.from_sw
            and not self.from_cache
            and (self.failed is None or self.status is not None)
        )

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + ("?" + parts.query if parts.query else "")


@dataclass
class Recorder:
    """Every request of one browser context, by request id (a request reported by two
    sessions, e.g. a worker's and its page's, is kept once)."""

    requests: dict[str, Request] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def snapshot(self) -> list[Request]:
        with self.lock:
            return sorted(self.requests.values(), key=lambda r: r.started)

    def on_event(self, method: str, params: dict, target: str) -> None:
        rid = params.get("requestId")
        if not rid:
            return
        with self.lock:
            if method == "Network.requestWillBeSent":
                if rid in self.requests and params.get("redirectResponse"):
                    # A redirect: the new hop keeps the id; the old one is counted as itself.
                    old = self.requests.pop(rid)
                    old.finished = params["timestamp"]
                    old.encoded_bytes = params["redirectResponse"].get("encodedDataLength", 0)
                    self.requests[f"{rid}#{len(self.requests)}"] = old
                if rid not in self.requests:
                    req = params["request"]
                    self.requests[rid] = Request(
                        rid, req["url"], req["method"], target, params["timestamp"]
                    )
                return
            request = self.requests.get(rid)
            if request is None:
                return
            if method == "Network.responseReceived":
                response = params["response"]
                request.status = response.get("status")
                request.from_sw = bool(response.get("fromServiceWorker"))
                request.from_cache = bool(
                    response.get("fromDiskCache") or response.get("fromPrefetchCache")
                )
                headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
                request.encoding = headers.get("content-encoding", "")
                # Bytes so far (the status line and headers): all a 304 ever gets.
                request.encoded_bytes = max(
                    request.encoded_bytes, int(response.get("encodedDataLength") or 0)
                )
            elif method == "Network.dataReceived":
                request.received += int(params.get("encodedDataLength") or 0)
            elif method == "Network.requestServedFromCache":
                request.from_cache = True
            elif method == "Network.loadingFinished":
                request.finished = params["timestamp"]
                request.encoded_bytes = max(
                    request.encoded_bytes, int(params.get("encodedDataLength") or 0)
                )
            elif method == "Network.loadingFailed":
                request.finished = params["timestamp"]
                request.failed = params.get("errorText") or "failed"
                request.encoded_bytes += request.received  # the headers, then the body so far


class Browser:
    """Debian's Chromium, headless, driven over CDP. Every page and service worker is
    throttled with `profile` (None: the plain network) and emulated as a phone."""

    def __init__(self, executable: str, args: list[str]):
        self.profile_dir = tempfile.mkdtemp(prefix="gridline-bench-chromium-")
        self.process = subprocess.Popen(
            [
                executable, "--headless=new", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile_dir}", *args, "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        url = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            self.close()
            raise CDPError("Chromium did not open its DevTools endpoint")
        # Chromium goes on logging to stderr: drained, or it would block on a full pipe.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()
        self.ws = _Socket(url)
        self.ids = itertools.count(1)
        self.pending: dict[int, queue.Queue] = {}
        self.events: queue.Queue = queue.Queue()
        self.session_kinds: dict[str, str] = {}
        self.session_context: dict[str, str] = {}
        self.recorders: dict[str, Recorder] = {}  # browserContextId -> recorder
        self.profiles: dict[str, dict | None] = {}  # browserContextId -> network profile
        self.listeners: list = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._dispatch, daemon=True).start()
        # Service workers are top-level targets: attached from the browser session, paused
        # until throttled (waitForDebuggerOnStart), so their first fetch is already counted.
        self.send(
            "Target.setAutoAttach",
            {
                "autoAttach": True,
                "waitForDebuggerOnStart": True,
                "flatten": True,
                "filter": [{"type": "service_worker", "exclude": False}, {"exclude": True}],
            },
        )

    # ---- protocol ---------------------------------------------------------------------

    def _read(self) -> None:
        while True:
            try:
                message = json.loads(self.ws.receive())
            except (EOFError, OSError, ValueError):
                for waiter in list(self.pending.values()):
                    waiter.put({"error": {"message": "connection closed"}})
                return
            if "id" in message:
                waiter = self.pending.pop(message["id"], None)
                if waiter is not None:
                    waiter.put(message)
            else:
                self.events.put(message)

    def post(self, method: str, params: dict | None = None, session: str | None = None):
        """Sends without waiting: (id, waiter) to collect the answer with `answer()`."""
        mid = next(self.ids)
        waiter: queue.Queue = queue.Queue()
        self.pending[mid] = waiter
        message = {"id": mid, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        return mid, waiter

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 120) -> dict:  # fmt: skip
        return self.answer(method, *self.post(method, params, session), timeout=timeout)

    def answer(self, method: str, mid: int, waiter: queue.Queue, timeout: float = 120) -> dict:
        try:
            answer = waiter.get(timeout=timeout)
        except queue.Empty:
            self.pending.pop(mid, None)
            raise CDPError(f"{method}: no answer in {timeout} s") from None
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def _dispatch(self) -> None:
        while True:
            message = self.events.get()
            method, params = message.get("method", ""), message.get("params", {})
            session = message.get("sessionId")
            try:
                if method == "Target.attachedToTarget":
                    # In its own thread: the answers it waits for come through this loop's
                    # reader, and a worker's network events must not wait behind it.
                    threading.Thread(target=self._attached, args=(params,), daemon=True).start()
                elif method.startswith("Network.") and session in self.session_kinds:
                    recorder = self.recorders.get(self.session_context.get(session, ""))
                    if recorder is not None:
                        recorder.on_event(method, params, self.session_kinds[session])
                for listener in list(self.listeners):
                    listener(method, params, session)
            except CDPError:
                pass  # a target that went away while being set up

    def _attached(self, params: dict) -> None:
        info, session = params["targetInfo"], params["sessionId"]
        kind = info["type"]
        context = info.get("browserContextId", "")
        self.session_kinds[session] = kind
        self.session_context[session] = context
        # A target that went away while being set up is no error.
        with contextlib.suppress(CDPError):
            self.configure(session, context, kind, resume=params.get("waitingForDebugger"))

    def configure(self, session: str, context: str, kind: str, resume: bool = False) -> None:
        """Network on (events recorded), the profile, a phone's user agent; a page's
        dedicated workers attached the same way. A worker paused at its start answers only
        once resumed, but handles the commands in order: all are sent, then the resume,
        and only then are the answers collected."""
        calls = [("Network.enable", {"maxTotalBufferSize": 0})]
        profile = self.profiles.get(context)
        if profile:
            calls.append(("Network.emulateNetworkConditions", profile))
        calls.append(("Network.setUserAgentOverride", {"userAgent": PHONE_UA}))
        if kind == "page":
            calls.append(
                (
                    "Target.setAutoAttach",
                    {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True},
                )
            )
        if resume:
            calls.append(("Runtime.runIfWaitingForDebugger", {}))
        posted = [(method, *self.post(method, params, session)) for method, params in calls]
        for method, mid, waiter in posted:
            self.answer(method, mid, waiter, timeout=60)

    # ---- contexts and pages -----------------------------------------------------------

    def new_context(self, profile: dict | None) -> str:
        context = self.send("Target.createBrowserContext", {"disposeOnDetach": False})[
            "browserContextId"
        ]
        self.recorders[context] = Recorder()
        self.profiles[context] = profile
        return context

    def close_context(self, context: str) -> None:
        try:
            self.send("Target.disposeBrowserContext", {"browserContextId": context})
        finally:
            self.recorders.pop(context, None)

    def new_page(self, context: str, init_script: str = "") -> Page:
        target = self.send(
            "Target.createTarget", {"url": "about:blank", "browserContextId": context}
        )["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.session_kinds[session] = "page"
        self.session_context[session] = context
        self.configure(session, context, "page")
        self.send("Page.enable", session=session)
        self.send("Runtime.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", PHONE, session=session)
        self.send("Emulation.setTouchEmulationEnabled", {"enabled": True}, session=session)
        if init_script:
            self.send(
                "Page.addScriptToEvaluateOnNewDocument", {"source": init_script}, session=session
            )
        return Page(self, session, target, context)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, 15)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, 9)
            shutil.rmtree(self.profile_dir, ignore_errors=True)


class Page:
    def __init__(self, browser: Browser, session: str, target: str, context: str):
        self.browser, self.session, self.target, self.context = browser, session, target, context
        self.console_errors: list[str] = []
        browser.listeners.append(self._listen)

    def _listen(self, method: str, params: dict, session: str | None) -> None:
        if session != self.session:
            return
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text")
            self.console_errors.append(str(text)[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = params.get("args") or []
            self.console_errors.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in args)[:300]
            )

    def send(self, method: str, params: dict | None = None, timeout: float = 120) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def navigate(self, url: str) -> None:
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise CDPError(f"navigation to {url}: {answer['errorText']}")

    def evaluate(self, expression: str, timeout: float = 120):
        """The value of `expression` (awaited when it is a promise). CDP's evaluation is no
        part of the page, so the page's CSP does not refuse it."""
        answer = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text")
            raise CDPError(f"evaluate: {text}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60, every: float = 0.05):
        """Polls `expression` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f"timed out after {timeout} s waiting for {expression}")
            time.sleep(every)

    def screenshot(self, path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def close(self) -> None:
        if self._listen in self.browser.listeners:
            self.browser.listeners.remove(self._listen)
        with contextlib.suppress(CDPError):
            self.browser.send("Target.closeTarget", {"targetId": self.target})
