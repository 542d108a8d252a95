"""bench/web.py stays runnable (--quick: 1 x 2 and 3 x 3 sipas-2023 surveys on both servers, and the profile), its
figures hang together, the shipped question page is within the weight bar with nothing external, and a missed bar
exits 1. The timing bar itself is not asserted here: the suite runs on a loaded machine."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import web as bench  # noqa: E402
from bench.web_client import PAGE_KINDS, Exchange  # noqa: E402
from bench.web_summary import failures  # noqa: E402
from bench.web_weight import weigh  # noqa: E402


def test_the_quick_run_completes_every_survey_and_a_missed_bar_exits_1(tmp_path, capsys):
    out = tmp_path / "web.json"
    code = bench.main(["--quick", "--profile", "--max-page-bytes", "1000", "--out", str(out)])
    printed = capsys.readouterr().out
    summary = json.loads(out.read_text())

    assert code == 1 and "MISSED: the question page weighs" in printed and "ours x3 / floor:" in printed
    assert summary["config"]["questions"] == 20  # sipas-2023 on the web: 20 pages of questions
    phases = {p["phase"]: p for p in summary["phases"]}
    assert list(phases) == ["ours x1", "floor x1", "ours x3", "floor x3"]
    for name, phase in phases.items():
        assert phase["completed"] == phase["surveys"] and not phase["errors"], (name, phase["errors"])
        # the link, its stylesheet and script, Start, 20 questions and answers, the thanks
        assert phase["requests"] == phase["surveys"] * 45, name
        assert phase["requests_per_s"] > 0 and phase["server_cpu_ms_per_request"] > 0
        for kind in (*PAGE_KINDS, "static"):
            client, server = phase["client_ms"][kind], phase["server_ms"][kind]
            assert client["n"] == server["n"] > 0, (name, kind)
            assert 0 < client["p50"] <= client["p95"] <= client["p99"], (name, kind, client)
            for q in ("p50", "p95", "p99"):  # each request's handler time lies within its time at the client
                assert server[q] <= client[q], (name, kind, q, server, client)
    # the capture, then each phase: every survey stored once, by our server only
    assert (phases["ours x1"]["responses_stored"], phases["ours x3"]["responses_stored"]) == (3, 6)
    assert phases["ours x3"]["invitations_completed"] == 6 and phases["floor x3"]["responses_stored"] is None
    assert [len(runs) for runs in summary["every_run"].values()] == [1, 1, 1, 1]  # --quick: one run each
    assert set(summary["ratio"]) == {"ours x1", "ours x3"} and summary["ratio"]["ours x1"]["throughput"] > 0

    weight = summary["weight"]
    assert weight["question_cold_bytes"] <= 30_000 and weight["external_resources"] == []
    assert weight["server_compresses"] is None and weight["pages"]["question"]["count"] == 20
    assert all("immutable" in s["cache_control"] for s in weight["static"].values()) and len(weight["static"]) == 2
    assert not [f for f in failures(summary) if "weighs" in f or "external" in f or "completed" in f]

    profile = summary["profile"]
    assert profile["completed"] == 2 and profile["requests"] == 90
    assert profile["aiosqlite_calls_per_request"]["question"] > 0 and profile["top"]


def exchange(content_type: str, body: str, kind: str = "question") -> Exchange:
    return Exchange(kind, "GET", "/s/q", 200, "OK", [("Content-Type", content_type)], body.encode(), 0.001)


def test_the_weight_check_finds_external_resources_and_tells_links_apart():
    page = ('<link rel="stylesheet" href="https://cdn.example.net/x.css"><img srcset="/a.png 1x, //img.example/b.png'
            ' 2x"><input type="hidden" name="q" value="a1"><a href="https://zalo.me/123">Zalo</a>'
            '<form action="/s/q"></form><img src="data:image/png;base64,AAAA">')
    css = "body{background:url('https://x.example/bg.png')} @font-face{font-family:F;src:url(/f.woff2)}"
    found = weigh([exchange("text/html; charset=utf-8", page), exchange("text/css", css, "static"),
                   exchange("text/javascript", 'fetch("https://api.example/t")', "static")])
    assert found["external_resources"] == ["//img.example/b.png", "@font-face (a web font)",
                                           "https://api.example/t", "https://cdn.example.net/x.css",
                                           "https://x.example/bg.png"]
    assert found["external_links"] == ["https://zalo.me/123"]
